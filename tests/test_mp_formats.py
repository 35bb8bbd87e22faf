"""The public lists' other shapes: GeoJSON (RFC 7946), field selection and sorting."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, text

import miniprogram_api.outlets
from core.coords import convert, distance_m
from miniprogram_api.schemas import SUMMARY_FIELDS, OutletSummarySchema
from tests.conftest import app_on, load_generated

API = "/api/mp/v1"
GCJ = (32.039452, 118.783309)  # Xinjiekou
NEAR = f"lat={GCJ[0]}&lng={GCJ[1]}"
VIEW = "min_lat=31.9&min_lng=118.6&max_lat=32.2&max_lng=118.95"
MONDAY_10AM = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def finder(
    engine: Engine, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Flask]:
    load_generated(engine, tmp_path_factory.mktemp("formats"), outlets=400, seed=8)
    with app_on(engine, database_url) as app:
        yield app


@pytest.fixture
def api(finder: Flask, monkeypatch: pytest.MonkeyPatch) -> FlaskClient:
    monkeypatch.setattr(miniprogram_api.outlets, "_now", lambda: MONDAY_10AM)
    return finder.test_client()


def get(api: FlaskClient, path: str, **headers: str) -> Any:
    response = api.get(f"{API}{path}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response


def assert_feature_collection(doc: dict[str, Any]) -> None:
    """RFC 7946's structure: 3.3 FeatureCollection, 3.2 Feature, 3.1.2 Point with [lng, lat]
    within the WGS-84 ranges."""
    assert doc["type"] == "FeatureCollection"
    assert isinstance(doc["features"], list)
    assert "crs" not in doc  # removed by RFC 7946 (4)
    for feature in doc["features"]:
        assert feature["type"] == "Feature"
        assert set(feature) <= {"type", "id", "geometry", "properties", "bbox"}
        assert isinstance(feature["properties"], dict)
        geometry = feature["geometry"]
        assert geometry["type"] == "Point"
        lng, lat = geometry["coordinates"]
        assert len(geometry["coordinates"]) == 2
        assert -180 <= lng <= 180 and -90 <= lat <= 90
        assert "id" not in feature or isinstance(feature["id"], str | int)


@pytest.mark.parametrize("how", [{"query": "&format=geojson"}, {"accept": "application/geo+json"}])
def test_nearby_as_geojson_in_wgs84(api: FlaskClient, how: dict[str, str]) -> None:
    headers = {"Accept": how["accept"]} if "accept" in how else {}
    plain = get(api, f"/outlets/nearby?{NEAR}&limit=5").get_json()
    answer = get(
        api, f"/outlets/nearby?{NEAR}&limit=5&coord=gcj02{how.get('query', '')}", **headers
    )
    assert answer.mimetype == "application/geo+json"
    doc = answer.get_json()
    assert_feature_collection(doc)
    assert doc["coord"] == "gcj02"  # asked for: marked in the output
    assert [f["id"] for f in doc["features"]] == [i["fi_code"] for i in plain["items"]]
    for feature, item in zip(doc["features"], plain["items"], strict=True):
        assert feature["geometry"]["coordinates"] == [
            item["position"]["lng"],
            item["position"]["lat"],
        ]
        assert feature["properties"] == {k: v for k, v in item.items() if k != "position"}
    # without coord=, positions in and out are WGS-84 (RFC 7946, 4)
    wgs = convert(GCJ[0], GCJ[1], "gcj02", "wgs84")
    default = get(
        api, f"/outlets/nearby?lat={wgs[0]}&lng={wgs[1]}&limit=5{how.get('query', '')}", **headers
    ).get_json()
    assert default["coord"] == "wgs84"
    assert [f["id"] for f in default["features"]] == [i["fi_code"] for i in plain["items"]]
    for feature, item in zip(default["features"], plain["items"], strict=True):
        lat, lng = convert(item["position"]["lat"], item["position"]["lng"], "gcj02", "wgs84")
        got_lng, got_lat = feature["geometry"]["coordinates"]
        assert distance_m(lat, lng, got_lat, got_lng) < 0.5


def test_search_and_viewport_as_geojson(api: FlaskClient) -> None:
    found = get(api, "/outlets/search?q=银行&limit=3&format=geojson").get_json()
    assert_feature_collection(found)
    assert len(found["features"]) == 3 and found["next_cursor"]
    province = "min_lat=30.7&min_lng=116.3&max_lat=35.2&max_lng=121.9&zoom=7"
    clusters = get(api, f"/outlets/viewport?{province}&format=geojson").get_json()
    assert_feature_collection(clusters)
    assert clusters["mode"] == "clusters" and clusters["total"] > 0
    counted = [
        f["properties"]["count"] for f in clusters["features"] if f["properties"].get("cluster")
    ]
    assert counted and sum(counted) == clusters["total"]
    close = get(
        api, f"/outlets/viewport?{VIEW}&zoom=18&format=geojson&fields=name&kind=branch"
    ).get_json()
    assert_feature_collection(close)
    assert all(set(f["properties"]) == {"fi_code", "name"} for f in close["features"])


def test_json_stays_the_default(api: FlaskClient) -> None:
    for accept in ("*/*", "application/json", "application/json, application/geo+json;q=0.5"):
        answer = get(api, f"/outlets/nearby?{NEAR}&limit=2", Accept=accept)
        assert answer.mimetype == "application/json" and "items" in answer.get_json()


def test_the_tag_differs_between_json_and_geojson(api: FlaskClient) -> None:
    path = f"/outlets/nearby?{NEAR}&limit=2"
    plain = get(api, path).headers["ETag"]
    geo = get(api, path, Accept="application/geo+json").headers["ETag"]
    assert plain != geo


def test_fields_choose_what_each_outlet_carries(api: FlaskClient) -> None:
    assert set(SUMMARY_FIELDS) == set(OutletSummarySchema().fields)
    full = get(api, f"/outlets/nearby?{NEAR}&limit=4").get_json()["items"]
    chosen = get(api, f"/outlets/nearby?{NEAR}&limit=4&fields=name,position,open_now").get_json()
    assert chosen["items"] == [
        {k: item[k] for k in ("fi_code", "name", "position", "open_now")} for item in full
    ]
    repeated = get(api, f"/outlets/nearby?{NEAR}&limit=4&fields=name&fields=open_now").get_json()
    assert all(set(i) == {"fi_code", "name", "open_now"} for i in repeated["items"])


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("fields=name,nme", "fields"),
        ("fields=position,password", "fields"),
        ("sort=nearest", "sort"),
        ("sort=updated_at", "sort"),
        ("format=kml", "format"),
    ],
)
def test_an_unknown_field_sort_or_format_is_refused_by_name(
    api: FlaskClient, query: str, field: str
) -> None:
    answer = api.get(f"{API}/outlets/nearby?{NEAR}&{query}")
    assert answer.status_code == 422
    body = answer.get_json()
    assert field in body["errors"]["query"] and field in body["message"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in str(body["errors"]))


def test_sort_by_distance_needs_a_point_in_search(api: FlaskClient) -> None:
    answer = api.get(f"{API}/outlets/search?q=银行&sort=distance")
    assert answer.status_code == 422 and "sort" in answer.get_json()["errors"]["query"]


def pages(api: FlaskClient, path: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = ""
    while True:
        body = get(api, path + cursor).get_json()
        items += body["items"]
        if not body["next_cursor"]:
            return items
        cursor = f"&cursor={body['next_cursor']}"


def test_sort_by_name_lists_every_outlet_within_the_radius(api: FlaskClient) -> None:
    radius = 3000
    by_name = pages(api, f"/outlets/nearby?{NEAR}&radius_m={radius}&sort=name&limit=7")
    nearest = pages(api, f"/outlets/nearby?{NEAR}&radius_m={radius}&limit=7")
    assert len(by_name) >= 10
    assert sorted(i["fi_code"] for i in by_name) == sorted(i["fi_code"] for i in nearest)
    keys = [(i["name"], i["fi_code"]) for i in by_name]
    assert keys == sorted(keys)
    assert all(i["distance_m"] <= radius for i in by_name)
    assert [i["distance_m"] for i in nearest] == sorted(i["distance_m"] for i in nearest)


def test_sort_by_latest_change(api: FlaskClient, engine: Engine) -> None:
    first = get(api, f"/outlets/nearby?{NEAR}&radius_m=3000&limit=20").get_json()["items"]
    chosen = first[-1]["fi_code"]
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE institution SET updated_at = now() + interval '1 day' WHERE fi_code = :c"),
            {"c": chosen},
        )
    try:
        latest = get(api, f"/outlets/nearby?{NEAR}&radius_m=3000&sort=-updated_at").get_json()
        assert latest["items"][0]["fi_code"] == chosen
        found = get(api, "/outlets/search?q=银行&sort=-updated_at&limit=50").get_json()["items"]
        assert found[0]["fi_code"] == chosen
    finally:
        with engine.begin() as conn:
            conn.execute(
                text("UPDATE institution SET updated_at = now() WHERE fi_code = :c"), {"c": chosen}
            )


def test_the_document_says_so(api: FlaskClient) -> None:
    spec = api.get("/openapi.json").get_json()
    nearby = spec["paths"]["/api/mp/v1/outlets/nearby"]["get"]
    names = {p["name"] for p in nearby["parameters"]}
    assert {"fields", "sort", "format"} <= names
    content = nearby["responses"]["200"]["content"]
    assert {"application/json", "application/geo+json"} <= set(content)
    viewport = spec["paths"]["/api/mp/v1/outlets/viewport"]["get"]["responses"]["200"]["content"]
    assert "application/geo+json" in viewport
