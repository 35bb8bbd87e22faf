"""Opening hours of an outlet as data: validate, format. No clock, no calendar.

Why this shape: opening hours arrive as text in CSV imports (a subset of
OpenStreetMap's ``opening_hours``, so OSM data and spreadsheet users both fit)
and as JSON through the API, and they are stored in one JSONB column. The
"open now" answer, which needs today's date in Asia/Shanghai and the official
holiday calendar with its swapped working days (调休), is computed elsewhere
(geo); this module only fixes what the data means, in `OpeningHours.intervals_on`.

Stored JSON (what `OpeningHours.to_json` writes and `validate_hours_json` reads)::

    {
      "weekly": {"mo": [["09:00", "17:00"]], "tu": [...], "we": [...], "th": [...],
                 "fr": [...], "sa": [["09:00", "12:00"], ["13:30", "16:00"]], "su": []},
      "public_holidays": "as_weekly",          # or "closed"
      "exceptions": [{"date": "2026-10-01", "intervals": [], "note": "国庆节"}]
    }

- Times are local Asia/Shanghai wall-clock "HH:MM"; an interval is [open, close)
  with open < close; "24:00" is allowed as a close only. Intervals past midnight
  are not supported: write "22:00-24:00" on one day and "00:00-02:00" on the next.
- A day's intervals are kept sorted; overlapping intervals are an error and
  touching ones ("09:00-12:00" and "12:00-17:00") are merged, so every schedule
  has one canonical form and equal schedules compare equal.
- An empty list means closed that day. 24/7 is every day [["00:00", "24:00"]].
- ``public_holidays``: "as_weekly" (default; an official holiday is treated like
  the weekday it falls on) or "closed" (OSM ``PH off``: closed on the State
  Council's official public holidays).
- ``exceptions``: one entry per date, sorted, each replacing that day's hours
  ("intervals": [] = closed); "note" is free text shown to users.
- Precedence for a date: its exception, else "closed" if it is an official
  holiday and the policy says so, else the weekly hours of its weekday.

Text format (read by `profiles.hours_text.parse_hours`, written by `OpeningHours.format`),
rules separated by ";"::

    Mo-Fr 09:00-17:00; Sa,Su 09:00-12:00,13:30-16:00
    24/7
    Mo-Su 08:30-17:00; PH off; 2026 Oct 01 off "国庆节"

- Days Mo Tu We Th Fr Sa Su, ranges ("Mo-Fr", also wrapping "Fr-Mo") and
  comma lists; a day not mentioned is closed; ``off``/``closed`` closes days.
- As in OSM, a later rule replaces an earlier one for the days it names, so
  "Mo-Su 09:00-17:00; Su off" is open Monday to Saturday.
- A rule without days ("09:00-17:00") applies to every day, as in OSM.
- ``PH off`` sets public_holidays to "closed" (PH may also be listed with days:
  "Sa,Su,PH off"). PH with opening times is not supported.
- Date exceptions: ``2026 Oct 01 off`` or ``2026 Oct 01 10:00-14:00``, with an
  optional quoted note; ISO "2026-10-01" is accepted as input. They always win
  over weekly rules and PH, whatever their position in the text.
- Lenient input, canonical output: case-insensitive words, "9:00" for "09:00",
  full-width punctuation (；，：～), Chinese day names (周一…周日, 星期一…星期日,
  工作日, 周末, 每天), 至/到/~ for ranges, 、 for lists, 休息 for off and
  (法定)节假日 for PH. `OpeningHours.format` always writes the canonical OSM form.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, Literal, TypedDict

TIMEZONE: Final = "Asia/Shanghai"

Weekday = Literal["mo", "tu", "we", "th", "fr", "sa", "su"]
# Index = datetime.date.weekday(): 0 is Monday.
WEEKDAYS: Final[tuple[Weekday, ...]] = ("mo", "tu", "we", "th", "fr", "sa", "su")
_DAY_TEXT: Final = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
_DAY_ZH: Final = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")

PublicHolidayPolicy = Literal["as_weekly", "closed"]
PUBLIC_HOLIDAY_POLICIES: Final[tuple[PublicHolidayPolicy, ...]] = ("as_weekly", "closed")

MINUTES_PER_DAY: Final = 24 * 60
# Limits that keep API input and the JSONB column sane; no real outlet comes close.
MAX_INTERVALS_PER_DAY: Final = 12
MAX_EXCEPTIONS: Final = 400
MAX_NOTE_LENGTH: Final = 200
MAX_TEXT_LENGTH: Final = 4000

_MONTHS: Final = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)


class HoursError(ValueError):
    """Opening hours that cannot be understood.

    The message names the offending part and what was expected, because it is
    shown to whoever wrote the CSV cell or the API request. `part` is that
    fragment of the text (or the JSON path), `message_zh` the Chinese message.
    """

    def __init__(self, message: str, *, message_zh: str, part: str) -> None:
        super().__init__(message)
        self.message_zh = message_zh
        self.part = part


@dataclass(frozen=True)
class _Where:
    """Where an error is, phrased for both languages."""

    part: str
    en: str
    zh: str


def _in_text(fragment: str) -> _Where:
    return _Where(fragment, f" in {fragment!r}", f"（位于 “{fragment}”）")


def _at_path(path: str) -> _Where:
    return _Where(path, f" at {path}", f"（位于 {path}）")


def _error(where: _Where, en: str, zh: str) -> HoursError:
    """The error for a message pair that already embeds `where.en` / `where.zh`."""
    return HoursError(en, message_zh=zh, part=where.part)


# --- times and intervals --------------------------------------------------------------------

_STRICT_TIME_RE: Final = re.compile(r"^(\d{2}):(\d{2})$")
_LENIENT_TIME_RE: Final = re.compile(r"^(\d{1,2}):(\d{2})$")


def _format_minute(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _parse_time(text: str, *, closing: bool, strict: bool, where: _Where) -> int:
    """Minutes since midnight for "HH:MM"; strict (JSON) demands two-digit hours."""
    match = (_STRICT_TIME_RE if strict else _LENIENT_TIME_RE).match(text)
    if match is not None:
        hours, minutes = int(match[1]), int(match[2])
        if hours == 24 and minutes == 0:
            if closing:
                return MINUTES_PER_DAY
            raise _error(
                where,
                f"opening time '24:00'{where.en} is not allowed: 24:00 can only close an interval",
                f"开始时间 “24:00”{where.zh}无效：24:00 只能作为结束时间",
            )
        if hours < 24 and minutes < 60:
            return hours * 60 + minutes
    form = "HH:MM" if strict else "HH:MM (or H:MM)"
    form_zh = "HH:MM" if strict else "HH:MM（或 H:MM）"
    raise _error(
        where,
        f"invalid time {text!r}{where.en}: expected {form} with hours 00-23 and minutes 00-59"
        " (24:00 only as a closing time)",
        f"时间 “{text}”{where.zh}无效：应为 {form_zh}，小时 00–23，分钟 00–59"
        "（24:00 只能作为结束时间）",
    )


@dataclass(frozen=True, order=True)
class Interval:
    """[start, end) in minutes since local midnight; end may be 1440 (24:00).

    Minutes rather than strings so that "open now" is a comparison of ints.
    """

    start: int
    end: int

    def __post_init__(self) -> None:
        for value in (self.start, self.end):
            if isinstance(value, bool) or not isinstance(value, int):
                loc = _in_text(f"Interval({self.start!r}, {self.end!r})")
                raise _error(
                    loc,
                    f"interval bounds{loc.en} must be whole minutes since midnight",
                    f"时段边界{loc.zh}必须是自午夜起的整数分钟",
                )
        if not 0 <= self.start < self.end <= MINUTES_PER_DAY:
            loc = _in_text(f"{_safe_minute(self.start)}-{_safe_minute(self.end)}")
            raise _error(
                loc,
                f"interval{loc.en} must have 00:00 <= open < close <= 24:00"
                " (use 24:00 for midnight; intervals past midnight are not supported)",
                f"时段{loc.zh}必须满足 00:00 ≤ 开始 < 结束 ≤ 24:00"
                "（午夜请写 24:00；不支持跨午夜的时段）",
            )

    @classmethod
    def parse(cls, text: str) -> Interval:
        """An interval from "HH:MM-HH:MM" (lenient about one-digit hours)."""
        where = _in_text(text)
        opening, sep, closing = text.strip().partition("-")
        if not sep:
            raise _error(
                where,
                f"expected an interval HH:MM-HH:MM{where.en}",
                f"应为时段 HH:MM-HH:MM{where.zh}",
            )
        return _make_interval(
            _parse_time(opening.strip(), closing=False, strict=False, where=where),
            _parse_time(closing.strip(), closing=True, strict=False, where=where),
            where,
        )

    @property
    def opens(self) -> str:
        return _format_minute(self.start)

    @property
    def closes(self) -> str:
        return _format_minute(self.end)

    def format(self) -> str:
        return f"{self.opens}-{self.closes}"

    def to_json(self) -> list[str]:
        return [self.opens, self.closes]

    def contains(self, minute: int) -> bool:
        """Whether the outlet is open at this minute of the day (the close is exclusive)."""
        return self.start <= minute < self.end


def _safe_minute(value: int) -> str:
    return _format_minute(value) if 0 <= value <= MINUTES_PER_DAY else str(value)


ALL_DAY: Final = Interval(0, MINUTES_PER_DAY)


def _make_interval(start: int, end: int, where: _Where) -> Interval:
    if start >= end:
        shown = f"{_format_minute(start)}-{_format_minute(end)}"
        raise _error(
            where,
            f"interval {shown!r}{where.en}: opening time must be before closing time"
            " (use 24:00 for midnight; intervals past midnight are not supported)",
            f"时段 “{shown}”{where.zh}：开始时间必须早于结束时间"
            "（午夜请写 24:00；不支持跨午夜的时段）",
        )
    return Interval(start, end)


def _normalize_day(intervals: Iterable[Interval], where: _Where) -> tuple[Interval, ...]:
    """Sort, reject overlaps, merge touching intervals: the one canonical form of a day."""
    items = list(intervals)
    for item in items:
        if not isinstance(item, Interval):
            raise _error(
                where,
                f"expected Interval objects{where.en}, got {type(item).__name__}",
                f"应为 Interval 对象{where.zh}，收到 {type(item).__name__}",
            )
    merged: list[Interval] = []
    for item in sorted(items):
        if merged and item.start < merged[-1].end:
            raise _error(
                where,
                f"intervals {merged[-1].format()!r} and {item.format()!r} overlap{where.en}:"
                " intervals within a day must not overlap",
                f"时段 “{merged[-1].format()}” 与 “{item.format()}” 重叠{where.zh}："
                "同一天内的时段不能重叠",
            )
        if merged and item.start == merged[-1].end:
            merged[-1] = Interval(merged[-1].start, item.end)
        else:
            merged.append(item)
    if len(merged) > MAX_INTERVALS_PER_DAY:
        raise _error(
            where,
            f"too many intervals{where.en}: at most {MAX_INTERVALS_PER_DAY} per day",
            f"时段过多{where.zh}：每天最多 {MAX_INTERVALS_PER_DAY} 个",
        )
    return tuple(merged)


# --- the value objects ----------------------------------------------------------------------


_BAD_NOTE_CATEGORIES: Final = frozenset({"Cc", "Cs", "Zl", "Zp"})


def _check_note(note: object, where: _Where) -> str:
    if not isinstance(note, str):
        raise _error(
            where,
            f"note{where.en} must be a string, got {type(note).__name__}",
            f"备注{where.zh}必须是字符串",
        )
    if len(note) > MAX_NOTE_LENGTH:
        raise _error(
            where,
            f"note{where.en} is too long: at most {MAX_NOTE_LENGTH} characters",
            f"备注{where.zh}过长：最多 {MAX_NOTE_LENGTH} 个字符",
        )
    # '"' would end the note in the text format; control characters and line
    # separators break CSV cells; lone surrogates cannot be stored as UTF-8.
    if '"' in note or any(unicodedata.category(ch) in _BAD_NOTE_CATEGORIES for ch in note):
        raise _error(
            where,
            f"note{where.en} must not contain '\"' or control characters such as line breaks",
            f"备注{where.zh}不能包含 '\"' 或换行等控制字符",
        )
    return note


@dataclass(frozen=True)
class DateException:
    """Hours for one calendar date that replace the weekly hours (and the PH policy)."""

    date: dt.date
    intervals: tuple[Interval, ...] = ()
    note: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.date, dt.date) or isinstance(self.date, dt.datetime):
            loc = _in_text(repr(self.date))
            raise _error(
                loc,
                f"exception date{loc.en} must be a datetime.date",
                f"例外日期{loc.zh}必须是 datetime.date",
            )
        where = _in_text(self.date.isoformat())
        object.__setattr__(self, "intervals", _normalize_day(self.intervals, where))
        _check_note(self.note, where)

    @property
    def closed(self) -> bool:
        return not self.intervals

    def format(self) -> str:
        """One OSM rule: '2026 Oct 01 off "国庆节"'."""
        day = f"{self.date.year:04d} {_MONTHS[self.date.month - 1]} {self.date.day:02d}"
        body = ",".join(i.format() for i in self.intervals) if self.intervals else "off"
        return f'{day} {body} "{self.note}"' if self.note else f"{day} {body}"

    def to_json(self) -> ExceptionJSON:
        return {
            "date": self.date.isoformat(),
            "intervals": [i.to_json() for i in self.intervals],
            "note": self.note,
        }


class ExceptionJSON(TypedDict):
    date: str
    intervals: list[list[str]]
    note: str


class HoursJSON(TypedDict):
    weekly: dict[str, list[list[str]]]
    public_holidays: str
    exceptions: list[ExceptionJSON]


_CLOSED_WEEK: Final[tuple[tuple[Interval, ...], ...]] = ((),) * 7


@dataclass(frozen=True)
class OpeningHours:
    """An outlet's opening hours; immutable, always canonical, hence comparable with ==.

    `weekly` has seven entries indexed like `datetime.date.weekday()` (0 =
    Monday). Construction normalises and validates, so an instance is valid
    however it was made.
    """

    weekly: tuple[tuple[Interval, ...], ...] = _CLOSED_WEEK
    public_holidays: PublicHolidayPolicy = "as_weekly"
    exceptions: tuple[DateException, ...] = field(default=())

    def __post_init__(self) -> None:
        weekly = tuple(self.weekly)
        if len(weekly) != 7:
            loc = _in_text("weekly")
            raise _error(
                loc,
                f"weekly hours{loc.en} must have 7 days (Monday first), got {len(weekly)}",
                f"每周营业时间{loc.zh}必须有 7 天（从周一开始），收到 {len(weekly)} 天",
            )
        object.__setattr__(
            self,
            "weekly",
            tuple(_normalize_day(day, _in_text(_DAY_TEXT[i])) for i, day in enumerate(weekly)),
        )
        if self.public_holidays not in PUBLIC_HOLIDAY_POLICIES:
            loc = _in_text(str(self.public_holidays))
            raise _error(
                loc,
                f"public_holidays{loc.en} must be one of 'as_weekly', 'closed'",
                f"public_holidays{loc.zh}必须是 'as_weekly' 或 'closed'",
            )
        for exc in self.exceptions:
            if not isinstance(exc, DateException):
                loc = _in_text("exceptions")
                raise _error(
                    loc,
                    f"exceptions{loc.en} must be DateException objects, got {type(exc).__name__}",
                    f"exceptions{loc.zh}必须是 DateException 对象",
                )
        exceptions = sorted(self.exceptions, key=lambda e: e.date)
        for i, exc in enumerate(exceptions):
            if i and exc.date == exceptions[i - 1].date:
                loc = _in_text(exc.date.isoformat())
                raise _error(
                    loc,
                    f"more than one exception for the date{loc.en}: at most one per date",
                    f"日期{loc.zh}有多个例外：每个日期最多一个",
                )
        if len(exceptions) > MAX_EXCEPTIONS:
            loc = _in_text("exceptions")
            raise _error(
                loc,
                f"too many exceptions{loc.en}: at most {MAX_EXCEPTIONS}",
                f"例外日期过多{loc.zh}：最多 {MAX_EXCEPTIONS} 个",
            )
        object.__setattr__(self, "exceptions", tuple(exceptions))

    # -- constructors --

    @classmethod
    def always_open(cls) -> OpeningHours:
        """24/7: every day 00:00-24:00."""
        return cls(weekly=((ALL_DAY,),) * 7)

    @classmethod
    def from_json(cls, obj: object) -> OpeningHours:
        """Same as `validate_hours_json`: the stored or API JSON shape to an instance."""
        return validate_hours_json(obj)

    # -- queries --

    @property
    def is_24_7(self) -> bool:
        """Open all day every day of the week (PH policy and exceptions aside)."""
        return all(day == (ALL_DAY,) for day in self.weekly)

    def day(self, weekday: Weekday | int) -> tuple[Interval, ...]:
        """The weekly intervals of a weekday, by key ("mo") or by date.weekday() index."""
        index = WEEKDAYS.index(weekday) if isinstance(weekday, str) else weekday
        return self.weekly[index]

    def exception_for(self, day: dt.date) -> DateException | None:
        for exc in self.exceptions:
            if exc.date == day:
                return exc
        return None

    def intervals_on(self, day: dt.date, *, public_holiday: bool) -> tuple[Interval, ...]:
        """The intervals that apply on a local date, given whether it is an official holiday.

        This fixes the precedence (exception > PH policy > weekly) in one place;
        deciding whether a date is a holiday, and handling make-up working days
        (调休), is the calendar's job and happens in the caller.
        """
        exc = self.exception_for(day)
        if exc is not None:
            return exc.intervals
        if public_holiday and self.public_holidays == "closed":
            return ()
        return self.weekly[day.weekday()]

    # -- changes (new instances; this one is frozen) --

    def add_exception(
        self,
        day: dt.date | str,
        intervals: Iterable[Interval | Sequence[str]] = (),
        note: str = "",
    ) -> OpeningHours:
        """A copy with `day`'s hours replaced (default: closed); replaces any earlier exception.

        `day` may be a date or "YYYY-MM-DD"; intervals are `Interval`s or
        ("HH:MM", "HH:MM") pairs, the shape callers naturally have.
        """
        if isinstance(day, str):
            day = _parse_iso_date(day, _in_text(day))
        where = _in_text(day.isoformat() if isinstance(day, dt.date) else repr(day))
        parsed = [
            item if isinstance(item, Interval) else _interval_from_pair(item, where, strict=False)
            for item in intervals
        ]
        new = DateException(day, tuple(parsed), note)
        kept = tuple(e for e in self.exceptions if e.date != new.date)
        return OpeningHours(self.weekly, self.public_holidays, (*kept, new))

    def remove_exception(self, day: dt.date) -> OpeningHours:
        """A copy without an exception for `day` (unchanged if there is none)."""
        kept = tuple(e for e in self.exceptions if e.date != day)
        return OpeningHours(self.weekly, self.public_holidays, kept)

    # -- serialisation --

    def to_json(self) -> HoursJSON:
        """The JSONB shape; always writes every key so stored rows look alike."""
        return {
            "weekly": {
                key: [i.to_json() for i in day]
                for key, day in zip(WEEKDAYS, self.weekly, strict=True)
            },
            "public_holidays": self.public_holidays,
            "exceptions": [e.to_json() for e in self.exceptions],
        }

    def format(self) -> str:
        """The canonical text: OSM syntax, parseable by `parse_hours` back to an equal value.

        Days with identical hours are grouped ("Mo-Fr", "Sa,Su"), in weekday
        order; PH comes after the weekly rules and exceptions last, so that OSM
        tools, where later rules win, read it the way we do.
        """
        rules: list[str] = []
        if self.is_24_7:
            rules.append("24/7")
        elif all(not day for day in self.weekly):
            rules.append("Mo-Su off")
        else:
            groups: dict[tuple[Interval, ...], list[int]] = {}
            for index, day in enumerate(self.weekly):
                if day:
                    groups.setdefault(day, []).append(index)
            for day, indexes in groups.items():
                times = ",".join(i.format() for i in day)
                rules.append(f"{_format_days(indexes)} {times}")
        if self.public_holidays == "closed":
            rules.append("PH off")
        rules.extend(e.format() for e in self.exceptions)
        return "; ".join(rules)

    def format_zh(self) -> str:
        """For people, in Chinese: 周一至周五 09:00-17:00；周六、周日 09:00-12:00；法定节假日休息.

        Dated exceptions are left out: a chat answer or a sign states the usual week.
        """
        if self.is_24_7:
            rules = ["24小时营业"]
        elif all(not day for day in self.weekly):
            rules = ["暂停营业"]
        else:
            groups: dict[tuple[Interval, ...], list[int]] = {}
            for index, day in enumerate(self.weekly):
                if day:
                    groups.setdefault(day, []).append(index)
            rules = [
                f"{_format_days(indexes, _DAY_ZH, '至', '、')} "
                + "，".join(i.format() for i in day)
                for day, indexes in groups.items()
            ]
        if self.public_holidays == "closed":
            rules.append("法定节假日休息")
        return "；".join(rules)

    def __str__(self) -> str:
        return self.format()


def _format_days(
    indexes: list[int], names: Sequence[str] = (), to: str = "-", sep: str = ","
) -> str:
    """Sorted weekday indexes as "Mo-We,Fr,Sa,Su": ranges for runs of three or more."""
    names = names or _DAY_TEXT
    parts: list[str] = []
    run_start = previous = indexes[0]
    for index in [*indexes[1:], None]:
        if index is not None and index == previous + 1:
            previous = index
            continue
        length = previous - run_start + 1
        if length >= 3:
            parts.append(f"{names[run_start]}{to}{names[previous]}")
        else:
            parts.extend(names[i] for i in range(run_start, previous + 1))
        if index is not None:
            run_start = previous = index
    return sep.join(parts)


# --- JSON validation ------------------------------------------------------------------------

_ISO_DATE_RE: Final = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def _parse_iso_date(text: str, where: _Where) -> dt.date:
    match = _ISO_DATE_RE.match(text)
    if match is not None:
        try:
            return dt.date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            pass
    raise _error(
        where,
        f"invalid date {text!r}{where.en}: expected a real calendar date YYYY-MM-DD",
        f"日期 “{text}”{where.zh}无效：应为有效日期 YYYY-MM-DD",
    )


def _type_name(value: object) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), type(value).__name__
    )


def _interval_from_pair(pair: object, where: _Where, *, strict: bool) -> Interval:
    if not isinstance(pair, list | tuple) or len(pair) != 2:
        raise _error(
            where,
            f'expected an interval ["HH:MM", "HH:MM"]{where.en}, got {pair!r}',
            f'应为时段 ["HH:MM", "HH:MM"]{where.zh}，收到 {pair!r}',
        )
    opening, closing = pair
    for value in (opening, closing):
        if not isinstance(value, str):
            raise _error(
                where,
                f'times{where.en} must be strings "HH:MM", got {_type_name(value)} {value!r}',
                f'时间{where.zh}必须是字符串 "HH:MM"，收到 {value!r}',
            )
    return _make_interval(
        _parse_time(opening, closing=False, strict=strict, where=where),
        _parse_time(closing, closing=True, strict=strict, where=where),
        where,
    )


def _json_day(value: object, path: str) -> tuple[Interval, ...]:
    if not isinstance(value, list | tuple):
        loc = _at_path(path)
        raise _error(
            loc,
            f"expected an array of intervals{loc.en}, got {_type_name(value)}",
            f"应为时段数组{loc.zh}",
        )
    intervals = [
        _interval_from_pair(pair, _at_path(f"{path}[{i}]"), strict=True)
        for i, pair in enumerate(value)
    ]
    return _normalize_day(intervals, _at_path(path))


def _check_keys(obj: Mapping[object, object], allowed: Sequence[str], path: str) -> None:
    for key in obj:
        if key not in allowed:
            loc = _at_path(path)
            raise _error(
                loc,
                f"unknown key {key!r}{loc.en}: expected only {', '.join(allowed)}",
                f"未知的键 “{key}”{loc.zh}：只允许 {', '.join(allowed)}",
            )


def validate_hours_json(obj: object) -> OpeningHours:
    """Validate the stored/API JSON shape and return the canonical `OpeningHours`.

    Strict about types, keys and "HH:MM" (two-digit hours), because this is the
    storage format and API input; lenient only where the meaning is unambiguous:
    a missing weekday is closed, missing "public_holidays" is "as_weekly",
    missing "exceptions" is none, intervals may come unsorted.
    Errors name the JSON path, e.g. "weekly.mo[1]".
    """
    if not isinstance(obj, Mapping):
        loc = _at_path("$")
        raise _error(
            loc,
            f"opening hours{loc.en} must be a JSON object, got {_type_name(obj)}",
            f"营业时间{loc.zh}必须是 JSON 对象",
        )
    _check_keys(obj, ("weekly", "public_holidays", "exceptions"), "$")
    if "weekly" not in obj:
        loc = _at_path("$")
        raise _error(
            loc,
            f"missing key 'weekly'{loc.en}: expected an object with keys mo..su",
            f"缺少键 “weekly”{loc.zh}：应为包含 mo 至 su 的对象",
        )
    weekly_obj = obj["weekly"]
    if not isinstance(weekly_obj, Mapping):
        loc = _at_path("weekly")
        raise _error(
            loc,
            f"weekly{loc.en} must be an object with keys mo..su, got {_type_name(weekly_obj)}",
            f"weekly{loc.zh}必须是包含 mo 至 su 的对象",
        )
    _check_keys(weekly_obj, WEEKDAYS, "weekly")
    weekly = tuple(
        _json_day(weekly_obj[key], f"weekly.{key}") if key in weekly_obj else () for key in WEEKDAYS
    )

    policy = obj.get("public_holidays", "as_weekly")
    if policy not in PUBLIC_HOLIDAY_POLICIES:
        loc = _at_path("public_holidays")
        raise _error(
            loc,
            f"invalid value {policy!r}{loc.en}: expected 'as_weekly' or 'closed'",
            f"取值 {policy!r} 无效{loc.zh}：应为 'as_weekly' 或 'closed'",
        )

    raw_exceptions = obj.get("exceptions", [])
    if not isinstance(raw_exceptions, list | tuple):
        loc = _at_path("exceptions")
        raise _error(
            loc,
            f"exceptions{loc.en} must be an array, got {_type_name(raw_exceptions)}",
            f"exceptions{loc.zh}必须是数组",
        )
    if len(raw_exceptions) > MAX_EXCEPTIONS:
        loc = _at_path("exceptions")
        raise _error(
            loc,
            f"too many exceptions{loc.en}: at most {MAX_EXCEPTIONS}",
            f"例外日期过多{loc.zh}：最多 {MAX_EXCEPTIONS} 个",
        )
    exceptions: list[DateException] = []
    seen: dict[dt.date, int] = {}
    for i, item in enumerate(raw_exceptions):
        path = f"exceptions[{i}]"
        if not isinstance(item, Mapping):
            loc = _at_path(path)
            raise _error(
                loc,
                f"exception{loc.en} must be an object with date, intervals, note;"
                f" got {_type_name(item)}",
                f"例外{loc.zh}必须是包含 date、intervals、note 的对象",
            )
        _check_keys(item, ("date", "intervals", "note"), path)
        for required in ("date", "intervals"):
            if required not in item:
                loc = _at_path(path)
                raise _error(
                    loc,
                    f"missing key {required!r}{loc.en}",
                    f"缺少键 “{required}”{loc.zh}",
                )
        date_value = item["date"]
        if not isinstance(date_value, str):
            loc = _at_path(f"{path}.date")
            raise _error(
                loc,
                f"date{loc.en} must be a string YYYY-MM-DD, got {_type_name(date_value)}",
                f"日期{loc.zh}必须是字符串 YYYY-MM-DD",
            )
        day = _parse_iso_date(date_value, _at_path(f"{path}.date"))
        if day in seen:
            loc = _at_path(path)
            raise _error(
                loc,
                f"duplicate date {date_value!r}{loc.en}: already given at exceptions[{seen[day]}]",
                f"日期 “{date_value}” 重复{loc.zh}：已在 exceptions[{seen[day]}] 中给出",
            )
        seen[day] = i
        intervals = _json_day(item["intervals"], f"{path}.intervals")
        note = _check_note(item.get("note", ""), _at_path(f"{path}.note"))
        exceptions.append(DateException(day, intervals, note))

    return OpeningHours(weekly, policy, tuple(exceptions))


def format_hours(hours: OpeningHours) -> str:
    """The canonical text of `hours`; the same as `hours.format()`."""
    return hours.format()
