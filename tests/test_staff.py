"""Outlet staff on real PostGIS: sign-in through a fake WeChat, binding codes, uploads,
review flags, publication in the public finder, history and revert."""

from __future__ import annotations

import hashlib
import io
import itertools
import logging
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from backend.app import create_app
from core.coords import convert, distance_m
from profiles.revert import RevertRefused, revert
from registry.regions import bounds
from tests.conftest import TestConfig, load_generated, truncate_all
from tests.fake_wechat import APPID, SECRET, FakeWeChat, fake_wechat
from uploads import staff as staff_lib
from uploads.review_decisions import accept, reject
from web.extensions import db_session

API = "/api/mp/v1"
PEPPER = "staff-test-pepper"


@pytest.fixture(scope="module")
def wechat() -> Iterator[FakeWeChat]:
    with fake_wechat() as fake:
        yield fake


@pytest.fixture(scope="module")
def outlets(
    engine: Engine, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Iterator[str]]:
    """Active branches with a position and a region box, one per test that asks (staff
    upload a branch's counter services; its machines are outlets of their own)."""
    data = tmp_path_factory.mktemp("staff")
    load_generated(engine, data, outlets=120, seed=5)
    with Session(engine) as session:
        codes = session.execute(
            text(
                "SELECT i.fi_code, i.region_code FROM institution i "
                "JOIN outlet_profile p ON p.institution_id = i.id "
                "WHERE p.position IS NOT NULL AND i.status = 'active' AND i.kind = 'branch' "
                "ORDER BY i.fi_code"
            )
        ).all()
    yield iter([c.fi_code for c in codes if bounds(c.region_code) is not None])
    truncate_all(engine)


def make_app(database_url: str, wechat: FakeWeChat, photo_dir: Path, **settings: Any) -> Flask:
    config = TestConfig(
        database_url=database_url,
        secret_key=settings.pop("secret_key", PEPPER),
        mp_appid=APPID,
        mp_secret=SECRET,
        wechat_api_base_url=wechat.base_url,
        photo_dir=str(photo_dir),
        login_rate_limit=10_000,
        **settings,
    )
    return create_app(config)


@pytest.fixture
def app(
    database_url: str, wechat: FakeWeChat, outlets: Iterator[str], tmp_path: Path
) -> Iterator[Flask]:
    application = make_app(database_url, wechat, tmp_path / "photos")
    yield application
    application.extensions["branchfinder.db"].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def outlet(outlets: Iterator[str]) -> str:
    return next(outlets)


_openids = (f"oAbC-test-openid-{n:04d}" for n in itertools.count())


def sign_in(client: FlaskClient, wechat: FakeWeChat, openid: str | None = None) -> dict[str, str]:
    code = wechat.issue_code(openid or next(_openids))
    response = client.post(f"{API}/auth/login", json={"code": code})
    assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def issue_code(app: Flask, fi_code: str) -> str:
    with app.app_context():
        session = db_session()
        [issued] = staff_lib.create_tasks(
            session, [fi_code], actor="test-bank", pepper=PEPPER, qr_prefix="/bind?code="
        )
        session.commit()
    assert issued.qr_text == "/bind?code=" + issued.code
    return issued.code


def staff_of(app: Flask, client: FlaskClient, wechat: FakeWeChat, fi_code: str) -> dict[str, str]:
    """A signed-in staff member bound to `fi_code`."""
    headers = sign_in(client, wechat)
    response = client.post(
        f"{API}/staff/bind", json={"code": issue_code(app, fi_code)}, headers=headers
    )
    assert response.status_code == 200, response.get_json()
    return headers


def sql(app: Flask, statement: str, **params: Any) -> list[Any]:
    with app.app_context():
        session = db_session()
        result = session.execute(text(statement), params)
        rows = result.all() if result.returns_rows else []
        session.commit()
    return rows


def detail(client: FlaskClient, fi_code: str, coord: str = "wgs84") -> dict[str, Any]:
    response = client.get(f"{API}/outlets/{fi_code}", query_string={"coord": coord})
    assert response.status_code == 200
    body: dict[str, Any] = response.get_json()
    return body


def put(client: FlaskClient, headers: dict[str, str], fi_code: str, what: str, body: Any) -> Any:
    return client.put(f"{API}/staff/outlets/{fi_code}/{what}", json=body, headers=headers)


# --- sign-in --------------------------------------------------------------------------------


def test_login_gives_a_token_and_never_keeps_or_logs_the_openid(
    app: Flask, client: FlaskClient, wechat: FakeWeChat, caplog: pytest.LogCaptureFixture
) -> None:
    openid = "oSECRET-openid-never-stored"
    caplog.set_level(logging.DEBUG)
    code = wechat.issue_code(openid)
    response = client.post(f"{API}/auth/login", json={"code": code})
    assert response.status_code == 200
    body = response.get_json()
    assert len(body["token"]) >= 40 and body["expires_at"]
    assert openid not in response.get_data(as_text=True)
    assert openid not in caplog.text
    assert any(p.startswith("/sns/jscode2session?") for p in wechat.requests)
    # stored: a keyed hash of the openid, the token's sha256, never either in clear
    dump = sql(
        app,
        "SELECT (SELECT string_agg(m::text, ' ') FROM staff_member m) || "
        "(SELECT string_agg(t::text, ' ') FROM auth_token t)",
    )[0][0]
    assert openid not in dump and body["token"] not in dump
    # the same person signing in again is the same staff member
    again = client.post(f"{API}/auth/login", json={"code": wechat.issue_code(openid)})
    assert again.get_json()["staff_id"] == body["staff_id"]
    assert again.get_json()["token"] != body["token"]


@pytest.mark.parametrize(
    ("code", "status", "reason"),
    [
        ("never-issued", 401, "invalid_code"),
        ("RATE_LIMITED", 429, "wechat_rate_limited"),
        ("HIGH_RISK", 403, "high_risk_user"),
        ("BUSY", 503, "wechat_error"),
        ("BROKEN", 503, "wechat_unreachable"),
    ],
)
def test_wechat_refusals_become_clear_answers(
    client: FlaskClient, code: str, status: int, reason: str
) -> None:
    response = client.post(f"{API}/auth/login", json={"code": code})
    assert response.status_code == status
    body = response.get_json()
    assert body["errors"] == {"json": {"code": [reason]}}
    assert "Traceback" not in response.get_data(as_text=True)
    assert body["message"]


def test_a_code_works_once(client: FlaskClient, wechat: FakeWeChat) -> None:
    code = wechat.issue_code("oOnce")
    assert client.post(f"{API}/auth/login", json={"code": code}).status_code == 200
    second = client.post(f"{API}/auth/login", json={"code": code})
    assert second.status_code == 401  # WeChat's 40163, code been used


def test_login_without_configuration_or_code(
    database_url: str, wechat: FakeWeChat, tmp_path: Path, client: FlaskClient
) -> None:
    assert client.post(f"{API}/auth/login", json={}).status_code == 422
    assert client.post(f"{API}/auth/login", json={"code": ""}).status_code == 422
    app = create_app(TestConfig(database_url=database_url, photo_dir=str(tmp_path)))
    try:
        response = app.test_client().post(f"{API}/auth/login", json={"code": "x"})
        assert response.status_code == 503
        assert response.get_json()["errors"]["json"]["code"] == ["not_configured"]
    finally:
        app.extensions["branchfinder.db"].dispose()


def test_wrong_app_secret_is_a_503_not_a_500(
    database_url: str, wechat: FakeWeChat, tmp_path: Path
) -> None:
    config = TestConfig(
        database_url=database_url,
        mp_appid=APPID,
        mp_secret="wrong",
        wechat_api_base_url=wechat.base_url,
        photo_dir=str(tmp_path),
    )
    app = create_app(config)
    try:
        response = app.test_client().post(
            f"{API}/auth/login", json={"code": wechat.issue_code("o1")}
        )
        assert response.status_code == 503
    finally:
        app.extensions["branchfinder.db"].dispose()


def test_login_rate_limit_per_client(database_url: str, wechat: FakeWeChat, tmp_path: Path) -> None:
    app = make_app(database_url, wechat, tmp_path, secret_key="other-pepper")
    app.extensions["branchfinder.config"].login_rate_limit = 2
    try:
        client = app.test_client()
        statuses = [
            client.post(f"{API}/auth/login", json={"code": wechat.issue_code("oRL")}).status_code
            for _ in range(3)
        ]
        assert statuses == [200, 200, 429]
    finally:
        app.extensions["branchfinder.db"].dispose()


def test_tokens_missing_wrong_expired_or_revoked_are_401(
    app: Flask, client: FlaskClient, wechat: FakeWeChat
) -> None:
    url = f"{API}/staff/tasks"
    assert client.get(url).status_code == 401
    assert client.get(url, headers={"Authorization": "Bearer nonsense"}).status_code == 401
    assert client.get(url, headers={"Authorization": "Basic abc"}).status_code == 401
    headers = sign_in(client, wechat)
    assert client.get(url, headers=headers).status_code == 200
    sql(app, "UPDATE auth_token SET expires_at = now() - interval '1 second'")
    expired = client.get(url, headers=headers)
    assert expired.status_code == 401 and expired.headers["WWW-Authenticate"].startswith("Bearer")
    headers = sign_in(client, wechat)
    assert client.post(f"{API}/auth/logout", headers=headers).status_code == 204
    assert client.get(url, headers=headers).status_code == 401


# --- binding --------------------------------------------------------------------------------


def test_binding_code_works_once_and_only_for_its_outlet(
    app: Flask, client: FlaskClient, wechat: FakeWeChat, outlets: Iterator[str]
) -> None:
    mine, other = next(outlets), next(outlets)
    code = issue_code(app, mine)
    headers = sign_in(client, wechat)
    typed = code.lower().replace("-", " ")  # as someone types it from paper
    response = client.post(f"{API}/staff/bind", json={"code": typed}, headers=headers)
    assert response.status_code == 200
    task = response.get_json()
    assert task["fi_code"] == mine and task["status"] == "in_progress"
    again = client.post(f"{API}/staff/bind", json={"code": code}, headers=sign_in(client, wechat))
    assert again.status_code == 404  # used
    assert put(client, headers, mine, "phone", {"phone": "025-84571234"}).status_code == 200
    refused = put(client, headers, other, "phone", {"phone": "025-84571234"})
    assert refused.status_code == 403
    # an outlet that does not exist gets the same answer: codes can't be probed
    assert (
        put(client, headers, "X0000000000000", "phone", {"phone": "025-8457123"}).status_code == 403
    )


def test_binding_refusals(
    app: Flask,
    client: FlaskClient,
    wechat: FakeWeChat,
    outlets: Iterator[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    headers = sign_in(client, wechat)
    bind = f"{API}/staff/bind"
    assert client.post(bind, json={"code": "K7Q3M-9XPAB"}).status_code == 401
    malformed = client.post(bind, json={"code": "abc"}, headers=headers)
    assert malformed.status_code == 422 and malformed.get_json()["errors"]["json"]["code"]
    assert client.post(bind, json={"code": "K7Q3M-9XPAB"}, headers=headers).status_code == 404
    expired_code = issue_code(app, next(outlets))
    sql(
        app,
        "UPDATE upload_task SET code_expires_at = now() - interval '1 minute' "
        "WHERE code_expires_at IS NOT NULL",
    )
    assert client.post(bind, json={"code": expired_code}, headers=headers).status_code == 410
    monkeypatch.setattr(staff_lib, "MAX_OUTLETS_PER_STAFF", 1)
    first = client.post(bind, json={"code": issue_code(app, next(outlets))}, headers=headers)
    assert first.status_code == 200
    second = client.post(bind, json={"code": issue_code(app, next(outlets))}, headers=headers)
    assert second.status_code == 409


def test_guessing_codes_is_rate_limited(
    app: Flask, client: FlaskClient, wechat: FakeWeChat
) -> None:
    app.extensions["branchfinder.config"].staff_bind_rate_limit = 3
    headers = sign_in(client, wechat)
    statuses = [
        client.post(
            f"{API}/staff/bind", json={"code": f"AAAAA-AAAA{n}"}, headers=headers
        ).status_code
        for n in range(5)
    ]
    assert statuses == [404, 404, 404, 429, 429]


def test_tasks_list_what_is_missing_and_submit_needs_the_required_ones(
    app: Flask, client: FlaskClient, wechat: FakeWeChat, outlet: str
) -> None:
    headers = staff_of(app, client, wechat, outlet)
    sql(
        app,
        "UPDATE outlet_profile p SET business_types = '{}', opening_hours = NULL, "
        "phone = NULL FROM institution i WHERE i.id = p.institution_id AND "
        "i.fi_code = :fi",
        fi=outlet,
    )
    sql(app, "UPDATE institution SET phone = NULL WHERE fi_code = :fi", fi=outlet)
    [task] = client.get(f"{API}/staff/tasks", headers=headers).get_json()
    assert task["missing"] == ["business_types", "hours", "phone", "front_photo"]
    assert task["required_missing"] == ["business_types", "front_photo"]
    refused = client.post(f"{API}/staff/outlets/{outlet}/submit", headers=headers)
    assert refused.status_code == 409
    assert refused.get_json()["errors"]["missing"] == ["business_types", "front_photo"]


def test_registry_sync_gives_new_outlets_a_task(app: Flask, outlet: str) -> None:
    rows = sql(
        app,
        "SELECT t.status, t.created_by FROM upload_task t JOIN institution i "
        "ON i.id = t.institution_id WHERE i.fi_code = :fi",
        fi=outlet,
    )
    assert rows and rows[0].created_by == "registry-sync"
    every = sql(
        app,
        "SELECT count(*) FROM institution i WHERE i.level IN ('sub_branch', 'outlet') "
        "AND i.status = 'active' AND NOT EXISTS (SELECT 1 FROM upload_task t "
        "WHERE t.institution_id = i.id)",
    )
    assert every[0][0] == 0


# --- uploads --------------------------------------------------------------------------------


def test_position_upload_is_published_at_once(
    app: Flask, client: FlaskClient, wechat: FakeWeChat, outlet: str
) -> None:
    headers = staff_of(app, client, wechat, outlet)
    before = detail(client, outlet)["position"]
    wlat, wlng = before["lat"] + 0.002, before["lng"] + 0.002  # ~280 m away
    glat, glng = convert(wlat, wlng, "wgs84", "gcj02")
    response = put(
        client,
        headers,
        outlet,
        "position",
        {"lat": glat, "lng": glng, "coord": "gcj02", "accuracy_m": 12},
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["published"] is True and body["flags"] == [] and body["review_id"] is None
    after = detail(client, outlet)["position"]
    assert distance_m(after["lat"], after["lng"], wlat, wlng) < 0.5
    # the public finder sees it: nearest to the new point is this outlet
    near = client.get(
        f"{API}/outlets/nearby", query_string={"lat": glat, "lng": glng, "limit": 1}
    ).get_json()
    assert near["items"][0]["fi_code"] == outlet
    assert near["items"][0]["distance_m"] < 1
    event = sql(
        app,
        "SELECT channel, actor, field_group, before, after, published FROM change_event "
        "WHERE id = :id",
        id=body["event_id"],
    )[0]
    assert (event.channel, event.field_group, event.published) == (
        "staff_upload",
        "position",
        True,
    )
    assert event.actor.startswith("staff:")
    assert event.after["captured_in"] == "gcj02" and event.after["accuracy_m"] == 12
    assert event.before["latitude"] == pytest.approx(before["lat"], abs=1e-6)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"lat": 91, "lng": 118.7}, "lat"),
        ({"lat": 32, "lng": 181}, "lng"),
        ({"lat": 32, "lng": 118.7, "coord": "mercator"}, "coord"),
        ({"lat": 48.85, "lng": 2.35}, "lat"),  # Paris: outside China
        ({"lat": 32.04, "lng": 118.78, "accuracy_m": -3}, "accuracy_m"),
        ({"lng": 118.78}, "lat"),
        ({"lat": "north", "lng": 118.78}, "lat"),
    ],
)
def test_bad_positions_are_refused_naming_the_field(
    app: Flask,
    client: FlaskClient,
    wechat: FakeWeChat,
    outlet: str,
    body: dict[str, Any],
    field: str,
) -> None:
    headers = staff_of(app, client, wechat, outlet)
    response = put(client, headers, outlet, "position", body)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]["json"]


def test_position_outside_the_region_is_held_for_review(
    app: Flask, client: FlaskClient, wechat: FakeWeChat, outlet: str
) -> None:
    headers = staff_of(app, client, wechat, outlet)
    before = detail(client, outlet)["position"]
    response = put(
        client, headers, outlet, "position", {"lat": 39.9087, "lng": 116.3975, "coord": "wgs84"}
    )  # Beijing
    body = response.get_json()
    assert response.status_code == 200
    assert body["published"] is False and body["flags"] == ["outside_region"]
    assert detail(client, outlet)["position"] == before  # the public still sees the old one
    [task] = client.get(f"{API}/staff/tasks", headers=headers).get_json()
    assert task["in_review"] == 1
    with app.app_context():
        session = db_session()
        with pytest.raises(RevertRefused):
            revert(session, body["event_id"], actor="x", channel="pro_update")
        reject(session, body["review_id"], "bank-admin", "这是北京的位置")
        session.commit()
    assert detail(client, outlet)["position"] == before


def test_moving_a_confirmed_position_far_needs_review_and_accept_publishes(
    app: Flask, client: FlaskClient, wechat: FakeWeChat, outlet: str
) -> None:
    headers = staff_of(app, client, wechat, outlet)
    sql(
        app,
        "UPDATE outlet_profile p SET provenance = provenance || "
        '\'{"position": {"confirmed": true}}\' FROM institution i '
        "WHERE i.id = p.institution_id AND i.fi_code = :fi",
        fi=outlet,
    )
    start = detail(client, outlet)["position"]
    near = {"lat": start["lat"] + 0.009, "lng": start["lng"], "coord": "wgs84"}  # ~1 km
    assert put(client, headers, outlet, "position", near).get_json()["published"] is True
    sql(
        app,
        "UPDATE outlet_profile p SET provenance = provenance || "
        '\'{"position": {"confirmed": true}}\' FROM institution i '
        "WHERE i.id = p.institution_id AND i.fi_code = :fi",
        fi=outlet,
    )
    box = bounds(
        sql(app, "SELECT region_code FROM institution WHERE fi_code = :fi", fi=outlet)[0][0]
    )
    assert box is not None
    far_lat = min(start["lat"] + 0.03, box[2] - 0.001)  # up to ~3 km, inside the region
    far = {"lat": far_lat, "lng": start["lng"], "coord": "wgs84"}
    moved = distance_m(near["lat"], near["lng"], far["lat"], far["lng"])
    body = put(client, headers, outlet, "position", far).get_json()
    if moved > 2000:
        assert body["flags"] == ["moves_confirmed"] and body["published"] is False
        with app.app_context():
            session = db_session()
            event_id = accept(session, body["review_id"], "bank-admin")
            session.commit()
        shown = detail(client, outlet)["position"]
        assert distance_m(shown["lat"], shown["lng"], far["lat"], far["lng"]) < 0.5
        assert (
            sql(app, "SELECT published FROM change_event WHERE id = :id", id=event_id)[0][0] is True
        )
    else:  # the region is too small for a 2 km move inside it: nothing to hold
        assert body["published"] is True


def test_business_types_hours_and_phone(
    app: Flask, client: FlaskClient, wechat: FakeWeChat, outlet: str
) -> None:
    headers = staff_of(app, client, wechat, outlet)
    ok = put(
        client,
        headers,
        outlet,
        "business-types",
        {"business_types": ["foreign_exchange", "cash", "wheelchair_access", "cash"]},
    )
    assert ok.status_code == 200
    assert ok.get_json()["value"] == ["cash", "foreign_exchange", "wheelchair_access"]
    hours = put(client, headers, outlet, "hours", {"text": "Mo-Fr 09:00-17:00; Sa 09:00-12:00"})
    assert hours.status_code == 200, hours.get_json()
    phone = put(client, headers, outlet, "phone", {"phone": "025-84571234；13912345678"})
    assert phone.status_code == 200 and phone.get_json()["value"] == "025-84571234;13912345678"
    shown = detail(client, outlet)
    assert shown["business_types"] == ["cash", "foreign_exchange", "wheelchair_access"]
    assert shown["hours"]["weekly"]["mo"] == [["09:00", "17:00"]]
    assert shown["hours"]["weekly"]["su"] == []
    assert shown["phone"] == "025-84571234;13912345678"
    with_type = client.get(
        f"{API}/outlets/nearby",
        query_string={
            "lat": shown["position"]["lat"],
            "lng": shown["position"]["lng"],
            "coord": "wgs84",
            "business_type": "wheelchair_access",
            "limit": 1,
        },
    ).get_json()
    assert with_type["items"][0]["fi_code"] == outlet


@pytest.mark.parametrize(
    ("what", "body", "field"),
    [
        ("business-types", {"business_types": ["teleportation"]}, "business_types"),
        ("business-types", {"business_types": "cash"}, "business_types"),
        ("hours", {"text": "Mo-Fr 9点到5点半以后"}, "text"),
        ("hours", {"text": "Mo-Fr 17:00-09:00x"}, "text"),
        ("hours", {"hours": {"weekly": {"mo": [["25:00", "26:00"]]}}}, "hours"),
        ("hours", {}, "text"),
        ("hours", {"text": "Mo 09:00-17:00", "hours": {}}, "text"),
        ("phone", {"phone": "12345"}, "phone"),
        ("phone", {"phone": "84571234"}, "phone"),  # a landline needs its area code
        ("phone", {}, "phone"),
    ],
)
def test_bad_uploads_are_422_naming_the_field(
    app: Flask,
    client: FlaskClient,
    wechat: FakeWeChat,
    outlet: str,
    what: str,
    body: dict[str, Any],
    field: str,
) -> None:
    headers = staff_of(app, client, wechat, outlet)
    response = put(client, headers, outlet, what, body)
    assert response.status_code == 422, response.get_json()
    payload = response.get_json()
    assert field in payload["errors"]["json"], payload
    assert payload["message"]


def test_non_json_body_is_400_not_500(
    app: Flask, client: FlaskClient, wechat: FakeWeChat, outlet: str
) -> None:
    headers = staff_of(app, client, wechat, outlet)
    response = client.put(
        f"{API}/staff/outlets/{outlet}/phone",
        data="{broken",
        headers={**headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 400


def test_upload_rate_limit_per_staff_member(
    app: Flask, client: FlaskClient, wechat: FakeWeChat, outlet: str
) -> None:
    app.extensions["branchfinder.config"].staff_upload_rate_limit = 2
    headers = staff_of(app, client, wechat, outlet)
    statuses = [
        put(client, headers, outlet, "phone", {"phone": f"025-8457123{n}"}).status_code
        for n in range(3)
    ]
    assert statuses == [200, 200, 429]


def test_every_upload_is_history_and_any_can_be_reverted(
    app: Flask, client: FlaskClient, wechat: FakeWeChat, outlet: str
) -> None:
    headers = staff_of(app, client, wechat, outlet)
    original = detail(client, outlet)["phone"]
    first = put(client, headers, outlet, "phone", {"phone": "025-11111111"}).get_json()
    second = put(client, headers, outlet, "phone", {"phone": "025-22222222"}).get_json()
    assert detail(client, outlet)["phone"] == "025-22222222"
    with app.app_context():
        session = db_session()
        change = revert(session, second["event_id"], actor="bank-admin", channel="pro_update")
        session.commit()
    assert change.before == "025-22222222" and change.after == "025-11111111"
    assert detail(client, outlet)["phone"] == "025-11111111"
    with app.app_context():
        session = db_session()
        revert(session, first["event_id"], actor="bank-admin", channel="pro_update")
        session.commit()
    # back to the profile's own phone (or, without one, the registry's)
    shown = detail(client, outlet)["phone"]
    assert shown == original
    events = sql(
        app,
        "SELECT channel, after FROM change_event WHERE fi_code = :fi AND field_group = 'phone' "
        "ORDER BY id",
        fi=outlet,
    )
    assert [e.channel for e in events][-4:] == [
        "staff_upload",
        "staff_upload",
        "pro_update",
        "pro_update",
    ]


def test_concurrent_uploads_for_one_outlet_lose_none(
    app: Flask, wechat: FakeWeChat, outlet: str
) -> None:
    client = app.test_client()
    headers = staff_of(app, client, wechat, outlet)
    phones = [f"025-8400{n:04d}" for n in range(12)]
    barrier = threading.Barrier(len(phones))
    statuses: list[int] = []

    errors: list[BaseException] = []

    def upload(phone: str) -> None:
        barrier.wait()
        try:
            response = app.test_client().put(
                f"{API}/staff/outlets/{outlet}/phone", json={"phone": phone}, headers=headers
            )
            statuses.append(response.status_code)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=upload, args=(p,)) for p in phones]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert statuses == [200] * len(phones)
    events = sql(
        app,
        "SELECT before, after FROM change_event WHERE fi_code = :fi AND field_group = 'phone' "
        "AND channel = 'staff_upload' ORDER BY id",
        fi=outlet,
    )
    assert sorted(e.after for e in events) == sorted(phones)  # every upload is an event
    for previous, event in itertools.pairwise(events):  # each saw the one before it
        assert event.before == previous.after
    assert detail(client, outlet)["phone"] == events[-1].after  # the latest wins


def test_staff_endpoints_are_documented_with_their_security(client: FlaskClient) -> None:
    spec = client.get("/openapi.json").get_json()
    assert "staffToken" in spec["components"]["securitySchemes"]
    for path in (
        "/auth/login",
        "/staff/bind",
        "/staff/tasks",
        "/staff/outlets/{fi_code}/position",
        "/staff/outlets/{fi_code}/photos",
    ):
        assert API + path in spec["paths"], path
    upload = spec["paths"][API + "/staff/outlets/{fi_code}/photos"]["post"]
    assert upload["security"] == [{"staffToken": []}]
    assert "multipart/form-data" in upload["requestBody"]["content"]
    assert {"401", "403", "409", "413", "415"} <= set(upload["responses"])


def test_tokens_expire_after_their_lifetime(
    app: Flask, client: FlaskClient, wechat: FakeWeChat
) -> None:
    sign_in(client, wechat)
    lifetime = sql(app, "SELECT max(expires_at - created_at) FROM auth_token")[0][0]
    assert lifetime == timedelta(seconds=app.extensions["branchfinder.config"].staff_session_ttl_s)


# --- photos ---------------------------------------------------------------------------------


def _dms(value: float) -> tuple[float, float, float]:
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    return float(degrees), float(minutes), round((value - degrees - minutes / 60) * 3600, 4)


def jpeg(
    seed: int, gps: tuple[float, float] | None = None, size: tuple[int, int] = (800, 600)
) -> bytes:
    """A phone-like JPEG: noise (so it does not compress to nothing), the phone's make and,
    optionally, the GPS position (WGS-84) where it was taken."""
    from PIL import ExifTags, Image

    image = Image.effect_noise(size, 30 + seed % 50).convert("RGB")
    image.putpixel((seed % size[0], 0), (seed % 256, 0, 0))  # distinct bytes per seed
    exif = Image.Exif()
    exif[0x010F] = "SecretPhoneMaker"
    exif[0x0110] = "Model-7"
    if gps is not None:
        exif[ExifTags.IFD.GPSInfo] = {1: "N", 2: _dms(gps[0]), 3: "E", 4: _dms(gps[1])}
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif, quality=90)
    return buffer.getvalue()


def upload_photo(
    client: FlaskClient,
    headers: dict[str, str],
    fi_code: str,
    data: bytes,
    name: str = "IMG_0001.jpg",
    front: bool | None = None,
) -> Any:
    form: dict[str, Any] = {"photo": (io.BytesIO(data), name, "image/jpeg")}
    query = {} if front is None else {"front": "true" if front else "false"}
    return client.post(
        f"{API}/staff/outlets/{fi_code}/photos",
        query_string=query,
        data=form,
        headers=headers,
        content_type="multipart/form-data",
    )


def test_photo_upload_strips_exif_stores_once_and_shows_in_the_finder(
    app: Flask, client: FlaskClient, wechat: FakeWeChat, outlet: str
) -> None:
    from PIL import Image

    headers = staff_of(app, client, wechat, outlet)
    at = detail(client, outlet)["position"]
    data = jpeg(1, gps=(at["lat"] + 0.0005, at["lng"]))  # taken ~55 m away
    response = upload_photo(client, headers, outlet, data, name="front.png")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["published"] is True and body["front"] is True and body["duplicate"] is False
    assert 30 < body["exif_distance_m"] < 80
    stored = client.get(body["url"])
    assert stored.status_code == 200 and stored.mimetype == "image/jpeg"
    assert "immutable" in stored.headers["Cache-Control"]
    revalidated = client.get(body["url"], headers={"If-None-Match": stored.headers["ETag"]})
    assert revalidated.status_code == 304 and revalidated.data == b""
    raw = stored.get_data()
    assert b"SecretPhoneMaker" not in raw and b"Exif" not in raw
    assert dict(Image.open(io.BytesIO(raw)).getexif()) == {}
    assert hashlib.sha256(raw).hexdigest() == body["key"]  # content-addressed
    thumb = client.get(body["thumbnail_url"])
    assert thumb.status_code == 200 and max(Image.open(io.BytesIO(thumb.get_data())).size) <= 320
    photos = detail(client, outlet)["photos"]
    assert [(p["key"], p["front"], p["url"]) for p in photos] == [(body["key"], True, body["url"])]
    # the same picture again: nothing new stored, nothing new shown
    files_before = sorted(
        p.name
        for p in Path(app.extensions["branchfinder.config"].photo_dir).rglob("*")
        if p.is_file()
    )
    again = upload_photo(client, headers, outlet, data)
    assert again.status_code == 201 and again.get_json()["duplicate"] is True
    files_after = sorted(
        p.name
        for p in Path(app.extensions["branchfinder.config"].photo_dir).rglob("*")
        if p.is_file()
    )
    assert files_after == files_before and len(files_after) == 2  # original + thumbnail
    assert len(detail(client, outlet)["photos"]) == 1
    [task] = client.get(f"{API}/staff/tasks", headers=headers).get_json()
    assert "front_photo" not in task["missing"]


def test_photo_taken_far_away_is_held_for_review(
    app: Flask, client: FlaskClient, wechat: FakeWeChat, outlet: str
) -> None:
    headers = staff_of(app, client, wechat, outlet)
    at = detail(client, outlet)["position"]
    body = upload_photo(client, headers, outlet, jpeg(2, gps=(at["lat"] + 0.05, at["lng"])))
    assert body.status_code == 201
    held = body.get_json()
    assert held["published"] is False and held["flags"] == ["photo_far_away"]
    assert detail(client, outlet)["photos"] == []
    with app.app_context():
        session = db_session()
        accept(session, held["review_id"], "bank-admin")
        session.commit()
    assert [p["key"] for p in detail(client, outlet)["photos"]] == [held["key"]]


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        (b"this is not a picture at all" * 100, 415, "not_an_image"),
        (b"GIF89a" + b"\x00" * 500, 415, None),
        (None, 422, "truncated"),  # a JPEG cut in half
    ],
)
def test_photos_that_are_not_usable_images_are_refused(
    app: Flask,
    client: FlaskClient,
    wechat: FakeWeChat,
    outlet: str,
    data: bytes | None,
    status: int,
    code: str | None,
) -> None:
    headers = staff_of(app, client, wechat, outlet)
    if data is None:
        whole = jpeg(3)
        data = whole[: len(whole) // 2]
    response = upload_photo(client, headers, outlet, data, name="photo.jpg")
    assert response.status_code == status, response.get_json()
    body = response.get_json()
    assert "photo" in body["errors"]["files"] and body["message"]
    if code:
        assert body["errors"]["files"]["photo"][0].startswith(code)
    assert detail(client, outlet)["photos"] == []


def test_oversized_upload_is_refused_before_the_body_is_read(
    app: Flask, client: FlaskClient, wechat: FakeWeChat, outlet: str
) -> None:
    headers = staff_of(app, client, wechat, outlet)
    read = []

    class Body(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            read.append(size)
            return super().read(size)

    big = 11 * 1024 * 1024
    response = client.post(
        f"{API}/staff/outlets/{outlet}/photos",
        input_stream=Body(b"x" * big),
        headers={
            **headers,
            "Content-Length": str(big),
            "Content-Type": "multipart/form-data; boundary=zzz",
        },
    )
    assert response.status_code == 413
    assert response.get_json()["message"]
    assert sum(n for n in read if n and n > 0) < big  # not read in full


def test_at_most_six_photos_one_front_and_removal_can_be_reverted(
    app: Flask, client: FlaskClient, wechat: FakeWeChat, outlet: str
) -> None:
    headers = staff_of(app, client, wechat, outlet)
    keys = []
    for n in range(6):
        response = upload_photo(client, headers, outlet, jpeg(10 + n, size=(400, 300)))
        assert response.status_code == 201, response.get_json()
        keys.append(response.get_json()["key"])
    seventh = upload_photo(client, headers, outlet, jpeg(99, size=(400, 300)))
    assert seventh.status_code == 409
    shown = detail(client, outlet)["photos"]
    assert [p["key"] for p in shown if p["front"]] == [keys[0]]
    front = client.put(
        f"{API}/staff/outlets/{outlet}/photos/{keys[3]}", json={"front": True}, headers=headers
    )
    assert front.status_code == 200
    assert [p["key"] for p in front.get_json() if p["front"]] == [keys[3]]
    removed = client.delete(f"{API}/staff/outlets/{outlet}/photos/{keys[3]}", headers=headers)
    assert removed.status_code == 200
    left = removed.get_json()
    assert keys[3] not in [p["key"] for p in left] and sum(p["front"] for p in left) == 1
    assert client.get(f"{API}/photos/{keys[3]}/original.jpg").status_code == 404
    assert (
        client.delete(f"{API}/staff/outlets/{outlet}/photos/{keys[3]}", headers=headers).status_code
        == 404
    )
    event_id = sql(
        app,
        "SELECT max(id) FROM change_event WHERE fi_code = :fi AND field_group = 'photos'",
        fi=outlet,
    )[0][0]
    with app.app_context():
        session = db_session()
        revert(session, event_id, actor="bank-admin", channel="pro_update")
        session.commit()
    back = detail(client, outlet)["photos"]
    assert back[0]["key"] == keys[3] and back[0]["front"] is True and len(back) == 6


def test_submit_and_confirm(
    app: Flask, client: FlaskClient, wechat: FakeWeChat, outlet: str
) -> None:
    headers = staff_of(app, client, wechat, outlet)
    put(client, headers, outlet, "business-types", {"business_types": ["cash"]})
    upload_photo(client, headers, outlet, jpeg(42))
    submitted = client.post(f"{API}/staff/outlets/{outlet}/submit", headers=headers)
    assert submitted.status_code == 200 and submitted.get_json()["status"] == "submitted"
    with app.app_context():
        session = db_session()
        assert staff_lib.confirm(session, outlet, "bank-admin")
        session.commit()
    [task] = client.get(f"{API}/staff/tasks", headers=headers).get_json()
    assert task["status"] == "confirmed" and task["confirmed_at"]
    assert detail(client, outlet)["last_confirmed_at"]
    put(client, headers, outlet, "phone", {"phone": "025-84571234"})
    [task] = client.get(f"{API}/staff/tasks", headers=headers).get_json()
    assert task["status"] == "in_progress"  # confirmed data changed
