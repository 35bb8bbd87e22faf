"""Deciding held uploads: accept (apply the held value as a new, published event) or reject.

Apart from `uploads.reviews` (holding an upload) because accepting a held photo publishes
it through `uploads.outlet_photos`, which itself holds flagged photos.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.models.registry import Institution
from core.models.reviews import UploadReview
from profiles.profile_changes import change_group
from uploads.outlet_photos import publish_held


class ReviewError(Exception):
    pass


def _decidable(session: Session, review_id: int) -> UploadReview:
    review = session.execute(
        select(UploadReview).where(UploadReview.id == review_id).with_for_update()
    ).scalar_one_or_none()
    if review is None:
        raise ReviewError(f"no review {review_id}")
    if review.status != "open":
        raise ReviewError(f"review {review_id} is already {review.status}")
    return review


def accept(session: Session, review_id: int, actor: str, channel: str = "pro_update") -> int:
    """Apply the held value (a new, published event); returns that event's id."""
    review = _decidable(session, review_id)
    institution_id = session.execute(
        select(Institution.id).where(Institution.fi_code == review.fi_code)
    ).scalar_one()
    if review.field_group == "photos":
        change = publish_held(session, institution_id, review.fi_code, review.value, actor)
    else:
        change = change_group(
            session,
            institution_id,
            review.fi_code,
            review.field_group,
            review.value,
            actor=actor,
            channel=channel,
            note={"accepted_review": review.id},
        )
    review.status = "accepted"
    review.decided_by = actor
    review.decided_at = func.now()
    return change.event_id


def reject(session: Session, review_id: int, actor: str, reason: str) -> None:
    if not reason.strip():
        raise ReviewError("a rejection needs a reason")
    review = _decidable(session, review_id)
    review.status = "rejected"
    review.decided_by = actor
    review.reason = reason.strip()
    review.decided_at = func.now()
