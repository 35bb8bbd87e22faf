"""Uploads held for review instead of published (待审核).

Staff uploads go live at once (DOMAIN.md: the public should see them), except
what looks wrong: a position outside the outlet's region, one that moves a
confirmed position by more than 2 km, a photo taken far from the outlet. Such
an upload is recorded (a change event with `published = false`) and waits here
until the institution or its PBoC office accepts it (then it is applied, as a
new event) or rejects it with a reason.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    String,
    Text,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.base import Base
from core.models.registry import Institution
from profiles.profile_changes import change_group

REVIEW_STATUSES = ("open", "accepted", "rejected")
FLAG_LABELS = {
    "outside_region": "位置不在网点所属行政区内 / position outside the outlet's region",
    "moves_confirmed": "位置与已确认位置相距超过 2 公里 / moves a confirmed position by over 2 km",
    "photo_far_away": "照片拍摄地点离网点较远 / photo taken far from the outlet",
}


class UploadReview(Base):
    """One held upload and what became of it."""

    __tablename__ = "upload_review"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'accepted', 'rejected')", name="status"),
        Index("ix_upload_review_fi_code_status", "fi_code", "status"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    fi_code: Mapped[str] = mapped_column(String(14))
    field_group: Mapped[str] = mapped_column(String(32))
    value: Mapped[Any] = mapped_column(JSONB, nullable=True)
    flags: Mapped[list[str]] = mapped_column(ARRAY(Text))
    event_id: Mapped[int] = mapped_column(ForeignKey("change_event.id"))
    actor: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(8), default="open")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)


def hold(
    session: Session,
    fi_code: str,
    group: str,
    value: Any,
    flags: list[str],
    event_id: int,
    actor: str,
) -> int:
    review = UploadReview(
        fi_code=fi_code,
        field_group=group,
        value=value,
        flags=flags,
        event_id=event_id,
        actor=actor,
    )
    session.add(review)
    session.flush()
    return review.id


def open_reviews(session: Session, fi_code: str | None = None) -> list[UploadReview]:
    stmt = select(UploadReview).where(UploadReview.status == "open")
    if fi_code:
        stmt = stmt.where(UploadReview.fi_code == fi_code)
    return list(session.scalars(stmt.order_by(UploadReview.id).limit(1000)))


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
        from uploads.outlet_photos import publish_held

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
