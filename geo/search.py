"""The one search service over PostGIS: the finder, the bot and the professional API use it.

A query is a small validated value (`SearchQuery`); `search()` turns it into one
SQL statement and returns plain hits. Design notes:

- Nearest-N uses PostGIS's KNN operator `<->` on the GiST index of
  `outlet_profile.position` (a geography): the index hands rows out in distance
  order, so finding the 20 nearest among a million reads a few dozen index
  entries. Distances are great-circle metres on PostGIS's mean-radius sphere, the
  measure the KNN order uses, computed only for the rows returned.
- A radius, when rows are listed, is a filter on the KNN-ordered rows (they come
  nearest first, so the first `limit` within the radius are the first `limit` rows
  that pass); given ST_DWithin, the planner would rather collect every outlet in the
  circle and sort them, 50x slower in a city centre. Counting uses ST_DWithin. A map
  viewport uses the bounding-box operator `&&`.
- Revoked institutions and outlets without a position never appear: every query
  starts from `visible_outlets()`.
- "Open now" depends on weekly hours, dated exceptions and official holidays,
  which live in Python (`registry.opening`), so it is applied to rows streamed in
  distance order until `limit` open outlets are found, with a cap on rows read.
- Positions come back in WGS-84; HTTP layers convert to the caller's system.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from geoalchemy2 import Geography
from sqlalchemy import ColumnElement, Select, case, cast, func, literal, or_, select
from sqlalchemy.orm import Session

from geo.coords import validate_point
from registry.models import Institution, OutletProfile

MAX_LIMIT = 100
MAX_RADIUS_M = 50_000
OPEN_SCAN_CAP = 5_000  # rows read at most to find `limit` outlets open at a time


class SearchError(ValueError):
    """A query that cannot be run; `field` names the parameter at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Point:
    """A WGS-84 position; refuses NaN and out-of-range values."""

    lat: float
    lng: float

    def __post_init__(self) -> None:
        validate_point(self.lat, self.lng)


@dataclass(frozen=True)
class BBox:
    min_lat: float
    min_lng: float
    max_lat: float
    max_lng: float

    def __post_init__(self) -> None:
        validate_point(self.min_lat, self.min_lng)
        validate_point(self.max_lat, self.max_lng)
        if self.min_lat > self.max_lat or self.min_lng > self.max_lng:
            raise SearchError("bbox", "the minimum corner must be south-west of the maximum")


@dataclass(frozen=True)
class Filters:
    """What an outlet must be to appear; empty means no constraint."""

    legal_entities: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    business_types: tuple[str, ...] = ()  # all of them (services and facilities alike)
    region_prefix: str | None = None
    open_at: datetime | None = None  # timezone-aware
    text: str | None = None  # in the name or address, exactly, as a prefix, or resembling


@dataclass(frozen=True)
class SearchQuery:
    near: Point | None = None
    radius_m: float | None = None
    bbox: BBox | None = None
    filters: Filters = field(default_factory=Filters)
    limit: int = 20
    offset: int = 0
    max_limit: int = MAX_LIMIT + 1  # one more than a page: the caller learns if there is more

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= self.max_limit:
            raise SearchError("limit", f"limit must be between 1 and {self.max_limit - 1}")
        if self.offset < 0:
            raise SearchError("offset", "offset must not be negative")
        if self.radius_m is not None:
            if self.near is None:
                raise SearchError("radius_m", "a radius needs a point to measure from")
            if not (0 < self.radius_m <= MAX_RADIUS_M) or math.isnan(self.radius_m):
                raise SearchError("radius_m", f"radius must be in (0, {MAX_RADIUS_M}] metres")


@dataclass(frozen=True)
class OutletHit:
    institution_id: int
    fi_code: str
    name: str
    short_name: str | None
    category: str
    legal_entity_code: str
    region_code: str
    address: str | None
    phone: str | None
    lat: float
    lng: float
    distance_m: float | None
    business_types: tuple[str, ...]
    opening_hours: dict[str, Any] | None


_POINT_4326 = Geography(geometry_type="POINT", srid=4326)


def geography_point(point: Point) -> ColumnElement[Any]:
    return cast(func.ST_SetSRID(func.ST_MakePoint(point.lng, point.lat), 4326), _POINT_4326)


def visible_outlets() -> Select[Any]:
    """Active institutions with a known position: the only outlets the public may see."""
    return (
        select(
            Institution.id,
            Institution.fi_code,
            Institution.name,
            Institution.short_name,
            Institution.category,
            Institution.legal_entity_code,
            Institution.region_code,
            Institution.address,
            func.coalesce(OutletProfile.phone, Institution.phone).label("phone"),
            # geometry(geography) is a cast: ST_X/ST_Y read coordinates off a geometry
            func.ST_Y(func.geometry(OutletProfile.position)).label("lat"),
            func.ST_X(func.geometry(OutletProfile.position)).label("lng"),
            OutletProfile.business_types,
            OutletProfile.opening_hours,
        )
        .join(OutletProfile, OutletProfile.institution_id == Institution.id)
        .where(Institution.status == "active", OutletProfile.position.is_not(None))
    )


def filter_conditions(filters: Filters) -> list[ColumnElement[bool]]:
    """SQL conditions for the filters that SQL can decide (all but open-at)."""
    conditions: list[ColumnElement[bool]] = []
    if filters.legal_entities:
        conditions.append(Institution.legal_entity_code.in_(filters.legal_entities))
    if filters.categories:
        conditions.append(Institution.category.in_(filters.categories))
    if filters.business_types:
        conditions.append(OutletProfile.business_types.contains(list(filters.business_types)))
    if filters.region_prefix:
        conditions.append(Institution.region_code.startswith(filters.region_prefix))
    if filters.text:
        pattern = f"%{_escape_like(filters.text)}%"
        conditions.append(
            or_(
                Institution.name.ilike(pattern, escape="\\"),
                Institution.address.ilike(pattern, escape="\\"),
                Institution.short_name.ilike(pattern, escape="\\"),
                # pg_trgm: names that resemble the text (typos, other word order)
                Institution.name.op("%")(filters.text),
            )
        )
    return conditions


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _relevance(text: str) -> list[ColumnElement[Any]]:
    """Exact name first, then names starting with the text, containing it, resembling it."""
    escaped = _escape_like(text)
    return [
        case(
            (Institution.name == text, 0),
            (Institution.short_name == text, 0),
            (Institution.name.ilike(f"{escaped}%", escape="\\"), 1),
            (Institution.name.ilike(f"%{escaped}%", escape="\\"), 2),
            (Institution.address.ilike(f"%{escaped}%", escape="\\"), 3),
            else_=4,
        ),
        func.similarity(Institution.name, text).desc(),
    ]


def bbox_conditions(box: BBox) -> list[ColumnElement[bool]]:
    """Inside the latitude/longitude rectangle a map shows.

    A geography envelope has great-circle edges, which bulge poleward of the
    rectangle's parallels, so `&&` on it is not the rectangle. It only prefilters
    through the GiST index, on an envelope widened beyond any bulge; the exact
    rectangle is tested on the candidates' coordinates.
    """
    margin = 0.1 * max(box.max_lat - box.min_lat, box.max_lng - box.min_lng) + 0.01
    wide = cast(
        func.ST_MakeEnvelope(
            max(box.min_lng - margin, -180.0),
            max(box.min_lat - margin, -90.0),
            min(box.max_lng + margin, 180.0),
            min(box.max_lat + margin, 90.0),
            4326,
        ),
        Geography(geometry_type="POLYGON", srid=4326),
    )
    point = func.geometry(OutletProfile.position)
    return [
        OutletProfile.position.op("&&")(wide),
        func.ST_Y(point).between(box.min_lat, box.max_lat),
        func.ST_X(point).between(box.min_lng, box.max_lng),
    ]


def build_select(query: SearchQuery, *, for_count: bool = False) -> Select[Any]:
    """The statement for `query`, in stable order, unpaged.

    The radius is applied here only `for_count`; listing applies it to each page (`page`).
    """
    stmt = visible_outlets().where(*filter_conditions(query.filters))
    if query.bbox is not None:
        stmt = stmt.where(*bbox_conditions(query.bbox))
    if query.near is not None:
        here = geography_point(query.near)
        # On the sphere, like the KNN order: reported distances then agree with the order
        # (the spheroid would differ by up to 0.5%, enough to swap near-equal neighbours).
        stmt = stmt.add_columns(
            func.ST_Distance(OutletProfile.position, here, False).label("distance_m")
        )
        if query.radius_m is not None and for_count:
            stmt = stmt.where(func.ST_DWithin(OutletProfile.position, here, query.radius_m))
        # KNN: the GiST index yields rows in this order without sorting them all. Nothing
        # may follow it in ORDER BY: even an `id` tie-break makes PostgreSQL sort every row
        # (a million-row scan instead of reading twenty index entries). The index scan's
        # order is itself deterministic, so pages stay stable.
        stmt = stmt.order_by(OutletProfile.position.op("<->")(here))
    else:
        stmt = stmt.add_columns(literal(None).label("distance_m"))
        if query.filters.text:
            stmt = stmt.order_by(*_relevance(query.filters.text))
        stmt = stmt.order_by(Institution.fi_code, Institution.id)
    return stmt


def _hit(row: Any) -> OutletHit:
    return OutletHit(
        institution_id=row.id,
        fi_code=row.fi_code,
        name=row.name,
        short_name=row.short_name,
        category=row.category,
        legal_entity_code=row.legal_entity_code,
        region_code=row.region_code,
        address=row.address,
        phone=row.phone,
        lat=row.lat,
        lng=row.lng,
        distance_m=None if getattr(row, "distance_m", None) is None else float(row.distance_m),
        business_types=tuple(row.business_types or ()),
        opening_hours=row.opening_hours,
    )


OpenTest = Callable[[dict[str, Any] | None, datetime], bool]


def page(stmt: Select[Any], query: SearchQuery, limit: int, offset: int) -> Select[Any]:
    """One page of `stmt`, cut at the query's radius (rows come nearest first)."""
    paged = stmt.limit(limit).offset(offset)
    if query.radius_m is None:
        return paged
    rows = paged.subquery()
    return select(rows).where(rows.c.distance_m <= query.radius_m).order_by(rows.c.distance_m)


def search(
    session: Session, query: SearchQuery, *, is_open: OpenTest | None = None
) -> list[OutletHit]:
    """Outlets matching `query`, nearest first when it has a point.

    With `filters.open_at`, `is_open(opening_hours, moment)` decides each row (the
    default is `registry.opening.is_open_at`); rows are read in order in batches until
    enough are open, at most OPEN_SCAN_CAP rows.
    """
    stmt = build_select(query)
    moment = query.filters.open_at
    if moment is None:
        rows = session.execute(page(stmt, query, query.limit, query.offset)).all()
        return [_hit(r) for r in rows]
    if is_open is None:
        from registry.opening import is_open_at

        is_open = is_open_at
    wanted = query.offset + query.limit
    found: list[OutletHit] = []
    batch = max(4 * wanted, 200)
    read = 0
    while len(found) < wanted and read < OPEN_SCAN_CAP:
        rows = session.execute(page(stmt, query, batch, read)).all()
        read += batch
        found += [_hit(r) for r in rows if is_open(r.opening_hours, moment)]
        if len(rows) < batch:  # the end, or the edge of the radius
            break
    return found[query.offset : wanted]


def count(session: Session, query: SearchQuery) -> int:
    """How many outlets match, ignoring paging (and open-at, which SQL cannot decide)."""
    inner = build_select(query, for_count=True).order_by(None).with_only_columns(Institution.id)
    return int(session.execute(select(func.count()).select_from(inner.subquery())).scalar_one())


def by_fi_codes(session: Session, codes: Sequence[str]) -> list[OutletHit]:
    rows = session.execute(visible_outlets().where(Institution.fi_code.in_(codes))).all()
    return [_hit(r) for r in rows]
