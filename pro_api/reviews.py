"""Staff uploads held for review (待审核), decided in the professional app.

Thin views over `uploads.reviews` and `uploads.review_decisions` (the same calls as
`branchfinder reviews`).
An upload is held when it looks wrong (a position outside the outlet's region
or moving a confirmed one by more than 2 km, a photo taken far away); the
institution or its PBoC office accepts it (published as a new `pro_update`
event, with the account as actor) or rejects it with a reason. Reviews are
filtered by the jurisdiction of their outlet.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint
from flask_smorest.error_handler import ErrorSchema
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.accounts import Account
from core.models.registry import Institution
from core.models.reviews import UploadReview
from pro_api.access import PRO_SECURITY, audit, current_account, current_scope
from pro_api.exports import EXPORT_LIMIT, Column, export_doc, export_response
from pro_api.lookups import Stmt, actor_label, conflict, filed_for, visible_row
from pro_api.paging import keyset_page
from pro_api.update_schemas import (
    ProRejectArgs,
    ProReviewDecisionSchema,
    ProReviewExportArgs,
    ProReviewListArgs,
    ProReviewPageSchema,
)
from uploads import review_decisions
from uploads.outlet_photos import MAX_PHOTOS, PhotoLimit
from uploads.review_decisions import ReviewError
from uploads.reviews import FLAG_LABELS
from web.extensions import db_session

blp = Blueprint(
    "pro_reviews",
    __name__,
    description="专业版：待审核的网点人员上传 / Professional app: staff uploads held for review",
)

_UNAUTHORIZED = "没有有效的登录 / no valid token"
_READ_ONLY = "只读账户（审计员）不能审核 / a read-only account (auditor) cannot decide"
_NOT_VISIBLE = "没有这条待审核上传，或不在你的辖区内 / no such held upload in your jurisdiction"
_DECIDED = "已审核过，或照片已达 6 张 / already decided, or the outlet shows 6 photos"

REVIEW_COLUMNS = (
    Column("id", "编号 / id"),
    Column("fi_code", "金融机构编码 / fi_code"),
    Column("name", "机构名称 / name"),
    Column("field_group", "字段组 / field group"),
    Column("flag_labels", "原因 / flags"),
    Column("actor", "上传人 / uploaded by"),
    Column("created_at", "上传时间 / uploaded"),
    Column("status", "状态 / status"),
    Column("decided_by", "审核人 / decided by"),
    Column("decided_at", "审核时间 / decided"),
    Column("reason", "驳回理由 / reason"),
)


def filtered(stmt: Stmt, account: Account, args: dict[str, Any]) -> Stmt:
    stmt = account.scope.institutions(
        stmt.join(Institution, Institution.fi_code == UploadReview.fi_code)
    )
    if "status" in args:
        stmt = stmt.where(UploadReview.status == args["status"])
    if "fi_code" in args:
        stmt = stmt.where(UploadReview.fi_code == args["fi_code"].strip().upper())
    if "region" in args:
        stmt = stmt.where(Institution.region_code.startswith(args["region"]))
    return stmt


def review_view(review: UploadReview, institution: Institution) -> dict[str, Any]:
    return {
        "id": review.id,
        "fi_code": review.fi_code,
        "name": institution.name,
        "region_code": institution.region_code,
        "field_group": review.field_group,
        "value": review.value,
        "flags": list(review.flags),
        "flag_labels": [FLAG_LABELS.get(f, f) for f in review.flags],
        "actor": review.actor,
        "event_id": review.event_id,
        "status": review.status,
        "created_at": review.created_at,
        "decided_at": review.decided_at,
        "decided_by": review.decided_by,
        "reason": review.reason,
    }


def _page_views(items: list[UploadReview]) -> list[dict[str, Any]]:
    codes = {r.fi_code for r in items}
    outlets = {
        i.fi_code: i
        for i in db_session().scalars(select(Institution).where(Institution.fi_code.in_(codes)))
    }
    return [review_view(r, outlets[r.fi_code]) for r in items]


@blp.route("/reviews")
class Reviews(MethodView):
    @blp.arguments(ProReviewListArgs, location="query")
    @blp.response(200, ProReviewPageSchema)
    @blp.alt_response(401, schema=ErrorSchema, description=_UNAUTHORIZED)
    @blp.alt_response(403, schema=ErrorSchema, description="须先修改临时密码 / change password")
    @blp.alt_response(422, schema=ErrorSchema, description="筛选条件有误 / a bad filter")
    @blp.doc(security=PRO_SECURITY)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """待审核上传 — held staff uploads in your jurisdiction, oldest first."""
        account = current_account("review.list")
        stmt = filtered(select(UploadReview), account, args)
        page = keyset_page(db_session(), stmt, UploadReview.id, args)
        return {"items": _page_views(page.items), "next_after": page.next_after}


@blp.route("/reviews/export")
class ReviewsExport(MethodView):
    @blp.arguments(ProReviewExportArgs, location="query")
    @blp.alt_response(401, schema=ErrorSchema, description=_UNAUTHORIZED)
    @blp.alt_response(403, schema=ErrorSchema, description="须先修改临时密码 / change password")
    @blp.doc(security=PRO_SECURITY, **export_doc("待审核上传 / held uploads"))
    def get(self, args: dict[str, Any]) -> Response:
        """导出待审核上传 — the same list as a CSV or XLSX file."""
        account = current_account("review.export")
        stmt = filtered(select(UploadReview, Institution), account, args)
        rows = db_session().execute(stmt.order_by(UploadReview.id).limit(EXPORT_LIMIT + 1))
        return export_response(
            "held-uploads", REVIEW_COLUMNS, (review_view(r, i) for r, i in rows), args["format"]
        )


def _decide(
    review_id: int, action: str, decide: Callable[[Session, str], int | None]
) -> dict[str, Any]:
    """Look the review up in the jurisdiction (locked), decide it, audit, commit."""
    current_scope(action, write=True)
    account = current_account(action)
    review, institution = visible_row(
        select(UploadReview, Institution)
        .join(Institution, Institution.fi_code == UploadReview.fi_code)
        .where(UploadReview.id == review_id)
        .with_for_update(of=UploadReview),
        "upload_review",
        review_id,
        account=account,
        action=action,
    )
    session = db_session()
    try:
        event_id = decide(session, actor_label(account))
    except ReviewError as exc:
        conflict(
            f"已审核过 / already decided: {exc}",
            action=action,
            account=account,
            kind="upload_review",
            target_id=review_id,
            reason="already_decided",
        )
    except PhotoLimit:
        conflict(
            f"网点已有 {MAX_PHOTOS} 张照片，请先删除一张 / the outlet already shows "
            f"{MAX_PHOTOS} photos: remove one first",
            action=action,
            account=account,
            kind="upload_review",
            target_id=review_id,
            reason="photo_limit",
        )
    audit(
        action,
        "ok",
        actor=account,
        filed=filed_for(institution),
        target_kind="upload_review",
        target_id=review_id,
        detail={"fi_code": review.fi_code, "event_id": event_id},
    )
    session.commit()
    session.refresh(review)
    return {"review": review_view(review, institution), "event_id": event_id}


@blp.route("/reviews/<int:review_id>/accept")
class AcceptReview(MethodView):
    @blp.response(200, ProReviewDecisionSchema)
    @blp.alt_response(401, schema=ErrorSchema, description=_UNAUTHORIZED)
    @blp.alt_response(403, schema=ErrorSchema, description=_READ_ONLY)
    @blp.alt_response(404, schema=ErrorSchema, description=_NOT_VISIBLE)
    @blp.alt_response(409, schema=ErrorSchema, description=_DECIDED)
    @blp.doc(security=PRO_SECURITY)
    def post(self, review_id: int) -> dict[str, Any]:
        """通过 — publish the held upload (a new change event, channel pro_update)."""
        return _decide(
            review_id,
            "review.accept",
            lambda session, actor: review_decisions.accept(session, review_id, actor),
        )


@blp.route("/reviews/<int:review_id>/reject")
class RejectReview(MethodView):
    @blp.arguments(ProRejectArgs())
    @blp.response(200, ProReviewDecisionSchema)
    @blp.alt_response(401, schema=ErrorSchema, description=_UNAUTHORIZED)
    @blp.alt_response(403, schema=ErrorSchema, description=_READ_ONLY)
    @blp.alt_response(404, schema=ErrorSchema, description=_NOT_VISIBLE)
    @blp.alt_response(409, schema=ErrorSchema, description="已审核过 / already decided")
    @blp.alt_response(422, schema=ErrorSchema, description="须说明理由 / a reason is required")
    @blp.doc(security=PRO_SECURITY)
    def post(self, args: dict[str, Any], review_id: int) -> dict[str, Any]:
        """驳回 — refuse the held upload with a reason; the public never sees it."""

        def reject(session: Session, actor: str) -> None:
            review_decisions.reject(session, review_id, actor, args["reason"])

        return _decide(review_id, "review.reject", reject)
