"""The registry sync on the real database: receipts, atomicity, idempotence, input formats, CLI.

Small hand-made registries keep each test readable: one real head office (ICBC), its Jiangsu
and Nanjing branches, two Nanjing sub-branches and an outlet (jurisdiction 3201), and a Wuxi
branch with a sub-branch (3202). Tests that only read their own writes run in the rolled-back
`db_session`; tests of the transaction boundary and of the CLI commit for real on `engine`
and truncate afterwards (`committed`).
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

import registry.batches
import registry.bulk
import registry.importer
from backend.cli import main as cli
from backend.demo.generate import INSTITUTION_COLUMNS as COLUMNS
from backend.demo.generate import generate
from backend.imports import import_registry
from core.database import make_sessionmaker, normalise_url
from registry import regions, rules
from registry.batches import ImportResult
from registry.codes import make_uscc
from registry.importer import ImportOptions
from registry.receipts import RECEIPT_COLUMNS, load_receipt, write_receipt
from registry.record_checks import today_in_china
from registry.rules_doc import render_rules
from tests.conftest import truncate_all

HEAD = "C1010211000012"  # 中国工商银行股份有限公司, a real head-office code (Beijing)
JS = "C1010232000016"  # 江苏省分行
NJ = "C1010232000024"  # 南京分行
XJK = "C1010232000123"  # 南京新街口支行 (玄武区, 3201)
GL = "C1010232000131"  # 南京鼓楼支行 (鼓楼区, 3201)
OUT = "C1010232000140"  # 新街口支行湖南路分理处 (3201), under XJK
WX = "C1010232000032"  # 无锡分行 (3202)
WXS = "C1010232000158"  # 无锡崇安支行 (3202)
TABLES = ("institution", "change_event", "outlet_profile", "import_batch", "import_issue")


def record(
    code: str, name: str, level: str, parent: str, region: str, **changes: str
) -> dict[str, str]:
    """A valid registry row of ICBC; `changes` override columns."""
    kind = {"head_office": "H1", "branch": "B2", "sub_branch": "S3", "outlet": "S3"}[level]
    row = {
        "fi_code": code,
        "name": name,
        "short_name": "",
        "legal_entity_code": HEAD,
        "parent_code": parent,
        "level": level,
        "region_code": region,
        "address": f"{regions.full_name(region)}中山路{int(code[-4:-1])}号",
        "postcode": "210008",
        "phone": "025-84001234",
        "licence_no": f"B0001{kind}{region[:4]}{code[-4:]}",
        "uscc": make_uscc("91", region[:4] + "00", code[6:14]),
        "status": "active",
        "established_on": "2001-05-08",
        "revoked_on": "",
        "kind": "",
    }
    row.update(changes)
    return row


BASE = [
    record(HEAD, "中国工商银行股份有限公司", "head_office", "", "110102", short_name="工行"),
    record(JS, "中国工商银行股份有限公司江苏省分行", "branch", HEAD, "320106"),
    record(NJ, "中国工商银行股份有限公司南京分行", "branch", JS, "320106"),
    record(XJK, "中国工商银行股份有限公司南京新街口支行", "sub_branch", NJ, "320102"),
    record(
        GL, "中国工商银行股份有限公司南京鼓楼支行", "sub_branch", NJ, "320106", phone="13912345678"
    ),
    record(OUT, "中国工商银行股份有限公司南京新街口支行湖南路分理处", "outlet", XJK, "320102"),
    record(WX, "中国工商银行股份有限公司无锡分行", "branch", JS, "320213", phone="0510-82701234"),
    record(
        WXS, "中国工商银行股份有限公司无锡崇安支行", "sub_branch", WX, "320213", postcode="214001"
    ),
]


def changed(rows: list[dict[str, str]], code: str, **changes: str) -> list[dict[str, str]]:
    """`rows` with the row of `code` changed."""
    return [{**r, **changes} if r["fi_code"] == code else r for r in rows]


def without(rows: list[dict[str, str]], *codes: str) -> list[dict[str, str]]:
    return [r for r in rows if r["fi_code"] not in codes]


def write_csv(
    path: Path,
    rows: list[dict[str, str]],
    *,
    encoding: str = "utf-8",
    header: list[str] | None = None,
) -> Path:
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header or COLUMNS)
        writer.writerows([r.get(c, "") for c in COLUMNS] for r in rows)
    return path


def run_import(
    session: Session, path: Path, rows: list[dict[str, str]] | None = None, **options: Any
) -> ImportResult:
    if rows is not None:
        write_csv(path, rows)
    return import_registry(session, path, ImportOptions(**options))


def stored(session: Session) -> dict[str, dict[str, Any]]:
    """What the registry holds, by fi_code, without ids, batches and timestamps."""
    result = session.execute(
        text(f"SELECT {', '.join(COLUMNS)}, category FROM institution ORDER BY fi_code")
    )
    return {r["fi_code"]: dict(r) for r in result.mappings()}


def count(conn: Any, table: str, where: str = "true", **params: Any) -> int:
    return int(conn.execute(text(f"SELECT count(*) FROM {table} WHERE {where}"), params).scalar())


# --- receipts ------------------------------------------------------------------------------------

NEW1, NEW2, NEW3, NEW4, NEW5 = (f"C10102320002{n}{n}" for n in range(1, 6))
OTHER_PREFIX = "C1030232000017"  # an ABC-style code under ICBC's legal entity
CLOSED = "C1010232000166"  # a revoked outlet under 鼓楼支行
CLOSED_ROW = record(
    CLOSED,
    "中国工商银行股份有限公司南京鼓楼支行广州路分理处",
    "outlet",
    GL,
    "320106",
    status="revoked",
    revoked_on="2020-06-30",
)


def test_receipt_of_a_file_with_every_kind_of_issue(db_session: Session, tmp_path: Path) -> None:
    seeded = run_import(db_session, tmp_path / "seed.csv", [*BASE, CLOSED_ROW])
    assert seeded.outcome == "accepted", seeded.issues

    def sub(code: str, name: str, **changes: str) -> dict[str, str]:
        return record(
            code, f"中国工商银行股份有限公司南京{name}支行", "sub_branch", NJ, "320102", **changes
        )

    rows: list[list[str]] = [
        [*COLUMNS, "备注"],  # row 1: an unknown column (file-level warning)
        # rows 2-7: the base without GL and OUT; XJK (row 5) has a field error
        *([*r.values()] for r in changed(without(BASE, GL, OUT), XJK, postcode="21000")),
        [*sub(NEW1, "珠江路", parent_code=NEW1).values()],  # row 8: record error
        [*sub(NEW2, "龙蟠路", parent_code="C1010232099990").values()],  # row 9: cross-record
        [*sub(NEW3, "太平门").values()],  # rows 10-11: duplicate
        [*sub(NEW3, "太平门").values()],
        [*{**CLOSED_ROW, "status": "active", "revoked_on": ""}.values()],  # row 12: load error
        [*sub(NEW4, "玄武门", licence_no="").values()],  # row 13: warning only
        [*sub(NEW5, "北京东路").values(), "", "多出的一格"],  # row 14: extra cell, warning
        [*sub(OTHER_PREFIX, "长江路").values()],  # row 15: code prefix, warning
    ]
    path = tmp_path / "every-kind.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)

    result = import_registry(db_session, path, ImportOptions(jurisdiction="3201"))

    found = sorted(
        (i.rule_id, i.row or 0, i.fi_code or "", i.column or "", i.severity, i.value or "")
        for i in result.issues
    )
    assert found == sorted([
        ("HDR-UNKNOWN", 1, "", "备注", "warning", "备注"),
        ("FLD-POSTCODE-FORMAT", 5, XJK, "postcode", "error", "21000"),
        ("REC-SELF-PARENT", 8, NEW1, "parent_code", "error", NEW1),
        ("XRC-PARENT-MISSING", 9, NEW2, "parent_code", "error", "C1010232099990"),
        ("XRC-DUPLICATE", 10, NEW3, "fi_code", "error", NEW3),
        ("XRC-DUPLICATE", 11, NEW3, "fi_code", "error", NEW3),
        ("LOAD-REACTIVATION", 12, CLOSED, "status", "error", CLOSED),
        ("FLD-LICENCE-MISSING", 13, NEW4, "licence_no", "warning", ""),
        ("REC-EXTRA-CELLS", 14, NEW5, "", "warning", "多出的一格"),
        ("XRC-CODE-PREFIX", 15, OTHER_PREFIX, "fi_code", "warning", OTHER_PREFIX),
        ("LOAD-MISSING", 0, GL, "", "warning", GL),
        ("LOAD-MISSING", 0, OUT, "", "warning", OUT),
    ])  # fmt: skip
    levels = {rules.get(i.rule_id).level for i in result.issues}
    assert levels == {"file", "record", "field", "cross_record", "load"}
    for i in result.issues:
        assert i.value is None or i.value in i.message_zh, i  # messages name the value
        assert i.message_en and i.message_zh != i.message_en

    # The summary adds up: 14 rows, 6 refused, 6 errors, 6 warnings.
    summary = result.summary
    assert result.outcome == "partial" and result.exit_code == 1
    assert (summary["rows_read"], summary["accepted"], summary["rejected"]) == (14, 8, 6)
    assert summary["rejected"] == len({i.row for i in result.issues if i.severity == "error"})
    assert (summary["errors"], summary["warnings"]) == (6, 6)
    assert summary["errors"] + summary["warnings"] == len(result.issues)
    assert summary["by_rule"] == dict(Counter(i.rule_id for i in result.issues))
    assert summary["inserted"] == 3  # NEW4, NEW5 and the other-prefix code
    assert summary["inserted"] + summary["updated"] + summary["unchanged"] == summary["accepted"]
    assert summary["revoked_missing"] == 0  # reported, not revoked
    assert stored(db_session)[GL]["status"] == "active"
    assert NEW1 not in stored(db_session) and stored(db_session)[XJK]["postcode"] == "210008"

    # JSON: per issue the row, fi_code, column, rule id, severity, value and both messages.
    document = result.receipt()
    assert document["batch_id"] == result.batch_id and document["source_name"] == path.name
    assert document["summary"] == summary
    assert all(set(i) == set(RECEIPT_COLUMNS) for i in document["issues"])
    written = write_receipt(tmp_path / "receipt", document)
    assert [p.name for p in written] == ["receipt.json", "receipt.csv"]
    assert json.loads(written[0].read_text(encoding="utf-8")) == document

    # CSV: the same lines, UTF-8 with a BOM so that Excel shows the Chinese.
    assert written[1].read_bytes().startswith(b"\xef\xbb\xbf")
    with written[1].open(encoding="utf-8-sig", newline="") as fh:
        lines = list(csv.DictReader(fh))
    assert list(lines[0]) == list(RECEIPT_COLUMNS)
    assert lines == [
        {c: "" if i[c] is None else str(i[c]) for c in RECEIPT_COLUMNS} for i in document["issues"]
    ]

    # Stored with the batch: the same content comes back later.
    assert load_receipt(db_session, result.batch_id) == json.loads(json.dumps(document))
    assert load_receipt(db_session, 999_999) is None
    batch = db_session.execute(
        text("SELECT kind, status, summary FROM import_batch WHERE id = :id"),
        {"id": result.batch_id},
    ).one()
    assert (batch.kind, batch.status, batch.summary) == ("registry", "partial", summary)


def test_receipt_path_ending_in_json_or_csv_writes_only_that_form(tmp_path: Path) -> None:
    document = {"issues": [rules.issue("FLD-REQUIRED", row=2, column="name").as_dict()]}
    assert write_receipt(tmp_path / "r.json", document) == [tmp_path / "r.json"]
    assert write_receipt(tmp_path / "r.csv", document) == [tmp_path / "r.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.csv", "r.json"]


# --- atomicity: a failure mid-batch leaves no trace ----------------------------------------------


@pytest.fixture
def committed(engine: Engine) -> Iterator[sessionmaker[Session]]:
    """Sessions that really commit; every table is emptied before and after."""
    truncate_all(engine)
    yield make_sessionmaker(engine)
    truncate_all(engine)


def snapshot(database_url: str) -> dict[str, list[str]]:
    """Every row of the registry tables, read over a brand-new connection."""
    fresh = create_engine(normalise_url(database_url), poolclass=NullPool)
    try:
        with fresh.connect() as conn:
            return {
                t: sorted(conn.execute(text(f"SELECT to_jsonb(t)::text FROM {t} t")).scalars())
                for t in TABLES
            }
    finally:
        fresh.dispose()


def seed(sessions: sessionmaker[Session], tmp_path: Path, rows: list[dict[str, str]]) -> None:
    with sessions() as session:
        result = run_import(session, tmp_path / "seed.csv", rows)
        assert result.outcome == "accepted", result.issues
        session.commit()


NEW_OUTLET = record(
    NEW1, "中国工商银行股份有限公司南京新街口支行珠江路分理处", "outlet", XJK, "320102"
)
# An update (XJK's phone), an insert with its new profile, and GL and OUT revoked as missing.
SYNC = [*changed(without(BASE, GL, OUT), XJK, phone="025-84009999"), NEW_OUTLET]
SYNC_OPTIONS = {"revoke_missing": True, "jurisdiction": "3201"}


class Boom(RuntimeError):
    pass


def _fail_new_profiles(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry.importer, "_NEW_PROFILES", "SELECT 1 / 0")


def _fail_finish(monkeypatch: pytest.MonkeyPatch) -> None:
    def finish(*args: Any, **kwargs: Any) -> None:
        raise Boom("the disk is full")

    monkeypatch.setattr(registry.importer, "finish", finish)


def _interrupt_storing_the_receipt(monkeypatch: pytest.MonkeyPatch) -> None:
    def store_issues(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(registry.batches, "store_issues", store_issues)


@pytest.mark.parametrize(
    ("inject", "raised"),
    [
        (_fail_new_profiles, DataError),
        (_fail_finish, Boom),
        (_interrupt_storing_the_receipt, KeyboardInterrupt),
    ],
    ids=["sql-error-after-upsert", "exception-in-finish", "ctrl-c-storing-receipt"],
)
def test_failure_after_rows_were_written_leaves_no_trace(
    inject: Any,
    raised: type[BaseException],
    committed: sessionmaker[Session],
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed(committed, tmp_path, BASE)
    before = snapshot(database_url)
    path = write_csv(tmp_path / "sync.csv", SYNC)
    inject(monkeypatch)
    with pytest.raises(raised), committed() as session:
        import_registry(session, path, ImportOptions(**SYNC_OPTIONS))
        session.commit()
    assert snapshot(database_url) == before

    # Not vacuous: the same import, undisturbed, changes every table.
    monkeypatch.undo()
    with committed() as session:
        result = import_registry(session, path, ImportOptions(**SYNC_OPTIONS))
        session.commit()
    done = {k: result.summary[k] for k in ("inserted", "updated", "revoked_missing")}
    assert done == {"inserted": 1, "updated": 1, "revoked_missing": 2}
    after = snapshot(database_url)
    assert all(after[t] != before[t] for t in TABLES)


def test_ctrl_c_during_copy_leaves_no_trace(
    committed: sessionmaker[Session],
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed(committed, tmp_path, BASE)
    before = snapshot(database_url)
    path = write_csv(tmp_path / "sync.csv", SYNC)
    monkeypatch.setattr(registry.bulk, "CHUNK_ROWS", 2)
    chunks: list[int] = []

    def progress(rows: int) -> None:
        chunks.append(rows)
        if len(chunks) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt), committed() as session:
        import_registry(session, path, ImportOptions(**SYNC_OPTIONS), on_rows=progress)
        session.commit()
    assert chunks == [2, 2]
    assert snapshot(database_url) == before


def cli_run(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_cli_interrupted_after_loading_leaves_no_trace(
    committed: sessionmaker[Session],
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed(committed, tmp_path, BASE)
    before = snapshot(database_url)
    path = write_csv(tmp_path / "sync.csv", SYNC)
    real_revoke = registry.importer._revoke_missing

    def load_then_interrupt(*args: Any) -> int:
        revoked = real_revoke(*args)
        assert revoked >= 1  # rows are upserted and revoked, uncommitted
        raise KeyboardInterrupt

    monkeypatch.setattr(registry.importer, "_revoke_missing", load_then_interrupt)
    result = cli_run(
        "registry",
        "import",
        path,
        "--revoke-missing",
        "--jurisdiction",
        "3201",
        "--no-progress",
        "--database-url",
        database_url,
    )
    assert result.exit_code == 130, result.output
    assert "interrupted: rolled back, nothing was written" in result.output
    assert snapshot(database_url) == before


def test_cli_database_failure_is_not_an_outcome(database_url: str, tmp_path: Path) -> None:
    """A crash must not exit 1 or 2, which mean "some rows" and "file" rejected."""
    gone = database_url.rsplit("/", 1)[0] + "/branchfinder_no_such_database"
    path = write_csv(tmp_path / "ok.csv", BASE)
    result = cli_run("registry", "import", path, "--no-progress", "--database-url", gone)
    assert result.exit_code == 3, result.output
    assert (
        "branchfinder_no_such_database" in result.output and "nothing was written" in result.output
    )
    assert isinstance(result.exception, SystemExit)
    history = cli_run("registry", "history", HEAD, "--database-url", gone)
    assert history.exit_code == 1 and "branchfinder_no_such_database" in history.output
    assert isinstance(history.exception, SystemExit)


def test_cli_receipt_in_a_missing_directory_is_refused_before_importing(
    committed: sessionmaker[Session], database_url: str, tmp_path: Path
) -> None:
    # It used to commit the import and then crash writing the receipt.
    path = write_csv(tmp_path / "ok.csv", BASE)
    receipt = tmp_path / "no-such-dir" / "receipt"
    url = ("--no-progress", "--database-url", database_url)
    result = cli_run("registry", "import", path, "--receipt", receipt, *url)
    assert result.exit_code == 2 and "--receipt" in result.output
    assert counts(database_url)["import_batch"] == 0


# --- idempotent re-import and the change history -------------------------------------------------


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    generate(out, outlets=300, seed=5)
    return out / "institutions.csv"


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def last_batch_summary(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        return dict(
            conn.execute(text("SELECT summary FROM import_batch ORDER BY id DESC LIMIT 1")).scalar()
        )


def stored_rows(conn: Any) -> list[tuple[Any, ...]]:
    return list(conn.execute(text("SELECT * FROM institution ORDER BY id")).all())


def test_reimport_is_a_no_op_and_one_change_is_one_event(
    committed: sessionmaker[Session], engine: Engine, database_url: str, demo_file: Path
) -> None:
    rows = read_rows(demo_file)
    url = ("--no-progress", "--database-url", database_url)
    first = cli_run("registry", "import", demo_file, *url)
    assert first.exit_code == 0, first.output
    assert last_batch_summary(engine)["inserted"] == len(rows)
    with engine.connect() as conn:
        events, registry_rows = count(conn, "change_event"), stored_rows(conn)
    assert events == len(rows)

    again = cli_run("registry", "import", demo_file, *url)
    assert again.exit_code == 0, again.output
    assert f"inserted 0, updated 0, unchanged {len(rows)}" in again.output
    summary = last_batch_summary(engine)
    assert (summary["inserted"], summary["updated"], summary["unchanged"]) == (0, 0, len(rows))
    with engine.connect() as conn:
        assert count(conn, "change_event") == events
        assert count(conn, "import_batch") == 2
        assert stored_rows(conn) == registry_rows

    # One field of one sub-branch changes: one update, one event with just that field.
    target = next(r for r in rows if r["level"] == "sub_branch" and r["status"] == "active")
    code, old_phone, new_phone = target["fi_code"], target["phone"], "025-84009999"
    edited = demo_file.with_name("edited.csv")
    write_csv(edited, changed(rows, code, phone=new_phone))
    third = cli_run("registry", "import", edited, *url)
    assert third.exit_code == 0, third.output
    summary = last_batch_summary(engine)
    assert (summary["inserted"], summary["updated"]) == (0, 1)
    with engine.connect() as conn:
        assert count(conn, "change_event") == events + 1
        event = (
            conn.execute(text("SELECT * FROM change_event ORDER BY id DESC LIMIT 1")).one()._mapping
        )
        batch = conn.execute(text("SELECT max(id) FROM import_batch")).scalar()
    assert event["fi_code"] == code and event["entity"] == "institution"
    assert (event["before"], event["after"]) == ({"phone": old_phone}, {"phone": new_phone})
    assert (event["channel"], event["actor"], event["batch_id"]) == (
        "registry_sync",
        "registry-sync",
        batch,
    )

    history = cli_run("registry", "history", code.lower(), "--database-url", database_url)
    assert history.exit_code == 0, history.output
    lines = history.output.strip().splitlines()
    assert len(lines) == 2  # the insert, then the change
    assert '"before": null' in lines[0] and target["name"] in lines[0]
    assert f'"before": {{"phone": "{old_phone}"}}' in lines[1]
    assert f'"after": {{"phone": "{new_phone}"}}' in lines[1] and "registry_sync" in lines[1]


# --- input formats -------------------------------------------------------------------------------

HEADER_ZH = {
    "fi_code": "金融机构编码",
    "name": "机构名称",
    "short_name": "机构简称",
    "legal_entity_code": "法人机构编码",
    "parent_code": "上级机构编码",
    "level": "机构层级",
    "region_code": "行政区划代码",
    "address": "地址",
    "postcode": "邮政编码",
    "phone": "联系电话",
    "licence_no": "金融许可证号",
    "uscc": "统一社会信用代码",
    "status": "状态",
    "established_on": "成立日期",
    "revoked_on": "撤销日期",
    "kind": "网点类型",
}
LEVELS_ZH = {"head_office": "总行", "branch": "分行", "sub_branch": "支行", "outlet": "分理处"}
STATUS_ZH = {"active": "正常", "revoked": "撤销"}


def write_xlsx(path: Path, rows: list[dict[str, str]]) -> Path:
    """The first sheet holds the data, typed as a person would type it in Excel."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "机构"
    sheet.append(list(COLUMNS))
    for r in rows:
        cells: dict[str, Any] = dict(r)
        for key in ("region_code", "postcode"):
            cells[key] = int(r[key]) if r[key] else None  # digits become numbers
        if r["phone"].isdigit():
            cells["phone"] = int(r["phone"])  # a mobile number typed as a number
        for key in ("established_on", "revoked_on"):
            cells[key] = date.fromisoformat(r[key]) if r[key] else None
        sheet.append([cells[c] or None for c in COLUMNS])
    book.create_sheet("说明").append(["this sheet is not read", "不读取"])
    book.save(path)
    return path


def write_chinese(path: Path, rows: list[dict[str, str]]) -> Path:
    """Chinese headers and values, and the other date spellings."""
    zh = [
        {
            **r,
            "level": LEVELS_ZH[r["level"]],
            "status": STATUS_ZH[r["status"]],
            "established_on": r["established_on"].replace("-", ""),
            "revoked_on": r["revoked_on"].replace("-", "/"),
        }
        for r in rows
    ]
    return write_csv(path, zh, header=[HEADER_ZH[c] for c in COLUMNS], encoding="utf-8-sig")


FORMATS = {
    "gb18030": lambda path, rows: write_csv(path, rows, encoding="gb18030"),
    "utf-8-bom": lambda path, rows: write_csv(path, rows, encoding="utf-8-sig"),
    "xlsx": write_xlsx,
    "chinese-header": write_chinese,
}


@pytest.mark.parametrize("fmt", FORMATS)
def test_other_formats_load_the_same_records_as_utf8(
    fmt: str, db_session: Session, tmp_path: Path
) -> None:
    rows = [*BASE, CLOSED_ROW]
    results, loaded = [], []
    for path in (write_csv(tmp_path / "utf8.csv", rows), FORMATS[fmt](tmp_path / "other", rows)):
        savepoint = db_session.begin_nested()
        results.append(import_registry(db_session, path, ImportOptions()))
        loaded.append(stored(db_session))
        savepoint.rollback()
    if fmt == "gb18030":
        with pytest.raises(UnicodeDecodeError):
            (tmp_path / "other").read_bytes().decode("utf-8")
    utf8, other = results
    assert other.outcome == "accepted", other.issues
    assert other.issues == utf8.issues == []
    assert other.summary["inserted"] == len(rows)
    assert loaded[1] == loaded[0]
    assert loaded[1][GL]["phone"] == "13912345678" and loaded[1][CLOSED]["status"] == "revoked"
    assert loaded[1][XJK]["name"] == "中国工商银行股份有限公司南京新街口支行"


def test_nul_bytes_past_the_sniffed_head_reject_the_file(
    db_session: Session, tmp_path: Path
) -> None:
    # PostgreSQL text cannot hold NUL: this used to crash the COPY instead of being reported.
    many = [
        record(
            f"C101023201{n:04d}", "中国工商银行股份有限公司南京某支行", "sub_branch", NJ, "320102"
        )
        for n in range(100)
    ]
    path = write_csv(tmp_path / "nul.csv", [*BASE, *many])
    data = path.read_bytes()
    assert len(data) > 8192
    path.write_bytes(data[:-40] + b"\x00" + data[-40:])
    result = import_registry(db_session, path, ImportOptions())
    assert result.exit_code == 2
    assert [(i.rule_id, i.row) for i in result.issues] == [("FILE-TYPE", None)]
    assert "NUL" in result.issues[0].message_en
    assert stored(db_session) == {}
    assert load_receipt(db_session, result.batch_id)["issues"][0]["rule_id"] == "FILE-TYPE"


def test_gb18030_reimport_of_a_utf8_load_is_a_no_op(db_session: Session, tmp_path: Path) -> None:
    run_import(db_session, tmp_path / "utf8.csv", BASE)
    again = import_registry(
        db_session, write_csv(tmp_path / "gb.csv", BASE, encoding="gb18030"), ImportOptions()
    )
    assert (again.summary["inserted"], again.summary["updated"]) == (0, 0)


# --- the CLI -------------------------------------------------------------------------------------


def bad_row_file(path: Path) -> Path:
    """The base registry with one row (GL) refused for its postcode."""
    return write_csv(path, changed(BASE, GL, postcode="2100"))


def counts(database_url: str) -> dict[str, int]:
    return {t: len(rows) for t, rows in snapshot(database_url).items()}


def test_cli_validate_writes_nothing_and_exits_0_1_2(
    committed: sessionmaker[Session], database_url: str, tmp_path: Path
) -> None:
    seed(committed, tmp_path, [BASE[0]])
    before = snapshot(database_url)
    url = ("--no-progress", "--database-url", database_url)
    pdf = tmp_path / "registry.csv"
    pdf.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    no_name = tmp_path / "no-name.csv"
    no_name.write_text("fi_code,level\nC1010211000012,head_office\n", encoding="utf-8")

    valid = cli_run("registry", "validate", write_csv(tmp_path / "ok.csv", BASE), *url)
    assert valid.exit_code == 0, valid.output
    assert "all rows accepted (nothing written)" in valid.output
    some = cli_run(
        "registry",
        "validate",
        bad_row_file(tmp_path / "bad.csv"),
        "--receipt",
        tmp_path / "receipt",
        *url,
    )
    assert some.exit_code == 1, some.output
    assert "FLD-POSTCODE-FORMAT" in some.output
    receipt = json.loads((tmp_path / "receipt.json").read_text(encoding="utf-8"))
    assert receipt["batch_id"] is None and receipt["summary"]["rejected"] == 1
    for rejected, rule in ((pdf, "FILE-TYPE"), (no_name, "HDR-MISSING")):
        result = cli_run("registry", "validate", rejected, *url)
        assert result.exit_code == 2, result.output
        assert "file rejected" in result.output and rule in result.output
    assert snapshot(database_url) == before


def test_cli_import_exit_codes_and_receipt(
    committed: sessionmaker[Session], database_url: str, tmp_path: Path
) -> None:
    url = ("--no-progress", "--database-url", database_url)
    pdf = tmp_path / "registry.xlsx"
    pdf.write_bytes(b"%PDF-1.7\n")
    no_name = write_csv(tmp_path / "no-name.csv", BASE, header=["fi_code", "名字", *COLUMNS[2:]])
    bad = bad_row_file(tmp_path / "bad.csv")

    for rejected, args in ((pdf, ()), (no_name, ()), (bad, ("--strict",))):
        result = cli_run("registry", "import", rejected, *args, *url)
        assert result.exit_code == 2, result.output
        assert "file rejected" in result.output
    after_rejections = counts(database_url)
    assert after_rejections["institution"] == after_rejections["change_event"] == 0
    # A refused file is still a batch with its receipt, so the refusal can be looked up.
    assert after_rejections["import_batch"] == 3
    with committed() as session:
        strict_batch = session.execute(text("SELECT max(id) FROM import_batch")).scalar_one()
        receipt = load_receipt(session, strict_batch)
    assert receipt is not None and receipt["summary"]["outcome"] == "rejected"
    assert [i["rule_id"] for i in receipt["issues"]] == ["FLD-POSTCODE-FORMAT"]

    partial = cli_run("registry", "import", bad, "--receipt", tmp_path / "partial", *url)
    assert partial.exit_code == 1, partial.output
    assert "some rows rejected" in partial.output
    assert counts(database_url)["institution"] == len(BASE) - 1
    document = json.loads((tmp_path / "partial.json").read_text(encoding="utf-8"))
    assert document["summary"]["accepted"] == len(BASE) - 1
    with (tmp_path / "partial.csv").open(encoding="utf-8-sig", newline="") as fh:
        assert [r["fi_code"] for r in csv.DictReader(fh)] == [GL]

    accepted = cli_run("registry", "import", write_csv(tmp_path / "ok.csv", BASE), *url)
    assert accepted.exit_code == 0, accepted.output
    assert "inserted 1, updated 0, unchanged 7" in accepted.output
    assert counts(database_url)["institution"] == len(BASE)


def test_cli_revoke_missing_needs_a_jurisdiction(
    committed: sessionmaker[Session], database_url: str, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "ok.csv", BASE)
    url = ("--no-progress", "--database-url", database_url)
    result = cli_run("registry", "import", path, "--revoke-missing", *url)
    assert result.exit_code == 2 and "--jurisdiction" in result.output
    for command in ("import", "validate"):
        result = cli_run("registry", command, path, "--jurisdiction", "32x", *url)
        assert result.exit_code == 2 and "--jurisdiction" in result.output
    assert counts(database_url)["import_batch"] == 0


def test_import_options_refuse_a_jurisdiction_that_is_no_region_prefix() -> None:
    # A LIKE prefix of "" or "%" would revoke every record the file lacks, nationwide.
    for prefix in ("", "%", "3", "32%", "3201020", "３２"):
        with pytest.raises(ValueError, match="jurisdiction"):
            ImportOptions(jurisdiction=prefix)
    with pytest.raises(ValueError, match="jurisdiction"):
        ImportOptions(revoke_missing=True)
    assert ImportOptions(revoke_missing=True, jurisdiction="320102").jurisdiction == "320102"


def institution(session: Session, code: str) -> Any:
    return session.execute(text("SELECT * FROM institution WHERE fi_code = :c"), {"c": code}).one()


def test_cli_revoke_missing_revokes_only_the_jurisdiction(
    committed: sessionmaker[Session], database_url: str, tmp_path: Path
) -> None:
    seed(committed, tmp_path, BASE)
    # A snapshot of Nanjing (3201) without the outlet; Wuxi (3202) and Beijing rows absent too.
    nanjing = [r for r in BASE if r["region_code"].startswith("3201") and r["fi_code"] != OUT]
    path = write_csv(tmp_path / "nanjing.csv", nanjing)
    result = cli_run(
        "registry",
        "import",
        path,
        "--jurisdiction",
        "3201",
        "--revoke-missing",
        "--no-progress",
        "--database-url",
        database_url,
    )
    assert result.exit_code == 0, result.output
    assert "revoked as missing 1" in result.output
    with committed() as session:
        out = institution(session, OUT)
        assert (out.status, out.revoked_on) == ("revoked", today_in_china())
        event = session.execute(
            text(
                "SELECT before, after, channel, batch_id FROM change_event "
                "WHERE fi_code = :c ORDER BY id DESC LIMIT 1"
            ),
            {"c": OUT},
        ).one()
        assert event.before == {"status": "active", "revoked_on": None}
        assert event.after == {"status": "revoked", "revoked_on": today_in_china().isoformat()}
        assert event.channel == "registry_sync" and event.batch_id == out.batch_id
        statuses = dict(session.execute(text("SELECT fi_code, status FROM institution")).all())
        assert statuses == {**{r["fi_code"]: "active" for r in BASE}, OUT: "revoked"}
        assert count(session, "change_event", "batch_id = :b", b=out.batch_id) == 1


def test_cli_jurisdiction_alone_reports_missing_rows(
    committed: sessionmaker[Session], database_url: str, tmp_path: Path
) -> None:
    seed(committed, tmp_path, BASE)
    path = write_csv(tmp_path / "nanjing.csv", without(BASE, OUT, GL))
    result = cli_run(
        "registry",
        "import",
        path,
        "--jurisdiction",
        "3201",
        "--receipt",
        tmp_path / "r.json",
        "--no-progress",
        "--database-url",
        database_url,
    )
    assert result.exit_code == 0, result.output
    issues = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["issues"]
    assert sorted((i["rule_id"], i["fi_code"], i["severity"]) for i in issues) == [
        ("LOAD-MISSING", GL, "warning"),
        ("LOAD-MISSING", OUT, "warning"),
    ]
    assert (
        "中国工商银行股份有限公司南京鼓楼支行" in issues[0]["message_zh"] + issues[1]["message_zh"]
    )
    with committed() as session:
        assert institution(session, OUT).status == institution(session, GL).status == "active"
        assert count(session, "change_event") == len(BASE)


def test_cli_rules_lists_every_rule() -> None:
    result = cli_run("registry", "rules")
    assert result.exit_code == 0, result.output
    for rule in rules.all_rules():
        assert rule.id in result.output
    as_json = cli_run("registry", "rules", "--format", "json")
    assert {r["id"] for r in json.loads(as_json.stdout)} == {r.id for r in rules.all_rules()}
    # What `... --format markdown > docs/rules.md` writes is what the docs test compares with
    # (it used to add a second newline at the end).
    markdown = cli_run("registry", "rules", "--format", "markdown")
    assert markdown.stdout == render_rules("markdown")


def test_cli_history_of_an_unknown_code_fails_cleanly(database_url: str) -> None:
    result = cli_run("registry", "history", "C9999999999999", "--database-url", database_url)
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # a message, not a traceback
    assert "no history for C9999999999999" in result.output
    assert "Traceback" not in result.output


# --- outlets: profiles for new ones, revocation ---------------------------------------------------


def profiles(session: Session) -> dict[str, Any]:
    rows = session.execute(
        text(
            "SELECT i.fi_code, p.* FROM outlet_profile p "
            "JOIN institution i ON i.id = p.institution_id"
        )
    )
    return {r.fi_code: r for r in rows}


def test_new_active_outlets_get_an_empty_profile_revoked_ones_do_not(
    db_session: Session, tmp_path: Path
) -> None:
    result = run_import(db_session, tmp_path / "seed.csv", [*BASE, CLOSED_ROW])
    assert result.outcome == "accepted", result.issues
    got = profiles(db_session)
    assert set(got) == {XJK, GL, OUT, WXS}  # sub-branches and outlets, not CLOSED or branches
    for p in got.values():  # nothing known yet: position, business types, photo to upload
        assert p.position is None and p.business_types == [] and p.provenance == {}
        assert p.opening_hours is None and p.service_links == []

    new = run_import(db_session, tmp_path / "sync.csv", [*BASE, CLOSED_ROW, NEW_OUTLET])
    assert (new.summary["inserted"], new.summary["unchanged"]) == (1, len(BASE) + 1)
    assert set(profiles(db_session)) == {XJK, GL, OUT, WXS, NEW1}


def test_a_sync_that_revokes_an_outlet(db_session: Session, tmp_path: Path) -> None:
    run_import(db_session, tmp_path / "seed.csv", BASE)
    revoked = changed(BASE, OUT, status="撤销", revoked_on="2024-01-31")
    result = run_import(db_session, tmp_path / "sync.csv", revoked)
    assert (result.summary["updated"], result.summary["inserted"]) == (1, 0)
    out = institution(db_session, OUT)
    assert (out.status, out.revoked_on) == ("revoked", date(2024, 1, 31))
    assert out.batch_id == result.batch_id
    event = db_session.execute(
        text("SELECT before, after FROM change_event WHERE batch_id = :b"), {"b": result.batch_id}
    ).one()
    assert event.before == {"status": "active", "revoked_on": None}
    assert event.after == {"status": "revoked", "revoked_on": "2024-01-31"}
    # Coming back needs an explicit re-activation.
    back = run_import(db_session, tmp_path / "back.csv", BASE)
    assert back.exit_code == 1 and [i.rule_id for i in back.issues] == ["LOAD-REACTIVATION"]
    assert institution(db_session, OUT).status == "revoked"
    again = run_import(db_session, tmp_path / "back.csv", BASE, allow_reactivation=True)
    assert again.exit_code == 0 and [i.rule_id for i in again.issues] == ["LOAD-REACTIVATED"]
    assert institution(db_session, OUT).status == "active"


def test_text_that_looks_like_a_copy_null_marker_stays_text(
    db_session: Session, tmp_path: Path
) -> None:
    rows = changed(BASE, XJK, short_name="\\N", address="江苏省南京市玄武区\\N路1号")
    result = run_import(db_session, tmp_path / "nulls.csv", rows)
    assert result.outcome == "accepted", result.issues
    xjk = stored(db_session)[XJK]
    assert xjk["short_name"] == "\\N"
    assert xjk["address"] == "江苏省南京市玄武区\\N路1号"


# --- the quick pass for a re-sent file ----------------------------------------------------------


def _no_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make record checking fail loudly, to prove a run did not need it."""

    def refuse(*_: Any, **__: Any) -> Any:
        raise AssertionError("record checks ran")

    monkeypatch.setattr(registry.importer, "check_record", refuse)


def test_a_resent_file_skips_validation_and_writes_nothing(
    db_session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "sync.csv"
    first = run_import(db_session, path, BASE)
    assert first.outcome == "accepted" and first.summary["inserted"] == len(BASE)
    events = count(db_session.connection(), "change_event")
    _no_checks(monkeypatch)
    again = run_import(db_session, path)
    assert again.outcome == "accepted"
    assert (again.summary["unchanged"], again.summary["inserted"], again.summary["updated"]) == (
        len(BASE),
        0,
        0,
    )
    assert count(db_session.connection(), "change_event") == events
    # a snapshot still reports what it lacks
    short = run_import(db_session, tmp_path / "short.csv", without(BASE, OUT), jurisdiction="3201")
    assert [i.fi_code for i in short.issues if i.rule_id == "LOAD-MISSING"] == [OUT]


def test_a_change_by_another_route_voids_the_quick_pass(
    db_session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "sync.csv"
    run_import(db_session, path, BASE)
    db_session.execute(
        text("UPDATE institution SET phone = '025-80000000' WHERE fi_code = :c"), {"c": GL}
    )
    fingerprint = db_session.execute(
        text("SELECT source_fingerprint FROM institution WHERE fi_code = :c"), {"c": GL}
    ).scalar()
    assert fingerprint is None  # the trigger voided it
    again = run_import(db_session, path)
    assert again.summary["updated"] == 1  # the file's phone is restored, with its event
    assert stored(db_session)[GL]["phone"] == "13912345678"
    _no_checks(monkeypatch)
    assert run_import(db_session, path).summary["unchanged"] == len(BASE)


def test_changed_or_duplicated_rows_take_the_full_checks(
    db_session: Session, tmp_path: Path
) -> None:
    run_import(db_session, tmp_path / "a.csv", BASE)
    changed_file = run_import(db_session, tmp_path / "b.csv", changed(BASE, WXS, phone="bad"))
    assert [i.rule_id for i in changed_file.issues] == ["FLD-PHONE-FORMAT"]
    twice = run_import(db_session, tmp_path / "c.csv", [*BASE, BASE[3]])
    assert {i.rule_id for i in twice.issues} == {"XRC-DUPLICATE"}
    assert twice.outcome == "partial"


def test_rows_with_warnings_are_always_checked_again(db_session: Session, tmp_path: Path) -> None:
    rows = changed(BASE, XJK, licence_no="")  # a bank without licence: a warning
    first = run_import(db_session, tmp_path / "w.csv", rows)
    assert [i.rule_id for i in first.issues] == ["FLD-LICENCE-MISSING"]
    again = run_import(db_session, tmp_path / "w.csv")
    assert [i.rule_id for i in again.issues] == ["FLD-LICENCE-MISSING"]
