"""Tests for profiles.hours: the text format, the JSON shape and their round trips.

Opening hours come from CSV cells typed by people and from API requests, so
besides the happy paths every kind of mistake must give an HoursError naming
the part at fault, and nothing may escape as another exception type.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from profiles.hours import (
    ALL_DAY,
    MAX_EXCEPTIONS,
    MAX_INTERVALS_PER_DAY,
    PUBLIC_HOLIDAY_POLICIES,
    WEEKDAYS,
    DateException,
    HoursError,
    Interval,
    OpeningHours,
    format_hours,
    validate_hours_json,
)
from profiles.hours_text import parse_hours

WEEKDAY_9_17 = (Interval(540, 1020),)
SPLIT_WEEKEND = (Interval(540, 720), Interval(810, 960))


# --- parsing and canonical formatting -------------------------------------------------------


def test_parse_reference_example() -> None:
    hours = parse_hours("Mo-Fr 09:00-17:00; Sa,Su 09:00-12:00,13:30-16:00")
    assert hours.weekly == (WEEKDAY_9_17,) * 5 + (SPLIT_WEEKEND,) * 2
    assert hours.public_holidays == "as_weekly"
    assert hours.exceptions == ()
    assert hours.day("sa") == SPLIT_WEEKEND
    assert hours.day(0) == WEEKDAY_9_17


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        # Already canonical: unchanged.
        (
            "Mo-Fr 09:00-17:00; Sa,Su 09:00-12:00,13:30-16:00",
            "Mo-Fr 09:00-17:00; Sa,Su 09:00-12:00,13:30-16:00",
        ),
        ("24/7", "24/7"),
        ("24/7; PH off", "24/7; PH off"),
        ("Mo-Su 00:00-24:00", "24/7"),
        ("Mo 09:00-17:00", "Mo 09:00-17:00"),
        # Lenient input, canonical output.
        ("mo-fr 9:00-17:00", "Mo-Fr 09:00-17:00"),
        ("  Mo - Fr   09:00 - 17:00 ;  ", "Mo-Fr 09:00-17:00"),
        ("Mo,Tu,We,Th,Fr 09:00-17:00", "Mo-Fr 09:00-17:00"),
        ("Mo-We,Fr 09:00-17:00", "Mo-We,Fr 09:00-17:00"),
        ("Mo,Tu 09:00-17:00", "Mo,Tu 09:00-17:00"),
        ("Sa-Su 10:00-16:00", "Sa,Su 10:00-16:00"),
        ("Sa 10:00-16:00; Su 10:00-16:00", "Sa,Su 10:00-16:00"),
        ("Mo-Fr 09:00-17:00; Sa 09:00-17:00", "Mo-Sa 09:00-17:00"),
        ("Mo,We,Fr 09:00-12:00", "Mo,We,Fr 09:00-12:00"),
        # Groups appear in weekday order of their first day.
        ("Sa 10:00-12:00; Mo 09:00-17:00", "Mo 09:00-17:00; Sa 10:00-12:00"),
        (
            "Mo,We 08:00-12:00; Tu,Th 13:00-17:00",
            "Mo,We 08:00-12:00; Tu,Th 13:00-17:00",
        ),
        # Unsorted intervals are sorted; touching ones merged.
        ("Sa 13:30-16:00,09:00-12:00", "Sa 09:00-12:00,13:30-16:00"),
        ("Mo 09:00-12:00,12:00-17:00", "Mo 09:00-17:00"),
        # Space-separated intervals, as Chinese text writes them.
        ("Sa 09:00-12:00 13:30-16:00", "Sa 09:00-12:00,13:30-16:00"),
        # Wrapping range (OSM): Fr Sa Su Mo.
        ("Fr-Mo 10:00-12:00", "Mo,Fr-Su 10:00-12:00"),
        # A rule without days applies to every day (OSM).
        ("09:00-17:00", "Mo-Su 09:00-17:00"),
        # Later rules replace earlier ones for the days they name (OSM).
        ("Mo-Su 09:00-17:00; Su off", "Mo-Sa 09:00-17:00"),
        ("Mo-Fr 09:00-17:00; We 10:00-12:00", "Mo,Tu,Th,Fr 09:00-17:00; We 10:00-12:00"),
        ("Mo-Fr 09:00-17:00; Sa 09:00-12:00; Sa 13:00-15:00", "Mo-Fr 09:00-17:00; Sa 13:00-15:00"),
        ("Mo-Fr closed; Sa 10:00-12:00", "Sa 10:00-12:00"),
        # Closing at midnight.
        ("Fr 18:00-24:00", "Fr 18:00-24:00"),
        # Everything closed still says so.
        ("Mo-Su off", "Mo-Su off"),
        ("PH off", "Mo-Su off; PH off"),
        # PH in a day list, PH always after the weekly rules.
        ("Sa,Su,PH off; Mo-Fr 09:00-17:00", "Mo-Fr 09:00-17:00; PH off"),
        ("PH off; Mo-Fr 09:00-17:00", "Mo-Fr 09:00-17:00; PH off"),
        # Date exceptions: OSM dates, ISO input, notes kept, always last and sorted.
        (
            'Mo-Fr 09:00-17:00; 2026 Oct 01 off "国庆节"',
            'Mo-Fr 09:00-17:00; 2026 Oct 01 off "国庆节"',
        ),
        (
            "2026-10-02 10:00-14:00; 2026-10-01 off; Mo-Fr 09:00-17:00",
            "Mo-Fr 09:00-17:00; 2026 Oct 01 off; 2026 Oct 02 10:00-14:00",
        ),
        ("Mo 09:00-17:00; 2026 oct 1 off", "Mo 09:00-17:00; 2026 Oct 01 off"),
        (
            "Mo 09:00-17:00; 2026 Oct 01 off; 2026 Oct 01 10:00-12:00",
            "Mo 09:00-17:00; 2026 Oct 01 10:00-12:00",
        ),
        ('Mo 09:00-17:00; 2026 Oct 01 off "含;分号"', 'Mo 09:00-17:00; 2026 Oct 01 off "含;分号"'),
        # Empty rules are tolerated.
        ("Mo 09:00-17:00;; Tu 09:00-17:00;", "Mo,Tu 09:00-17:00"),
    ],
)
def test_canonical_format(text: str, canonical: str) -> None:
    hours = parse_hours(text)
    assert hours.format() == canonical
    assert str(hours) == canonical
    assert format_hours(hours) == canonical
    assert parse_hours(canonical) == hours


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        (
            "周一至周五 9:00-17:00；周六、周日 9:00-12:00，13:30-16:00；法定节假日休息",
            "Mo-Fr 09:00-17:00; Sa,Su 09:00-12:00,13:30-16:00; PH off",
        ),
        ("星期一到星期五 08:30—17:00", "Mo-Fr 08:30-17:00"),
        ("工作日：8:30-17:00；周末休息", "Mo-Fr 08:30-17:00"),
        ("每天 9:00～21:00", "Mo-Su 09:00-21:00"),
        ("周一至周日 0:00-24:00", "24/7"),
        ("周六、周天 10:00-16:00", "Sa,Su 10:00-16:00"),
        ("Ｍｏ－Ｆｒ　０９：００－１７：００", "Mo-Fr 09:00-17:00"),
        ("周一至周五 9:00-17:00；节假日不营业", "Mo-Fr 09:00-17:00; PH off"),
        # Chinese inside a note is left alone.
        (
            'Mo 09:00-17:00; 2026-10-01 off "周一至周五休息"',
            'Mo 09:00-17:00; 2026 Oct 01 off "周一至周五休息"',
        ),
    ],
)
def test_chinese_input(text: str, canonical: str) -> None:
    assert parse_hours(text).format() == canonical


def test_ph_off_and_exceptions_parsed() -> None:
    hours = parse_hours('Mo-Su 08:30-17:00; PH off; 2026 Oct 01 off "国庆节"')
    assert hours.public_holidays == "closed"
    assert hours.exceptions == (DateException(dt.date(2026, 10, 1), (), "国庆节"),)
    assert hours.exceptions[0].closed


def test_24_7() -> None:
    hours = parse_hours("24/7")
    assert hours == OpeningHours.always_open()
    assert hours.is_24_7
    assert all(day == (ALL_DAY,) for day in hours.weekly)
    assert not parse_hours("Mo-Sa 00:00-24:00").is_24_7


# --- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fragment", "part"),
    [
        # Empty / garbage.
        ("", "opening hours are empty", ""),
        (" ; ; ", "opening hours are empty", " ; ; "),
        ("hello world", "unknown day 'hello' in 'hello world'", "hello world"),
        ("@@@", "unexpected '@'", "@@@"),
        ("Mo-Fr 09:00-17:00 @", "unexpected '@'", "Mo-Fr 09:00-17:00 @"),
        ("Mo-Fr 09:00-17:00; Sa 10:00-12:00x", "unexpected 'x' in 'Sa 10:00-12:00x'", None),
        # Bad days.
        ("Mon-Fri 09:00-17:00", "unknown day 'Mon'", "Mon-Fri 09:00-17:00"),
        ("Mon-Fri 09:00-17:00", "did you mean 'Mo'?", None),
        ("Xy 09:00-17:00", "expected one of Mo, Tu, We, Th, Fr, Sa, Su", None),
        ("SH off", "school holidays are not supported", None),
        ("Mo- 09:00-17:00", "expected a day to end the range", None),
        ("Mo-PH off", "'PH' cannot be part of a day range", None),
        ("周一至周八 9:00-17:00", "unknown day '周八'", None),
        # Bad times.
        ("Mo-Fr 25:00-26:00", "invalid time '25:00' in 'Mo-Fr 25:00-26:00'", "Mo-Fr 25:00-26:00"),
        ("Mo-Fr 09:60-17:00", "invalid time '09:60'", None),
        ("Mo-Fr 09:00-24:30", "invalid time '24:30'", None),
        ("Mo-Fr 9.00-17.00", "invalid time '9.00'", None),
        ("Mo-Fr 0900-1700", "invalid time '0900'", None),
        ("Mo-Fr 009:00-17:00", "invalid time '009:00'", None),
        ("Mo-Fr 24:00-24:00", "opening time '24:00'", None),
        # open >= close.
        ("Mo-Fr 17:00-09:00", "interval '17:00-09:00'", "Mo-Fr 17:00-09:00"),
        ("Mo-Fr 17:00-09:00", "opening time must be before closing time", None),
        ("Mo-Fr 09:00-09:00", "interval '09:00-09:00'", None),
        ("Mo-Fr 22:00-00:00", "use 24:00 for midnight", None),
        # Overlaps.
        (
            "Mo-Fr 09:00-12:00,11:00-14:00",
            "intervals '09:00-12:00' and '11:00-14:00' overlap in 'Mo-Fr 09:00-12:00,11:00-14:00'",
            "Mo-Fr 09:00-12:00,11:00-14:00",
        ),
        ("Sa 13:00-16:00,09:00-13:30", "intervals '09:00-13:30' and '13:00-16:00' overlap", None),
        ("Sa 09:00-17:00,10:00-11:00", "overlap", None),
        # Structure.
        ("Mo-Fr", "expected opening times like 09:00-17:00 or 'off' after 'Mo-Fr'", "Mo-Fr"),
        ("Mo-Fr 09:00", "expected '-' after '09:00'", None),
        ("Mo-Fr 09:00-", "expected a closing time HH:MM", None),
        ("Mo-Fr 09:00-17:00 Sa 10:00-12:00", "separate rules with ';'", None),
        ("Mo-Fr 09:00-17:00, Sa 10:00-12:00", "expected ';' between rules", None),
        ("Mo-Fr off 09:00-17:00", "expected ';' after 'off'", None),
        ("24/7 Mo", "expected ';' after '24/7'", None),
        ("PH 10:00-12:00", "only 'PH off' is", None),
        ('Mo-Fr 09:00-17:00 "note"', "notes are only kept on date exceptions", None),
        ('Mo-Fr 09:00-17:00 "unterminated', "unterminated note", None),
        # Dates.
        ("2026 Feb 30 off", "invalid date 2026-02-30", None),
        ("2026-13-01 off", "invalid date 2026-13-01", None),
        ("2026 Okt 01 off", "expected 'YYYY Mon DD' such as '2026 Oct 01'", None),
        ("2026 Oct off", "a day of the month", None),
        ("2026 Oct 01", "opening times like 10:00-14:00 or 'off' after the date", None),
        ("2026 Oct 01-07 off", "date ranges are not supported", None),
        ('2026 Oct 01 off "a" "b"', "expected ';' after the date rule", None),
    ],
)
def test_parse_errors(text: str, fragment: str, part: str | None) -> None:
    with pytest.raises(HoursError) as info:
        parse_hours(text)
    assert fragment in str(info.value)
    assert info.value.message_zh
    assert info.value.message_zh != str(info.value)
    if part is not None:
        assert info.value.part == part
    assert isinstance(info.value, ValueError)


def test_error_messages_in_chinese() -> None:
    with pytest.raises(HoursError) as info:
        parse_hours("Mo-Fr 25:00-26:00")
    assert "时间 “25:00”" in info.value.message_zh
    assert "小时 00–23" in info.value.message_zh
    with pytest.raises(HoursError) as info:
        parse_hours("Mo 09:00-12:00,11:00-14:00")
    assert "重叠" in info.value.message_zh


def test_parse_rejects_non_text_and_huge_text() -> None:
    with pytest.raises(HoursError, match="must be text"):
        parse_hours(None)  # type: ignore[arg-type]
    with pytest.raises(HoursError, match="too long"):
        parse_hours("Mo 09:00-17:00; " * 1000)


def test_too_many_intervals() -> None:
    text = "Mo " + ",".join(f"{h:02d}:00-{h:02d}:30" for h in range(MAX_INTERVALS_PER_DAY + 1))
    with pytest.raises(HoursError, match="too many intervals"):
        parse_hours(text)


# --- JSON -----------------------------------------------------------------------------------


REFERENCE_JSON: dict[str, Any] = {
    "weekly": {
        "mo": [["09:00", "17:00"]],
        "tu": [["09:00", "17:00"]],
        "we": [["09:00", "17:00"]],
        "th": [["09:00", "17:00"]],
        "fr": [["09:00", "17:00"]],
        "sa": [["09:00", "12:00"], ["13:30", "16:00"]],
        "su": [],
    },
    "public_holidays": "closed",
    "exceptions": [{"date": "2026-10-01", "intervals": [], "note": "国庆节"}],
}


def test_to_json_shape() -> None:
    hours = parse_hours(
        'Mo-Fr 09:00-17:00; Sa 09:00-12:00,13:30-16:00; PH off; 2026 Oct 01 off "国庆节"'
    )
    assert hours.to_json() == REFERENCE_JSON
    # Serialisable as is, Chinese kept.
    text = json.dumps(hours.to_json(), ensure_ascii=False)
    assert validate_hours_json(json.loads(text)) == hours


def test_json_round_trip_reference() -> None:
    hours = validate_hours_json(REFERENCE_JSON)
    assert hours.to_json() == REFERENCE_JSON
    assert OpeningHours.from_json(REFERENCE_JSON) == hours


def test_json_defaults_and_normalisation() -> None:
    hours = validate_hours_json({"weekly": {"sa": [["13:30", "16:00"], ["09:00", "12:00"]]}})
    assert hours.public_holidays == "as_weekly"
    assert hours.exceptions == ()
    assert hours.day("mo") == ()
    assert hours.day("sa") == SPLIT_WEEKEND
    assert hours.to_json()["weekly"]["su"] == []
    assert validate_hours_json({"weekly": {"mo": [["00:00", "24:00"]]}}).day("mo") == (ALL_DAY,)
    # Tuples are fine for Python callers.
    assert validate_hours_json({"weekly": {"mo": (("09:00", "17:00"),)}}).day(0) == WEEKDAY_9_17


def _with(path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    """REFERENCE_JSON with one value replaced (or deleted if value is ...)."""
    obj = json.loads(json.dumps(REFERENCE_JSON))
    target = obj
    for key in path[:-1]:
        target = target[key]
    if value is ...:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return obj  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("obj", "fragment", "part"),
    [
        ([], "must be a JSON object, got array", "$"),
        ("Mo-Fr 09:00-17:00", "must be a JSON object, got string", "$"),
        (_with(("weekly",), ...), "missing key 'weekly'", "$"),
        (_with(("hours",), 1), "unknown key 'hours' at $", "$"),
        (_with(("weekly",), []), "weekly at weekly must be an object", "weekly"),
        (_with(("weekly", "Mo"), []), "unknown key 'Mo' at weekly", "weekly"),
        (_with(("weekly", "mo"), None), "expected an array of intervals at weekly.mo", "weekly.mo"),
        (_with(("weekly", "mo"), "09:00-17:00"), "expected an array of intervals", "weekly.mo"),
        (_with(("weekly", "mo", 0), ["09:00"]), "expected an interval", "weekly.mo[0]"),
        (_with(("weekly", "mo", 0), "09:00-17:00"), "expected an interval", "weekly.mo[0]"),
        (_with(("weekly", "mo", 0), ["09:00", 1700]), "must be strings", "weekly.mo[0]"),
        (_with(("weekly", "mo", 0), ["9:00", "17:00"]), "invalid time '9:00'", "weekly.mo[0]"),
        (_with(("weekly", "mo", 0), ["25:00", "26:00"]), "invalid time '25:00'", "weekly.mo[0]"),
        (_with(("weekly", "mo", 0), ["24:00", "24:00"]), "opening time '24:00'", "weekly.mo[0]"),
        (
            _with(("weekly", "mo", 0), ["17:00", "09:00"]),
            "interval '17:00-09:00' at weekly.mo[0]",
            "weekly.mo[0]",
        ),
        (
            _with(("weekly", "sa", 1), ["11:00", "16:00"]),
            "intervals '09:00-12:00' and '11:00-16:00' overlap at weekly.sa",
            "weekly.sa",
        ),
        (
            _with(("public_holidays",), "open"),
            "invalid value 'open' at public_holidays",
            "public_holidays",
        ),
        (_with(("exceptions",), {}), "exceptions at exceptions must be an array", "exceptions"),
        (_with(("exceptions", 0), "2026-10-01"), "must be an object", "exceptions[0]"),
        (_with(("exceptions", 0, "date"), ...), "missing key 'date'", "exceptions[0]"),
        (_with(("exceptions", 0, "intervals"), ...), "missing key 'intervals'", "exceptions[0]"),
        (_with(("exceptions", 0, "reason"), "x"), "unknown key 'reason'", "exceptions[0]"),
        (
            _with(("exceptions", 0, "date"), "2026-02-30"),
            "invalid date '2026-02-30'",
            "exceptions[0].date",
        ),
        (
            _with(("exceptions", 0, "date"), "20261001"),
            "expected a real calendar date YYYY-MM-DD",
            "exceptions[0].date",
        ),
        (
            _with(("exceptions", 0, "date"), 20261001),
            "must be a string YYYY-MM-DD",
            "exceptions[0].date",
        ),
        (_with(("exceptions", 0, "note"), None), "must be a string", "exceptions[0].note"),
        (_with(("exceptions", 0, "note"), "a\nb"), "control characters", "exceptions[0].note"),
        (_with(("exceptions", 0, "note"), 'say "hi"'), "must not contain", "exceptions[0].note"),
        (_with(("exceptions", 0, "note"), "x" * 201), "too long", "exceptions[0].note"),
        (
            _with(("exceptions",), [{"date": "2026-10-01", "intervals": []}] * 2),
            "duplicate date '2026-10-01' at exceptions[1]: already given at exceptions[0]",
            "exceptions[1]",
        ),
        (
            _with(("exceptions", 0, "intervals"), [["10:00", "9:00"]]),
            "invalid time '9:00'",
            "exceptions[0].intervals[0]",
        ),
        (
            _with(
                ("exceptions",), [{"date": "2026-01-01", "intervals": []}] * (MAX_EXCEPTIONS + 1)
            ),
            "too many exceptions",
            "exceptions",
        ),
    ],
)
def test_validate_hours_json_errors(obj: object, fragment: str, part: str) -> None:
    with pytest.raises(HoursError) as info:
        validate_hours_json(obj)
    assert fragment in str(info.value)
    assert info.value.part == part
    assert info.value.message_zh


# --- the value objects ----------------------------------------------------------------------


def test_interval() -> None:
    interval = Interval.parse("9:00-17:30")
    assert interval == Interval(540, 1050)
    assert (interval.opens, interval.closes) == ("09:00", "17:30")
    assert interval.format() == "09:00-17:30"
    assert interval.to_json() == ["09:00", "17:30"]
    assert interval.contains(540) and interval.contains(1049)
    assert not interval.contains(539) and not interval.contains(1050)
    assert ALL_DAY.format() == "00:00-24:00"
    with pytest.raises(HoursError, match="expected an interval"):
        Interval.parse("09:00")


@pytest.mark.parametrize(("start", "end"), [(600, 540), (0, 0), (-1, 10), (0, 1441), (1440, 1440)])
def test_interval_constructor_validates(start: int, end: int) -> None:
    with pytest.raises(HoursError, match="open < close"):
        Interval(start, end)


def test_interval_constructor_rejects_non_int() -> None:
    with pytest.raises(HoursError, match="whole minutes"):
        Interval(True, 10)
    with pytest.raises(HoursError, match="whole minutes"):
        Interval(9.5, 10)  # type: ignore[arg-type]


def test_opening_hours_constructor_validates() -> None:
    with pytest.raises(HoursError, match="must have 7 days"):
        OpeningHours(weekly=((),) * 6)
    with pytest.raises(HoursError, match="overlap"):
        OpeningHours(weekly=((Interval(0, 600), Interval(500, 700)),) + ((),) * 6)
    with pytest.raises(HoursError, match="public_holidays"):
        OpeningHours(public_holidays="open")  # type: ignore[arg-type]
    day = dt.date(2026, 10, 1)
    with pytest.raises(HoursError, match="more than one exception"):
        OpeningHours(exceptions=(DateException(day), DateException(day, (ALL_DAY,))))
    with pytest.raises(HoursError, match="DateException"):
        OpeningHours(exceptions=("2026-10-01",))  # type: ignore[arg-type]
    with pytest.raises(HoursError, match=r"datetime\.date"):
        DateException(dt.datetime(2026, 10, 1, 9, 0))


def test_constructor_normalises() -> None:
    hours = OpeningHours(
        weekly=((Interval(720, 900), Interval(540, 720)),) + ((),) * 6,
        exceptions=(DateException(dt.date(2026, 10, 2)), DateException(dt.date(2026, 10, 1))),
    )
    assert hours.day("mo") == (Interval(540, 900),)
    assert [e.date.day for e in hours.exceptions] == [1, 2]


def test_add_and_remove_exception() -> None:
    base = parse_hours("Mo-Fr 09:00-17:00")
    closed = base.add_exception("2026-10-01", note="国庆节")
    assert closed.exceptions == (DateException(dt.date(2026, 10, 1), (), "国庆节"),)
    assert base.exceptions == ()  # frozen: the original is unchanged
    changed = closed.add_exception(dt.date(2026, 10, 1), [("10:00", "14:00")], "国庆节 短时营业")
    assert changed.exceptions == (
        DateException(dt.date(2026, 10, 1), (Interval(600, 840),), "国庆节 短时营业"),
    )
    both = changed.add_exception(dt.date(2026, 9, 30), [Interval(540, 720)])
    assert [e.date.isoformat() for e in both.exceptions] == ["2026-09-30", "2026-10-01"]
    assert both.format() == (
        'Mo-Fr 09:00-17:00; 2026 Sep 30 09:00-12:00; 2026 Oct 01 10:00-14:00 "国庆节 短时营业"'
    )
    assert (
        both.remove_exception(dt.date(2026, 10, 1)).remove_exception(dt.date(2026, 9, 30)) == base
    )
    with pytest.raises(HoursError, match="invalid date '2026-10-32'"):
        base.add_exception("2026-10-32")
    with pytest.raises(HoursError, match="invalid time '25:00'"):
        base.add_exception("2026-10-01", [("25:00", "26:00")])
    with pytest.raises(HoursError, match="control characters"):
        base.add_exception("2026-10-01", note="line\nbreak")


def test_intervals_on_precedence() -> None:
    hours = parse_hours('Mo-Fr 09:00-17:00; Sa 10:00-12:00; PH off; 2026 Oct 01 10:00-14:00 "国庆"')
    thursday = dt.date(2026, 10, 8)
    assert hours.intervals_on(thursday, public_holiday=False) == WEEKDAY_9_17
    # PH off: closed on an official holiday ...
    assert hours.intervals_on(dt.date(2026, 10, 2), public_holiday=True) == ()
    # ... but a date's own exception wins over the holiday rule.
    assert hours.intervals_on(dt.date(2026, 10, 1), public_holiday=True) == (Interval(600, 840),)
    assert hours.intervals_on(dt.date(2026, 10, 10), public_holiday=False) == (Interval(600, 720),)
    assert hours.intervals_on(dt.date(2026, 10, 11), public_holiday=False) == ()
    # Default policy: a holiday is treated like its weekday.
    plain = parse_hours("Mo-Fr 09:00-17:00")
    assert plain.intervals_on(dt.date(2026, 10, 2), public_holiday=True) == WEEKDAY_9_17
    assert hours.exception_for(dt.date(2026, 10, 1)) is not None
    assert hours.exception_for(dt.date(2026, 10, 2)) is None


def test_hashable_and_comparable() -> None:
    a = parse_hours("Mo-Fr 09:00-17:00; Sa,Su,PH off")
    b = validate_hours_json(a.to_json())
    assert a == b and hash(a) == hash(b)
    assert len({a, b}) == 1


# --- property tests -------------------------------------------------------------------------


@st.composite
def day_intervals(draw: st.DrawFn) -> tuple[Interval, ...]:
    """Sorted, non-overlapping, non-touching intervals: the canonical form of a day."""
    count = draw(st.integers(0, 4))
    bounds = sorted(draw(st.sets(st.integers(0, 1440), min_size=2 * count, max_size=2 * count)))
    return tuple(Interval(bounds[i], bounds[i + 1]) for i in range(0, len(bounds), 2))


notes = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters='"'),
    max_size=30,
)


@st.composite
def schedules(draw: st.DrawFn) -> OpeningHours:
    # Few distinct day patterns, so that grouping ("Mo-Fr", "Sa,Su") is exercised.
    patterns = draw(st.lists(day_intervals(), min_size=1, max_size=3))
    weekly = tuple(draw(st.sampled_from(patterns)) for _ in range(7))
    if draw(st.booleans()) and draw(st.booleans()):
        weekly = ((ALL_DAY,),) * 7
    dates = draw(
        st.lists(st.dates(dt.date(2000, 1, 1), dt.date(2099, 12, 31)), max_size=4, unique=True)
    )
    exceptions = tuple(DateException(d, draw(day_intervals()), draw(notes)) for d in dates)
    policy = draw(st.sampled_from(PUBLIC_HOLIDAY_POLICIES))
    return OpeningHours(weekly, policy, exceptions)


@settings(max_examples=500)
@given(schedules())
def test_text_round_trip(hours: OpeningHours) -> None:
    text = hours.format()
    again = parse_hours(text)
    assert again == hours
    assert again.format() == text


@settings(max_examples=500)
@given(schedules())
def test_json_round_trip(hours: OpeningHours) -> None:
    stored = json.loads(json.dumps(hours.to_json(), ensure_ascii=False))
    assert validate_hours_json(stored) == hours
    assert validate_hours_json(stored).to_json() == stored
    assert set(stored["weekly"]) == set(WEEKDAYS)


@settings(max_examples=300)
@given(schedules(), st.sampled_from(["lower", "spaces", "short_hours", "chinese"]))
def test_lenient_spellings_parse_to_the_same(hours: OpeningHours, style: str) -> None:
    def respell(piece: str) -> str:
        if style == "lower":
            return piece.lower()
        if style == "spaces":
            return piece.replace("; ", "  ;  ").replace("-", " - ").replace(",", " , ")
        if style == "short_hours":
            return piece.replace(" 0", " ").replace(",0", ",").replace("-0", "-")
        return piece.replace("; ", "；").replace(",", "、").replace(":", "：")

    # Respell everything outside the quoted notes, which must stay verbatim.
    pieces = hours.format().split('"')
    text = '"'.join(p if i % 2 else respell(p) for i, p in enumerate(pieces))
    assert parse_hours(text) == hours


@settings(max_examples=1000)
@given(st.text(max_size=60))
def test_arbitrary_text_raises_only_hours_error(text: str) -> None:
    try:
        hours = parse_hours(text)
    except HoursError as exc:
        assert str(exc) and exc.message_zh
    else:
        assert parse_hours(hours.format()) == hours


_TOKENS = st.sampled_from(
    [
        "Mo",
        "Fr",
        "Sa",
        "PH",
        "off",
        "24/7",
        "-",
        ",",
        ";",
        ":",
        " ",
        "09:00",
        "17:00",
        "24:00",
        "2026",
        "Oct",
        "01",
        "2026-10-01",
        '"x"',
        "周一",
        "至",
        "休息",
        "9",
        "x",
    ]
)


@settings(max_examples=1000)
@given(st.lists(_TOKENS, max_size=12).map("".join))
def test_token_soup_raises_only_hours_error(text: str) -> None:
    try:
        hours = parse_hours(text)
    except HoursError:
        return
    assert parse_hours(hours.format()) == hours


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=8)
    | st.sampled_from(["09:00", "17:00", "24:00", "2026-10-01", "closed", "mo"]),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "weekly",
                    "mo",
                    "sa",
                    "public_holidays",
                    "exceptions",
                    "date",
                    "intervals",
                    "note",
                    "x",
                ]
            ),
            children,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@settings(max_examples=1000)
@given(json_values)
def test_arbitrary_json_raises_only_hours_error(obj: object) -> None:
    try:
        hours = validate_hours_json(obj)
    except HoursError as exc:
        assert str(exc) and exc.message_zh and exc.part
    else:
        assert validate_hours_json(hours.to_json()) == hours
