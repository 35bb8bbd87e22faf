"""The search service on real PostGIS, checked against an independent computation in Python.

The data are a generated Jiangsu sample loaded through the real imports; the
reference answers come from haversine distances over all visible outlets, so
a wrong index, operator or filter shows up as a different set or order.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

import geo.search as geo_search
from core.coords import distance_m
from core.database import driver_rows
from geo.clusters import MAX_OUTLETS, cell_size_deg, viewport
from geo.search import (
    BBox,
    Filters,
    Point,
    SearchError,
    SearchQuery,
    by_fi_codes,
    count,
    search,
    statement,
)
from tests.conftest import load_generated, truncate_all

XINJIEKOU = Point(32.0415, 118.7781)  # WGS-84, central Nanjing


@pytest.fixture(scope="module")
def loaded(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """800 generated outlets, committed once for the module (searches only read).

    Without ATMs: the reference answers here break ties of distance by fi_code, and an
    ATM standing in its branch shares the branch's position, a tie the KNN index orders
    its own way. tests/test_outlet_kinds.py searches among the ATMs."""
    data = tmp_path_factory.mktemp("geo")
    load_generated(engine, data, outlets=800, seed=11, atms=False)
    yield engine
    truncate_all(engine)


@pytest.fixture
def session(loaded: Engine) -> Iterator[Session]:
    connection = loaded.connect()
    transaction = connection.begin()
    db = Session(bind=connection, join_transaction_mode="create_savepoint")
    yield db
    db.close()
    transaction.rollback()
    connection.close()


def everything(session: Session) -> list[dict[str, Any]]:
    """All visible outlets, straight from the tables, for reference answers."""
    rows = (
        session.execute(
            text("""
        SELECT i.fi_code, i.category, i.legal_entity_code, i.region_code, o.business_types,
               ST_Y(o.position::geometry) AS lat, ST_X(o.position::geometry) AS lng
        FROM institution i JOIN outlet_profile o ON o.institution_id = i.id
        WHERE i.status = 'active' AND o.position IS NOT NULL""")
        )
        .mappings()
        .all()
    )
    return [dict(r) for r in rows]


def by_distance(rows: list[dict[str, Any]], here: Point) -> list[tuple[float, str]]:
    return sorted((distance_m(here.lat, here.lng, r["lat"], r["lng"]), r["fi_code"]) for r in rows)


def test_nearest_matches_an_independent_computation(session: Session) -> None:
    hits = search(session, SearchQuery(near=XINJIEKOU, limit=20))
    reference = by_distance(everything(session), XINJIEKOU)[:20]
    assert [h.fi_code for h in hits] == [code for _, code in reference]
    for hit, (want, _) in zip(hits, reference, strict=True):
        assert hit.distance_m is not None
        assert abs(hit.distance_m - want) <= 1e-6 * want + 0.01  # the same sphere
    distances = [h.distance_m for h in hits]
    assert distances == sorted(distances)


def test_radius_returns_exactly_the_outlets_within_it(session: Session) -> None:
    radius = 2000.0
    hits = search(session, SearchQuery(near=XINJIEKOU, radius_m=radius, limit=100))
    reference = by_distance(everything(session), XINJIEKOU)
    inside = {code for d, code in reference if d < radius * 0.995}
    maybe = {code for d, code in reference if radius * 0.995 <= d <= radius * 1.005}
    got = {h.fi_code for h in hits}
    assert inside and len(inside) < 100
    assert inside <= got <= inside | maybe
    assert all(h.distance_m is not None and h.distance_m <= radius for h in hits)


def test_bbox_and_region_filters(session: Session) -> None:
    box = BBox(31.95, 118.70, 32.10, 118.85)
    hits = search(session, SearchQuery(bbox=box, limit=1000, max_limit=1000))
    rows = everything(session)
    want = {
        r["fi_code"]
        for r in rows
        if box.min_lat <= r["lat"] <= box.max_lat and box.min_lng <= r["lng"] <= box.max_lng
    }
    assert 0 < len(want) < 1000  # one page holds them all
    assert {h.fi_code for h in hits} == want
    assert count(session, SearchQuery(bbox=box)) == len(want)
    nanjing = search(session, SearchQuery(filters=Filters(region_prefix="3201"), limit=100))
    assert nanjing and all(h.region_code.startswith("3201") for h in nanjing)
    assert count(session, SearchQuery(filters=Filters(region_prefix="3201"))) == sum(
        1 for r in rows if r["region_code"].startswith("3201")
    )


def test_filters_combine(session: Session) -> None:
    rows = everything(session)
    bank = next(r for r in rows if r["category"] == "bank")
    legal = bank["legal_entity_code"]
    wanted_types = ("foreign_exchange", "wheelchair_access")
    filters = Filters(legal_entities=(legal,), categories=("bank",), business_types=wanted_types)
    hits = search(session, SearchQuery(near=XINJIEKOU, filters=filters, limit=100))
    want = [
        r
        for r in rows
        if r["legal_entity_code"] == legal
        and r["category"] == "bank"
        and set(wanted_types) <= set(r["business_types"])
    ]
    assert want and [h.fi_code for h in hits] == [c for _, c in by_distance(want, XINJIEKOU)][:100]
    insurers = search(session, SearchQuery(filters=Filters(categories=("insurance",)), limit=50))
    assert insurers and {h.category for h in insurers} == {"insurance"}


def test_several_legal_entities_are_any_of_them(session: Session) -> None:
    rows = everything(session)
    entities = sorted({r["legal_entity_code"] for r in rows if r["category"] == "bank"})[:2]
    filters = Filters(legal_entities=tuple(entities))
    hits = search(session, SearchQuery(near=XINJIEKOU, filters=filters, limit=100))
    want = [r for r in rows if r["legal_entity_code"] in entities]
    assert len(entities) == 2 and {r["legal_entity_code"] for r in want[:100]} == set(entities)
    assert [h.fi_code for h in hits] == [c for _, c in by_distance(want, XINJIEKOU)][:100]
    assert count(session, SearchQuery(filters=filters)) == len(want)


def test_revoked_and_unplaced_outlets_never_appear(session: Session) -> None:
    nearest = search(session, SearchQuery(near=XINJIEKOU, limit=3))
    gone = nearest[0].fi_code
    session.execute(
        text(
            "UPDATE institution SET status = 'revoked', revoked_on = '2026-01-05' "
            "WHERE fi_code = :c"
        ),
        {"c": gone},
    )
    unplaced = nearest[1].fi_code
    session.execute(
        text(
            "UPDATE outlet_profile SET position = NULL WHERE institution_id = "
            "(SELECT id FROM institution WHERE fi_code = :c)"
        ),
        {"c": unplaced},
    )
    after = search(session, SearchQuery(near=XINJIEKOU, limit=100))
    codes = {h.fi_code for h in after}
    assert gone not in codes and unplaced not in codes
    assert by_fi_codes(session, [gone, unplaced]) == []


def test_pages_are_stable_and_complete(session: Session) -> None:
    whole = search(session, SearchQuery(near=XINJIEKOU, limit=60))
    pages = [search(session, SearchQuery(near=XINJIEKOU, limit=20, offset=o)) for o in (0, 20, 40)]
    assert [h.fi_code for page in pages for h in page] == [h.fi_code for h in whole]


def test_open_at_streams_until_enough_are_open(session: Session) -> None:
    moment = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    seen: list[str] = []

    def every_third(hours: dict[str, Any] | None, at: datetime) -> bool:
        seen.append("x")
        assert at == moment
        return len(seen) % 3 == 0

    hits = search(
        session,
        SearchQuery(near=XINJIEKOU, limit=10, filters=Filters(open_at=moment)),
        is_open=every_third,
    )
    everyone = search(session, SearchQuery(near=XINJIEKOU, limit=30))
    assert [h.fi_code for h in hits] == [h.fi_code for h in everyone[2::3]]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 500}, "limit"),
        ({"offset": -1}, "offset"),
        ({"radius_m": 100.0}, "radius_m"),
        ({"near": XINJIEKOU, "radius_m": 1e9}, "radius_m"),
        ({"near": XINJIEKOU, "radius_m": float("nan")}, "radius_m"),
    ],
)
def test_bad_queries_name_the_parameter(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(SearchError) as caught:
        SearchQuery(**kwargs)
    assert caught.value.field == field


def test_points_and_boxes_refuse_nonsense() -> None:
    with pytest.raises(ValueError):
        Point(91, 118)
    with pytest.raises(ValueError):
        Point(float("nan"), 118)
    with pytest.raises(SearchError):
        BBox(32.1, 118.7, 32.0, 118.8)


def test_text_search_ranks_exact_then_prefix_then_contains(session: Session) -> None:
    name = session.execute(
        text(
            "SELECT i.name FROM institution i JOIN outlet_profile o ON o.institution_id = i.id "
            "WHERE i.level = 'sub_branch' AND o.position IS NOT NULL ORDER BY i.fi_code LIMIT 1"
        )
    ).scalar_one()
    exact = search(session, SearchQuery(filters=Filters(text=name), limit=5))
    assert exact[0].name == name
    place = name[-6:-2]  # part of the branch's place name
    contains = search(session, SearchQuery(filters=Filters(text=place), limit=50))
    # exact name, then names starting with it, containing it, addresses containing it,
    # then names that only resemble it (pg_trgm)
    tiers = [
        0
        if place in (h.name, h.short_name)
        else 1
        if h.name.startswith(place)
        else 2
        if place in h.name
        else 3
        if place in (h.address or "")
        else 4
        for h in contains
    ]
    assert tiers and tiers[0] < 4 and tiers == sorted(tiers)
    typo = name[:-3] + "支航"  # 行 → 航
    fuzzy = search(session, SearchQuery(filters=Filters(text=typo), limit=5))
    assert name in [h.name for h in fuzzy]
    wildcard = search(session, SearchQuery(filters=Filters(text="%"), limit=5))
    assert wildcard == []  # a % in the text is a character, not a wildcard


def _texts(session: Session) -> list[dict[str, Any]]:
    """fi_code, names, address and business types of every visible outlet."""
    rows = session.execute(
        text(
            "SELECT i.fi_code, i.name, i.short_name, i.address, o.business_types, "
            "ST_Y(o.position::geometry) AS lat, ST_X(o.position::geometry) AS lng "
            "FROM institution i JOIN outlet_profile o ON o.institution_id = i.id "
            "WHERE i.status = 'active' AND o.position IS NOT NULL"
        )
    ).mappings()
    return [dict(r) for r in rows]


def _has(row: dict[str, Any], word: str) -> bool:
    fields = (row["name"], row["address"], row["short_name"])
    return any(word.lower() in (f or "").lower() for f in fields)


_UNIT = re.compile(r"(支行|分行|营业部|支公司|分公司|分理处|营业所|储蓄所)$")


def _words_reference(rows: list[dict[str, Any]], word: str) -> list[str]:
    """Names after the word (新街口支行) first, then other names containing it, then
    addresses; shorter names first; fi_code."""

    def tier(row: dict[str, Any]) -> int:
        if _UNIT.sub("", row["name"]).endswith(word):
            return 0
        return 1 if word.lower() in row["name"].lower() else 2

    found = [r for r in rows if _has(r, word)]
    found.sort(key=lambda r: (tier(r), len(r["name"]), r["fi_code"]))
    return [r["fi_code"] for r in found]


def test_words_find_exactly_the_names_and_addresses_containing_them(session: Session) -> None:
    rows = _texts(session)
    name = min((r for r in rows if r["name"].endswith("支行")), key=lambda r: r["fi_code"])["name"]
    place = name[-6:-2]  # the branch's place words, 4 characters
    road = next(r["address"] for r in rows if r["address"])[6:9]  # from an address
    words = [place, place[:2], place[1:], road, place[0], "atm", "ATM", "月球路", "50%"]
    for word in words:
        want = _words_reference(rows, word)
        hits = search(session, SearchQuery(filters=Filters(words=(word,)), limit=100))
        assert [h.fi_code for h in hits] == want[:100], word
        assert count(session, SearchQuery(filters=Filters(words=(word,)))) == len(want), word
    assert _words_reference(rows, place) and _words_reference(rows, road)
    # pages: the first ones from the outlets named after the word, later ones ranked whole
    common = max({place[:2], place[2:], road}, key=lambda w: len(_words_reference(rows, w)))
    want = _words_reference(rows, common)
    pages = [
        search(session, SearchQuery(filters=Filters(words=(common,)), limit=3, offset=o))
        for o in range(0, min(len(want), 60), 3)
    ]
    assert [h.fi_code for page in pages for h in page] == want[:60]
    # several words: all of them; with a business type; nearest first with a point
    both = search(session, SearchQuery(filters=Filters(words=(place[:2], place[2:])), limit=100))
    assert {h.fi_code for h in both} == {
        r["fi_code"] for r in rows if _has(r, place[:2]) and _has(r, place[2:])
    }
    typed = Filters(words=(place[:2],), business_types=("cash",))
    want = [
        c
        for c in _words_reference(rows, place[:2])
        if "cash" in next(r for r in rows if r["fi_code"] == c)["business_types"]
    ]
    assert [h.fi_code for h in search(session, SearchQuery(filters=typed, limit=100))] == want[:100]
    near = search(session, SearchQuery(near=XINJIEKOU, filters=Filters(words=(road,)), limit=100))
    matching = [r for r in rows if _has(r, road)]
    assert [h.fi_code for h in near] == [c for _, c in by_distance(matching, XINJIEKOU)][:100]


def test_words_are_looked_up_through_the_bigram_indexes(session: Session) -> None:
    assert set(session.execute(text("SELECT text_bigrams('新街口ATM')")).scalar_one()) == {
        "新街",
        "街口",
        "口a",
        "at",
        "tm",
    }
    assert session.execute(text("SELECT text_bigrams('东')")).scalar_one() == []
    session.execute(text("SET LOCAL enable_seqscan = off"))
    stmt = statement(SearchQuery(filters=Filters(words=("新街口",))), 20, 0)
    compiled = stmt.compile(dialect=session.get_bind().dialect)
    connection = session.connection()
    plan = list(connection.exec_driver_sql("EXPLAIN " + compiled.string, compiled.params).scalars())
    for column in ("name", "address", "short_name"):
        assert any(f"ix_institution_{column}_bigrams" in line for line in plan)
    # answered by the indexes, never run on each row found
    assert not any("Filter:" in line and "text_bigrams" in line for line in plan)


def test_clusters_add_up_and_few_outlets_come_one_by_one(session: Session) -> None:
    jiangsu = BBox(30.7, 116.3, 35.2, 121.9)
    whole = viewport(session, jiangsu, 7, Filters())
    total = count(session, SearchQuery(bbox=jiangsu))
    assert total > MAX_OUTLETS
    assert whole.outlets == [] and whole.total == total
    assert sum(c.count for c in whole.clusters) == total
    assert len(whole.clusters) < 300
    cell = cell_size_deg(7)
    for cluster in whole.clusters:
        assert jiangsu.min_lat - cell <= cluster.lat <= jiangsu.max_lat + cell
    street = BBox(32.035, 118.77, 32.045, 118.785)
    few = viewport(session, street, 17, Filters())
    assert few.clusters == [] and few.total == len(few.outlets) <= MAX_OUTLETS
    assert few.total == count(session, SearchQuery(bbox=street))


def test_clusters_with_filters_count_the_matching_outlets_of_each_cell(session: Session) -> None:
    jiangsu = BBox(30.7, 116.3, 35.2, 121.9)
    zoom = 9
    banks = [r for r in everything(session) if r["category"] == "bank"]
    assert len(banks) > MAX_OUTLETS  # too many to list: clusters
    cell = cell_size_deg(zoom)
    per_cell = Counter((math.floor(r["lng"] / cell), math.floor(r["lat"] / cell)) for r in banks)
    result = viewport(session, jiangsu, zoom, Filters(categories=("bank",)))
    assert result.outlets == [] and result.total == len(banks)
    # each cluster is one cell's banks, centred on their mean position, inside that cell
    found = {(math.floor(c.lng / cell), math.floor(c.lat / cell)): c.count for c in result.clusters}
    assert found == dict(per_cell)


def test_the_grid_follows_revocations_once_refreshed(session: Session) -> None:
    from geo.clusters import refresh_grid

    jiangsu = BBox(30.7, 116.3, 35.2, 121.9)
    before = viewport(session, jiangsu, 7, Filters()).total
    nearest = search(session, SearchQuery(near=XINJIEKOU, limit=2))
    session.execute(
        text(
            "UPDATE institution SET status = 'revoked', revoked_on = '2026-01-05' "
            "WHERE fi_code = ANY(:c)"
        ),
        {"c": [h.fi_code for h in nearest]},
    )
    refresh_grid(session)
    after = viewport(session, jiangsu, 7, Filters())
    assert after.total == before - 2 == count(session, SearchQuery(bbox=jiangsu))


def test_a_region_filter_with_a_far_point_still_finds_the_regions_nearest(
    session: Session,
) -> None:
    """The region's box narrows the index scan; it must not lose any outlet of the region."""
    far = Point(34.26, 117.19)  # Xuzhou, far from Nanjing
    hits = search(session, SearchQuery(near=far, filters=Filters(region_prefix="3201"), limit=100))
    rows = session.execute(
        text(
            "SELECT i.fi_code, ST_Y(o.position::geometry), ST_X(o.position::geometry) "
            "FROM institution i JOIN outlet_profile o ON o.institution_id = i.id "
            "WHERE i.status = 'active' AND o.position IS NOT NULL AND i.region_code LIKE '3201%'"
        )
    ).all()
    expected = sorted(rows, key=lambda r: distance_m(far.lat, far.lng, r[1], r[2]))[:100]
    assert [h.fi_code for h in hits] == [r[0] for r in expected]


def test_a_bare_connection_gives_the_same_hits_as_a_session(
    session: Session, loaded: Engine
) -> None:
    """The finder's hot path (a bare Connection, rows straight from the DBAPI cursor) and
    the bot's (a Session, through SQLAlchemy) run one statement and must agree, with
    every filter that has a list or array parameter."""
    queries = [
        SearchQuery(near=XINJIEKOU, limit=30),
        SearchQuery(near=XINJIEKOU, radius_m=3000, limit=50),
        SearchQuery(
            near=XINJIEKOU,
            filters=Filters(categories=("bank",), business_types=("cash",), region_prefix="3201"),
            limit=20,
        ),
        SearchQuery(
            near=XINJIEKOU,
            filters=Filters(open_at=datetime(2026, 11, 23, 2, 0, tzinfo=UTC)),
            limit=10,
        ),
    ]
    entity = search(session, queries[0])[0].legal_entity_code
    queries.append(SearchQuery(near=XINJIEKOU, filters=Filters(legal_entities=(entity,))))
    with loaded.connect() as connection:
        for query in queries:
            hits = search(connection, query)
            assert hits and hits == search(session, query), query
            assert all(isinstance(h.business_types, tuple) for h in hits)
        assert any(h.business_types for h in hits)


def test_a_failing_statement_on_a_bare_connection_is_a_dbapi_error(loaded: Engine) -> None:
    """Callers catch SQLAlchemy's errors (the bot says the database is down rather than
    fall silent); the DBAPI path raises the same, here for a statement timeout."""
    with loaded.connect() as connection:
        connection.exec_driver_sql("SET statement_timeout = 10")
        with pytest.raises(OperationalError, match="statement timeout"):
            driver_rows(connection, "SELECT pg_sleep(0.5)", {})
        assert not connection.invalidated  # a cancelled statement leaves the connection usable
        connection.rollback()
        assert search(connection, SearchQuery(near=XINJIEKOU))


def _stored_hours(session: Session, fi_codes: list[str]) -> dict[str, str | None]:
    rows = session.execute(
        text("""SELECT i.fi_code, o.opening_hours::text FROM institution i
                JOIN outlet_profile o ON o.institution_id = i.id WHERE i.fi_code = ANY(:codes)"""),
        {"codes": fi_codes},
    )
    return {code: hours for code, hours in rows}


def test_hits_carry_the_stored_hours_fetched_once_by_their_key(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows carry a hash of the schedule; the text is fetched for unknown keys only and
    must be exactly what is stored, also right after the schedule changed."""
    monkeypatch.setattr(geo_search, "_HOURS_BY_KEY", {})
    fetches: list[list[int]] = []
    real_rows = geo_search.driver_rows

    def counting_rows(db: Any, sql: str, values: dict[str, Any]) -> Any:
        if "ids" in values:
            fetches.append(values["ids"])
        return real_rows(db, sql, values)

    monkeypatch.setattr(geo_search, "driver_rows", counting_rows)
    query = SearchQuery(near=XINJIEKOU, limit=40)
    hits = search(session, query)
    stored = _stored_hours(session, [h.fi_code for h in hits])
    assert {h.fi_code: h.opening_hours_json for h in hits} == stored
    assert any(stored.values()) and len(fetches) == 1
    assert search(session, query) == hits and len(fetches) == 1  # all known now

    changed = next(h for h in hits if h.opening_hours_json)
    new_hours = '{"weekly": {"mo": [["07:00", "23:00"]]}}'
    session.execute(
        text(
            "UPDATE outlet_profile SET opening_hours = CAST(:h AS jsonb) WHERE institution_id = :i"
        ),
        {"h": new_hours, "i": changed.institution_id},
    )
    again = {h.fi_code: h.opening_hours_json for h in search(session, query)}
    assert again == _stored_hours(session, list(again))
    assert again[changed.fi_code] == _stored_hours(session, [changed.fi_code])[changed.fi_code]
    assert len(fetches) == 2 and fetches[1] == [changed.institution_id]


def test_hours_changed_between_the_page_and_their_fetch_are_the_newer_ones(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A row read with the key of its old schedule, fetched after a change: the hit gets
    the schedule stored now, or none when it was removed."""
    monkeypatch.setattr(geo_search, "_HOURS_BY_KEY", {})
    first, second = [h for h in search(session, SearchQuery(near=XINJIEKOU, limit=40))][:2]
    session.execute(
        text("UPDATE outlet_profile SET opening_hours = NULL WHERE institution_id = :i"),
        {"i": second.institution_id},
    )
    stale_key = -1  # no schedule has it: the key the rows were read with is gone

    def row(hit: Any) -> tuple[Any, ...]:
        return (
            *hit[:11],
            ",".join(hit.business_types),
            stale_key,
            hit.kind,
            hit.parent_code,
            hit.distance_m,
        )

    hits = geo_search._hits(session, [row(first), row(second)])
    stored = _stored_hours(session, [first.fi_code, second.fi_code])
    assert [h.opening_hours_json for h in hits] == [stored[first.fi_code], None]
    assert stored[first.fi_code] is not None


def test_the_hours_cache_is_bounded(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(geo_search, "_HOURS_BY_KEY", {})
    monkeypatch.setattr(geo_search, "_HOURS_CACHE_CAP", 3)
    for point in (XINJIEKOU, Point(31.30, 120.60), Point(32.39, 119.42)):  # 南京, 苏州, 扬州
        hits = search(session, SearchQuery(near=point, limit=30))
        assert {h.fi_code: h.opening_hours_json for h in hits} == _stored_hours(
            session, [h.fi_code for h in hits]
        )
        assert len(geo_search._HOURS_BY_KEY) <= 3 + 30


def test_driver_statement_is_what_search_sends(loaded: Engine) -> None:
    """Baseline (b) of bench/geo_search.py runs it through raw psycopg2 as "the same
    statement": it must give the rows `search` turns into hits, in the same order."""
    query = SearchQuery(near=XINJIEKOU, limit=20)
    sql, values = geo_search.driver_statement(query, loaded.dialect)
    raw = loaded.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(sql, values)
        rows = cursor.fetchall()
    finally:
        raw.close()
    with loaded.connect() as connection:
        hits = search(connection, query)
    assert [r[1] for r in rows] == [h.fi_code for h in hits] and len(hits) == 20


@pytest.mark.parametrize("scan", [geo_search.NEAREST_SCAN, 3])
def test_a_regions_business_nearest_first_is_the_regions_nearest_matches(
    session: Session, monkeypatch: pytest.MonkeyPatch, scan: int
) -> None:
    """Found among the box's nearest outlets first (`_paged_nearest_first`), or, when they
    hold too few (a scan of 3), by the plain statement: the same answer either way."""
    monkeypatch.setattr(geo_search, "NEAREST_SCAN", scan)
    rows = everything(session)
    for prefix, types, here in (
        ("3201", ("cash",), XINJIEKOU),
        ("320102", ("foreign_exchange",), XINJIEKOU),
        ("3201", ("securities",), XINJIEKOU),  # brokers only: rarer among the nearest
    ):
        query = SearchQuery(
            near=here, filters=Filters(region_prefix=prefix, business_types=types), limit=5
        )
        expected = by_distance(
            [
                r
                for r in rows
                if r["region_code"].startswith(prefix) and set(types) <= set(r["business_types"])
            ],
            here,
        )
        assert expected, (prefix, types)
        got = search(session, query)
        assert [h.fi_code for h in got] == [c for _, c in expected[:5]], (prefix, types)
        second = search(session, SearchQuery(near=here, filters=query.filters, limit=5, offset=5))
        assert [h.fi_code for h in second] == [c for _, c in expected[5:10]]
        assert all(h.distance_m is not None for h in got)
