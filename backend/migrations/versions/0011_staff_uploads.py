"""Outlet staff: sign-in tokens, upload tasks and binding codes, photos, uploads held for review.

- `auth_token`: bearer tokens by sha256 (staff now, professional accounts later).
- `staff_member` (keyed hash of the WeChat openid), `upload_task` (one per
  outlet, with the keyed hash of its current binding code), `staff_binding`.
- `outlet_photo`: which outlet shows which stored photo, front photo, EXIF position.
- `upload_review` and `change_event.published`: an upload held for review is
  recorded as an unpublished event and waits in `upload_review`.
- Every active outlet gets its upload task (new ones get theirs from the
  registry sync, `uploads.staff.create_auto_tasks`).

Revision ID: 0011_staff_uploads
Revises: 0010_bot_search_indexes
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geography
from sqlalchemy.dialects import postgresql

revision = "0011_staff_uploads"
down_revision = "0010_bot_search_indexes"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "auth_token",
        sa.Column("token_sha256", sa.Text(), primary_key=True),
        sa.Column("subject_kind", sa.String(8), nullable=False),
        sa.Column("subject_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", TZ, server_default=sa.func.now(), nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("revoked_at", TZ),
        sa.CheckConstraint("token_sha256 ~ '^[0-9a-f]{64}$'", name="token_sha256_format"),
        sa.CheckConstraint("subject_kind IN ('staff', 'account')", name="subject_kind"),
    )
    op.create_index("ix_auth_token_subject", "auth_token", ["subject_kind", "subject_id"])
    op.create_index("ix_auth_token_expires_at", "auth_token", ["expires_at"])

    op.create_table(
        "staff_member",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("openid_hash", sa.Text(), nullable=False, unique=True),
        sa.Column("created_at", TZ, server_default=sa.func.now(), nullable=False),
        sa.Column("last_login_at", TZ, server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("openid_hash ~ '^[0-9a-f]{64}$'", name="openid_hash_format"),
    )
    op.create_table(
        "upload_task",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column(
            "institution_id",
            sa.BigInteger(),
            sa.ForeignKey("institution.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
        sa.Column("status", sa.String(16), nullable=False, server_default="assigned"),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_at", TZ, server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", TZ, server_default=sa.func.now(), nullable=False),
        sa.Column("code_hash", sa.Text(), unique=True),
        sa.Column("code_issued_by", sa.Text()),
        sa.Column("code_expires_at", TZ),
        sa.Column("submitted_at", TZ),
        sa.Column("confirmed_at", TZ),
        sa.Column("confirmed_by", sa.Text()),
        sa.CheckConstraint(
            "status IN ('assigned', 'in_progress', 'submitted', 'confirmed')", name="status"
        ),
        sa.CheckConstraint("code_hash IS NULL OR code_hash ~ '^[0-9a-f]{64}$'", name="code_hash"),
    )
    op.create_index("ix_upload_task_status", "upload_task", ["status"])
    op.create_table(
        "staff_binding",
        sa.Column(
            "staff_id",
            sa.BigInteger(),
            sa.ForeignKey("staff_member.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "institution_id",
            sa.BigInteger(),
            sa.ForeignKey("institution.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("bound_at", TZ, server_default=sa.func.now(), nullable=False),
    )
    op.create_index("ix_staff_binding_institution_id", "staff_binding", ["institution_id"])

    op.create_table(
        "outlet_photo",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column(
            "institution_id",
            sa.BigInteger(),
            sa.ForeignKey("institution.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("is_front", sa.Boolean(), nullable=False, server_default="false"),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("source_format", sa.String(8), nullable=False),
        sa.Column(
            "exif_position",
            Geography(geometry_type="POINT", srid=4326, spatial_index=False),
            nullable=True,
        ),
        sa.Column("exif_distance_m", sa.Float()),
        sa.Column("taken_at", TZ),
        sa.Column("uploaded_by", sa.Text(), nullable=False),
        sa.Column("uploaded_at", TZ, server_default=sa.func.now(), nullable=False),
        sa.UniqueConstraint("institution_id", "key"),
        sa.CheckConstraint("status IN ('published', 'flagged', 'removed')", name="status"),
        sa.CheckConstraint("key ~ '^[0-9a-f]{64}$'", name="key_format"),
    )
    op.create_index("ix_outlet_photo_institution_id", "outlet_photo", ["institution_id"])
    op.create_index("ix_outlet_photo_key", "outlet_photo", ["key"])

    op.add_column(
        "change_event",
        sa.Column("published", sa.Boolean(), nullable=False, server_default="true"),
    )
    op.create_table(
        "upload_review",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("fi_code", sa.String(14), nullable=False),
        sa.Column("field_group", sa.String(32), nullable=False),
        sa.Column("value", postgresql.JSONB()),
        sa.Column("flags", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("event_id", sa.BigInteger(), sa.ForeignKey("change_event.id"), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("status", sa.String(8), nullable=False, server_default="open"),
        sa.Column("created_at", TZ, server_default=sa.func.now(), nullable=False),
        sa.Column("decided_at", TZ),
        sa.Column("decided_by", sa.Text()),
        sa.Column("reason", sa.Text()),
        sa.CheckConstraint("status IN ('open', 'accepted', 'rejected')", name="status"),
    )
    op.create_index("ix_upload_review_fi_code_status", "upload_review", ["fi_code", "status"])
    op.execute(
        "INSERT INTO upload_task (institution_id, created_by) "
        "SELECT id, 'system' FROM institution "
        "WHERE level IN ('sub_branch', 'outlet') AND status = 'active'"
    )


def downgrade() -> None:
    op.drop_table("upload_review")
    op.drop_column("change_event", "published")
    op.drop_table("outlet_photo")
    op.drop_table("staff_binding")
    op.drop_table("upload_task")
    op.drop_table("staff_member")
    op.drop_table("auth_token")
