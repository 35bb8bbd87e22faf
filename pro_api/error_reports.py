"""Public error reports (信息纠错) in the professional app: list, accept with a fix, reject.

Thin views over `feedback.error_report_decisions`. A report is seen and
decided by the accounts whose jurisdiction holds its outlet. Accepting one
means the report was right (status `accepted` = verified, which the quality
lists count): the body carries the corrected value (or the reporter's
suggested position, or `already_fixed`), applied in the same transaction as a
`pro_update` change event through the rules of every info update. Rejecting
one needs a reason. The status vocabulary (`open` / `accepted` / `rejected`)
is `core.models.feedback.ErrorReport`'s.
"""

from __future__ import annotations

from typing import Any, NoReturn

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint
from flask_smorest.error_handler import ErrorSchema
from sqlalchemy import Select, func, select

from accounts.accounts import Account
from core.coords import CoordSystem, position_in
from core.models.feedback import ErrorReport
from core.models.registry import Institution
from feedback import error_report_decisions as decisions
from feedback.error_report_decisions import AlreadyDecided, Fix
from feedback.submissions import REPORT_KIND_LABELS
from pro_api.access import PRO_SECURITY, audit, current_account, current_scope
from pro_api.exports import EXPORT_LIMIT, Column, export_doc, export_response
from pro_api.lookups import (
    Stmt,
    actor_label,
    conflict,
    filed_for,
    refuse_input,
    visible_row,
)
from pro_api.paging import keyset_page
from pro_api.update_schemas import (
    ProErrorReportAcceptArgs,
    ProErrorReportExportArgs,
    ProErrorReportListArgs,
    ProErrorReportPageSchema,
    ProErrorReportSchema,
    ProRejectArgs,
)
from uploads.pro_updates import NotUpdatable
from uploads.staff_uploads import UploadRefused
from web.extensions import db_session

blp = Blueprint(
    "pro_error_reports",
    __name__,
    description="专业版：公众纠错的核实与处理 / Professional app: public error reports, "
    "accepted (verified, field fixed) or rejected",
)

_UNAUTHORIZED = "没有有效的登录 / no valid token"
_READ_ONLY = "只读账户（审计员）不能处理 / a read-only account (auditor) cannot decide"
_NOT_VISIBLE = "没有这条纠错，或不在你的辖区内 / no such error report in your jurisdiction"

_LAT = func.ST_Y(func.geometry(ErrorReport.suggested_position))
_LNG = func.ST_X(func.geometry(ErrorReport.suggested_position))

REPORT_COLUMNS = (
    Column("id", "编号 / id"),
    Column("fi_code", "金融机构编码 / fi_code"),
    Column("name", "机构名称 / name"),
    Column("region_code", "行政区划代码 / region"),
    Column("kind_label", "纠错类型 / kind"),
    Column("comment", "说明 / comment"),
    Column("suggested_lat", "建议纬度 / suggested lat"),
    Column("suggested_lng", "建议经度 / suggested lng"),
    Column("status", "状态 / status"),
    Column("created_at", "提交时间 / reported"),
    Column("resolved_by", "处理人 / decided by"),
    Column("resolved_at", "处理时间 / decided"),
    Column("resolution_reason", "理由或备注 / reason or note"),
    Column("resolution_event_id", "更正记录 / fix event"),
)


def filtered(stmt: Stmt, account: Account, args: dict[str, Any]) -> Stmt:
    stmt = account.scope.institutions(
        stmt.join(Institution, Institution.fi_code == ErrorReport.fi_code)
    )
    if "status" in args:
        stmt = stmt.where(ErrorReport.status == args["status"])
    if "kind" in args:
        stmt = stmt.where(ErrorReport.kind == args["kind"])
    if "fi_code" in args:
        stmt = stmt.where(ErrorReport.fi_code == args["fi_code"].strip().upper())
    if "region" in args:
        stmt = stmt.where(Institution.region_code.startswith(args["region"]))
    return stmt


def _detail_query() -> Select[Any]:
    return select(ErrorReport, Institution, _LAT.label("lat"), _LNG.label("lng"))


def report_view(row: Any, coord: CoordSystem) -> dict[str, Any]:
    report: ErrorReport = row.ErrorReport
    institution: Institution = row.Institution
    suggested = None
    if row.lat is not None:
        suggested = position_in(float(row.lat), float(row.lng), coord) | {"coord": coord}
    return {
        "id": report.id,
        "fi_code": report.fi_code,
        "name": institution.name,
        "region_code": institution.region_code,
        "kind": report.kind,
        "kind_label": REPORT_KIND_LABELS.get(report.kind, report.kind),
        "comment": report.comment,
        "suggested_position": suggested,
        "suggested_lat": suggested["lat"] if suggested else None,
        "suggested_lng": suggested["lng"] if suggested else None,
        "suggested_coord_system": report.suggested_coord_system,
        "contact": report.contact,
        "status": report.status,
        "created_at": report.created_at,
        "resolved_at": report.resolved_at,
        "resolved_by": report.resolved_by,
        "resolution_reason": report.resolution_reason,
        "resolution_event_id": report.resolution_event_id,
    }


@blp.route("/error-reports")
class ErrorReports(MethodView):
    @blp.arguments(ProErrorReportListArgs, location="query")
    @blp.response(200, ProErrorReportPageSchema)
    @blp.alt_response(401, schema=ErrorSchema, description=_UNAUTHORIZED)
    @blp.alt_response(403, schema=ErrorSchema, description="须先修改临时密码 / change password")
    @blp.alt_response(422, schema=ErrorSchema, description="筛选条件有误 / a bad filter")
    @blp.doc(security=PRO_SECURITY)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """公众纠错 — error reports on the outlets in your jurisdiction, oldest first."""
        account = current_account("error_report.list")
        session = db_session()
        page = keyset_page(
            session, filtered(select(ErrorReport), account, args), ErrorReport.id, args
        )
        ids = [r.id for r in page.items]
        rows = session.execute(
            _detail_query()
            .join(Institution, Institution.fi_code == ErrorReport.fi_code)
            .where(ErrorReport.id.in_(ids))
            .order_by(ErrorReport.id)
        )
        return {
            "coord": args["coord"],
            "items": [report_view(r, args["coord"]) for r in rows],
            "next_after": page.next_after,
        }


@blp.route("/error-reports/export")
class ErrorReportsExport(MethodView):
    @blp.arguments(ProErrorReportExportArgs, location="query")
    @blp.alt_response(401, schema=ErrorSchema, description=_UNAUTHORIZED)
    @blp.alt_response(403, schema=ErrorSchema, description="须先修改临时密码 / change password")
    @blp.doc(security=PRO_SECURITY, **export_doc("公众纠错 / error reports"))
    def get(self, args: dict[str, Any]) -> Response:
        """导出公众纠错 — the same list as a CSV or XLSX file (positions in `coord`)."""
        account = current_account("error_report.export")
        stmt = filtered(_detail_query(), account, args)
        rows = db_session().execute(stmt.order_by(ErrorReport.id).limit(EXPORT_LIMIT + 1))
        return export_response(
            "error-reports",
            REPORT_COLUMNS,
            (report_view(r, args["coord"]) for r in rows),
            args["format"],
        )


def _locked(report_id: int, action: str) -> tuple[Account, ErrorReport, Institution]:
    current_scope(action, write=True)
    account = current_account(action)
    report, institution = visible_row(
        decisions.report_query(report_id),
        "error_report",
        report_id,
        account=account,
        action=action,
    )
    return account, report, institution


def _answer(
    report_id: int, action: str, account: Account, institution: Institution, event_id: int | None
) -> dict[str, Any]:
    session = db_session()
    audit(
        action,
        "ok",
        actor=account,
        filed=filed_for(institution),
        target_kind="error_report",
        target_id=report_id,
        detail={"fi_code": institution.fi_code, "event_id": event_id},
    )
    session.commit()
    row = session.execute(
        _detail_query()
        .join(Institution, Institution.fi_code == ErrorReport.fi_code)
        .where(ErrorReport.id == report_id)
    ).one()
    return report_view(row, "gcj02")


def _already(exc: AlreadyDecided, action: str, account: Account, report_id: int) -> NoReturn:
    conflict(
        f"该纠错已处理（{exc.status}）/ the report is already {exc.status}",
        action=action,
        account=account,
        kind="error_report",
        target_id=report_id,
        reason="already_decided",
    )


def _fix(args: dict[str, Any]) -> Fix | None:
    if args.get("use_suggested_position"):
        return Fix("suggested_position")
    for field in ("position", "business_types", "hours", "phone", "address"):
        if args.get(field) is not None:
            return Fix(field, args[field])
    return None


@blp.route("/error-reports/<int:report_id>/accept")
class AcceptReport(MethodView):
    @blp.arguments(ProErrorReportAcceptArgs())
    @blp.response(200, ProErrorReportSchema)
    @blp.alt_response(401, schema=ErrorSchema, description=_UNAUTHORIZED)
    @blp.alt_response(403, schema=ErrorSchema, description=_READ_ONLY)
    @blp.alt_response(404, schema=ErrorSchema, description=_NOT_VISIBLE)
    @blp.alt_response(
        409, schema=ErrorSchema, description="已处理过，或网点已撤销 / already decided, or revoked"
    )
    @blp.alt_response(
        422,
        schema=ErrorSchema,
        description="更正值缺失、与纠错类型不符或不符合规则 / the fix is missing, does not fit "
        "the report's kind, or breaks a rule (errors name the field)",
    )
    @blp.doc(security=PRO_SECURITY)
    def post(self, args: dict[str, Any], report_id: int) -> dict[str, Any]:
        """核实并更正 — the report was right: fix the field and mark it accepted (verified).

        The corrected value is applied as a pro_update change event. Give the field
        the report is about (`position` or `use_suggested_position`, `business_types`,
        `hours`, `phone`, `address`), or `already_fixed` when it was corrected
        before. Reports of a closed outlet or of another kind are recorded only:
        closing an outlet is a revocation in the PBoC registry.
        """
        action = "error_report.accept"
        account, report, institution = _locked(report_id, action)
        try:
            decision = decisions.accept(
                db_session(),
                report,
                institution,
                fix=_fix(args),
                already_fixed=args["already_fixed"],
                note=args["note"],
                actor=actor_label(account),
            )
        except AlreadyDecided as exc:
            _already(exc, action, account, report_id)
        except UploadRefused as exc:  # FixRefused included
            field = "use_suggested_position" if exc.field == "suggested_position" else exc.field
            refuse_input(field, exc.message_zh, exc.message_en)
        except NotUpdatable as exc:
            conflict(
                f"{exc.message_zh} / {exc.message_en}",
                action=action,
                account=account,
                kind="error_report",
                target_id=report_id,
                reason=exc.reason,
            )
        return _answer(report_id, action, account, institution, decision.event_id)


@blp.route("/error-reports/<int:report_id>/reject")
class RejectReport(MethodView):
    @blp.arguments(ProRejectArgs())
    @blp.response(200, ProErrorReportSchema)
    @blp.alt_response(401, schema=ErrorSchema, description=_UNAUTHORIZED)
    @blp.alt_response(403, schema=ErrorSchema, description=_READ_ONLY)
    @blp.alt_response(404, schema=ErrorSchema, description=_NOT_VISIBLE)
    @blp.alt_response(409, schema=ErrorSchema, description="已处理过 / already decided")
    @blp.alt_response(422, schema=ErrorSchema, description="须说明理由 / a reason is required")
    @blp.doc(security=PRO_SECURITY)
    def post(self, args: dict[str, Any], report_id: int) -> dict[str, Any]:
        """驳回 — the report was wrong; the reason is required."""
        action = "error_report.reject"
        account, report, institution = _locked(report_id, action)
        try:
            decisions.reject(
                db_session(), report, reason=args["reason"], actor=actor_label(account)
            )
        except AlreadyDecided as exc:
            _already(exc, action, account, report_id)
        except UploadRefused as exc:
            refuse_input(exc.field, exc.message_zh, exc.message_en)
        return _answer(report_id, action, account, institution, None)
