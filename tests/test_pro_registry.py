"""Registry queries of the professional app on real PostgreSQL: look-up, fuzzy search,
hierarchy, history, batches and error receipts, exports; jurisdiction on every endpoint.

One small province, loaded once for the module through the real importers (so the batches,
receipts and change events are what production writes):

- ICBC (head office in Beijing) with its Jiangsu branch, Nanjing branch, two Nanjing
  sub-branches and an outlet, and a Suzhou branch with a sub-branch;
- CCB (head office in Beijing) with a Nanjing and a Suzhou sub-branch;
- a Nanjing rural commercial bank (紫金农商行) with one sub-branch;
- batch 1: the seed; batch 2: a province-wide update ("32") with errors in Nanjing, in
  Suzhou and in rows of no known region, and a header problem; batch 3: a Suzhou snapshot
  ("3205"); batch 4: a profile file (a Nanjing outlet, a bad Suzhou row).

Accounts: the provincial branch (32), Nanjing (3201), Suzhou (3205), a Nanjing auditor,
and CCB's institution administrator for Jiangsu (32, CCB).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from backend.imports import import_profiles, import_registry
from core.models.photos import OutletPhoto
from profiles import holiday_calendar
from profiles.profile_changes import change_group
from profiles.profile_import import ProfileImportOptions
from registry import name_search
from registry.importer import ImportOptions
from tests.conftest import truncate_all
from tests.test_pro_accounts import (
    API,
    account_below,
    audit_rows,
    bearer,
    bootstrap,
    make_app,
    sql,
)
from tests.test_profile_import import COLUMNS as PROFILE_COLUMNS
from tests.test_registry_import import COLUMNS, record, write_csv
from uploads import staff

HEAD = "C1010211000012"  # 中国工商银行股份有限公司 (Beijing)
JS = "C1010232000016"  # 江苏省分行 (Nanjing, 320106)
NJ = "C1010232000024"  # 南京分行 (320106)
XJK = "C1010232000123"  # 南京新街口支行 (320102)
GL = "C1010232000131"  # 南京鼓楼支行 (320106)
OUT = "C1010232000140"  # 新街口支行湖南路分理处 (320102), under XJK
SZ = "C1010232000059"  # 苏州分行 (320505)
SZO = "C1010232000167"  # 苏州观前支行 (320508)
CCB = "C1030411000010"  # 中国建设银行股份有限公司 (Beijing)
CCB_NJ = "C1030432000018"  # 建行南京中山路支行 (320102)
CCB_SZ = "C1030432000026"  # 建行苏州人民路支行 (320508)
ZJ = "C1314032000019"  # 江苏紫金农村商业银行 (320102)
ZJ_ZJL = "C1314032000027"  # 紫金农商行珠江路支行 (320102)
NEW_SZ = "C1010232000175"  # batch 2: a new Suzhou row with a bad postcode
NEW_BAD = "C1010232000183"  # batch 2: a new row whose region code is malformed
NANJING_CODES = {JS, NJ, XJK, GL, OUT, CCB_NJ, ZJ, ZJ_ZJL}
SUZHOU_CODES = {SZ, SZO, CCB_SZ}
HUNAN_ROAD = (32.0551, 118.7800)  # WGS-84, in 玄武区's box


def _icbc(code: str, name: str, level: str, parent: str, region: str, **kw: str) -> dict[str, str]:
    return record(code, f"中国工商银行股份有限公司{name}", level, parent, region, **kw)


def _bank(
    code: str, legal: str, name: str, level: str, parent: str, region: str, **kw: str
) -> dict[str, str]:
    return record(code, name, level, parent, region, legal_entity_code=legal, **kw)


SEED = [
    record(HEAD, "中国工商银行股份有限公司", "head_office", "", "110102", short_name="工商银行"),
    _icbc(JS, "江苏省分行", "branch", HEAD, "320106"),
    _icbc(NJ, "南京分行", "branch", JS, "320106"),
    _icbc(XJK, "南京新街口支行", "sub_branch", NJ, "320102"),
    _icbc(GL, "南京鼓楼支行", "sub_branch", NJ, "320106"),
    _icbc(OUT, "南京新街口支行湖南路分理处", "outlet", XJK, "320102"),
    _icbc(SZ, "苏州分行", "branch", JS, "320505"),
    _icbc(SZO, "苏州观前支行", "sub_branch", SZ, "320508"),
    _bank(CCB, CCB, "中国建设银行股份有限公司", "head_office", "", "110102"),
    _bank(CCB_NJ, CCB, "中国建设银行股份有限公司南京中山路支行", "sub_branch", CCB, "320102"),
    _bank(CCB_SZ, CCB, "中国建设银行股份有限公司苏州人民路支行", "sub_branch", CCB, "320508"),
    _bank(ZJ, ZJ, "江苏紫金农村商业银行股份有限公司", "head_office", "", "320102"),
    _bank(ZJ_ZJL, ZJ, "江苏紫金农村商业银行股份有限公司珠江路支行", "sub_branch", ZJ, "320102"),
]


def _changed(rows: list[dict[str, str]], code: str, **changes: str) -> list[dict[str, str]]:
    return [{**r, **changes} if r["fi_code"] == code else r for r in rows]


UPDATE = [
    *_changed(
        _changed(SEED, GL, phone="not a phone"),  # Nanjing: an error on a stored record
        XJK,
        address="江苏省南京市玄武区中山路1号新址",  # Nanjing: a change
    ),
    _icbc(NEW_SZ, "苏州石路支行", "sub_branch", SZ, "320508", postcode="2150"),  # Suzhou error
    {**_icbc(NEW_BAD, "某某支行", "sub_branch", NJ, "320102"), "region_code": "32A102"},
]
SUZHOU_SNAPSHOT = [
    r if r["fi_code"] != SZO else {**r, "phone": "0512-65001234"}
    for r in SEED
    if r["fi_code"] in SUZHOU_CODES
]


@dataclass
class World:
    app: Flask
    client: FlaskClient
    province: dict[str, str]
    nanjing: dict[str, str]
    suzhou: dict[str, str]
    auditor: dict[str, str]
    ccb_admin: dict[str, str]
    batches: dict[str, int]

    def get(self, headers: dict[str, str], path: str, **query: Any) -> Any:
        return self.client.get(f"{API}{path}", headers=headers, query_string=query)

    def ok(self, headers: dict[str, str], path: str, **query: Any) -> Any:
        response = self.get(headers, path, **query)
        assert response.status_code == 200, (path, query, response.get_json())
        return response.get_json()


def _import(engine: Engine, path: Path, rows: list[dict[str, str]], **options: Any) -> int:
    write_csv(path, rows)
    with Session(engine) as session:
        result = import_registry(session, path, ImportOptions(**options))
        session.commit()
    assert result.batch_id is not None
    return result.batch_id


def _load(engine: Engine, tmp: Path) -> dict[str, int]:
    batches: dict[str, int] = {}
    batches["seed"] = _import(engine, tmp / "seed.csv", SEED)
    # batch 2: an unknown column in the header, and the rows of UPDATE
    path = tmp / "update.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([*COLUMNS, "备注"])
        writer.writerows([*(r[c] for c in COLUMNS), ""] for r in UPDATE)
    with Session(engine) as session:
        result = import_registry(session, path, ImportOptions(jurisdiction="32"))
        session.commit()
    assert result.outcome == "partial", result.issues
    assert result.batch_id is not None
    batches["update"] = result.batch_id
    batches["suzhou"] = _import(engine, tmp / "suzhou.csv", SUZHOU_SNAPSHOT, jurisdiction="3205")

    profiles = tmp / "profiles.csv"
    with profiles.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=PROFILE_COLUMNS)
        writer.writeheader()
        blank = dict.fromkeys(PROFILE_COLUMNS, "")
        writer.writerow(
            {
                **blank,
                "fi_code": OUT,
                "latitude": str(HUNAN_ROAD[0]),
                "longitude": str(HUNAN_ROAD[1]),
                "coord_system": "wgs84",
                "business_types": "现金存取款;外币兑换",
                "phone": "025-83001234",
            }
        )
        writer.writerow({**blank, "fi_code": SZO, "latitude": "95", "longitude": "120.6"})
    with Session(engine) as session:
        result = import_profiles(session, profiles, ProfileImportOptions())
        session.commit()
    assert result.outcome == "partial", result.issues
    assert result.batch_id is not None
    batches["profiles"] = result.batch_id

    with Session(engine) as session:
        out_id = session.execute(
            text("SELECT id FROM institution WHERE fi_code = :f"), {"f": OUT}
        ).scalar_one()
        change_group(
            session, out_id, OUT, "phone", "025-83009999", actor="staff:7", channel="staff_upload"
        )
        session.add(
            OutletPhoto(
                institution_id=out_id,
                key="ab" * 32,
                status="published",
                is_front=True,
                width=800,
                height=600,
                source_format="jpeg",
                uploaded_by="staff:7",
            )
        )
        session.execute(
            text("UPDATE upload_task SET status = 'submitted' WHERE institution_id = :i"),
            {"i": out_id},
        )
        assert staff.confirm(session, OUT, "account:1")
        session.commit()
    return batches


@pytest.fixture(scope="module")
def world(
    database_url: str, engine: Engine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    truncate_all(engine)
    batches = _load(engine, tmp_path_factory.mktemp("registry"))
    app = make_app(database_url)
    client = app.test_client()
    _, province = bootstrap(app, client, "32")
    _, nanjing = account_below(client, province, "pboc_admin", "3201")
    _, suzhou = account_below(client, province, "pboc_admin", "3205")
    _, auditor = account_below(client, province, "auditor", "3201")
    _, ccb_admin = account_below(client, province, "institution_admin", "32", CCB)
    yield World(app, client, province, nanjing, suzhou, auditor, ccb_admin, batches)
    app.extensions["branchfinder.db"].dispose()
    truncate_all(engine)


def codes(page: dict[str, Any]) -> list[str]:
    return [item["fi_code"] for item in page["items"]]


def all_codes(world: World, headers: dict[str, str], path: str, **query: Any) -> list[str]:
    """Every fi_code of a list, following `next_after` page by page."""
    found: list[str] = []
    after = None
    while True:
        page = world.ok(headers, path, **query, **({"after": after} if after else {}))
        found += codes(page)
        after = page["next_after"]
        if after is None:
            return found


# --- reading a search text (no database) ----------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stems", "rest"),
    [
        ("工行", ("中国工商银行",), ()),
        ("工行 新街口", ("中国工商银行",), ("新街口",)),
        ("工行新街口", ("中国工商银行",), ("新街口",)),
        ("ICBC", ("中国工商银行",), ()),
        ("ＩＣＢＣ", ("中国工商银行",), ()),  # full-width, as a Chinese IME types it
        ("Bank of China", ("中国银行",), ()),
        ("建行", ("中国建设银行",), ()),
        ("建航", ("中国建设银行",), ()),  # a typo by sound
        ("jianhnag", ("中国建设银行",), ()),  # a typo in pinyin
        ("农行", ("中国农业银行",), ()),
        ("中行", ("中国银行",), ()),
        ("交行", ("交通银行",), ()),
        ("邮储", ("中国邮政储蓄银行",), ()),
        ("招行", ("招商银行",), ()),
        ("新街口支行", (), ()),
        ("中航工业", (), ()),  # 中航 sounds like 中行, but a longer word is no abbreviation
    ],
)
def test_search_text_reads_abbreviations_and_typos(
    typed: str, stems: tuple[str, ...], rest: tuple[str, ...]
) -> None:
    query = name_search.read_query(typed)
    assert query is not None
    assert query.entity_stems == stems
    assert query.rest == rest


def test_search_text_expands_contractions_and_recognises_codes() -> None:
    query = name_search.read_query("紫金农商行")
    assert query is not None and query.expanded_words == ("紫金农村商业银行",)
    query = name_search.read_query("紫金农商行珠江路 支行")
    assert query is not None
    assert query.expanded_words == ("紫金农村商业银行", "珠江路", "支行")
    code = name_search.read_query(" c10102320001 ")
    assert code is not None and code.code_prefix == "C10102320001"
    assert name_search.read_query("   ") is None


def test_the_bot_still_reads_the_moved_conventions() -> None:
    from bot.lexicon import CONVENTIONS, EntityRecord, build_lexicon
    from registry import entity_names

    assert CONVENTIONS is entity_names.CONVENTIONS
    lexicon = build_lexicon([EntityRecord(HEAD, "中国工商银行股份有限公司", None, "bank")])
    assert {m.value for m in lexicon.lookup("工行")} == {HEAD}
    zijin = build_lexicon([EntityRecord(ZJ, "江苏紫金农村商业银行股份有限公司", None, "bank")])
    assert {m.value for m in zijin.lookup("紫金农商行")} == {ZJ}


# --- the institution list and search --------------------------------------------------------------


def test_lists_follow_jurisdiction_and_filters(world: World) -> None:
    assert set(all_codes(world, world.nanjing, "/institutions", limit=3)) == NANJING_CODES
    # the update's new rows were rejected: NEW_SZ, NEW_BAD were never stored
    assert set(all_codes(world, world.suzhou, "/institutions")) == SUZHOU_CODES
    assert set(all_codes(world, world.ccb_admin, "/institutions")) == {CCB_NJ, CCB_SZ}
    province = set(all_codes(world, world.province, "/institutions"))
    assert province == NANJING_CODES | SUZHOU_CODES  # the Beijing head offices are not Jiangsu's
    assert set(all_codes(world, world.auditor, "/institutions")) == NANJING_CODES

    assert codes(world.ok(world.nanjing, "/institutions", region="320106")) == [JS, NJ, GL]
    # a prefix wider than the jurisdiction changes nothing
    assert set(all_codes(world, world.nanjing, "/institutions", region="32")) == NANJING_CODES
    assert codes(world.ok(world.nanjing, "/institutions", level="outlet")) == [OUT]
    assert set(codes(world.ok(world.nanjing, "/institutions", legal_entity=CCB))) == {CCB_NJ}
    assert set(codes(world.ok(world.province, "/institutions", legal_entity=CCB))) == {
        CCB_NJ,
        CCB_SZ,
    }
    assert codes(world.ok(world.nanjing, "/institutions", status="revoked")) == []
    page = world.ok(world.nanjing, "/institutions", category="bank", limit=200)
    assert {i["category"] for i in page["items"]} == {"bank"}
    item = next(i for i in page["items"] if i["fi_code"] == XJK)
    assert item["region_name"] == "江苏省南京市玄武区" and item["match"] is None


def test_filters_outside_the_jurisdiction_are_refused_and_audited(world: World) -> None:
    refused = world.get(world.nanjing, "/institutions", region="3205")
    assert refused.status_code == 403
    assert "region" in refused.get_json()["errors"]["query"]
    refused = world.get(world.ccb_admin, "/institutions", legal_entity=HEAD)
    assert refused.status_code == 403
    assert "legal_entity" in refused.get_json()["errors"]["query"]
    refused = world.get(world.nanjing, "/institutions/export", region="320508", q="工行")
    assert refused.status_code == 403
    reasons = [
        r.detail["reason"]
        for r in audit_rows(world.app, outcome="denied")
        if r.action.startswith("registry.institutions")
    ]
    assert "filter region 3205 outside jurisdiction" in reasons
    assert f"filter legal_entity {HEAD} outside jurisdiction" in reasons
    assert "filter region 320508 outside jurisdiction" in reasons


def test_bad_filters_are_422_naming_the_field(world: World) -> None:
    for query, field in (
        ({"region": "32a"}, "region"),
        ({"level": "bank"}, "level"),
        ({"status": "closed"}, "status"),
        ({"category": "casino"}, "category"),
        ({"legal_entity": "ICBC"}, "legal_entity"),
        ({"limit": 201}, "limit"),
        ({"after": 0}, "after"),
        ({"q": "x" * 101}, "q"),
    ):
        response = world.get(world.nanjing, "/institutions", **query)
        assert response.status_code == 422, query
        assert field in response.get_json()["errors"]["query"], query


@pytest.mark.parametrize(
    ("typed", "first", "match"),
    [
        ("中国工商银行股份有限公司南京鼓楼支行", GL, "exact"),
        ("中国工商银行股份有限公司南京新", XJK, "prefix"),
        ("新街口", XJK, "name"),
        ("工行 新街口", XJK, "abbreviation"),
        ("新街口支行湖南路", OUT, "name"),
        ("南京新街口之行", XJK, "similar"),  # a typo: 之 for 支
        ("紫金农商行", ZJ, "name"),  # contraction expanded; the head office first
        ("紫金农商行 珠江路", ZJ_ZJL, "name"),
        ("紫金农商行珠江路", ZJ_ZJL, "name"),  # 股份有限公司 stands between in the name
        ("中国建设银行中山路", CCB_NJ, "name"),
        ("C10102320001", XJK, "code"),
    ],
)
def test_search_finds_the_intended_record_first(
    world: World, typed: str, first: str, match: str
) -> None:
    page = world.ok(world.nanjing, "/institutions", q=typed)
    assert page["items"], typed
    assert page["items"][0]["fi_code"] == first, (typed, codes(page))
    assert page["items"][0]["match"] == match, page["items"][0]


@pytest.mark.parametrize("typed", ["工行", "ICBC", "icbc", "工商银行", "gonghang"])
def test_abbreviations_find_the_entity_in_the_jurisdiction(world: World, typed: str) -> None:
    found = set(codes(world.ok(world.nanjing, "/institutions", q=typed, limit=50)))
    assert found == {JS, NJ, XJK, GL, OUT}, typed


def test_abbreviation_with_a_place_and_typos(world: World) -> None:
    assert codes(world.ok(world.nanjing, "/institutions", q="建行"))[0] == CCB_NJ
    assert codes(world.ok(world.nanjing, "/institutions", q="建航")) == [CCB_NJ]
    assert codes(world.ok(world.suzhou, "/institutions", q="建行 人民路")) == [CCB_SZ]
    assert codes(world.ok(world.province, "/institutions", q="工行苏州观前")) == [SZO]
    assert codes(world.ok(world.nanjing, "/institutions", q="农行")) == []  # none here


def test_search_never_leaves_the_jurisdiction(world: World) -> None:
    for typed in ("苏州", "工行 苏州", "观前", "C10102320001", "人民路", "建行"):
        for headers in (world.nanjing, world.auditor):
            found = set(all_codes(world, headers, "/institutions", q=typed))
            assert found <= NANJING_CODES, (typed, found)
        ccb = set(all_codes(world, world.ccb_admin, "/institutions", q=typed))
        assert ccb <= {CCB_NJ, CCB_SZ}, (typed, ccb)
    assert codes(world.ok(world.nanjing, "/institutions", q="观前")) == []
    assert codes(world.ok(world.ccb_admin, "/institutions", q="工行")) == []


def test_injection_and_wildcards_are_just_text(world: World) -> None:
    for typed in ("' OR '1'='1", "%", "_", "\\", "新街口'; DROP TABLE institution; --"):
        page = world.ok(world.nanjing, "/institutions", q=typed)
        assert page["items"] == [], typed
    page = world.ok(world.nanjing, "/institutions", q="x' OR 1=1 --", region="3201")
    assert page["items"] == []
    [(count,)] = sql(world.app, "SELECT count(*) FROM institution")
    assert count == len(SEED)


def test_a_ranked_search_pages_by_position_within_the_cap(world: World) -> None:
    first = world.ok(world.province, "/institutions", q="工行", limit=2)
    assert len(first["items"]) == 2 and first["next_after"] == 2
    second = world.ok(world.province, "/institutions", q="工行", limit=2, after=2)
    everything = world.ok(world.province, "/institutions", q="工行", limit=200)
    assert codes(first) + codes(second) == codes(everything)[:4]
    assert everything["next_after"] is None
    # the branches before the outlets at equal relevance
    levels = [i["level"] for i in everything["items"]]
    assert levels.index("branch") < levels.index("outlet")
    # past the cap there is nothing more
    assert world.ok(world.province, "/institutions", q="工行", after=1000)["items"] == []


def test_institution_export_opens(world: World) -> None:
    response = world.get(world.nanjing, "/institutions/export", q="工行", format="csv")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert rows[0][0].startswith("金融机构编码")
    assert {r[0] for r in rows[1:]} == {JS, NJ, XJK, GL, OUT}
    response = world.get(world.province, "/institutions/export", format="xlsx", legal_entity=CCB)
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert {v[0] for v in values[1:]} == {CCB_NJ, CCB_SZ}
    exported = [r for r in audit_rows(world.app, action="registry.institutions.export")]
    assert exported and exported[-1].outcome == "ok"
    assert exported[-1].detail["filters"] == {"legal_entity": CCB}
    assert exported[-1].detail["rows"] == 2
    response = world.get(world.nanjing, "/institutions/export", format="pdf")
    assert response.status_code == 422


# --- one record, its hierarchy and history ---------------------------------------------------


def test_exact_look_up_shows_record_profile_task_and_links(world: World) -> None:
    body = world.ok(world.nanjing, f"/institutions/{OUT.lower()}")  # lower case is forgiven
    assert body["fi_code"] == OUT and body["level"] == "outlet"
    assert body["licence_no"] and body["uscc"] and body["created_at"]
    assert body["parent"] == {
        "fi_code": XJK,
        "known": True,
        "in_jurisdiction": True,
        "name": "中国工商银行股份有限公司南京新街口支行",
        "short_name": None,
        "level": "sub_branch",
        "region_code": "320102",
        "status": "active",
    }
    # the Beijing head office: named, never detailed
    assert body["legal_entity"] == {
        "fi_code": HEAD,
        "known": True,
        "in_jurisdiction": False,
        "name": "中国工商银行股份有限公司",
        "short_name": "工商银行",
        "level": "head_office",
        "region_code": None,
        "status": None,
    }
    profile = body["profile"]
    assert profile["coord"] == "wgs84"
    assert profile["position"] == pytest.approx({"lat": HUNAN_ROAD[0], "lng": HUNAN_ROAD[1]})
    assert [b["key"] for b in profile["business_types"]] == ["cash", "foreign_exchange"]
    assert profile["business_types"][0]["label_zh"] == "现金存取款"
    assert profile["phone"] == "025-83009999"
    assert profile["photos"] == {"published": 1, "held": 0}
    by_group = {p["group"]: p for p in profile["provenance"]}
    assert by_group["phone"]["channel"] == "staff_upload"
    assert by_group["phone"]["actor"] == "staff:7"
    assert by_group["position"]["confirmed"] is True
    assert by_group["position"]["confirmed_at"] and profile["last_confirmed_at"]
    assert body["upload_task"]["status"] == "confirmed"
    assert body["upload_task"]["confirmed_by"] == "account:1"
    assert body["children_in_jurisdiction"] == 0

    gcj = world.ok(world.nanjing, f"/institutions/{OUT}", coord="gcj02")["profile"]
    assert gcj["coord"] == "gcj02" and gcj["position"]["lng"] != profile["position"]["lng"]
    head = world.ok(world.province, f"/institutions/{JS}")
    assert head["profile"] is None and head["children_in_jurisdiction"] == 2  # NJ, SZ
    assert world.ok(world.nanjing, f"/institutions/{JS}")["children_in_jurisdiction"] == 1


def test_records_outside_the_jurisdiction_are_404_on_every_record_endpoint(world: World) -> None:
    paths = ("", "/ancestors", "/children", "/history", "/children/export", "/history/export")
    cases = [
        (world.nanjing, SZO),  # Suzhou, seen from Nanjing
        (world.suzhou, OUT),
        (world.auditor, CCB_SZ),
        (world.ccb_admin, XJK),  # another legal entity
        (world.nanjing, HEAD),  # the Beijing head office
        (world.nanjing, "C9999932999999"),  # nobody's
    ]
    for headers, code in cases:
        for suffix in paths:
            response = world.get(headers, f"/institutions/{code}{suffix}")
            assert response.status_code == 404, (code, suffix)
            assert "辖区" in response.get_json()["message"]
            assert "name" not in response.get_json()
    refused = [
        r
        for r in audit_rows(world.app, target_kind="institution", target_id=SZO)
        if r.action == "registry.institution"
    ]
    assert refused and refused[-1].detail["reason"] == "not_found_or_outside_jurisdiction"
    for bad in ("C101", "1234567890ABCD", "C10102320001234"):
        response = world.get(world.nanjing, f"/institutions/{bad}")
        assert response.status_code == 422
        assert "fi_code" in response.get_json()["errors"]["path"]


def test_children_are_paged_and_filtered_by_jurisdiction(world: World) -> None:
    assert set(all_codes(world, world.province, f"/institutions/{JS}/children", limit=1)) == {
        NJ,
        SZ,
    }
    assert codes(world.ok(world.nanjing, f"/institutions/{JS}/children")) == [NJ]
    assert codes(world.ok(world.nanjing, f"/institutions/{NJ}/children", level="outlet")) == []
    assert set(codes(world.ok(world.nanjing, f"/institutions/{NJ}/children"))) == {XJK, GL}
    response = world.get(world.nanjing, f"/institutions/{NJ}/children/export", format="xlsx")
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    assert {row[0].value for row in sheet.iter_rows(min_row=2)} == {XJK, GL}


def test_ancestors_name_foreign_links_without_details(world: World) -> None:
    chain = world.ok(world.nanjing, f"/institutions/{OUT}/ancestors")["ancestors"]
    assert [a["fi_code"] for a in chain] == [XJK, NJ, JS, HEAD]
    assert [a["in_jurisdiction"] for a in chain] == [True, True, True, False]
    assert chain[-1]["region_code"] is None and chain[-1]["status"] is None
    suzhou = world.ok(world.suzhou, f"/institutions/{SZO}/ancestors")["ancestors"]
    assert [(a["fi_code"], a["in_jurisdiction"]) for a in suzhou] == [
        (SZ, True),
        (JS, False),  # the Jiangsu branch sits in Nanjing
        (HEAD, False),
    ]
    assert suzhou[1]["name"] == "中国工商银行股份有限公司江苏省分行"
    assert suzhou[1]["region_code"] is None
    ccb = world.ok(world.ccb_admin, f"/institutions/{CCB_SZ}/ancestors")["ancestors"]
    assert [(a["fi_code"], a["in_jurisdiction"]) for a in ccb] == [(CCB, False)]
    assert world.ok(world.nanjing, f"/institutions/{ZJ}/ancestors")["ancestors"] == []


def _set_parent(engine: Engine, fi_code: str, parent: str | None) -> None:
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE institution SET parent_code = :p WHERE fi_code = :f"),
            {"p": parent, "f": fi_code},
        )


def test_ancestors_end_at_a_broken_reference_and_at_a_loop(world: World, engine: Engine) -> None:
    # Data the importer refuses (XRC-PARENT-MISSING, XRC-HIERARCHY-CYCLE), written behind
    # its back: the chain must still end, and say where it broke.
    _set_parent(engine, GL, "C1010232099990")
    _set_parent(engine, ZJ, ZJ_ZJL)
    try:
        chain = world.ok(world.nanjing, f"/institutions/{GL}/ancestors")["ancestors"]
        assert chain == [
            {
                "fi_code": "C1010232099990",
                "known": False,
                "in_jurisdiction": False,
                "name": None,
                "short_name": None,
                "level": None,
                "region_code": None,
                "status": None,
            }
        ]
        loop = world.ok(world.nanjing, f"/institutions/{ZJ_ZJL}/ancestors")["ancestors"]
        assert [a["fi_code"] for a in loop] == [ZJ]  # and not ZJ_ZJL again
    finally:
        _set_parent(engine, GL, NJ)
        _set_parent(engine, ZJ, None)


def test_history_is_newest_first_with_channel_actor_and_values(world: World) -> None:
    events = world.ok(world.nanjing, f"/institutions/{OUT}/history")["items"]
    assert (events[0]["channel"], events[0]["field_group"]) == ("staff_upload", "phone")
    # the profile file: one event per changed group; the seed's record event comes last
    assert {(e["channel"], e["field_group"]) for e in events[1:4]} == {
        ("registry_sync", "phone"),
        ("registry_sync", "business_types"),
        ("registry_sync", "position"),
    }
    assert (events[4]["entity"], events[4]["field_group"]) == ("institution", None)
    assert [e["id"] for e in events] == sorted((e["id"] for e in events), reverse=True)
    upload = events[0]
    assert upload["actor"] == "staff:7" and upload["published"] is True
    assert upload["before"] == "025-83001234" and upload["after"] == "025-83009999"
    assert events[-1]["before"] is None and events[-1]["after"]["name"].endswith("分理处")
    assert events[-1]["batch_id"] == world.batches["seed"]
    assert {e["batch_id"] for e in events[1:4]} == {world.batches["profiles"]}

    first = world.ok(world.nanjing, f"/institutions/{OUT}/history", limit=2)
    rest = world.ok(
        world.nanjing, f"/institutions/{OUT}/history", limit=10, after=first["next_after"]
    )
    assert [e["id"] for e in first["items"] + rest["items"]] == [e["id"] for e in events]
    only = world.ok(world.nanjing, f"/institutions/{OUT}/history", channel="staff_upload")
    assert [e["id"] for e in only["items"]] == [upload["id"]]
    record = world.ok(world.nanjing, f"/institutions/{XJK}/history", field_group="record")
    newest = record["items"][0]
    assert newest["after"] == {"address": "江苏省南京市玄武区中山路1号新址"}
    assert newest["batch_id"] == world.batches["update"]

    response = world.get(world.nanjing, f"/institutions/{OUT}/history/export", format="csv")
    rows = list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert len(rows) == 5 and rows[0]["渠道 / channel"] == "staff_upload"
    assert rows[0]["修改后 / after"] == '"025-83009999"'
    assert (
        world.get(world.nanjing, f"/institutions/{OUT}/history", channel="fax").status_code == 422
    )


# --- import batches and error receipts ------------------------------------------------------------


def batch_ids(world: World, headers: dict[str, str], **query: Any) -> list[int]:
    return [b["id"] for b in world.ok(headers, "/batches", **query)["items"]]


def test_batches_are_visible_where_they_touch_the_jurisdiction(world: World) -> None:
    b = world.batches
    everything = [b["profiles"], b["suzhou"], b["update"], b["seed"]]
    assert batch_ids(world, world.province) == everything
    assert batch_ids(world, world.nanjing) == [b["profiles"], b["update"], b["seed"]]
    assert batch_ids(world, world.auditor) == [b["profiles"], b["update"], b["seed"]]
    # Suzhou: its snapshot, the update's Suzhou error, the seed; the profile file's bad
    # Suzhou row is a line filed under Suzhou (from the stored record)
    assert batch_ids(world, world.suzhou) == everything
    assert batch_ids(world, world.ccb_admin) == [b["seed"]]
    assert batch_ids(world, world.province, kind="profiles") == [b["profiles"]]
    assert batch_ids(world, world.province, outcome="partial") == [b["profiles"], b["update"]]
    paged = world.ok(world.province, "/batches", limit=3)
    assert paged["next_after"] == b["update"]
    assert [x["id"] for x in world.ok(world.province, "/batches", after=b["update"])["items"]] == [
        b["seed"]
    ]

    for headers, batch in (
        (world.nanjing, b["suzhou"]),
        (world.auditor, b["suzhou"]),
        (world.ccb_admin, b["update"]),
        (world.nanjing, 999_999),
    ):
        for suffix in ("", "/issues", "/issues/export"):
            response = world.get(headers, f"/batches/{batch}{suffix}")
            assert response.status_code == 404, (batch, suffix)
    refused = audit_rows(world.app, target_kind="import_batch", target_id=str(b["suzhou"]))
    assert refused and {r.outcome for r in refused} == {"denied"}


def test_batch_summary_only_for_covering_accounts(world: World) -> None:
    update = world.batches["update"]
    province = world.ok(world.province, f"/batches/{update}")
    assert province["covers_whole_batch"] is True
    assert province["declared_jurisdiction"] == "32"
    assert province["summary"]["rows_read"] == len(UPDATE)
    assert province["receipt"]["errors"] == province["summary"]["errors"]
    assert province["receipt"]["unfiled"] >= 2  # the header and the malformed region code

    nanjing = world.ok(world.nanjing, f"/batches/{update}")
    assert nanjing["covers_whole_batch"] is False and nanjing["summary"] is None
    assert nanjing["receipt"]["by_rule"] == {"FLD-PHONE-FORMAT": 1}
    assert nanjing["receipt"]["unfiled"] == 0
    assert nanjing["receipt"]["changes"] == {"institution": 1}  # XJK's new address
    assert nanjing["in_jurisdiction"] == {"errors": 1, "warnings": 0}

    suzhou = world.ok(world.suzhou, f"/batches/{world.batches['suzhou']}")
    assert suzhou["covers_whole_batch"] is True and suzhou["summary"]["rows_read"] == 3
    listed = world.ok(world.nanjing, "/batches")["items"]
    assert next(x for x in listed if x["id"] == update)["summary"] is None


def test_a_receipt_with_errors_says_when_corrections_are_due(world: World) -> None:
    update = world.ok(world.nanjing, f"/batches/{world.batches['update']}")
    [(finished,)] = sql(
        world.app, "SELECT finished_at FROM import_batch WHERE id = :id", id=update["id"]
    )
    # five working days on the official calendar, from the receipt's date in Shanghai
    day, left = finished.astimezone(ZoneInfo("Asia/Shanghai")).date(), 5
    while left:
        day += timedelta(days=1)
        left -= holiday_calendar.is_working_day(day)
    assert update["correction_due"] == day.isoformat()
    listed = {b["id"]: b for b in world.ok(world.nanjing, "/batches")["items"]}
    assert listed[update["id"]]["correction_due"] == day.isoformat()
    assert world.ok(world.ccb_admin, f"/batches/{world.batches['seed']}")["correction_due"] is None


def test_receipt_lines_are_filed_under_their_rows_jurisdiction(world: World) -> None:
    update = world.batches["update"]

    def lines(headers: dict[str, str], **query: Any) -> list[tuple[str | None, str]]:
        page = world.ok(headers, f"/batches/{update}/issues", **query)
        return [(i["fi_code"], i["rule_id"]) for i in page["items"]]

    assert lines(world.nanjing) == [(GL, "FLD-PHONE-FORMAT")]
    assert lines(world.auditor) == [(GL, "FLD-PHONE-FORMAT")]
    assert lines(world.suzhou) == [(NEW_SZ, "FLD-POSTCODE-FORMAT")]
    everything = lines(world.province, limit=200)
    assert (None, "HDR-UNKNOWN") in everything  # unfiled: only for the covering account
    assert (NEW_BAD, "FLD-REGION-VALUE") in everything
    assert {(GL, "FLD-PHONE-FORMAT"), (NEW_SZ, "FLD-POSTCODE-FORMAT")} <= set(everything)
    assert lines(world.province, severity="warning") == [(None, "HDR-UNKNOWN")]
    assert lines(world.province, rule="FLD-POSTCODE-FORMAT") == [(NEW_SZ, "FLD-POSTCODE-FORMAT")]
    assert lines(world.province, fi_code=GL.lower()) == [(GL, "FLD-PHONE-FORMAT")]
    assert lines(world.nanjing, fi_code=NEW_SZ) == []  # a foreign row, even by name
    page = world.ok(world.nanjing, f"/batches/{update}/issues")["items"][0]
    assert page["region_code"] == "320106" and page["row"] and page["message_zh"]
    # profile rows are filed from the stored record: Suzhou sees its bad row, Nanjing not
    profiles = world.batches["profiles"]
    suzhou_lines = world.ok(world.suzhou, f"/batches/{profiles}/issues")["items"]
    assert {i["fi_code"] for i in suzhou_lines} == {SZO}
    assert world.ok(world.nanjing, f"/batches/{profiles}/issues")["items"] == []
    assert world.get(world.province, f"/batches/{update}/issues", rule="NOPE").status_code == 422
    assert world.get(world.province, f"/batches/{update}/issues", severity="x").status_code == 422


def test_receipt_and_batch_exports_open(world: World) -> None:
    update = world.batches["update"]
    response = world.get(world.nanjing, f"/batches/{update}/issues/export", format="csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert rows[0][:2] == ["行号 / row", "金融机构编码 / fi_code"]
    assert [r[1] for r in rows[1:]] == [GL]
    response = world.get(world.province, f"/batches/{update}/issues/export", format="xlsx")
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    exported = {row[1].value for row in sheet.iter_rows(min_row=2)}
    assert {GL, NEW_SZ, NEW_BAD} <= exported
    response = world.get(world.nanjing, "/batches/export", format="xlsx")
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert [v[0] for v in values[1:]] == [
        world.batches["profiles"],
        world.batches["update"],
        world.batches["seed"],
    ]
    assert audit_rows(world.app, action="registry.batch.issues.export")


# --- sign-in and the OpenAPI document ------------------------------------------------------------


def test_every_registry_endpoint_needs_a_live_token(world: World) -> None:
    paths = [
        "/institutions",
        "/institutions/export",
        f"/institutions/{XJK}",
        f"/institutions/{XJK}/ancestors",
        f"/institutions/{XJK}/children",
        f"/institutions/{XJK}/history",
        "/batches",
        f"/batches/{world.batches['seed']}",
        f"/batches/{world.batches['seed']}/issues",
    ]
    for path in paths:
        assert world.client.get(f"{API}{path}").status_code == 401, path
        forged = world.client.get(f"{API}{path}", headers=bearer("not-a-token"))
        assert forged.status_code == 401, path
        assert "items" not in (forged.get_json() or {})
    assert audit_rows(world.app, action="registry.institutions", outcome="denied")


def test_openapi_documents_the_registry_routes(world: World) -> None:
    spec = world.client.get("/openapi.json").get_json()
    ours = {  # the reading routes (PUT /institutions/{fi_code}/contact is an update)
        p: ops
        for p, ops in spec["paths"].items()
        if p.startswith((f"{API}/institutions", f"{API}/batches")) and "get" in ops
    }
    assert len(ours) == 13
    for path, operations in ours.items():
        operation = operations["get"]
        assert operation["summary"], path
        assert operation["security"] == [{"proToken": []}], path
        assert {"401", "403", "422"} <= set(operation["responses"]), path
        if "{" in path:
            assert "404" in operation["responses"], path
        if path.endswith("/export"):
            assert "text/csv" in operation["responses"]["200"]["content"], path
        names = {p["name"] for p in operation.get("parameters", [])}
        if path.endswith("/institutions"):
            assert {"q", "category", "level", "region", "status", "legal_entity"} <= names
            assert {"limit", "after"} <= names
