"""Upload tasks, held staff uploads and public error reports in the professional app, on real
PostGIS: codes shown once and stored hashed, reviews and reports decided (with the fix applied
as a pro_update change event), lists paged and exported, jurisdiction on every endpoint."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import Engine

from core.coords import convert, distance_m
from feedback import submissions as feedback
from tests.pro_world import (
    API,
    CLIENT_KEY,
    NJ_AT,
    NJ_BRANCH,
    NJ_OUTLET,
    OTHER_OUTLET,
    SZ_OUTLET,
    World,
    count,
    event,
    finder,
    make_world,
    seeded_app,
)
from tests.test_pro_accounts import audit_rows, sql
from uploads import staff, staff_uploads
from web.extensions import db_session

PEPPER = "pro-test-pepper"  # tests.test_pro_accounts.make_app's secret key


@pytest.fixture
def app(database_url: str, engine: Engine, tmp_path: Path) -> Iterator[Flask]:
    yield from seeded_app(database_url, engine, tmp_path)


@pytest.fixture
def world(app: Flask) -> World:
    return make_world(app)


def institution_id(app: Flask, fi_code: str) -> int:
    return int(sql(app, "SELECT id FROM institution WHERE fi_code = :fi", fi=fi_code)[0][0])


def held_upload(app: Flask, fi_code: str) -> int:
    """A staff upload of a position in Beijing: held for review. Returns the review id."""
    with app.app_context():
        session = db_session()
        result = staff_uploads.upload_position(
            session,
            institution_id(app, fi_code),
            fi_code,
            lat=39.9087,
            lng=116.3975,
            coord="wgs84",
            accuracy_m=10,
            actor="staff:7",
        )
        session.commit()
    assert result.review_id is not None
    return result.review_id


def report(
    app: Flask, fi_code: str, kind: str, suggested: tuple[float, float, str] | None = None
) -> int:
    """A public error report, as the finder's feedback endpoint stores it."""
    with app.app_context():
        session = db_session()
        stored = feedback.report_error(
            session, fi_code, kind, "不对", suggested, client_key=CLIENT_KEY
        )
        session.commit()
        return stored.id


def csv_rows(response: Any) -> list[list[str]]:
    assert response.status_code == 200, response.get_json()
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))


# --- upload tasks ----------------------------------------------------------------------------


def test_binding_codes_are_shown_once_stored_hashed_and_work(
    app: Flask, client: FlaskClient, world: World
) -> None:
    response = client.post(
        f"{API}/tasks", json={"fi_codes": [SZ_OUTLET, NJ_OUTLET.lower()]}, headers=world.bank_admin
    )
    assert response.status_code == 201, response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    items = {i["fi_code"]: i for i in response.get_json()["items"]}
    assert set(items) == {NJ_OUTLET, SZ_OUTLET}
    code = items[NJ_OUTLET]["code"]
    assert items[NJ_OUTLET]["qr_text"] == "/pages/staff/bind?code=" + code
    stored = sql(app, "SELECT code_hash, created_by, status FROM upload_task")
    assert all(r.code_hash and code.replace("-", "") not in r.code_hash for r in stored)
    assert {r.created_by for r in stored} == {f"account:{world.bank_admin_id}"}
    assert {r.status for r in stored} == {"assigned"}
    entries = audit_rows(app, action="task.create")
    assert {(e.target_id, e.region_code) for e in entries} == {
        (NJ_OUTLET, "320102"),
        (SZ_OUTLET, "320505"),
    }
    assert all(code not in str(e.detail) for e in entries)

    with app.app_context():
        session = db_session()
        staff_id = staff.sign_in(session, "openid-of-a-clerk", PEPPER)
        assert staff.bind(session, staff_id, code, PEPPER) == NJ_OUTLET
        session.commit()
    [task] = sql(
        app,
        "SELECT t.status FROM upload_task t JOIN institution i ON i.id = t.institution_id "
        "WHERE i.fi_code = :fi",
        fi=NJ_OUTLET,
    )
    assert task.status == "in_progress"


def test_codes_only_for_active_outlets_in_the_jurisdiction(
    app: Flask, client: FlaskClient, world: World
) -> None:
    foreign = client.post(
        f"{API}/tasks", json={"fi_codes": [NJ_OUTLET, OTHER_OUTLET]}, headers=world.bank_admin
    )
    assert foreign.status_code == 404
    assert foreign.get_json()["errors"]["json"]["fi_codes"][0].endswith(OTHER_OUTLET)
    assert count(app, "upload_task") == 0  # all or nothing
    branch = client.post(f"{API}/tasks", json={"fi_codes": [NJ_BRANCH]}, headers=world.nanjing)
    assert branch.status_code == 422
    assert NJ_BRANCH in branch.get_json()["message"]
    for body in (
        {"fi_codes": []},
        {"fi_codes": ["short"]},
        {"fi_codes": ["C10305320100\x001"]},
        {"fi_codes": [NJ_OUTLET] * 501},
        {},
    ):
        assert client.post(f"{API}/tasks", json=body, headers=world.nanjing).status_code == 422
    assert count(app, "upload_task") == 0


def test_task_lists_are_paged_filtered_exported_and_in_the_jurisdiction(
    app: Flask, client: FlaskClient, world: World
) -> None:
    client.post(f"{API}/tasks", json={"fi_codes": [NJ_OUTLET, SZ_OUTLET]}, headers=world.bank_admin)
    client.post(f"{API}/tasks", json={"fi_codes": [OTHER_OUTLET]}, headers=world.other_admin)
    sql(
        app,
        "UPDATE upload_task t SET status = 'submitted' FROM institution i "
        "WHERE i.id = t.institution_id AND i.fi_code = :fi",
        fi=SZ_OUTLET,
    )

    def codes(headers: dict[str, str], **query: Any) -> list[str]:
        response = client.get(f"{API}/tasks", query_string=query, headers=headers)
        assert response.status_code == 200, response.get_json()
        return [t["fi_code"] for t in response.get_json()["items"]]

    assert codes(world.province) == [NJ_OUTLET, SZ_OUTLET, OTHER_OUTLET]
    assert codes(world.nanjing) == [NJ_OUTLET, OTHER_OUTLET]
    assert codes(world.suzhou) == [SZ_OUTLET]
    assert codes(world.bank_admin) == [NJ_OUTLET, SZ_OUTLET]
    assert codes(world.other_admin) == [OTHER_OUTLET]
    assert codes(world.auditor) == [NJ_OUTLET, OTHER_OUTLET]
    assert codes(world.province, status="submitted") == [SZ_OUTLET]
    assert codes(world.province, region="320505") == [SZ_OUTLET]
    assert codes(world.suzhou, fi_code=NJ_OUTLET) == []  # a filter never widens the scope
    assert codes(world.province, fi_code="' OR '1'='1") == []  # just text
    assert codes(world.province, fi_code=f"{NJ_OUTLET}%") == []

    first = client.get(f"{API}/tasks", query_string={"limit": 2}, headers=world.province)
    page = first.get_json()
    assert len(page["items"]) == 2 and page["next_after"]
    rest = client.get(
        f"{API}/tasks",
        query_string={"limit": 2, "after": page["next_after"]},
        headers=world.province,
    ).get_json()
    assert [t["fi_code"] for t in rest["items"]] == [OTHER_OUTLET] and rest["next_after"] is None
    for bad in ({"limit": 201}, {"status": "done"}, {"region": "32%"}):
        assert (
            client.get(f"{API}/tasks", query_string=bad, headers=world.province).status_code == 422
        )

    rows = csv_rows(client.get(f"{API}/tasks/export", headers=world.nanjing))
    assert rows[0][0].startswith("金融机构编码") and [r[0] for r in rows[1:]] == [
        NJ_OUTLET,
        OTHER_OUTLET,
    ]
    xlsx = client.get(f"{API}/tasks/export", query_string={"format": "xlsx"}, headers=world.suzhou)
    sheet = load_workbook(io.BytesIO(xlsx.get_data())).active
    assert sheet["A2"].value == SZ_OUTLET


# --- held staff uploads ----------------------------------------------------------------------


def test_held_uploads_are_listed_and_accepted_or_rejected_in_the_jurisdiction(
    app: Flask, client: FlaskClient, world: World
) -> None:
    first = held_upload(app, NJ_OUTLET)
    second = held_upload(app, NJ_OUTLET)
    elsewhere = held_upload(app, SZ_OUTLET)

    listed = client.get(f"{API}/reviews", query_string={"status": "open"}, headers=world.nanjing)
    assert listed.status_code == 200
    items = listed.get_json()["items"]
    assert [r["id"] for r in items] == [first, second]
    assert items[0]["flags"] == ["outside_region"] and items[0]["actor"] == "staff:7"
    assert "行政区" in items[0]["flag_labels"][0]
    suzhou = client.get(f"{API}/reviews", headers=world.suzhou).get_json()["items"]
    assert [r["id"] for r in suzhou] == [elsewhere]
    assert client.get(f"{API}/reviews", headers=world.other_admin).get_json()["items"] == []

    accepted = client.post(f"{API}/reviews/{first}/accept", headers=world.bank_admin)
    assert accepted.status_code == 200, accepted.get_json()
    body = accepted.get_json()
    assert body["review"]["status"] == "accepted"
    assert body["review"]["decided_by"] == f"account:{world.bank_admin_id}"
    row = event(app, body["event_id"])
    assert (row.channel, row.actor, row.published) == (
        "pro_update",
        f"account:{world.bank_admin_id}",
        True,
    )
    assert finder(client, NJ_OUTLET)["position"]["lat"] == pytest.approx(39.9087)
    again = client.post(f"{API}/reviews/{first}/accept", headers=world.bank_admin)
    assert again.status_code == 409

    blank = client.post(
        f"{API}/reviews/{second}/reject", json={"reason": "  "}, headers=world.nanjing
    )
    assert blank.status_code == 422
    rejected = client.post(
        f"{API}/reviews/{second}/reject", json={"reason": "这是北京的位置"}, headers=world.nanjing
    )
    assert rejected.status_code == 200, rejected.get_json()
    assert rejected.get_json()["review"]["reason"] == "这是北京的位置"
    assert rejected.get_json()["event_id"] is None

    decided = client.get(
        f"{API}/reviews", query_string={"status": "open"}, headers=world.nanjing
    ).get_json()
    assert decided["items"] == []
    rows = csv_rows(client.get(f"{API}/reviews/export", headers=world.province))
    assert sorted(r[0] for r in rows[1:]) == sorted(str(i) for i in (first, second, elsewhere))


def test_deciding_a_held_upload_outside_the_jurisdiction_is_404_and_changes_nothing(
    app: Flask, client: FlaskClient, world: World
) -> None:
    review = held_upload(app, NJ_OUTLET)
    for outsider in (world.suzhou, world.other_admin):
        assert client.post(f"{API}/reviews/{review}/accept", headers=outsider).status_code == 404
        refused = client.post(
            f"{API}/reviews/{review}/reject", json={"reason": "不对"}, headers=outsider
        )
        assert refused.status_code == 404
    assert client.post(f"{API}/reviews/{review}/accept", headers=world.auditor).status_code == 403
    assert client.post(f"{API}/reviews/999999/accept", headers=world.nanjing).status_code == 404
    [status] = sql(app, "SELECT status FROM upload_review WHERE id = :id", id=review)
    assert status[0] == "open"
    assert finder(client, NJ_OUTLET)["position"]["lat"] == pytest.approx(NJ_AT[0])
    assert len(audit_rows(app, outcome="denied")) == 6


# --- public error reports --------------------------------------------------------------------


def test_accepting_a_position_report_applies_the_suggested_position(
    app: Flask, client: FlaskClient, world: World
) -> None:
    wlat, wlng = NJ_AT[0] + 0.004, NJ_AT[1] - 0.003
    glat, glng = convert(wlat, wlng, "wgs84", "gcj02")
    report_id = report(app, NJ_OUTLET, "position", (glat, glng, "gcj02"))

    listed = client.get(
        f"{API}/error-reports", query_string={"status": "open"}, headers=world.bank_admin
    ).get_json()
    [item] = listed["items"]
    assert item["kind_label"] == "位置不准" and item["suggested_coord_system"] == "gcj02"
    assert item["suggested_position"]["lat"] == pytest.approx(glat, abs=1e-6)
    assert listed["coord"] == "gcj02"

    missing_fix = client.post(
        f"{API}/error-reports/{report_id}/accept", json={}, headers=world.bank_admin
    )
    assert missing_fix.status_code == 422
    assert "position" in missing_fix.get_json()["errors"]["json"]
    wrong_field = client.post(
        f"{API}/error-reports/{report_id}/accept",
        json={"phone": "025-84571234"},
        headers=world.bank_admin,
    )
    assert wrong_field.status_code == 422 and "phone" in wrong_field.get_json()["errors"]["json"]

    accepted = client.post(
        f"{API}/error-reports/{report_id}/accept",
        json={"use_suggested_position": True, "note": "现场核实"},
        headers=world.bank_admin,
    )
    assert accepted.status_code == 200, accepted.get_json()
    body = accepted.get_json()
    assert body["status"] == "accepted" and body["resolution_reason"] == "现场核实"
    assert body["resolved_by"] == f"account:{world.bank_admin_id}" and body["resolved_at"]
    shown = finder(client, NJ_OUTLET)["position"]
    assert distance_m(shown["lat"], shown["lng"], wlat, wlng) < 0.5
    row = event(app, body["resolution_event_id"])
    assert (row.channel, row.field_group, row.after["captured_in"]) == (
        "pro_update",
        "position",
        "gcj02",
    )
    again = client.post(
        f"{API}/error-reports/{report_id}/accept",
        json={"already_fixed": True},
        headers=world.bank_admin,
    )
    assert again.status_code == 409
    [entry] = audit_rows(app, action="error_report.accept", outcome="ok")
    assert entry.detail["event_id"] == body["resolution_event_id"]


def test_each_kind_of_report_takes_its_own_fix(
    app: Flask, client: FlaskClient, world: World
) -> None:
    phone = report(app, NJ_OUTLET, "phone")
    address = report(app, NJ_OUTLET, "address")
    hours = report(app, NJ_OUTLET, "hours")
    closed = report(app, NJ_OUTLET, "closed")
    types = report(app, NJ_OUTLET, "business_types")
    done = report(app, NJ_OUTLET, "phone")

    def accept(report_id: int, body: dict[str, Any]) -> Any:
        return client.post(
            f"{API}/error-reports/{report_id}/accept", json=body, headers=world.nanjing
        )

    assert accept(phone, {"phone": "8457"}).status_code == 422  # the staff rule for phones
    assert accept(phone, {"phone": "025-84575555"}).status_code == 200
    assert finder(client, NJ_OUTLET)["phone"] == "025-84575555"

    bad_address = accept(address, {"address": "涓浗宸ュ晢閾惰"})
    assert bad_address.status_code == 422
    assert bad_address.get_json()["message"].startswith("FLD-MOJIBAKE: ")
    assert "address" in bad_address.get_json()["errors"]["json"]
    fixed = accept(address, {"address": "南京市玄武区珠江路66号"}).get_json()
    assert finder(client, NJ_OUTLET)["address"] == "南京市玄武区珠江路66号"
    assert event(app, fixed["resolution_event_id"]).entity == "institution"

    assert accept(hours, {"hours": {"text": "24/7"}}).status_code == 200
    assert finder(client, NJ_OUTLET)["hours"]["text"] == "24/7"
    assert accept(types, {"business_types": ["cash", "loans"]}).status_code == 200
    assert finder(client, NJ_OUTLET)["business_types"] == ["cash", "loans"]

    assert accept(closed, {"phone": "025-84575555"}).status_code == 422
    recorded = accept(closed, {"note": "已与机构核实，该网点将于下月撤销"}).get_json()
    assert recorded["status"] == "accepted" and recorded["resolution_event_id"] is None
    assert finder(client, NJ_OUTLET)["name"]  # still shown: closing is the registry's

    both = accept(done, {"phone": "025-84575555", "already_fixed": True})
    assert both.status_code == 422
    two = accept(done, {"phone": "025-84575555", "address": "南京市"})
    assert two.status_code == 422
    already = accept(done, {"already_fixed": True}).get_json()
    assert already["status"] == "accepted" and already["resolution_event_id"] is None


def test_rejecting_a_report_needs_a_reason(app: Flask, client: FlaskClient, world: World) -> None:
    report_id = report(app, NJ_OUTLET, "phone")
    for body in ({}, {"reason": ""}, {"reason": "   "}, {"reason": "x" * 501}):
        refused = client.post(
            f"{API}/error-reports/{report_id}/reject", json=body, headers=world.nanjing
        )
        assert refused.status_code == 422, body
        assert "reason" in refused.get_json()["errors"]["json"]
    rejected = client.post(
        f"{API}/error-reports/{report_id}/reject",
        json={"reason": "电话经拨打核实无误"},
        headers=world.nanjing,
    )
    assert rejected.status_code == 200
    body = rejected.get_json()
    assert body["status"] == "rejected" and body["resolution_reason"] == "电话经拨打核实无误"
    assert count(app, "change_event") == 0
    again = client.post(
        f"{API}/error-reports/{report_id}/reject", json={"reason": "再次"}, headers=world.nanjing
    )
    assert again.status_code == 409


def test_error_reports_are_filtered_by_jurisdiction_on_every_endpoint(
    app: Flask, client: FlaskClient, world: World
) -> None:
    mine = report(app, NJ_OUTLET, "phone")
    report(app, SZ_OUTLET, "hours")
    theirs = report(app, OTHER_OUTLET, "other")

    def ids(headers: dict[str, str], **query: Any) -> list[int]:
        response = client.get(f"{API}/error-reports", query_string=query, headers=headers)
        assert response.status_code == 200, response.get_json()
        return [r["id"] for r in response.get_json()["items"]]

    assert ids(world.nanjing) == [mine, theirs]
    assert ids(world.bank_admin, region="3201") == [mine]
    assert ids(world.other_admin) == [theirs]
    assert ids(world.nanjing, kind="other") == [theirs]
    assert ids(world.nanjing, fi_code="'; DROP TABLE error_report; --") == []
    assert count(app, "error_report") == 3
    rows = csv_rows(client.get(f"{API}/error-reports/export", headers=world.suzhou))
    assert [r[1] for r in rows[1:]] == [SZ_OUTLET]

    for outsider in (world.suzhou, world.other_admin):
        accept = client.post(
            f"{API}/error-reports/{mine}/accept",
            json={"phone": "025-84570000"},
            headers=outsider,
        )
        assert accept.status_code == 404
        reject = client.post(
            f"{API}/error-reports/{mine}/reject", json={"reason": "不对"}, headers=outsider
        )
        assert reject.status_code == 404
        assert (
            reject.get_json()["message"]
            == client.post(
                f"{API}/error-reports/999999/reject", json={"reason": "不对"}, headers=outsider
            ).get_json()["message"]
        )
    auditor = client.post(
        f"{API}/error-reports/{mine}/reject", json={"reason": "不对"}, headers=world.auditor
    )
    assert auditor.status_code == 403
    [status] = sql(app, "SELECT status FROM error_report WHERE id = :id", id=mine)
    assert status[0] == "open"
    assert count(app, "change_event") == 0


def test_lists_without_a_token_are_401(client: FlaskClient) -> None:
    for path in ("/tasks", "/tasks/export", "/reviews", "/reviews/export", "/error-reports"):
        assert client.get(f"{API}{path}").status_code == 401, path


def test_task_review_and_report_endpoints_are_documented(client: FlaskClient) -> None:
    spec = client.get("/openapi.json").get_json()
    expected = {
        ("get", "/tasks"): {"200", "401", "422"},
        ("post", "/tasks"): {"201", "401", "403", "404", "422"},
        ("get", "/tasks/export"): {"200", "401", "422"},
        ("get", "/reviews"): {"200", "401", "422"},
        ("get", "/reviews/export"): {"200", "401", "422"},
        ("post", "/reviews/{review_id}/accept"): {"200", "401", "403", "404", "409"},
        ("post", "/reviews/{review_id}/reject"): {"200", "401", "403", "404", "409", "422"},
        ("get", "/error-reports"): {"200", "401", "422"},
        ("get", "/error-reports/export"): {"200", "401", "422"},
        ("post", "/error-reports/{report_id}/accept"): {"200", "401", "403", "404", "409", "422"},
        ("post", "/error-reports/{report_id}/reject"): {"200", "401", "403", "404", "409", "422"},
    }
    for (method, path), statuses in expected.items():
        operation = spec["paths"][API + path][method]
        assert operation["summary"] and "\n" not in operation["summary"], path
        assert operation["security"] == [{"proToken": []}], path
        assert statuses <= set(operation["responses"]), (path, operation["responses"].keys())
