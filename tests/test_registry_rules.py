"""Every registry rule, with a row (or file) that breaks it and a closely related one that passes.

Three tables, one per way a rule is reached:

- ``FIELD_CASES``: field and record rules, straight through ``check_record`` (no database);
  each case is a small override of one valid record, the ICBC Nanjing Xuanwu sub-branch.
- ``FILE_CASES``: file, header and row-shape rules, through ``import_registry`` on a file
  written to ``tmp_path`` (raw bytes: PNG, GB18030, garbled UTF-8, odd headers ...).
- ``CROSS_CASES``: cross-record and load rules, through ``import_registry`` on small CSV
  files, some after a first import of "stored" rows in the same rolled-back session.

``test_every_rule_has_a_case`` fails when a rule is added without a case here. The PRF-
rules of the profile import are tested with that import.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import count
from pathlib import Path
from unittest import mock
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.orm import Session

from backend.imports import import_registry
from core.models.registry import LEVELS, STATUSES
from registry import record_checks
from registry.batches import ImportResult
from registry.formats import EXTRA_KEY
from registry.importer import ImportOptions
from registry.record_checks import DATA_COLUMNS, check_record, today_in_china
from registry.rules import Issue, all_rules, get

Row = dict[str, str]

# --- the expected severity of every rule that the registry import can raise -----------------------

SEVERITY: dict[str, str] = {
    "FILE-TYPE": "error",
    "FILE-EMPTY": "error",
    "FILE-ENCODING": "error",
    "FILE-MOJIBAKE": "error",
    "HDR-MISSING": "error",
    "HDR-UNKNOWN": "warning",
    "HDR-DUPLICATE": "error",
    "REC-EXTRA-CELLS": "warning",
    "REC-HEAD-OFFICE-LEGAL": "error",
    "REC-BRANCH-LEGAL": "error",
    "REC-HEAD-OFFICE-PARENT": "error",
    "REC-SELF-PARENT": "error",
    "REC-KIND-LEVEL": "error",
    "FLD-KIND-VALUE": "error",
    "XRC-KIND-PARENT": "error",
    "FLD-REQUIRED": "error",
    "FLD-FICODE-FORMAT": "error",
    "FLD-FICODE-CHECK": "warning",  # the algorithm is unverified: it must never reject a code
    "FLD-LEVEL-VALUE": "error",
    "FLD-REGION-VALUE": "error",
    "FLD-POSTCODE-FORMAT": "error",
    "FLD-PHONE-FORMAT": "error",
    "FLD-LICENCE-FORMAT": "error",
    "FLD-LICENCE-MISSING": "warning",
    "FLD-USCC-CHECK": "error",
    "FLD-STATUS-VALUE": "error",
    "FLD-DATE-FORMAT": "error",
    "FLD-DATE-RANGE": "error",
    "FLD-REVOKED-ON": "error",
    "FLD-MOJIBAKE": "error",
    "FLD-ENCODING": "error",
    "FLD-TEXT-LENGTH": "error",
    "XRC-DUPLICATE": "error",
    "XRC-PARENT-MISSING": "error",
    "XRC-PARENT-REJECTED": "error",
    "XRC-HIERARCHY-CYCLE": "error",
    "XRC-LEGAL-MISSING": "error",
    "XRC-LEGAL-ENTITY": "error",
    "XRC-REVOKED-PARENT": "error",
    "XRC-LEVEL-ORDER": "error",
    "XRC-CODE-PREFIX": "warning",
    "LOAD-LEGAL-CHANGED": "error",
    "LOAD-REACTIVATION": "error",
    "LOAD-REACTIVATED": "warning",
    "LOAD-MISSING": "warning",
    "LOAD-ACTIVE-CHILDREN": "error",
}

# --- real institutions (codes from STANDARDS.md) and a plausible ICBC hierarchy in Jiangsu ------

ICBC_HO = "C1010211000012"  # 中国工商银行 head office (real)
ABC_HO = "C1010311000014"  # 中国农业银行 head office (real)
JSB_HO = "C1086832000010"  # 江苏银行 head office (real)
JS = "C1010232000010"  # ICBC Jiangsu provincial branch
NJ = "C1010232000029"  # ICBC Nanjing branch
WX = "C1010232000037"  # ICBC Wuxi branch
XW = "C1010232000045"  # ICBC Nanjing Xuanwu sub-branch
GL = "C1010232000053"  # ICBC Nanjing Gulou sub-branch
ZJL = "C1010232000061"  # an outlet of Xuanwu sub-branch
XWM = "C1010232000070"  # another outlet of Xuanwu sub-branch
LX = "C1010232000088"  # ICBC Wuxi Liangxi sub-branch
ATM1 = "C1010232000096"  # an ATM standing in Xuanwu sub-branch
ATM2 = "C1010232000109"  # an off-site self-service bank of Xuanwu sub-branch

# Head offices listed in STANDARDS.md section 1, with the county of their head office.
REAL_HEAD_OFFICES: dict[str, tuple[str, str]] = {
    "C1010211000012": ("中国工商银行股份有限公司", "110102"),
    "C1010311000014": ("中国农业银行股份有限公司", "110101"),
    "C1010411000013": ("中国银行股份有限公司", "110102"),
    "C1010511003703": ("中国建设银行股份有限公司", "110102"),
    "C1030131001288": ("交通银行股份有限公司", "310115"),
    "C1040311005293": ("中国邮政储蓄银行股份有限公司", "110102"),
    "C1030844001362": ("招商银行股份有限公司", "440304"),
    "C1086932000011": ("南京银行股份有限公司", "320105"),
    "C1086832000010": ("江苏银行股份有限公司", "320104"),
    "C1115332000018": ("苏州银行股份有限公司", "320508"),
    "C3240632000017": ("江苏省农村信用社联合社", "320106"),
}


def inst(
    fi_code: str,
    name: str,
    level: str,
    parent: str,
    region: str,
    address: str,
    licence: str,
    *,
    legal: str = ICBC_HO,
    phone: str = "025-84001234",
    postcode: str = "210018",
    established: str = "2001-05-06",
    **more: str,
) -> Row:
    row = {
        "fi_code": fi_code,
        "name": name,
        "short_name": "",
        "legal_entity_code": legal,
        "parent_code": parent,
        "level": level,
        "region_code": region,
        "address": address,
        "postcode": postcode,
        "phone": phone,
        "licence_no": licence,
        "uscc": "",
        "status": "正常",
        "established_on": established,
        "revoked_on": "",
    }
    row.update(more)
    return row


HO = inst(
    ICBC_HO, "中国工商银行股份有限公司", "总行", "", "110102", "北京市西城区复兴门内大街55号",
    "B0001H111000001", legal=ICBC_HO, phone="010-66106114", postcode="100140",
    established="1984-01-01", short_name="工商银行", uscc="91100000100003962T",
)  # fmt: skip
ABC = inst(
    ABC_HO, "中国农业银行股份有限公司", "总行", "", "110101", "北京市东城区建国门内大街69号",
    "B0002H111000001", legal=ABC_HO, phone="010-85109619", postcode="100005",
    established="1979-02-23", short_name="农业银行", uscc="911100001000054748",
)  # fmt: skip
JSB = inst(
    JSB_HO, "江苏银行股份有限公司", "总行", "", "320104", "南京市秦淮区中华路26号",
    "B0243H232010001", legal=JSB_HO, phone="025-58587000", postcode="210001",
    established="2007-01-24", short_name="江苏银行",
)  # fmt: skip
ICBC_JS = inst(
    JS, "中国工商银行股份有限公司江苏省分行", "分行", ICBC_HO, "320104",
    "南京市秦淮区中山南路408号", "B0001B232000001", phone="025-84528888", postcode="210006",
    established="1985-01-01",
)  # fmt: skip
ICBC_NJ = inst(
    NJ, "中国工商银行股份有限公司南京分行", "分行", JS, "320102", "南京市玄武区中山路1号",
    "B0001B332010001", established="1985-01-01",
)  # fmt: skip
ICBC_WX = inst(
    WX, "中国工商银行股份有限公司无锡分行", "分行", JS, "320213", "无锡市梁溪区中山路227号",
    "B0001B332020001", phone="0510-82702222", postcode="214001", established="1985-01-01",
)  # fmt: skip
ICBC_XW = inst(
    XW, "中国工商银行股份有限公司南京玄武支行", "支行", NJ, "320102", "南京市玄武区珠江路88号",
    "B0001S332010012", short_name="工行玄武支行",
)  # fmt: skip
ICBC_GL = inst(
    GL, "中国工商银行股份有限公司南京鼓楼支行", "支行", NJ, "320106", "南京市鼓楼区中山北路30号",
    "B0001S332010013", phone="(025)83301234", postcode="210008",
)  # fmt: skip
ICBC_ZJL = inst(
    ZJL, "中国工商银行股份有限公司南京珠江路分理处", "分理处", XW, "320102",
    "南京市玄武区珠江路280号", "B0001S332010014", phone="025-83601234；13912345678",
)  # fmt: skip
ICBC_XWM = inst(
    XWM, "中国工商银行股份有限公司南京玄武门储蓄所", "储蓄所", XW, "320102",
    "南京市玄武区中央路1号", "B0001S332010015", phone="025-83351234",
)  # fmt: skip
ICBC_LX = inst(
    LX, "中国工商银行股份有限公司无锡梁溪支行", "支行", WX, "320213", "无锡市梁溪区人民中路1号",
    "B0001S332020011", phone="0510-82701234", postcode="214001",
)  # fmt: skip

ICBC_ATM = inst(
    ATM1, "中国工商银行股份有限公司南京玄武支行ATM1", "网点", XW, "320102",
    "南京市玄武区珠江路88号", "", kind="ATM",
)  # fmt: skip
ICBC_SELF = inst(
    ATM2, "中国工商银行股份有限公司南京玄武支行南京站离行式自助银行", "outlet", XW, "320102",
    "南京市玄武区龙蟠路111号南京站", "", kind="自助银行",
)  # fmt: skip

ICBC_JIANGSU = [HO, ICBC_JS, ICBC_NJ, ICBC_XW]  # a file that loads as it is: rows 2-5


def w(row: Row, **changes: str) -> Row:
    """`row` with some fields changed."""
    return {**row, **changes}


def revoked(row: Row, on: str = "2013-03-01") -> Row:
    return w(row, status="撤销", revoked_on=on)


# --- dates, as the rules see them: the calendar day in China ------------------------------------

TODAY = datetime.now(ZoneInfo("Asia/Shanghai")).date()
TOMORROW = TODAY + timedelta(days=1)


# --- a stand-in for the unknown fi_code check-digit algorithm -----------------------------------


def luhn_digit(first13: str) -> str:
    """Luhn over positions 2-13 (STANDARDS.md: fits most codes, not the large state banks)."""
    total = 0
    for i, ch in enumerate(reversed(first13[1:])):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return str(-total % 10)


# --- helpers ------------------------------------------------------------------------------------


Shown = str | tuple[str, str]  # the same text in both messages, or (Chinese, English)


def names_value(issue: Issue, *shown: Shown) -> None:
    """Both messages quote every text in `shown` (the offending value, what was expected)."""
    for item in shown:
        zh, en = (item, item) if isinstance(item, str) else item
        assert zh in issue.message_zh, (zh, issue.message_zh)
        assert en in issue.message_en, (en, issue.message_en)


def brief(issues: Sequence[Issue]) -> list[tuple[str, int | None, str | None, str | None]]:
    return [(i.rule_id, i.row, i.column, i.value) for i in issues]


def one_issue(
    issues: Sequence[Issue], rule: str, row: int | None, fi_code: str | None = None
) -> Issue:
    found = [
        i
        for i in issues
        if i.rule_id == rule and i.row == row and (fi_code is None or i.fi_code == fi_code)
    ]
    assert len(found) == 1, f"one {rule} at row {row} expected in {brief(issues)}"
    return found[0]


def csv_text(
    rows: Sequence[Row],
    header: Sequence[str] = DATA_COLUMNS,
    keys: Sequence[str] | None = None,
    extra: dict[int, list[str]] | None = None,
) -> str:
    """A CSV of `rows`: `header` is what the first line says, `keys` which field goes below
    each header cell (default: the header itself); `extra` adds cells after row i's last."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for i, row in enumerate(rows):
        writer.writerow([row.get(k, "") for k in (keys or header)] + (extra or {}).get(i, []))
    return out.getvalue()


def csv_bytes(
    rows: Sequence[Row],
    encoding: str = "utf-8",
    *,
    header: Sequence[str] = DATA_COLUMNS,
    keys: Sequence[str] | None = None,
    extra: dict[int, list[str]] | None = None,
) -> bytes:
    return csv_text(rows, header, keys, extra).encode(encoding)


def xlsx_bytes(rows: Sequence[Row]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(list(DATA_COLUMNS))
    for row in rows:
        sheet.append([row.get(k, "") for k in DATA_COLUMNS])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


_names = count(1)


def run_import(
    session: Session,
    tmp_path: Path,
    content: Sequence[Row] | bytes,
    options: ImportOptions | None = None,
) -> ImportResult:
    data = content if isinstance(content, bytes) else csv_bytes(content)
    path = tmp_path / f"registry-{next(_names)}.csv"
    path.write_bytes(data)
    return import_registry(session, path, options or ImportOptions())


def stored(session: Session, fi_code: str) -> dict[str, object] | None:
    found = session.execute(
        text("SELECT * FROM institution WHERE fi_code = :c"), {"c": fi_code}
    ).mappings()
    first = found.first()
    return dict(first) if first is not None else None


def stored_row(session: Session, fi_code: str) -> dict[str, object]:
    row = stored(session, fi_code)
    assert row is not None, f"{fi_code} is not stored"
    return row


def assert_registry_sound(session: Session) -> None:
    """What the import must never store: an orphan, a missing legal entity, an active child
    of a revoked parent, or a parent chain that does not end at a head office."""
    orphans = session.execute(
        text("""
        SELECT i.fi_code, i.parent_code, i.legal_entity_code FROM institution i
        WHERE (i.parent_code IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM institution p WHERE p.fi_code = i.parent_code))
           OR NOT EXISTS (SELECT 1 FROM institution l WHERE l.fi_code = i.legal_entity_code)
        """)
    ).all()
    assert orphans == []
    cycles = session.execute(
        text("""
        WITH RECURSIVE up(start, cur, depth) AS (
            SELECT fi_code, parent_code, 1 FROM institution
          UNION ALL
            SELECT up.start, i.parent_code, up.depth + 1
            FROM up JOIN institution i ON i.fi_code = up.cur WHERE up.depth < 50
        )
        SELECT DISTINCT start FROM up WHERE cur = start OR depth = 50
        """)
    ).all()
    assert cycles == []


# ================================================================================================
# Field and record rules: check_record on one record
# ================================================================================================


@dataclass(frozen=True)
class FieldCase:
    rule: str
    column: str | None
    bad: Row  # overrides of ICBC_XW that break the rule
    good: Row  # closely related overrides that pass every rule
    shown: tuple[Shown, ...]  # what both messages must quote
    note: str
    check_digit: Callable[[str], str] | None = None

    @property
    def id(self) -> str:
        return f"{self.rule}:{self.note}"


def fld(
    rule: str,
    column: str | None,
    bad: Row,
    good: Row,
    note: str,
    *shown: Shown,
    check_digit: Callable[[str], str] | None = None,
) -> FieldCase:
    """A case; by default the messages must quote the bad value of `column`."""
    if not shown:
        shown = (bad[column],) if column else ()
    return FieldCase(rule, column, bad, good, shown, note, check_digit)


ROW = 7  # the row number passed to check_record
# UTF-8 read as GBK, saved as UTF-8, read as GBK again: "锟斤拷" and friends.
GARBLED_TWICE = "工行玄武支行".encode().decode("gbk", "replace").encode().decode("gbk", "replace")

FIELD_CASES: list[FieldCase] = [
    # FLD-REQUIRED
    fld("FLD-REQUIRED", "name", {"name": ""}, {"short_name": ""}, "name", "name"),
    fld("FLD-REQUIRED", "fi_code", {"fi_code": ""}, {"fi_code": XW.lower()}, "fi_code", "fi_code"),
    fld("FLD-REQUIRED", "parent_code", {"parent_code": ""}, HO, "parent-of-sub-branch",
        "parent_code"),
    fld("FLD-REQUIRED", "address", w(ICBC_ZJL, address=""), w(ICBC_NJ, address=""),
        "address-of-outlet", "address"),
    fld("FLD-REQUIRED", "region_code", {"region_code": ""}, {"region_code": "320102"}, "region",
        "region_code"),
    fld("FLD-REQUIRED", "established_on", {"established_on": ""},
        {"established_on": "20010506"}, "established_on", "established_on"),
    fld("FLD-REQUIRED", "status", {"status": ""}, {"status": "active"}, "status", "status"),
    fld("FLD-REQUIRED", "level", {"level": ""}, {"level": "sub_branch"}, "level", "level"),
    fld("FLD-REQUIRED", "legal_entity_code", {"legal_entity_code": ""},
        {"legal_entity_code": ICBC_HO.lower()}, "legal", "legal_entity_code"),
    # FLD-FICODE-FORMAT
    fld("FLD-FICODE-FORMAT", "fi_code", {"fi_code": "C10102320000"},
        {"fi_code": XW.lower()}, "12-characters", "C10102320000", "14"),
    fld("FLD-FICODE-FORMAT", "fi_code", {"fi_code": "X1010232000045"}, {"fi_code": XW},
        "category-letter"),
    fld("FLD-FICODE-FORMAT", "fi_code", {"fi_code": "C1010299000045"}, {"fi_code": XW},
        "province-99", "C1010299000045", "99"),
    fld("FLD-FICODE-FORMAT", "legal_entity_code", {"legal_entity_code": "C101021100001"},
        {"legal_entity_code": ICBC_HO}, "legal-13-characters"),
    fld("FLD-FICODE-FORMAT", "parent_code", {"parent_code": "C1O10232000029"},
        {"parent_code": NJ.lower()}, "parent-letter-O"),
    # FLD-FICODE-CHECK, only with an algorithm plugged in, and only a warning
    fld("FLD-FICODE-CHECK", "fi_code", HO, JSB, "icbc-under-luhn", ICBC_HO, "1",
        check_digit=luhn_digit),
    # FLD-LEVEL-VALUE
    fld("FLD-LEVEL-VALUE", "level", {"level": "自助银行"}, {"level": "支行"}, "self-service"),
    fld("FLD-LEVEL-VALUE", "level", {"level": "sub-branch"}, {"level": "Sub_Branch"}, "hyphen"),
    fld("FLD-LEVEL-VALUE", "level", w(ICBC_ZJL, level="分理"), w(ICBC_ZJL, level="营业部"),
        "outlet-alias"),
    # FLD-REGION-VALUE
    fld("FLD-REGION-VALUE", "region_code", {"region_code": "320103"}, {"region_code": "320102"},
        "retired-baixia", "320103", "白下区", "2013"),
    fld("FLD-REGION-VALUE", "region_code", {"region_code": "320100"}, {"region_code": "320106"},
        "prefecture", "320100", "南京市"),
    fld("FLD-REGION-VALUE", "region_code", {"region_code": "32010"},
        {"region_code": "320613"}, "5-digits"),
    # FLD-POSTCODE-FORMAT
    fld("FLD-POSTCODE-FORMAT", "postcode", {"postcode": "21001"}, {"postcode": "210018"},
        "5-digits"),
    fld("FLD-POSTCODE-FORMAT", "postcode", {"postcode": "２１００１８"}, {"postcode": ""},
        "full-width-digits"),
    # FLD-PHONE-FORMAT
    fld("FLD-PHONE-FORMAT", "phone", {"phone": "84001234"}, {"phone": "025-84001234"},
        "no-area-code"),
    fld("FLD-PHONE-FORMAT", "phone", {"phone": "(025)840012"}, {"phone": "(025)84001234"},
        "short-landline"),
    fld("FLD-PHONE-FORMAT", "phone", {"phone": "1391234567"}, {"phone": "13912345678"},
        "10-digit-mobile"),
    fld("FLD-PHONE-FORMAT", "phone", {"phone": "025-84001234;84005678"},
        {"phone": "025-84001234;025-84005678"}, "second-without-area-code"),
    fld("FLD-PHONE-FORMAT", "phone", {"phone": "025-84001234；139123456789"},
        {"phone": "025-84001234；13912345678"}, "full-width-semicolon"),
    fld("FLD-PHONE-FORMAT", "phone", {"phone": "025-８４００１２３４"},
        {"phone": "025 - 84001234"}, "full-width-digits"),
    # FLD-LICENCE-FORMAT
    fld("FLD-LICENCE-FORMAT", "licence_no", {"licence_no": "B0001X332010012"},
        {"licence_no": "b0001s332010012"}, "class-letter-X"),
    fld("FLD-LICENCE-FORMAT", "licence_no", {"licence_no": "B0001S399010012"},
        {"licence_no": "B0001S332010012"}, "province-99"),
    fld("FLD-LICENCE-FORMAT", "licence_no", w(JSB, licence_no="B0243H23201000"), JSB,
        "14-characters"),
    # FLD-LICENCE-MISSING
    fld("FLD-LICENCE-MISSING", "licence_no", {"licence_no": ""},
        {"licence_no": "B0001S332010012"}, "deposit-taking-bank", ("金融许可证号", "licence_no")),
    # FLD-USCC-CHECK
    fld("FLD-USCC-CHECK", "uscc", {"uscc": "91350100M000100Y44"},
        {"uscc": "91350100m000100y43"}, "check-character", "91350100M000100Y44", "3"),
    fld("FLD-USCC-CHECK", "uscc", {"uscc": "9135010OM000100Y43"},
        {"uscc": "91350100M000100Y43"}, "letter-O"),
    fld("FLD-USCC-CHECK", "uscc", {"uscc": "91330282L07196379"},
        {"uscc": "91330282L07196379D"}, "17-characters"),
    fld("FLD-USCC-CHECK", "uscc", w(HO, uscc="91100000100003963T"), HO, "icbc-typo"),
    # FLD-STATUS-VALUE
    fld("FLD-STATUS-VALUE", "status", {"status": "停业"}, {"status": "正常"}, "suspended"),
    fld("FLD-STATUS-VALUE", "status", {"status": "closed", "revoked_on": "2015-06-30"},
        {"status": "REVOKED", "revoked_on": "2015-06-30"}, "closed"),
    fld("FLD-STATUS-VALUE", "status", {"status": "注销", "revoked_on": "2015-06-30"},
        {"status": "撤销", "revoked_on": "2015-06-30"}, "cancelled-zh"),
    # FLD-DATE-FORMAT
    fld("FLD-DATE-FORMAT", "established_on", {"established_on": "2001.05.06"},
        {"established_on": "2001/05/06"}, "dots"),
    fld("FLD-DATE-FORMAT", "established_on", {"established_on": "2001年5月6日"},
        {"established_on": "20010506"}, "chinese"),
    fld("FLD-DATE-FORMAT", "established_on", {"established_on": "06/05/2001"},
        {"established_on": "2001-05-06"}, "day-first"),
    fld("FLD-DATE-FORMAT", "established_on", {"established_on": "2001-02-29"},
        {"established_on": "2000-02-29"}, "no-leap-day"),
    fld("FLD-DATE-FORMAT", "revoked_on", revoked(ICBC_XW, "2015-13-01"), revoked(ICBC_XW),
        "revoked-month-13"),
    # FLD-DATE-RANGE
    fld("FLD-DATE-RANGE", "established_on", {"established_on": "1899-12-31"},
        {"established_on": "1900-01-01"}, "before-1900", "1899-12-31", "1900-01-01"),
    fld("FLD-DATE-RANGE", "established_on", {"established_on": TOMORROW.strftime("%Y%m%d")},
        {"established_on": TODAY.strftime("%Y%m%d")}, "tomorrow-in-china"),
    fld("FLD-DATE-RANGE", "revoked_on", revoked(ICBC_XW, TOMORROW.isoformat()),
        revoked(ICBC_XW, TODAY.isoformat()), "revoked-tomorrow"),
    # FLD-REVOKED-ON
    fld("FLD-REVOKED-ON", "revoked_on", {"status": "撤销"},
        {"status": "撤销", "revoked_on": "2015-06-30"}, "revoked-without-date",
        ("撤销日期", "revoked_on"), "required when the status is revoked"),
    fld("FLD-REVOKED-ON", "revoked_on", {"revoked_on": "2015-06-30"}, {"revoked_on": ""},
        "active-with-date", "2015-06-30"),
    fld("FLD-REVOKED-ON", "revoked_on", revoked(ICBC_XW, "2001-05-05"),
        revoked(ICBC_XW, "2001-05-06"), "before-established", "2001-05-05", "2001-05-06"),
    # FLD-MOJIBAKE
    fld("FLD-MOJIBAKE", "name",
        {"name": ICBC_XW["name"].encode("utf-8").decode("gbk", "replace")},
        {"name": "中国工商银行股份有限公司南京溧水支行", "region_code": "320117"},
        "utf8-read-as-gbk"),
    fld("FLD-MOJIBAKE", "address", {"address": ICBC_XW["address"].encode().decode("latin-1")},
        {"address": "南京市玄武区珠江路88号（新世界中心）A座"}, "utf8-read-as-latin1"),
    fld("FLD-MOJIBAKE", "short_name", {"short_name": GARBLED_TWICE},
        {"short_name": "工行玄武支行"}, "garbled-twice"),
    # FLD-ENCODING: bytes the file's encoding could not read, as the reader hands them over
    fld("FLD-ENCODING", "address", {"address": "南京市玄武区\udcff\udcfe珠江路88号"},
        {"address": "南京市玄武区珠江路88号"}, "cut-bytes",
        "南京市玄武区\\xff\\xfe珠江路88号"),
    fld("FLD-ENCODING", "level", {"level": "支\udcb8"}, {"level": "支行"}, "level-cut", "支\\xb8"),
    # FLD-TEXT-LENGTH
    fld("FLD-TEXT-LENGTH", "name", {"name": "中" * 201}, {"name": "中" * 200}, "name-201",
        "201", "200"),
    fld("FLD-TEXT-LENGTH", "address", {"address": "南京市玄武区珠江路88号" * 26},
        {"address": "南京市玄武区珠江路88号" * 25}, "address-312", "312", "300"),
    fld("FLD-TEXT-LENGTH", "short_name", {"short_name": "工" * 101},
        {"short_name": "工" * 100}, "short-name-101", "101", "100"),
    fld("FLD-TEXT-LENGTH", "phone", {"phone": ";".join(["025-84001234"] * 17)},
        {"phone": ";".join(["025-84001234"] * 15)}, "phone-220", "220", "200"),
    # REC-* consistency of the codes within the record
    fld("REC-HEAD-OFFICE-LEGAL", "legal_entity_code", w(HO, legal_entity_code=JS), HO,
        "legal-is-provincial-branch", JS, ICBC_HO),
    fld("REC-BRANCH-LEGAL", "legal_entity_code", w(ICBC_NJ, legal_entity_code=NJ), ICBC_NJ,
        "branch-own-legal", NJ),
    fld("REC-HEAD-OFFICE-PARENT", "parent_code", w(HO, parent_code=JS), w(HO, parent_code=""),
        "head-office-with-parent", JS),
    fld("REC-SELF-PARENT", "parent_code", {"parent_code": XW}, {"parent_code": NJ},
        "own-code", XW),
    # kinds of outlet: a self-service point is a record of level outlet
    fld("FLD-KIND-VALUE", "kind", {"kind": "取款"}, {"kind": "营业网点"}, "unknown-kind"),
    fld("REC-KIND-LEVEL", "level", {"kind": "ATM"}, w(ICBC_ATM), "atm-as-sub-branch",
        "sub_branch", "atm"),
    fld("REC-KIND-LEVEL", "level", {"kind": "self_service", "level": "分行"},
        w(ICBC_SELF), "self-service-as-branch", "branch", "self_service"),
]  # fmt: skip


def _checked(overrides: Row, case: FieldCase, monkeypatch: pytest.MonkeyPatch) -> list[Issue]:
    monkeypatch.setattr(record_checks, "fi_code_check_digit", case.check_digit)
    return check_record(w(ICBC_XW, **overrides), row=ROW).issues


@pytest.mark.parametrize("case", FIELD_CASES, ids=lambda c: c.id)
def test_field_rule_fires(case: FieldCase, monkeypatch: pytest.MonkeyPatch) -> None:
    issues = _checked(case.bad, case, monkeypatch)
    found = [i for i in issues if i.rule_id == case.rule]
    assert len(found) == 1, brief(issues)
    issue = found[0]
    assert issue.severity == SEVERITY[case.rule]
    assert issue.row == ROW
    assert issue.column == case.column
    assert issue.fi_code == (w(ICBC_XW, **case.bad)["fi_code"].upper() or None)
    names_value(issue, *case.shown)
    if issue.value:  # the receipt's value column is what the messages quote
        names_value(issue, issue.value)


@pytest.mark.parametrize("case", FIELD_CASES, ids=lambda c: c.id)
def test_field_rule_passes(case: FieldCase, monkeypatch: pytest.MonkeyPatch) -> None:
    assert brief(_checked(case.good, case, monkeypatch)) == []


def test_the_base_records_are_clean() -> None:
    for row in (HO, ABC, JSB, ICBC_JS, ICBC_NJ, ICBC_WX, ICBC_XW, ICBC_GL, ICBC_ZJL, ICBC_XWM):
        assert brief(check_record(row, row=2).issues) == [], row["fi_code"]


def test_accepted_values_are_normalised() -> None:
    checked = check_record(
        w(
            ICBC_ZJL,
            fi_code=ZJL.lower(),
            level="分理处",
            status="正常",
            established_on="2001/05/06",
            phone="(025)83601234； 13912345678 ;025-83601234-8001",
            licence_no="b0001s332010014",
            uscc="91350100m000100y43",
        )
    )
    assert not checked.issues
    v = checked.values
    assert (v["fi_code"], v["level"], v["status"]) == (ZJL, "outlet", "active")
    assert v["established_on"] == "2001-05-06" and checked.established_on == date(2001, 5, 6)
    assert v["phone"] == "(025)83601234;13912345678;025-83601234-8001"
    assert (v["licence_no"], v["uscc"]) == ("B0001S332010014", "91350100M000100Y43")
    assert v["short_name"] is None and v["revoked_on"] is None


def test_the_date_rules_use_the_day_in_china() -> None:
    assert today_in_china() == datetime.now(ZoneInfo("Asia/Shanghai")).date() == TODAY


@pytest.mark.parametrize(
    ("level", "normal"),
    [
        ("总行", "head_office"), ("总公司", "head_office"), ("分行", "branch"),
        ("分公司", "branch"), ("支行", "sub_branch"), ("中心支公司", "sub_branch"),
        ("网点", "outlet"), ("营业部", "outlet"), ("分理处", "outlet"), ("储蓄所", "outlet"),
        ("OUTLET", "outlet"),
    ],
)  # fmt: skip
def test_level_aliases_of_the_format(level: str, normal: str) -> None:
    row = HO if normal == "head_office" else ICBC_ZJL
    checked = check_record(w(row, level=level))
    assert [i.rule_id for i in checked.issues if i.severity == "error"] == []
    assert checked.values["level"] == normal


# --- the fi_code check digit never rejects a real code -------------------------------------------


def _real_code_rows(code: str) -> list[Row]:
    name, region = REAL_HEAD_OFFICES[code]
    head_office = inst(
        code, name, "总行", "", region, "总部地址", "", legal=code, phone="", postcode=""
    )
    branch = inst(
        code[:6] + "32009990", name + "江苏省分行", "分行", code, "320104", "南京市秦淮区",
        "B0001B232000001", legal=code,
    )  # fmt: skip
    return [head_office, branch]


@pytest.mark.parametrize("code", sorted(REAL_HEAD_OFFICES))
@pytest.mark.parametrize(
    "check_digit",
    [None, luhn_digit, *(lambda _c, d=str(d): d for d in range(10))],
    ids=["unset", "luhn", *(f"always-{d}" for d in range(10))],
)
def test_a_real_code_is_never_rejected(
    code: str, check_digit: Callable[[str], str] | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(record_checks, "fi_code_check_digit", check_digit)
    for row in _real_code_rows(code):
        issues = check_record(row, row=2).issues
        assert [i for i in issues if i.severity == "error"] == [], brief(issues)
        allowed = {"FLD-LICENCE-MISSING"} | ({"FLD-FICODE-CHECK"} if check_digit else set())
        assert {i.rule_id for i in issues} <= allowed


def test_the_check_digit_rule_is_off_by_default() -> None:
    assert record_checks.fi_code_check_digit is None
    wrong = w(ICBC_XW, fi_code=XW[:13] + str((int(XW[13]) + 1) % 10))
    assert brief(check_record(wrong).issues) == []


def test_every_real_head_office_imports(db_session: Session, tmp_path: Path) -> None:
    rows = [_real_code_rows(code)[0] for code in sorted(REAL_HEAD_OFFICES)]
    result = run_import(db_session, tmp_path, rows)
    assert [i for i in result.issues if i.severity == "error"] == []
    assert result.outcome == "accepted"
    assert all(stored(db_session, code) is not None for code in REAL_HEAD_OFFICES)


# --- hostile input ------------------------------------------------------------------------------

_TRICKY = [
    "", " ", "\u3000", "\ufeff", "\u200b", "\ufffd", "锟斤拷", "\x00", "None", "null", "{value}",
    "{0}", "%s", "支行", "撤销", "正常", "总行", "网点", "0", "00000000", "0000-00-00",
    "9999-12-31", "99991231", "0001/01/01", "2001-5-6", "２００１０５０６", "²⁰⁰¹0506",
    "320103", "３２０１０２", "C1010211000012", "c1010211000012", "Ｃ1010211000012",
    "C1010211000012\n", "91350100M000100Y43", "B0001H111000001", "(025)", ";", "；；",
    "025-84001234;;", "1" * 5000, "中" * 400, "\ud800", "a\udcffb", "涓\ufffd鍥",
]  # fmt: skip
_any_text = st.one_of(
    st.text(st.characters(exclude_categories=()), max_size=40),
    st.sampled_from(_TRICKY),
)
_raw_values = st.one_of(st.none(), _any_text)


@settings(max_examples=400, deadline=None)
@given(
    raw=st.fixed_dictionaries(
        {key: _raw_values for key in DATA_COLUMNS}, optional={EXTRA_KEY: _any_text}
    ),
    with_check_digit=st.booleans(),
)
def test_check_record_never_raises(raw: dict[str, str], with_check_digit: bool) -> None:
    digit = luhn_digit if with_check_digit else None
    with mock.patch.object(record_checks, "fi_code_check_digit", digit):
        checked = check_record(raw, row=3)
    for issue in checked.issues:
        assert get(issue.rule_id).severity == issue.severity
        assert issue.row == 3
        assert isinstance(issue.message_zh, str) and isinstance(issue.message_en, str)


@settings(max_examples=400, deadline=None)
@given(
    base=st.sampled_from([HO, ICBC_JS, ICBC_XW, ICBC_ZJL, revoked(ICBC_GL)]),
    changes=st.dictionaries(
        st.sampled_from(DATA_COLUMNS),
        st.one_of(st.sampled_from(_TRICKY), st.text(max_size=20)).filter(
            lambda s: "\x00" not in s  # NUL cannot come out of a CSV or XLSX file
        ),
        max_size=3,
    ),
)
def test_a_record_without_errors_fits_the_table(base: Row, changes: Row) -> None:
    checked = check_record(w(base, **changes))
    if checked.has_errors:
        return
    v = checked.values
    for key in ("fi_code", "legal_entity_code"):
        assert re.fullmatch(r"[A-Z][0-9]{13}", v[key] or ""), v
    assert v["parent_code"] is None or re.fullmatch(r"[A-Z][0-9]{13}", v["parent_code"])
    assert v["level"] in LEVELS and v["status"] in STATUSES
    assert re.fullmatch(r"[0-9]{6}", v["region_code"] or "")
    assert v["postcode"] is None or re.fullmatch(r"[0-9]{6}", v["postcode"])
    assert v["phone"] is None or re.fullmatch(r"[0-9()+;-]+", v["phone"])
    assert v["licence_no"] is None or len(v["licence_no"]) == 15
    assert v["uscc"] is None or len(v["uscc"]) == 18
    assert (v["status"] == "revoked") == (checked.revoked_on is not None)
    assert checked.established_on is not None
    assert date(1900, 1, 1) <= checked.established_on <= today_in_china()


# ================================================================================================
# File, header and row-shape rules: import_registry on a file
# ================================================================================================

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"


def _zip_of_text() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("registry.csv", csv_text(ICBC_JIANGSU))
    return out.getvalue()


def _with_bad_byte() -> bytes:
    """Bytes UTF-8 cannot read in one row: damage in that row (FLD-ENCODING)."""
    data = csv_bytes(ICBC_JIANGSU)
    return data.replace("珠江路".encode(), b"\xff\xfe" + "珠江路".encode())


def _with_bad_bytes() -> bytes:
    """Bytes UTF-8 cannot read in most data rows (3 to 5): a file in another encoding."""
    header, first, *rest = csv_bytes(ICBC_JIANGSU).split(b"\r\n")
    return b"\r\n".join([header, first, *(line.replace(b",", b",\xff\xfe", 1) for line in rest)])


def _garbled(rows: Sequence[Row], index: int, key: str) -> list[Row]:
    out = list(rows)
    out[index] = w(out[index], **{key: out[index][key].encode("utf-8").decode("gbk", "replace")})
    return out


def _garbled_file(rows: Sequence[Row]) -> list[Row]:
    """Every text (non-ASCII) cell of `rows` garbled: the whole file converted wrongly."""
    out = list(rows)
    for index, row in enumerate(rows):
        for key in (k for k, v in row.items() if not v.isascii()):
            out = _garbled(out, index, key)
    return out


ZH_HEADER = {
    "fi_code": "金融机构编码", "name": "机构名称", "short_name": "机构简称",
    "legal_entity_code": "法人机构编码", "parent_code": "上级机构编码", "level": "机构层级",
    "region_code": "行政区划代码", "address": "地址", "postcode": "邮政编码", "phone": "联系电话",
    "licence_no": "金融许可证号", "uscc": "统一社会信用代码", "status": "状态",
    "established_on": "成立日期", "revoked_on": "撤销日期", "kind": "网点类型",
}  # fmt: skip
ZH_COLUMNS = [ZH_HEADER[k] for k in DATA_COLUMNS]


def _header(replace: dict[str, str] | None = None, drop: str = "", add: str = "") -> list[str]:
    names = [(replace or {}).get(k, k) for k in DATA_COLUMNS if k != drop]
    return [*names, add] if add else names


def _keys(drop: str = "", add: str = "") -> list[str]:
    keys = [k for k in DATA_COLUMNS if k != drop]
    return [*keys, add] if add else keys


@dataclass(frozen=True)
class FileCase:
    rule: str
    bad: Callable[[], bytes]
    good: Callable[[], bytes]
    row: int | None
    column: str | None
    shown: tuple[str, ...]
    note: str

    @property
    def id(self) -> str:
        return f"{self.rule}:{self.note}"


GARBLED_HEADER = [h.encode("utf-8").decode("gbk", "replace") for h in ZH_COLUMNS]
REMARK_CELLS = {3: ["备注：2019年迁址", "原址中山路1号"]}

FILE_CASES: list[FileCase] = [
    FileCase("FILE-TYPE", lambda: PNG, lambda: csv_bytes(ICBC_JIANGSU), None, None,
             ("PNG image",), "png"),
    FileCase("FILE-TYPE", lambda: PDF, lambda: xlsx_bytes(ICBC_JIANGSU), None, None,
             ("PDF document",), "pdf"),
    FileCase("FILE-TYPE", _zip_of_text, lambda: xlsx_bytes(ICBC_JIANGSU), None, None,
             ("ZIP archive",), "zip-not-xlsx"),
    FileCase("FILE-EMPTY", lambda: b"", lambda: csv_bytes([HO]), None, None, ("0 bytes",),
             "zero-bytes"),
    FileCase("FILE-EMPTY", lambda: csv_bytes([]), lambda: csv_bytes([HO]), None, None,
             ("no data rows",), "header-only"),
    FileCase("FILE-EMPTY", lambda: b"\r\n\r\n  \r\n", lambda: csv_bytes([HO]), None, None,
             ("no header",), "blank-lines"),
    FileCase("FILE-ENCODING", _with_bad_bytes, lambda: csv_bytes(ICBC_JIANGSU, "gb18030"), 3,
             None, ("b'\\xff'", "UTF-8"), "invalid-utf8"),
    FileCase("FILE-ENCODING", lambda: csv_bytes(ICBC_JIANGSU, "utf-16"),
             lambda: csv_bytes(ICBC_JIANGSU, "utf-8-sig"), 1, None, ("UTF-16",), "utf-16"),
    FileCase("FILE-MOJIBAKE", lambda: csv_bytes(_garbled_file(ICBC_JIANGSU)),
             lambda: csv_bytes(ICBC_JIANGSU), 2, "name",
             (_garbled_file(ICBC_JIANGSU)[0]["name"],), "utf8-read-as-gbk"),
    FileCase("FILE-MOJIBAKE", lambda: csv_bytes(ICBC_JIANGSU, header=GARBLED_HEADER,
                                                keys=DATA_COLUMNS),
             lambda: csv_bytes(ICBC_JIANGSU, header=ZH_COLUMNS, keys=DATA_COLUMNS), 1, None,
             (GARBLED_HEADER[0],), "garbled-chinese-header"),
    FileCase("HDR-MISSING", lambda: csv_bytes(ICBC_JIANGSU, header=_header(drop="level")),
             lambda: csv_bytes(ICBC_JIANGSU, header=_header({"level": "层级"}),
                               keys=DATA_COLUMNS), 1, "level",
             ("level", "机构层级"), "level"),
    FileCase("HDR-MISSING", lambda: csv_bytes(ICBC_JIANGSU, header=_header(drop="fi_code")),
             lambda: csv_bytes(ICBC_JIANGSU, header=_header({"fi_code": "机构编码(必填)"}),
                               keys=DATA_COLUMNS), 1, "fi_code",
             ("fi_code", "金融机构编码"), "fi_code"),
    FileCase("HDR-UNKNOWN", lambda: csv_bytes(ICBC_JIANGSU,
                                              header=_header({"licence_no": "licence number"}),
                                              keys=DATA_COLUMNS),
             lambda: csv_bytes(ICBC_JIANGSU, header=_header({"licence_no": "License_No"}),
                               keys=DATA_COLUMNS), 1, "licence number",
             ("licence number",), "misspelt"),
    FileCase("HDR-UNKNOWN", lambda: csv_bytes(ICBC_JIANGSU, header=_header(add="备注"),
                                              keys=_keys(add="remark")),
             lambda: csv_bytes(ICBC_JIANGSU, header=_header({"phone": "电话 *"}),
                               keys=DATA_COLUMNS), 1, "备注", ("备注",), "remark"),
    FileCase("HDR-DUPLICATE", lambda: csv_bytes(ICBC_JIANGSU, header=_header(add="机构编码"),
                                                keys=_keys(add="fi_code")),
             lambda: csv_bytes(ICBC_JIANGSU, header=_header({"fi_code": "机构编码"}),
                               keys=DATA_COLUMNS), 1, "机构编码", ("机构编码",), "fi_code-twice"),
    FileCase("REC-EXTRA-CELLS", lambda: csv_bytes(ICBC_JIANGSU, extra=REMARK_CELLS),
             lambda: csv_bytes(ICBC_JIANGSU, extra={3: ["", " "]}), 5, None,
             ("备注：2019年迁址,原址中山路1号",), "remark-cells"),
]  # fmt: skip


@pytest.mark.parametrize("case", FILE_CASES, ids=lambda c: c.id)
def test_file_rule_fires(case: FileCase, db_session: Session, tmp_path: Path) -> None:
    result = run_import(db_session, tmp_path, case.bad())
    issue = one_issue(result.issues, case.rule, case.row)
    assert issue.severity == SEVERITY[case.rule]
    assert issue.column == case.column
    names_value(issue, *case.shown)
    if issue.value:
        names_value(issue, issue.value)
    if case.rule.startswith(("FILE-", "HDR-")) and issue.severity == "error":
        assert result.outcome == "rejected" and result.exit_code == 2
        assert stored(db_session, ICBC_HO) is None  # no row of a refused file loads
    else:
        assert result.outcome == "accepted"  # a warning refuses nothing


@pytest.mark.parametrize("case", FILE_CASES, ids=lambda c: c.id)
def test_file_rule_passes(case: FileCase, db_session: Session, tmp_path: Path) -> None:
    result = run_import(db_session, tmp_path, case.good())
    assert brief(result.issues) == []
    assert result.outcome == "accepted"


# ================================================================================================
# Cross-record and load rules: import_registry, sometimes over stored rows
# ================================================================================================


@dataclass(frozen=True)
class CrossCase:
    rule: str
    note: str
    bad: list[Row]
    good: list[Row]
    row: int | None  # of the issue in the bad file (header = 1)
    fi_code: str
    shown: tuple[str, ...]
    stored: list[Row] = field(default_factory=list)  # imported first, for both files
    options: ImportOptions = field(default_factory=ImportOptions)

    @property
    def id(self) -> str:
        return f"{self.rule}:{self.note}"


_COLUMN = {
    "XRC-DUPLICATE": "fi_code", "XRC-PARENT-MISSING": "parent_code",
    "XRC-PARENT-REJECTED": "parent_code", "XRC-HIERARCHY-CYCLE": "parent_code",
    "XRC-LEGAL-MISSING": "legal_entity_code", "XRC-LEGAL-ENTITY": "legal_entity_code",
    "XRC-REVOKED-PARENT": "status", "XRC-LEVEL-ORDER": "level", "XRC-CODE-PREFIX": "fi_code",
    "XRC-KIND-PARENT": "parent_code",
    "LOAD-LEGAL-CHANGED": "legal_entity_code", "LOAD-REACTIVATION": "status",
    "LOAD-REACTIVATED": "status", "LOAD-MISSING": None, "LOAD-ACTIVE-CHILDREN": "status",
}  # fmt: skip
BAD_REGION = {"region_code": "320103"}  # 白下区, retired in 2013

CROSS_CASES: list[CrossCase] = [
    CrossCase("XRC-DUPLICATE", "code-twice", [*ICBC_JIANGSU, w(ICBC_GL, fi_code=XW)],
              [*ICBC_JIANGSU, ICBC_GL], 6, XW, (XW, "5, 6")),
    CrossCase("XRC-PARENT-MISSING", "parent-not-anywhere", [HO, ICBC_JS, ICBC_XW],
              [HO, ICBC_JS, ICBC_XW, ICBC_NJ], 4, XW, (NJ,)),
    CrossCase("XRC-PARENT-MISSING", "parent-not-stored", [ICBC_XW], [ICBC_NJ, ICBC_XW], 2, XW,
              (NJ,), stored=[HO, ICBC_JS]),
    CrossCase("XRC-PARENT-REJECTED", "parent-field-error",
              [HO, ICBC_JS, w(ICBC_NJ, **BAD_REGION), ICBC_XW, ICBC_ZJL],
              [HO, ICBC_JS, ICBC_NJ, ICBC_XW, ICBC_ZJL], 5, XW, (NJ, "4")),
    CrossCase("XRC-PARENT-REJECTED", "grandparent-field-error",
              [HO, ICBC_JS, w(ICBC_NJ, **BAD_REGION), ICBC_XW, ICBC_ZJL],
              [HO, ICBC_JS, ICBC_NJ, ICBC_XW, ICBC_ZJL], 6, ZJL, (XW, "5")),
    CrossCase("XRC-PARENT-REJECTED", "head-office-field-error",
              [w(HO, **BAD_REGION), ICBC_JS, ICBC_NJ], [HO, ICBC_JS, ICBC_NJ], 3, JS,
              (ICBC_HO, "2")),
    CrossCase("XRC-HIERARCHY-CYCLE", "two-rows", [HO, w(ICBC_JS, parent_code=NJ), ICBC_NJ],
              [HO, ICBC_JS, ICBC_NJ], 3, JS, (f"{JS} → {NJ} → {JS}",)),
    CrossCase("XRC-HIERARCHY-CYCLE", "three-rows",
              [HO, w(ICBC_JS, parent_code=WX), w(ICBC_WX, parent_code=NJ), ICBC_NJ],
              [HO, ICBC_JS, ICBC_WX, ICBC_NJ], 4, WX, (f"{WX} → {NJ} → {JS} → {WX}",)),
    CrossCase("XRC-HIERARCHY-CYCLE", "through-a-stored-row", [w(ICBC_JS, parent_code=NJ)],
              [w(ICBC_JS, phone="025-84520000")], 2, JS, (f"{JS} → {NJ} → {JS}",),
              stored=[HO, ICBC_JS, ICBC_NJ]),
    CrossCase("XRC-LEGAL-MISSING", "typo-in-legal",
              [HO, w(ICBC_JS, legal_entity_code="C1010211000021")], [HO, ICBC_JS], 3, JS,
              ("C1010211000021",)),
    CrossCase("XRC-LEGAL-ENTITY", "other-bank-as-legal",
              [HO, ABC, ICBC_JS, w(ICBC_NJ, legal_entity_code=ABC_HO)],
              [HO, ABC, ICBC_JS, ICBC_NJ], 5, NJ, (ABC_HO, ICBC_HO)),
    CrossCase("XRC-LEGAL-ENTITY", "stored-parent", [w(ICBC_NJ, legal_entity_code=ABC_HO)],
              [ICBC_NJ], 2, NJ, (ABC_HO, ICBC_HO), stored=[HO, ABC, ICBC_JS]),
    CrossCase("XRC-REVOKED-PARENT", "in-file", [HO, ICBC_JS, revoked(ICBC_NJ), ICBC_XW],
              [HO, ICBC_JS, revoked(ICBC_NJ), revoked(ICBC_XW)], 5, XW, (NJ,)),
    CrossCase("XRC-REVOKED-PARENT", "stored-parent", [ICBC_XW], [revoked(ICBC_XW)], 2, XW,
              (NJ,), stored=[HO, ICBC_JS, revoked(ICBC_NJ)]),
    CrossCase("XRC-LEVEL-ORDER", "outlet-under-outlet",
              [*ICBC_JIANGSU, ICBC_ZJL, w(ICBC_XWM, parent_code=ZJL)],
              [*ICBC_JIANGSU, ICBC_ZJL, ICBC_XWM], 7, XWM, ("outlet",)),
    CrossCase("XRC-LEVEL-ORDER", "branch-under-sub-branch",
              [*ICBC_JIANGSU, w(ICBC_WX, parent_code=XW)], [*ICBC_JIANGSU, ICBC_WX], 6, WX,
              ("branch", "sub_branch")),
    CrossCase("XRC-LEVEL-ORDER", "sub-branch-under-stored-outlet",
              [w(ICBC_GL, parent_code=ZJL)], [w(ICBC_GL, parent_code=XW)], 2, GL,
              ("sub_branch", "outlet"), stored=[*ICBC_JIANGSU, ICBC_ZJL]),
    CrossCase("XRC-LEVEL-ORDER", "branch-under-an-atm",
              [*ICBC_JIANGSU, ICBC_ATM, w(ICBC_ZJL, parent_code=ATM1)],
              [*ICBC_JIANGSU, ICBC_ATM, ICBC_ZJL], 7, ZJL, ("outlet",)),
    CrossCase("XRC-KIND-PARENT", "atm-under-a-city-branch",
              [*ICBC_JIANGSU, w(ICBC_ATM, parent_code=NJ)], [*ICBC_JIANGSU, ICBC_ATM], 6, ATM1,
              (NJ, "branch/branch")),
    CrossCase("XRC-KIND-PARENT", "atm-under-an-atm",
              [*ICBC_JIANGSU, ICBC_SELF, w(ICBC_ATM, parent_code=ATM2)],
              [*ICBC_JIANGSU, ICBC_ZJL, w(ICBC_ATM, parent_code=ZJL)], 7, ATM1,
              (ATM2, "self_service/outlet")),
    CrossCase("XRC-KIND-PARENT", "under-a-stored-atm", [w(ICBC_SELF, parent_code=ATM1)],
              [ICBC_SELF], 2, ATM2, (ATM1, "atm/outlet"), stored=[*ICBC_JIANGSU, ICBC_ATM]),
    CrossCase("XRC-CODE-PREFIX", "abc-prefix-under-icbc",
              [*ICBC_JIANGSU, w(ICBC_GL, fi_code="C1010332000053")],
              [*ICBC_JIANGSU, ICBC_GL], 6, "C1010332000053", ("C1010332000053", ICBC_HO)),
    CrossCase("LOAD-LEGAL-CHANGED", "moved-to-abc",
              [w(ICBC_NJ, legal_entity_code=ABC_HO, parent_code=ABC_HO)],
              [w(ICBC_NJ, phone="025-84005678")], 2, NJ, (NJ, ICBC_HO),
              stored=[HO, ABC, ICBC_JS, ICBC_NJ]),
    CrossCase("LOAD-REACTIVATION", "revoked-comes-back", [ICBC_XW], [revoked(ICBC_XW)], 2, XW,
              (XW,), stored=[HO, ICBC_JS, ICBC_NJ, revoked(ICBC_XW)]),
    CrossCase("LOAD-REACTIVATED", "explicitly-allowed", [ICBC_XW], [revoked(ICBC_XW)], 2, XW,
              (XW,), stored=[HO, ICBC_JS, ICBC_NJ, revoked(ICBC_XW)],
              options=ImportOptions(allow_reactivation=True)),
    CrossCase("LOAD-ACTIVE-CHILDREN", "revoked-over-a-stored-active-outlet",
              [revoked(ICBC_XW)], [revoked(ICBC_XW), revoked(ICBC_ZJL)], 2, XW, (XW, ZJL),
              stored=[*ICBC_JIANGSU, ICBC_ZJL]),
    CrossCase("LOAD-MISSING", "outlet-absent-from-nanjing-snapshot",
              [ICBC_JS, ICBC_NJ, ICBC_XW], [ICBC_JS, ICBC_NJ, ICBC_XW, ICBC_ZJL], None, ZJL,
              (ZJL, ICBC_ZJL["name"]), stored=[*ICBC_JIANGSU, ICBC_ZJL],
              options=ImportOptions(jurisdiction="3201")),
]  # fmt: skip


def _prepare(case: CrossCase, session: Session, tmp_path: Path) -> None:
    if case.stored:
        first = run_import(session, tmp_path, case.stored)
        assert brief(first.issues) == [] and first.outcome == "accepted"


@pytest.mark.parametrize("case", CROSS_CASES, ids=lambda c: c.id)
def test_cross_rule_fires(case: CrossCase, db_session: Session, tmp_path: Path) -> None:
    _prepare(case, db_session, tmp_path)
    result = run_import(db_session, tmp_path, case.bad, case.options)
    issue = one_issue(result.issues, case.rule, case.row, case.fi_code)
    assert issue.severity == SEVERITY[case.rule]
    assert issue.column == _COLUMN[case.rule]
    names_value(issue, *case.shown)
    if issue.value:
        names_value(issue, issue.value)
    row = stored(db_session, case.fi_code)
    if issue.severity == "error":  # the row is refused: what was stored (if anything) stays
        before = next((r for r in case.stored if r["fi_code"] == case.fi_code), None)
        assert (row is None) == (before is None)
        if row is not None and before is not None:
            assert row["legal_entity_code"] == before["legal_entity_code"]
            assert row["status"] == ("revoked" if before["status"] == "撤销" else "active")
    elif issue.row is not None:
        assert row is not None and row["batch_id"] == result.batch_id  # a warning refuses nothing
    assert_registry_sound(db_session)


@pytest.mark.parametrize("case", CROSS_CASES, ids=lambda c: c.id)
def test_cross_rule_passes(case: CrossCase, db_session: Session, tmp_path: Path) -> None:
    _prepare(case, db_session, tmp_path)
    result = run_import(db_session, tmp_path, case.good, case.options)
    assert brief(result.issues) == []
    assert result.outcome == "accepted"
    assert_registry_sound(db_session)


# --- details of particular rules ----------------------------------------------------------------


def test_a_rejected_parent_takes_its_whole_subtree(db_session: Session, tmp_path: Path) -> None:
    rows = [HO, ICBC_JS, w(ICBC_NJ, **BAD_REGION), ICBC_XW, ICBC_ZJL, ICBC_XWM, ICBC_GL]
    result = run_import(db_session, tmp_path, rows)
    assert one_issue(result.issues, "FLD-REGION-VALUE", 4).value == "320103"
    rejected = {(i.row, i.value) for i in result.issues if i.rule_id == "XRC-PARENT-REJECTED"}
    assert rejected == {(5, NJ), (6, XW), (7, XW), (8, NJ)}
    assert result.outcome == "partial" and result.exit_code == 1
    assert stored(db_session, JS) is not None
    assert all(stored(db_session, c) is None for c in (NJ, XW, ZJL, XWM, GL))
    assert_registry_sound(db_session)


def test_a_parent_rejected_in_the_file_but_stored_keeps_its_children(
    db_session: Session, tmp_path: Path
) -> None:
    run_import(db_session, tmp_path, [HO, ICBC_JS, ICBC_NJ])
    result = run_import(db_session, tmp_path, [w(ICBC_NJ, phone="84001234"), ICBC_XW])
    assert {i.rule_id for i in result.issues} == {"FLD-PHONE-FORMAT"}
    assert stored(db_session, XW) is not None
    assert stored_row(db_session, NJ)["phone"] == "025-84001234"


# A row refused by a rule that looks at its parent, (row, fi_code), and its child (row, fi_code).
REFUSED_WITH_A_CHILD = [
    ([*ICBC_JIANGSU, w(ICBC_WX, parent_code=XW), ICBC_LX], "XRC-LEVEL-ORDER", (6, WX), (7, LX)),
    ([*ICBC_JIANGSU, ABC, w(ICBC_WX, legal_entity_code=ABC_HO), ICBC_LX], "XRC-LEGAL-ENTITY",
     (7, WX), (8, LX)),
    ([HO, revoked(ICBC_JS), ICBC_NJ, revoked(ICBC_XW)], "XRC-REVOKED-PARENT", (4, NJ), (5, XW)),
    ([HO, w(ICBC_JS, parent_code=NJ), ICBC_NJ, ICBC_XW], "XRC-HIERARCHY-CYCLE", (4, NJ),
     (5, XW)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("rows", "rule", "refused", "child"),
    REFUSED_WITH_A_CHILD,
    ids=["level-order", "legal-entity", "revoked-parent", "cycle"],
)
def test_the_children_of_a_row_refused_by_a_hierarchy_rule_are_refused_too(
    rows: list[Row],
    rule: str,
    refused: tuple[int, str],
    child: tuple[int, str],
    db_session: Session,
    tmp_path: Path,
) -> None:
    """A row refused by a rule that looks at its parent takes its children with it: they
    must not load under a parent that is not there."""
    result = run_import(db_session, tmp_path, rows)
    assert one_issue(result.issues, rule, *refused).severity == "error"
    child_rules = {i.rule_id for i in result.issues if i.row == child[0]}
    assert child_rules & {rule, "XRC-PARENT-REJECTED"}, brief(result.issues)
    assert stored(db_session, refused[1]) is None and stored(db_session, child[1]) is None
    assert stored(db_session, ICBC_HO) is not None
    assert_registry_sound(db_session)


def test_a_cycle_rejects_every_row_in_it(db_session: Session, tmp_path: Path) -> None:
    rows = [HO, w(ICBC_JS, parent_code=WX), w(ICBC_WX, parent_code=NJ), ICBC_NJ]
    result = run_import(db_session, tmp_path, rows)
    cycles = {i.row: i.value for i in result.issues if i.rule_id == "XRC-HIERARCHY-CYCLE"}
    assert cycles == {
        3: f"{JS} → {WX} → {NJ} → {JS}",
        4: f"{WX} → {NJ} → {JS} → {WX}",
        5: f"{NJ} → {JS} → {WX} → {NJ}",
    }
    assert stored(db_session, ICBC_HO) is not None
    assert all(stored(db_session, c) is None for c in (JS, WX, NJ))


def test_reactivation_when_allowed_loads_the_row(db_session: Session, tmp_path: Path) -> None:
    run_import(db_session, tmp_path, [HO, ICBC_JS, ICBC_NJ, revoked(ICBC_XW)])
    refused = run_import(db_session, tmp_path, [ICBC_XW])
    assert refused.outcome == "rejected"
    assert stored_row(db_session, XW)["status"] == "revoked"
    allowed = run_import(db_session, tmp_path, [ICBC_XW], ImportOptions(allow_reactivation=True))
    assert [i.rule_id for i in allowed.issues] == ["LOAD-REACTIVATED"]
    assert allowed.outcome == "accepted"
    row = stored(db_session, XW)
    assert row is not None and (row["status"], row["revoked_on"]) == ("active", None)


def test_missing_rows_are_reported_not_deleted(db_session: Session, tmp_path: Path) -> None:
    run_import(db_session, tmp_path, [*ICBC_JIANGSU, ICBC_ZJL, ICBC_WX])
    result = run_import(
        db_session, tmp_path, [ICBC_JS, ICBC_NJ, ICBC_XW], ImportOptions(jurisdiction="3201")
    )
    missing = [i.fi_code for i in result.issues if i.rule_id == "LOAD-MISSING"]
    assert missing == [ZJL]  # not Wuxi (3202), not the head office in Beijing
    assert stored_row(db_session, ZJL)["status"] == "active"
    without = run_import(db_session, tmp_path, [ICBC_JS, ICBC_NJ, ICBC_XW])
    assert "LOAD-MISSING" not in {i.rule_id for i in without.issues}


def test_revoking_a_parent_with_revoke_missing_takes_its_absent_children(
    db_session: Session, tmp_path: Path
) -> None:
    run_import(db_session, tmp_path, [*ICBC_JIANGSU, ICBC_ZJL])
    result = run_import(
        db_session,
        tmp_path,
        [ICBC_JS, ICBC_NJ, revoked(ICBC_XW)],
        ImportOptions(jurisdiction="3201", revoke_missing=True),
    )
    assert "LOAD-ACTIVE-CHILDREN" not in {i.rule_id for i in result.issues}
    assert stored_row(db_session, XW)["status"] == "revoked"
    assert stored_row(db_session, ZJL)["status"] == "revoked"
    assert_registry_sound(db_session)


def test_chinese_headers_and_values(db_session: Session, tmp_path: Path) -> None:
    rows = [HO, ICBC_JS, ICBC_NJ, ICBC_XW, w(ICBC_ZJL, parent_code=GL)]
    data = csv_bytes(rows, header=ZH_COLUMNS, keys=DATA_COLUMNS)
    result = run_import(db_session, tmp_path, data)
    issue = one_issue(result.issues, "XRC-PARENT-MISSING", 6, ZJL)
    assert issue.column == "parent_code"
    names_value(issue, GL)
    assert [i.rule_id for i in result.issues] == ["XRC-PARENT-MISSING"]
    row = stored(db_session, XW)
    assert row is not None
    assert (row["level"], row["status"], row["category"]) == ("sub_branch", "active", "bank")
    assert row["established_on"] == date(2001, 5, 6)


def test_gb18030_with_chinese_headers_loads(db_session: Session, tmp_path: Path) -> None:
    rows = [HO, ICBC_JS, ICBC_NJ, ICBC_XW, ICBC_ZJL]
    data = csv_bytes(rows, "gb18030", header=ZH_COLUMNS, keys=DATA_COLUMNS)
    result = run_import(db_session, tmp_path, data)
    assert brief(result.issues) == [] and result.outcome == "accepted"
    row = stored(db_session, ZJL)
    assert row is not None
    assert (row["name"], row["phone"]) == (ICBC_ZJL["name"], "025-83601234;13912345678")


# ================================================================================================
# The tables cover the registry
# ================================================================================================


def test_every_rule_has_a_case() -> None:
    registry_rules = {r.id for r in all_rules() if not r.id.startswith("PRF-")}
    covered = (
        {c.rule for c in FIELD_CASES} | {c.rule for c in FILE_CASES} | {c.rule for c in CROSS_CASES}
    )
    assert covered == registry_rules
    assert set(SEVERITY) == registry_rules
    assert {r: get(r).severity for r in registry_rules} == SEVERITY


def test_each_table_holds_its_levels() -> None:
    levels = {r.id: r.level for r in all_rules()}
    assert {levels[c.rule] for c in FIELD_CASES} == {"field", "record"}
    assert {levels[c.rule] for c in FILE_CASES} == {"file", "record"}
    assert {levels[c.rule] for c in CROSS_CASES} == {"cross_record", "load"}
