"""The export files of the professional app open in a spreadsheet and cannot run formulas."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from flask import Flask
from openpyxl import load_workbook
from werkzeug.exceptions import HTTPException

from pro_api.exports import Column, cell_text, export_response

COLUMNS = [
    Column("fi_code", "金融机构编码 / fi_code"),
    Column("name", "名称 / name"),
    Column("share", "占比 / share"),
    Column("since", "日期 / since"),
]
ROWS = [
    {
        "fi_code": "B0001H132010001",
        "name": "中国工商银行南京新街口支行",
        "share": 0.5,
        "since": date(2026, 12, 1),
    },
    {"fi_code": "B0002H132010002", "name": '=HYPERLINK("http://x")', "share": 1, "since": None},
    {"fi_code": "B0003H132010003", "name": "@SUM(A1)", "share": None, "since": None},
]


def test_csv_has_a_bom_headers_and_defused_formulas() -> None:
    response = export_response("institutions", COLUMNS, ROWS, "csv")
    body = response.get_data()
    assert body.startswith("\ufeff".encode())
    assert response.mimetype == "text/csv"
    assert 'filename="institutions-' in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == [c.header for c in COLUMNS]
    assert rows[1] == ["B0001H132010001", "中国工商银行南京新街口支行", "0.5", "2026-12-01"]
    assert rows[2][1] == '\'=HYPERLINK("http://x")'
    assert rows[3][1] == "'@SUM(A1)"
    assert len(rows) == 4


def test_xlsx_opens_and_keeps_text_as_text() -> None:
    response = export_response("quality", COLUMNS, ROWS, "xlsx")
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0] == [c.header for c in COLUMNS]
    assert values[1][:3] == ["B0001H132010001", "中国工商银行南京新街口支行", 0.5]
    assert values[2][1] == '\'=HYPERLINK("http://x")'
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_too_many_rows_is_a_422_naming_the_limit() -> None:
    app = Flask(__name__)
    with app.test_request_context(), pytest.raises(HTTPException) as refused:
        export_response("institutions", COLUMNS, ROWS * 2, "csv", limit=5)
    assert refused.value.code == 422
    assert "5" in refused.value.data["message"]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("value", "cell"),
    [(None, ""), (True, "是"), (3, 3), (["a", "b"], "a；b"), ("-1+2", "'-1+2"), ("正常", "正常")],
)
def test_cell_text(value: object, cell: object) -> None:
    assert cell_text(value) == cell
