"""Public error reports, feedback and install registrations, through HTTP on the real database.

Also the per-client rate limit: counted in PostgreSQL, so it holds across app
instances (workers), counts failed requests, and never stores a raw address.
"""

from __future__ import annotations

import json
import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from backend.app import create_app
from core.base import Base
from core.coords import COORD_SYSTEMS, CoordSystem, convert, distance_m
from core.models.registry import Institution, OutletProfile
from core.ratelimit import client_identity, decide, hit
from feedback.submissions import install_registrations_by_employer
from tests.conftest import TestConfig

HEAD = "C1010211000012"  # a legal entity (head office)
OTHER_HEAD = "C1030211000015"
OUTLET = "C1010232000123"
CLOSED = "C1010232000131"  # revoked: "closed for good" is still reportable
URL = f"/api/mp/v1/outlets/{OUTLET}/error-reports"
# Xinjiekou, Nanjing, as WeChat's map gives it (GCJ-02)
GCJ = (32.041544, 118.784355)


def add_institution(
    engine: Engine, fi_code: str, level: str = "outlet", legal: str = HEAD, revoked: bool = False
) -> None:
    with Session(engine) as session:
        institution = Institution(
            fi_code=fi_code,
            name=f"测试机构{fi_code[-4:]}",
            category="bank",
            legal_entity_code=legal,
            level=level,
            region_code="320102",
            status="revoked" if revoked else "active",
            revoked_on=date(2024, 1, 1) if revoked else None,
        )
        if level == "outlet":
            institution.profile = OutletProfile(
                position="SRID=4326;POINT(118.7787 32.0431)", position_coord_system="wgs84"
            )
        session.add(institution)
        session.commit()


@pytest.fixture
def registry(app: Flask, engine: Engine) -> Engine:
    add_institution(engine, HEAD, level="head_office", legal=HEAD)
    add_institution(engine, OTHER_HEAD, level="head_office", legal=OTHER_HEAD)
    add_institution(engine, OUTLET)
    add_institution(engine, CLOSED, revoked=True)
    return engine


def rows(engine: Engine, sql: str, **params: Any) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(text(sql), params)]


def error_at(body: dict[str, Any], path: str) -> Any:
    """The errors under a dotted path, e.g. 'json.suggested_position.lat'."""
    node: Any = body["errors"]
    for part in path.split("."):
        assert isinstance(node, dict) and part in node, f"{path} not in {body['errors']}"
        node = node[part]
    return node


# --- error reports --------------------------------------------------------------------------


def test_error_report_is_stored_exactly(client: FlaskClient, registry: Engine) -> None:
    payload = {"kind": "phone", "comment": " 电话已改为 025-84561234 ", "contact": "138****0000"}
    response = client.post(URL, json=payload)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert set(body) == {"id", "fi_code", "kind", "status", "created_at"}
    assert (body["kind"], body["status"], body["fi_code"]) == ("phone", "open", OUTLET)
    [row] = rows(registry, "SELECT * FROM error_report")
    assert row["id"] == body["id"]
    assert row["comment"] == "电话已改为 025-84561234"
    assert row["contact"] == "138****0000"
    assert row["suggested_position"] is None and row["suggested_coord_system"] is None
    assert len(row["client_key_hash"]) == 64
    assert row["resolved_at"] is None and row["resolution_reason"] is None


@pytest.mark.parametrize("coord", COORD_SYSTEMS)
def test_suggested_position_is_stored_in_wgs84(
    client: FlaskClient, registry: Engine, coord: CoordSystem
) -> None:
    lat, lng = convert(*GCJ, "gcj02", coord)
    position = {"lat": lat, "lng": lng, "coord": coord}
    response = client.post(URL, json={"kind": "position", "suggested_position": position})
    assert response.status_code == 201, response.get_json()
    [row] = rows(
        registry,
        "SELECT ST_Y(suggested_position::geometry) AS lat, ST_X(suggested_position::geometry) "
        "AS lng, suggested_coord_system FROM error_report",
    )
    expected = convert(lat, lng, coord, "wgs84")
    assert distance_m(row["lat"], row["lng"], *expected) < 0.5
    assert distance_m(row["lat"], row["lng"], *GCJ) > 100  # really converted off GCJ-02
    assert row["suggested_coord_system"] == coord


def test_report_on_a_closed_outlet_is_accepted(client: FlaskClient, registry: Engine) -> None:
    response = client.post(f"/api/mp/v1/outlets/{CLOSED}/error-reports", json={"kind": "closed"})
    assert response.status_code == 201


def test_unknown_outlet_is_404(client: FlaskClient, registry: Engine) -> None:
    response = client.post(
        "/api/mp/v1/outlets/C9999999999999/error-reports", json={"kind": "phone"}
    )
    assert response.status_code == 404
    body = response.get_json()
    assert "C9999999999999" in body["message"] and "网点" in body["message"]
    assert error_at(body, "path.fi_code")
    assert rows(registry, "SELECT id FROM error_report") == []


def test_comment_of_exactly_500_characters_is_accepted(
    client: FlaskClient, registry: Engine
) -> None:
    response = client.post(URL, json={"kind": "hours", "comment": "时" * 500})
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"kind": "wrong"}, "json.kind"),
        ({"comment": "no kind"}, "json.kind"),
        ({"kind": "hours", "comment": "时" * 501}, "json.comment"),
        ({"kind": "other"}, "json.comment"),  # "other" says nothing without a comment
        ({"kind": "other", "comment": "a\x00b"}, "json.comment"),
        ({"kind": "phone", "contact": "x" * 101}, "json.contact"),
        ({"kind": "phone", "comment": 12}, "json.comment"),
        ({"kind": "phone", "extra": 1}, "json.extra"),
        ({"kind": "position", "suggested_position": {"lat": 91, "lng": 118}}, "lat"),
        ({"kind": "position", "suggested_position": {"lat": 32, "lng": 181}}, "lng"),
        ({"kind": "position", "suggested_position": {"lat": "北", "lng": 118}}, "lat"),
        ({"kind": "position", "suggested_position": {"lat": True, "lng": 118}}, "lat"),
        ({"kind": "position", "suggested_position": {"lng": 118}}, "lat"),
        (
            {"kind": "position", "suggested_position": {"lat": 32, "lng": 118, "coord": "mars"}},
            "coord",
        ),
        # Paris: outside China, most likely lat and lng swapped or a wrong map
        ({"kind": "position", "suggested_position": {"lat": 48.85, "lng": 2.35}}, ""),
        ({"kind": "position", "suggested_position": [32, 118]}, ""),
    ],
)
def test_bad_error_report_is_422_naming_the_field(
    client: FlaskClient, registry: Engine, payload: dict[str, Any], field: str
) -> None:
    if field in ("lat", "lng", "coord", ""):
        field = "json.suggested_position" + (f".{field}" if field else "")
    response = client.post(URL, json=payload)
    assert response.status_code == 422, response.get_json()
    body = response.get_json()
    assert error_at(body, field)
    assert body["message"].isascii() is False  # Chinese for the public
    assert rows(registry, "SELECT id FROM error_report") == []


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ('{"kind": "position", "suggested_position": {"lat": NaN, "lng": 118}}', "lat"),
        ('{"kind": "position", "suggested_position": {"lat": 32, "lng": Infinity}}', "lng"),
    ],
)
def test_non_finite_coordinates_are_422(
    client: FlaskClient, registry: Engine, raw: str, field: str
) -> None:
    response = client.post(URL, data=raw, content_type="application/json")
    assert response.status_code == 422
    assert error_at(response.get_json(), f"json.suggested_position.{field}")


def test_body_that_is_not_json_is_4xx(client: FlaskClient, registry: Engine) -> None:
    response = client.post(URL, data="{kind", content_type="application/json")
    assert response.status_code == 400
    assert "json" in response.get_json()["errors"]


# --- feedback and install registrations -----------------------------------------------------


def test_feedback_is_stored_exactly(client: FlaskClient, registry: Engine) -> None:
    payload = {"kind": "suggestion", "text": "希望增加按无障碍设施筛选", "contact": "微信 abc"}
    response = client.post("/api/mp/v1/feedback", json=payload)
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"id", "kind", "created_at"}
    [row] = rows(registry, "SELECT * FROM feedback")
    assert (row["id"], row["kind"], row["text"], row["contact"]) == (
        body["id"],
        "suggestion",
        "希望增加按无障碍设施筛选",
        "微信 abc",
    )
    assert row["staff_name"] is None and row["employer_fi_code"] is None


def test_install_registrations_are_counted_per_employer(
    client: FlaskClient, registry: Engine
) -> None:
    for name, code in (
        ("张三", HEAD),
        ("李四", HEAD.lower()),
        ("王五", OTHER_HEAD),
        ("赵六", None),
    ):
        registration = {
            "kind": "install_registration",
            "staff_name": name,
            "employer_name": "某银行南京分行",
            "employer_fi_code": code,
        }
        assert client.post("/api/mp/v1/feedback", json=registration).status_code == 201
    with Session(registry) as session:
        assert install_registrations_by_employer(session) == {HEAD: 2, OTHER_HEAD: 1}
    assert len(rows(registry, "SELECT id FROM feedback WHERE kind = 'install_registration'")) == 4


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"kind": "install_registration", "employer_name": "某银行"}, "staff_name"),
        ({"kind": "install_registration", "staff_name": "张三"}, "employer_name"),
        ({"kind": "install_registration", "staff_name": " ", "employer_name": "某"}, "staff_name"),
        (
            {
                "kind": "install_registration",
                "staff_name": "张三",
                "employer_name": "某银行",
                "employer_fi_code": "C9999999999999",
            },
            "employer_fi_code",
        ),
        (  # an outlet is not an employer to count under: its legal entity is
            {
                "kind": "install_registration",
                "staff_name": "张三",
                "employer_name": "某银行",
                "employer_fi_code": OUTLET,
            },
            "employer_fi_code",
        ),
        ({"kind": "suggestion"}, "text"),
        ({"kind": "problem", "text": "字" * 1001}, "text"),
        ({"kind": "suggestion", "text": "好", "staff_name": "张三"}, "staff_name"),
        ({"kind": "praise", "text": "好"}, "kind"),
        ({"kind": "problem", "text": None}, "text"),
    ],
)
def test_bad_feedback_is_422_naming_the_field(
    client: FlaskClient, registry: Engine, payload: dict[str, Any], field: str
) -> None:
    response = client.post("/api/mp/v1/feedback", json=payload)
    assert response.status_code == 422, response.get_json()
    body = response.get_json()
    assert error_at(body, f"json.{field}")
    assert body["message"].isascii() is False
    assert rows(registry, "SELECT id FROM feedback") == []


# --- rate limit -----------------------------------------------------------------------------


def test_eleventh_report_within_the_hour_is_429(client: FlaskClient, registry: Engine) -> None:
    for _ in range(10):
        assert client.post(URL, json={"kind": "phone"}).status_code == 201
    response = client.post(URL, json={"kind": "phone"})
    assert response.status_code == 429
    assert response.get_json()["message"] == "提交过于频繁，请稍后再试"
    assert 0 < int(response.headers["Retry-After"]) <= 2 * 3600
    assert len(rows(registry, "SELECT id FROM error_report")) == 10
    # another client still may; the same client may still send feedback (another scope)
    other = client.post(URL, json={"kind": "phone"}, environ_base={"REMOTE_ADDR": "10.9.8.7"})
    assert other.status_code == 201
    assert (
        client.post("/api/mp/v1/feedback", json={"kind": "problem", "text": "x"}).status_code == 201
    )


def test_limit_holds_across_two_workers_and_counts_failed_requests(
    app: Flask, registry: Engine, database_url: str
) -> None:
    second = create_app(TestConfig(database_url=database_url))
    try:
        workers = [app.test_client(), second.test_client()]
        for i in range(5):  # rolled-back requests (404) count too
            missing = "/api/mp/v1/outlets/C9999999999999/error-reports"
            assert workers[i % 2].post(missing, json={"kind": "phone"}).status_code == 404
        for i in range(5):
            assert workers[i % 2].post(URL, json={"kind": "phone"}).status_code == 201
        assert workers[0].post(URL, json={"kind": "phone"}).status_code == 429
        assert workers[1].post(URL, json={"kind": "phone"}).status_code == 429
    finally:
        second.extensions["branchfinder.db"].dispose()


def test_forwarded_for_is_believed_only_behind_trusted_proxies(
    registry: Engine, database_url: str
) -> None:
    def reports(app: Flask, forwarded: list[str]) -> list[int]:
        client = app.test_client()
        return [
            client.post(URL, json={"kind": "phone"}, headers={"X-Forwarded-For": f}).status_code
            for f in forwarded
        ]

    config = TestConfig(database_url=database_url, error_report_rate_limit=2)
    direct = create_app(config)
    proxied = create_app(replace(config, trusted_proxy_count=1))
    try:
        # no trusted proxy: a forged header does not buy a fresh quota
        assert reports(direct, ["1.1.1.1", "2.2.2.2", "3.3.3.3"]) == [201, 201, 429]
        # one trusted proxy: the address it appended is the client
        spoofed = ["6.6.6.6, 4.4.4.4", "7.7.7.7, 4.4.4.4", "4.4.4.4", "5.5.5.5"]
        assert reports(proxied, spoofed) == [201, 201, 429, 201]
    finally:
        for app in (direct, proxied):
            app.extensions["branchfinder.db"].dispose()


def test_raw_address_is_stored_nowhere(client: FlaskClient, registry: Engine) -> None:
    address = "203.0.113.77"
    environ = {"REMOTE_ADDR": address}
    position = {"lat": GCJ[0], "lng": GCJ[1]}
    client.post(
        URL, json={"kind": "position", "suggested_position": position}, environ_base=environ
    )
    client.post("/api/mp/v1/feedback", json={"kind": "problem", "text": "x"}, environ_base=environ)
    dump: list[str] = []
    with registry.connect() as conn:
        for table in Base.metadata.sorted_tables:
            dump += conn.execute(text(f"SELECT t::text FROM {table.name} t")).scalars().all()
    assert any("error_report" in line for line in dump)  # the rate-limit buckets are there
    assert not [line for line in dump if address in line or "203.0.113" in line]


def test_stale_windows_are_cleaned_up(client: FlaskClient, registry: Engine) -> None:
    client.post(URL, json={"kind": "phone"})
    [key] = [r["key"] for r in rows(registry, "SELECT key FROM rate_limit_bucket")]
    with registry.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO rate_limit_bucket VALUES (:key, now() - interval '5 hours', 3), "
                "(:key, now() - interval '3 days', 3)"
            ),
            {"key": key},
        )
        conn.execute(
            text(
                "UPDATE rate_limit_bucket SET window_start = window_start - interval '1 hour' "
                "WHERE count = 1"
            )
        )
    client.post(URL, json={"kind": "phone"})  # first hit of a new window
    # this window and the previous one stay (the estimate needs it); older ones are gone
    assert [r["count"] for r in rows(registry, "SELECT count FROM rate_limit_bucket")] == [1, 1]
    assert not rows(
        registry, "SELECT 1 FROM rate_limit_bucket WHERE window_start < now() - interval '3 hours'"
    )


def test_sliding_window_decision() -> None:
    hour = 3600
    assert decide(10, 0, 10.0, 10, hour).allowed
    refused = decide(11, 0, 600.0, 10, hour)
    # refused hits count: 11 hits must decay to 9 in the next window before one more fits
    assert not refused.allowed and refused.retry_after_s == math.ceil(3000 + hour * 2 / 11)
    # just after a boundary, the previous window's hits still weigh almost fully
    assert not decide(1, 10, 1.0, 10, hour).allowed
    assert decide(1, 10, 1800.0, 10, hour).allowed
    late = decide(3, 10, 60.0, 10, hour)
    assert not late.allowed and late.retry_after_s == 2 * hour // 5 - 60


def test_client_identity() -> None:
    assert client_identity("10.0.0.1", "1.2.3.4", 0) == "10.0.0.1"
    assert client_identity("10.0.0.1", "9.9.9.9, 1.2.3.4", 1) == "1.2.3.4"
    assert client_identity("10.0.0.1", "9.9.9.9, 1.2.3.4", 2) == "9.9.9.9"
    assert client_identity("10.0.0.1", "", 1) == "10.0.0.1"
    assert client_identity("2001:db8::1", "", 0) == client_identity("2001:db8::ffff", "", 0)
    assert client_identity("::ffff:1.2.3.4", "", 0) == "1.2.3.4"


# --- documentation --------------------------------------------------------------------------


def test_every_answer_is_documented(client: FlaskClient) -> None:
    spec = json.loads(client.get("/openapi.json").data)
    reports = spec["paths"]["/api/mp/v1/outlets/{fi_code}/error-reports"]["post"]["responses"]
    feedback = spec["paths"]["/api/mp/v1/feedback"]["post"]["responses"]
    assert {"201", "404", "422", "429"} <= set(reports)
    assert {"201", "422", "429"} <= set(feedback)
    assert "Retry-After" in reports["429"]["headers"]
    kind = spec["components"]["schemas"]["ErrorReportArgs"]["properties"]["kind"]
    assert "纠错类型" in kind["title"] and "closed" in kind["enum"]


def test_concurrent_hits_are_counted_exactly(engine: Engine, app: Flask) -> None:
    def one(_: int) -> bool:
        return hit(engine, "test:concurrent", 10, 3600).allowed

    with ThreadPoolExecutor(max_workers=8) as pool:
        decisions = list(pool.map(one, range(30)))
    assert decisions.count(True) == 10
    assert rows(engine, "SELECT count FROM rate_limit_bucket") == [{"count": 30}]
