"""China's official holidays and swapped working days (调休): the one place that knows them.

Why a module of its own: the State Council announces each year's holidays, and
the weekend days worked in exchange (调休上班), only in the autumn before, so no
rule computes them. Opening hours ("open now"), the monthly report's due date
and correction deadlines must all agree on which days are working days, so they
all ask this module and nothing else.

Where the answers come from, later sources overriding earlier ones date by date:

1. the ``chinesecalendar`` package (import ``chinese_calendar``; 1.11.0 has
   2004–2026). We read its public ``holidays`` and ``workdays`` tables once
   instead of calling ``is_workday()``, which rescans the whole table on every
   call and raises ``NotImplementedError`` outside its years;
2. ``profiles/data/holidays.csv``, shipped with the code, for years published
   after the package's last release (see ``profiles/data/README.md``);
3. the operator's file named by ``BRANCHFINDER_HOLIDAYS_FILE``, same format, so
   a deployment can add next year's notice without waiting for a release.

A year counts as *known* when some source lists at least one official holiday
in it (every published year has 元旦 on 1 January). In a known year a date that
no source lists is an ordinary workday or weekend. Outside the known years the
answer falls back to plain weekends (Saturday and Sunday off) and carries
``verified=False``, so callers can say "holidays for this year are not yet
published" instead of silently being wrong, and nothing ever raises for a
valid date. A date that a file lists explicitly is verified even in a year
otherwise unknown (e.g. a late-December make-up day from next year's notice).

A broken data file must not take the finder down: it is skipped whole (a year
half-read would be wrong *and* marked verified), logged, and reported by
`load_problems()`; `read_holiday_file` raises `HolidayDataError` with the line
for an operator checking a file before installing it.
"""

from __future__ import annotations

import csv
import datetime as dt
import logging
import os
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Final, Literal

logger = logging.getLogger(__name__)

ENV_HOLIDAYS_FILE: Final = "BRANCHFINDER_HOLIDAYS_FILE"
HOLIDAYS_CSV_COLUMNS: Final = ("date", "kind", "name")

DayKind = Literal["workday", "weekend", "holiday", "makeup_workday"]
EntryKind = Literal["holiday", "workday"]
_ENTRY_KINDS: Final[tuple[EntryKind, ...]] = ("holiday", "workday")
_MAX_NAME_LENGTH: Final = 100


class HolidayDataError(ValueError):
    """A holiday data file that cannot be used; the message names the file and line."""


@dataclass(frozen=True)
class DayInfo:
    """What kind of day a date is in mainland China, and whether that is known for sure.

    `name` is the holiday a day belongs to (``"春节"``), also for a make-up
    working day (the holiday it pays for), else None. `verified` is False when
    the year's schedule is not known and the answer is only "weekends are off".
    """

    day: dt.date
    kind: DayKind
    name: str | None
    verified: bool

    @property
    def is_working_day(self) -> bool:
        """Offices and the report deadlines count this day (a make-up 调休 day counts)."""
        return self.kind in ("workday", "makeup_workday")


@dataclass(frozen=True)
class HolidayEntry:
    """One row of a holiday data file: a date that differs from the plain week, or confirms it."""

    day: dt.date
    kind: EntryKind
    name: str


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: one per load
class _Calendar:
    """The merged tables; immutable so readers never see a half-loaded state."""

    entries: Mapping[dt.date, tuple[EntryKind, str]]
    known_years: frozenset[int]
    problems: tuple[str, ...]
    operator_file: str | None


# --- loading --------------------------------------------------------------------------------


def _package_entries() -> tuple[dict[dt.date, tuple[EntryKind, str]], set[int], list[str]]:
    """The chinesecalendar tables as our entries, with Chinese holiday names."""
    try:
        import chinese_calendar
    except ImportError as exc:  # a broken install degrades to the data files, loudly
        return {}, set(), [f"chinesecalendar is not installed ({exc}); using data files only"]
    chinese_names: dict[str, str] = {h.value: h.chinese for h in chinese_calendar.Holiday}
    entries: dict[dt.date, tuple[EntryKind, str]] = {}
    tables: tuple[tuple[EntryKind, Mapping[Any, Any]], ...] = (
        ("holiday", chinese_calendar.holidays),
        ("workday", chinese_calendar.workdays),
    )
    for kind, table in tables:
        for day, english in table.items():
            entries[day] = (kind, chinese_names.get(english, str(english)))
    years = {day.year for day in chinese_calendar.holidays}
    return entries, years, []


def read_holiday_file(path: str | Path) -> tuple[HolidayEntry, ...]:
    """Parse a holiday CSV (``date,kind,name``); raise `HolidayDataError` naming the line.

    Strict, because a typo here silently moves a deadline: ISO dates, kind
    ``holiday`` or ``workday``, a non-empty name, no date twice. Blank lines and
    lines starting with ``#`` (e.g. citing the State Council notice) are skipped.
    A UTF-8 byte-order mark, as spreadsheet programs write, is accepted.
    """
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise HolidayDataError(f"{path}: cannot read the file: {exc}") from exc
    return _parse_holiday_text(text, str(path))


def _parse_holiday_text(text: str, label: str) -> tuple[HolidayEntry, ...]:
    text = text.removeprefix("\ufeff")
    numbered = [
        (number, line)
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not numbered:
        raise HolidayDataError(f"{label}: empty file, expected the header date,kind,name")
    header_number, header_line = numbered[0]
    header = tuple(cell.strip() for cell in next(csv.reader([header_line])))
    if header != HOLIDAYS_CSV_COLUMNS:
        raise HolidayDataError(
            f"{label}:{header_number}: header must be {','.join(HOLIDAYS_CSV_COLUMNS)},"
            f" got {','.join(header)}"
        )
    entries: list[HolidayEntry] = []
    seen: dict[dt.date, int] = {}
    for number, line in numbered[1:]:
        where = f"{label}:{number}"
        cells = [cell.strip() for cell in next(csv.reader([line]))]
        if len(cells) != 3:
            raise HolidayDataError(f"{where}: expected 3 columns date,kind,name, got {len(cells)}")
        date_text, kind, name = cells
        day = _parse_date(date_text)
        if day is None:
            raise HolidayDataError(f"{where}: invalid date {date_text!r}, expected YYYY-MM-DD")
        if kind not in _ENTRY_KINDS:
            raise HolidayDataError(f"{where}: invalid kind {kind!r}, expected holiday or workday")
        if not name or len(name) > _MAX_NAME_LENGTH:
            raise HolidayDataError(
                f"{where}: name must be 1 to {_MAX_NAME_LENGTH} characters (e.g. 春节)"
            )
        if day in seen:
            raise HolidayDataError(f"{where}: date {date_text} already given on line {seen[day]}")
        seen[day] = number
        entries.append(HolidayEntry(day, "holiday" if kind == "holiday" else "workday", name))
    return tuple(entries)


_ISO_DATE_RE: Final = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def _parse_date(text: str) -> dt.date | None:
    """YYYY-MM-DD only (``date.fromisoformat`` would also take 20270101 and week dates)."""
    match = _ISO_DATE_RE.match(text)
    if match is None:
        return None
    try:
        return dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def _shipped_text() -> str:
    return (resources.files("profiles") / "data" / "holidays.csv").read_text(encoding="utf-8-sig")


def _merge(
    entries: dict[dt.date, tuple[EntryKind, str]],
    years: set[int],
    extra: Iterable[HolidayEntry],
) -> None:
    for entry in extra:
        entries[entry.day] = (entry.kind, entry.name)
        if entry.kind == "holiday":
            years.add(entry.day.year)


def _load(operator_file: str | None) -> _Calendar:
    entries, years, problems = _package_entries()
    try:
        _merge(entries, years, _parse_holiday_text(_shipped_text(), "profiles/data/holidays.csv"))
    except (OSError, HolidayDataError) as exc:
        problems.append(f"shipped holiday data skipped: {exc}")
    if operator_file:
        try:
            _merge(entries, years, read_holiday_file(operator_file))
        except HolidayDataError as exc:
            problems.append(f"{ENV_HOLIDAYS_FILE} skipped: {exc}")
    for problem in problems:
        logger.error("holiday calendar: %s", problem)
    return _Calendar(entries, frozenset(years), tuple(problems), operator_file)


_lock = threading.Lock()
_current: _Calendar | None = None


def _calendar() -> _Calendar:
    """The loaded calendar; reloaded by itself when the operator file setting changes."""
    global _current
    operator_file = os.environ.get(ENV_HOLIDAYS_FILE) or None
    current = _current
    if current is not None and current.operator_file == operator_file:
        return current
    with _lock:
        if _current is None or _current.operator_file != operator_file:
            _current = _load(operator_file)
        return _current


def loaded() -> object:
    """The calendar now in force, as an opaque token that changes with every (re)load.

    For caches of answers that depend on the calendar (`profiles.opening.open_states`):
    a key that includes it is never served from a calendar that has been replaced.
    """
    return _calendar()


def reload() -> None:
    """Forget the loaded tables so the next question re-reads every source.

    For tests and for an operator who edited the file in place (a changed
    ``BRANCHFINDER_HOLIDAYS_FILE`` value is noticed without this).
    """
    global _current
    with _lock:
        _current = None


def load_problems() -> tuple[str, ...]:
    """Why a source was skipped (missing package, unreadable or invalid file); empty if none.

    For a health check or an admin page: a skipped file means unverified answers.
    """
    return _calendar().problems


# --- questions ------------------------------------------------------------------------------


def day_info(d: dt.date) -> DayInfo:
    """The kind of day `d` is; never raises for a valid date, says `verified=False` if unknown."""
    if isinstance(d, dt.datetime):  # a datetime is a date subclass; its date is what is meant
        d = d.date()
    calendar = _calendar()
    entry = calendar.entries.get(d)
    weekend = d.weekday() >= 5
    if entry is not None:
        kind, name = entry
        if kind == "holiday":
            return DayInfo(d, "holiday", name, True)
        return DayInfo(d, "makeup_workday" if weekend else "workday", name, True)
    return DayInfo(d, "weekend" if weekend else "workday", None, d.year in calendar.known_years)


def is_working_day(d: dt.date) -> bool:
    """Whether offices work on `d` (a make-up 调休 Saturday or Sunday counts)."""
    return day_info(d).is_working_day


def next_working_day(d: dt.date, *, include_today: bool = True) -> dt.date:
    """The first working day on or after `d` (strictly after it if not `include_today`).

    Always ends: outside the known years every Monday is a working day.
    """
    day = d if include_today else d + dt.timedelta(days=1)
    while not is_working_day(day):
        day += dt.timedelta(days=1)
    return day


def add_working_days(d: dt.date, n: int) -> dt.date:
    """The `n`-th working day after `d` (`d` itself does not count); `d` for n == 0.

    "Corrections are due 5 working days after the error receipt": received on a
    Friday before a normal weekend, due the next Friday. Received on a holiday
    or weekend, the count starts with the next working day as day 1.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    day = d
    for _ in range(n):
        day = next_working_day(day, include_today=False)
    return day


def covered_years() -> tuple[int, int]:
    """First and last year with verified data (package and data files together).

    A year between them that no source lists is still unverified; see
    `known_years` for the exact set.
    """
    years = _calendar().known_years
    if not years:
        raise LookupError("no holiday data at all: see load_problems()")
    return min(years), max(years)


def known_years() -> tuple[int, ...]:
    """Every year whose official holidays are known, ascending."""
    return tuple(sorted(_calendar().known_years))


def monthly_report_due(year: int, month: int) -> dt.date:
    """The monthly problem report's due date: the 15th, moved to the next working day.

    E.g. 15 February 2026 falls in the 春节 break (15–23 Feb), so it is due on
    Tuesday 24 February.
    """
    return next_working_day(dt.date(year, month, 15))


def verified_between(start: dt.date, end: dt.date) -> bool:
    """Whether every day from `start` to `end` (inclusive) rests on published holidays.

    For a deadline computed with `add_working_days` or `monthly_report_due`:
    False means "provisional: next year's holidays are not yet known".
    """
    day = start
    while day <= end:
        if not day_info(day).verified:
            return False
        day += dt.timedelta(days=1)
    return True
