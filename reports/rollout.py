"""Rollout statistics (推广考核) and the reporting calendar of the rollout plan.

The plan counts, per institution and per PBoC office, how many staff
installed the public app and registered (安装登记: name and employer, DOMAIN.md
§1), and what the public reports about their outlets, and ranks the units;
problems are reported monthly, due on the 15th (moved to the next working
day), and corrections after an error receipt are due within 5 working days.

Attribution, and why:

- An install registration belongs to its employer's legal entity
  (`feedback.employer_fi_code`) and to the region its registrant works in
  (`feedback.employer_region_code`). A registration without a region is
  filed where the employer's head office is: right for the many local banks
  (城商行, 农商行), and for a national bank it lands outside the province
  rather than inflating a random office. Registrations without an employer
  code still count for the office of their region (PBoC staff register so).
- "Feedback" per unit is the public's error reports (信息纠错) on its outlets,
  by the outlet's region and legal entity: received, open, verified
  (accepted) and rejected. General suggestions carry neither an institution
  nor a region, so they cannot be attributed and are not counted here.
- Jurisdiction applies to each source by its own columns: outlets and reports
  by the outlet, registrations by their region and employer.

The calendar answers come from `profiles.holiday_calendar`, the one module
that knows official holidays and swapped working days (调休), the same that
opening hours use. A year it does not cover is refused (`YearNotCovered`)
rather than answered from plain weekends, since a due date that silently
ignores a holiday is worse than none; a correction deadline that runs into
a year not yet published is answered but marked unverified.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, func, literal, select
from sqlalchemy.orm import Session, aliased

from core.models.feedback import ErrorReport, Feedback
from core.models.registry import Institution, OutletProfile
from profiles import holiday_calendar
from reports.quality import (
    OPEN_REPORT_STATUSES,
    VERIFIED_REPORT_STATUSES,
    prepare_report,
    region_name,
)
from reports.scoping import Jurisdiction, institution_clause

SHANGHAI: Final = ZoneInfo("Asia/Shanghai")
REPORT_DAY: Final = 15
CORRECTION_WORKING_DAYS: Final = 5
REJECTED_REPORT_STATUSES: Final[tuple[str, ...]] = ("rejected",)

OfficeLevel = Literal["city", "county"]
OFFICE_LEVELS: Final[Mapping[str, int]] = {"city": 4, "county": 6}
RankBy = Literal["installs", "installs_per_outlet", "reports"]
RANK_BY: Final[tuple[RankBy, ...]] = ("installs", "installs_per_outlet", "reports")


# --- counts per unit -------------------------------------------------------------------------


@dataclass(frozen=True)
class RolloutFigures:
    """One unit (a legal entity or a PBoC office's area) and what the rollout counts of it."""

    key: str
    name: str | None
    outlets: int  # active outlets, for scale
    installs: int
    reports: int  # public error reports received on its outlets
    open_reports: int
    verified_reports: int
    rejected_reports: int

    @property
    def installs_per_outlet(self) -> float | None:
        return round(self.installs / self.outlets, 2) if self.outlets else None


@dataclass(frozen=True)
class RankedUnit:
    rank: int
    figures: RolloutFigures


@dataclass(frozen=True)
class Period:
    """[start, end) in Asia/Shanghai days; either end open."""

    start: dt.date | None = None
    end: dt.date | None = None  # exclusive

    def clauses(self, column: Any) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if self.start is not None:
            found.append(column >= local_midnight(self.start))
        if self.end is not None:
            found.append(column < local_midnight(self.end))
        return found


def local_midnight(day: dt.date) -> dt.datetime:
    """The start of `day` in Asia/Shanghai, as an aware datetime."""
    return dt.datetime.combine(day, dt.time(), tzinfo=SHANGHAI)


def _registration_region() -> tuple[Any, Any]:
    """The region a registration is filed under, and the head office it falls back to."""
    head = aliased(Institution)
    return func.coalesce(Feedback.employer_region_code, head.region_code), head


def _installs(jurisdiction: Jurisdiction, key_of: Any, period: Period) -> Select[Any]:
    region, head = _registration_region()
    key = key_of(region)
    return (
        select(key.label("key"), func.count().label("installs"))
        .select_from(Feedback)
        .outerjoin(head, head.fi_code == Feedback.employer_fi_code)
        .where(
            Feedback.kind == "install_registration",
            jurisdiction.columns_clause(region, Feedback.employer_fi_code),
            *period.clauses(Feedback.created_at),
        )
        .group_by(key)
    )


def _outlets(jurisdiction: Jurisdiction, key: Any) -> Select[Any]:
    return (
        select(key.label("key"), func.count().label("outlets"))
        .select_from(Institution)
        .join(OutletProfile, OutletProfile.institution_id == Institution.id)
        .where(Institution.status == "active", institution_clause(jurisdiction))
        .group_by(key)
    )


def _reports(jurisdiction: Jurisdiction, key: Any, period: Period) -> Select[Any]:
    status = ErrorReport.status
    return (
        select(
            key.label("key"),
            func.count().label("reports"),
            func.count().filter(status.in_(OPEN_REPORT_STATUSES)).label("open_reports"),
            func.count().filter(status.in_(VERIFIED_REPORT_STATUSES)).label("verified_reports"),
            func.count().filter(status.in_(REJECTED_REPORT_STATUSES)).label("rejected_reports"),
        )
        .select_from(ErrorReport)
        .join(Institution, Institution.fi_code == ErrorReport.fi_code)
        .where(institution_clause(jurisdiction), *period.clauses(ErrorReport.created_at))
        .group_by(key)
    )


_REPORT_COUNTS = ("reports", "open_reports", "verified_reports", "rejected_reports")


def _figures(
    session: Session, outlets: Any, installs: Any, reports: Any, *, names: bool
) -> list[RolloutFigures]:
    """The three per-unit aggregates side by side: every unit that has any of them."""
    o, f, r = outlets.subquery("o"), installs.subquery("f"), reports.subquery("r")
    key = func.coalesce(o.c.key, f.c.key, r.c.key).label("key")
    head = aliased(Institution)
    stmt = (
        select(
            key,
            func.coalesce(o.c.outlets, 0).label("outlets"),
            func.coalesce(f.c.installs, 0).label("installs"),
            *(func.coalesce(r.c[c], 0).label(c) for c in _REPORT_COUNTS),
            (head.name if names else literal(None)).label("name"),
        )
        .select_from(o)
        .join(f, f.c.key == o.c.key, full=True)
        .join(r, r.c.key == func.coalesce(o.c.key, f.c.key), full=True)
    )
    if names:
        stmt = stmt.outerjoin(head, head.fi_code == key)
    prepare_report(session)
    return [
        RolloutFigures(
            key=row.key,
            name=row.name if names else region_name(row.key),
            outlets=int(row.outlets),
            installs=int(row.installs),
            reports=int(row.reports),
            open_reports=int(row.open_reports),
            verified_reports=int(row.verified_reports),
            rejected_reports=int(row.rejected_reports),
        )
        for row in session.execute(stmt)
    ]


def ranked(figures: list[RolloutFigures], rank_by: RankBy = "installs") -> list[RankedUnit]:
    """Most first by `rank_by`; equal values share a rank (1, 2, 2, 4), then by key."""

    def value(f: RolloutFigures) -> float:
        if rank_by == "installs_per_outlet":
            return f.installs_per_outlet or 0.0
        return float(f.reports if rank_by == "reports" else f.installs)

    ordered = sorted(figures, key=lambda f: (-value(f), f.key))
    result: list[RankedUnit] = []
    for position, unit in enumerate(ordered, start=1):
        tied = result and value(result[-1].figures) == value(unit)
        result.append(RankedUnit(result[-1].rank if tied else position, unit))
    return result


def by_institution(
    session: Session,
    jurisdiction: Jurisdiction,
    *,
    period: Period = Period(),
    rank_by: RankBy = "installs",
) -> list[RankedUnit]:
    """Per legal entity: its outlets, staff installs and public reports in the jurisdiction."""
    legal_entity = Institution.legal_entity_code
    # a registration without an employer code belongs to no legal entity
    installs = _installs(jurisdiction, lambda _region: Feedback.employer_fi_code, period).where(
        Feedback.employer_fi_code.is_not(None)
    )
    figures = _figures(
        session,
        _outlets(jurisdiction, legal_entity),
        installs,
        _reports(jurisdiction, legal_entity, period),
        names=True,
    )
    return ranked(figures, rank_by)


def by_office(
    session: Session,
    jurisdiction: Jurisdiction,
    level: OfficeLevel,
    *,
    period: Period = Period(),
    rank_by: RankBy = "installs",
) -> list[RankedUnit]:
    """Per PBoC office area (city: 4-digit region prefix, county: 6 digits)."""
    digits = OFFICE_LEVELS[level]
    figures = _figures(
        session,
        _outlets(jurisdiction, func.substr(Institution.region_code, 1, digits)),
        _installs(jurisdiction, lambda region: func.substr(region, 1, digits), period),
        _reports(jurisdiction, func.substr(Institution.region_code, 1, digits), period),
        names=False,
    )
    return ranked(figures, rank_by)


# --- the reporting calendar ------------------------------------------------------------------


class YearNotCovered(LookupError):
    """A date in a year whose official holidays the calendar does not know."""

    def __init__(self, year: int) -> None:
        first, last = holiday_calendar.covered_years()
        self.year = year
        self.first = first
        self.last = last
        self.message_zh = f"{year} 年的法定节假日安排尚未收录，可查询 {first}–{last} 年"
        self.message_en = (
            f"the official holidays of {year} are not in the calendar; "
            f"covered years are {first}-{last}"
        )
        super().__init__(self.message_en)


def _require_year(year: int) -> None:
    if year not in holiday_calendar.known_years():
        raise YearNotCovered(year)


@dataclass(frozen=True)
class ReportDue:
    """The monthly problem report of one month: due on the 15th or the next working day."""

    year: int
    month: int
    due: dt.date
    moved: bool  # the 15th is not a working day
    reason: str | None  # why it moved: the holiday's name, or "weekend"


def monthly_reports(year: int, month: int | None = None) -> list[ReportDue]:
    """Due dates of `year`'s monthly reports (or of one month); `YearNotCovered` outside."""
    _require_year(year)
    months = range(1, 13) if month is None else (month,)
    result = []
    for m in months:
        fifteenth = holiday_calendar.day_info(dt.date(year, m, REPORT_DAY))
        due = holiday_calendar.monthly_report_due(year, m)
        moved = due != fifteenth.day
        reason = (fifteenth.name or fifteenth.kind) if moved else None
        result.append(ReportDue(year, m, due, moved, reason))
    return result


@dataclass(frozen=True)
class CorrectionDeadline:
    """Corrections after an error receipt received on `received` are due by `due`."""

    received: dt.date
    due: dt.date
    working_days: int
    verified: bool  # False: the count runs into a year whose holidays are not yet published
    days_off: tuple[dt.date, ...]  # the days skipped (weekends, holidays) between the two


def correction_deadline(
    received: dt.date | dt.datetime, working_days: int = CORRECTION_WORKING_DAYS
) -> CorrectionDeadline:
    """The deadline of corrections after an error receipt (错误回执), in working days.

    A datetime (e.g. a batch's `finished_at`, UTC) is taken on its Asia/Shanghai
    date. `YearNotCovered` when the receipt's own year is not in the calendar.
    """
    if isinstance(received, dt.datetime):
        received = (received.astimezone(SHANGHAI) if received.tzinfo else received).date()
    _require_year(received.year)
    due = holiday_calendar.add_working_days(received, working_days)
    skipped = []
    day = received + dt.timedelta(days=1)
    while day < due:
        if not holiday_calendar.is_working_day(day):
            skipped.append(day)
        day += dt.timedelta(days=1)
    return CorrectionDeadline(
        received=received,
        due=due,
        working_days=working_days,
        verified=holiday_calendar.verified_between(received, due),
        days_off=tuple(skipped),
    )
