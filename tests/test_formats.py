"""Tests for reading submitted files (registry/formats.py); no database needed."""

from __future__ import annotations

import contextlib
import csv
import io
import zipfile
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from backend.demo.catalog import CITY_NAMES, LEGAL_ENTITIES, PLACES, ROADS
from registry.formats import (
    EXTRA_KEY,
    RULE_IDS,
    ColumnSpec,
    FileProblem,
    OpenedFile,
    looks_like_mojibake,
    mojibake_repair,
    normalise_header,
    open_submission,
    unreadable,
)

SPEC = (
    ColumnSpec("fi_code", ("fi_code", "金融机构编码", "机构编码"), required=True),
    ColumnSpec("name", ("name", "机构名称"), required=True),
    ColumnSpec("phone", ("phone", "联系电话"), required=False),
    ColumnSpec("established_on", ("established_on", "成立日期"), required=False),
)
KEYS = ("fi_code", "name", "phone", "established_on")
REAL_OUTLETS = Path("/work/shared/data/real/nanjing_amap_bank_outlets_2018.csv")

ICBC = "中国工商银行股份有限公司南京新街口支行"
BOC = "中国银行股份有限公司南京分行"


def write(tmp_path: Path, name: str, data: bytes | str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode(encoding))
    return path


def opened(tmp_path: Path, data: bytes | str, name: str = "in.csv", **kw: str) -> OpenedFile:
    return open_submission(write(tmp_path, name, data, **kw), SPEC)


def rules(problems: list[FileProblem]) -> list[str]:
    return [p.rule_id for p in problems]


def test_rule_ids_are_the_documented_ones() -> None:
    assert set(RULE_IDS) == {
        "FILE-TYPE", "FILE-EMPTY", "FILE-ENCODING", "FILE-MOJIBAKE",
        "HDR-MISSING", "HDR-UNKNOWN", "HDR-DUPLICATE",
    }  # fmt: skip


# --- encodings ------------------------------------------------------------------------------------


def test_utf8_csv_rows_numbers_and_keys(tmp_path: Path) -> None:
    f = opened(tmp_path, f"fi_code,name\nC1021232000011, {ICBC} \nC1041232000018,{BOC}\n")
    assert (f.kind, f.encoding, f.problems) == ("csv", "utf-8", [])
    assert f.columns == ["fi_code", "name"]
    rows = list(f.rows())
    assert rows == [
        (2, {"fi_code": "C1021232000011", "name": ICBC, "phone": "", "established_on": ""}),
        (3, {"fi_code": "C1041232000018", "name": BOC, "phone": "", "established_on": ""}),
    ]
    assert f.data_rows_seen == 2
    assert list(f.rows()) == rows  # each pass reads the file again


def test_utf8_with_bom(tmp_path: Path) -> None:
    f = opened(tmp_path, "\ufeff金融机构编码,机构名称\nC1021232000011,中国工商银行\n")
    assert (f.encoding, f.problems, f.columns) == ("utf-8-sig", [], ["fi_code", "name"])
    assert [r["name"] for _, r in f.rows()] == ["中国工商银行"]


def test_gb18030(tmp_path: Path) -> None:
    text = "金融机构编码,机构名称,联系电话\r\nC1021232000011,刘䶮的银行（南京）,025-84001234\r\n"
    f = opened(tmp_path, text, encoding="gb18030")  # 䶮 needs GB18030's four-byte form
    assert (f.encoding, f.problems) == ("gb18030", [])
    assert list(f.rows()) == [
        (2, {"fi_code": "C1021232000011", "name": "刘䶮的银行（南京）", "phone": "025-84001234",
             "established_on": ""}),
    ]  # fmt: skip


def test_bytes_neither_utf8_nor_gb18030(tmp_path: Path) -> None:
    f = opened(tmp_path, b"fi_code,name\nC1,\xff\xfe\xfa\n")
    assert rules(f.problems) == ["FILE-ENCODING"]
    (p,) = f.problems
    assert p.severity == "error" and p.row == 2
    assert p.value is not None and p.value.startswith("byte 16:")
    assert list(f.rows()) == []


def test_damaged_utf8_is_reported_as_utf8_not_read_as_gb18030(tmp_path: Path) -> None:
    good = "".join(f"C10212320000{i:02d},{ICBC}\n" for i in range(50)).encode()
    cut = b"C1,\xe4\xb8\n"  # a cut character: valid GB18030 bytes
    data = b"fi_code,name\n" + good + cut * 51  # most data lines damaged: the whole file
    f = opened(tmp_path, data)
    (p,) = f.problems
    assert p.rule_id == "FILE-ENCODING" and p.row == 52
    assert p.value == f"byte {data.index(cut) + 3}: " + repr(b"\xe4\xb8")
    assert p.detail is not None and "invalid UTF-8" in p.detail
    # One damaged line is damage in that row, read as UTF-8, for the record checks.
    f = opened(tmp_path, b"fi_code,name\n" + good + cut)
    assert (f.problems, f.encoding, f.damaged) == ([], "utf-8", True)
    rows = dict(f.rows())
    assert rows[52]["name"] == "\udce4\udcb8" and unreadable(rows[52]["name"]) == "\\xe4\\xb8"
    assert rows[51]["name"] == ICBC and unreadable(ICBC) is None


def test_damaged_gb18030_is_reported_as_gb18030(tmp_path: Path) -> None:
    data = "金融机构编码,机构名称\n".encode("gb18030") + "C1,南京分行".encode("gb18030") + b"\x80\n"
    f = opened(tmp_path, data)
    (p,) = f.problems
    assert p.rule_id == "FILE-ENCODING" and p.row == 2
    assert p.detail is not None and "invalid GB18030" in p.detail
    assert p.value == f"byte {len(data) - 2}: b'\\x80'"


def test_utf16_is_an_encoding_problem(tmp_path: Path) -> None:
    f = opened(tmp_path, "fi_code,name\n".encode("utf-16"))
    assert rules(f.problems) == ["FILE-ENCODING"]
    assert f.problems[0].value == "UTF-16 text: save as UTF-8 CSV"


# --- mojibake -------------------------------------------------------------------------------------

ORIGINALS = [
    ICBC,
    "中国工商银行",
    "江苏省南京市鼓楼区中山北路123号（近湖南路）",
    "南京银行",
    "苏州",
]
LOSSLESS: dict[str, Callable[[str], str]] = {
    "utf8-as-gb18030": lambda s: s.encode().decode("gb18030"),
    "utf8-as-latin1": lambda s: s.encode().decode("latin-1"),
    "gbk-as-latin1": lambda s: s.encode("gb18030").decode("latin-1"),
    "utf8-as-latin1-twice": lambda s: s.encode().decode("latin-1").encode().decode("latin-1"),
}
LOSSY: dict[
    str, Callable[[str], str]
] = {  # bytes lost on the way: flagged, repaired only in part (or not at all)
    "utf8-as-cp1252": lambda s: s.encode().decode("cp1252", "replace"),
    "utf8-as-gbk-with-?": lambda s: s.encode().decode("gbk", "replace").replace("\ufffd", "?"),
    "utf8-as-gbk-dropped": lambda s: "".join(
        c
        for c in s.encode().decode("gb18030", "replace")
        if c != "\ufffd" and not "\ue000" <= c <= "\uf8ff"
    ),
}


def _lossless_cases() -> list[tuple[str, str]]:
    cases = []
    for garble in LOSSLESS.values():
        for original in ORIGINALS:
            with contextlib.suppress(UnicodeDecodeError):  # no clean misreading of these bytes
                cases.append((garble(original), original))
    return cases


@pytest.mark.parametrize(("text", "original"), _lossless_cases())
def test_mojibake_flagged_and_repaired(text: str, original: str) -> None:
    assert looks_like_mojibake(text) == (True, original)
    assert mojibake_repair(text) == original


@pytest.mark.parametrize("original", ORIGINALS[:3])
@pytest.mark.parametrize("garble", LOSSY.values(), ids=LOSSY.keys())
def test_lossy_mojibake_flagged(original: str, garble: Callable[[str], str]) -> None:
    text = garble(original)
    garbled, repaired = looks_like_mojibake(text)
    assert garbled, text
    if repaired is not None:  # mostly right: a lost byte can shift a character or two
        chars = [c for c in repaired if "\u4e00" <= c <= "\u9fff"]
        assert sum(c in original for c in chars) >= 0.7 * len(chars) > 0


def test_mojibake_examples() -> None:
    assert looks_like_mojibake("ä¸­å›½") == (True, "中国")
    assert mojibake_repair("ÖÐ¹úÒøÐÐ") == "中国银行"
    assert looks_like_mojibake("涓浗宸ュ晢閾惰")[0]  # lossy: two bytes were dropped
    assert "工商银" in (mojibake_repair("涓浗宸ュ晢閾惰") or "")
    assert looks_like_mojibake("中国\ufffd\ufffd银行") == (True, None)
    assert looks_like_mojibake("锟斤拷") == (True, None)  # U+FFFD itself, misread as GBK
    lossy = "中国建设银行南京分行".encode().decode("gbk", "replace").replace("\ufffd", "?")
    assert looks_like_mojibake(lossy)[0]


def realistic_strings() -> set[str]:
    strings = {e.name for e in LEGAL_ENTITIES} | {s for e in LEGAL_ENTITIES for s in e.short_names}
    for e in LEGAL_ENTITIES:
        for pref in e.prefectures:
            for place in PLACES[pref][:6]:
                strings.add(e.outlet_name(city=CITY_NAMES[pref], district=place[:2], place=place))
    roads = list(ROADS.values() if isinstance(ROADS, dict) else ROADS)
    flat = [r for group in roads for r in ([group] if isinstance(group, str) else group)]
    for i, road in enumerate(flat):
        strings |= {f"{road}{i + 1}号", f"江苏省南京市{road}{i}-{i % 7 + 1}号（近{flat[i - 1]}）"}
        strings |= {f"{road}１２３号Ａ座，３楼", f"《{road}》·“营业部”—南区、北区；{i}室"}
    strings |= {"中国银行股份有限公司Nanjing Branch", "Café Müller", "Société Générale", "°C"}
    strings |= {"邳州", "睢宁", "溧水", "盱眙", "濠河", "瀛洲路", "楠溪", "联通", "ＡＢＣ银行"}
    if REAL_OUTLETS.exists():  # read in place, never copied into the repository
        with REAL_OUTLETS.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                strings |= {row["name"], row["address"]}
    return strings - {""}


def test_realistic_text_is_not_mojibake() -> None:
    strings = realistic_strings()
    assert len(strings) > 300
    flagged = sorted(s for s in strings if looks_like_mojibake(s)[0])
    assert flagged == []
    assert mojibake_repair(ICBC) is None


def test_file_level_mojibake_sample(tmp_path: Path) -> None:
    garbled = "南京银行".encode().decode("gb18030")
    text = f"金融机构编码,机构名称\nC1,{ICBC}\nC2,{garbled}\nC3,{BOC}\nC4,{garbled}\n"
    f = opened(tmp_path, text + f"C5,{garbled}\n")  # most text cells garbled: the whole file
    (p,) = f.problems
    assert (p.rule_id, p.severity, p.row, p.column, p.value) == (
        "FILE-MOJIBAKE", "error", 3, "机构名称", garbled
    )  # fmt: skip
    assert p.detail is not None and "'南京银行'" in p.detail and "rows 3, 5, 6 " in p.detail
    assert len(list(f.rows())) == 5  # still readable: the caller reports each value


def test_mojibake_in_some_cells_is_left_to_the_record_checks(tmp_path: Path) -> None:
    garbled = "南京银行".encode().decode("gb18030")
    text = f"金融机构编码,机构名称\nC1,{ICBC}\nC2,{garbled}\nC3,{BOC}\nC4,{garbled}\n"
    f = opened(tmp_path, text)  # half of the text cells: not most
    assert f.problems == []
    assert [r["name"] for _, r in f.rows()] == [ICBC, garbled, BOC, garbled]


def test_garbled_header_is_reported_as_mojibake(tmp_path: Path) -> None:
    header = "金融机构编码,机构名称".encode().decode("gb18030")
    f = opened(tmp_path, f"{header}\nC1,甲\n")
    assert sorted(rules(f.problems)) == [
        "FILE-MOJIBAKE", "HDR-MISSING", "HDR-MISSING", "HDR-UNKNOWN", "HDR-UNKNOWN"
    ]  # fmt: skip
    (p,) = (p for p in f.problems if p.rule_id == "FILE-MOJIBAKE")
    assert (p.row, p.column) == (1, None)
    assert p.detail is not None and "'金融机构编码'" in p.detail


# --- XLSX -----------------------------------------------------------------------------------------


def make_xlsx(path: Path, rows: list[list[object]]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def test_xlsx_numbers_dates_and_row_numbers(tmp_path: Path) -> None:
    path = make_xlsx(
        tmp_path / "upload.bin",  # detected by content, whatever the name
        [
            ["金融机构编码", "机构名称", "联系电话", "成立日期"],
            ["C1021232000011", ICBC, 2584001234, date(2001, 5, 6)],
            [],
            [32010000000017, "数字编码", 2584001234.0, datetime(1998, 12, 31)],
            [1.0210000000017e13, "浮点编码", 3.5, "2001/05/06", "多余", None, "x"],
        ],
    )
    f = open_submission(path, SPEC)
    assert (f.kind, f.encoding, f.problems) == ("xlsx", None, [])
    rows = list(f.rows())
    assert [n for n, _ in rows] == [2, 4, 5]
    assert rows[0][1] == {
        "fi_code": "C1021232000011", "name": ICBC, "phone": "2584001234",
        "established_on": "2001-05-06",
    }  # fmt: skip
    assert rows[1][1]["fi_code"] == "32010000000017"
    assert (rows[1][1]["phone"], rows[1][1]["established_on"]) == ("2584001234", "1998-12-31")
    assert rows[2][1]["fi_code"] == "10210000000017"
    assert rows[2][1]["phone"] == "3.5"
    assert rows[2][1][EXTRA_KEY] == "多余,,x"


def test_xlsx_header_problems_and_empty(tmp_path: Path) -> None:
    f = open_submission(make_xlsx(tmp_path / "a.xlsx", [["机构编码", "备注"]]), SPEC)
    assert sorted(rules(f.problems)) == ["FILE-EMPTY", "HDR-MISSING", "HDR-UNKNOWN"]
    f = open_submission(make_xlsx(tmp_path / "b.xlsx", []), SPEC)
    assert [(p.rule_id, p.value) for p in f.problems] == [("FILE-EMPTY", "no header")]


def test_damaged_xlsx_is_a_problem_not_an_exception(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", "<broken")
        zf.writestr("xl/workbook.xml", "<broken")
    f = opened(tmp_path, buf.getvalue(), name="x.xlsx")
    assert f.kind == "xlsx" and rules(f.problems) == ["FILE-TYPE"]
    assert list(f.rows()) == []


# --- file types -----------------------------------------------------------------------------------


def zip_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("institutions.csv", "fi_code,name\n")
    return buf.getvalue()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600),
            "Excel 97-2003 .xls: save as .xlsx or CSV",
        ),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "PDF document"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PNG image"),
        (zip_bytes(), "ZIP archive, not an XLSX workbook"),
        (b"fi_code,name\n\x00\x01\x02\x03", "binary data (NUL bytes), not CSV text"),
    ],
)
def test_not_csv_or_xlsx(tmp_path: Path, data: bytes, expected: str) -> None:
    f = opened(tmp_path, data, name="institutions.csv")  # the name does not matter
    assert [(p.rule_id, p.severity, p.value) for p in f.problems] == [
        ("FILE-TYPE", "error", expected)
    ]
    assert list(f.rows()) == []


@pytest.mark.parametrize(
    ("data", "value"),
    [(b"", "0 bytes"), (b"\n\r\n  \n,,\n", "no header"), (b"\xef\xbb\xbf", "no header")],
)
def test_empty_files(tmp_path: Path, data: bytes, value: str) -> None:
    f = opened(tmp_path, data)
    assert [(p.rule_id, p.value) for p in f.problems] == [("FILE-EMPTY", value)]
    assert list(f.rows()) == []


def test_header_only(tmp_path: Path) -> None:
    f = opened(tmp_path, "fi_code,name\n\n,\n")
    assert [(p.rule_id, p.value) for p in f.problems] == [("FILE-EMPTY", "no data rows")]
    assert list(f.rows()) == [] and f.data_rows_seen == 0


# --- headers --------------------------------------------------------------------------------------


def test_header_names_are_normalised() -> None:
    assert normalise_header("\ufeff 金融机构编码（必填）\u3000") == "金融机构编码"
    assert normalise_header("ＦＩ_ＣＯＤＥ *") == "fi_code"
    assert normalise_header("Name\n(必填)") == "name"


def test_header_variants_accepted(tmp_path: Path) -> None:
    f = opened(
        tmp_path, " 机构编码(必填) ,机构名称*,\u3000联系电话\u3000,ESTABLISHED_ON\nC1,甲,1,2\n"
    )
    assert (f.problems, f.columns) == ([], list(KEYS))


def test_unknown_missing_and_duplicate_headers(tmp_path: Path) -> None:
    f = opened(tmp_path, "金融机构编码,备注,fi_code,Remarks,,电话号码\nC1,x,C9,y,z,w\n")
    assert [(p.rule_id, p.severity, p.column, p.value, p.row) for p in f.problems] == [
        ("HDR-UNKNOWN", "warning", "备注", "备注", 1),
        ("HDR-DUPLICATE", "error", "fi_code", "fi_code", 1),
        ("HDR-UNKNOWN", "warning", "Remarks", "Remarks", 1),
        ("HDR-UNKNOWN", "warning", None, "", 1),
        ("HDR-UNKNOWN", "warning", "电话号码", "电话号码", 1),
        ("HDR-MISSING", "error", "name", "name / 机构名称", 1),
    ]
    assert f.columns == ["fi_code", None, None, None, None, None]
    assert list(f.rows()) == [(2, {"fi_code": "C1", "name": "", "phone": "", "established_on": ""})]


def test_every_missing_required_column_is_reported(tmp_path: Path) -> None:
    f = opened(tmp_path, "联系电话\n025-1\n")
    assert [(p.rule_id, p.column, p.value) for p in f.problems] == [
        ("HDR-MISSING", "fi_code", "fi_code / 金融机构编码 / 机构编码"),
        ("HDR-MISSING", "name", "name / 机构名称"),
    ]


# --- CSV shape ------------------------------------------------------------------------------------


def test_blank_rows_skipped_with_physical_row_numbers(tmp_path: Path) -> None:
    f = opened(tmp_path, "\nfi_code,name\nC1,甲\n\n , \nC2,乙\n,,,\nC3,丙")
    assert (f.problems, f.header_row) == ([], 2)
    assert [(n, r["fi_code"]) for n, r in f.rows()] == [(3, "C1"), (6, "C2"), (8, "C3")]


def test_embedded_newline_row_numbers(tmp_path: Path) -> None:
    text = 'fi_code,name,phone\r\nC1,"甲\r\n分行",1\r\nC2,乙,"2;\n3"\r\nC3,丙,4\r\n'
    f = opened(tmp_path, text)
    assert [(n, r["name"], r["phone"]) for n, r in f.rows()] == [
        (2, "甲\r\n分行", "1"),
        (4, "乙", "2;\n3"),
        (6, "丙", "4"),
    ]


@pytest.mark.parametrize("sep", [";", "\t"])
def test_semicolon_and_tab_separated(tmp_path: Path, sep: str) -> None:
    f = opened(tmp_path, f"fi_code{sep}name{sep}phone\nC1{sep}中国银行{sep}025-1,025-2\n")
    assert (f.delimiter, f.problems) == (sep, [])
    assert [r for _, r in f.rows()] == [
        {"fi_code": "C1", "name": "中国银行", "phone": "025-1,025-2", "established_on": ""}
    ]


def test_short_and_long_rows(tmp_path: Path) -> None:
    f = opened(tmp_path, "fi_code,name,phone\nC1\nC2,乙,3,x,,y,,\nC3,丙,4,,\n")
    rows = [r for _, r in f.rows()]
    assert rows[0] == {"fi_code": "C1", "name": "", "phone": "", "established_on": ""}
    assert rows[1][EXTRA_KEY] == "x,,y"
    assert EXTRA_KEY not in rows[2]


def test_unreadable_csv_body_is_reported_after_rows(tmp_path: Path) -> None:
    body = "".join(f"C{i},甲\n" for i in range(300))  # more than the opening sample
    f = opened(tmp_path, "fi_code,name\n" + body + 'C300,"' + "x" * 200_000 + '"\n')
    assert f.problems == []
    assert len(list(f.rows())) == 300
    assert rules(f.problems) == ["FILE-TYPE"]
    assert f.problems[0].value == (
        "unreadable after 300 data rows: CSV from line 302: field larger than field limit (131072)"
    )


def test_oversized_field_in_the_sample_is_found_when_opening(tmp_path: Path) -> None:
    f = opened(tmp_path, 'fi_code,name\nC1,"' + "x" * 200_000 + '"\n')
    assert rules(f.problems) == ["FILE-TYPE"] and list(f.rows()) == []


def test_a_damaged_header_behind_a_blank_looking_line_is_a_file_problem(tmp_path: Path) -> None:
    """The byte scan takes the line of empty quotes for the header; the CSV reader skips it."""
    rows = "".join(f"C10212320000{i:02d},{ICBC}\n" for i in range(10))
    f = opened(tmp_path, b'"",""\n' + b"fi_code,na\xffme\n" + rows.encode())
    assert [(p.rule_id, p.row, p.value) for p in f.problems] == [("FILE-ENCODING", 2, "na\\xffme")]
    assert list(f.rows()) == []
