"""Is an outlet open now, until when, and when does it open next: hours + holiday calendar.

Why here and not in `profiles.hours`: that module fixes what stored hours
*mean* for a date given whether it is a holiday; this one adds the clock
(Asia/Shanghai, whatever zone the caller's timestamp is in) and the official
calendar from `profiles.holiday_calendar`, so the finder, the bot and the
professional API all answer "open now" the same way.

Which hours apply on a local date, first match wins:

1. a dated exception in the hours (``"exceptions"``), whatever the calendar says;
2. an official holiday (including the Saturdays and Sundays inside a holiday
   period): closed if ``public_holidays`` is ``"closed"`` (OSM ``PH off``),
   else the weekly hours of the weekday it falls on;
3. a make-up working day (调休上班, a Saturday or Sunday worked in exchange for
   a holiday): the **Monday** hours. Banks open with their working-day hours
   on such days, and the schedule has no "working day" entry of its own;
   Monday stands for it because it is the most ordinary working day (a Friday
   may close early, a Saturday is the day being swapped). So an outlet closed on
   Sundays opens on Sunday 2026-09-20 with its Monday hours;
4. otherwise the weekly hours of the weekday.

`OpenState.verified` is False when the answer used a day whose year's holidays
are not published (`holiday_calendar.DayInfo.verified`) *and* whose hours could
differ if it were a holiday or a make-up day. An outlet open the same hours
every day under "as_weekly", 24/7 ATMs for instance, stays verified: no
calendar could change its answer.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final
from zoneinfo import ZoneInfo

from profiles import holiday_calendar
from profiles.hours import MINUTES_PER_DAY, TIMEZONE, Interval, OpeningHours, validate_hours_json

SHANGHAI: Final = ZoneInfo(TIMEZONE)
_MONDAY: Final = 0
DEFAULT_HORIZON_DAYS: Final = 14
# Parsed schedules kept for `is_open_at`; a province has ~15,000 outlets but far
# fewer distinct schedules (most of a bank's outlets share a handful).
_PARSE_CACHE_SIZE: Final = 8192
# Open states by (schedule, minute, calendar): the schedules of a minute's requests.
_STATE_CACHE_SIZE: Final = 4096


@dataclass(frozen=True)
class OpenState:
    """The answer for one outlet at one moment; datetimes are aware, in Asia/Shanghai.

    `closes_at` is None when closed, or when open without a closing in the
    horizon (24/7). `opens_next_at` is the next opening after now, or after
    `closes_at` when open now (after a lunch break: the afternoon); None when
    there is none in the horizon or the outlet never opens.
    """

    open_now: bool
    closes_at: dt.datetime | None
    opens_next_at: dt.datetime | None
    verified: bool


def to_local(at: dt.datetime) -> dt.datetime:
    """`at` as Asia/Shanghai wall-clock time; a naive datetime is refused.

    Refused rather than assumed local or UTC: either guess is eight hours
    wrong for half the callers, which is an open/closed answer flipped.
    """
    if at.tzinfo is None or at.tzinfo.utcoffset(at) is None:
        raise ValueError(
            f"timestamp {at.isoformat()} has no timezone: pass an aware datetime"
            " (e.g. datetime.now(timezone.utc))"
        )
    return at.astimezone(SHANGHAI)


def effective_intervals(hours: OpeningHours, day: dt.date) -> tuple[tuple[Interval, ...], bool]:
    """The intervals that apply on a local date (module docstring), and whether verified."""
    exception = hours.exception_for(day)
    if exception is not None:
        return exception.intervals, True
    info = holiday_calendar.day_info(day)
    if info.kind == "makeup_workday":
        intervals = hours.weekly[_MONDAY]
    else:
        intervals = hours.intervals_on(day, public_holiday=info.kind == "holiday")
    return intervals, info.verified or not _depends_on_calendar(hours, day)


def _depends_on_calendar(hours: OpeningHours, day: dt.date) -> bool:
    """Whether a holiday or a make-up day on `day` would give other hours than the week's."""
    weekday = day.weekday()
    possible = {hours.weekly[weekday]}
    if hours.public_holidays == "closed":
        possible.add(())
    if weekday >= 5:  # only a Saturday or Sunday can be a make-up working day
        possible.add(hours.weekly[_MONDAY])
    return len(possible) > 1


class _Walk:
    """Days from a local date on, computed once each and only when asked.

    Lazy so that `verified` covers only the days the answer actually needed:
    on 20 December an outlet open now is verified even though 2027, inside the
    horizon, is not known.
    """

    def __init__(self, hours: OpeningHours, first: dt.date) -> None:
        self.hours = hours
        self.first = first
        self.verified = True
        self._days: dict[int, tuple[Interval, ...]] = {}

    def date(self, offset: int) -> dt.date:
        return self.first + dt.timedelta(days=offset)

    def day(self, offset: int) -> tuple[Interval, ...]:
        intervals = self._days.get(offset)
        if intervals is None:
            intervals, verified = effective_intervals(self.hours, self.date(offset))
            self.verified = self.verified and verified
            self._days[offset] = intervals
        return intervals

    def at(self, offset: int, minute: int) -> dt.datetime:
        """The aware local datetime of a minute of a day (1440 is the next midnight)."""
        day = self.date(offset)
        return dt.datetime(day.year, day.month, day.day, tzinfo=SHANGHAI) + dt.timedelta(
            minutes=minute
        )

    def next_opening(self, offset: int, after: float, horizon_days: int) -> dt.datetime | None:
        """The first interval start after minute `after` of day `offset`, within the horizon."""
        for k in range(offset, horizon_days + 1):
            for interval in self.day(k):
                if k > offset or interval.start > after:
                    return self.at(k, interval.start)
        return None


def _coerce(hours: OpeningHours | Mapping[str, Any] | None) -> OpeningHours | None:
    if hours is None or isinstance(hours, OpeningHours):
        return hours
    if not hours:  # {}: hours unknown, shown as closed with no next opening
        return None
    return validate_hours_json(hours)


def open_state(
    hours: OpeningHours | Mapping[str, Any] | None,
    at: dt.datetime,
    *,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
) -> OpenState:
    """Open now, closing and next opening for `hours` at the moment `at` (aware, any zone).

    None or empty hours: closed, no next opening, verified (nothing to verify).
    A JSON mapping is validated with `validate_hours_json` and raises its
    `HoursError` if malformed (use `is_open_at` for rows that must not raise).
    The search goes day by day up to `horizon_days` after today, which the
    longest holiday (春节, nine days) plus weekends fits in.
    An interval ending 24:00 followed by one from 00:00 the next day is one
    opening: `closes_at` is where the run really ends.
    """
    if horizon_days < 0:
        raise ValueError(f"horizon_days must be >= 0, got {horizon_days}")
    local = to_local(at)
    parsed = _coerce(hours)
    if parsed is None:
        return OpenState(False, None, None, True)
    walk = _Walk(parsed, local.date())
    now = local.hour * 60 + local.minute + (local.second + local.microsecond / 1e6) / 60
    current = next((i for i in walk.day(0) if i.start <= now < i.end), None)
    if current is None:
        return OpenState(False, None, walk.next_opening(0, now, horizon_days), walk.verified)

    offset, end = 0, current.end
    while end == MINUTES_PER_DAY:
        if offset + 1 > horizon_days:
            return OpenState(True, None, None, walk.verified)  # open beyond the horizon
        following = walk.day(offset + 1)
        if not following or following[0].start != 0:
            break
        offset, end = offset + 1, following[0].end
    closes_at = walk.at(offset, end)
    opens_next_at = walk.next_opening(offset, end, horizon_days)
    return OpenState(True, closes_at, opens_next_at, walk.verified)


@lru_cache(maxsize=_PARSE_CACHE_SIZE)
def _parse_cached(text: str) -> OpeningHours | None:
    """Parsed hours for a JSON text; None when empty or malformed (cached too)."""
    try:
        obj = json.loads(text)
        if not obj:
            return None
        return validate_hours_json(obj)
    except (ValueError, TypeError, RecursionError):  # HoursError is a ValueError
        return None


def _cache_key(hours_json: Mapping[str, Any] | str) -> str | None:
    if isinstance(hours_json, str):
        return hours_json
    try:
        return json.dumps(hours_json, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError, RecursionError):
        return None


def parse_stored(hours_json: Mapping[str, Any] | str | None) -> OpeningHours | None:
    """Stored hours parsed once per distinct schedule (cached); None for missing or bad data.

    A page of search results repeats a handful of schedules; parsing each hit's
    JSON anew cost more than the query that found them.
    """
    if hours_json is None:
        return None
    key = _cache_key(hours_json)
    return None if key is None else _parse_cached(key)


def is_open_at(hours_json: Mapping[str, Any] | str | None, at: dt.datetime) -> bool:
    """Whether an outlet is open at `at`, from its stored hours; False for bad data.

    The search service's "open now" filter calls this on many rows, so parsed
    schedules are cached by their canonical JSON text (a JSON string from the
    database is used as the key as it is), and only today's intervals are
    looked at. Malformed or missing hours answer False rather than raise: one
    bad row must not fail a whole search. A naive `at` is still a ValueError,
    being the caller's bug rather than data.
    """
    local = to_local(at)
    if hours_json is None:
        return False
    key = _cache_key(hours_json)
    if key is None:
        return False
    parsed = _parse_cached(key)
    if parsed is None:
        return False
    intervals, _ = effective_intervals(parsed, local.date())
    now = local.hour * 60 + local.minute + (local.second + local.microsecond / 1e6) / 60
    return any(i.start <= now < i.end for i in intervals)


def open_states(hours_jsons: Sequence[str | None], at: dt.datetime) -> list[OpenState | None]:
    """`open_state` for each stored schedule (None where hours are unknown or unreadable).

    Worked out once per distinct schedule and minute, shared by every list in that
    minute: a page of results repeats a handful of schedules, and so do all the pages
    the public and the bot are shown (working them out per page was a tenth of the
    Python time of `/outlets/nearby`). Exact, not an approximation: interval bounds are
    whole minutes, so every answer, `open_now` included, is the same throughout a
    minute (a test checks it against `open_state` at the second).
    """
    minute = int(to_local(at).timestamp()) // 60  # whole minutes since the epoch, as the key
    calendar = holiday_calendar.loaded()
    return [
        None if text is None else _state_in_minute(text, minute, calendar) for text in hours_jsons
    ]


@lru_cache(maxsize=_STATE_CACHE_SIZE)
def _state_in_minute(text: str, minute: int, calendar: object) -> OpenState | None:
    """`open_state` of stored hours at the start of a minute (since the epoch), under a
    loaded `calendar`.

    The calendar is part of the key so that a reloaded holiday calendar (an operator's
    new file) is used at once rather than after the cached minute has passed.
    """
    hours = parse_stored(text)
    at = dt.datetime.fromtimestamp(minute * 60, SHANGHAI)
    return None if hours is None else open_state(hours, at)


@dataclass(frozen=True)
class SpecialDay:
    """A coming date whose hours are not simply the week's: an official holiday, a make-up
    working day (调休, the hours of a Monday), or one of the outlet's own exceptions."""

    day: dt.date
    kind: str  # "holiday", "makeup_workday" or "exception"
    name: str | None  # 国庆节, or the exception's note
    intervals: tuple[Interval, ...]  # empty: closed
    verified: bool


def special_days(
    hours: OpeningHours, start: dt.date, *, days: int = 60, limit: int = 10
) -> list[SpecialDay]:
    """The special days from `start` (today included) within `days`, at most `limit`:
    what someone must know before going, the next holiday above all, which a week's
    table does not say."""
    found: list[SpecialDay] = []
    for offset in range(days):
        day = start + dt.timedelta(days=offset)
        exception = hours.exception_for(day)
        info = holiday_calendar.day_info(day)
        if exception is None and info.kind not in ("holiday", "makeup_workday"):
            continue
        intervals, verified = effective_intervals(hours, day)
        kind = "exception" if exception is not None else info.kind
        name = (exception.note or info.name) if exception is not None else info.name
        found.append(SpecialDay(day, kind, name, intervals, verified))
        if len(found) == limit:
            break
    return found
