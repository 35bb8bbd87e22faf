"""Every route of the professional API, walked as an account whose jurisdiction excludes a record.

The routes come from the OpenAPI document itself, so a new endpoint is walked the
day it is added; a route this test does not know how to call fails it. For each
caller (Nanjing's PBoC office, which must not see Suzhou; another bank's
administrator, which must not see this bank) every list is read with filters
that point at the foreign records, every record route is called with the foreign
record's id and a valid body, and then:

- no answer contains anything of a foreign record (its fi_code, address, account name);
- a call on a foreign record is 403 or 404 and leaves an audit entry;
- nothing in the database changed but the audit log.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine

from tests.pro_world import (
    API,
    MP,
    NJ_BRANCH,
    NJ_OUTLET,
    SZ_AT,
    SZ_OUTLET,
    World,
    make_world,
    seeded_app,
)
from tests.test_pro_accounts import BANK, sql
from tests.test_pro_decisions import held_upload

# The tables a refused call must leave exactly as they were (the audit log grows).
GUARDED = (
    "institution",
    "outlet_profile",
    "change_event",
    "error_report",
    "upload_review",
    "upload_task",
    "pro_account",
    "auth_token",
    "outlet_photo",
    "import_batch",
    "import_issue",
)
# Routes about the caller itself, not about records.
OWN = {"/auth/login", "/auth/password", "/auth/logout", "/me"}
PHOTO_KEY = "ab" * 32


@pytest.fixture
def app(database_url: str, engine: Engine, tmp_path: Path) -> Iterator[Flask]:
    yield from seeded_app(database_url, engine, tmp_path)


def _foreign_records(app: Flask, client: FlaskClient, world: World, fi_code: str) -> dict[str, Any]:
    """Records about `fi_code` of every kind a route can name, made by the province."""
    phone = client.put(
        f"{API}/outlets/{fi_code}/phone", json={"phone": "0512-66001234"}, headers=world.province
    )
    assert phone.status_code == 200, phone.get_json()
    tasks = client.post(f"{API}/tasks", json={"fi_codes": [fi_code]}, headers=world.province)
    assert tasks.status_code in (200, 201), tasks.get_json()
    reported = client.post(
        f"{MP}/outlets/{fi_code}/error-reports", json={"kind": "phone", "comment": "打不通"}
    )
    assert reported.status_code == 201, reported.get_json()
    [(event_id,)] = sql(
        app,
        "SELECT max(id) FROM change_event WHERE fi_code = :fi",
        fi=fi_code,
    )
    [(report_id,)] = sql(
        app,
        "SELECT max(id) FROM error_report WHERE fi_code = :fi",
        fi=fi_code,
    )
    return {
        "fi_code": fi_code,
        "event_id": event_id,
        "report_id": report_id,
        "review_id": held_upload(app, fi_code),
        "key": PHOTO_KEY,
    }


def _suzhou_batch(app: Flask) -> int:
    """A registry batch of Suzhou's office with one receipt line about a Suzhou record."""
    [(batch_id,)] = sql(
        app,
        "INSERT INTO import_batch (kind, source_name, source_sha256, actor, status, summary, "
        "options) VALUES ('registry', 'suzhou.csv', repeat('0', 64), 'system', 'finished', "
        """'{"rows_read": 1}', '{"jurisdiction": "3205"}') RETURNING id""",
    )
    sql(
        app,
        "INSERT INTO import_issue (batch_id, row_no, fi_code, column_name, rule_id, severity, "
        "value, message_zh, message_en, region_code, legal_entity_code) VALUES (:b, 2, :fi, "
        "'address', 'REG-ADDRESS', 'error', '苏州市虎丘区狮山路1号', '地址不对', 'bad address', "
        "'320505', :le)",
        b=batch_id,
        fi=SZ_OUTLET,
        le=BANK,
    )
    return int(batch_id)


def _bodies(record: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """A valid body for every write, so that only the jurisdiction can refuse it."""
    lat, lng = SZ_AT
    return {
        ("post", "/accounts"): {
            "username": "walker.suzhou",
            "display_name": "苏州",
            "role": "pboc_admin",
            "region_prefix": "3205",
        },
        ("post", "/accounts/{account_id}/disable"): {},
        ("post", "/accounts/{account_id}/reset-password"): {},
        ("post", "/accounts/{account_id}/revoke-tokens"): {},
        ("put", "/outlets/{fi_code}/position"): {"lat": lat, "lng": lng, "coord": "wgs84"},
        ("put", "/outlets/{fi_code}/business-types"): {"business_types": ["cash"]},
        ("put", "/outlets/{fi_code}/hours"): {"text": "周一至周五 9:00-17:00"},
        ("put", "/outlets/{fi_code}/phone"): {"phone": "0512-66009999"},
        ("put", "/outlets/{fi_code}/photos/{key}"): {"front": True},
        ("delete", "/outlets/{fi_code}/photos/{key}"): {},
        ("post", "/outlets/{fi_code}/confirm"): {"groups": ["phone"]},
        ("put", "/institutions/{fi_code}/contact"): {"postcode": "215000"},
        ("post", "/history/{event_id}/revert"): {},
        ("post", "/tasks"): {"fi_codes": [record["fi_code"]]},
        ("post", "/reviews/{review_id}/accept"): {},
        ("post", "/reviews/{review_id}/reject"): {"reason": "不对"},
        ("post", "/error-reports/{report_id}/accept"): {"already_fixed": True},
        ("post", "/error-reports/{report_id}/reject"): {"reason": "不对"},
    }


def _list_queries(record: dict[str, Any]) -> list[dict[str, str]]:
    """Filters that point at the foreign record; unknown ones are refused, which is fine."""
    fi_code = record["fi_code"]
    return [
        {},
        {"region": "3205"},
        {"region": "320505"},
        {"legal_entity": BANK},
        {"fi_code": fi_code},
        {"q": fi_code},
        {"q": "狮山路"},
        {"q": "测试银行"},
    ]


def _snapshot(app: Flask) -> dict[str, list[Any]]:
    return {t: [tuple(r) for r in sql(app, f"SELECT * FROM {t} ORDER BY 1")] for t in GUARDED}


def _audit_count(app: Flask) -> int:
    return int(sql(app, "SELECT count(*) FROM audit_log")[0][0])


def _routes(client: FlaskClient) -> list[tuple[str, str]]:
    spec = client.get("/openapi.json").get_json()
    routes = []
    for path, operations in spec["paths"].items():
        if not path.startswith(API) or path[len(API) :] in OWN:
            continue
        routes += [(m, path[len(API) :]) for m in operations if m != "parameters"]
    return sorted(routes, key=lambda r: ("{" in r[1], r))  # lists first, then records


def _assert_no_foreign(body: bytes, markers: tuple[str, ...], what: str, sent: str) -> None:
    """No marker in the answer, except one the caller sent itself (an echo is no leak)."""
    text = body.decode("utf-8", errors="replace")
    for marker in markers:
        if marker not in sent:
            assert marker not in text, f"{what} shows {marker!r}: {text[:300]}"


@pytest.mark.parametrize(
    ("caller", "foreign", "markers"),
    [
        # Nanjing's office and a Suzhou outlet of a bank it otherwise sees
        ("nanjing", SZ_OUTLET, (SZ_OUTLET, "狮山路", "world2", "suzhou.csv")),
        # another bank's administrator in Nanjing and this bank's Nanjing outlet
        ("other_admin", NJ_OUTLET, (NJ_OUTLET, SZ_OUTLET, NJ_BRANCH, "珠江路", "狮山路")),
    ],
)
def test_every_route_hides_and_protects_foreign_records(
    app: Flask, client: FlaskClient, caller: str, foreign: str, markers: tuple[str, ...]
) -> None:
    world = make_world(app)
    headers = getattr(world, caller)
    record = _foreign_records(app, client, world, foreign)
    [(suzhou_account,)] = sql(app, "SELECT id FROM pro_account WHERE username = 'world2'")
    record["account_id"] = suzhou_account
    record["batch_id"] = _suzhou_batch(app)
    bodies = _bodies(record)
    before = _snapshot(app)
    walked = 0

    for method, template in _routes(client):
        names = re.findall(r"{(\w+)}", template)
        path = API + template.format(**{name: record[name] for name in names})
        if not names and method == "get":
            for query in _list_queries(record):
                response = client.get(path, query_string=query, headers=headers)
                assert response.status_code < 500, (path, query, response.get_data()[:300])
                what = f"GET {path}?{query}"
                _assert_no_foreign(response.get_data(), markers, what, sent=what)
                walked += 1
            continue
        assert (method, template) in bodies or method == "get", (
            f"{method.upper()} {template}: the walk does not know a valid body for this route"
        )
        audited = _audit_count(app)
        body = bodies.get((method, template))
        response = client.open(path, method=method, json=body, headers=headers)
        assert response.status_code in (403, 404), (method, path, response.get_data()[:300])
        what = f"{method.upper()} {path}"
        _assert_no_foreign(response.get_data(), markers, what, sent=f"{what} {body}")
        assert _audit_count(app) > audited, (
            f"{method.upper()} {path} refused without an audit entry"
        )
        walked += 1

    assert walked > 60
    assert _snapshot(app) == before
    # the foreign account still works: nobody disabled it or revoked its tokens
    assert client.get(f"{API}/me", headers=world.suzhou).status_code == 200
