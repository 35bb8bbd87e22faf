"""The one search service over PostGIS: the finder, the bot and the professional API use it.

A query is a small validated value (`SearchQuery`); `search()` turns it into one
SQL statement and returns plain hits. Design notes:

- Nearest-N uses PostGIS's KNN operator `<->` on the GiST index of
  `outlet_profile.position` (a geography): the index hands rows out in distance
  order, so finding the 20 nearest among a million reads a few dozen index
  entries. Distances are great-circle metres on PostGIS's mean-radius sphere, the
  measure the KNN order uses, computed only for the rows returned.
- A radius, when rows are listed, is a cut of the KNN-ordered rows, made as they
  are read (they come nearest first, so the first `limit` within the radius are the
  first `limit` rows that pass). Given ST_DWithin, the planner would rather collect
  every outlet in the circle and sort them, 50x slower in a city centre. Counting
  uses ST_DWithin. A map viewport uses the bounding-box operator `&&`.
- Revoked institutions and outlets without a position never appear: every query
  starts from `visible_outlets()`.
- Kinds (`Filters.kinds`: branches, self-service banks, ATMs; core.models.registry) are a
  filter like any other, on `outlet_profile.kind` (a copy of the institution's, kept by
  triggers), so the finder, the map and the bot find ATMs through this one service. With
  two to three ATMs around each branch, nearest branches through the index of every
  outlet would read three to four times the entries; a partial GiST index of branches
  (migration 0020) hands them out alone. The planner proves `kind = ANY('{branch}')`
  implies the index's `kind = 'branch'` because the values reach it as literals (psycopg2
  interpolates them; nothing is a server-side prepared parameter).
- Words (`Filters.words`, the chat bot's landmarks: 新街口, 头桥) must each occur in
  the name, address or short name. Chinese place words are two to four characters,
  too short for pg_trgm (no trigram lies inside two characters, so `ILIKE '%头桥%'`
  read every row), so they are found through GIN indexes of character bigrams
  (migration 0013) and ranked on the institution table alone; see `_words_ranked`.
- "Open now" depends on weekly hours, dated exceptions and official holidays,
  which live in Python (`profiles.opening`), so it is applied to rows streamed in
  distance order until `limit` open outlets are found, with a cap on rows read.
- Rows carry a hash of their opening hours (`hours_key`); each distinct schedule's
  text is fetched once per process (`_hits`), since a page repeats a few of them.
- Positions come back in WGS-84; HTTP layers convert to the caller's system.
- Each shape of query (which filters are present) is built and compiled once
  (`_DriverStatement`) and run as driver SQL with bound values; the public finder's
  hot path takes its rows straight from the DBAPI cursor (`_rows`). Its Python cost
  was measured against baseline (b) of bench/geo_search.py, raw psycopg2.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple

from geoalchemy2 import Geography
from sqlalchemy import (
    ARRAY,
    BigInteger,
    BindParameter,
    ColumnElement,
    Connection,
    Dialect,
    Float,
    Integer,
    Select,
    SQLColumnExpression,
    String,
    Text,
    any_,
    bindparam,
    case,
    cast,
    func,
    literal,
    literal_column,
    or_,
    select,
)
from sqlalchemy.orm import Session

from core.coords import validate_point
from core.database import driver_rows
from core.models.registry import Institution, OutletProfile
from registry import regions

MAX_LIMIT = 100
MAX_RADIUS_M = 50_000
OPEN_SCAN_CAP = 5_000  # rows read at most to find `limit` outlets open at a time
NEAREST_SCAN = 1_000  # nearest outlets of a region's box read first for a business (see search)


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
    kinds: tuple[str, ...] = ()  # core.models.registry.OUTLET_KINDS, any of them
    business_types: tuple[str, ...] = ()  # all of them (services and facilities alike)
    region_prefix: str | None = None
    open_at: datetime | None = None  # timezone-aware
    text: str | None = None  # in the name or address, exactly, as a prefix, or resembling
    # each in the name, address or short name (any case); names first, then shorter names
    words: tuple[str, ...] = ()


# Orders other than nearest first or relevance: by name (then fi_code), or the latest
# changed first (the institution's or its profile's change, whichever is later). Both sort
# the matches, so they need a bounded search: a radius, a box, a text or a region.
ORDERS = ("name", "recent")


@dataclass(frozen=True)
class SearchQuery:
    near: Point | None = None
    radius_m: float | None = None
    bbox: BBox | None = None
    filters: Filters = field(default_factory=Filters)
    limit: int = 20
    offset: int = 0
    max_limit: int = MAX_LIMIT + 1  # one more than a page: the caller learns if there is more
    # None: nearest first with a point, else by relevance; or one of ORDERS
    order: str | None = None

    def __post_init__(self) -> None:
        if self.order is not None and self.order not in ORDERS:
            raise SearchError("sort", f"order must be one of {', '.join(ORDERS)}")
        if (
            self.order is not None
            and self.near is None
            and self.bbox is None
            and not (self.filters.text or self.filters.region_prefix)
        ):
            raise SearchError("sort", "an order other than nearest needs a bounded search")
        if not 1 <= self.limit <= self.max_limit:
            raise SearchError("limit", f"limit must be between 1 and {self.max_limit - 1}")
        if self.offset < 0:
            raise SearchError("offset", "offset must not be negative")
        if self.radius_m is not None:
            if self.near is None:
                raise SearchError("radius_m", "a radius needs a point to measure from")
            if not (0 < self.radius_m <= MAX_RADIUS_M) or math.isnan(self.radius_m):
                raise SearchError("radius_m", f"radius must be in (0, {MAX_RADIUS_M}] metres")


class OutletHit(NamedTuple):
    """One outlet found. A named tuple rather than a frozen dataclass: as immutable, and
    built at a fifth of the cost, which counted at twenty or a hundred hits a request."""

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
    opening_hours_json: str | None  # as stored; profiles.opening.parse_stored reads it
    kind: str  # core.models.registry.OUTLET_KINDS
    parent_code: str | None  # a self-service point's branch


_POINT_4326 = Geography(geometry_type="POINT", srid=4326)


def geography_point(
    lng: ColumnElement[Any] | float, lat: ColumnElement[Any] | float
) -> ColumnElement[Any]:
    return cast(func.ST_SetSRID(func.ST_MakePoint(lng, lat), 4326), _POINT_4326)


def _param(name: str) -> BindParameter[Any]:
    if name.startswith("word_"):
        return bindparam(name, type_=Text())
    return bindparam(name, type_=_PARAM_TYPES[name])


_PARAM_TYPES: dict[str, Any] = {
    "lat": Float(),
    "lng": Float(),
    "radius_m": Float(),
    "legal_entities": ARRAY(String()),
    "categories": ARRAY(String()),
    "kinds": ARRAY(String()),
    "business_types": ARRAY(Text()),
    "region_prefix": String(),
    "region_min_lat": Float(),
    "region_min_lng": Float(),
    "region_max_lat": Float(),
    "region_max_lng": Float(),
    "text": Text(),
    "text_contains": Text(),
    "text_prefix": Text(),
    "box_min_lat": Float(),
    "box_min_lng": Float(),
    "box_max_lat": Float(),
    "box_max_lng": Float(),
    "wide_min_lat": Float(),
    "wide_min_lng": Float(),
    "wide_max_lat": Float(),
    "wide_max_lng": Float(),
    "limit": Integer(),
    "offset": Integer(),
    "scan": Integer(),
}


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
            # One comma-joined text rather than the array: PostgreSQL writes and psycopg2
            # reads an array of a dozen keys element by element, which cost more than the
            # rest of the row (keys are snake_case words, never a comma: tests/test_catalog.py).
            func.array_to_string(OutletProfile.business_types, ",").label("business_types"),
            # A hash of the stored schedule, not the schedule: see `_hits`.
            hours_key(OutletProfile.opening_hours).label("hours_key"),
            OutletProfile.kind,
            Institution.parent_code,
        )
        .join(OutletProfile, OutletProfile.institution_id == Institution.id)
        .where(Institution.status == "active", OutletProfile.position.is_not(None))
    )


@dataclass(frozen=True)
class _Word:
    """How a word of `Filters.words` is searched (part of a statement's shape)."""

    bigrams: bool  # two characters or more: the bigram indexes find it
    cased: bool  # has letters with a case (ATM): compared lower-cased, like ILIKE

    @classmethod
    def of(cls, word: str) -> _Word:
        return cls(bigrams=len(word) >= 2, cased=word.lower() != word or word.upper() != word)


@dataclass(frozen=True)
class _Shape:
    """Which parts a statement has. Statements are built once per shape, with bound
    parameters for every value: building and caching a fresh statement for each
    request cost more than running it (about 1.2 ms against 1 ms for nearest-20)."""

    near: bool
    radius: bool
    bbox: bool
    legal_entities: bool
    one_entity: bool
    categories: bool
    kinds: bool
    business_types: bool
    region: bool
    region_box: bool
    knn: bool  # nearest first through the spatial index; else the matches sorted by distance
    text: bool
    words: tuple[_Word, ...]
    order: str | None = None  # SearchQuery.order

    @classmethod
    def of(cls, query: SearchQuery) -> _Shape:
        f = query.filters
        area = regions.bounds_within(f.region_prefix) if f.region_prefix else None
        return cls(
            near=query.near is not None,
            radius=query.radius_m is not None,
            bbox=query.bbox is not None,
            legal_entities=bool(f.legal_entities),
            one_entity=len(f.legal_entities) == 1,
            categories=bool(f.categories),
            kinds=bool(f.kinds),
            business_types=bool(f.business_types),
            region=bool(f.region_prefix),
            region_box=area is not None,
            # From outside the region's box, the index would walk every nearer outlet
            # before reaching the region; sorting the region's matches is cheaper.
            knn=query.near is not None
            and query.order is None
            and (area is None or _inside(query.near, area)),
            text=bool(f.text),
            words=tuple(_Word.of(w) for w in f.words),
            order=query.order,
        )


def _inside(point: Point, area: tuple[float, float, float, float]) -> bool:
    south, west, north, east = area
    return south <= point.lat <= north and west <= point.lng <= east


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def parameters(query: SearchQuery) -> dict[str, Any]:
    """The values of `query` for its shape's statement."""
    f = query.filters
    values: dict[str, Any] = {}
    if query.near is not None:
        values.update(lat=query.near.lat, lng=query.near.lng)
    if query.radius_m is not None:
        values["radius_m"] = float(query.radius_m)
    if query.bbox is not None:
        box = query.bbox
        # A geography envelope has great-circle edges, which bulge poleward of the
        # rectangle's parallels: the index prefilter uses an envelope widened beyond
        # any bulge, and the exact rectangle is tested on the coordinates.
        margin = 0.1 * max(box.max_lat - box.min_lat, box.max_lng - box.min_lng) + 0.01
        values.update(
            box_min_lat=box.min_lat,
            box_min_lng=box.min_lng,
            box_max_lat=box.max_lat,
            box_max_lng=box.max_lng,
            wide_min_lat=max(box.min_lat - margin, -90.0),
            wide_min_lng=max(box.min_lng - margin, -180.0),
            wide_max_lat=min(box.max_lat + margin, 90.0),
            wide_max_lng=min(box.max_lng + margin, 180.0),
        )
    if f.legal_entities:
        values["legal_entities"] = list(f.legal_entities)
    if f.categories:
        values["categories"] = list(f.categories)
    if f.kinds:
        values["kinds"] = list(f.kinds)
    if f.business_types:
        values["business_types"] = list(f.business_types)
    if f.region_prefix:
        values["region_prefix"] = _escape_like(f.region_prefix) + "%"
        area = regions.bounds_within(f.region_prefix)
        if area is not None:  # widened like a viewport's: geography boxes bulge
            south, west, north, east = area
            margin = 0.1 * max(north - south, east - west) + 0.01
            values.update(
                region_min_lat=south - margin,
                region_min_lng=west - margin,
                region_max_lat=north + margin,
                region_max_lng=east + margin,
            )
    for i, word in enumerate(f.words):
        values[f"word_{i}"] = word.lower()
    if f.words:
        values["word_0_reversed"] = _escape_like(f.words[0][::-1]) + "%"
    if f.text:
        escaped = _escape_like(f.text)
        values.update(text=f.text, text_contains=f"%{escaped}%", text_prefix=f"{escaped}%")
    return values


def _conditions(
    shape: _Shape, tables: str = "both", named: bool = False
) -> list[ColumnElement[bool]]:
    """SQL conditions for the filters that SQL can decide (all but open-at).

    `tables`: "both", or only those on "institution" or on "profile" (outlet_profile).
    `named`: only outlets named after the first word (`_named_after`), which implies
    that their name contains it.
    """
    on_institution: list[ColumnElement[bool]] = []
    on_profile: list[ColumnElement[bool]] = []
    conditions = on_institution
    if shape.legal_entities:
        # = ANY(array) rather than IN: for one entity PostgreSQL turns IN (x) into = x, the
        # entity drops out of the sort order, and "the first outlets by fi_code" walked the
        # fi_code index past every other bank's rows (0.5 s for 邮储 at a million); see
        # _unpaged. Lists as arrays also keep the statement's text fixed per shape,
        # which `_driver_statement` needs.
        conditions.append(Institution.legal_entity_code == any_(_param("legal_entities")))
    if shape.categories:
        conditions.append(Institution.category == any_(_param("categories")))
    if shape.kinds:
        on_profile.append(OutletProfile.kind == any_(_param("kinds")))
    if shape.business_types:
        on_profile.append(OutletProfile.business_types.contains(_param("business_types")))
    if shape.region:
        conditions.append(Institution.region_code.like(_param("region_prefix"), escape="\\"))
    if shape.region_box:
        # Positions are held inside their region's box (the profile import refuses others),
        # so the spatial index can skip everything outside it: "附近的吴江农商行" asked from
        # 常熟 otherwise walked 189,000 nearer outlets to find six in 吴江.
        on_profile.append(OutletProfile.position.op("&&")(_region_box()))
    if shape.text:
        contains = _param("text_contains")
        conditions.append(
            or_(
                Institution.name.ilike(contains, escape="\\"),
                Institution.address.ilike(contains, escape="\\"),
                Institution.short_name.ilike(contains, escape="\\"),
                # pg_trgm: names that resemble the text (typos, other word order)
                Institution.name.op("%")(_param("text")),
            )
        )
    if named:
        conditions.append(_named_after())
    conditions += _word_conditions(shape, start=1 if named else 0)
    if shape.bbox:
        wide = cast(
            func.ST_MakeEnvelope(
                _param("wide_min_lng"),
                _param("wide_min_lat"),
                _param("wide_max_lng"),
                _param("wide_max_lat"),
                4326,
            ),
            Geography(geometry_type="POLYGON", srid=4326),
        )
        point = func.geometry(OutletProfile.position)
        on_profile += [
            OutletProfile.position.op("&&")(wide),
            func.ST_Y(point).between(_param("box_min_lat"), _param("box_max_lat")),
            func.ST_X(point).between(_param("box_min_lng"), _param("box_max_lng")),
        ]
    if tables == "institution":
        return on_institution
    if tables == "profile":
        return on_profile
    return on_institution + on_profile


def _region_box() -> ColumnElement[Any]:
    """The region's box (widened, `parameters`) as a geography polygon."""
    return cast(
        func.ST_MakeEnvelope(
            _param("region_min_lng"),
            _param("region_min_lat"),
            _param("region_max_lng"),
            _param("region_max_lat"),
            4326,
        ),
        Geography(geometry_type="POLYGON", srid=4326),
    )


_WORD_COLUMNS = (Institution.name, Institution.address, Institution.short_name)


def text_bigrams(value: SQLColumnExpression[Any]) -> ColumnElement[Any]:
    """SQL `text_bigrams` (migration 0013): the lower-cased text's overlapping character pairs."""
    return func.text_bigrams(value, type_=ARRAY(Text()))


def _has_word(column: SQLColumnExpression[Any], i: int, word: _Word) -> ColumnElement[bool]:
    """Whether `column` contains word i (its parameter is lower-cased), like ILIKE '%word%'.

    strpos rather than LIKE: cheaper, and pg_trgm cannot index it, so the planner never
    mixes a lossy trigram index into the bigram lookup (a lossy page is rechecked with
    `text_bigrams` on each row, about 0.1 ms a row).
    """
    return func.strpos(func.lower(column) if word.cased else column, _param(f"word_{i}")) > 0


def _named_after() -> ColumnElement[bool]:
    """The outlet is named after the first word: its name without the unit word at the end
    (`name_stem`, migration 0013: 新街口支行 → 新街口) ends with it, as bot.engine ranks.

    Written as a prefix of the reversed stem, which a B-tree index serves as a range.
    """
    stem = func.reverse(func.name_stem(Institution.name, type_=Text()), type_=Text())
    return stem.like(_param("word_0_reversed"), escape="\\")


def _word_conditions(shape: _Shape, start: int = 0) -> list[ColumnElement[bool]]:
    """Each word in the name, address or short name.

    A word of two characters or more is first looked up by its character bigrams:
    a column containing the word contains all its bigrams, so `text_bigrams(column)
    @> text_bigrams(word)`, answered by a GIN index per column (exact, nothing to
    recheck), selects a superset of the rows that the strpos test then decides. The
    two stay separate conditions, so PostgreSQL evaluates the bigram test only in the
    indexes: as a filter, `text_bigrams` would run on every row found.
    """
    conditions: list[ColumnElement[bool]] = []
    for i, word in enumerate(shape.words):
        if i < start:
            continue
        if word.bigrams:
            wanted = text_bigrams(_param(f"word_{i}"))
            conditions.append(or_(*(text_bigrams(c).op("@>")(wanted) for c in _WORD_COLUMNS)))
        conditions.append(or_(*(_has_word(c, i, word) for c in _WORD_COLUMNS)))
    return conditions


def _relevance() -> list[ColumnElement[Any]]:
    """Exact name first, then names starting with the text, containing it, resembling it."""
    text, contains = _param("text"), _param("text_contains")
    return [
        case(
            (Institution.name == text, 0),
            (Institution.short_name == text, 0),
            (Institution.name.ilike(_param("text_prefix"), escape="\\"), 1),
            (Institution.name.ilike(contains, escape="\\"), 2),
            (Institution.address.ilike(contains, escape="\\"), 3),
            else_=4,
        ),
        func.similarity(Institution.name, text).desc(),
    ]


def _words_ranked(shape: _Shape, named: bool) -> Select[Any]:
    """Words without a point, ranked as the chat bot reads them: outlets named after the
    first word (新街口支行 for 新街口), then other names containing it, then addresses;
    shorter names first within each (新街口支行 before 新街口支行珠江路分理处); fi_code.

    The order depends on the institution row alone, so the matches are ranked there, in
    a subquery fenced with OFFSET 0 so it is planned on its own, and only the first
    ones are joined with their profiles (position, business types), in that order,
    until the page is full: joining every match first cost more than ranking them.
    `named` keeps only the first tier, which an index finds (see `search`).
    """
    tier = case(
        (_named_after(), 0),
        (_has_word(Institution.name, 0, shape.words[0]), 1),
        else_=2,
    )
    length = func.char_length(Institution.name)
    ranked = (
        select(
            Institution.id.label("id"),
            tier.label("tier"),
            length.label("length"),
            Institution.fi_code.label("fi_code"),
        )
        .where(Institution.status == "active", *_conditions(shape, "institution", named))
        .order_by(tier, length, Institution.fi_code)
        .offset(0)
        .subquery("ranked")
    )
    return (
        visible_outlets()
        .join(ranked, ranked.c.id == Institution.id)
        .where(*_conditions(shape, "profile"))
        .add_columns(literal(None).label("distance_m"))
        .order_by(ranked.c.tier, ranked.c.length, ranked.c.fi_code)
    )


@lru_cache(maxsize=512)
def _unpaged(shape: _Shape, for_count: bool) -> Select[Any]:
    if shape.order is not None:
        return _sorted(shape)
    if shape.words and not shape.near:
        return _words_ranked(shape, named=False)
    stmt = visible_outlets().where(*_conditions(shape))
    if shape.near:
        here = geography_point(_param("lng"), _param("lat"))
        # On the sphere, like the KNN order: reported distances then agree with the order
        # (the spheroid would differ by up to 0.5%, enough to swap near-equal neighbours).
        stmt = stmt.add_columns(
            func.ST_Distance(OutletProfile.position, here, False).label("distance_m")
        )
        if shape.radius and for_count:
            stmt = stmt.where(func.ST_DWithin(OutletProfile.position, here, _param("radius_m")))
        if shape.knn:
            # KNN: the GiST index yields rows in this order without sorting them all.
            # Nothing may follow it in ORDER BY: even an `id` tie-break makes PostgreSQL
            # sort every row (a million-row scan instead of reading twenty index entries).
            # The index scan's order is itself deterministic, so pages stay stable.
            stmt = stmt.order_by(OutletProfile.position.op("<->")(here))
        else:
            distance = func.ST_Distance(OutletProfile.position, here, False)
            stmt = stmt.order_by(distance, Institution.fi_code)
    else:
        stmt = stmt.add_columns(literal(None).label("distance_m"))
        if shape.text:
            stmt = stmt.order_by(*_relevance())
        elif shape.one_entity:
            # The same order, which the (legal_entity_code, fi_code) index then yields.
            stmt = stmt.order_by(Institution.legal_entity_code)
        stmt = stmt.order_by(Institution.fi_code, Institution.id)
    return stmt


def _sorted(shape: _Shape) -> Select[Any]:
    """The matches in `shape.order` (ORDERS), all of them within the radius when there is
    one (the nearest-first pages cut at the radius after reading; a sorted page cannot)."""
    stmt = visible_outlets().where(*_conditions(shape))
    if shape.near:
        here = geography_point(_param("lng"), _param("lat"))
        stmt = stmt.add_columns(
            func.ST_Distance(OutletProfile.position, here, False).label("distance_m")
        )
        if shape.radius:
            # on the sphere, as the distances reported
            within = func.ST_DWithin(OutletProfile.position, here, _param("radius_m"), False)
            stmt = stmt.where(within)
    else:
        stmt = stmt.add_columns(literal(None).label("distance_m"))
    if shape.order == "name":
        return stmt.order_by(Institution.name, Institution.fi_code)
    changed = func.greatest(Institution.updated_at, OutletProfile.updated_at)
    return stmt.order_by(changed.desc(), Institution.fi_code)


@lru_cache(maxsize=512)
def _paged(shape: _Shape) -> Select[Any]:
    return _unpaged(shape, False).limit(_param("limit")).offset(_param("offset"))


@lru_cache(maxsize=512)
def _paged_named(shape: _Shape) -> Select[Any]:
    return _words_ranked(shape, named=True).limit(_param("limit")).offset(_param("offset"))


@lru_cache(maxsize=512)
def _paged_nearest_first(shape: _Shape) -> Select[Any]:
    """A page of a region's outlets offering a business, nearest the point first, taken from
    the region box's `scan` nearest outlets (see `search`).

    The GiST index hands those out in distance order (a fenced subquery on outlet_profile
    alone); the filters then run on them only. Left to itself, PostgreSQL joined every bank
    of the county, or ANDed the box with the business type's GIN index (a fifth of all
    outlets offer 社保卡), and sorted: 90-190 ms for 丰县能办社保卡的银行 at a million
    outlets, where the nearest few hundred outlets hold the answer.
    """
    here = geography_point(_param("lng"), _param("lat"))
    box = _region_box()
    order = OutletProfile.position.op("<->")(here)
    nearest = (
        select(OutletProfile.institution_id.label("institution_id"), order.label("knn"))
        .where(
            OutletProfile.position.is_not(None),
            OutletProfile.position.op("&&")(box),
            # the kinds asked for, read from the branches' own index when only they are
            *((OutletProfile.kind == any_(_param("kinds")),) if shape.kinds else ()),
        )
        .order_by(order)
        .limit(_param("scan"))
        .subquery("nearest")
    )
    return (
        visible_outlets()
        .join(nearest, nearest.c.institution_id == Institution.id)
        .where(*_conditions(shape))
        .add_columns(func.ST_Distance(OutletProfile.position, here, False).label("distance_m"))
        .order_by(nearest.c.knn)
        .limit(_param("limit"))
        .offset(_param("offset"))
    )


@dataclass(frozen=True)
class _DriverStatement:
    sql: str  # in the driver's paramstyle
    constants: dict[str, Any]  # values the compiler made parameters of (SRID, 'active', ...)


@lru_cache(maxsize=128)
def _driver_statement(
    shape: _Shape, dialect: Dialect, named: bool = False, nearest_first: bool = False
) -> _DriverStatement:
    """One page's statement of a shape (`named`: `_paged_named`, `nearest_first`:
    `_paged_nearest_first`), compiled once for a dialect to the driver's SQL.

    `search` runs the text as it is (`_rows`), skipping what `execute(select)` does on
    every call for a statement this size: hashing its cache key, looking up the compiled
    form, building parameters and result metadata. That cost more Python time than the
    query itself, a third of a whole `/outlets/nearby` request. Values pass as they
    are: every parameter is a number, a string, a boolean or a list, which psycopg2
    adapts itself (no bind processor is needed).
    """
    if nearest_first:
        return _compiled(_paged_nearest_first(shape), dialect)
    return _compiled(_paged_named(shape) if named else _paged(shape), dialect)


def _compiled(stmt: Select[Any], dialect: Dialect) -> _DriverStatement:
    compiled = stmt.compile(dialect=dialect)
    if compiled.positiontup is not None or "POSTCOMPILE" in compiled.string:
        raise RuntimeError(f"{dialect.name}: search needs named parameters and no IN lists")
    binds = compiled.bind_names.items()
    constants = {name: bind.effective_value for bind, name in binds if not bind.required}
    return _DriverStatement(compiled.string, constants)


def build_select(query: SearchQuery, *, for_count: bool = False) -> Select[Any]:
    """The statement for `query` with its values, in stable order, unpaged.

    The radius is applied here only `for_count`; listing applies it to each page.
    """
    return _unpaged(_Shape.of(query), for_count).params(parameters(query))


def statement(query: SearchQuery, limit: int, offset: int) -> Select[Any]:
    """One page of `query` as a statement with its values (for EXPLAIN and benchmarks)."""
    return _paged(_Shape.of(query)).params({**parameters(query), "limit": limit, "offset": offset})


def driver_statement(query: SearchQuery, dialect: Dialect) -> tuple[str, dict[str, Any]]:
    """The first page of `query` as `search` sends it: the driver's SQL and every value
    (for baseline (b) of bench/geo_search.py, which runs it through raw psycopg2)."""
    stmt = _driver_statement(_Shape.of(query), dialect)
    values = {**stmt.constants, **parameters(query), "limit": query.limit, "offset": query.offset}
    return stmt.sql, values


def hours_key(hours: SQLColumnExpression[Any]) -> ColumnElement[Any]:
    """A 64-bit hash of a stored schedule (jsonb), computed on its binary form."""
    return func.jsonb_hash_extended(hours, literal_column("0"), type_=BigInteger())


# Opening hours of search hits, by `hours_key`. Rows carry the key, not the schedule:
# a schedule is ~350 bytes of JSON that PostgreSQL had to write out as text and send
# for every row, and Python to decode, while a page repeats a handful of schedules
# (banks use a few standard ones). The key saves about 7% of the database's CPU per
# nearest-20 query at a million outlets (0.98 against 1.05 ms). A key is content,
# so a changed schedule is a new key, never a stale one; two schedules sharing a
# 64-bit hash is the one way this could mislead (odds ~1e-8 at a million distinct).
_HOURS_BY_KEY: dict[int, str] = {}
_HOURS_CACHE_CAP = 20_000  # distinct schedules per process, ~10 MB at most


@lru_cache(maxsize=8)
def _hours_statement(dialect: Dialect) -> _DriverStatement:
    ids = bindparam("ids", type_=ARRAY(Integer()))
    stmt = select(
        OutletProfile.institution_id,
        hours_key(OutletProfile.opening_hours),
        cast(OutletProfile.opening_hours, Text),
    ).where(OutletProfile.institution_id == any_(ids), OutletProfile.opening_hours.is_not(None))
    return _compiled(stmt, dialect)


def _hits(db: Session | Connection, rows: Sequence[Sequence[Any]]) -> list[OutletHit]:
    """The rows as hits, their schedules from `_HOURS_BY_KEY`, fetching the missing ones
    in one statement (each once per process while the cache holds them)."""
    texts: dict[int, str] = {}
    missing: list[int] = []
    for row in rows:
        key = row[12]
        if key is not None:
            text = _HOURS_BY_KEY.get(key)
            if text is None:
                missing.append(row[0])
            else:
                texts[key] = text
    if not missing:
        return [_hit(row, None if row[12] is None else texts[row[12]]) for row in rows]
    if len(_HOURS_BY_KEY) + len(missing) > _HOURS_CACHE_CAP:
        _HOURS_BY_KEY.clear()
    stmt = _hours_statement(_dialect(db))
    now: dict[int, str] = {}  # by institution
    for institution_id, key, text in driver_rows(db, stmt.sql, {**stmt.constants, "ids": missing}):
        _HOURS_BY_KEY[key] = texts[key] = now[institution_id] = text
    return [
        # A key not found: its hours changed between the two statements; the newer ones.
        _hit(row, None if row[12] is None else texts.get(row[12], now.get(row[0])))
        for row in rows
    ]


def _hit(row: Sequence[Any], hours: str | None) -> OutletHit:
    # By position (visible_outlets' columns, then distance_m if selected): reading a
    # Row's attributes by name cost more than building the hit.
    distance = row[15] if len(row) > 15 else None
    types = row[11]
    return OutletHit._make(
        (
            *row[:11],
            None if distance is None else float(distance),
            tuple(types.split(",")) if types else (),
            hours,
            row[13],
            row[14],
        )
    )


def _dialect(db: Session | Connection) -> Dialect:
    return db.dialect if isinstance(db, Connection) else db.get_bind().dialect


OpenTest = Callable[[str | None, datetime], bool]  # (stored hours JSON, moment)


def _within(hits: list[OutletHit], radius_m: float | None) -> tuple[list[OutletHit], bool]:
    """The hits up to the radius (they come nearest first), and whether any lay beyond."""
    if radius_m is None:
        return hits, False
    for i, hit in enumerate(hits):
        if hit.distance_m is not None and hit.distance_m > radius_m:
            return hits[:i], True
    return hits, False


def search(
    db: Session | Connection, query: SearchQuery, *, is_open: OpenTest | None = None
) -> list[OutletHit]:
    """Outlets matching `query`, nearest first when it has a point.

    `db` is a Session or, lighter, a bare Connection (the public finder's
    `read_connection()`). With `filters.open_at`, `is_open(hours_json, moment)` decides
    each row (the default is `profiles.opening.is_open_at`); rows are read in order in
    batches until enough are open, at most OPEN_SCAN_CAP rows.
    """
    shape = _Shape.of(query)
    dialect = _dialect(db)
    stmt = _driver_statement(shape, dialect)
    given = parameters(query)
    values = {**stmt.constants, **given}
    moment = query.filters.open_at
    if moment is None and shape.order is None:
        if shape.words and not shape.near:
            # The outlets named after the word come first. When they fill the page they
            # are the page, found through the index of name stems; otherwise rank every
            # match (a common word's thousands cost 0.1-0.3 s at a million outlets).
            wanted = query.offset + query.limit
            named = _driver_statement(shape, dialect, named=True)
            first = _hits(
                db,
                driver_rows(
                    db, named.sql, {**named.constants, **given, "limit": wanted, "offset": 0}
                ),
            )
            if len(first) == wanted:
                return first[query.offset :]
        if shape.knn and shape.region_box and shape.business_types:
            # A region's outlets offering a business, nearest first: found among the box's
            # nearest NEAREST_SCAN outlets when they hold a page (then they are exactly the
            # nearest matches), else by the statement below. See `_paged_nearest_first`.
            wanted = query.offset + query.limit
            first_try = _driver_statement(shape, dialect, nearest_first=True)
            scan = {"limit": wanted, "offset": 0, "scan": NEAREST_SCAN}
            near = _hits(
                db, driver_rows(db, first_try.sql, {**first_try.constants, **given, **scan})
            )
            if len(near) == wanted:
                return _within(near, query.radius_m)[0][query.offset :]
    # Sorted otherwise than nearest first, every row is within the radius (`_sorted`).
    radius = query.radius_m if shape.order is None else None
    if moment is None:
        page = driver_rows(db, stmt.sql, {**values, "limit": query.limit, "offset": query.offset})
        return _within(_hits(db, page), radius)[0]
    if is_open is None:
        from profiles.opening import is_open_at

        is_open = is_open_at
    wanted = query.offset + query.limit
    found: list[OutletHit] = []
    # Most outlets are open in the day: a few times the page usually suffices (reading 200
    # rows for 5 took 0.1-0.3 s at a million outlets with a bank's filter). Batches double,
    # so at night, with most closed, the cap is reached in fewer statements than before.
    batch = max(4 * wanted, 20)
    read = 0
    while len(found) < wanted and read < OPEN_SCAN_CAP:
        rows = driver_rows(db, stmt.sql, {**values, "limit": batch, "offset": read})
        read += batch
        hits, beyond = _within(_hits(db, rows), radius)
        found += [h for h in hits if is_open(h.opening_hours_json, moment)]
        if beyond or len(rows) < batch:  # the edge of the radius, or the end
            break
        batch = min(2 * batch, 1000, OPEN_SCAN_CAP - read)
    return found[query.offset : wanted]


def count(session: Session, query: SearchQuery) -> int:
    """How many outlets match, ignoring paging (and open-at, which SQL cannot decide)."""
    inner = build_select(query, for_count=True).order_by(None).with_only_columns(Institution.id)
    return int(session.execute(select(func.count()).select_from(inner.subquery())).scalar_one())


def by_fi_codes(session: Session, codes: Sequence[str]) -> list[OutletHit]:
    rows = session.execute(visible_outlets().where(Institution.fi_code.in_(codes))).all()
    return _hits(session, rows)


def hits_of(db: Session | Connection, rows: Sequence[Sequence[Any]]) -> list[OutletHit]:
    """Rows of `visible_outlets()`' columns (nothing after them), as hits with their hours.

    For libraries that select the public outlets inside a statement of their own (the
    open data feed joins them to change events) and must build the same hits as the finder.
    """
    return _hits(db, rows)


def stream_visible(connection: Connection, batch_size: int = 5_000) -> Iterator[list[OutletHit]]:
    """Every outlet the public may see, in fi_code order, `batch_size` hits at a time.

    For the open data export: one server-side cursor, so memory stays that of a batch
    whatever the number of outlets. Run it inside the caller's transaction (a repeatable
    read one gives a consistent snapshot of the whole set).
    """
    stmt = visible_outlets().order_by(Institution.fi_code)
    result = connection.execution_options(stream_results=True, yield_per=batch_size).execute(stmt)
    for rows in result.partitions():
        yield _hits(connection, rows)
