"""Bulk import of outlet profiles on the real database: positions, field groups, rules, CLI.

The registry under the profiles is the small ICBC one of test_registry_import: sub-branches
新街口 (XJK, 玄武区 320102) and 鼓楼 (GL, 鼓楼区 320106), the outlet OUT (320102), the Wuxi
sub-branch WXS (320213), and CLOSED, a revoked outlet.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from backend.cli import main as cli
from backend.demo.generate import PROFILE_COLUMNS as COLUMNS
from backend.imports import import_profiles, import_registry
from core.coords import convert, distance_m
from core.database import make_sessionmaker
from profiles.profile_import import ProfileImportOptions
from registry.batches import ImportResult
from registry.importer import ImportOptions
from tests.conftest import truncate_all
from tests.test_registry_import import BASE, CLOSED, CLOSED_ROW, GL, OUT, WXS, XJK, write_csv

UNKNOWN = "C1010232099990"
XUANWU = (32.05, 118.80)  # WGS-84, inside 玄武区 (XJK, OUT)
GULOU = (32.07, 118.77)  # WGS-84, inside 鼓楼区 (GL)
XUZHOU = (34.26, 117.18)  # WGS-84, 徐州: in China, far from Nanjing
HOURS = "Mo-Fr 09:00-17:00; Sa 09:00-12:00"


def profile(code: str, **fields: str) -> dict[str, str]:
    """A profile row: only the given fields, the other cells empty (left as they are)."""
    return {**dict.fromkeys(COLUMNS, ""), "fi_code": code, **fields}


def at(point: tuple[float, float], system: str = "wgs84", accuracy: str = "") -> dict[str, str]:
    """Position cells for a WGS-84 `point`, as captured in `system`."""
    lat, lng = convert(*point, "wgs84", system)  # type: ignore[arg-type]
    return {
        "latitude": f"{lat:.6f}",
        "longitude": f"{lng:.6f}",
        "coord_system": system,
        "accuracy_m": accuracy,
    }


def write_profiles(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def load_registry(session: Session, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "registry.csv", [*BASE, CLOSED_ROW])
    result = import_registry(session, path, ImportOptions())
    assert result.outcome == "accepted", result.issues


def run(session: Session, path: Path, rows: list[dict[str, str]] | None = None) -> ImportResult:
    if rows is not None:
        write_profiles(path, rows)
    return import_profiles(session, path, ProfileImportOptions())


@pytest.fixture
def session(db_session: Session, tmp_path: Path) -> Session:
    """The rolled-back session, with the small registry loaded."""
    load_registry(db_session, tmp_path)
    return db_session


def stored(session: Session) -> dict[str, Any]:
    """Every profile by fi_code, the position as WGS-84 lat/lng."""
    rows = session.execute(
        text("""
        SELECT i.fi_code, ST_Y(p.position::geometry) AS lat, ST_X(p.position::geometry) AS lng,
               p.position_coord_system, p.position_accuracy_m, p.business_types,
               p.opening_hours, p.phone, p.provenance
        FROM outlet_profile p JOIN institution i ON i.id = p.institution_id""")
    )
    return {r.fi_code: r for r in rows}


def events(session: Session, batch_id: int | None) -> list[Any]:
    return list(
        session.execute(
            text("SELECT * FROM change_event WHERE batch_id = :b ORDER BY fi_code, field_group"),
            {"b": batch_id},
        )
    )


# --- positions -----------------------------------------------------------------------------------


def test_positions_are_stored_in_wgs84_with_the_captured_system(
    session: Session, tmp_path: Path
) -> None:
    rows = [
        profile(XJK, **at(XUANWU, "gcj02", accuracy="15")),
        profile(GL, **at(GULOU, "bd09")),
        profile(OUT, **at(XUANWU, "wgs84")),
    ]
    result = run(session, tmp_path / "p.csv", rows)
    assert result.outcome == "accepted", result.issues
    got = stored(session)
    for row in rows:
        p = got[row["fi_code"]]
        lat, lng, system = float(row["latitude"]), float(row["longitude"]), row["coord_system"]
        want = convert(lat, lng, system, "wgs84")  # type: ignore[arg-type]
        assert (p.lat, p.lng) == pytest.approx(want, abs=1e-6)
        assert p.position_coord_system == system
        if system != "wgs84":  # converted, not stored as captured (hundreds of metres apart)
            assert distance_m(p.lat, p.lng, lat, lng) > 100
    assert got[XJK].position_accuracy_m == 15 and got[GL].position_accuracy_m is None


def test_coordinate_system_aliases_and_xlsx_numbers(session: Session, tmp_path: Path) -> None:
    lat, lng = convert(*XUANWU, "wgs84", "bd09")
    book = openpyxl.Workbook()
    book.active.append(["金融机构编码", "纬度", "经度", "坐标系", "定位精度", "联系电话"])
    book.active.append([XJK, lat, lng, "百度坐标", 10, 13912345678])  # numbers, as typed
    book.save(tmp_path / "profiles.xlsx")
    result = import_profiles(session, tmp_path / "profiles.xlsx", ProfileImportOptions())
    assert result.outcome == "accepted", result.issues
    p = stored(session)[XJK]
    assert (p.lat, p.lng) == pytest.approx(convert(lat, lng, "bd09", "wgs84"), abs=1e-6)
    assert (p.position_coord_system, p.phone) == ("bd09", "13912345678")


# --- field groups: one event and one provenance entry each; empty cells; re-import -------------


def test_each_field_group_is_its_own_change(session: Session, tmp_path: Path) -> None:
    full = profile(
        XJK,
        **at(XUANWU, "gcj02", accuracy="10"),
        business_types="cash;外币兑换",
        opening_hours=HOURS,
        phone="025-84001234",
    )
    first = run(session, tmp_path / "full.csv", [full])
    assert first.outcome == "accepted", first.issues
    changes = {k: v for k, v in first.summary.items() if k.startswith("changed_")}
    assert changes == dict.fromkeys(
        ("changed_position", "changed_business_types", "changed_hours", "changed_phone"), 1
    )
    written = events(session, first.batch_id)
    assert [e.field_group for e in written] == ["business_types", "hours", "phone", "position"]
    assert {(e.entity, e.fi_code, e.channel) for e in written} == {
        ("outlet_profile", XJK, "registry_sync")
    }
    by_group = {e.field_group: e for e in written}
    assert (by_group["business_types"].before, by_group["business_types"].after) == (
        [],
        ["cash", "foreign_exchange"],
    )
    assert by_group["position"].before is None
    assert by_group["position"].after["captured_in"] == "gcj02"
    assert by_group["hours"].after["weekly"]["sa"] == [["09:00", "12:00"]]
    p = stored(session)[XJK]
    assert p.business_types == ["cash", "foreign_exchange"] and p.phone == "025-84001234"
    assert set(p.provenance) == {"position", "business_types", "hours", "phone"}
    for entry in p.provenance.values():
        assert entry["batch_id"] == first.batch_id and entry["actor"] == "profile-import"
        assert entry["confirmed"] is False

    # The same file again: nothing changes, nothing is written.
    again = run(session, tmp_path / "full.csv")
    assert again.outcome == "accepted"
    assert all(v == 0 for k, v in again.summary.items() if k.startswith("changed_"))
    assert events(session, again.batch_id) == []
    assert stored(session)[XJK] == p

    # Only the phone filled in: the other groups stay as they are, one event.
    phone_only = run(session, tmp_path / "phone.csv", [profile(XJK, phone="13912345678")])
    written = events(session, phone_only.batch_id)
    assert [(e.field_group, e.before, e.after) for e in written] == [
        ("phone", "025-84001234", "13912345678")
    ]
    q = stored(session)[XJK]
    assert q.phone == "13912345678"
    assert (q.lat, q.lng, q.business_types, q.opening_hours) == (
        p.lat,
        p.lng,
        p.business_types,
        p.opening_hours,
    )
    assert q.provenance["phone"]["batch_id"] == phone_only.batch_id
    assert q.provenance["position"] == p.provenance["position"]


def test_reimport_with_a_fractional_accuracy_is_a_no_op(session: Session, tmp_path: Path) -> None:
    # The stage held accuracy as float4: 12.3 came back as 12.300000190734863, so every
    # re-import wrote a position event.
    first = run(session, tmp_path / "p.csv", [profile(XJK, **at(XUANWU, accuracy="12.3"))])
    assert first.summary["changed_position"] == 1
    assert stored(session)[XJK].position_accuracy_m == 12.3
    again = run(session, tmp_path / "p.csv")
    assert again.summary["changed_position"] == 0
    assert events(session, again.batch_id) == []


# --- rules: a failing and a passing row each ---------------------------------------------------

RULE_CASES = {
    "PRF-FICODE-UNKNOWN": (
        [profile(UNKNOWN, phone="025-84001234")],
        profile(XJK, phone="025-84001234"),
        "fi_code",
    ),
    "PRF-FICODE-UNKNOWN-revoked": (
        [profile(CLOSED, phone="025-84001234")],
        profile(XJK, phone="025-84001234"),
        "fi_code",
    ),
    "PRF-POSITION-CHINA": (
        [profile(OUT, **at((48.8566, 2.3522)))],  # Paris
        profile(XJK, **at(XUANWU)),
        "latitude",
    ),
    "PRF-POSITION-RANGE": (
        [profile(OUT, latitude="95", longitude="118.8", coord_system="wgs84")],
        profile(XJK, **at(XUANWU)),
        "latitude",
    ),
    "PRF-POSITION-REGION": (
        [profile(OUT, **at(XUZHOU, "gcj02"))],  # a Nanjing outlet placed in Xuzhou
        profile(GL, **at(GULOU, "gcj02")),
        "latitude",
    ),
    "PRF-COORD-SYSTEM": (
        [profile(OUT, latitude="32.05", longitude="118.8", coord_system="mercator")],
        profile(XJK, latitude="32.05", longitude="118.8", coord_system="国测局坐标"),
        "coord_system",
    ),
    "PRF-BUSINESS-TYPE": (
        [profile(OUT, business_types="cash;teleportation")],
        profile(XJK, business_types="外币兑换；cash、残损人民币兑换"),
        "business_types",
    ),
    "PRF-HOURS": (
        [profile(OUT, opening_hours="Mo-Fr 9-17")],
        profile(XJK, opening_hours="周一至周五 9:00-17:00"),
        "opening_hours",
    ),
    "FLD-PHONE-FORMAT": (
        [profile(OUT, phone="12345")],
        profile(XJK, phone="025-84001234; 13912345678"),
        "phone",
    ),
    "PRF-NUMBER": (
        [profile(OUT, latitude="北纬32度", longitude="118.8", coord_system="wgs84")],
        profile(XJK, latitude="32.05", longitude="118.8", coord_system="wgs84"),
        "latitude",
    ),
    "PRF-DUPLICATE": (
        [profile(OUT, phone="025-84001234"), profile(OUT, phone="025-84005678")],
        profile(XJK, phone="025-84001234"),
        "fi_code",
    ),
}


@pytest.mark.parametrize("case", RULE_CASES)
def test_rule_rejects_the_failing_row_and_loads_the_passing_one(
    case: str, session: Session, tmp_path: Path
) -> None:
    bad_rows, good, column = RULE_CASES[case]
    rule_id = case.removesuffix("-revoked")
    before = stored(session)
    result = run(session, tmp_path / "p.csv", [*bad_rows, good])

    bad_lines = list(range(2, 2 + len(bad_rows)))  # the header is row 1
    assert [(i.rule_id, i.row, i.column) for i in result.issues] == [
        (rule_id, n, column) for n in bad_lines
    ]
    issue = result.issues[0]
    assert issue.fi_code == bad_rows[0]["fi_code"] and issue.severity == "error"
    assert issue.value and issue.value in issue.message_zh and issue.value in issue.message_en
    assert result.outcome == "partial" and result.exit_code == 1
    assert (result.summary["accepted"], result.summary["rejected"]) == (1, len(bad_rows))

    after = stored(session)
    bad_code = bad_rows[0]["fi_code"]
    assert after.get(bad_code) == before.get(bad_code)  # untouched (CLOSED: still no profile)
    assert after[good["fi_code"]] != before[good["fi_code"]]
    assert {e.fi_code for e in events(session, result.batch_id)} == {good["fi_code"]}


def test_accepted_values_are_normalised(session: Session, tmp_path: Path) -> None:
    rows = [
        profile(XJK, business_types="外币兑换；cash、残损人民币兑换"),
        profile(GL, opening_hours="周一至周五 9:00-17:00"),
        profile(WXS, phone="0510-82701234 ; 13912345678"),
    ]
    result = run(session, tmp_path / "p.csv", rows)
    assert result.outcome == "accepted", result.issues
    got = stored(session)
    assert got[XJK].business_types == ["cash", "foreign_exchange", "damaged_notes"]
    assert got[GL].opening_hours["weekly"]["mo"] == [["09:00", "17:00"]]
    assert got[GL].opening_hours["weekly"]["sa"] == []
    assert got[WXS].phone == "0510-82701234;13912345678"


# --- the CLI -------------------------------------------------------------------------------------


@pytest.fixture
def committed(engine: Engine, tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    """Real commits, with the small registry loaded; every table emptied before and after."""
    truncate_all(engine)
    sessions = make_sessionmaker(engine)
    with sessions() as session:
        load_registry(session, tmp_path)
        session.commit()
    yield sessions
    truncate_all(engine)


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in ("outlet_profile", "change_event", "import_batch", "import_issue")
        }


def cli_run(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_cli_profiles_import_exit_codes_and_dry_run(
    committed: sessionmaker[Session], engine: Engine, database_url: str, tmp_path: Path
) -> None:
    url = ("--no-progress", "--database-url", database_url)
    good = write_profiles(
        tmp_path / "good.csv",
        [profile(XJK, **at(XUANWU, "gcj02")), profile(GL, business_types="cash")],
    )
    partial = write_profiles(
        tmp_path / "partial.csv",
        [profile(XJK, phone="025-84009999"), profile(OUT, **at(XUZHOU))],
    )
    no_code = tmp_path / "no-code.csv"
    no_code.write_text("latitude,longitude\n32.05,118.8\n", encoding="utf-8")
    start = counts(engine)

    # --dry-run validates and reports, and writes nothing.
    for path, code in ((good, 0), (partial, 1), (no_code, 2)):
        result = cli_run("profiles", "import", path, "--dry-run", *url)
        assert result.exit_code == code, result.output
        assert "(nothing written)" in result.output
    assert counts(engine) == start

    result = cli_run("profiles", "import", good, *url)
    assert result.exit_code == 0, result.output
    assert "changed: position 1, business_types 1, hours 0, phone 0" in result.output
    assert counts(engine)["change_event"] == start["change_event"] + 2

    result = cli_run("profiles", "import", partial, "--receipt", tmp_path / "receipt", *url)
    assert result.exit_code == 1, result.output
    assert "PRF-POSITION-REGION" in result.output
    receipt = json.loads((tmp_path / "receipt.json").read_text(encoding="utf-8"))
    assert [(i["rule_id"], i["fi_code"]) for i in receipt["issues"]] == [
        ("PRF-POSITION-REGION", OUT)
    ]
    with (tmp_path / "receipt.csv").open(encoding="utf-8-sig", newline="") as fh:
        assert [r["rule_id"] for r in csv.DictReader(fh)] == ["PRF-POSITION-REGION"]

    result = cli_run("profiles", "import", no_code, *url)
    assert result.exit_code == 2, result.output
    assert "HDR-MISSING" in result.output

    history = cli_run("registry", "history", XJK, "--database-url", database_url)
    assert history.exit_code == 0, history.output
    assert "outlet_profile/position" in history.output
    assert "outlet_profile/phone" in history.output and "025-84009999" in history.output
