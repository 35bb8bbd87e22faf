"""The dashboard (工作台): the account's jurisdiction at a glance.

Every figure is a call of the function the JSON API's view calls, over the account's
own `Scope` (what `report_scope` yields without filters), so the page and
`/api/pro/v1/quality/coverage`, `/quality/ranking`, `/error-reports?status=open`,
`/reviews?status=open`, `/calendar/monthly-report` and `/batches` cannot disagree:

- coverage by region: `reports.quality.coverage` (cities for a province, counties below)
  and its total `reports.quality.total`, named as `pro_api.quality.area_of` names it;
- coverage by institution and the ranking: `reports.quality.ranking`;
- open error reports and held uploads: the API lists' own `filtered` statements, counted;
- the monthly report: `reports.rollout.monthly_reports`; correction deadlines: the
  batches the API lists (`registry_queries.batches`) with its `correction_due`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import marshmallow as ma
from flask import g, jsonify, request
from flask.wrappers import Response
from sqlalchemy import func, select

from accounts.accounts import Account
from console.shell import blp, config, page, signed_in
from core.models.feedback import ErrorReport
from core.models.registry import ImportBatch
from core.models.reviews import UploadReview
from pro_api import error_reports, reviews
from pro_api.quality import area_of, map_answer
from pro_api.quality_schemas import MapArgs
from pro_api.registry_views import correction_due
from registry import regions as region_table
from registry import registry_queries as queries
from reports import quality
from reports.quality import MEASURE_LABELS, MEASURES, Coverage, Grouping
from reports.rollout import SHANGHAI, ReportDue, YearNotCovered, monthly_reports
from web.extensions import db_session

JIANGSU = (30.7, 116.3, 35.2, 122.0)  # the map's view when a jurisdiction has no known box
MAP_FIELDS = ("min_lat", "min_lng", "max_lat", "max_lng", "zoom", "coord")
CHART_INSTITUTIONS = 15  # the chart shows the best and worst; the table lists all
DEADLINE_BATCHES = 200  # the newest batches looked at for open correction deadlines


@dataclass(frozen=True)
class Deadline:
    batch_id: int
    source_name: str | None
    errors: int
    due: dt.date


def grouping_for(account: Account) -> Grouping:
    """A province is shown by city, a city or county by county."""
    return "city" if len(account.region_prefix) == 2 else "county"


def today() -> dt.date:
    return dt.datetime.now(SHANGHAI).date()


def next_monthly_report(day: dt.date) -> ReportDue | None:
    """The first monthly report due on or after `day`; None past the holiday calendar."""
    try:
        (due,) = monthly_reports(day.year, day.month)
        if due.due >= day:
            return due
        year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
        (due,) = monthly_reports(year, month)
        return due
    except YearNotCovered:
        return None


def open_deadlines(account: Account, day: dt.date) -> list[Deadline]:
    """Receipts with errors in the jurisdiction whose correction deadline has not passed."""
    session = db_session()
    stmt = queries.batches(account.scope).order_by(ImportBatch.id.desc()).limit(DEADLINE_BATCHES)
    batches = list(session.execute(stmt).scalars())
    counts = queries.line_counts(session, account.scope, [b.id for b in batches])
    found = []
    for batch in batches:
        lines = counts.get(batch.id, queries.LineCounts())
        due = correction_due(batch, lines)
        if due is not None and due >= day:
            found.append(Deadline(batch.id, batch.source_name, lines.errors, due))
    return sorted(found, key=lambda d: (d.due, d.batch_id))


def open_counts(account: Account) -> tuple[int, int]:
    """Open public error reports and held staff uploads in the jurisdiction."""
    session = db_session()
    reports_stmt = error_reports.filtered(
        select(func.count()).select_from(ErrorReport), account, {"status": "open"}
    )
    held_stmt = reviews.filtered(
        select(func.count()).select_from(UploadReview), account, {"status": "open"}
    )
    return int(session.execute(reports_stmt).scalar_one()), int(
        session.execute(held_stmt).scalar_one()
    )


def _chart_row(row: Coverage) -> dict[str, Any]:
    shares = {str(m): share for m, share in row.shares.items()}
    return {"key": row.key, "name": row.name or row.key, "outlets": row.outlets, **shares}


@blp.get("/")
@signed_in()
def dashboard() -> Response:
    """工作台 — coverage by region and by institution, the ranking, what waits, deadlines."""
    account: Account = g.console_account
    scope = account.scope
    session = db_session()
    by = grouping_for(account)
    regions = quality.coverage(session, scope, by)
    area = area_of(scope)
    total = quality.total(regions, area.key, area.name)
    ranking = quality.ranking(session, scope)
    open_reports, held_uploads = open_counts(account)
    day = today()
    chosen = ranking[:CHART_INSTITUTIONS]
    charts = {
        "measures": [{"key": m, "label": MEASURE_LABELS[m][0]} for m in MEASURES],
        "regions": [_chart_row(r) for r in regions],
        "institutions": [
            {**_chart_row(r.coverage), "score": r.score, "rank": r.rank} for r in chosen
        ],
    }
    cfg = config()
    map_settings = {
        "url": "map.json",
        "bounds": region_table.bounds_within(account.region_prefix) or JIANGSU,
        "tiles": cfg.map_tiles_url,
        "coord": "gcj02" if cfg.map_tiles_url and cfg.map_tiles_coord == "gcj02" else "wgs84",
        "attribution": cfg.map_tiles_attribution,
    }
    return page(
        "dashboard.html",
        map_settings=map_settings,
        title="工作台",
        by_label="城市" if by == "city" else "区县",
        measures=[(m, MEASURE_LABELS[m][0]) for m in MEASURES],
        total=total,
        regions=regions,
        ranking=ranking,
        open_reports=open_reports,
        held_uploads=held_uploads,
        monthly=next_monthly_report(day),
        deadlines=open_deadlines(account, day),
        today=day,
        charts=charts,
        chart_institutions=len(chosen),
    )


@blp.get("/map.json")
@signed_in(data=True)
def map_data() -> Response:
    """The dashboard map's outlets: `pro_api.quality.map_answer`, as GET /quality/map
    answers it, over the account's jurisdiction (the box only; no area filters)."""
    account: Account = g.console_account
    try:
        args = MapArgs().load({k: v for k, v in request.args.items() if k in MAP_FIELDS})
    except ma.ValidationError as error:
        answer = jsonify(message="参数无效", errors=error.messages)
        answer.status_code = 422
        return answer
    return jsonify(map_answer(account.scope, args))
