"""Rollout statistics and the reporting calendar of the pro API on real PostgreSQL:
install registrations and error reports per legal entity and per PBoC office over
the known data set (tests/pro_report_data.py), jurisdiction on every endpoint,
exports that open, and due dates across Spring Festival and National Day 2026."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import Engine

from pro_api.rollout import INSTITUTION_COLUMNS, OFFICE_COLUMNS
from reports import rollout
from reports.rollout import YearNotCovered
from tests.conftest import truncate_all
from tests.pro_report_data import API, BANK, LOCAL, OTHER_BANK, get, load, ok, signed_in
from tests.test_pro_accounts import audit_rows, make_app, sql


@pytest.fixture
def app(database_url: str, engine: Engine) -> Iterator[Flask]:
    application = make_app(database_url)
    load(engine)
    yield application
    application.extensions["branchfinder.db"].dispose()
    truncate_all(engine)


@pytest.fixture
def who(app: Flask, client: FlaskClient) -> dict[str, Any]:
    return signed_in(app, client, ("bank", BANK))


def figures(row: dict[str, Any]) -> tuple[Any, ...]:
    return (
        row["rank"],
        row.get("legal_entity_code") or row.get("region_prefix"),
        row["outlets"],
        row["installs"],
        row["reports"],
        row["open_reports"],
        row["verified_reports"],
        row["rejected_reports"],
    )


# --- per institution ------------------------------------------------------------------------


def test_installs_and_reports_per_institution_in_nanjing(
    client: FlaskClient, who: dict[str, Any]
) -> None:
    body = ok(get(client, who, "nanjing", "/rollout/institutions"))
    # OTHER_BANK: two registrations at 320106. BANK: one at 320102 (the Suzhou one and the
    # one without a region, filed at its Beijing head office, are not Nanjing's); reports
    # N1 open + accepted, N2 rejected, the revoked N5 accepted. LOCAL: no region, filed at
    # its head office in 320102. The PBoC staff registration has no employer: no row.
    assert [figures(r) for r in body["items"]] == [
        (1, OTHER_BANK, 1, 2, 2, 0, 2, 0),
        (2, BANK, 3, 1, 4, 1, 2, 1),
        (2, LOCAL, 0, 1, 0, 0, 0, 0),
    ]
    assert [r["name"] for r in body["items"]] == [
        "另一银行",
        "测试银行股份有限公司",
        "南京某城商行",
    ]
    assert [r["installs_per_outlet"] for r in body["items"]] == [2.0, 0.33, None]

    per_outlet = ok(
        get(client, who, "nanjing", "/rollout/institutions", rank_by="installs_per_outlet")
    )
    assert [(r["rank"], r["legal_entity_code"]) for r in per_outlet["items"]] == [
        (1, OTHER_BANK),
        (2, BANK),
        (3, LOCAL),
    ]
    by_reports = ok(get(client, who, "nanjing", "/rollout/institutions", rank_by="reports"))
    assert [(r["rank"], r["legal_entity_code"]) for r in by_reports["items"]] == [
        (1, BANK),
        (2, OTHER_BANK),
        (3, LOCAL),
    ]


def test_period_counts_by_the_shanghai_day(client: FlaskClient, who: dict[str, Any]) -> None:
    december = ok(get(client, who, "nanjing", "/rollout/institutions", since="2026-12-01"))
    # LOCAL has no outlet here and nothing in December: no row
    assert [(r["legal_entity_code"], r["installs"], r["reports"]) for r in december["items"]] == [
        (OTHER_BANK, 1, 0),
        (BANK, 0, 0),
    ]
    early_november = ok(
        get(client, who, "nanjing", "/rollout/institutions", since="2026-11-01", until="2026-11-03")
    )
    by_code = {r["legal_entity_code"]: r for r in early_november["items"]}
    assert (by_code[BANK]["reports"], by_code[BANK]["installs"]) == (2, 0)  # N1's two
    assert by_code[OTHER_BANK]["reports"] == 0


def test_institution_figures_follow_jurisdiction(client: FlaskClient, who: dict[str, Any]) -> None:
    suzhou = ok(get(client, who, "suzhou", "/rollout/institutions"))
    assert [figures(r) for r in suzhou["items"]] == [
        (1, BANK, 1, 1, 2, 0, 2, 0),
        (2, OTHER_BANK, 1, 0, 0, 0, 0, 0),
    ]
    # an institution's administrator: its own legal entity, province-wide
    own = ok(get(client, who, "bank", "/rollout/institutions"))
    assert [figures(r) for r in own["items"]] == [(1, BANK, 4, 2, 6, 1, 4, 1)]
    refused = get(client, who, "bank", "/rollout/institutions", legal_entity=OTHER_BANK)
    assert refused.status_code == 403
    outside = get(client, who, "nanjing", "/rollout/institutions", region="3205")
    assert outside.status_code == 403 and "region" in outside.get_json()["errors"]["query"]
    page = ok(get(client, who, "nanjing", "/rollout/institutions", limit=2))
    assert len(page["items"]) == 2 and page["next_after"] == 2
    rest = ok(get(client, who, "nanjing", "/rollout/institutions", limit=2, after=2))
    assert [r["legal_entity_code"] for r in rest["items"]] == [LOCAL]


# --- per PBoC office ------------------------------------------------------------------------


def test_offices_by_city_and_county(client: FlaskClient, who: dict[str, Any]) -> None:
    cities = ok(get(client, who, "province", "/rollout/offices"))
    assert cities["level"] == "city"
    # Nanjing: BANK 320102, OTHER_BANK ×2, PBoC staff at 320100, LOCAL via its head office
    assert [figures(r) for r in cities["items"]] == [
        (1, "3201", 4, 5, 6, 1, 4, 1),
        (2, "3205", 2, 1, 2, 0, 2, 0),
    ]
    assert [r["name"] for r in cities["items"]] == ["江苏省南京市", "江苏省苏州市"]

    counties = ok(get(client, who, "nanjing", "/rollout/offices", level="county"))
    # registrations at city level count for the city's own row, not for a county
    assert [figures(r) for r in counties["items"]] == [
        (1, "320102", 2, 2, 4, 1, 2, 1),
        (1, "320106", 2, 2, 2, 0, 2, 0),
        (3, "320100", 0, 1, 0, 0, 0, 0),
    ]
    suzhou = ok(get(client, who, "suzhou", "/rollout/offices", level="county"))
    assert [figures(r) for r in suzhou["items"]] == [(1, "320505", 2, 1, 2, 0, 2, 0)]
    auditor = ok(get(client, who, "auditor", "/rollout/offices"))
    assert [r["region_prefix"] for r in auditor["items"]] == ["3201"]


def test_offices_are_for_pboc_only(app: Flask, client: FlaskClient, who: dict[str, Any]) -> None:
    for path in ("/rollout/offices", "/rollout/offices/export"):
        refused = get(client, who, "bank", path)
        assert refused.status_code == 403 and "items" not in refused.get_json()
    entries = audit_rows(app, actor_id=who["ids"]["bank"], outcome="denied")
    assert [e.action for e in entries] == ["rollout.offices", "rollout.offices.export"]


@pytest.mark.parametrize(
    "path",
    [
        "/rollout/institutions",
        "/rollout/institutions/export",
        "/rollout/offices",
        "/rollout/offices/export",
    ],
)
def test_every_rollout_endpoint_refuses_without_token_and_outside_jurisdiction(
    client: FlaskClient, who: dict[str, Any], path: str
) -> None:
    assert client.get(f"{API}{path}").status_code == 401
    for caller, region in (("suzhou", "3201"), ("nanjing", "3205"), ("auditor", "320505")):
        response = get(client, who, caller, path, region=region)
        assert response.status_code == 403, (caller, response.get_json())
        assert "region" in response.get_json()["errors"]["query"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"rank_by": "name; DROP TABLE feedback"}, "rank_by"),
        ({"level": "province"}, "level"),
        ({"since": "2026-11-31"}, "since"),
        ({"since": "2026-11-05", "until": "2026-11-01"}, "until"),
        ({"limit": "0"}, "limit"),
    ],
)
def test_bad_rollout_filters_are_422(
    client: FlaskClient, who: dict[str, Any], query: dict[str, str], field: str
) -> None:
    response = get(client, who, "province", "/rollout/offices", **query)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]["query"]


def test_rollout_exports_open(app: Flask, client: FlaskClient, who: dict[str, Any]) -> None:
    response = get(client, who, "nanjing", "/rollout/institutions/export")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert rows[0] == [c.header for c in INSTITUTION_COLUMNS]
    assert rows[1][:4] == ["1", OTHER_BANK, "另一银行", "1"]
    assert len(rows) == 4
    xlsx = get(client, who, "province", "/rollout/offices/export", level="county", format="xlsx")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.get_data())).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0] == [c.header for c in OFFICE_COLUMNS]
    assert [row[1] for row in values[1:]] == ["320102", "320106", "320100", "320505"]
    assert values[1][:5] == [1, "320102", "江苏省南京市玄武区", 2, 2]
    suzhou = get(client, who, "suzhou", "/rollout/institutions/export")
    assert "3201" not in suzhou.get_data().decode("utf-8-sig")
    exported = audit_rows(app, outcome="ok")
    assert [e.action for e in exported if e.action.startswith("rollout")] == [
        "rollout.institutions.export",
        "rollout.offices.export",
        "rollout.institutions.export",
    ]


# --- the public registration keeps where the registrant works -------------------------------


def test_install_registration_keeps_the_work_region(app: Flask, client: FlaskClient) -> None:
    body = {"kind": "install_registration", "staff_name": "李四", "employer_name": "某银行"}
    stored = client.post(
        "/api/mp/v1/feedback",
        json={**body, "employer_fi_code": BANK, "employer_region_code": "320102"},
    )
    assert stored.status_code == 201, stored.get_json()
    row = sql(
        app, "SELECT employer_region_code FROM feedback WHERE id = :id", id=stored.get_json()["id"]
    )
    assert row[0].employer_region_code == "320102"
    for extra, field in (
        ({"employer_region_code": "3201"}, "employer_region_code"),  # not 6 digits
        ({"employer_region_code": "320199"}, "employer_region_code"),  # no such region
        ({"employer_region_code": "320100' --"}, "employer_region_code"),
    ):
        refused = client.post("/api/mp/v1/feedback", json={**body, **extra})
        assert refused.status_code == 422, refused.get_json()
        assert field in refused.get_json()["errors"]["json"]
    suggestion = client.post(
        "/api/mp/v1/feedback",
        json={"kind": "suggestion", "text": "好用", "employer_region_code": "320102"},
    )
    assert suggestion.status_code == 422
    assert "employer_region_code" in suggestion.get_json()["errors"]["json"]


# --- the reporting calendar -----------------------------------------------------------------


def test_monthly_report_due_dates_of_2026(client: FlaskClient, who: dict[str, Any]) -> None:
    body = ok(get(client, who, "bank", "/calendar/monthly-report", year=2026))
    assert body["covered_years"]["first"] <= 2026 <= body["covered_years"]["last"]
    due = {item["month"]: item for item in body["items"]}
    assert len(due) == 12
    # 15 February 2026 is in the Spring Festival break (15-23 Feb): due Tuesday the 24th
    assert (due[2]["due"], due[2]["moved"], due[2]["reason"], due[2]["weekday"]) == (
        "2026-02-24",
        True,
        "春节",
        2,
    )
    # 15 March is a Sunday, 15 August a Saturday, 15 November a Sunday
    assert (due[3]["due"], due[3]["reason"]) == ("2026-03-16", "weekend")
    assert (due[8]["due"], due[8]["reason"]) == ("2026-08-17", "weekend")
    assert (due[11]["due"], due[11]["reason"]) == ("2026-11-16", "weekend")
    # a plain Thursday stays
    assert (due[10]["due"], due[10]["moved"], due[10]["reason"]) == ("2026-10-15", False, None)
    one = ok(get(client, who, "bank", "/calendar/monthly-report", year=2026, month=2))
    assert [item["due"] for item in one["items"]] == ["2026-02-24"]


def test_correction_deadline_across_national_day_and_a_swapped_working_day(
    client: FlaskClient, who: dict[str, Any]
) -> None:
    # Received Monday 28 September: 29, 30 Sep; 1-7 Oct off (国庆节 + 中秋节);
    # Thursday 8, Friday 9 and Saturday 10 October, a swapped working day (调休).
    body = ok(get(client, who, "nanjing", "/calendar/correction-deadline", received="2026-09-28"))
    assert (body["due"], body["weekday"], body["working_days"], body["verified"]) == (
        "2026-10-10",
        6,
        5,
        True,
    )
    assert body["days_off"] == [f"2026-10-0{d}" for d in range(1, 8)]
    assert body["note"] is None
    # Received Friday 13 February: Saturday the 14th is a working day (调休), then the
    # Spring Festival break, then 24-27 February.
    spring = ok(get(client, who, "nanjing", "/calendar/correction-deadline", received="2026-02-13"))
    assert spring["due"] == "2026-02-27"
    assert spring["days_off"][0] == "2026-02-15" and spring["days_off"][-1] == "2026-02-23"


def test_calendar_outside_the_covered_years_is_a_clear_422(
    client: FlaskClient, who: dict[str, Any]
) -> None:
    first, last = (
        ok(get(client, who, "province", "/calendar/monthly-report", year=2026))["covered_years"][k]
        for k in ("first", "last")
    )
    later = get(client, who, "province", "/calendar/monthly-report", year=last + 1)
    assert later.status_code == 422
    assert f"{first}-{last}" in later.get_json()["message"]
    assert "year" in later.get_json()["errors"]["query"]
    earlier = get(client, who, "province", "/calendar/correction-deadline", received="2003-06-01")
    assert earlier.status_code == 422 and "received" in earlier.get_json()["errors"]["query"]
    for query, field in (({"year": "2026; --"}, "year"), ({"year": 2026, "month": 13}, "month")):
        bad = get(client, who, "province", "/calendar/monthly-report", **query)
        assert bad.status_code == 422 and field in bad.get_json()["errors"]["query"]
    missing = get(client, who, "province", "/calendar/correction-deadline", received="28/09/2026")
    assert missing.status_code == 422 and "received" in missing.get_json()["errors"]["query"]
    assert client.get(f"{API}/calendar/monthly-report?year=2026").status_code == 401
    assert client.get(f"{API}/calendar/correction-deadline?received=2026-09-28").status_code == 401


def test_deadline_running_into_an_unpublished_year_is_provisional(
    client: FlaskClient, who: dict[str, Any]
) -> None:
    last = ok(get(client, who, "province", "/calendar/monthly-report", year=2026))["covered_years"][
        "last"
    ]
    body = ok(
        get(client, who, "province", "/calendar/correction-deadline", received=f"{last}-12-28")
    )
    assert body["verified"] is False
    assert str(last + 1) in body["note"]
    assert body["due"] > f"{last}-12-31"


def test_correction_deadline_of_a_timestamp_is_taken_on_its_shanghai_date() -> None:
    # 17:00 UTC on 30 September is 01:00 on 1 October (a holiday) in Shanghai: the count
    # starts on Thursday 8 October: 8, 9, 10 (调休), 12, 13.
    received = dt.datetime(2026, 9, 30, 17, 0, tzinfo=dt.UTC)
    deadline = rollout.correction_deadline(received)
    assert (deadline.received, deadline.due) == (dt.date(2026, 10, 1), dt.date(2026, 10, 13))
    assert dt.date(2026, 10, 11) in deadline.days_off  # a Sunday
    with pytest.raises(YearNotCovered) as refused:
        rollout.correction_deadline(dt.date(1999, 5, 4))
    assert "1999" in refused.value.message_zh and "2004" in refused.value.message_en
