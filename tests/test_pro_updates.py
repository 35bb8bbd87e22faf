"""Info updates in the professional app on real PostGIS: outlet field groups through the same
rules as staff uploads, institution contact fields through the registry's record rules,
confirmation per group, revert from the history, jurisdiction on every endpoint."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine

from core.coords import convert, distance_m
from tests.pro_world import (
    API,
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
from tests.test_staff import jpeg
from uploads import outlet_photos, staff_uploads
from uploads.photo_store import DirectoryPhotoStore
from uploads.photos import process_photo
from web.extensions import db_session


@pytest.fixture
def app(database_url: str, engine: Engine, tmp_path: Path) -> Iterator[Flask]:
    yield from seeded_app(database_url, engine, tmp_path)


@pytest.fixture
def world(app: Flask) -> World:
    return make_world(app)


def put(client: FlaskClient, headers: dict[str, str], fi_code: str, what: str, body: Any) -> Any:
    return client.put(f"{API}/outlets/{fi_code}/{what}", json=body, headers=headers)


def add_photos(app: Flask, fi_code: str, seeds: tuple[int, ...]) -> list[str]:
    """Photos shown by an outlet, added as a staff upload would add them."""
    store = DirectoryPhotoStore(Path(app.extensions["branchfinder.config"].photo_dir))
    keys = []
    with app.app_context():
        session = db_session()
        institution_id = sql(app, "SELECT id FROM institution WHERE fi_code = :fi", fi=fi_code)[0][
            0
        ]
        for seed in seeds:
            photo = process_photo(io.BytesIO(jpeg(seed)))
            outlet_photos.add_photo(
                session, store, institution_id, fi_code, photo, actor="staff:1", front=False
            )
            keys.append(photo.key)
        session.commit()
    return keys


# --- outlet field groups ----------------------------------------------------------------------


def test_position_update_is_published_at_once_as_a_pro_update(
    app: Flask, client: FlaskClient, world: World
) -> None:
    wlat, wlng = NJ_AT[0] + 0.003, NJ_AT[1] + 0.002
    glat, glng = convert(wlat, wlng, "wgs84", "gcj02")
    response = put(
        client,
        world.nanjing,
        NJ_OUTLET.lower(),  # case does not matter
        "position",
        {"lat": glat, "lng": glng, "coord": "gcj02", "accuracy_m": 8},
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["changed"] is True and body["field_group"] == "position"
    assert body["before"]["latitude"] == pytest.approx(NJ_AT[0])
    shown = finder(client, NJ_OUTLET)["position"]
    assert distance_m(shown["lat"], shown["lng"], wlat, wlng) < 0.5
    row = event(app, body["event_id"])
    assert (row.entity, row.field_group, row.channel, row.published) == (
        "outlet_profile",
        "position",
        "pro_update",
        True,
    )
    assert row.actor == f"account:{world.nanjing_id}"
    assert row.after["captured_in"] == "gcj02" and row.after["accuracy_m"] == 8
    [provenance] = sql(
        app,
        "SELECT p.provenance -> 'position' FROM outlet_profile p JOIN institution i "
        "ON i.id = p.institution_id WHERE i.fi_code = :fi",
        fi=NJ_OUTLET,
    )
    assert provenance[0]["channel"] == "pro_update" and provenance[0]["confirmed"] is False
    [entry] = audit_rows(app, action="outlet.update.position")
    assert (entry.outcome, entry.target_id, entry.region_code, entry.legal_entity_code) == (
        "ok",
        NJ_OUTLET,
        "320102",
        "C1030511000010",
    )
    assert entry.detail["event_id"] == body["event_id"]

    # The same value again is not a change: no event, no audit entry.
    events = count(app, "change_event")
    again = put(
        client,
        world.nanjing,
        NJ_OUTLET,
        "position",
        {"lat": glat, "lng": glng, "coord": "gcj02", "accuracy_m": 8},
    ).get_json()
    assert again["changed"] is False and again["event_id"] is None
    assert count(app, "change_event") == events
    assert len(audit_rows(app, action="outlet.update.position")) == 1


def test_a_position_outside_the_outlets_region_is_refused_by_the_profile_rule(
    app: Flask, client: FlaskClient, world: World
) -> None:
    response = put(
        client,
        world.bank_admin,
        NJ_OUTLET,
        "position",
        {"lat": 31.30, "lng": 120.57, "coord": "wgs84"},  # Suzhou, for a Nanjing outlet
    )
    assert response.status_code == 422
    body = response.get_json()
    assert "320102" in body["message"] and "不在该机构所在行政区" in body["message"]
    assert "lat" in body["errors"]["json"]
    assert finder(client, NJ_OUTLET)["position"]["lat"] == pytest.approx(NJ_AT[0])
    assert count(app, "upload_review") == 0  # refused, not held


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"lat": 91, "lng": 118.7}, "lat"),
        ({"lat": 32, "lng": 181}, "lng"),
        ({"lat": 32, "lng": 118.7, "coord": "mercator"}, "coord"),
        ({"lat": 48.85, "lng": 2.35}, "lat"),  # Paris
        ({"lat": 32.05, "lng": 118.80, "accuracy_m": -3}, "accuracy_m"),
        ({"lng": 118.78}, "lat"),
        ({"lat": "north", "lng": 118.78}, "lat"),
    ],
)
def test_bad_positions_are_refused_naming_the_field(
    app: Flask, client: FlaskClient, world: World, body: dict[str, Any], field: str
) -> None:
    response = put(client, world.nanjing, NJ_OUTLET, "position", body)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]["json"]
    assert count(app, "change_event") == 0


def test_moving_a_confirmed_position_far_is_trusted_and_revertible(
    app: Flask, client: FlaskClient, world: World
) -> None:
    sql(
        app,
        'UPDATE outlet_profile SET provenance = \'{"position": {"confirmed": true}}\'',
    )
    far = {"lat": NJ_AT[0] + 0.03, "lng": NJ_AT[1], "coord": "wgs84"}  # ~3.3 km, still Xuanwu
    body = put(client, world.bank_admin, NJ_OUTLET, "position", far).get_json()
    assert body["changed"] is True
    assert count(app, "upload_review") == 0
    assert finder(client, NJ_OUTLET)["position"]["lat"] == pytest.approx(far["lat"])
    revert = client.post(f"{API}/history/{body['event_id']}/revert", headers=world.bank_admin)
    assert revert.status_code == 200, revert.get_json()
    assert finder(client, NJ_OUTLET)["position"]["lat"] == pytest.approx(NJ_AT[0])


def test_business_types_hours_and_phone_use_the_staff_rules_and_show_at_once(
    app: Flask, client: FlaskClient, world: World
) -> None:
    ok = put(
        client, world.bank_admin, NJ_OUTLET, "business-types", {"business_types": ["loans", "cash"]}
    )
    assert ok.status_code == 200, ok.get_json()
    assert finder(client, NJ_OUTLET)["business_types"] == ["cash", "loans"]

    hours = put(client, world.bank_admin, NJ_OUTLET, "hours", {"text": "周一至周五 9:00-17:00"})
    assert hours.status_code == 200, hours.get_json()
    assert finder(client, NJ_OUTLET)["hours"]["text"].startswith("Mo-Fr 09:00-17:00")

    phone = put(
        client, world.bank_admin, NJ_OUTLET, "phone", {"phone": "025-8457 1234；13912345678"}
    )
    assert phone.status_code == 200, phone.get_json()
    assert phone.get_json()["value"] == "025-84571234;13912345678"
    assert finder(client, NJ_OUTLET)["phone"] == "025-84571234;13912345678"

    channels = sql(app, "SELECT DISTINCT channel, actor FROM change_event")
    assert [(c.channel, c.actor) for c in channels] == [
        ("pro_update", f"account:{world.bank_admin_id}")
    ]

    # Refusals: the staff uploads' own messages, naming the field.
    bad_phone = put(client, world.bank_admin, NJ_OUTLET, "phone", {"phone": "84571234"})
    assert bad_phone.status_code == 422
    staff_message = "电话号码格式不对：固定电话需带区号（如 025-84571234），手机为 11 位"
    assert bad_phone.get_json()["message"].startswith(staff_message)
    assert "phone" in bad_phone.get_json()["errors"]["json"]
    bad_hours = put(client, world.bank_admin, NJ_OUTLET, "hours", {"text": "Mo-Fr 25:00-26:00"})
    assert bad_hours.status_code == 422
    assert bad_hours.get_json()["message"].startswith("营业时间有误")
    assert "text" in bad_hours.get_json()["errors"]["json"]
    bad_types = put(
        client, world.bank_admin, NJ_OUTLET, "business-types", {"business_types": ["casino"]}
    )
    assert bad_types.status_code == 422
    assert "business_types" in bad_types.get_json()["errors"]["json"]
    not_json = client.put(
        f"{API}/outlets/{NJ_OUTLET}/phone",
        data="{not json",
        content_type="application/json",
        headers=world.bank_admin,
    )
    assert not_json.status_code == 400


def test_branches_and_revoked_outlets_have_no_profile_to_update(
    app: Flask, client: FlaskClient, world: World
) -> None:
    branch = put(client, world.nanjing, NJ_BRANCH, "phone", {"phone": "025-84571234"})
    assert branch.status_code == 409
    assert "not an outlet" in branch.get_json()["message"]
    sql(
        app,
        "UPDATE institution SET status = 'revoked', revoked_on = '2026-01-05' WHERE fi_code = :fi",
        fi=OTHER_OUTLET,
    )
    revoked = put(client, world.nanjing, OTHER_OUTLET, "phone", {"phone": "025-84571234"})
    assert revoked.status_code == 409
    contact = client.put(
        f"{API}/institutions/{OTHER_OUTLET}/contact",
        json={"phone": "025-84571234"},
        headers=world.nanjing,
    )
    assert contact.status_code == 409 and "revoked" in contact.get_json()["message"]
    assert count(app, "change_event") == 0
    assert [r.detail["reason"] for r in audit_rows(app, outcome="failed")] == [
        "not_an_outlet",
        "revoked",
        "revoked",
    ]


# --- photos -----------------------------------------------------------------------------------


def test_choosing_the_front_photo_and_removing_one(
    app: Flask, client: FlaskClient, world: World
) -> None:
    keys = add_photos(app, NJ_OUTLET, (1, 2, 3))
    listed = client.get(f"{API}/outlets/{NJ_OUTLET}/photos", headers=world.auditor)
    assert listed.status_code == 200  # reading is allowed to auditors
    assert [p["key"] for p in listed.get_json()] == keys

    front = client.put(
        f"{API}/outlets/{NJ_OUTLET}/photos/{keys[2]}", json={"front": True}, headers=world.nanjing
    )
    assert front.status_code == 200, front.get_json()
    assert finder(client, NJ_OUTLET)["photos"][0]["key"] == keys[2]
    assert event(app, front.get_json()["event_id"]).channel == "pro_update"

    removed = client.delete(f"{API}/outlets/{NJ_OUTLET}/photos/{keys[0]}", headers=world.nanjing)
    assert removed.status_code == 200
    assert [p["key"] for p in finder(client, NJ_OUTLET)["photos"]] == [keys[2], keys[1]]
    unknown = client.delete(f"{API}/outlets/{NJ_OUTLET}/photos/{'0' * 64}", headers=world.nanjing)
    assert unknown.status_code == 404

    back = client.post(
        f"{API}/history/{removed.get_json()['event_id']}/revert", headers=world.nanjing
    )
    assert back.status_code == 200, back.get_json()
    assert {p["key"] for p in finder(client, NJ_OUTLET)["photos"]} == set(keys)


# --- confirmation (核对确认) ------------------------------------------------------------------


def test_confirming_groups_records_who_and_when_and_finishes_a_submitted_task(
    app: Flask, client: FlaskClient, world: World
) -> None:
    assert client.post(f"{API}/tasks", json={"fi_codes": [NJ_OUTLET]}, headers=world.bank_admin)
    put(client, world.bank_admin, NJ_OUTLET, "phone", {"phone": "025-84571234"})
    sql(app, "UPDATE upload_task SET status = 'submitted', submitted_at = now()")

    nothing = client.post(
        f"{API}/outlets/{NJ_OUTLET}/confirm",
        json={"groups": ["hours"]},
        headers=world.bank_admin,
    )
    assert nothing.status_code == 422
    assert "hours" in nothing.get_json()["message"]

    first = client.post(
        f"{API}/outlets/{NJ_OUTLET}/confirm",
        json={"groups": ["position", "phone"]},
        headers=world.bank_admin,
    )
    assert first.status_code == 200, first.get_json()
    body = first.get_json()
    assert body["task_status"] == "submitted" and body["task_confirmed"] is False
    label = f"account:{world.bank_admin_id}"
    for group in ("position", "phone"):
        entry = body["provenance"][group]
        assert entry["confirmed"] is True and entry["confirmed_by"] == label
        assert entry["confirmed_at"]
    assert body["provenance"]["phone"]["channel"] == "pro_update"  # what was set is kept
    assert finder(client, NJ_OUTLET)["last_confirmed_at"]

    rest = client.post(
        f"{API}/outlets/{NJ_OUTLET}/confirm",
        json={"groups": ["business_types"]},
        headers=world.bank_admin,
    ).get_json()
    assert rest["task_status"] == "confirmed" and rest["task_confirmed"] is True
    [task] = sql(app, "SELECT status, confirmed_by, confirmed_at FROM upload_task")
    assert task.status == "confirmed" and task.confirmed_by == label and task.confirmed_at
    [entry] = audit_rows(app, action="outlet.confirm", outcome="ok")[:1]
    assert entry.detail["groups"] == ["position", "phone"]

    # A later change of a confirmed group makes it unconfirmed again.
    put(client, world.bank_admin, NJ_OUTLET, "phone", {"phone": "025-84579999"})
    [phone] = sql(
        app,
        "SELECT p.provenance -> 'phone' FROM outlet_profile p JOIN institution i "
        "ON i.id = p.institution_id WHERE i.fi_code = :fi",
        fi=NJ_OUTLET,
    )
    assert phone[0]["confirmed"] is False

    bad = client.post(
        f"{API}/outlets/{NJ_OUTLET}/confirm", json={"groups": ["colour"]}, headers=world.nanjing
    )
    assert bad.status_code == 422


# --- institution contact fields ----------------------------------------------------------------


def test_contact_fields_change_through_the_registry_rules(
    app: Flask, client: FlaskClient, world: World
) -> None:
    response = client.put(
        f"{API}/institutions/{NJ_OUTLET}/contact",
        json={
            "address": " 南京市玄武区珠江路88号 ",
            "postcode": "210018",
            "phone": "(025)84571234",
        },
        headers=world.bank_admin,
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["changed"] is True
    assert body["after"] == {
        "address": "南京市玄武区珠江路88号",
        "postcode": "210018",
        "phone": "(025)84571234",
    }
    assert body["before"]["address"] == "南京市玄武区珠江路1号"
    assert "registry" in body["registry_sync_note"]
    assert finder(client, NJ_OUTLET)["address"] == "南京市玄武区珠江路88号"
    row = event(app, body["event_id"])
    assert (row.entity, row.field_group, row.channel, row.actor) == (
        "institution",
        None,
        "pro_update",
        f"account:{world.bank_admin_id}",
    )
    # the registry sync will compare this record in full again (its fingerprint is void)
    [fingerprint] = sql(
        app, "SELECT source_fingerprint FROM institution WHERE fi_code = :fi", fi=NJ_OUTLET
    )
    assert fingerprint[0] is None

    unchanged = client.put(
        f"{API}/institutions/{NJ_OUTLET}/contact",
        json={"postcode": "210018"},
        headers=world.bank_admin,
    ).get_json()
    assert unchanged["changed"] is False and unchanged["event_id"] is None

    # A branch's contact fields can change too (it has no outlet profile, but a record).
    branch = client.put(
        f"{API}/institutions/{NJ_BRANCH}/contact",
        json={"phone": "025-83331111"},
        headers=world.nanjing,
    )
    assert branch.status_code == 200, branch.get_json()


@pytest.mark.parametrize(
    ("body", "field", "rule"),
    [
        ({"postcode": "21001"}, "postcode", "FLD-POSTCODE-FORMAT"),
        ({"phone": "84571234"}, "phone", "FLD-PHONE-FORMAT"),
        ({"address": ""}, "address", "FLD-REQUIRED"),  # an outlet needs an address
        ({"address": "涓浗宸ュ晢閾惰"}, "address", "FLD-MOJIBAKE"),
        ({"address": "南" * 301}, "address", "FLD-TEXT-LENGTH"),
    ],
)
def test_contact_fields_are_refused_with_the_rule_and_its_message(
    app: Flask, client: FlaskClient, world: World, body: dict[str, str], field: str, rule: str
) -> None:
    response = client.put(
        f"{API}/institutions/{NJ_OUTLET}/contact", json=body, headers=world.nanjing
    )
    assert response.status_code == 422, response.get_json()
    [message] = response.get_json()["errors"]["json"][field]
    assert message.startswith(rule + ": ")
    assert count(app, "change_event") == 0


@pytest.mark.parametrize(
    "body",
    [{}, {"address": "南京\x00市"}, {"fi_code": "C1030532010011"}, {"name": "改名"}],
)
def test_contact_bodies_that_are_not_contact_changes_are_422(
    app: Flask, client: FlaskClient, world: World, body: dict[str, str]
) -> None:
    response = client.put(
        f"{API}/institutions/{NJ_OUTLET}/contact", json=body, headers=world.nanjing
    )
    assert response.status_code == 422, response.get_json()
    assert count(app, "change_event") == 0


# --- revert ----------------------------------------------------------------------------------


def test_revert_restores_the_earlier_value_as_a_new_event(
    app: Flask, client: FlaskClient, world: World
) -> None:
    put(client, world.nanjing, NJ_OUTLET, "phone", {"phone": "025-84571111"})
    second = put(client, world.nanjing, NJ_OUTLET, "phone", {"phone": "025-84572222"}).get_json()
    assert finder(client, NJ_OUTLET)["phone"] == "025-84572222"
    response = client.post(f"{API}/history/{second['event_id']}/revert", headers=world.bank_admin)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["value"] == "025-84571111" and body["reverted_event_id"] == second["event_id"]
    assert finder(client, NJ_OUTLET)["phone"] == "025-84571111"
    row = event(app, body["event_id"])
    assert (row.channel, row.actor, row.before, row.after) == (
        "pro_update",
        f"account:{world.bank_admin_id}",
        "025-84572222",
        "025-84571111",
    )
    [entry] = audit_rows(app, action="history.revert")
    assert entry.target_kind == "change_event" and entry.target_id == str(second["event_id"])

    # Contact changes revert too; other registry fields do not.
    contact = client.put(
        f"{API}/institutions/{NJ_OUTLET}/contact",
        json={"address": "南京市玄武区珠江路99号"},
        headers=world.nanjing,
    ).get_json()
    undone = client.post(f"{API}/history/{contact['event_id']}/revert", headers=world.nanjing)
    assert undone.status_code == 200, undone.get_json()
    assert finder(client, NJ_OUTLET)["address"] == "南京市玄武区珠江路1号"
    again = client.post(f"{API}/history/{contact['event_id']}/revert", headers=world.nanjing)
    assert again.status_code == 409  # the record already holds that value
    sql(
        app,
        "INSERT INTO change_event (entity, fi_code, before, after, actor, channel) VALUES "
        "('institution', :fi, '{\"name\": \"旧名\"}', '{\"name\": \"新名\"}', 'sync', "
        "'registry_sync')",
        fi=NJ_OUTLET,
    )
    [sync_event] = sql(app, "SELECT max(id) FROM change_event")
    refused = client.post(f"{API}/history/{sync_event[0]}/revert", headers=world.nanjing)
    assert refused.status_code == 409
    assert "registry" in refused.get_json()["message"]
    assert client.post(f"{API}/history/999999/revert", headers=world.nanjing).status_code == 404


def test_a_held_upload_cannot_be_reverted(app: Flask, client: FlaskClient, world: World) -> None:
    with app.app_context():
        session = db_session()
        institution_id = sql(app, "SELECT id FROM institution WHERE fi_code = :fi", fi=NJ_OUTLET)[
            0
        ][0]
        held = staff_uploads.upload_position(
            session,
            institution_id,
            NJ_OUTLET,
            lat=39.9087,
            lng=116.3975,
            coord="wgs84",
            accuracy_m=None,
            actor="staff:7",
        )
        session.commit()
    assert held.published is False
    response = client.post(f"{API}/history/{held.event_id}/revert", headers=world.nanjing)
    assert response.status_code == 409
    assert "held for review" in response.get_json()["message"]


# --- jurisdiction, roles ----------------------------------------------------------------------


def _snapshot(app: Flask) -> list[Any]:
    return [
        sql(app, "SELECT count(*) FROM change_event")[0][0],
        sql(
            app,
            "SELECT business_types, opening_hours, phone, provenance, ST_AsText(position) "
            "FROM outlet_profile ORDER BY institution_id",
        ),
        sql(app, "SELECT fi_code, address, postcode, phone FROM institution ORDER BY id"),
        sql(app, "SELECT status, is_front FROM outlet_photo ORDER BY id"),
        sql(app, "SELECT status, code_hash FROM upload_task ORDER BY id"),
    ]


def test_every_update_endpoint_answers_404_outside_the_jurisdiction_and_403_to_auditors(
    app: Flask, client: FlaskClient, world: World
) -> None:
    [key] = add_photos(app, NJ_OUTLET, (9,))
    made = put(client, world.nanjing, NJ_OUTLET, "phone", {"phone": "025-84571234"}).get_json()
    calls: list[tuple[str, str, Any]] = [
        ("put", f"/outlets/{NJ_OUTLET}/position", {"lat": 32.06, "lng": 118.79}),
        ("put", f"/outlets/{NJ_OUTLET}/business-types", {"business_types": ["loans"]}),
        ("put", f"/outlets/{NJ_OUTLET}/hours", {"text": "24/7"}),
        ("put", f"/outlets/{NJ_OUTLET}/phone", {"phone": "025-84579999"}),
        ("put", f"/outlets/{NJ_OUTLET}/photos/{key}", {"front": True}),
        ("delete", f"/outlets/{NJ_OUTLET}/photos/{key}", None),
        ("post", f"/outlets/{NJ_OUTLET}/confirm", {"groups": ["position"]}),
        ("put", f"/institutions/{NJ_OUTLET}/contact", {"postcode": "210099"}),
        ("post", f"/history/{made['event_id']}/revert", None),
        ("post", "/tasks", {"fi_codes": [NJ_OUTLET]}),
    ]
    before = _snapshot(app)
    for method, path, body in calls:
        for outsider in (world.suzhou, world.other_admin):
            refused = getattr(client, method)(f"{API}{path}", json=body, headers=outsider)
            assert refused.status_code == 404, (path, refused.get_json())
            assert "辖区" in refused.get_json()["message"]
        read_only = getattr(client, method)(f"{API}{path}", json=body, headers=world.auditor)
        assert read_only.status_code == 403, path
    assert _snapshot(app) == before
    denied = audit_rows(app, outcome="denied")
    reasons = [r.detail["reason"] for r in denied]
    assert reasons.count("not_found_or_outside_jurisdiction") == 2 * len(calls)
    assert reasons.count("read_only") == len(calls)
    # refusals are filed under the caller's own jurisdiction, never the target's
    assert {r.region_code for r in denied} <= {"3205", "3201"}

    # The same calls are fine for the outlet's own offices and institution.
    for method, path, body in calls:
        done = getattr(client, method)(f"{API}{path}", json=body, headers=world.bank_admin)
        assert done.status_code in (200, 201), (path, done.get_json())

    photos = client.get(f"{API}/outlets/{NJ_OUTLET}/photos", headers=world.suzhou)
    assert photos.status_code == 404


def test_an_unknown_outlet_gets_the_same_answer_as_one_outside_the_jurisdiction(
    app: Flask, client: FlaskClient, world: World
) -> None:
    unknown = put(client, world.suzhou, "C9999932019999", "phone", {"phone": "025-84571234"})
    outside = put(client, world.suzhou, NJ_OUTLET, "phone", {"phone": "025-84571234"})
    assert unknown.status_code == outside.status_code == 404
    assert unknown.get_json()["message"] == outside.get_json()["message"]
    injection = put(client, world.nanjing, "x' OR '1'='1", "phone", {"phone": "025-84571234"})
    assert injection.status_code == 404
    # NUL, which PostgreSQL cannot store, is refused for every route before any view
    # (web/input_guard.py): the same 422 whatever the outlet
    nul = put(client, world.nanjing, "C1030532%00010011", "phone", {"phone": "025-84571234"})
    assert nul.status_code == 422
    assert "fi_code" in nul.get_json()["errors"]["path"]
    photo = client.delete(f"{API}/outlets/{NJ_OUTLET}/photos/%00", headers=world.nanjing)
    assert photo.status_code == 422
    listed = client.get(f"{API}/tasks", query_string={"fi_code": "\x00"}, headers=world.nanjing)
    assert listed.status_code == 422
    assert count(app, "change_event") == 0


def test_without_a_token_every_update_is_401(client: FlaskClient, world: World) -> None:
    assert put(client, {}, NJ_OUTLET, "phone", {"phone": "025-84571234"}).status_code == 401
    assert client.post(f"{API}/history/1/revert").status_code == 401
    body = {"postcode": "215000"}
    assert client.put(f"{API}/institutions/{SZ_OUTLET}/contact", json=body).status_code == 401


def test_update_endpoints_are_documented(client: FlaskClient) -> None:
    spec = client.get("/openapi.json").get_json()
    expected = {
        ("put", "/outlets/{fi_code}/position"): {"401", "403", "404", "409", "422"},
        ("put", "/outlets/{fi_code}/business-types"): {"401", "403", "404", "409", "422"},
        ("put", "/outlets/{fi_code}/hours"): {"401", "403", "404", "409", "422"},
        ("put", "/outlets/{fi_code}/phone"): {"401", "403", "404", "409", "422"},
        ("get", "/outlets/{fi_code}/photos"): {"401", "403", "404"},
        ("put", "/outlets/{fi_code}/photos/{key}"): {"401", "403", "404", "422"},
        ("delete", "/outlets/{fi_code}/photos/{key}"): {"401", "403", "404"},
        ("post", "/outlets/{fi_code}/confirm"): {"401", "403", "404", "409", "422"},
        ("put", "/institutions/{fi_code}/contact"): {"401", "403", "404", "409", "422"},
        ("post", "/history/{event_id}/revert"): {"401", "403", "404", "409"},
    }
    for (method, path), statuses in expected.items():
        operation = spec["paths"][API + path][method]
        assert operation["summary"] and "\n" not in operation["summary"], path
        assert operation["security"] == [{"proToken": []}], path
        assert statuses <= set(operation["responses"]), (path, operation["responses"].keys())
