"""ATMs and self-service points as outlets (issue 18, part 6): the demo's machines, the
search service's kind filter, the map's one pin per address, the public API, the profile
import's rule and the trigger that copies an institution's kind onto its profile."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from backend.demo.county_places import county_places
from backend.demo.generate import CHILD_MAX_KM
from backend.imports import import_profiles
from core.coords import distance_m
from geo.clusters import pins, viewport
from geo.search import BBox, Filters, Point, SearchQuery, search
from tests.conftest import app_on, load_generated

API = "/api/mp/v1"
XINJIEKOU = Point(32.0415, 118.7781)  # WGS-84
MACHINES = ("self_service", "atm")


@pytest.fixture(scope="module")
def data(
    engine: Engine, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, Flask]]:
    """500 generated outlets and their machines, committed once (these tests only read,
    or write inside a rolled-back transaction)."""
    directory = tmp_path_factory.mktemp("kinds")
    load_generated(engine, directory, outlets=500, seed=4)
    with app_on(engine, database_url) as app:
        yield directory, app


@pytest.fixture
def session(data: tuple[Path, Flask], engine: Engine) -> Iterator[Session]:
    connection = engine.connect()
    transaction = connection.begin()
    db = Session(bind=connection, join_transaction_mode="create_savepoint")
    yield db
    db.close()
    transaction.rollback()
    connection.close()


@pytest.fixture
def api(data: tuple[Path, Flask]) -> FlaskClient:
    return data[1].test_client()


def _rows(directory: Path, name: str) -> dict[str, dict[str, str]]:
    with (directory / name).open(encoding="utf-8", newline="") as f:
        return {row["fi_code"]: row for row in csv.DictReader(f)}


def test_the_demo_gives_each_bank_branch_two_to_three_machines_near_it(
    data: tuple[Path, Flask],
) -> None:
    directory = data[0]
    institutions = _rows(directory, "institutions.csv")
    profiles = _rows(directory, "profiles.csv")
    machines: dict[str, list[dict[str, str]]] = {}
    for row in institutions.values():
        if row["kind"] in MACHINES:
            machines.setdefault(row["parent_code"], []).append(row)
    assert machines
    branches = [
        r
        for code, r in institutions.items()
        if r["kind"] == ""
        and r["status"] == "active"
        and code in profiles
        and r["fi_code"].startswith("C1")
        and r["level"] in ("sub_branch", "outlet")
    ]
    off_site = 0
    for branch in branches:
        own = machines.get(branch["fi_code"], [])
        if not own:  # insurers' and brokers' offices have no machines
            continue
        assert 2 <= len(own) <= 3, branch["name"]
        home = profiles[branch["fi_code"]]
        places = county_places()[branch["region_code"]]
        for machine in own:
            assert machine["level"] == "outlet" and machine["region_code"] == branch["region_code"]
            assert machine["name"].startswith(branch["name"])
            profile = profiles[machine["fi_code"]]
            assert "cash_out" in profile["business_types"].split(";")
            here = (float(profile["latitude"]), float(profile["longitude"]))
            there = (float(home["latitude"]), float(home["longitude"]))
            if machine["address"] == branch["address"]:  # in the branch: at its very point
                assert here == there and profile["coord_system"] == home["coord_system"]
            else:
                off_site += 1
                assert any(machine["address"].count(road) for road in places.roads)
                assert any(w in machine["name"] for w in ("购物中心", "商业广场", "站"))
                # positions in different systems differ by the offset (< 1 km) at most
                assert distance_m(*here, *there) < CHILD_MAX_KM * 1000 + 1000
    assert off_site > 0


def test_the_nearest_machines_are_machines_nearest_first(session: Session) -> None:
    wanted = Filters(kinds=MACHINES, business_types=("cash_out",))
    hits = search(session, SearchQuery(near=XINJIEKOU, limit=10, filters=wanted))
    assert len(hits) == 10 and {h.kind for h in hits} <= set(MACHINES)
    assert all("cash_out" in h.business_types and h.parent_code for h in hits)
    distances = [h.distance_m or 0.0 for h in hits]
    assert distances == sorted(distances)
    reference = session.execute(
        text("""
        SELECT min(ST_Distance(o.position, ST_SetSRID(ST_MakePoint(:lng, :lat), 4326)::geography,
                               false))
        FROM outlet_profile o JOIN institution i ON i.id = o.institution_id
        WHERE i.status = 'active' AND o.position IS NOT NULL AND i.kind IN ('atm', 'self_service')
          AND 'cash_out' = ANY(o.business_types)"""),
        {"lat": XINJIEKOU.lat, "lng": XINJIEKOU.lng},
    ).scalar_one()
    assert distances[0] == pytest.approx(reference, abs=0.01)
    only = Filters(kinds=("branch",))
    branches = search(session, SearchQuery(near=XINJIEKOU, limit=10, filters=only))
    assert {h.kind for h in branches} == {"branch"}


def test_a_branch_and_its_machines_are_one_pin(session: Session) -> None:
    box = BBox(31.9, 118.6, 32.2, 118.95)
    hits = search(session, SearchQuery(bbox=box, limit=200, max_limit=200))
    grouped = pins(hits)
    assert sum(1 + len(p.parts) for p in grouped) == len(hits)
    shared = [p for p in grouped if p.parts]
    assert shared, "in-branch ATMs share their branch's position"
    for pin in shared:
        assert all((h.lat, h.lng) == (pin.outlet.lat, pin.outlet.lng) for h in pin.parts)
        if pin.outlet.kind == "atm":  # no branch at that point: machines only
            assert all(h.kind == "atm" for h in pin.parts)
        for part in pin.parts:
            if part.kind != "branch" and pin.outlet.kind == "branch":
                assert part.parent_code == pin.outlet.fi_code


def test_clusters_count_every_kind(session: Session) -> None:
    jiangsu = BBox(30.7, 116.3, 35.2, 121.9)
    every = viewport(session, jiangsu, 7, Filters())
    assert every.clusters and every.total == sum(c.count for c in every.clusters)
    for c in every.clusters:
        assert sum(c.kinds.values()) == c.count
    counted = session.execute(
        text("SELECT o.kind, count(*) FROM outlet_profile o JOIN institution i ON i.id = "
             "o.institution_id WHERE i.status = 'active' AND o.position IS NOT NULL GROUP BY 1")
    ).all()  # fmt: skip
    totals = {k: sum(c.kinds[k] for c in every.clusters) for k in ("branch", "self_service", "atm")}
    assert totals == {k: int(n) for k, n in counted}
    atms = viewport(session, jiangsu, 7, Filters(kinds=("atm",)))
    assert atms.total == totals["atm"]
    assert all(c.kinds["branch"] == c.kinds["self_service"] == 0 for c in atms.clusters)


def test_the_lists_filter_by_kind_and_say_what_machines_do(api: FlaskClient) -> None:
    here = {"lat": XINJIEKOU.lat, "lng": XINJIEKOU.lng, "coord": "wgs84", "limit": 10}
    default = api.get(f"{API}/outlets/nearby", query_string=here).get_json()
    assert {i["kind"] for i in default["items"]} == {"branch"}
    assert all(i["facilities"] is None and i["parent_fi_code"] is None for i in default["items"])
    machines = api.get(f"{API}/outlets/nearby", query_string={**here, "kind": "atm,self_service"})
    items: list[dict[str, Any]] = machines.get_json()["items"]
    assert items and {i["kind"] for i in items} <= set(MACHINES)
    for item in items:
        assert item["facilities"]["cash_out"] is ("cash_out" in item["business_types"])
        assert item["facilities"]["open_24h"] is ("self_service_24h" in item["business_types"])
        assert item["parent_fi_code"]
    refused = api.get(f"{API}/outlets/nearby", query_string={**here, "kind": "vending"})
    body = refused.get_json()
    assert refused.status_code == 422 and "kind" in body["errors"]["query"]
    assert "网点类型" in str(body["errors"]["query"]["kind"])


def test_the_map_lists_a_pin_with_its_parts(api: FlaskClient) -> None:
    view = {"min_lat": 32.03, "min_lng": 118.76, "max_lat": 32.05, "max_lng": 118.80}
    answer = api.get(
        f"{API}/outlets/viewport", query_string={**view, "coord": "wgs84", "zoom": 17}
    ).get_json()
    assert answer["mode"] == "outlets"
    assert answer["total"] == sum(1 + len(i["parts"]) for i in answer["items"])
    with_parts = [i for i in answer["items"] if i["parts"]]
    assert with_parts
    for item in with_parts:
        assert {p["kind"] for p in item["parts"]} <= {"branch", *MACHINES}
        assert all(set(p) == {"fi_code", "name", "kind", "facilities", "business_types",
                              "open_now"} for p in item["parts"])  # fmt: skip


def test_the_profile_import_refuses_a_counter_service_at_a_machine(
    session: Session, tmp_path: Path
) -> None:
    machine, branch = session.execute(
        text("SELECT i.fi_code, i.parent_code FROM institution i WHERE i.kind = 'atm' "
             "AND i.status = 'active' ORDER BY i.fi_code LIMIT 1")
    ).one()  # fmt: skip
    path = tmp_path / "profiles.csv"
    path.write_text(
        f"fi_code,business_types\n{machine},cash_out;personal_account\n{branch},cash;cash_in\n",
        encoding="utf-8",
    )
    result = import_profiles(session, path)
    found = sorted((i.rule_id, i.row, i.value) for i in result.issues)
    assert found == [
        ("PRF-KIND-BUSINESS", 2, "personal_account"),
        ("PRF-KIND-BUSINESS", 3, "cash_in"),
    ]
    assert all("ATM" in i.message_zh or "营业网点" in i.message_zh for i in result.issues)
    path.write_text(f"fi_code,business_types\n{machine},取款;自助存款;24小时自助银行\n")
    assert import_profiles(session, path).outcome != "accepted"  # 取款 is no label
    path.write_text(f"fi_code,business_types\n{machine},自助取款;自助存款;24小时自助银行\n")
    assert import_profiles(session, path).outcome == "accepted"


def test_the_profile_follows_the_institution_s_kind(session: Session) -> None:
    code = session.execute(
        text("SELECT fi_code FROM institution WHERE kind = 'atm' ORDER BY fi_code LIMIT 1")
    ).scalar_one()
    session.execute(
        text("UPDATE institution SET kind = 'self_service' WHERE fi_code = :c"), {"c": code}
    )
    kind = session.execute(
        text("SELECT o.kind FROM outlet_profile o JOIN institution i ON i.id = o.institution_id "
             "WHERE i.fi_code = :c"), {"c": code}
    ).scalar_one()  # fmt: skip
    assert kind == "self_service"
    with pytest.raises(Exception, match="self_service_is_outlet"), session.begin_nested():
        session.execute(
            text("UPDATE institution SET level = 'sub_branch' WHERE fi_code = :c"),
            {"c": code},
        )
