"""The demo generator is deterministic and valid, and the loader puts it into PostGIS intact."""

from __future__ import annotations

import csv
import filecmp
import functools
import re
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from backend.cli import main as cli
from backend.demo.catalog import CITY_NAMES, LEGAL_ENTITIES
from backend.demo.county_places import county_places
from backend.demo.generate import CHILD_MAX_KM, generate
from backend.demo.load import load_demo
from backend.imports import import_profiles, import_registry
from core.coords import convert, distance_m
from core.database import make_sessionmaker
from core.models.registry import ChangeEvent, Institution, OutletProfile
from profiles.business_types import BY_KEY
from profiles.hours_text import parse_hours
from registry import regions
from registry.codes import fi_code_problems, licence_problems, uscc_problems
from tests.conftest import truncate_all

OUTLETS = 1500


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    generate(out, outlets=OUTLETS, seed=7)
    return out


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_same_seed_same_bytes_other_seed_other_data(demo_dir: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    other = tmp_path / "other"
    generate(again, outlets=OUTLETS, seed=7)
    generate(other, outlets=OUTLETS, seed=8)
    for name in ("institutions.csv", "profiles.csv"):
        assert filecmp.cmp(demo_dir / name, again / name, shallow=False), name
        assert not filecmp.cmp(demo_dir / name, other / name, shallow=False), name


def test_institution_records_are_valid(demo_dir: Path) -> None:
    rows = read(demo_dir / "institutions.csv")
    by_code = {r["fi_code"]: r for r in rows}
    assert len(by_code) == len(rows), "fi_codes are unique"
    names = Counter(r["name"] for r in rows)
    assert names.most_common(1)[0][1] == 1, "names are unique"
    levels = Counter(r["level"] for r in rows)
    assert levels["head_office"] >= 40
    assert levels["branch"] > 0 and levels["sub_branch"] > 0 and levels["outlet"] > 0
    for r in rows:
        code = r["fi_code"]
        assert fi_code_problems(code) == [], code
        assert regions.get(r["region_code"]) is not None, r["region_code"]
        if r["uscc"]:
            assert uscc_problems(r["uscc"]) == [], r["uscc"]
        if r["licence_no"]:
            assert licence_problems(r["licence_no"]) == [], r["licence_no"]
        established = date.fromisoformat(r["established_on"])
        assert date(1900, 1, 1) <= established <= date.today()
        if r["status"] == "revoked":
            assert date.fromisoformat(r["revoked_on"]) > established
        else:
            assert r["status"] == "active" and r["revoked_on"] == ""
        if r["level"] == "head_office":
            assert r["legal_entity_code"] == code and r["parent_code"] == ""
            continue
        # A branch shares its legal entity's prefix and carries Jiangsu in positions 7-8.
        head = by_code[r["legal_entity_code"]]
        assert code[:6] == head["fi_code"][:6]
        assert code[6:8] == "32"
        assert regions.is_current_county(r["region_code"]) and r["region_code"][:2] == "32"
        parent = by_code[r["parent_code"]]
        assert parent["legal_entity_code"] == r["legal_entity_code"]
        assert r["address"].startswith("江苏省")
    # the formal naming style of real branches
    assert any(
        r["name"].startswith("中国工商银行股份有限公司") and r["name"].endswith("支行")
        for r in rows
    )


def test_profiles_are_valid_and_inside_their_county(demo_dir: Path) -> None:
    institutions = {r["fi_code"]: r for r in read(demo_dir / "institutions.csv")}
    profiles = read(demo_dir / "profiles.csv")
    visitable = [r for r in institutions.values() if r["level"] in ("sub_branch", "outlet")]
    # the branches asked for, and the banks' machines beyond them (tests/test_outlet_kinds.py)
    assert len([r for r in visitable if not r["kind"]]) == OUTLETS
    assert {r["kind"] for r in visitable} == {"", "atm", "self_service"}
    # every open place has a profile, closed ones have none
    assert {p["fi_code"] for p in profiles} == {
        r["fi_code"] for r in visitable if r["status"] == "active"
    }
    systems = Counter(p["coord_system"] for p in profiles)
    assert set(systems) == {"gcj02", "wgs84", "bd09"}
    assert systems["gcj02"] > systems["wgs84"] > systems["bd09"]
    for p in profiles:
        inst = institutions[p["fi_code"]]
        assert inst["level"] in ("sub_branch", "outlet") and inst["status"] == "active"
        lat, lng = convert(float(p["latitude"]), float(p["longitude"]), p["coord_system"], "wgs84")
        place = regions.place(inst["region_code"])
        assert place is not None
        assert place.min_lat <= lat <= place.max_lat and place.min_lng <= lng <= place.max_lng
        types = [t for t in p["business_types"].split(";") if t]
        assert types and all(t in BY_KEY for t in types)
        parse_hours(p["opening_hours"])
        assert p["phone"].startswith("0") and "-" in p["phone"]


# --- coherence: name, region code, address and position tell one story ----------------------

_HOUSE_NUMBER = re.compile(r"(\d+)号$")


@functools.cache
def _county_names(prefecture: str) -> dict[str, str]:
    """The prefecture's counties by name, with the county code: 鼓楼区 and 鼓楼 (淮安区 only
    in full, as 淮安 alone is the city)."""
    names: dict[str, str] = {}
    for region in regions.all_regions():
        if region.code[:4] != prefecture or region.level != "county" or region.is_placeholder:
            continue
        names[region.name] = region.code
        short = region.name[:-1] if len(region.name) > 2 else region.name
        if short != CITY_NAMES[prefecture]:
            names[short] = region.code
    return names


@functools.cache
def _prefecture_names(prefecture: str) -> dict[str, str]:
    """Every place name a name or address in this prefecture may hold, with the county it
    belongs to: the county table's areas and roads, and the counties' own names."""
    names: dict[str, str] = {}
    for code, entry in county_places().items():
        if code[:4] == prefecture:
            names.update(dict.fromkeys((*entry.areas, *entry.roads), code))
    names.update(_county_names(prefecture))
    return names


def _places_in(text_: str, names: dict[str, str]) -> list[tuple[int, str]]:
    """(end position, name) of each known name in the text, leaving out one that lies inside
    a longer one found (云龙 inside 云龙湖, 干将路 inside 干将路 is itself)."""
    spans = []
    for name in names:
        start = text_.find(name)
        while start != -1:
            spans.append((start, start + len(name), name))
            start = text_.find(name, start + 1)
    return sorted(
        (end, name)
        for start, end, name in spans
        if not any(s <= start and end <= e and (s, e) != (start, end) for s, e, _ in spans)
    )


def _local_part(name: str, legal: str, city: str) -> str:
    """The part of an outlet's name after its legal entity and city: the place it is named
    after (南京银行股份有限公司 | 无锡 | 人民中路支行)."""
    assert name.startswith(legal), name
    rest = name[len(legal) :]
    for prefix in (city + "市", city):
        if rest.startswith(prefix):
            return rest[len(prefix) :]
    return rest


def test_names_regions_addresses_and_positions_agree(demo_dir: Path) -> None:
    """An outlet named after a district, town or road stands in that county and on that road;
    its address is on a road of its region; its position is inside its region; an outlet
    under a sub-branch stands near it."""
    rows = read(demo_dir / "institutions.csv")
    by_code = {r["fi_code"]: r for r in rows}
    legal = {e.fi_code: e.name for e in LEGAL_ENTITIES}
    positions = {}
    for p in read(demo_dir / "profiles.csv"):
        positions[p["fi_code"]] = convert(
            float(p["latitude"]), float(p["longitude"]), p["coord_system"], "wgs84"
        )
    named_after_district = 0
    for r in rows:
        if r["level"] == "head_office" or r["kind"]:  # machines: tests/test_outlet_kinds.py
            continue
        region, prefecture = r["region_code"], r["region_code"][:4]
        county = county_places()[region]
        names = _prefecture_names(prefecture)
        # the address: the region's full name, one of its roads, a house number
        full = regions.full_name(region)
        assert r["address"].startswith(full), (r["name"], r["address"])
        street = _HOUSE_NUMBER.sub("", r["address"][len(full) :])
        assert street in county.roads, (r["name"], r["address"])
        # the name: every place it holds is of this county, and the last road it holds
        # (the outlet's own: 鼓楼支行 | 热河路一分理处) is the road of its address
        local = _local_part(r["name"], legal[r["legal_entity_code"]], CITY_NAMES[prefecture])
        found = _places_in(local, names)
        elsewhere = [name for _, name in found if names[name] != region]
        assert not elsewhere, (r["name"], region, elsewhere)
        roads = [name for _, name in found if name in county.roads]
        if roads:
            assert roads[-1] == street, (r["name"], r["address"])
        if any(name in _county_names(prefecture) for _, name in found):
            named_after_district += 1
        # the position: inside the region, and an outlet within reach of its sub-branch
        if r["fi_code"] in positions:
            lat, lng = positions[r["fi_code"]]
            place = regions.place(region)
            assert place is not None and place.contains(lat, lng), r["name"]
            parent = by_code[r["parent_code"]]
            if r["level"] == "outlet" and parent["level"] == "sub_branch":
                assert parent["region_code"] == region, r["name"]
                assert r["name"].startswith(parent["name"]), r["name"]
                d = distance_m(lat, lng, *positions[parent["fi_code"]])
                # (1 %: the generator spreads on a flat 111 km per degree)
                assert d <= CHILD_MAX_KM * 1000 * 1.01, (r["name"], d)
    assert named_after_district > 100  # the sample does hold such names to check


def test_registry_accepts_every_generated_row_without_a_warning(
    demo_dir: Path, db_session: Session
) -> None:
    """The registry's own rules (codes, hierarchy, positions inside the region's bounds...)
    find nothing at all to say about the generated files."""
    registry = import_registry(db_session, demo_dir / "institutions.csv")
    assert registry.outcome == "accepted"
    assert [(i.rule_id, i.row, i.value) for i in registry.issues] == []
    profiles = import_profiles(db_session, demo_dir / "profiles.csv")
    assert profiles.outcome == "accepted"
    assert [(i.rule_id, i.row, i.value) for i in profiles.issues] == []


def test_outlets_are_split_over_counties_in_proportion(tmp_path: Path) -> None:
    """A large bank has outlets in every county of its scope, more in the larger ones."""
    generate(tmp_path, outlets=5000, seed=1)
    rows = read(tmp_path / "institutions.csv")
    icbc = next(e for e in LEGAL_ENTITIES if e.key == "icbc")
    per_county = Counter(
        r["region_code"]
        for r in rows
        if r["legal_entity_code"] == icbc.fi_code
        and r["level"] in ("sub_branch", "outlet")
        and not r["kind"]  # its branches; their machines stand in their counties
    )
    weights = {p.code: p.weight for p in regions.jiangsu_places() if not p.code.endswith("00")}
    assert set(per_county) == set(weights)
    total, wsum = sum(per_county.values()), sum(weights.values())
    for code, n in per_county.items():
        assert abs(n - total * weights[code] / wsum) < 1, (code, n)


def test_load_puts_everything_in_postgis(demo_dir: Path, engine: Engine) -> None:
    sessions = make_sessionmaker(engine)
    try:
        counts = load_demo(sessions, demo_dir)
        rows = read(demo_dir / "institutions.csv")
        profiles = {p["fi_code"]: p for p in read(demo_dir / "profiles.csv")}
        assert counts.institutions == len(rows) and counts.profiles == len(profiles)
        with sessions() as s:
            assert s.scalar(select(func.count()).select_from(Institution)) == len(rows)
            assert s.scalar(select(func.count()).select_from(OutletProfile)) == len(profiles)
            events = dict(
                s.execute(
                    select(ChangeEvent.field_group, func.count()).group_by(ChangeEvent.field_group)
                ).all()
            )
            # one event per institution, one per profile field group
            assert events == {
                None: len(rows),
                "position": len(profiles),
                "business_types": len(profiles),
                "hours": len(profiles),
                "phone": len(profiles),
            }
            # Stored positions are WGS-84: check one of each system by an independent conversion.
            checked = set()
            for code, p in profiles.items():
                if p["coord_system"] in checked:
                    continue
                checked.add(p["coord_system"])
                lat, lng = s.execute(
                    text(
                        "SELECT ST_Y(o.position::geometry), ST_X(o.position::geometry) "
                        "FROM outlet_profile o JOIN institution i ON i.id = o.institution_id "
                        "WHERE i.fi_code = :c"
                    ),
                    {"c": code},
                ).one()
                want = convert(
                    float(p["latitude"]), float(p["longitude"]), p["coord_system"], "wgs84"
                )
                assert distance_m(lat, lng, *want) < 0.5
            assert checked == {"gcj02", "wgs84", "bd09"}
            categories = dict(
                s.execute(
                    select(Institution.category, func.count()).group_by(Institution.category)
                ).all()
            )
            assert {"bank", "insurance", "securities"} <= set(categories)
    finally:
        truncate_all(engine)


def test_cli_load_if_empty_is_idempotent(database_url: str, engine: Engine, tmp_path: Path) -> None:
    runner = CliRunner()
    try:
        first = runner.invoke(
            cli,
            [
                "demo",
                "load",
                "--if-empty",
                "--outlets",
                "200",
                "--seed",
                "3",
                "--no-progress",
                "--database-url",
                database_url,
            ],
        )
        assert first.exit_code == 0, first.output
        with engine.connect() as conn:
            n = conn.execute(text("SELECT count(*) FROM institution")).scalar()
        second = runner.invoke(
            cli, ["demo", "load", "--if-empty", "--no-progress", "--database-url", database_url]
        )
        assert second.exit_code == 0, second.output
        assert "nothing to do" in second.output
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM institution")).scalar() == n
    finally:
        truncate_all(engine)


def test_cli_generate_help_and_bad_input(tmp_path: Path) -> None:
    runner = CliRunner()
    assert "--outlets" in runner.invoke(cli, ["demo", "generate", "--help"]).output
    bad = runner.invoke(cli, ["demo", "generate", "--outlets", "0", "--out", str(tmp_path)])
    assert bad.exit_code == 2 and "--outlets" in bad.output
