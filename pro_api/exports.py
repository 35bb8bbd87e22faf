"""CSV and XLSX export of the professional app's lists: one way for every list.

Every list endpoint has an `/export` sibling that takes the same filters (no
paging) plus `?format=csv|xlsx` and answers a file. Offices pass these files on
by e-mail and open them in Excel or WPS, hence:

- CSV is UTF-8 *with* a byte-order mark: without it Excel in a Chinese locale
  reads the file as GBK and every name turns to mojibake.
- A cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return would
  be run as a formula by a spreadsheet ("CSV injection"); names and comments
  come from the public, so such text gets a leading apostrophe in both formats,
  and XLSX cells are written as strings, never as formulas.
- An export is capped (`EXPORT_LIMIT` rows): asking for more is a 422 that says
  to narrow the filter, rather than a worker building a file without end.

Usage in a view:

    @blp.route("/institutions/export")
    class InstitutionsExport(MethodView):
        @blp.arguments(InstitutionExportArgs, location="query")   # (..., ExportArgs)
        @blp.doc(**export_doc("机构列表 / institutions"))
        def get(self, args):
            rows = (...dicts...)
            return export_response("institutions", COLUMNS, rows, args["format"])
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import marshmallow as ma
from flask import Response
from flask_smorest import abort
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

EXPORT_LIMIT = 100_000
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("csv", "xlsx")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class ExportArgs(ma.Schema):
    """Query arguments of every export; subclass it (or mix it in) to add the list's filters."""

    format = ma.fields.String(
        load_default="csv",
        validate=ma.validate.OneOf(FORMATS),
        metadata={"description": "csv (UTF-8 with BOM, for Excel/WPS) or xlsx"},
    )


@dataclass(frozen=True)
class Column:
    """One column of an export: the row key and the header shown (Chinese / English)."""

    key: str
    header: str


def export_doc(what: str) -> dict[str, Any]:
    """OpenAPI text for an export view: `@blp.doc(**export_doc("机构 / institutions"))`."""
    return {
        "responses": {
            "200": {
                "description": f"{what}: CSV or XLSX file (at most {EXPORT_LIMIT:,} rows)",
                "content": {
                    "text/csv": {"schema": {"type": "string"}},
                    XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}},
                },
            },
            "422": {
                "description": f"a bad filter or format, or more than {EXPORT_LIMIT:,} rows",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            },
        }
    }


def export_response(
    name: str,
    columns: Sequence[Column],
    rows: Iterable[Mapping[str, Any]],
    fmt: str,
    *,
    limit: int = EXPORT_LIMIT,
) -> Response:
    """The rows as a downloadable file named `<name>-<today>.<fmt>`, or 422 when too many."""
    table = _capped(rows, limit)
    if fmt == "xlsx":
        body, mimetype = _xlsx(columns, table, sheet=name), XLSX_TYPE
    else:
        body, mimetype = _csv(columns, table), CSV_TYPE
    filename = f"{name}-{date.today():%Y%m%d}.{fmt}"
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{filename}\"; filename*=UTF-8''{quote(filename)}"
    )
    response.headers["Cache-Control"] = "no-store"  # jurisdiction data: never in a shared cache
    return response


def _capped(rows: Iterable[Mapping[str, Any]], limit: int) -> list[Mapping[str, Any]]:
    table: list[Mapping[str, Any]] = []
    for row in rows:
        if len(table) == limit:
            abort(
                422,
                message=f"导出超过 {limit} 行，请缩小筛选范围 / "
                f"more than {limit} rows: narrow the filter",
                errors={"query": {"format": [f"more than {limit} rows to export"]}},
            )
        table.append(row)
    return table


def cell_text(value: Any) -> str | int | float:
    """A value as a spreadsheet cell: numbers stay numbers, text is defused."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int | float):
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        value = "；".join(str(cell_text(v)) for v in value)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _csv(columns: Sequence[Column], rows: list[Mapping[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.header for c in columns])
    for row in rows:
        writer.writerow([cell_text(row.get(c.key)) for c in columns])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _xlsx(columns: Sequence[Column], rows: list[Mapping[str, Any]], *, sheet: str) -> bytes:
    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(title=sheet[:31])
    worksheet.append([c.header for c in columns])
    for row in rows:
        cells = []
        for column in columns:
            value = cell_text(row.get(column.key))
            cell = WriteOnlyCell(worksheet, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # never a formula, whatever the text starts with
            cells.append(cell)
        worksheet.append(cells)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
