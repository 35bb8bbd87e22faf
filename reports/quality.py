"""Data quality of the outlets in a jurisdiction (数据质量): coverage, stale and inaccurate data.

What a PBoC office checks in its area (DOMAIN.md, step 5) and what an
institution checks of its own outlets, as SQL aggregates over the registry:

- coverage (`coverage`): of the active outlets, how many have a map position,
  business types, a published front photo, opening hours, a phone the public
  sees, and data the institution has confirmed (核对确认), by region (province,
  city or county code) or by legal entity;
- not updated (`not_updated`): active outlets with no update since a date;
- inaccurate (`inaccurate`): active outlets with open or verified public error
  reports, with the counts;
- repeated verified errors (`repeated_errors`): legal entities with at least
  `threshold` verified reports, the candidates for a public notice;
- a ranked table of legal entities (`ranking`) by a completeness score.

Definitions (the figures are only as good as these, so they live here once):

- *Outlet*: an institution with an outlet profile (`outlet_profile`), i.e. a
  place the public can visit; *active*: registry status `active`.
- *Phone*: the profile's phone, else the registry record's, as the public
  finder shows it (`geo.outlets.detail`); blank text does not count.
- *Hours*: an opening-hours object in the profile.
- *Front photo*: a published `outlet_photo` marked `is_front`.
- *Confirmed*: the profile has data and every field group in its provenance
  carries `confirmed: true`. `uploads.staff.confirm` marks every group; any
  later change to a group (upload, import, pro-app update, revert) writes
  `confirmed: false` for that group, so this says "what the public sees now is
  what the institution confirmed", whichever channel changed it since.
- *Updated*: the latest of a published change event on the outlet's profile
  from an institution's channel (`PROFILE_UPDATE_CHANNELS`: staff uploads,
  profile imports, pro-app updates), a pro-app update of its registry record
  (`RECORD_UPDATE_CHANNELS`), and the institution's confirmation
  (`upload_task.confirmed_at`). The PBoC registry sync of the record itself,
  accepted public corrections and system events do not count: they say
  nothing about whether the institution keeps its outlet's details up to date.
- *Verified* error report: one PBoC accepted (`VERIFIED_REPORT_STATUSES`);
  *open*: not yet decided (`OPEN_REPORT_STATUSES`). Rejected ones never count.
  These are the statuses of `core.models.feedback.REPORT_STATUSES`.

Completeness score (the ranking), 0-100: the weighted mean of the six shares,
``100 × Σ weight × share / Σ weight`` with the weights of `SCORE_WEIGHTS`
(position 25, business types 20, front photo 20, hours 10, phone 10,
confirmed 15): position, business types and the front photo are what the
rollout asks every outlet's staff to upload (DOMAIN.md, step 3), the position
first because a wrong pin sends people to the wrong street. Rounded to one
decimal; equal rounded scores share a rank (1, 2, 2, 4).

Every function takes the jurisdiction (`reports.scoping.Jurisdiction`, in
practice `accounts.jurisdiction.Scope`) and applies it to every table it
reads; each report is one SQL statement (GROUP BY with FILTER clauses, no
per-outlet Python), so a province of a million outlets is one scan.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal

from sqlalchemy import ColumnElement, Select, and_, case, cast, func, literal, or_, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased

from core.models.feedback import REPORT_STATUSES, ErrorReport
from core.models.photos import OutletPhoto
from core.models.registry import FIELD_GROUPS, ChangeEvent, Institution, OutletProfile
from core.models.staff import UploadTask
from registry import regions
from reports.scoping import Jurisdiction, institution_clause

Measure = Literal["position", "business_types", "front_photo", "hours", "phone", "confirmed"]
MEASURES: Final[tuple[Measure, ...]] = (
    "position",
    "business_types",
    "front_photo",
    "hours",
    "phone",
    "confirmed",
)
MEASURE_LABELS: Final[Mapping[Measure, tuple[str, str]]] = {
    "position": ("地图位置", "map position"),
    "business_types": ("受理业务类型", "business types"),
    "front_photo": ("门面照片", "front photo"),
    "hours": ("营业时间", "opening hours"),
    "phone": ("联系电话", "phone"),
    "confirmed": ("已核对确认", "confirmed"),
}
SCORE_WEIGHTS: Final[Mapping[Measure, int]] = {
    "position": 25,
    "business_types": 20,
    "front_photo": 20,
    "hours": 10,
    "phone": 10,
    "confirmed": 15,
}

Grouping = Literal["province", "city", "county", "legal_entity"]
GROUPINGS: Final[tuple[Grouping, ...]] = ("province", "city", "county", "legal_entity")
_REGION_DIGITS: Final[Mapping[str, int]] = {"province": 2, "city": 4, "county": 6}

OPEN_REPORT_STATUSES: Final[tuple[str, ...]] = ("open",)
VERIFIED_REPORT_STATUSES: Final[tuple[str, ...]] = ("accepted",)
assert set(OPEN_REPORT_STATUSES + VERIFIED_REPORT_STATUSES) <= set(REPORT_STATUSES)

PROFILE_UPDATE_CHANNELS: Final[tuple[str, ...]] = ("staff_upload", "pro_update", "registry_sync")
RECORD_UPDATE_CHANNELS: Final[tuple[str, ...]] = ("pro_update",)

ReportFilter = Literal["open", "verified", "any"]


REPORT_WORK_MEM: Final = "64MB"


def prepare_report(session: Session) -> None:
    """Settings for one heavy report, local to the session's transaction.

    Measured over a million outlets (bench/quality_reports.py): JIT compiling
    cost about 3 s, more than it saved, and with the default 4 MB of
    `work_mem` the hash tables of the joins and groups spilled to disk, which
    doubled the time. Both are set with `is_local`, so they end with the
    transaction; in an autocommit session they have no effect.
    """
    session.execute(
        select(
            func.set_config("jit", "off", True),
            func.set_config("work_mem", REPORT_WORK_MEM, True),
        )
    )


# --- coverage --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Coverage:
    """The outlets of one group (a region or a legal entity) and how many have each measure."""

    key: str
    name: str | None
    outlets: int
    counts: Mapping[Measure, int]

    def share(self, measure: Measure) -> float | None:
        """Fraction of the outlets with `measure`, 4 decimals; None without outlets."""
        return round(self.counts[measure] / self.outlets, 4) if self.outlets else None

    @property
    def shares(self) -> dict[Measure, float | None]:
        return {m: self.share(m) for m in MEASURES}

    @property
    def score(self) -> float | None:
        """The completeness score (module docstring), computed from the exact counts."""
        if not self.outlets:
            return None
        weighted = sum(SCORE_WEIGHTS[m] * self.counts[m] for m in MEASURES)
        return round(100 * weighted / (sum(SCORE_WEIGHTS.values()) * self.outlets), 1)


def _front_photos() -> Any:
    """Outlets with a published front photo, once each, for a hash join.

    Measured at a million outlets: limiting this to the jurisdiction (a join
    to `institution`) made a county's report 0.8 s faster but the province's
    3 s slower; the province's is the one near the statement timeout.
    """
    return (
        select(OutletPhoto.institution_id)
        .where(OutletPhoto.is_front, OutletPhoto.status == "published")
        .distinct()
        .subquery("front")
    )


def _confirmed() -> ColumnElement[bool]:
    """Every field group in the provenance is confirmed (and there is at least one)."""
    provenance = OutletProfile.provenance
    groups = [
        or_(~provenance.has_key(g), provenance[g]["confirmed"].astext == "true")
        for g in FIELD_GROUPS
    ]
    return and_(provenance != cast(literal("{}"), JSONB), *groups)


def _measures(front: Any) -> dict[Measure, ColumnElement[bool]]:
    profile = OutletProfile
    phone = func.coalesce(
        func.nullif(func.btrim(profile.phone), ""), func.nullif(func.btrim(Institution.phone), "")
    )
    return {
        "position": profile.position.is_not(None),
        "business_types": func.cardinality(profile.business_types) > 0,
        "front_photo": front.c.institution_id.is_not(None),
        "hours": func.jsonb_typeof(profile.opening_hours) == "object",
        "phone": phone.is_not(None),
        "confirmed": _confirmed(),
    }


_Key = ColumnElement[str] | InstrumentedAttribute[str]


def _group_key(by: Grouping) -> _Key:
    if by == "legal_entity":
        return Institution.legal_entity_code
    if by not in _REGION_DIGITS:
        raise ValueError(f"by must be one of {', '.join(GROUPINGS)}, got {by!r}")
    return func.substr(Institution.region_code, 1, _REGION_DIGITS[by])


def _coverage_select(jurisdiction: Jurisdiction, key: _Key) -> Select[Any]:
    """Active outlets in the jurisdiction per `key`, with one FILTER count per measure."""
    front = _front_photos()
    columns: list[Any] = [key.label("key"), func.count().label("outlets")]
    columns += [
        func.count().filter(condition).label(m) for m, condition in _measures(front).items()
    ]
    return (
        select(*columns)
        .select_from(Institution)
        .join(OutletProfile, OutletProfile.institution_id == Institution.id)
        .outerjoin(front, front.c.institution_id == Institution.id)
        .where(Institution.status == "active", institution_clause(jurisdiction))
        .group_by(key)
    )


def region_name(key: str) -> str | None:
    """江苏省南京市 for "3201"; None for a code the region table does not know."""
    try:
        return regions.full_name(key.ljust(6, "0"))
    except KeyError:
        return None


def _counts(row: Any) -> dict[Measure, int]:
    return {m: int(row._mapping[m]) for m in MEASURES}


def coverage(session: Session, jurisdiction: Jurisdiction, by: Grouping) -> list[Coverage]:
    """Coverage per region (`by` province / city / county) or per legal entity, by key."""
    prepare_report(session)
    covered = _coverage_select(jurisdiction, _group_key(by)).subquery("covered")
    if by == "legal_entity":
        head = aliased(Institution)
        stmt = select(covered, head.name.label("name")).outerjoin(
            head, head.fi_code == covered.c.key
        )
    else:
        stmt = select(covered, literal(None).label("name"))
    rows = session.execute(stmt.order_by(covered.c.key)).all()
    return [
        Coverage(
            key=row.key,
            name=row.name if by == "legal_entity" else region_name(row.key),
            outlets=int(row.outlets),
            counts=_counts(row),
        )
        for row in rows
    ]


def total(rows: Sequence[Coverage], key: str, name: str | None) -> Coverage:
    """All groups together (every outlet is in exactly one group, so counts add up)."""
    return Coverage(
        key=key,
        name=name,
        outlets=sum(r.outlets for r in rows),
        counts={m: sum(r.counts[m] for r in rows) for m in MEASURES},
    )


# --- the ranked table of legal entities ------------------------------------------------------


@dataclass(frozen=True)
class RankedInstitution:
    """One legal entity's place in the ranking: its coverage, score and public error reports."""

    rank: int
    coverage: Coverage
    score: float
    open_reports: int
    verified_reports: int


def _reports_by_legal_entity(jurisdiction: Jurisdiction) -> Any:
    """Open and verified error reports on the institutions in the jurisdiction, per entity."""
    return (
        select(
            Institution.legal_entity_code.label("key"),
            func.count().filter(ErrorReport.status.in_(OPEN_REPORT_STATUSES)).label("open"),
            func.count().filter(ErrorReport.status.in_(VERIFIED_REPORT_STATUSES)).label("verified"),
        )
        .select_from(ErrorReport)
        .join(Institution, Institution.fi_code == ErrorReport.fi_code)
        .where(
            ErrorReport.status.in_(OPEN_REPORT_STATUSES + VERIFIED_REPORT_STATUSES),
            institution_clause(jurisdiction),
        )
        .group_by(Institution.legal_entity_code)
        .subquery("reports")
    )


def ranking(
    session: Session, jurisdiction: Jurisdiction, *, min_outlets: int = 1
) -> list[RankedInstitution]:
    """Legal entities with at least `min_outlets` active outlets here, best score first.

    Ties on the rounded score share a rank and are listed by more outlets, then
    by code, so the order is stable from one page to the next.
    """
    prepare_report(session)
    covered = _coverage_select(jurisdiction, Institution.legal_entity_code).subquery("covered")
    reports = _reports_by_legal_entity(jurisdiction)
    head = aliased(Institution)
    stmt = (
        select(
            covered,
            head.name.label("name"),
            func.coalesce(reports.c.open, 0).label("open_reports"),
            func.coalesce(reports.c.verified, 0).label("verified_reports"),
        )
        .outerjoin(head, head.fi_code == covered.c.key)
        .outerjoin(reports, reports.c.key == covered.c.key)
        .where(covered.c.outlets >= max(1, min_outlets))
    )
    scored = []
    for row in session.execute(stmt).all():
        cov = Coverage(row.key, row.name, int(row.outlets), _counts(row))
        scored.append((cov, cov.score or 0.0, int(row.open_reports), int(row.verified_reports)))
    scored.sort(key=lambda s: (-s[1], -s[0].outlets, s[0].key))
    ranked: list[RankedInstitution] = []
    for position, (cov, score, open_reports, verified) in enumerate(scored, start=1):
        tied = ranked and ranked[-1].score == score
        rank = ranked[-1].rank if tied else position
        ranked.append(RankedInstitution(rank, cov, score, open_reports, verified))
    return ranked


# --- lists of outlets ------------------------------------------------------------------------


@dataclass(frozen=True)
class NotUpdatedOutlet:
    id: int
    fi_code: str
    name: str
    region_code: str
    legal_entity_code: str
    last_updated_at: datetime | None  # None: never updated by the institution


def _updates() -> list[ColumnElement[bool]]:
    """Change events that count as the institution updating the outlet (module docstring),
    for a row of `institution` in the enclosing query."""
    return [
        ChangeEvent.fi_code == Institution.fi_code,
        ChangeEvent.published.is_(True),
        or_(
            and_(
                ChangeEvent.entity == "outlet_profile",
                ChangeEvent.channel.in_(PROFILE_UPDATE_CHANNELS),
            ),
            and_(
                ChangeEvent.entity == "institution",
                ChangeEvent.channel.in_(RECORD_UPDATE_CHANNELS),
            ),
        ),
    ]


def _name_contains(text: str | None) -> ColumnElement[bool] | None:
    """Outlet names containing `text` literally (%, _ and \\ are just characters)."""
    return Institution.name.contains(text, autoescape=True) if text else None


def not_updated(
    session: Session,
    jurisdiction: Jurisdiction,
    since: datetime,
    *,
    name_contains: str | None = None,
    after: int | None = None,
    limit: int,
) -> list[NotUpdatedOutlet]:
    """Active outlets not updated at or after `since`, by institution id (keyset: `after`).

    "Updated since" is an anti-join probing the (fi_code, at) index of
    `change_event` in id order, so a page stops as soon as it is full; the
    date of the last update is then looked up for the rows of the page only.
    """
    last_change = (
        select(func.max(ChangeEvent.at)).where(*_updates()).correlate(Institution).scalar_subquery()
    )
    updated_since = (
        select(ChangeEvent.id)
        .where(*_updates(), ChangeEvent.at >= since)
        .correlate(Institution)
        .exists()
    )
    stmt = (
        select(
            Institution.id,
            Institution.fi_code,
            Institution.name,
            Institution.region_code,
            Institution.legal_entity_code,
            func.greatest(last_change, UploadTask.confirmed_at).label("last_updated_at"),
        )
        .join(OutletProfile, OutletProfile.institution_id == Institution.id)
        .outerjoin(UploadTask, UploadTask.institution_id == Institution.id)
        .where(
            Institution.status == "active",
            institution_clause(jurisdiction),
            ~updated_since,
            or_(UploadTask.confirmed_at.is_(None), UploadTask.confirmed_at < since),
        )
        .order_by(Institution.id)
        .limit(limit)
    )
    contains = _name_contains(name_contains)
    if contains is not None:
        stmt = stmt.where(contains)
    if after is not None:
        stmt = stmt.where(Institution.id > after)
    prepare_report(session)
    return [NotUpdatedOutlet(**row._mapping) for row in session.execute(stmt)]


@dataclass(frozen=True)
class InaccurateOutlet:
    id: int
    fi_code: str
    name: str
    region_code: str
    legal_entity_code: str
    open_reports: int
    verified_reports: int
    kinds: tuple[str, ...]  # what the reports say is wrong (core.models.feedback.REPORT_KINDS)
    last_reported_at: datetime


def _report_statuses(which: ReportFilter) -> tuple[str, ...]:
    return {
        "open": OPEN_REPORT_STATUSES,
        "verified": VERIFIED_REPORT_STATUSES,
        "any": OPEN_REPORT_STATUSES + VERIFIED_REPORT_STATUSES,
    }[which]


def inaccurate(
    session: Session,
    jurisdiction: Jurisdiction,
    *,
    reports: ReportFilter = "any",
    since: datetime | None = None,
    name_contains: str | None = None,
    after: int | None = None,
    limit: int,
) -> list[InaccurateOutlet]:
    """Active outlets with open and/or verified error reports (made at or after `since`),
    by institution id (keyset: `after`)."""
    report_filter: list[ColumnElement[bool]] = [ErrorReport.status.in_(_report_statuses(reports))]
    if since is not None:
        report_filter.append(ErrorReport.created_at >= since)
    counted = (
        select(
            ErrorReport.fi_code,
            func.count().filter(ErrorReport.status.in_(OPEN_REPORT_STATUSES)).label("open_reports"),
            func.count()
            .filter(ErrorReport.status.in_(VERIFIED_REPORT_STATUSES))
            .label("verified_reports"),
            func.array_agg(ErrorReport.kind.distinct()).label("kinds"),
            func.max(ErrorReport.created_at).label("last_reported_at"),
        )
        .where(*report_filter)
        .group_by(ErrorReport.fi_code)
        .subquery("counted")
    )
    stmt = (
        select(
            Institution.id,
            Institution.fi_code,
            Institution.name,
            Institution.region_code,
            Institution.legal_entity_code,
            counted.c.open_reports,
            counted.c.verified_reports,
            counted.c.kinds,
            counted.c.last_reported_at,
        )
        .join(counted, counted.c.fi_code == Institution.fi_code)
        .where(Institution.status == "active", institution_clause(jurisdiction))
        .order_by(Institution.id)
        .limit(limit)
    )
    contains = _name_contains(name_contains)
    if contains is not None:
        stmt = stmt.where(contains)
    if after is not None:
        stmt = stmt.where(Institution.id > after)
    prepare_report(session)
    return [
        InaccurateOutlet(
            **{**row._mapping, "kinds": tuple(sorted(row.kinds or ()))},
        )
        for row in session.execute(stmt)
    ]


@dataclass(frozen=True)
class RepeatedErrors:
    legal_entity_code: str
    name: str | None
    verified_reports: int
    outlets: int  # distinct institutions the verified reports were about
    last_reported_at: datetime


def repeated_errors(
    session: Session,
    jurisdiction: Jurisdiction,
    *,
    threshold: int = 2,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[RepeatedErrors]:
    """Legal entities with at least `threshold` verified reports on their institutions in the
    jurisdiction (reported in [since, until) when given), most first.

    Revoked institutions count too: an error verified before an outlet closed
    was still an error of the institution's data.
    """
    conditions: list[ColumnElement[bool]] = [
        ErrorReport.status.in_(VERIFIED_REPORT_STATUSES),
        institution_clause(jurisdiction),
    ]
    if since is not None:
        conditions.append(ErrorReport.created_at >= since)
    if until is not None:
        conditions.append(ErrorReport.created_at < until)
    verified = func.count().label("verified_reports")
    counted = (
        select(
            Institution.legal_entity_code.label("legal_entity_code"),
            verified,
            func.count(Institution.id.distinct()).label("outlets"),
            func.max(ErrorReport.created_at).label("last_reported_at"),
        )
        .select_from(ErrorReport)
        .join(Institution, Institution.fi_code == ErrorReport.fi_code)
        .where(*conditions)
        .group_by(Institution.legal_entity_code)
        .having(func.count() >= max(1, threshold))
        .subquery("counted")
    )
    head = aliased(Institution)
    stmt = (
        select(counted, head.name.label("name"))
        .outerjoin(head, head.fi_code == counted.c.legal_entity_code)
        .order_by(counted.c.verified_reports.desc(), counted.c.legal_entity_code)
    )
    prepare_report(session)
    return [RepeatedErrors(**row._mapping) for row in session.execute(stmt)]


# --- a map of the outlets by completeness ----------------------------------------------------

MAP_LIMIT: Final = 2000  # single outlets answered at most; more are grouped into cells
MAP_FINE_CELL_DEG: Final = 0.005  # the cell when a close view still holds too many outlets


@dataclass(frozen=True)
class MapPoint:
    """One outlet (`outlets` 1, with its code and name) or a grid cell of several at their
    mean position, with the mean completeness score of its outlets (WGS-84)."""

    lat: float
    lng: float
    outlets: int
    score: float
    fi_code: str | None = None
    name: str | None = None


def outlet_score(front: Any) -> ColumnElement[Any]:
    """One outlet's completeness score: the ranking's formula over a single outlet (each
    share is 0 or 1), so the mean over an area's outlets is the area's score."""
    measures = _measures(front)
    weighted = sum((case((measures[m], SCORE_WEIGHTS[m]), else_=0) for m in MEASURES), literal(0))
    return 100.0 * weighted / sum(SCORE_WEIGHTS.values())


def completeness_map(
    session: Session,
    jurisdiction: Jurisdiction,
    box: tuple[float, float, float, float],
    *,
    cell_deg: float | None,
    limit: int = MAP_LIMIT,
) -> tuple[list[MapPoint], float | None]:
    """The active outlets with a position inside `box` (min_lat, min_lng, max_lat, max_lng,
    WGS-84) in the jurisdiction, each with its score; grouped into cells of `cell_deg`
    degrees when given (or when more than `limit` outlets are in the box). Returns the
    points and the cell size used (None: single outlets). Outlets without a position
    cannot be placed: the coverage report counts them."""
    prepare_report(session)
    min_lat, min_lng, max_lat, max_lng = box
    front = _front_photos()
    point = func.geometry(OutletProfile.position)
    envelope = func.ST_MakeEnvelope(min_lng, min_lat, max_lng, max_lat, 4326)
    lat, lng = func.ST_Y(point).label("lat"), func.ST_X(point).label("lng")
    located = (
        select(
            Institution.id,
            Institution.fi_code,
            Institution.name,
            lat,
            lng,
            outlet_score(front).label("score"),
        )
        .select_from(Institution)
        .join(OutletProfile, OutletProfile.institution_id == Institution.id)
        .outerjoin(front, front.c.institution_id == Institution.id)
        .where(
            Institution.status == "active",
            institution_clause(jurisdiction),
            OutletProfile.position.is_not(None),
            # the geography test lets the GiST index find a box's outlets; it is a little
            # wider (geodesic edges), so the planar one keeps exactly the box
            OutletProfile.position.op("&&")(func.geography(envelope)),
            point.op("&&")(envelope),
        )
    )
    if cell_deg is None:
        rows = session.execute(located.order_by(Institution.id).limit(limit + 1)).all()
        if len(rows) <= limit:
            return [
                MapPoint(r.lat, r.lng, 1, round(float(r.score), 1), r.fi_code, r.name) for r in rows
            ], None
        cell_deg = MAP_FINE_CELL_DEG
    outlets = located.subquery("located")
    cell_lat = func.floor(outlets.c.lat / cell_deg)
    cell_lng = func.floor(outlets.c.lng / cell_deg)
    cells = session.execute(
        select(
            func.avg(outlets.c.lat).label("lat"),
            func.avg(outlets.c.lng).label("lng"),
            func.count().label("outlets"),
            func.avg(outlets.c.score).label("score"),
            func.min(outlets.c.fi_code).label("fi_code"),
            func.min(outlets.c.name).label("name"),
        )
        .group_by(cell_lat, cell_lng)
        .order_by(cell_lat, cell_lng)
    ).all()
    return [
        MapPoint(
            float(c.lat),
            float(c.lng),
            int(c.outlets),
            round(float(c.score), 1),
            c.fi_code if c.outlets == 1 else None,
            c.name if c.outlets == 1 else None,
        )
        for c in cells
    ], cell_deg


def cell_for_zoom(zoom: int) -> float | None:
    """The grid a web map at `zoom` groups outlets by: about a fifth of the screen's
    width at 1366 px; single outlets from zoom 13 (a few streets) on."""
    return None if zoom >= 13 else round(80 / 2**zoom, 6)
