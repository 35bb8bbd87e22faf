"""The public finder's HTTP API (/api/mp/v1) on real PostGIS: answers, coordinates, bad input."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, text

import miniprogram_api.outlets
from core.coords import convert, distance_m, position_in
from geo.search import Filters, Point, SearchQuery, search
from registry import regions
from tests.conftest import app_on, load_generated
from web.public_blueprint import INVALID_MESSAGE

API = "/api/mp/v1"
# Xinjiekou, Nanjing: WGS-84 and its GCJ-02 form (STANDARDS.md reference point)
WGS = (32.0415, 118.7781)
GCJ = (32.039452, 118.783309)
MONDAY_10AM = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


@pytest.fixture(scope="module")
def finder(
    engine: Engine, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Flask]:
    """An app over 600 generated outlets, loaded once (these tests only read)."""
    data = tmp_path_factory.mktemp("mp")
    load_generated(engine, data, outlets=600, seed=21)
    with app_on(engine, database_url) as app:
        yield app


@pytest.fixture
def api(finder: Flask, monkeypatch: pytest.MonkeyPatch) -> FlaskClient:
    monkeypatch.setattr(miniprogram_api.outlets, "_now", lambda: MONDAY_10AM)
    return finder.test_client()


def get(api: FlaskClient, path: str, **params: Any) -> dict[str, Any]:
    response = api.get(API + path, query_string=params)
    assert response.status_code == 200, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def bad(api: FlaskClient, path: str, field: str, status: int = 422, **params: Any) -> None:
    response = api.get(API + path, query_string=params)
    assert response.status_code == status, (params, response.get_json())
    body = response.get_json()
    assert body["code"] == status and body["message"]
    if status == 422:
        assert field in body["errors"]["query"], body
        assert body["message"].startswith(INVALID_MESSAGE) and field in body["message"]


def test_nearby_in_gcj02_matches_the_search_service(api: FlaskClient, finder: Flask) -> None:
    body = get(api, "/outlets/nearby", lat=GCJ[0], lng=GCJ[1], limit=10)
    assert body["coord"] == "gcj02"
    items = body["items"]
    assert len(items) == 10
    with finder.app_context():
        from web.extensions import db_session

        branches = Filters(kinds=("branch",))  # the lists' default kind
        want = search(
            db_session(),
            SearchQuery(near=Point(*WGS), radius_m=5000, limit=10, filters=branches),
        )
    assert [i["fi_code"] for i in items] == [h.fi_code for h in want]
    assert {i["kind"] for i in items} == {"branch"} and all(i["facilities"] is None for i in items)
    for item, hit in zip(items, want, strict=True):
        back = convert(item["position"]["lat"], item["position"]["lng"], "gcj02", "wgs84")
        assert distance_m(*back, hit.lat, hit.lng) < 0.05  # positions come back in gcj02
        assert item["distance_m"] == pytest.approx(hit.distance_m, abs=2)  # the input's offset
    assert [i["distance_m"] for i in items] == sorted(i["distance_m"] for i in items)


def test_the_same_place_in_any_system_gives_the_same_outlets(api: FlaskClient) -> None:
    in_gcj = get(api, "/outlets/nearby", lat=GCJ[0], lng=GCJ[1], coord="gcj02")
    in_wgs = get(api, "/outlets/nearby", lat=WGS[0], lng=WGS[1], coord="wgs84")
    bd = convert(*WGS, "wgs84", "bd09")
    in_bd = get(api, "/outlets/nearby", lat=bd[0], lng=bd[1], coord="bd09")
    codes = [i["fi_code"] for i in in_wgs["items"]]
    assert (
        codes == [i["fi_code"] for i in in_gcj["items"]] == [i["fi_code"] for i in in_bd["items"]]
    )
    assert in_wgs["coord"] == "wgs84" and in_bd["coord"] == "bd09"


def test_filters_over_http(api: FlaskClient) -> None:
    types = "foreign_exchange,wheelchair_access"
    body = get(
        api,
        "/outlets/nearby",
        lat=GCJ[0],
        lng=GCJ[1],
        radius_m=50000,
        business_type=types,
        limit=50,
    )
    assert body["items"]
    assert all(
        {"foreign_exchange", "wheelchair_access"} <= set(i["business_types"]) for i in body["items"]
    )
    insurers = get(
        api, "/outlets/nearby", lat=GCJ[0], lng=GCJ[1], radius_m=50000, category="insurance"
    )
    assert insurers["items"] and {i["category"] for i in insurers["items"]} == {"insurance"}
    legal = insurers["items"][0]["legal_entity_code"]
    one = get(api, "/outlets/nearby", lat=GCJ[0], lng=GCJ[1], radius_m=50000, institution=legal)
    assert {i["legal_entity_code"] for i in one["items"]} == {legal}
    banks = get(api, "/outlets/nearby", lat=GCJ[0], lng=GCJ[1], category="bank", limit=100)
    two = sorted({i["legal_entity_code"] for i in banks["items"]})[:2]
    either = get(
        api, "/outlets/nearby", lat=GCJ[0], lng=GCJ[1], institution=",".join(two), limit=100
    )
    assert len(two) == 2 and {i["legal_entity_code"] for i in either["items"]} == set(two)
    # the same outlets as the two banks' lists merged by distance
    merged = sorted(
        (i["distance_m"], i["fi_code"])
        for code in two
        for i in get(api, "/outlets/nearby", lat=GCJ[0], lng=GCJ[1], institution=code, limit=100)[
            "items"
        ]
    )
    assert [i["fi_code"] for i in either["items"]] == [code for _, code in merged][:100]


def test_region_filter_over_http(api: FlaskClient, engine: Engine) -> None:
    suzhou = get(api, "/outlets/search", q="银行", region="3205", limit=50)
    codes = [i["fi_code"] for i in suzhou["items"]]
    with engine.connect() as conn:
        regions = conn.execute(
            text("SELECT region_code FROM institution WHERE fi_code = ANY(:codes)"),
            {"codes": codes},
        ).scalars()
        assert codes and all(code.startswith("3205") for code in regions)


def test_open_now_keeps_only_open_outlets(api: FlaskClient) -> None:
    body = get(api, "/outlets/nearby", lat=GCJ[0], lng=GCJ[1], open_now="true", limit=30)
    assert body["items"] and all(i["open_now"] is True for i in body["items"])
    everyone = get(api, "/outlets/nearby", lat=GCJ[0], lng=GCJ[1], limit=30)
    assert all(i["open_now"] in (True, False) for i in everyone["items"])
    assert all(i["hours_verified"] for i in everyone["items"])


def test_cursor_pages_continue_without_overlap(api: FlaskClient) -> None:
    first = get(api, "/outlets/nearby", lat=GCJ[0], lng=GCJ[1], limit=5)
    second = get(
        api, "/outlets/nearby", lat=GCJ[0], lng=GCJ[1], limit=5, cursor=first["next_cursor"]
    )
    both = get(api, "/outlets/nearby", lat=GCJ[0], lng=GCJ[1], limit=10)
    assert [i["fi_code"] for i in first["items"] + second["items"]] == [
        i["fi_code"] for i in both["items"]
    ]


@pytest.mark.parametrize(
    ("path", "field", "params"),
    [
        ("/outlets/nearby", "lat", {"lat": 91, "lng": 118}),
        ("/outlets/nearby", "lat", {"lng": 118}),
        ("/outlets/nearby", "lng", {"lat": 32, "lng": "east"}),
        ("/outlets/nearby", "coord", {"lat": 32, "lng": 118, "coord": "mars"}),
        ("/outlets/nearby", "radius_m", {"lat": 32, "lng": 118, "radius_m": 1e9}),
        ("/outlets/nearby", "limit", {"lat": 32, "lng": 118, "limit": 100000}),
        ("/outlets/nearby", "business_type", {"lat": 32, "lng": 118, "business_type": "x"}),
        ("/outlets/nearby", "institution", {"lat": 32, "lng": 118, "institution": "ICBC"}),
        ("/outlets/nearby", "region", {"lat": 32, "lng": 118, "region": "32a"}),
        ("/outlets/nearby", "category", {"lat": 32, "lng": 118, "category": "bank,casino"}),
        ("/institutions", "category", {"category": "casino"}),
        ("/outlets/nearby", "cursor", {"lat": 32, "lng": 118, "cursor": "%%%not-base64"}),
        ("/outlets/nearby", "cursor", {"lat": 32, "lng": 118, "cursor": "eyJvIjogOTk5OTl9"}),
        ("/outlets/nearby", "open_now", {"lat": 32, "lng": 118, "open_now": "perhaps"}),
        (
            "/outlets/viewport",
            "min_lat",
            {"min_lat": 33, "min_lng": 118, "max_lat": 32, "max_lng": 119},
        ),
        (
            "/outlets/viewport",
            "zoom",
            {"min_lat": 32, "min_lng": 118, "max_lat": 33, "max_lng": 119, "zoom": 99},
        ),
        ("/outlets/search", "q", {"q": ""}),
        ("/outlets/search", "q", {"q": "新" * 51}),
        ("/outlets/search", "lng", {"q": "新街口", "lat": 32}),
        ("/regions", "parent", {"parent": "32"}),
    ],
)
def test_bad_input_is_a_422_naming_the_parameter(
    api: FlaskClient, path: str, field: str, params: dict[str, Any]
) -> None:
    bad(api, path, field, **params)


def test_detail_of_an_outlet(api: FlaskClient) -> None:
    near = get(api, "/outlets/nearby", lat=GCJ[0], lng=GCJ[1], limit=1)["items"][0]
    body = get(api, f"/outlets/{near['fi_code'].lower()}")
    assert body["fi_code"] == near["fi_code"] and body["coord"] == "gcj02"
    assert body["position"] == near["position"]
    assert body["legal_entity"]["name"].endswith("公司")
    assert body["region"]["full_name"].startswith("江苏省")
    labels = {b["key"]: b["label_zh"] for b in body["business_type_labels"]}
    assert set(labels) == set(body["business_types"])
    assert body["hours"]["text"] and isinstance(body["open_now"], bool)
    assert body["photos"] == [] and body["service_links"] == []


def test_detail_carries_the_outlets_service_links(api: FlaskClient, engine: Engine) -> None:
    code = get(api, "/outlets/nearby", lat=GCJ[0], lng=GCJ[1], limit=1)["items"][0]["fi_code"]
    links = [
        {"kind": "queue", "label": "线上取号", "appid": "wx1234567890abcdef", "path": "pages/q"},
        {"kind": "appointment", "label": "预约", "url": "https://example.com/book"},
    ]
    update = (
        "UPDATE outlet_profile SET service_links = CAST(:links AS jsonb) "
        "WHERE institution_id = (SELECT id FROM institution WHERE fi_code = :code)"
    )
    with engine.begin() as conn:
        conn.execute(text(update), {"links": json.dumps(links), "code": code})
    try:
        body = get(api, f"/outlets/{code}")
    finally:
        with engine.begin() as conn:
            conn.execute(text(update), {"links": "[]", "code": code})
    shown = [{k: v for k, v in link.items() if v is not None} for link in body["service_links"]]
    assert shown == links


def test_unknown_and_revoked_outlets(api: FlaskClient, engine: Engine) -> None:
    assert api.get(f"{API}/outlets/C9999999999999").status_code == 404
    with engine.connect() as conn:
        code = conn.execute(
            text("SELECT fi_code FROM institution WHERE status = 'revoked' LIMIT 1")
        ).scalar_one()
    gone = api.get(f"{API}/outlets/{code}")
    assert gone.status_code == 410 and "撤销" in gone.get_json()["message"]


def test_text_search(api: FlaskClient, engine: Engine) -> None:
    with engine.connect() as conn:
        name = conn.execute(
            text(
                "SELECT i.name FROM institution i JOIN outlet_profile o ON o.institution_id = i.id "
                "WHERE i.status = 'active' AND o.position IS NOT NULL ORDER BY i.fi_code LIMIT 1"
            )
        ).scalar_one()
    exact = get(api, "/outlets/search", q=name)
    assert exact["items"][0]["name"] == name
    near = get(api, "/outlets/search", q="支行", lat=GCJ[0], lng=GCJ[1], limit=10)
    distances = [i["distance_m"] for i in near["items"]]
    assert distances and distances == sorted(distances)
    assert get(api, "/outlets/search", q="%_%")["items"] == []
    typo = name[:-3] + "支航"  # 行 → 航: found by resemblance (pg_trgm)
    assert name in [i["name"] for i in get(api, "/outlets/search", q=typo, limit=5)["items"]]


def test_viewport_clusters_or_outlets(api: FlaskClient) -> None:
    province = get(
        api, "/outlets/viewport", min_lat=30.7, min_lng=116.3, max_lat=35.2, max_lng=121.9, zoom=7
    )
    assert province["mode"] == "clusters" and province["items"] == []
    assert sum(c["count"] for c in province["clusters"]) == province["total"] > 200
    street = get(
        api,
        "/outlets/viewport",
        min_lat=32.03,
        min_lng=118.77,
        max_lat=32.05,
        max_lng=118.80,
        zoom=16,
    )
    # one item per pin; the total counts outlets, the parts of each pin included
    assert street["mode"] == "outlets" and len(street["items"]) > 0
    assert street["total"] == sum(1 + len(i["parts"]) for i in street["items"])


@pytest.mark.parametrize("coord", ["gcj02", "bd09"])
def test_a_viewport_one_line_thin_is_answered(api: FlaskClient, coord: str) -> None:
    """Shifted into WGS-84, a rectangle in GCJ-02 or BD-09 is slightly skewed: a view
    with min_lng == max_lng must not come out with its corners the wrong way round."""
    line = get(
        api,
        "/outlets/viewport",
        min_lat=32.0,
        max_lat=32.1,
        min_lng=118.78,
        max_lng=118.78,
        coord=coord,
        zoom=16,
    )
    assert line["mode"] == "outlets" and line["coord"] == coord


def test_a_viewport_in_gcj02_holds_the_outlets_inside_it(api: FlaskClient) -> None:
    nearest = get(api, "/outlets/nearby", lat=GCJ[0], lng=GCJ[1], limit=5)["items"]
    for item in nearest:
        lat, lng = item["position"]["lat"], item["position"]["lng"]
        view = get(
            api,
            "/outlets/viewport",
            min_lat=lat - 0.0005,
            max_lat=lat + 0.0005,
            min_lng=lng - 0.0005,
            max_lng=lng + 0.0005,
            zoom=18,
        )
        assert item["fi_code"] in {i["fi_code"] for i in view["items"]}
        assert all(abs(i["position"]["lat"] - lat) <= 0.0005 for i in view["items"])


def test_vocabularies(api: FlaskClient) -> None:
    types = api.get(f"{API}/business-types").get_json()
    assert {
        "key": "foreign_exchange",
        "label_zh": "外币兑换",
        "label_en": "Foreign currency exchange",
        "kind": "service",
    } in types
    insurers = api.get(f"{API}/institutions", query_string={"category": "insurance"}).get_json()
    assert insurers and {i["category"] for i in insurers} == {"insurance"}
    cities = api.get(f"{API}/regions").get_json()
    assert len(cities) == 13 and cities[0]["code"] == "320100"
    districts = api.get(f"{API}/regions", query_string={"parent": "320100"}).get_json()
    xuanwu = next(d for d in districts if d["code"] == "320102")
    assert {k: xuanwu[k] for k in ("code", "name", "full_name", "level")} == {
        "code": "320102",
        "name": "玄武区",
        "full_name": "江苏省南京市玄武区",
        "level": "county",
    }
    seat = regions.place("320102")
    assert seat is not None
    assert xuanwu["centre"] == position_in(seat.lat, seat.lng, "gcj02")  # coord's default
    wgs = api.get(f"{API}/regions", query_string={"parent": "320100", "coord": "wgs84"}).get_json()
    assert next(d for d in wgs if d["code"] == "320102")["centre"] == {
        "lat": seat.lat,
        "lng": seat.lng,
    }
    assert api.get(f"{API}/regions", query_string={"parent": "999999"}).status_code == 404


def test_every_finder_route_is_documented(api: FlaskClient) -> None:
    spec = api.get("/openapi.json").get_json()
    paths = {p: ops for p, ops in spec["paths"].items() if p.startswith(API)}
    assert {
        f"{API}/outlets/nearby",
        f"{API}/outlets/viewport",
        f"{API}/outlets/search",
        f"{API}/outlets/{{fi_code}}",
        f"{API}/business-types",
        f"{API}/institutions",
        f"{API}/regions",
    } <= set(paths)
    for path, ops in paths.items():
        for method, op in ops.items():
            if method == "parameters":
                continue
            assert op.get("summary") or op.get("description"), (path, method)
            assert any(code.startswith("2") for code in op["responses"]), (path, method)


def test_lists_are_utf8_json_with_sorted_keys(api: FlaskClient) -> None:
    """The lists are encoded by orjson (web.api.prebuilt), the rest by Flask: the
    same JSON either way, Chinese as UTF-8 text and keys in order."""
    response = api.get(API + "/outlets/nearby", query_string={"lat": GCJ[0], "lng": GCJ[1]})
    assert response.status_code == 200 and response.mimetype == "application/json"
    raw = response.get_data(as_text=True)
    assert "\\u" not in raw and "银行" in raw
    body = json.loads(raw)
    assert list(body) == sorted(body)
    assert body["items"] and all(list(item) == sorted(item) for item in body["items"])


def test_the_detail_links_to_each_map_app_in_its_own_coordinates(api: FlaskClient) -> None:
    """Tencent and Amap read GCJ-02, Baidu BD-09: each link's point is core.coords'
    conversion of the stored (WGS-84) position, to within a metre."""
    fi_code = get(api, "/outlets/nearby", lat=GCJ[0], lng=GCJ[1], limit=1)["items"][0]["fi_code"]
    stored = get(api, f"/outlets/{fi_code}", coord="wgs84")
    lat, lng = stored["position"]["lat"], stored["position"]["lng"]
    links = stored["navigation"]
    tencent = parse_qs(urlsplit(links["tencent"]).query)["marker"][0]
    t_lat, t_lng = map(float, tencent.split(";")[0].removeprefix("coord:").split(","))
    assert stored["name"] in tencent
    a_lng, a_lat = map(float, parse_qs(urlsplit(links["amap"]).query)["position"][0].split(","))
    baidu = parse_qs(urlsplit(links["baidu"]).query)
    b_lat, b_lng = map(float, baidu["location"][0].split(","))
    assert baidu["coord_type"] == ["bd09ll"]
    for (got_lat, got_lng), system in (
        ((t_lat, t_lng), "gcj02"),
        ((a_lat, a_lng), "gcj02"),
        ((b_lat, b_lng), "bd09"),
    ):
        want = convert(lat, lng, "wgs84", system)
        assert distance_m(want[0], want[1], got_lat, got_lng) < 1.0, system
