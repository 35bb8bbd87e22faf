"""Data-quality reports of the professional app (数据质量), each with a CSV/XLSX export.

Thin views over `reports.quality`: the caller's jurisdiction, narrowed by the
`region` / `legal_entity` filters (`report_filters.report_scope`), goes into
every query; the figures are computed in SQL. Who reads what:

- coverage, ranking, not updated, inaccurate: every role, over its own
  jurisdiction (an institution's accounts see only their legal entity);
- repeated verified errors (candidates for a public notice): PBoC
  administrators and auditors only.

Per-group tables and rankings are computed whole and served in pages by
position; the lists of outlets are keyset pages by institution id. Reports
run in the request's transaction (`db_session`), not the autocommit reader,
because `reports.quality.prepare_report` sets JIT and work_mem for the
transaction only.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from accounts.jurisdiction import Scope
from core.coords import CoordSystem, convert
from feedback.submissions import REPORT_KIND_LABELS
from pro_api.exports import EXPORT_LIMIT, Column, export_doc
from pro_api.quality_schemas import (
    CoverageArgs,
    CoverageExportArgs,
    CoveragePageSchema,
    InaccurateArgs,
    InaccurateExportArgs,
    InaccuratePageSchema,
    MapArgs,
    MapSchema,
    NotUpdatedArgs,
    NotUpdatedExportArgs,
    NotUpdatedPageSchema,
    RankingArgs,
    RankingExportArgs,
    RankingPageSchema,
    RepeatedErrorsArgs,
    RepeatedErrorsExportArgs,
    RepeatedErrorsPageSchema,
    coverage_view,
)
from pro_api.report_filters import (
    FORBIDDEN_ROLE,
    SUPERVISORS,
    audited_export,
    id_page,
    local_day_end,
    local_day_start,
    ranked_page,
    report_doc,
    report_scope,
)
from reports import quality
from reports.quality import MEASURE_LABELS, MEASURES, SCORE_WEIGHTS, Coverage
from web.extensions import db_session

blp = Blueprint(
    "pro_quality",
    __name__,
    description="专业版：数据质量（完整率、未更新、信息不准确、排名）/ Professional app: data "
    "quality of the outlets in your jurisdiction",
)


@lru_cache(maxsize=4096)
def _region_name(code: str) -> str | None:
    return quality.region_name(code)


def area_of(scope: Scope) -> Coverage:
    """An empty coverage row naming the whole area, for the totals."""
    name = _region_name(scope.region_prefix)
    if scope.legal_entity_code:
        name = f"{name or scope.region_prefix} · {scope.legal_entity_code}"
    return Coverage(scope.region_prefix, name, 0, dict.fromkeys(MEASURES, 0))


# --- coverage --------------------------------------------------------------------------------


_COVERAGE_HEADERS: dict[str, str] = {
    "position": "有地图位置",
    "business_types": "有受理业务类型",
    "front_photo": "有门面照片",
    "hours": "有营业时间",
    "phone": "有联系电话",
    "confirmed": "已核对确认",
}


def _count_key(measure: str) -> str:
    return measure if measure == "confirmed" else f"with_{measure}"


COVERAGE_COLUMNS = [
    Column("key", "代码 / code"),
    Column("name", "名称 / name"),
    Column("outlets", "在营网点数 / active outlets"),
    *(
        column
        for m in MEASURES
        for column in (
            Column(_count_key(m), f"{_COVERAGE_HEADERS[m]} / {MEASURE_LABELS[m][1]}"),
            Column(f"{m}_pct", f"{MEASURE_LABELS[m][0]}完整率(%) / {MEASURE_LABELS[m][1]} %"),
        )
    ),
    Column("score", "完整度得分 / completeness score"),
]


def _flat(view: dict[str, Any]) -> dict[str, Any]:
    """A coverage view with its shares as percentages, one decimal, for a spreadsheet."""
    shares = view["shares"]
    pct = {f"{m}_pct": None if shares[m] is None else round(100 * shares[m], 1) for m in MEASURES}
    return {**view, **pct}


def _coverage(args: dict[str, Any], action: str) -> tuple[list[Coverage], Coverage, Any]:
    caller, scope = report_scope(args, action)
    rows = quality.coverage(db_session(), scope, args["by"])
    area = area_of(scope)
    return rows, quality.total(rows, area.key, area.name), caller


@blp.route("/quality/coverage")
class CoverageReport(MethodView):
    @blp.arguments(CoverageArgs, location="query")
    @blp.response(200, CoveragePageSchema)
    @report_doc(blp)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """信息完整率 — what share of the active outlets has each piece of data.

        Position, business types, a front photo, hours, a phone, and data the
        institution confirmed, by region or legal entity. `total` is the whole
        area; `items` are its groups in code order, in pages (`after` = the
        position of the last group of the previous page).
        """
        rows, total, _ = _coverage(args, "quality.coverage")
        page = ranked_page(rows, args)
        return {
            "by": args["by"],
            "total": coverage_view(total),
            "items": [coverage_view(r) for r in page.items],
            "next_after": page.next_after,
        }


@blp.route("/quality/coverage/export")
class CoverageExport(MethodView):
    @blp.arguments(CoverageExportArgs, location="query")
    @blp.doc(**export_doc("信息完整率 / coverage"))
    @report_doc(blp)
    def get(self, args: dict[str, Any]) -> Response:
        """导出信息完整率 — the coverage table as CSV or XLSX, with a total row (合计)."""
        action = "quality.coverage.export"
        rows, total, caller = _coverage(args, action)
        table = [_flat(coverage_view(r)) for r in rows]
        table.append({**_flat(coverage_view(total)), "key": "合计", "name": total.name})
        return audited_export(caller, action, "coverage", COVERAGE_COLUMNS, table, args)


# --- the map -----------------------------------------------------------------------------------


def map_answer(scope: Scope, args: dict[str, Any]) -> dict[str, Any]:
    """The outlets of the box by completeness, as `MapSchema` says (the console's map too).

    The box comes in `coord` (a GCJ-02 tile layer's, say) and is turned into WGS-84 corner
    by corner (the offset varies by metres across a view); each position goes back."""
    coord: CoordSystem = args["coord"]
    south, west = convert(args["min_lat"], args["min_lng"], coord, "wgs84")
    north, east = convert(args["max_lat"], args["max_lng"], coord, "wgs84")
    points, cell = quality.completeness_map(
        db_session(),
        scope,
        (south, west, north, east),
        cell_deg=quality.cell_for_zoom(args["zoom"]),
    )
    items = []
    for p in points:
        lat, lng = convert(p.lat, p.lng, "wgs84", coord)
        items.append(
            {
                "lat": round(lat, 6),
                "lng": round(lng, 6),
                "outlets": p.outlets,
                "score": p.score,
                "fi_code": p.fi_code,
                "name": p.name,
            }
        )
    return {"coord": coord, "cell_deg": cell, "items": items}


@blp.route("/quality/map")
class CompletenessMap(MethodView):
    @blp.arguments(MapArgs, location="query")
    @blp.response(200, MapSchema)
    @report_doc(blp)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """完整度地图 — the outlets of a map's box, each with its completeness score.

        Below zoom 13 (or beyond 2,000 outlets) they are grouped in grid cells with
        their count and mean score; an outlet without a position cannot be placed (the
        coverage report counts those).
        """
        _, scope = report_scope(args, "quality.map")
        return map_answer(scope, args)


# --- ranking ---------------------------------------------------------------------------------


def _ranking(args: dict[str, Any], action: str) -> tuple[list[quality.RankedInstitution], Any]:
    caller, scope = report_scope(args, action)
    rows = quality.ranking(db_session(), scope, min_outlets=args["min_outlets"])
    return rows, caller


def ranked_view(row: quality.RankedInstitution) -> dict[str, Any]:
    return {
        **coverage_view(row.coverage),
        "rank": row.rank,
        "score": row.score,
        "open_reports": row.open_reports,
        "verified_reports": row.verified_reports,
    }


RANKING_COLUMNS = [
    Column("rank", "排名 / rank"),
    Column("key", "法人机构编码 / legal entity"),
    Column("name", "法人机构名称 / name"),
    *COVERAGE_COLUMNS[2:],
    Column("open_reports", "待处理纠错 / open reports"),
    Column("verified_reports", "已核实纠错 / verified reports"),
]


@blp.route("/quality/ranking")
class Ranking(MethodView):
    @blp.arguments(RankingArgs, location="query")
    @blp.response(200, RankingPageSchema)
    @report_doc(blp)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """机构排名 — legal entities ranked by the completeness of their outlets' data here.

        Score 0-100: the weighted mean of the six shares, ``100 × Σ weight ×
        share / Σ weight`` with the weights the answer lists (`weights`); equal
        scores share a rank, then more outlets first. Pages by position.
        """
        rows, _ = _ranking(args, "quality.ranking")
        page = ranked_page(rows, args)
        return {
            "weights": dict(SCORE_WEIGHTS),
            "items": [ranked_view(r) for r in page.items],
            "next_after": page.next_after,
        }


@blp.route("/quality/ranking/export")
class RankingExport(MethodView):
    @blp.arguments(RankingExportArgs, location="query")
    @blp.doc(**export_doc("机构排名 / ranking"))
    @report_doc(blp)
    def get(self, args: dict[str, Any]) -> Response:
        """导出机构排名 — the ranking as CSV or XLSX."""
        action = "quality.ranking.export"
        rows, caller = _ranking(args, action)
        table = [_flat(ranked_view(r)) for r in rows]
        return audited_export(caller, action, "ranking", RANKING_COLUMNS, table, args)


# --- not updated -----------------------------------------------------------------------------


def _outlet_view(row: Any) -> dict[str, Any]:
    return {
        "fi_code": row.fi_code,
        "name": row.name,
        "region_code": row.region_code,
        "region_name": _region_name(row.region_code),
        "legal_entity_code": row.legal_entity_code,
    }


def _not_updated_view(row: quality.NotUpdatedOutlet) -> dict[str, Any]:
    return {**_outlet_view(row), "last_updated_at": row.last_updated_at}


_OUTLET_COLUMNS = [
    Column("fi_code", "金融机构编码 / fi_code"),
    Column("name", "网点名称 / name"),
    Column("region_code", "行政区划代码 / region code"),
    Column("region_name", "所在地区 / region"),
    Column("legal_entity_code", "法人机构编码 / legal entity"),
]
NOT_UPDATED_COLUMNS = [
    *_OUTLET_COLUMNS,
    Column("last_updated_at", "最近更新时间(UTC) / last updated (UTC)"),
]


def _not_updated(args: dict[str, Any], scope: Scope, after: int | None, limit: int) -> Any:
    since = local_day_start(args["since"])
    assert since is not None  # required by the schema
    return quality.not_updated(
        db_session(), scope, since, name_contains=args.get("q"), after=after, limit=limit
    )


@blp.route("/quality/not-updated")
class NotUpdated(MethodView):
    @blp.arguments(NotUpdatedArgs, location="query")
    @blp.response(200, NotUpdatedPageSchema)
    @report_doc(blp)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """未更新网点 — active outlets their institution has not updated since a day.

        An update is an upload by outlet staff, a profile import, a pro-app
        update, or the institution's confirmation; the registry sync of the
        record itself is not. Keyset pages by institution id.
        """
        _, scope = report_scope(args, "quality.not_updated")
        page = id_page(
            lambda after, limit: _not_updated(args, scope, after, limit), args, lambda r: r.id
        )
        return {
            "items": [_not_updated_view(r) for r in page.items],
            "next_after": page.next_after,
        }


@blp.route("/quality/not-updated/export")
class NotUpdatedExport(MethodView):
    @blp.arguments(NotUpdatedExportArgs, location="query")
    @blp.doc(**export_doc("未更新网点 / not updated"))
    @report_doc(blp)
    def get(self, args: dict[str, Any]) -> Response:
        """导出未更新网点 — the not-updated list as CSV or XLSX."""
        action = "quality.not_updated.export"
        caller, scope = report_scope(args, action)
        rows: Iterable[Any] = _not_updated(args, scope, None, EXPORT_LIMIT + 1)
        table = [_not_updated_view(r) for r in rows]
        return audited_export(caller, action, "not-updated", NOT_UPDATED_COLUMNS, table, args)


# --- inaccurate ------------------------------------------------------------------------------


def _inaccurate_view(row: quality.InaccurateOutlet) -> dict[str, Any]:
    return {
        **_outlet_view(row),
        "open_reports": row.open_reports,
        "verified_reports": row.verified_reports,
        "kinds": list(row.kinds),
        "last_reported_at": row.last_reported_at,
    }


def _inaccurate_export_row(row: quality.InaccurateOutlet) -> dict[str, Any]:
    return {
        **_inaccurate_view(row),
        "kinds": [REPORT_KIND_LABELS.get(k, k) for k in row.kinds],
    }


INACCURATE_COLUMNS = [
    *_OUTLET_COLUMNS,
    Column("open_reports", "待处理纠错 / open reports"),
    Column("verified_reports", "已核实纠错 / verified reports"),
    Column("kinds", "纠错类型 / kinds"),
    Column("last_reported_at", "最近纠错时间(UTC) / last reported (UTC)"),
]


def _inaccurate(args: dict[str, Any], scope: Scope, after: int | None, limit: int) -> Any:
    return quality.inaccurate(
        db_session(),
        scope,
        reports=args["reports"],
        since=local_day_start(args.get("since")),
        name_contains=args.get("q"),
        after=after,
        limit=limit,
    )


@blp.route("/quality/inaccurate")
class Inaccurate(MethodView):
    @blp.arguments(InaccurateArgs, location="query")
    @blp.response(200, InaccuratePageSchema)
    @report_doc(blp)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """信息不准确网点 — active outlets with open or verified public error reports.

        Rejected reports never count. Keyset pages by institution id.
        """
        _, scope = report_scope(args, "quality.inaccurate")
        page = id_page(
            lambda after, limit: _inaccurate(args, scope, after, limit), args, lambda r: r.id
        )
        return {
            "items": [_inaccurate_view(r) for r in page.items],
            "next_after": page.next_after,
        }


@blp.route("/quality/inaccurate/export")
class InaccurateExport(MethodView):
    @blp.arguments(InaccurateExportArgs, location="query")
    @blp.doc(**export_doc("信息不准确网点 / inaccurate"))
    @report_doc(blp)
    def get(self, args: dict[str, Any]) -> Response:
        """导出信息不准确网点 — the inaccurate list as CSV or XLSX."""
        action = "quality.inaccurate.export"
        caller, scope = report_scope(args, action)
        rows = _inaccurate(args, scope, None, EXPORT_LIMIT + 1)
        table = [_inaccurate_export_row(r) for r in rows]
        return audited_export(caller, action, "inaccurate", INACCURATE_COLUMNS, table, args)


# --- repeated verified errors ----------------------------------------------------------------


def _repeated(args: dict[str, Any], action: str) -> tuple[list[quality.RepeatedErrors], Any]:
    caller, scope = report_scope(args, action, SUPERVISORS)
    rows = quality.repeated_errors(
        db_session(),
        scope,
        threshold=args["threshold"],
        since=local_day_start(args.get("since")),
        until=local_day_end(args.get("until")),
    )
    return rows, caller


def _repeated_view(row: quality.RepeatedErrors) -> dict[str, Any]:
    return {
        "legal_entity_code": row.legal_entity_code,
        "name": row.name,
        "verified_reports": row.verified_reports,
        "outlets": row.outlets,
        "last_reported_at": row.last_reported_at,
    }


REPEATED_COLUMNS = [
    Column("legal_entity_code", "法人机构编码 / legal entity"),
    Column("name", "法人机构名称 / name"),
    Column("verified_reports", "已核实纠错 / verified reports"),
    Column("outlets", "涉及机构数 / institutions"),
    Column("last_reported_at", "最近纠错时间(UTC) / last reported (UTC)"),
]


@blp.route("/quality/repeated-errors")
class RepeatedErrors(MethodView):
    @blp.arguments(RepeatedErrorsArgs, location="query")
    @blp.response(200, RepeatedErrorsPageSchema)
    @report_doc(blp, FORBIDDEN_ROLE)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """多次核实差错机构 — legal entities with repeated verified error reports here.

        The candidates for a public notice: at least `threshold` reports PBoC
        accepted, on institutions in your area (revoked ones included), made in
        the period; most first. Pages by position.
        """
        rows, _ = _repeated(args, "quality.repeated_errors")
        page = ranked_page(rows, args)
        return {
            "items": [_repeated_view(r) for r in page.items],
            "next_after": page.next_after,
        }


@blp.route("/quality/repeated-errors/export")
class RepeatedErrorsExport(MethodView):
    @blp.arguments(RepeatedErrorsExportArgs, location="query")
    @blp.doc(**export_doc("多次核实差错机构 / repeated verified errors"))
    @report_doc(blp, FORBIDDEN_ROLE)
    def get(self, args: dict[str, Any]) -> Response:
        """导出多次核实差错机构 — the list as CSV or XLSX."""
        action = "quality.repeated_errors.export"
        rows, caller = _repeated(args, action)
        table = [_repeated_view(r) for r in rows]
        return audited_export(caller, action, "repeated-errors", REPEATED_COLUMNS, table, args)
