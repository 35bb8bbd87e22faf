"""Rollout statistics (推广考核) and the reporting calendar of the professional app.

Thin views over `reports.rollout`:

- `/rollout/institutions`: per legal entity, staff install registrations and
  the public's error reports on its outlets in your area, ranked; every
  role (an institution's accounts see their own legal entity);
- `/rollout/offices`: the same per PBoC office area (city or county), ranked;
  PBoC administrators and auditors only, as it assesses PBoC's own offices;
- `/calendar/monthly-report` and `/calendar/correction-deadline`: the due
  dates of the plan, from the holiday calendar that opening hours use; any
  signed-in account (no jurisdiction data in them).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, NoReturn

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from flask_smorest.error_handler import ErrorSchema

from pro_api.access import current_account
from pro_api.exports import Column, export_doc
from pro_api.report_filters import (
    FORBIDDEN_ROLE,
    SUPERVISORS,
    audited_export,
    ranked_page,
    report_doc,
    report_scope,
)
from pro_api.rollout_schemas import (
    CorrectionDeadlineArgs,
    CorrectionDeadlineSchema,
    MonthlyReportArgs,
    MonthlyReportSchema,
    RolloutInstitutionArgs,
    RolloutInstitutionExportArgs,
    RolloutInstitutionPageSchema,
    RolloutOfficeArgs,
    RolloutOfficeExportArgs,
    RolloutOfficePageSchema,
    deadline_view,
    figures_view,
    report_due_view,
)
from profiles import holiday_calendar
from reports import rollout
from reports.rollout import Period, RankedUnit, YearNotCovered
from web.extensions import db_session

blp = Blueprint(
    "pro_rollout",
    __name__,
    description="专业版：推广考核与报送日历 / Professional app: rollout statistics and the "
    "reporting calendar",
)


def _period(args: dict[str, Any]) -> Period:
    until: dt.date | None = args.get("until")
    return Period(args.get("since"), None if until is None else until + dt.timedelta(days=1))


_FIGURE_COLUMNS = [
    Column("outlets", "在营网点数 / active outlets"),
    Column("installs", "安装登记人数 / install registrations"),
    Column("installs_per_outlet", "每网点登记人数 / installs per outlet"),
    Column("reports", "收到纠错 / error reports"),
    Column("open_reports", "待处理 / open"),
    Column("verified_reports", "已核实 / verified"),
    Column("rejected_reports", "已驳回 / rejected"),
]
INSTITUTION_COLUMNS = [
    Column("rank", "排名 / rank"),
    Column("legal_entity_code", "法人机构编码 / legal entity"),
    Column("name", "法人机构名称 / name"),
    *_FIGURE_COLUMNS,
]
OFFICE_COLUMNS = [
    Column("rank", "排名 / rank"),
    Column("region_prefix", "辖区代码 / area code"),
    Column("name", "辖区 / area"),
    *_FIGURE_COLUMNS,
]


# --- per institution -------------------------------------------------------------------------


def _by_institution(args: dict[str, Any], action: str) -> tuple[list[RankedUnit], Any]:
    caller, scope = report_scope(args, action)
    rows = rollout.by_institution(
        db_session(), scope, period=_period(args), rank_by=args["rank_by"]
    )
    return rows, caller


@blp.route("/rollout/institutions")
class RolloutInstitutions(MethodView):
    @blp.arguments(RolloutInstitutionArgs, location="query")
    @blp.response(200, RolloutInstitutionPageSchema)
    @report_doc(blp)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """机构推广排名 — staff installs and public error reports per legal entity, ranked.

        Counted in your area: a registration counts where its registrant works (the region given at
        registration, else the employer's head office); a report counts where
        its outlet is. Pages by position.
        """
        rows, _ = _by_institution(args, "rollout.institutions")
        page = ranked_page(rows, args)
        return {
            "items": [figures_view(u, "legal_entity_code") for u in page.items],
            "next_after": page.next_after,
        }


@blp.route("/rollout/institutions/export")
class RolloutInstitutionsExport(MethodView):
    @blp.arguments(RolloutInstitutionExportArgs, location="query")
    @blp.doc(**export_doc("机构推广排名 / rollout by institution"))
    @report_doc(blp)
    def get(self, args: dict[str, Any]) -> Response:
        """导出机构推广排名 — as CSV or XLSX."""
        action = "rollout.institutions.export"
        rows, caller = _by_institution(args, action)
        table = [figures_view(u, "legal_entity_code") for u in rows]
        return audited_export(
            caller, action, "rollout-institutions", INSTITUTION_COLUMNS, table, args
        )


# --- per PBoC office -------------------------------------------------------------------------


def _by_office(args: dict[str, Any], action: str) -> tuple[list[RankedUnit], Any]:
    caller, scope = report_scope(args, action, SUPERVISORS)
    rows = rollout.by_office(
        db_session(), scope, args["level"], period=_period(args), rank_by=args["rank_by"]
    )
    return rows, caller


@blp.route("/rollout/offices")
class RolloutOffices(MethodView):
    @blp.arguments(RolloutOfficeArgs, location="query")
    @blp.response(200, RolloutOfficePageSchema)
    @report_doc(blp, FORBIDDEN_ROLE)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """人民银行辖区推广排名 — staff installs and public error reports per PBoC office.

        Per office area (city or county), ranked. Registrations made at city
        or province level (region 320100, 320000) count for that level's row
        only. Pages by position.
        """
        rows, _ = _by_office(args, "rollout.offices")
        page = ranked_page(rows, args)
        return {
            "level": args["level"],
            "items": [figures_view(u, "region_prefix") for u in page.items],
            "next_after": page.next_after,
        }


@blp.route("/rollout/offices/export")
class RolloutOfficesExport(MethodView):
    @blp.arguments(RolloutOfficeExportArgs, location="query")
    @blp.doc(**export_doc("人民银行辖区推广排名 / rollout by PBoC office"))
    @report_doc(blp, FORBIDDEN_ROLE)
    def get(self, args: dict[str, Any]) -> Response:
        """导出人民银行辖区推广排名 — as CSV or XLSX."""
        action = "rollout.offices.export"
        rows, caller = _by_office(args, action)
        table = [figures_view(u, "region_prefix") for u in rows]
        return audited_export(caller, action, "rollout-offices", OFFICE_COLUMNS, table, args)


# --- the reporting calendar ------------------------------------------------------------------


def _covered() -> dict[str, int]:
    first, last = holiday_calendar.covered_years()
    return {"first": first, "last": last}


def _not_covered(exc: YearNotCovered, field: str) -> NoReturn:
    message = f"{exc.message_zh} / {exc.message_en}"
    abort(422, message=message, errors={"query": {field: [message]}})
    raise AssertionError("abort returned")  # pragma: no cover


_PENDING_PASSWORD = "须先修改临时密码 / temporary password to change first"
_CALENDAR_422 = "年份不在节假日数据范围内（说明覆盖年份）/ a year the calendar does not cover"


@blp.route("/calendar/monthly-report")
class MonthlyReport(MethodView):
    @blp.arguments(MonthlyReportArgs, location="query")
    @blp.response(200, MonthlyReportSchema)
    @blp.alt_response(422, schema=ErrorSchema, description=_CALENDAR_422)
    @report_doc(blp, _PENDING_PASSWORD)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """月度问题报送截止日 — due dates of the monthly problem report.

        The 15th, moved to the next working day over weekends and official
        holidays (a swapped 调休 working day counts as a working day). A year the
        holiday calendar does not cover is a 422 naming the covered years.
        """
        current_account("calendar.monthly_report")
        try:
            dues = rollout.monthly_reports(args["year"], args.get("month"))
        except YearNotCovered as exc:
            _not_covered(exc, "year")
        return {"covered_years": _covered(), "items": [report_due_view(d) for d in dues]}


@blp.route("/calendar/correction-deadline")
class CorrectionDeadline(MethodView):
    @blp.arguments(CorrectionDeadlineArgs, location="query")
    @blp.response(200, CorrectionDeadlineSchema)
    @blp.alt_response(422, schema=ErrorSchema, description=_CALENDAR_422)
    @report_doc(blp, _PENDING_PASSWORD)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """整改截止日 — when corrections after an error receipt are due.

        5 working days after the day the receipt was received (that day does
        not count), over the same holiday calendar as opening hours. A count
        running into a year whose holidays are not yet published is answered
        with `verified: false`; a receipt date outside the calendar is a 422.
        """
        current_account("calendar.correction_deadline")
        try:
            deadline = rollout.correction_deadline(args["received"])
        except YearNotCovered as exc:
            _not_covered(exc, "received")
        return {**deadline_view(deadline), "covered_years": _covered()}
