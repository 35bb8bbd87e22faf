"""Public error reports, feedback with install registrations, and rate-limit counters.

`error_report` is read per outlet and status, newest first (the "inaccurate"
lists); `feedback` is counted per kind and per employer (the rollout ranking).
`rate_limit_bucket` holds per-client hit counts so that every web worker sees
the same counters (core/ratelimit.py).

Revision ID: 0004_public_feedback
Revises: 0003_source_fingerprint
Create Date: 2026-11-24
"""

from __future__ import annotations

import geoalchemy2
import sqlalchemy as sa
from alembic import op

revision = "0004_public_feedback"
down_revision = "0003_source_fingerprint"
branch_labels = None
depends_on = None

REPORT_KINDS = "'position', 'address', 'phone', 'hours', 'business_types', 'closed', 'other'"
HASH_FORMAT = "client_key_hash ~ '^[0-9a-f]{64}$'"


def upgrade() -> None:
    op.create_table(
        "error_report",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("fi_code", sa.String(length=14), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column(
            "suggested_position",
            geoalchemy2.types.Geography(
                geometry_type="POINT",
                srid=4326,
                spatial_index=False,
                from_text="ST_GeogFromText",
                name="geography",
            ),
            nullable=True,
        ),
        sa.Column("suggested_coord_system", sa.String(length=5), nullable=True),
        sa.Column("contact", sa.Text(), nullable=True),
        sa.Column("client_key_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=8), server_default="open", nullable=False),
        sa.Column("resolution_reason", sa.Text(), nullable=True),
        sa.Column("resolved_by", sa.Text(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(f"kind IN ({REPORT_KINDS})", name=op.f("ck_error_report_kind")),
        sa.CheckConstraint(
            "status IN ('open', 'accepted', 'rejected')", name=op.f("ck_error_report_status")
        ),
        sa.CheckConstraint(
            "char_length(comment) <= 500", name=op.f("ck_error_report_comment_length")
        ),
        sa.CheckConstraint(
            "char_length(contact) <= 100", name=op.f("ck_error_report_contact_length")
        ),
        sa.CheckConstraint(
            "suggested_coord_system IS NULL OR "
            "suggested_coord_system IN ('wgs84', 'gcj02', 'bd09')",
            name=op.f("ck_error_report_suggested_coord_system"),
        ),
        sa.CheckConstraint(
            "(suggested_position IS NULL) = (suggested_coord_system IS NULL)",
            name=op.f("ck_error_report_suggested_position_has_system"),
        ),
        sa.CheckConstraint(HASH_FORMAT, name=op.f("ck_error_report_client_key_hash_format")),
        sa.CheckConstraint(
            "(status = 'open') = (resolved_at IS NULL)",
            name=op.f("ck_error_report_resolved_iff_closed"),
        ),
        sa.CheckConstraint(
            "status <> 'rejected' OR resolution_reason IS NOT NULL",
            name=op.f("ck_error_report_rejected_has_reason"),
        ),
        sa.ForeignKeyConstraint(
            ["fi_code"], ["institution.fi_code"], name=op.f("fk_error_report_fi_code_institution")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_error_report")),
    )
    op.create_index(
        "ix_error_report_fi_code_status_created_at",
        "error_report",
        ["fi_code", "status", "created_at"],
    )

    op.create_table(
        "feedback",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("contact", sa.Text(), nullable=True),
        sa.Column("staff_name", sa.Text(), nullable=True),
        sa.Column("employer_name", sa.Text(), nullable=True),
        sa.Column("employer_fi_code", sa.String(length=14), nullable=True),
        sa.Column("client_key_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind IN ('suggestion', 'problem', 'install_registration')",
            name=op.f("ck_feedback_kind"),
        ),
        sa.CheckConstraint("char_length(text) <= 1000", name=op.f("ck_feedback_text_length")),
        sa.CheckConstraint("char_length(contact) <= 100", name=op.f("ck_feedback_contact_length")),
        sa.CheckConstraint(
            "(kind = 'install_registration') = "
            "(staff_name IS NOT NULL AND employer_name IS NOT NULL)",
            name=op.f("ck_feedback_registration_names"),
        ),
        sa.CheckConstraint(
            "kind = 'install_registration' OR employer_fi_code IS NULL",
            name=op.f("ck_feedback_employer_code_only_for_registration"),
        ),
        sa.CheckConstraint(HASH_FORMAT, name=op.f("ck_feedback_client_key_hash_format")),
        sa.ForeignKeyConstraint(
            ["employer_fi_code"],
            ["institution.fi_code"],
            name=op.f("fk_feedback_employer_fi_code_institution"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback")),
    )
    op.create_index("ix_feedback_kind_created_at", "feedback", ["kind", "created_at"])
    op.create_index(op.f("ix_feedback_employer_fi_code"), "feedback", ["employer_fi_code"])

    op.create_table(
        "rate_limit_bucket",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", "window_start", name=op.f("pk_rate_limit_bucket")),
    )


def downgrade() -> None:
    op.drop_table("rate_limit_bucket")
    op.drop_index(op.f("ix_feedback_employer_fi_code"), table_name="feedback")
    op.drop_index("ix_feedback_kind_created_at", table_name="feedback")
    op.drop_table("feedback")
    op.drop_index("ix_error_report_fi_code_status_created_at", table_name="error_report")
    op.drop_table("error_report")
