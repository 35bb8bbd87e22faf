"""Outlet staff, their upload tasks and their bindings to outlets (the logic: `uploads.staff`)."""

from __future__ import annotations

from datetime import datetime

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


class StaffMember(Base):
    """A mini-program user who redeemed at least one binding code, or tried to."""

    __tablename__ = "staff_member"
    __table_args__ = (CheckConstraint("openid_hash ~ '^[0-9a-f]{64}$'", name="openid_hash_format"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    openid_hash: Mapped[str] = mapped_column(Text, unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_login_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class UploadTask(Base):
    """The data entry of one outlet, handed to its staff."""

    __tablename__ = "upload_task"
    __table_args__ = (
        CheckConstraint(
            "status IN ('assigned', 'in_progress', 'submitted', 'confirmed')", name="status"
        ),
        CheckConstraint("code_hash IS NULL OR code_hash ~ '^[0-9a-f]{64}$'", name="code_hash"),
        Index("ix_upload_task_status", "status"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    institution_id: Mapped[int] = mapped_column(
        ForeignKey("institution.id", ondelete="CASCADE"), unique=True
    )
    status: Mapped[str] = mapped_column(String(16), default="assigned")
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    code_hash: Mapped[str | None] = mapped_column(Text, unique=True)
    code_issued_by: Mapped[str | None] = mapped_column(Text)
    code_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    confirmed_by: Mapped[str | None] = mapped_column(Text)


class StaffBinding(Base):
    """Staff member S may edit outlet I (redeemed a code of I's task)."""

    __tablename__ = "staff_binding"

    staff_id: Mapped[int] = mapped_column(
        ForeignKey("staff_member.id", ondelete="CASCADE"), primary_key=True
    )
    institution_id: Mapped[int] = mapped_column(
        ForeignKey("institution.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    bound_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
