"""Upload tasks (数据录入任务) from the professional app: issue binding codes, follow progress.

Thin views over `uploads.staff` (the same calls as `branchfinder tasks`).
An institution administrator hands out codes for its legal entity's outlets
in its region, a PBoC administrator for any outlet in its region: both are
just the account's `Scope`. A code is shown once, in the answer to
`POST /tasks` (stored only as a keyed hash), which is therefore never cached;
issuing again voids an unredeemed earlier code. Lists are keyset pages, with
a CSV/XLSX export of the same filters.
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from flask_smorest.error_handler import ErrorSchema
from sqlalchemy import select

from accounts.accounts import Account
from core.config import Config
from core.models.registry import Institution
from core.models.staff import UploadTask
from pro_api.access import PRO_SECURITY, audit, current_account, current_scope, deny
from pro_api.exports import EXPORT_LIMIT, Column, export_doc, export_response
from pro_api.lookups import Stmt, actor_label, filed_for, refuse_input
from pro_api.paging import keyset_page
from pro_api.update_schemas import (
    ProCreateTasksArgs,
    ProIssuedCodesSchema,
    ProTaskExportArgs,
    ProTaskListArgs,
    ProTaskPageSchema,
)
from uploads.staff import create_tasks
from web.extensions import db_session

blp = Blueprint(
    "pro_tasks",
    __name__,
    description="专业版：数据录入任务与绑定码 / Professional app: upload tasks and binding codes",
)

_UNAUTHORIZED = "没有有效的登录 / no valid token"

TASK_COLUMNS = (
    Column("fi_code", "金融机构编码 / fi_code"),
    Column("name", "机构名称 / name"),
    Column("region_code", "行政区划代码 / region"),
    Column("status", "状态 / status"),
    Column("code_out", "绑定码未使用 / code out"),
    Column("code_expires_at", "绑定码到期 / code expires"),
    Column("created_by", "创建人 / created by"),
    Column("updated_at", "更新时间 / updated"),
    Column("submitted_at", "提交时间 / submitted"),
    Column("confirmed_at", "确认时间 / confirmed"),
    Column("confirmed_by", "确认人 / confirmed by"),
)


def _filtered(stmt: Stmt, account: Account, args: dict[str, Any]) -> Stmt:
    """`stmt` (over upload_task) joined to its outlet, in the jurisdiction, filtered."""
    stmt = account.scope.institutions(
        stmt.join(Institution, Institution.id == UploadTask.institution_id)
    )
    if "status" in args:
        stmt = stmt.where(UploadTask.status == args["status"])
    if "fi_code" in args:
        stmt = stmt.where(Institution.fi_code == args["fi_code"].strip().upper())
    if "region" in args:
        stmt = stmt.where(Institution.region_code.startswith(args["region"]))
    return stmt


def task_view(task: UploadTask, institution: Institution) -> dict[str, Any]:
    return {
        "id": task.id,
        "fi_code": institution.fi_code,
        "name": institution.name,
        "region_code": institution.region_code,
        "legal_entity_code": institution.legal_entity_code,
        "status": task.status,
        "code_out": task.code_hash is not None,
        "code_expires_at": task.code_expires_at,
        "created_by": task.created_by,
        "created_at": task.created_at,
        "updated_at": task.updated_at,
        "submitted_at": task.submitted_at,
        "confirmed_at": task.confirmed_at,
        "confirmed_by": task.confirmed_by,
    }


@blp.route("/tasks")
class Tasks(MethodView):
    @blp.arguments(ProTaskListArgs, location="query")
    @blp.response(200, ProTaskPageSchema)
    @blp.alt_response(401, schema=ErrorSchema, description=_UNAUTHORIZED)
    @blp.alt_response(403, schema=ErrorSchema, description="须先修改临时密码 / change password")
    @blp.alt_response(422, schema=ErrorSchema, description="筛选条件有误 / a bad filter")
    @blp.doc(security=PRO_SECURITY)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """数据录入任务 — the upload tasks of the outlets in your jurisdiction, by id."""
        account = current_account("task.list")
        session = db_session()
        page = keyset_page(
            session, _filtered(select(UploadTask), account, args), UploadTask.id, args
        )
        outlets = {
            i.id: i
            for i in session.scalars(
                select(Institution).where(
                    Institution.id.in_([t.institution_id for t in page.items])
                )
            )
        }
        return {
            "items": [task_view(t, outlets[t.institution_id]) for t in page.items],
            "next_after": page.next_after,
        }

    @blp.arguments(ProCreateTasksArgs)
    @blp.response(201, ProIssuedCodesSchema)
    @blp.alt_response(401, schema=ErrorSchema, description=_UNAUTHORIZED)
    @blp.alt_response(
        403, schema=ErrorSchema, description="只读账户不能创建 / a read-only account cannot"
    )
    @blp.alt_response(
        404,
        schema=ErrorSchema,
        description="有编码不存在或不在你的辖区内（errors 列出）/ codes not in your jurisdiction",
    )
    @blp.alt_response(
        422,
        schema=ErrorSchema,
        description="有机构已撤销或不是网点（errors 列出）/ revoked or not outlets",
    )
    @blp.doc(security=PRO_SECURITY)
    def post(self, args: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        """发放绑定码 — a one-time binding code (and its QR text) for each outlet.

        Creates the outlets' upload tasks if new. Each code is valid for 30 days and
        shown only in this answer (stored as a keyed hash); a new code voids an
        unredeemed earlier one (a lost slip).
        """
        action = "task.create"
        current_scope(action, write=True)
        account = current_account(action)
        session = db_session()
        wanted = sorted({c.strip().upper() for c in args["fi_codes"]})
        visible = {
            i.fi_code: i
            for i in session.scalars(
                account.scope.institutions(
                    select(Institution).where(Institution.fi_code.in_(wanted))
                )
            )
        }
        unknown = [c for c in wanted if c not in visible]
        if unknown:
            message = "以下编码不存在或不在你的辖区内 / not in your jurisdiction: " + ", ".join(
                unknown
            )
            deny(
                404,
                message,
                action=action,
                account=account,
                reason="not_found_or_outside_jurisdiction",
                target_kind="institution",
                target_id=",".join(unknown)[:200],
                errors={"json": {"fi_codes": [message]}},
            )
        config: Config = current_app.extensions["branchfinder.config"]
        try:
            issued = create_tasks(
                session,
                wanted,
                actor=actor_label(account),
                pepper=config.secret_key,
                qr_prefix=config.staff_bind_qr_prefix,
            )
        except LookupError as exc:
            refuse_input(
                "fi_codes",
                f"以下机构已撤销或不是网点：{exc}",
                f"revoked, or not outlets: {exc}",
            )
        for code in issued:
            audit(
                action,
                "ok",
                actor=account,
                filed=filed_for(visible[code.fi_code]),
                target_kind="institution",
                target_id=code.fi_code,
                detail={"expires_at": code.expires_at.isoformat()},
            )
        session.commit()
        return {"items": [c.__dict__ for c in issued]}, {"Cache-Control": "no-store"}


@blp.route("/tasks/export")
class TasksExport(MethodView):
    @blp.arguments(ProTaskExportArgs, location="query")
    @blp.alt_response(401, schema=ErrorSchema, description=_UNAUTHORIZED)
    @blp.alt_response(403, schema=ErrorSchema, description="须先修改临时密码 / change password")
    @blp.doc(security=PRO_SECURITY, **export_doc("数据录入任务 / upload tasks"))
    def get(self, args: dict[str, Any]) -> Response:
        """导出数据录入任务 — the same list as a CSV or XLSX file."""
        account = current_account("task.export")
        stmt = _filtered(select(UploadTask, Institution), account, args)
        rows = db_session().execute(stmt.order_by(UploadTask.id).limit(EXPORT_LIMIT + 1))
        return export_response(
            "upload-tasks", TASK_COLUMNS, (task_view(t, i) for t, i in rows), args["format"]
        )
