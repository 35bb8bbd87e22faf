"""Tests for profiles.opening: open now, closing time and next opening in Asia/Shanghai.

Dates are from 2026, whose official schedule is known (STANDARDS.md section
8): 国庆 1–7 October with make-up working days Sunday 20 September and
Saturday 10 October; 春节 15–23 February with make-up Saturdays 14 and 28
February.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from profiles import holiday_calendar
from profiles.hours import HoursError, Interval, OpeningHours
from profiles.hours_text import parse_hours
from profiles.opening import (
    SHANGHAI,
    OpenState,
    effective_intervals,
    is_open_at,
    open_state,
    open_states,
)

UTC = dt.UTC

# A typical bank outlet: weekdays 9–17, Saturday morning, closed on Sunday.
BANK = parse_hours("Mo-Fr 09:00-17:00; Sa 09:00-12:00")
BANK_PH_OFF = parse_hours("Mo-Fr 09:00-17:00; Sa 09:00-12:00; PH off")
LUNCH = parse_hours("Mo-Fr 09:00-11:30,13:30-17:00")
ALWAYS = parse_hours("24/7")


@pytest.fixture(autouse=True)
def _shipped_calendar(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(holiday_calendar.ENV_HOLIDAYS_FILE, raising=False)
    holiday_calendar.reload()
    yield
    holiday_calendar.reload()


def sh(text: str) -> dt.datetime:
    """An aware Asia/Shanghai datetime from "YYYY-MM-DD HH:MM"."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


# --- holidays and swapped working days -------------------------------------------------------


def test_national_day_closed_with_ph_off() -> None:
    at = sh("2026-10-01 10:00")  # a Thursday
    state = open_state(BANK_PH_OFF, at)
    # closed through the whole holiday; Thursday 8 October is the first working day
    assert state == OpenState(False, None, sh("2026-10-08 09:00"), True)
    assert not is_open_at(BANK_PH_OFF.to_json(), at)


def test_national_day_open_with_thursday_hours_without_ph_off() -> None:
    at = sh("2026-10-01 10:00")
    state = open_state(BANK, at)
    assert state == OpenState(True, sh("2026-10-01 17:00"), sh("2026-10-02 09:00"), True)
    assert is_open_at(BANK.to_json(), at)


def test_weekend_inside_a_holiday_counts_as_holiday() -> None:
    # Saturday 3 October: open Saturday mornings, but PH off closes it
    assert not open_state(BANK_PH_OFF, sh("2026-10-03 10:00")).open_now
    assert open_state(BANK, sh("2026-10-03 10:00")).open_now


def test_makeup_sunday_gets_monday_hours() -> None:
    at = sh("2026-09-20 15:00")  # Sunday, worked in exchange for 国庆
    assert BANK.weekly[6] == ()  # closed on Sundays in the weekly hours
    for hours in (BANK, BANK_PH_OFF):
        state = open_state(hours, at)
        assert state == OpenState(True, sh("2026-09-20 17:00"), sh("2026-09-21 09:00"), True)
        assert is_open_at(hours.to_json(), at)
    # the ordinary Sunday before is closed
    assert not open_state(BANK, sh("2026-09-13 15:00")).open_now


def test_makeup_saturday_gets_monday_hours_not_saturday_hours() -> None:
    state = open_state(BANK_PH_OFF, sh("2026-10-10 14:00"))  # Saturday, normally 09–12
    assert state.open_now and state.closes_at == sh("2026-10-10 17:00")
    assert not open_state(BANK, sh("2026-10-17 14:00")).open_now  # ordinary Saturday


def test_next_opening_across_the_whole_spring_festival() -> None:
    # Friday evening before 春节: Saturday 14 February is a make-up working day
    assert open_state(BANK_PH_OFF, sh("2026-02-13 18:00")).opens_next_at == sh("2026-02-14 09:00")
    # after it, nine days off (15–23 February): next opening Tuesday 24 February
    state = open_state(BANK_PH_OFF, sh("2026-02-14 18:00"))
    assert state == OpenState(False, None, sh("2026-02-24 09:00"), True)
    # without PH off the weekly hours apply: Monday 16 February
    assert open_state(BANK, sh("2026-02-14 18:00")).opens_next_at == sh("2026-02-16 09:00")


def test_next_opening_across_a_weekend() -> None:
    weekdays = parse_hours("Mo-Fr 09:00-17:00")
    state = open_state(weekdays, sh("2026-03-13 17:00"))  # Friday, at closing time
    assert state == OpenState(False, None, sh("2026-03-16 09:00"), True)
    assert open_state(weekdays, sh("2026-03-14 11:00")).opens_next_at == sh("2026-03-16 09:00")


def test_horizon_limits_the_search() -> None:
    state = open_state(BANK_PH_OFF, sh("2026-02-14 18:00"), horizon_days=5)
    assert state == OpenState(False, None, None, True)
    with pytest.raises(ValueError, match="horizon_days"):
        open_state(BANK, sh("2026-02-14 18:00"), horizon_days=-1)


# --- exceptions, breaks, midnight ------------------------------------------------------------


def test_dated_exception_wins() -> None:
    hours = BANK.add_exception("2026-06-10", [("10:00", "14:00")], "系统升级")
    assert open_state(hours, sh("2026-06-10 09:30")) == OpenState(
        False, None, sh("2026-06-10 10:00"), True
    )
    assert open_state(hours, sh("2026-06-10 13:00")) == OpenState(
        True, sh("2026-06-10 14:00"), sh("2026-06-11 09:00"), True
    )
    assert not is_open_at(hours.to_json(), sh("2026-06-10 15:00"))


def test_exception_wins_over_a_holiday_and_a_makeup_day() -> None:
    hours = BANK_PH_OFF.add_exception("2026-10-03", [("10:00", "15:00")], "国庆值班")
    hours = hours.add_exception("2026-09-20", [], "调休日不营业")
    assert open_state(hours, sh("2026-10-03 11:00")).closes_at == sh("2026-10-03 15:00")
    assert not open_state(hours, sh("2026-09-20 11:00")).open_now


def test_lunch_break() -> None:
    state = open_state(LUNCH, sh("2026-03-10 10:00"))
    assert state == OpenState(True, sh("2026-03-10 11:30"), sh("2026-03-10 13:30"), True)
    state = open_state(LUNCH, sh("2026-03-10 12:00"))
    assert state == OpenState(False, None, sh("2026-03-10 13:30"), True)
    # the close is exclusive, the open inclusive
    assert not open_state(LUNCH, sh("2026-03-10 11:30")).open_now
    assert open_state(LUNCH, sh("2026-03-10 13:30")).open_now
    assert open_state(LUNCH, sh("2026-03-10 11:29") + dt.timedelta(seconds=59)).open_now


def test_24_7() -> None:
    state = open_state(ALWAYS, sh("2026-10-01 03:00"))
    assert state == OpenState(True, None, None, True)
    # verified even in a year without data: no holiday could change 24/7
    assert open_state(ALWAYS, sh("2027-02-10 03:00")) == OpenState(True, None, None, True)
    assert is_open_at(ALWAYS.to_json(), sh("2026-02-17 23:59"))


def test_24_7_with_a_closed_day_closes_at_its_midnight() -> None:
    hours = ALWAYS.add_exception("2026-03-12", [], "停电检修")
    state = open_state(hours, sh("2026-03-10 12:00"))
    assert state == OpenState(True, sh("2026-03-12 00:00"), sh("2026-03-13 00:00"), True)


def test_interval_to_midnight_continues_into_the_next_day() -> None:
    hours = OpeningHours.from_json(
        {"weekly": {"mo": [["20:00", "24:00"]], "tu": [["00:00", "02:00"], ["20:00", "22:00"]]}}
    )
    state = open_state(hours, sh("2026-03-09 22:00"))  # Monday
    assert state == OpenState(True, sh("2026-03-10 02:00"), sh("2026-03-10 20:00"), True)
    # after midnight it is open from the Tuesday interval
    assert open_state(hours, sh("2026-03-10 01:00")).closes_at == sh("2026-03-10 02:00")
    # a 24:00 close with nothing from 00:00 next day closes at midnight
    state = open_state(hours, sh("2026-03-10 21:00"))
    assert state.closes_at == sh("2026-03-10 22:00")
    late = parse_hours("Mo 20:00-24:00")
    assert open_state(late, sh("2026-03-09 23:00")).closes_at == sh("2026-03-10 00:00")


# --- time zones, input ------------------------------------------------------------------------


def test_utc_timestamp_is_converted_to_shanghai() -> None:
    hours = parse_hours("Mo-Fr 09:00-17:00")
    at = dt.datetime(2026, 3, 10, 1, 30, tzinfo=UTC)  # 09:30 in Shanghai
    state = open_state(hours, at)
    assert state.open_now and state.closes_at == sh("2026-03-10 17:00")
    assert state.closes_at == dt.datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    assert is_open_at(hours.to_json(), at)
    early = dt.datetime(2026, 3, 10, 0, 30, tzinfo=UTC)  # 08:30 in Shanghai
    assert open_state(hours, early).opens_next_at == dt.datetime(2026, 3, 10, 1, 0, tzinfo=UTC)
    # Monday 20:00 in New York is Tuesday 09:00 in Shanghai
    ny = dt.datetime(2026, 3, 9, 21, 0, tzinfo=ZoneInfo("America/New_York"))
    assert open_state(hours, ny).closes_at == sh("2026-03-10 17:00")
    # the local date decides the holiday: 16:30Z on 30 Sep is 00:30 on 1 Oct
    late = dt.datetime(2026, 9, 30, 16, 30, tzinfo=UTC)
    assert open_state(BANK_PH_OFF, late).opens_next_at == sh("2026-10-08 09:00")


def test_results_are_in_shanghai_time() -> None:
    state = open_state(LUNCH, dt.datetime(2026, 3, 10, 2, 0, tzinfo=UTC))
    assert state.closes_at is not None and state.closes_at.tzinfo == SHANGHAI


def test_naive_datetime_is_refused() -> None:
    naive = dt.datetime(2026, 3, 10, 10, 0)
    with pytest.raises(ValueError, match="no timezone"):
        open_state(BANK, naive)
    with pytest.raises(ValueError, match="no timezone"):
        is_open_at(BANK.to_json(), naive)


def test_no_hours_is_closed_with_no_next_opening() -> None:
    at = sh("2026-03-10 10:00")
    no_hours: tuple[dict[str, Any] | None, ...] = (None, {})
    for hours in no_hours:
        assert open_state(hours, at) == OpenState(False, None, None, True)
    assert open_state(parse_hours("Mo-Su off"), at) == OpenState(False, None, None, True)
    assert not is_open_at(None, at)
    assert not is_open_at({}, at)


def test_json_mapping_and_json_text_are_accepted() -> None:
    at = sh("2026-03-10 10:00")
    as_dict: dict[str, Any] = dict(BANK.to_json())
    assert open_state(as_dict, at) == open_state(BANK, at)
    assert is_open_at(as_dict, at)
    assert is_open_at(json.dumps(as_dict), at)
    with pytest.raises(HoursError):
        open_state({"weekly": {"mo": [["9", "17"]]}}, at)


@pytest.mark.parametrize(
    "bad",
    [
        "not json",
        '{"weekly": {"mo": [["9", "17"]]}}',
        "[1, 2]",
        '"text"',
        "null",
        {"weekly": {"xx": []}},
        {"weekly": {"mo": [["17:00", "09:00"]]}},
        {"weekly": "Mo-Fr 09:00-17:00"},
        {"weekly": {"mo": [["09:00", "17:00"]]}, "public_holidays": "sometimes"},
        {"weekly": {"mo": [["09:00", "17:00"]]}, "extra": {1, 2}},  # not even JSON
        "[" * 100_000,
    ],
)
def test_malformed_hours_are_not_open(bad: Any) -> None:
    assert is_open_at(bad, sh("2026-03-09 10:00")) is False


# --- verification -----------------------------------------------------------------------------


def test_unverified_when_the_answer_depends_on_an_unknown_year() -> None:
    # 2027's holidays are not in the data: a weekday may be a holiday for PH off
    state = open_state(BANK_PH_OFF, sh("2027-01-04 10:00"))
    assert state.open_now and not state.verified
    # the same hours every day under as_weekly cannot depend on the calendar
    daily = parse_hours("Mo-Su 09:00-17:00")
    assert open_state(daily, sh("2027-01-04 10:00")).verified
    # a closed Sunday might be a make-up working day with Monday hours
    assert not open_state(BANK, sh("2027-01-03 10:00")).verified


def test_only_the_days_looked_at_count_for_verified() -> None:
    # 31 December 2026, Thursday: open now and reopening after lunch, all within a known day
    lunch_ph_off = parse_hours("Mo-Fr 09:00-11:30,13:30-17:00; PH off")
    assert open_state(lunch_ph_off, sh("2026-12-31 10:00")).verified
    # the next opening after today's close is on 1 January 2027, which is unknown
    state = open_state(BANK_PH_OFF, sh("2026-12-31 10:00"))
    assert state == OpenState(True, sh("2026-12-31 17:00"), sh("2027-01-01 09:00"), False)
    state = open_state(BANK_PH_OFF, sh("2026-12-31 18:00"))
    assert state == OpenState(False, None, sh("2027-01-01 09:00"), False)


def test_effective_intervals() -> None:
    assert effective_intervals(BANK, dt.date(2026, 9, 20)) == ((Interval(540, 1020),), True)
    assert effective_intervals(BANK_PH_OFF, dt.date(2026, 10, 1)) == ((), True)
    assert effective_intervals(BANK_PH_OFF, dt.date(2027, 1, 4)) == ((Interval(540, 1020),), False)


# --- property: on ordinary weeks open_now is exactly "inside one of today's intervals" --------

# Whole weeks of 2026 without any official holiday or make-up working day.
ORDINARY_WEEK_MONDAYS = [dt.date(2026, 3, 9), dt.date(2026, 7, 6), dt.date(2026, 11, 9)]


def test_ordinary_weeks_are_ordinary() -> None:
    for monday in ORDINARY_WEEK_MONDAYS:
        for k in range(7):
            info = holiday_calendar.day_info(monday + dt.timedelta(days=k))
            assert info.verified and info.kind == ("workday" if k < 5 else "weekend")


@st.composite
def day_intervals(draw: st.DrawFn) -> tuple[Interval, ...]:
    points = sorted(draw(st.lists(st.integers(0, 1440), max_size=8, unique=True)))
    return tuple(Interval(a, b) for a, b in zip(points[::2], points[1::2], strict=False))


weekly_hours = st.builds(
    OpeningHours,
    weekly=st.tuples(*[day_intervals()] * 7),
    public_holidays=st.sampled_from(["as_weekly", "closed"]),
)


@settings(max_examples=300, deadline=None)
@given(
    hours=weekly_hours,
    monday=st.sampled_from(ORDINARY_WEEK_MONDAYS),
    weekday=st.integers(0, 6),
    second=st.integers(0, 24 * 3600 - 1),
    zone=st.sampled_from([UTC, SHANGHAI, ZoneInfo("Europe/Berlin")]),
)
def test_open_now_iff_inside_an_interval_of_the_day(
    hours: OpeningHours, monday: dt.date, weekday: int, second: int, zone: dt.tzinfo
) -> None:
    day = monday + dt.timedelta(days=weekday)
    local = dt.datetime(day.year, day.month, day.day, tzinfo=SHANGHAI) + dt.timedelta(
        seconds=second
    )
    minute = second / 60
    expected = any(i.start <= minute < i.end for i in hours.weekly[weekday])
    at = local.astimezone(zone)
    state = open_state(hours, at)
    assert state.open_now == expected
    assert is_open_at(hours.to_json(), at) == expected
    assert state.verified
    if state.open_now:
        assert state.closes_at is None or state.closes_at > local
        assert state.opens_next_at is None or (
            state.closes_at is not None and state.opens_next_at > state.closes_at
        )
        if state.closes_at is not None:  # just before closing still open, at closing not
            assert open_state(hours, state.closes_at - dt.timedelta(seconds=1)).open_now
            assert not open_state(hours, state.closes_at).open_now
    else:
        assert state.closes_at is None
        if state.opens_next_at is not None:
            assert state.opens_next_at > local
            assert open_state(hours, state.opens_next_at).open_now
            assert not open_state(hours, state.opens_next_at - dt.timedelta(seconds=1)).open_now


@settings(max_examples=200, deadline=None)
@given(
    hours=weekly_hours,
    day=st.dates(dt.date(2026, 1, 1), dt.date(2027, 12, 31)),
    second=st.integers(0, 24 * 3600 - 1),
    micro=st.integers(0, 999_999),
)
def test_open_states_shared_per_minute_are_exact_to_the_second(
    hours: OpeningHours, day: dt.date, second: int, micro: int
) -> None:
    """open_states answers from a per-minute cache: it must equal open_state at the
    very moment, holidays, make-up days and unknown years included."""
    at = dt.datetime(day.year, day.month, day.day, tzinfo=SHANGHAI) + dt.timedelta(
        seconds=second, microseconds=micro
    )
    text = json.dumps(hours.to_json(), ensure_ascii=False)
    assert open_states([text, None, text], at.astimezone(UTC)) == [
        open_state(hours, at),
        None,
        open_state(hours, at),
    ]


def test_open_states_follow_a_reloaded_calendar(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """A holiday added by the operator's file counts at once, not when the cached
    minute has passed."""
    text = json.dumps(BANK_PH_OFF.to_json())
    at = sh("2026-03-11 10:00")  # an ordinary Wednesday
    assert open_states([text], at)[0] == open_state(BANK_PH_OFF, at)
    assert open_states([text], at)[0].open_now  # type: ignore[union-attr]
    extra = tmp_path / "holidays.csv"
    extra.write_text("date,kind,name\n2026-03-11,holiday,Test day\n", encoding="utf-8")
    monkeypatch.setenv(holiday_calendar.ENV_HOLIDAYS_FILE, str(extra))
    state = open_states([text], at)[0]
    assert state is not None and not state.open_now
    assert state == open_state(BANK_PH_OFF, at)
