"""Public error reports and general feedback (the logic: `feedback.submissions`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from geoalchemy2 import Geography
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
)
from sqlalchemy.orm import Mapped, mapped_column

from core.base import Base
from core.coords import COORD_SYSTEMS

REPORT_KINDS = ("position", "address", "phone", "hours", "business_types", "closed", "other")
REPORT_STATUSES = ("open", "accepted", "rejected")
FEEDBACK_KINDS = ("suggestion", "problem", "install_registration")
MAX_COMMENT = 500
MAX_CONTACT = 100
MAX_TEXT = 1000


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class ErrorReport(Base):
    """A member of the public saying an outlet's data is wrong (信息纠错).

    `status` (the vocabulary every reader uses, `REPORT_STATUSES`):

    - `open`: new, not decided yet (`resolved_at` is NULL, and only then);
    - `accepted`: verified (核实) by the institution or its PBoC office: the
      report was right. `resolution_event_id` is the change event that fixed
      the field, NULL when the fix had already been made or nothing could be
      applied (a closed outlet, "other"); `resolution_reason` an optional note;
    - `rejected`: the report was wrong; `resolution_reason` (required) says why.

    `resolved_by` is the deciding actor (`account:<id>`), `resolved_at` when.
    Decisions are `feedback.error_report_decisions`.
    """

    __tablename__ = "error_report"
    __table_args__ = (
        CheckConstraint(_in("kind", REPORT_KINDS), name="kind"),
        CheckConstraint(_in("status", REPORT_STATUSES), name="status"),
        CheckConstraint(f"char_length(comment) <= {MAX_COMMENT}", name="comment_length"),
        CheckConstraint(f"char_length(contact) <= {MAX_CONTACT}", name="contact_length"),
        CheckConstraint(
            f"suggested_coord_system IS NULL OR {_in('suggested_coord_system', COORD_SYSTEMS)}",
            name="suggested_coord_system",
        ),
        CheckConstraint(
            "(suggested_position IS NULL) = (suggested_coord_system IS NULL)",
            name="suggested_position_has_system",
        ),
        CheckConstraint("client_key_hash ~ '^[0-9a-f]{64}$'", name="client_key_hash_format"),
        CheckConstraint("(status = 'open') = (resolved_at IS NULL)", name="resolved_iff_closed"),
        CheckConstraint(
            "status <> 'rejected' OR resolution_reason IS NOT NULL", name="rejected_has_reason"
        ),
        CheckConstraint(
            "status = 'accepted' OR resolution_event_id IS NULL", name="fix_only_when_accepted"
        ),
        Index("ix_error_report_fi_code_status_created_at", "fi_code", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    fi_code: Mapped[str] = mapped_column(ForeignKey("institution.fi_code"))
    kind: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str] = mapped_column(Text)
    suggested_position: Mapped[Any] = mapped_column(
        Geography(geometry_type="POINT", srid=4326, spatial_index=False), nullable=True
    )
    suggested_coord_system: Mapped[str | None] = mapped_column(String(5))
    contact: Mapped[str | None] = mapped_column(Text)
    client_key_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(8), default="open", server_default="open")
    resolution_reason: Mapped[str | None] = mapped_column(Text)
    resolved_by: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolution_event_id: Mapped[int | None] = mapped_column(ForeignKey("change_event.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Feedback(Base):
    """General feedback (意见反馈) and staff install registrations (安装登记)."""

    __tablename__ = "feedback"
    __table_args__ = (
        CheckConstraint(_in("kind", FEEDBACK_KINDS), name="kind"),
        CheckConstraint(f"char_length(text) <= {MAX_TEXT}", name="text_length"),
        CheckConstraint(f"char_length(contact) <= {MAX_CONTACT}", name="contact_length"),
        CheckConstraint(
            "(kind = 'install_registration') = "
            "(staff_name IS NOT NULL AND employer_name IS NOT NULL)",
            name="registration_names",
        ),
        CheckConstraint(
            "kind = 'install_registration' OR employer_fi_code IS NULL",
            name="employer_code_only_for_registration",
        ),
        CheckConstraint(
            "employer_region_code IS NULL OR (kind = 'install_registration' "
            "AND employer_region_code ~ '^[0-9]{6}$')",
            name="employer_region_code",
        ),
        CheckConstraint("client_key_hash ~ '^[0-9a-f]{64}$'", name="client_key_hash_format"),
        Index("ix_feedback_kind_created_at", "kind", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    text: Mapped[str] = mapped_column(Text)
    contact: Mapped[str | None] = mapped_column(Text)
    staff_name: Mapped[str | None] = mapped_column(Text)
    employer_name: Mapped[str | None] = mapped_column(Text)
    employer_fi_code: Mapped[str | None] = mapped_column(
        ForeignKey("institution.fi_code"), index=True
    )
    # Where the registrant works (migration 0013): the PBoC office the install counts for.
    employer_region_code: Mapped[str | None] = mapped_column(String(6))
    client_key_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
