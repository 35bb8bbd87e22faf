"""Uploads held for review instead of published (待审核).

Staff uploads go live at once (DOMAIN.md: the public should see them), except
what looks wrong: a position outside the outlet's region, one that moves a
confirmed position by more than 2 km, a photo taken far from the outlet. Such
an upload is recorded (a change event with `published = false`) and waits here
until the institution or its PBoC office accepts it (then it is applied, as a
new event) or rejects it with a reason.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    select,
)
from sqlalchemy.orm import Session

from core.models.reviews import UploadReview

REVIEW_STATUSES = ("open", "accepted", "rejected")
FLAG_LABELS = {
    "outside_region": "位置不在网点所属行政区内 / position outside the outlet's region",
    "moves_confirmed": "位置与已确认位置相距超过 2 公里 / moves a confirmed position by over 2 km",
    "photo_far_away": "照片拍摄地点离网点较远 / photo taken far from the outlet",
}


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
