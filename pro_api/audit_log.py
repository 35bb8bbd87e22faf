"""Reading the audit log in the professional app: PBoC administrators and auditors only.

Entries are filed under a jurisdiction when written (`accounts.audit`), so the
caller sees exactly those inside its own `Scope`: a city office its city's
accounts, sign-ins and refusals; the provincial branch everything in the
province. Newest first, keyset pages.
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from flask_smorest.error_handler import ErrorSchema
from sqlalchemy import or_, select

from accounts.audit import AuditEntry
from pro_api.access import PRO_SECURITY, current_account, require_role
from pro_api.paging import keyset_page
from pro_api.schemas import ProAuditListArgs, ProAuditPageSchema, audit_view
from web.extensions import db_session

blp = Blueprint(
    "pro_audit",
    __name__,
    description="专业版：审计日志 / Professional app: audit log of accounts in your jurisdiction",
)


@blp.route("/audit")
class AuditLog(MethodView):
    @blp.arguments(ProAuditListArgs, location="query")
    @blp.response(200, ProAuditPageSchema)
    @blp.alt_response(401, schema=ErrorSchema, description="没有有效的登录 / no valid token")
    @blp.alt_response(
        403,
        schema=ErrorSchema,
        description="仅人民银行管理员和审计员 / PBoC administrators and auditors only",
    )
    @blp.doc(security=PRO_SECURITY)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """审计日志 — who did what in your jurisdiction, newest first."""
        action = "audit.read"
        caller = current_account(action)
        require_role(caller, ("pboc_admin", "auditor"), action)
        stmt = select(AuditEntry).where(caller.scope.clause(AuditEntry))
        if "action" in args:
            stmt = stmt.where(AuditEntry.action == args["action"])
        if "outcome" in args:
            stmt = stmt.where(AuditEntry.outcome == args["outcome"])
        if "account_id" in args:
            stmt = stmt.where(
                or_(
                    AuditEntry.actor_id == args["account_id"],
                    (AuditEntry.target_kind == "account")
                    & (AuditEntry.target_id == str(args["account_id"])),
                )
            )
        page = keyset_page(db_session(), stmt, AuditEntry.id, args, newest_first=True)
        return {"items": [audit_view(e) for e in page.items], "next_after": page.next_after}
