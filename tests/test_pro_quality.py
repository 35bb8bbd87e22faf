"""Data-quality reports of the pro API on real PostgreSQL over a known data set
(tests/pro_report_data.py): figures counted by hand, jurisdiction on every
endpoint, paging, exports that open, and filters that are only text."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from pro_api.quality import (
    COVERAGE_COLUMNS,
    INACCURATE_COLUMNS,
    NOT_UPDATED_COLUMNS,
    RANKING_COLUMNS,
    REPEATED_COLUMNS,
)
from reports.quality import REPORT_WORK_MEM, prepare_report
from tests.conftest import truncate_all
from tests.pro_report_data import API, BANK, N3_NAME, OTHER_BANK, OUTLETS, get, load, ok, signed_in
from tests.test_pro_accounts import audit_rows, make_app


@pytest.fixture
def app(database_url: str, engine: Engine) -> Iterator[Flask]:
    application = make_app(database_url)
    application.config["OUTLET_IDS"] = load(engine)
    yield application
    application.extensions["branchfinder.db"].dispose()
    truncate_all(engine)


@pytest.fixture
def who(app: Flask, client: FlaskClient) -> dict[str, Any]:
    return signed_in(app, client, ("other_bank", OTHER_BANK))


def codes(items: list[dict[str, Any]], key: str = "fi_code") -> list[str]:
    return [item[key] for item in items]


def fi(*labels: str) -> list[str]:
    return [OUTLETS[label].fi_code for label in labels]


def counts(row: dict[str, Any]) -> tuple[int, ...]:
    return tuple(
        row[k]
        for k in (
            "outlets",
            "with_position",
            "with_business_types",
            "with_front_photo",
            "with_hours",
            "with_phone",
            "confirmed",
        )
    )


# --- coverage -------------------------------------------------------------------------------


def test_coverage_by_county_in_nanjing(client: FlaskClient, who: dict[str, Any]) -> None:
    body = ok(get(client, who, "nanjing", "/quality/coverage", by="county"))
    assert body["by"] == "county"
    assert [(r["key"], r["name"]) for r in body["items"]] == [
        ("320102", "江苏省南京市玄武区"),
        ("320106", "江苏省南京市鼓楼区"),
    ]
    # N5 (revoked) and N6 (no profile) are not outlets; N2's phone is its record's;
    # N3's blank phone and N4's flagged photo do not count.
    assert counts(body["items"][0]) == (2, 2, 1, 1, 1, 2, 1)
    assert counts(body["items"][1]) == (2, 1, 1, 0, 1, 0, 0)
    total = body["total"]
    assert (total["key"], total["name"]) == ("3201", "江苏省南京市")
    assert counts(total) == (4, 3, 2, 1, 2, 2, 1)
    assert total["shares"] == {
        "position": 0.75,
        "business_types": 0.5,
        "front_photo": 0.25,
        "hours": 0.5,
        "phone": 0.5,
        "confirmed": 0.25,
    }
    # 100 × (25×3 + 20×2 + 20×1 + 10×2 + 10×2 + 15×1) / (100 × 4)
    assert total["score"] == 47.5
    assert body["next_after"] is None


def test_coverage_by_city_and_legal_entity_follow_jurisdiction(
    client: FlaskClient, who: dict[str, Any]
) -> None:
    province = ok(get(client, who, "province", "/quality/coverage", by="city"))
    assert [(r["key"], counts(r)) for r in province["items"]] == [
        ("3201", (4, 3, 2, 1, 2, 2, 1)),
        ("3205", (2, 2, 1, 1, 1, 1, 1)),
    ]
    assert counts(province["total"]) == (6, 5, 3, 2, 3, 3, 2)

    suzhou = ok(get(client, who, "suzhou", "/quality/coverage", by="city"))
    assert [r["key"] for r in suzhou["items"]] == ["3205"]
    assert counts(suzhou["total"]) == (2, 2, 1, 1, 1, 1, 1)

    entities = ok(get(client, who, "nanjing", "/quality/coverage", by="legal_entity"))
    assert [(r["key"], r["name"], counts(r)) for r in entities["items"]] == [
        (BANK, "测试银行股份有限公司", (3, 2, 1, 1, 1, 2, 1)),
        (OTHER_BANK, "另一银行", (1, 1, 1, 0, 1, 0, 0)),
    ]

    # an institution's administrator sees its own legal entity only, province-wide
    own = ok(get(client, who, "other_bank", "/quality/coverage", by="city"))
    assert [(r["key"], counts(r)) for r in own["items"]] == [
        ("3201", (1, 1, 1, 0, 1, 0, 0)),
        ("3205", (1, 1, 0, 0, 0, 0, 0)),
    ]


def test_region_filter_narrows_and_never_widens(
    app: Flask, client: FlaskClient, who: dict[str, Any]
) -> None:
    narrowed = ok(get(client, who, "province", "/quality/coverage", by="county", region="320106"))
    assert [r["key"] for r in narrowed["items"]] == ["320106"]
    assert narrowed["total"]["key"] == "320106"
    # a region containing the jurisdiction is the jurisdiction itself
    wider = ok(get(client, who, "nanjing", "/quality/coverage", by="city", region="32"))
    assert [r["key"] for r in wider["items"]] == ["3201"]
    assert counts(wider["total"]) == (4, 3, 2, 1, 2, 2, 1)
    # a region beside it is refused before anything is read, and audited
    refused = get(client, who, "nanjing", "/quality/coverage", by="city", region="3205")
    assert refused.status_code == 403
    assert "region" in refused.get_json()["errors"]["query"]
    assert "items" not in refused.get_json()
    entries = audit_rows(app, actor_id=who["ids"]["nanjing"], action="quality.coverage")
    assert [(e.outcome, e.detail["reason"]) for e in entries] == [
        ("denied", "region outside jurisdiction")
    ]
    assert entries[0].region_code == "3201"  # filed under the caller's own jurisdiction
    # another legal entity than an institution account's own
    other = get(client, who, "other_bank", "/quality/coverage", legal_entity=BANK)
    assert other.status_code == 403 and "legal_entity" in other.get_json()["errors"]["query"]
    # a PBoC office may narrow to a legal entity
    bank = ok(get(client, who, "nanjing", "/quality/coverage", legal_entity=BANK))
    assert counts(bank["total"]) == (3, 2, 1, 1, 1, 2, 1)


def test_coverage_pages_by_position(client: FlaskClient, who: dict[str, Any]) -> None:
    first = ok(get(client, who, "province", "/quality/coverage", by="county", limit=2))
    assert [r["key"] for r in first["items"]] == ["320102", "320106"]
    assert first["next_after"] == 2
    second = ok(get(client, who, "province", "/quality/coverage", by="county", limit=2, after=2))
    assert [r["key"] for r in second["items"]] == ["320505"]
    assert second["next_after"] is None
    assert counts(second["total"]) == counts(first["total"]) == (6, 5, 3, 2, 3, 3, 2)


# --- ranking --------------------------------------------------------------------------------


def test_ranking_by_completeness_score(client: FlaskClient, who: dict[str, Any]) -> None:
    body = ok(get(client, who, "nanjing", "/quality/ranking"))
    assert body["weights"] == {
        "position": 25,
        "business_types": 20,
        "front_photo": 20,
        "hours": 10,
        "phone": 10,
        "confirmed": 15,
    }
    rows = [
        (r["rank"], r["key"], r["score"], r["open_reports"], r["verified_reports"])
        for r in body["items"]
    ]
    # OTHER_BANK: (25 + 20 + 10) / 1 = 55.0; BANK: (50 + 20 + 20 + 10 + 20 + 15) / 3 = 45.0.
    # BANK's verified reports: N1's and the revoked N5's; N2's rejected one never counts.
    assert rows == [(1, OTHER_BANK, 55.0, 0, 2), (2, BANK, 45.0, 1, 2)]

    province = ok(get(client, who, "province", "/quality/ranking"))
    # BANK: (75 + 40 + 40 + 20 + 30 + 30) / 4 = 58.75 → 58.8; OTHER_BANK: (50+20+10)/2 = 40.0
    assert [(r["rank"], r["key"], r["score"]) for r in province["items"]] == [
        (1, BANK, 58.8),
        (2, OTHER_BANK, 40.0),
    ]
    assert [r["verified_reports"] for r in province["items"]] == [4, 2]

    at_least_two = ok(get(client, who, "nanjing", "/quality/ranking", min_outlets=2))
    assert [(r["rank"], r["key"]) for r in at_least_two["items"]] == [(1, BANK)]
    own = ok(get(client, who, "other_bank", "/quality/ranking"))
    assert [r["key"] for r in own["items"]] == [OTHER_BANK]
    suzhou = ok(get(client, who, "suzhou", "/quality/ranking"))
    assert [(r["key"], r["outlets"], r["verified_reports"]) for r in suzhou["items"]] == [
        (BANK, 1, 2),
        (OTHER_BANK, 1, 0),
    ]
    page = ok(get(client, who, "province", "/quality/ranking", limit=1))
    assert [r["key"] for r in page["items"]] == [BANK] and page["next_after"] == 1


# --- not updated ----------------------------------------------------------------------------


def test_not_updated_since_a_shanghai_day(client: FlaskClient, who: dict[str, Any]) -> None:
    body = ok(get(client, who, "nanjing", "/quality/not-updated", since="2026-11-01"))
    # N1 uploaded, N4 confirmed; N2's registry sync and held upload, and N3's accepted
    # public correction are not updates by the institution.
    assert codes(body["items"]) == fi("N2", "N3")
    assert [r["last_updated_at"] for r in body["items"]] == ["2026-10-01T03:00:00+00:00", None]
    assert body["items"][1]["name"] == N3_NAME
    assert body["items"][1]["region_name"] == "江苏省南京市鼓楼区"
    # S1 was updated at 16:30 UTC on 31 October, which is 1 November in Shanghai
    province = ok(get(client, who, "province", "/quality/not-updated", since="2026-11-01"))
    assert codes(province["items"]) == fi("N2", "N3", "S2")
    later = ok(get(client, who, "province", "/quality/not-updated", since="2026-11-02"))
    assert codes(later["items"]) == fi("N2", "N3", "S1", "S2")
    suzhou = ok(get(client, who, "suzhou", "/quality/not-updated", since="2026-11-02"))
    assert codes(suzhou["items"]) == fi("S1", "S2")
    own = ok(get(client, who, "other_bank", "/quality/not-updated", since="2026-12-01"))
    assert codes(own["items"]) == fi("N4", "S2")


def test_not_updated_pages_by_id(app: Flask, client: FlaskClient, who: dict[str, Any]) -> None:
    ids = app.config["OUTLET_IDS"]
    first = ok(get(client, who, "province", "/quality/not-updated", since="2026-11-01", limit=2))
    assert codes(first["items"]) == fi("N2", "N3")
    assert first["next_after"] == ids["N3"]
    second = ok(
        get(
            client,
            who,
            "province",
            "/quality/not-updated",
            since="2026-11-01",
            limit=2,
            after=first["next_after"],
        )
    )
    assert codes(second["items"]) == fi("S2") and second["next_after"] is None
    too_many = get(client, who, "province", "/quality/not-updated", since="2026-11-01", limit=201)
    assert too_many.status_code == 422 and "limit" in too_many.get_json()["errors"]["query"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("'; DROP TABLE institution; --", []),
        ("%", ["N3"]),  # LIKE's wildcards are characters here
        ("_", ["N3"]),
        ("珠江路", ["N2"]),
        ("\\", []),
    ],
)
def test_search_text_is_only_text(
    client: FlaskClient, who: dict[str, Any], text: str, expected: list[str]
) -> None:
    body = ok(get(client, who, "nanjing", "/quality/not-updated", since="2026-11-01", q=text))
    assert codes(body["items"]) == fi(*expected)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"since": "2026-13-01"}, "since"),
        ({}, "since"),
        ({"since": "2026-11-01", "region": "32'; --"}, "region"),
        ({"since": "2026-11-01", "legal_entity": "x' OR '1'='1"}, "legal_entity"),
        ({"since": "2026-11-01", "after": "1 OR 1=1"}, "after"),
        ({"since": "2026-11-01", "q": "x" * 101}, "q"),
    ],
)
def test_bad_filters_are_422_naming_the_field(
    client: FlaskClient, who: dict[str, Any], query: dict[str, str], field: str
) -> None:
    response = get(client, who, "nanjing", "/quality/not-updated", **query)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]["query"]


# --- inaccurate and repeated errors ---------------------------------------------------------


def test_inaccurate_outlets(client: FlaskClient, who: dict[str, Any]) -> None:
    body = ok(get(client, who, "nanjing", "/quality/inaccurate"))
    assert [
        (r["fi_code"], r["open_reports"], r["verified_reports"], r["kinds"]) for r in body["items"]
    ] == [
        (OUTLETS["N1"].fi_code, 1, 1, ["phone", "position"]),
        (OUTLETS["N4"].fi_code, 0, 2, ["hours", "position"]),
    ]
    assert body["items"][1]["last_reported_at"] == "2026-11-05T03:00:00+00:00"
    open_only = ok(get(client, who, "nanjing", "/quality/inaccurate", reports="open"))
    assert [(r["fi_code"], r["kinds"]) for r in open_only["items"]] == [
        (OUTLETS["N1"].fi_code, ["phone"])
    ]
    verified = ok(get(client, who, "nanjing", "/quality/inaccurate", reports="verified"))
    assert codes(verified["items"]) == fi("N1", "N4")
    recent = ok(get(client, who, "nanjing", "/quality/inaccurate", since="2026-11-04"))
    assert [(r["fi_code"], r["verified_reports"]) for r in recent["items"]] == [
        (OUTLETS["N4"].fi_code, 1)
    ]
    suzhou = ok(get(client, who, "suzhou", "/quality/inaccurate"))
    assert [(r["fi_code"], r["verified_reports"]) for r in suzhou["items"]] == [
        (OUTLETS["S1"].fi_code, 2)
    ]
    own = ok(get(client, who, "other_bank", "/quality/inaccurate"))
    assert codes(own["items"]) == fi("N4")
    page = ok(get(client, who, "nanjing", "/quality/inaccurate", limit=1))
    assert codes(page["items"]) == fi("N1") and page["next_after"] is not None
    rest = ok(get(client, who, "nanjing", "/quality/inaccurate", limit=1, after=page["next_after"]))
    assert codes(rest["items"]) == fi("N4") and rest["next_after"] is None


def test_repeated_verified_errors(app: Flask, client: FlaskClient, who: dict[str, Any]) -> None:
    body = ok(get(client, who, "nanjing", "/quality/repeated-errors"))
    assert [
        (r["legal_entity_code"], r["name"], r["verified_reports"], r["outlets"])
        for r in body["items"]
    ] == [(BANK, "测试银行股份有限公司", 2, 2), (OTHER_BANK, "另一银行", 2, 1)]
    province = ok(get(client, who, "province", "/quality/repeated-errors", threshold=3))
    assert [(r["legal_entity_code"], r["verified_reports"]) for r in province["items"]] == [
        (BANK, 4)
    ]
    assert ok(get(client, who, "nanjing", "/quality/repeated-errors", threshold=3))["items"] == []
    since = ok(get(client, who, "nanjing", "/quality/repeated-errors", since="2026-11-01"))
    assert codes(since["items"], "legal_entity_code") == [BANK]
    until = ok(get(client, who, "nanjing", "/quality/repeated-errors", until="2026-11-05"))
    assert codes(until["items"], "legal_entity_code") == [OTHER_BANK]  # the 5th included
    suzhou = ok(get(client, who, "suzhou", "/quality/repeated-errors"))
    assert [(r["legal_entity_code"], r["verified_reports"]) for r in suzhou["items"]] == [(BANK, 2)]
    auditor = ok(get(client, who, "auditor", "/quality/repeated-errors"))
    assert codes(auditor["items"], "legal_entity_code") == [BANK, OTHER_BANK]
    backwards = get(
        client, who, "nanjing", "/quality/repeated-errors", since="2026-11-05", until="2026-11-01"
    )
    assert backwards.status_code == 422 and "until" in backwards.get_json()["errors"]["query"]
    # the public-notice candidates are PBoC's: an institution's administrator is refused
    refused = get(client, who, "other_bank", "/quality/repeated-errors")
    assert refused.status_code == 403 and "items" not in refused.get_json()
    entries = audit_rows(app, actor_id=who["ids"]["other_bank"], action="quality.repeated_errors")
    assert [e.outcome for e in entries] == ["denied"]


# --- every endpoint: tokens, jurisdiction, exports ------------------------------------------

LISTS = {
    "/quality/coverage": {"by": "county"},
    "/quality/ranking": {},
    "/quality/not-updated": {"since": "2026-12-01"},
    "/quality/inaccurate": {},
    "/quality/repeated-errors": {"threshold": 2},
}


@pytest.mark.parametrize("path", [*LISTS, *(f"{p}/export" for p in LISTS)])
def test_every_endpoint_refuses_without_token_and_outside_jurisdiction(
    app: Flask, client: FlaskClient, who: dict[str, Any], path: str
) -> None:
    query = LISTS[path.removesuffix("/export")]
    assert client.get(f"{API}{path}", query_string=query).status_code == 401
    bad_token = {"Authorization": "Bearer not-a-token"}
    assert client.get(f"{API}{path}", query_string=query, headers=bad_token).status_code == 401
    for caller, field, value in (
        ("suzhou", "region", "3201"),
        ("nanjing", "region", "320505"),
        ("auditor", "region", "3205"),
    ):
        response = get(client, who, caller, path, **query, **{field: value})
        assert response.status_code == 403, (caller, response.get_json())
        assert field in response.get_json()["errors"]["query"]
        assert response.mimetype == "application/json"  # never a file
    denied = [e for e in audit_rows(app, outcome="denied") if e.actor_id is not None]
    assert len(denied) == 3


def _text_of(response: Any) -> str:
    return " ".join(
        str(v)
        for row in csv.reader(io.StringIO(response.get_data().decode("utf-8-sig")))
        for v in row
    )


@pytest.mark.parametrize("path", list(LISTS))
def test_exports_hold_no_foreign_figures(
    client: FlaskClient, who: dict[str, Any], path: str
) -> None:
    query = {**LISTS[path], "since": "2026-12-01"} if "not-updated" in path else LISTS[path]
    suzhou = get(client, who, "suzhou", f"{path}/export", **query)
    assert suzhou.status_code == 200, suzhou.get_json()
    text = _text_of(suzhou)
    for label in ("N1", "N2", "N3", "N4"):
        assert OUTLETS[label].fi_code not in text
    assert "3201" not in text and "南京" not in text


def test_coverage_export_csv_opens_with_totals(
    app: Flask, client: FlaskClient, who: dict[str, Any]
) -> None:
    response = get(client, who, "nanjing", "/quality/coverage/export", by="county")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Cache-Control"] == "no-store"
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert rows[0] == [c.header for c in COVERAGE_COLUMNS]
    assert rows[0][:3] == ["代码 / code", "名称 / name", "在营网点数 / active outlets"]
    table = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert [r["代码 / code"] for r in table] == ["320102", "320106", "合计"]
    total = table[-1]
    assert total["在营网点数 / active outlets"] == "4"
    assert total["地图位置完整率(%) / map position %"] == "75.0"
    assert total["门面照片完整率(%) / front photo %"] == "25.0"
    assert total["完整度得分 / completeness score"] == "47.5"
    entries = audit_rows(app, action="quality.coverage.export")
    assert [(e.outcome, e.actor_id, e.detail["rows"]) for e in entries] == [
        ("ok", who["ids"]["nanjing"], 3)
    ]


def test_xlsx_exports_open(client: FlaskClient, who: dict[str, Any]) -> None:
    for path, columns, query, first in (
        ("/quality/ranking/export", RANKING_COLUMNS, {}, [1, BANK, "测试银行股份有限公司"]),
        (
            "/quality/not-updated/export",
            NOT_UPDATED_COLUMNS,
            {"since": "2026-11-01"},
            [OUTLETS["N2"].fi_code, "南京珠江路支行", "320102"],
        ),
        (
            "/quality/inaccurate/export",
            INACCURATE_COLUMNS,
            {},
            [OUTLETS["N1"].fi_code, "南京新街口支行", "320102"],
        ),
        (
            "/quality/repeated-errors/export",
            REPEATED_COLUMNS,
            {},
            [BANK, "测试银行股份有限公司", 4],
        ),
    ):
        response = get(client, who, "province", path, format="xlsx", **query)
        assert response.status_code == 200, (path, response.get_json())
        sheet = load_workbook(io.BytesIO(response.get_data())).active
        values = [[cell.value for cell in row] for row in sheet.iter_rows()]
        assert values[0] == [c.header for c in columns], path
        assert values[1][: len(first)] == first, path
    inaccurate = get(client, who, "province", "/quality/inaccurate/export", format="xlsx")
    sheet = load_workbook(io.BytesIO(inaccurate.get_data())).active
    kinds = [row[-2].value for row in sheet.iter_rows(min_row=2)]
    assert kinds == ["电话有误；位置不准", "营业时间有误；位置不准", "电话有误；位置不准"]
    not_updated = get(client, who, "province", "/quality/not-updated/export", since="2026-11-01")
    assert N3_NAME in _text_of(not_updated)


def test_report_settings_end_with_the_transaction(db_session: Session) -> None:
    before = db_session.execute(text("SHOW work_mem")).scalar_one()
    prepare_report(db_session)
    assert db_session.execute(text("SHOW jit")).scalar_one() == "off"
    assert db_session.execute(text("SHOW work_mem")).scalar_one() == REPORT_WORK_MEM
    db_session.rollback()
    assert db_session.execute(text("SHOW work_mem")).scalar_one() == before
