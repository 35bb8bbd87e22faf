"""Open now, over HTTP on real PostGIS, across an official holiday and a swapped working day.

Every outlet is given one of three schedules, and the answer expected at 10:00 on
four days is written out by hand from the 2026 calendar the State Council published:
2026-10-01 (a Thursday of the National Day holiday), 2026-10-15 (an ordinary
Thursday), 2026-09-20 (a Sunday worked in exchange for the holiday, on Monday's
hours) and 2026-09-13 (an ordinary Sunday).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

import miniprogram_api.outlets
from tests.conftest import app_on, load_generated

API = "/api/mp/v1"
GCJ = (32.039452, 118.783309)  # Xinjiekou, Nanjing
SHANGHAI = timezone(timedelta(hours=8))

_WEEKDAYS = {day: [["09:00", "17:00"]] for day in ("mo", "tu", "we", "th", "fr")}
SCHEDULES = {
    # weekdays, closed on official holidays
    "holidays_off": {
        "weekly": {**_WEEKDAYS, "sa": [], "su": []},
        "exceptions": [],
        "public_holidays": "closed",
    },
    # weekdays, a holiday like any other day of its week
    "weekdays": {
        "weekly": {**_WEEKDAYS, "sa": [], "su": []},
        "exceptions": [],
        "public_holidays": "as_weekly",
    },
    # every day
    "every_day": {
        "weekly": {**_WEEKDAYS, "sa": [["09:00", "17:00"]], "su": [["09:00", "17:00"]]},
        "exceptions": [],
        "public_holidays": "as_weekly",
    },
}
GROUPS = list(SCHEDULES)

# 10:00 in Shanghai on each day, and which schedules are open then
OPEN_AT_TEN = {
    "national_day_thursday": (
        datetime(2026, 10, 1, 10, tzinfo=SHANGHAI),
        {"weekdays", "every_day"},
    ),
    "ordinary_thursday": (
        datetime(2026, 10, 15, 10, tzinfo=SHANGHAI),
        {"holidays_off", "weekdays", "every_day"},
    ),
    "sunday_worked_for_national_day": (
        datetime(2026, 9, 20, 10, tzinfo=SHANGHAI),
        {"holidays_off", "weekdays", "every_day"},
    ),
    "ordinary_sunday": (datetime(2026, 9, 13, 10, tzinfo=SHANGHAI), {"every_day"}),
}


@pytest.fixture(scope="module")
def finder(
    engine: Engine, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Flask]:
    """300 generated outlets, each given one of SCHEDULES in turn by institution id."""
    data = tmp_path_factory.mktemp("open_now")
    load_generated(engine, data, outlets=300, seed=31)
    with Session(engine) as session:
        for i, group in enumerate(GROUPS):
            session.execute(
                text(
                    "UPDATE outlet_profile SET opening_hours = CAST(:hours AS jsonb) "
                    "WHERE institution_id % :n = :i"
                ),
                {"hours": json.dumps(SCHEDULES[group]), "n": len(GROUPS), "i": i},
            )
        session.commit()
    with app_on(engine, database_url) as app:
        yield app


@pytest.fixture(scope="module")
def group_of(finder: Flask, engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT i.fi_code, i.id FROM institution i "
                "JOIN outlet_profile o ON o.institution_id = i.id"
            )
        ).all()
    return {code: GROUPS[institution_id % len(GROUPS)] for code, institution_id in rows}


def _nearby(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch, at: datetime, **params: object
) -> list[dict[str, object]]:
    monkeypatch.setattr(miniprogram_api.outlets, "_now", lambda: at.astimezone(UTC))
    response = client.get(
        API + "/outlets/nearby",
        query_string={"lat": GCJ[0], "lng": GCJ[1], "radius_m": 50000, "limit": 100, **params},
    )
    assert response.status_code == 200, response.get_json()
    items: list[dict[str, object]] = response.get_json()["items"]
    return items


@pytest.mark.parametrize("day", list(OPEN_AT_TEN))
def test_open_now_at_ten_on_the_day(
    finder: Flask, group_of: dict[str, str], monkeypatch: pytest.MonkeyPatch, day: str
) -> None:
    at, open_groups = OPEN_AT_TEN[day]
    client = finder.test_client()
    everyone = _nearby(client, monkeypatch, at)
    assert 20 < len(everyone) < 100  # every outlet within the radius, on one page
    assert {group_of[str(i["fi_code"])] for i in everyone} == set(GROUPS)
    for item in everyone:
        assert item["open_now"] is (group_of[str(item["fi_code"])] in open_groups), item
        assert item["hours_verified"] is True  # 2026 is a published year
    open_ones = _nearby(client, monkeypatch, at, open_now="true")
    expected = [i["fi_code"] for i in everyone if group_of[str(i["fi_code"])] in open_groups]
    assert expected and [i["fi_code"] for i in open_ones] == expected


def test_detail_says_when_a_holiday_closed_outlet_opens_next(
    finder: Flask, group_of: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    at = OPEN_AT_TEN["national_day_thursday"][0]
    client = finder.test_client()
    everyone = _nearby(client, monkeypatch, at)
    closed = next(
        str(i["fi_code"]) for i in everyone if group_of[str(i["fi_code"])] == "holidays_off"
    )
    detail = client.get(f"{API}/outlets/{closed}").get_json()
    assert detail["open_now"] is False and detail["closes_at"] is None
    # the holiday runs to 7 October; Thursday the 8th is the next working day
    assert datetime.fromisoformat(detail["opens_next_at"]) == datetime(
        2026, 10, 8, 9, tzinfo=SHANGHAI
    )
    open_one = next(
        str(i["fi_code"]) for i in everyone if group_of[str(i["fi_code"])] == "weekdays"
    )
    detail = client.get(f"{API}/outlets/{open_one}").get_json()
    assert detail["open_now"] is True
    assert datetime.fromisoformat(detail["closes_at"]) == datetime(2026, 10, 1, 17, tzinfo=SHANGHAI)
