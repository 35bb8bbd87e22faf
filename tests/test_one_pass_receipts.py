"""One receipt lists every defect of a file: a defect confined to some cells refuses those rows.

Garbled text (mojibake) or bytes the encoding cannot read in a few cells used to refuse the whole
file with that single error, hiding every other defect until the sender fixed it and sent the file
again. Now only a file garbled or undecodable as a whole is refused at file level; otherwise each
such cell is an error on its row and column, and every other row is checked as usual. On the real
database, through `import_registry`, `branchfinder registry validate` and `import_profiles`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from backend.imports import import_profiles, import_registry
from profiles.profile_import import ProfileImportOptions
from registry.batches import ImportResult
from registry.importer import ImportOptions
from registry.receipts import load_receipt
from tests.test_profile_import import XUANWU, at, load_registry, profile, write_profiles
from tests.test_registry_import import BASE, COLUMNS, HEAD, NJ, XJK, cli_run, record, write_csv

Row = dict[str, str]
Found = set[tuple[int | None, str | None, str]]


def code(n: int) -> str:
    """A valid fi_code of an ICBC sub-branch in Jiangsu, 1 <= n <= 99."""
    return f"C10102320003{n:02d}"


def sub_branch(n: int, **changes: str) -> Row:
    """A valid sub-branch of the Nanjing branch: the 40 rows of the file beyond BASE."""
    name = f"中国工商银行股份有限公司南京第{n}支行"
    return record(code(n), name, "sub_branch", NJ, "320102", **changes)


def gbk_read_as_latin1(text_: str) -> str:
    """What a name pasted from a GBK file read as Latin-1 looks like: ÖÐ¹ú¹¤ÉÌÒøÐÐ..."""
    return text_.encode("gbk").decode("latin-1")


GARBLED_NAME = gbk_read_as_latin1("中国工商银行股份有限公司南京第1支行")
assert GARBLED_NAME.startswith("ÖÐ¹ú¹¤ÉÌÒøÐÐ")

# Row n of the file (header = 1) is BASE[n - 2] for n <= 9, then sub_branch(n - 9) up to row 49.
# Each entry: the changes seeded into that row, and the (column, rule) issues they must raise.
SEEDED: dict[int, tuple[dict[str, str], set[tuple[str | None, str]]]] = {
    10: ({"name": GARBLED_NAME}, {("name", "FLD-MOJIBAKE")}),  # the one garbled cell
    11: ({"fi_code": "C101023200031"}, {("fi_code", "FLD-FICODE-FORMAT")}),
    12: ({"parent_code": "C1O10232000024"}, {("parent_code", "FLD-FICODE-FORMAT")}),
    13: ({"level": "自助银行"}, {("level", "FLD-LEVEL-VALUE")}),
    14: ({"region_code": "320103"}, {("region_code", "FLD-REGION-VALUE")}),
    15: ({"postcode": "21000"}, {("postcode", "FLD-POSTCODE-FORMAT")}),
    16: ({"phone": "84001234"}, {("phone", "FLD-PHONE-FORMAT")}),
    17: ({"licence_no": "B0001X332010012"}, {("licence_no", "FLD-LICENCE-FORMAT")}),
    18: ({"uscc": "91320100000000000X"}, {("uscc", "FLD-USCC-CHECK")}),
    19: ({"status": "closed"}, {("status", "FLD-STATUS-VALUE")}),
    20: ({"established_on": "2001-13-45"}, {("established_on", "FLD-DATE-FORMAT")}),
    21: ({"established_on": "1899-12-31"}, {("established_on", "FLD-DATE-RANGE")}),
    22: ({"established_on": "2999-01-01"}, {("established_on", "FLD-DATE-RANGE")}),
    23: ({"revoked_on": "2015-06-30"}, {("revoked_on", "FLD-REVOKED-ON")}),
    24: ({"name": ""}, {("name", "FLD-REQUIRED")}),
    25: ({"address": ""}, {("address", "FLD-REQUIRED")}),
    26: ({"address": "南京市玄武区珠江路" * 34}, {("address", "FLD-TEXT-LENGTH")}),
    27: ({"legal_entity_code": code(18)}, {("legal_entity_code", "REC-BRANCH-LEGAL")}),
    28: ({"parent_code": code(19)}, {("parent_code", "REC-SELF-PARENT")}),
    29: ({"fi_code": code(21)}, {("fi_code", "XRC-DUPLICATE")}),  # the same code as row 30
    30: ({}, {("fi_code", "XRC-DUPLICATE")}),
    31: ({"parent_code": "C1010232099990"}, {("parent_code", "XRC-PARENT-MISSING")}),
    32: ({"level": "branch", "parent_code": XJK}, {("level", "XRC-LEVEL-ORDER")}),
    33: ({"parent_code": code(4)}, {("parent_code", "XRC-PARENT-REJECTED")}),  # row 13's
    34: ({"parent_code": code(26)}, {("parent_code", "XRC-HIERARCHY-CYCLE")}),  # 34 <-> 35
    35: ({"parent_code": code(25)}, {("parent_code", "XRC-HIERARCHY-CYCLE")}),
    36: ({"licence_no": ""}, {("licence_no", "FLD-LICENCE-MISSING")}),  # a warning: loads
    37: ({"name": "中" * 201}, {("name", "FLD-TEXT-LENGTH")}),
    38: ({"legal_entity_code": "C1010311000014"}, {("legal_entity_code", "XRC-LEGAL-MISSING")}),
}
WARNING_ROWS = {36}


def seeded_rows(seeded: dict[int, tuple[dict[str, str], Any]] = SEEDED) -> list[Row]:
    rows = [*BASE, *(sub_branch(n) for n in range(1, 41))]
    assert len(rows) == 48
    return [{**row, **seeded.get(i + 2, ({}, None))[0]} for i, row in enumerate(rows)]


def expected_issues(seeded: dict[int, tuple[dict[str, str], Any]] = SEEDED) -> Found:
    return {(row, column, rule) for row, (_, found) in seeded.items() for column, rule in found}


def found(result: ImportResult) -> Found:
    return {(i.row, i.column, i.rule_id) for i in result.issues}


def stored_codes(session: Session) -> set[str]:
    return set(session.execute(text("SELECT fi_code FROM institution")).scalars())


def test_one_garbled_cell_and_28_other_defects_in_one_receipt(
    db_session: Session, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "registry.csv", seeded_rows())
    result = import_registry(db_session, path, ImportOptions())

    assert found(result) == expected_issues()
    assert len(expected_issues()) == 29  # the garbled cell and 28 other defects
    (garbled,) = (i for i in result.issues if i.rule_id == "FLD-MOJIBAKE")
    assert (garbled.fi_code, garbled.value) == (code(1), GARBLED_NAME)
    assert "中国工商银行股份有限公司南京第1支行" in garbled.message_zh  # the likely repair
    assert "中国工商银行股份有限公司南京第1支行" in garbled.message_en

    refused = set(SEEDED) - WARNING_ROWS
    assert result.outcome == "partial" and result.exit_code == 1
    summary = result.summary
    assert (summary["rows_read"], summary["accepted"]) == (48, 48 - len(refused))
    assert summary["rejected"] == len({i.row for i in result.issues if i.severity == "error"})
    rows = seeded_rows()
    assert stored_codes(db_session) == {
        rows[n - 2]["fi_code"] for n in range(2, 50) if n not in refused
    }
    receipt = load_receipt(db_session, result.batch_id)
    assert receipt is not None
    assert {(i["row"], i["column"], i["rule_id"]) for i in receipt["issues"]} == found(result)


def test_cli_validate_lists_every_defect_and_exits_1(database_url: str, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "registry.csv", seeded_rows())
    result = cli_run(
        "registry", "validate", path, "--receipt", tmp_path / "receipt", "--no-progress",
        "--database-url", database_url,
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    receipt = json.loads((tmp_path / "receipt.json").read_text(encoding="utf-8"))
    assert receipt["batch_id"] is None  # validated, nothing written
    assert {(i["row"], i["column"], i["rule_id"]) for i in receipt["issues"]} == expected_issues()


def garbled_everywhere(rows: list[Row]) -> list[Row]:
    """The whole file pasted from a GBK file read as Latin-1: every non-ASCII cell."""
    return [{k: v if v.isascii() else gbk_read_as_latin1(v) for k, v in r.items()} for r in rows]


def test_a_wholly_garbled_file_is_still_refused_at_file_level(
    db_session: Session, database_url: str, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "garbled.csv", garbled_everywhere(seeded_rows({})))
    result = import_registry(db_session, path, ImportOptions())
    assert found(result) == {(2, "name", "FILE-MOJIBAKE")}
    (issue,) = result.issues
    assert issue.value == gbk_read_as_latin1(BASE[0]["name"])
    assert f"'{BASE[0]['name']}'" in issue.message_zh  # the likely repair
    assert f"'{BASE[0]['name']}'" in issue.message_en
    assert result.outcome == "rejected" and result.exit_code == 2
    assert stored_codes(db_session) == set()
    cli = cli_run("registry", "validate", path, "--no-progress", "--database-url", database_url)
    assert cli.exit_code == 2 and "FILE-MOJIBAKE" in cli.output, cli.output


def test_a_garbled_header_is_refused_at_file_level(db_session: Session, tmp_path: Path) -> None:
    header = [gbk_read_as_latin1(name) for name in ("金融机构编码", "机构名称")] + list(COLUMNS[2:])
    path = write_csv(tmp_path / "header.csv", seeded_rows({}), header=header)
    result = import_registry(db_session, path, ImportOptions())
    assert (1, None, "FILE-MOJIBAKE") in found(result)
    assert result.exit_code == 2 and stored_codes(db_session) == set()


# --- bytes the encoding cannot read --------------------------------------------------------------


def damaged(data: bytes, rows: dict[int, bytes]) -> bytes:
    """`data` (CSV, "\\r\\n" lines) with `rows[n]` put before the first comma of line n."""
    lines = data.split(b"\r\n")
    for n, bad in rows.items():
        lines[n - 1] = lines[n - 1].replace(b",", b"," + bad, 1)
    return b"\r\n".join(lines)


def test_undecodable_bytes_in_a_few_rows_refuse_those_rows(
    db_session: Session, tmp_path: Path
) -> None:
    for encoding in ("utf-8", "gb18030"):
        clean = write_csv(tmp_path / f"{encoding}.csv", seeded_rows(), encoding=encoding)
        # Neither \xff nor a lone \x80 is UTF-8 or GB18030.
        path = tmp_path / f"{encoding}-damaged.csv"
        path.write_bytes(damaged(clean.read_bytes(), {40: b"\xff", 45: b"\x80"}))
        result = import_registry(db_session, path, ImportOptions(dry_run=True))
        where = {(40, "name", "FLD-ENCODING"), (45, "name", "FLD-ENCODING")}
        assert found(result) == expected_issues() | where, encoding
        shown = {i.row: i.value for i in result.issues if i.rule_id == "FLD-ENCODING"}
        name_40, name_45 = (seeded_rows()[n - 2]["name"] for n in (40, 45))
        assert shown == {40: "\\xff" + name_40, 45: "\\x80" + name_45}
        assert result.exit_code == 1
        assert result.summary["accepted"] == 48 - len(set(SEEDED) - WARNING_ROWS) - 2


def test_a_damaged_resend_of_a_stored_file_is_checked_row_by_row(
    db_session: Session, tmp_path: Path
) -> None:
    """The quick pass for unchanged re-sends fingerprints each row as spelled: it must not
    meet unreadable bytes (they cannot be encoded), and such a row was never stored anyway."""
    clean = write_csv(tmp_path / "clean.csv", seeded_rows({}))
    assert import_registry(db_session, clean, ImportOptions()).outcome == "accepted"
    path = tmp_path / "damaged.csv"
    path.write_bytes(damaged(clean.read_bytes(), {40: b"\xff"}))
    again = import_registry(db_session, path, ImportOptions())
    assert found(again) == {(40, "name", "FLD-ENCODING")}
    assert again.exit_code == 1
    assert (again.summary["unchanged"], again.summary["updated"]) == (47, 0)


def test_undecodable_bytes_in_most_rows_refuse_the_file(
    db_session: Session, tmp_path: Path
) -> None:
    clean = write_csv(tmp_path / "clean.csv", seeded_rows({}))
    path = tmp_path / "damaged.csv"
    path.write_bytes(damaged(clean.read_bytes(), {n: b"\xff" for n in range(3, 30)}))
    result = import_registry(db_session, path, ImportOptions())
    assert found(result) == {(3, None, "FILE-ENCODING")}
    assert "UTF-8" in result.issues[0].message_en
    assert result.exit_code == 2 and stored_codes(db_session) == set()


def test_an_undecodable_header_refuses_the_file(db_session: Session, tmp_path: Path) -> None:
    clean = write_csv(tmp_path / "clean.csv", seeded_rows({}))
    path = tmp_path / "damaged.csv"
    path.write_bytes(damaged(clean.read_bytes(), {1: b"\xff"}))
    result = import_registry(db_session, path, ImportOptions())
    assert found(result) == {(1, None, "FILE-ENCODING")}
    assert result.exit_code == 2


# --- the profile import -------------------------------------------------------------------------


def test_profile_file_with_a_garbled_and_an_undecodable_cell(
    db_session: Session, tmp_path: Path
) -> None:
    load_registry(db_session, tmp_path)
    rows = [profile(r["fi_code"], business_types="现金存取款;个人开户") for r in BASE]
    rows[1]["business_types"] = gbk_read_as_latin1("现金存取款;外币兑换")  # row 3
    rows[2].update(at(XUANWU), latitude="north")  # row 4
    rows[4]["fi_code"] = HEAD[:13]  # row 6: no such institution
    path = write_profiles(tmp_path / "profiles.csv", rows)
    lines = path.read_bytes().split(b"\r\n")
    lines[4] = lines[4].replace("个人开户".encode(), b"\xff")  # row 5: a byte UTF-8 cannot read
    path.write_bytes(b"\r\n".join(lines))

    result = import_profiles(db_session, path, ProfileImportOptions())
    assert found(result) == {
        (3, "business_types", "FLD-MOJIBAKE"),
        (4, "latitude", "PRF-NUMBER"),
        (5, "business_types", "FLD-ENCODING"),
        (6, "fi_code", "PRF-FICODE-UNKNOWN"),
    }
    by_rule = {i.rule_id: i for i in result.issues}
    assert "现金存取款;外币兑换" in by_rule["FLD-MOJIBAKE"].message_zh
    assert by_rule["FLD-ENCODING"].value == "现金存取款;\\xff"
    assert result.outcome == "partial" and result.exit_code == 1
    assert result.summary["accepted"] == len(rows) - 4


def test_a_wholly_garbled_profile_file_is_refused(db_session: Session, tmp_path: Path) -> None:
    load_registry(db_session, tmp_path)
    rows = [profile(r["fi_code"], business_types=gbk_read_as_latin1("现金存取款")) for r in BASE]
    result = import_profiles(
        db_session, write_profiles(tmp_path / "p.csv", rows), ProfileImportOptions()
    )
    assert found(result) == {(2, "business_types", "FILE-MOJIBAKE")}
    assert "'现金存取款'" in result.issues[0].message_zh
    assert result.exit_code == 2
