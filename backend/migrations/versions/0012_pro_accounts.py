"""Professional accounts and the audit log.

- `pro_account`: PBoC administrators (jurisdiction = region-code prefix),
  institution administrators (a legal entity within a prefix) and read-only
  auditors; argon2id password hashes, lock-out, disabling. Their bearer tokens
  live in `auth_token` (subject_kind 'account', migration 0011).
- `audit_log`: every write, sign-in and refusal of the professional API, filed
  under a jurisdiction; append-only (a trigger refuses UPDATE and DELETE).

Revision ID: 0012_pro_accounts
Revises: 0011_staff_uploads
Create Date: 2026-12-09
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0012_pro_accounts"
down_revision = "0011_staff_uploads"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "pro_account",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("username", sa.Text(), nullable=False, unique=True),
        sa.Column("display_name", sa.Text(), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("region_prefix", sa.String(6), nullable=False),
        sa.Column("legal_entity_code", sa.String(14)),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("must_change_password", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", TZ),
        sa.Column("disabled_at", TZ),
        sa.Column("created_by", sa.BigInteger(), sa.ForeignKey("pro_account.id")),
        sa.Column("created_at", TZ, server_default=sa.func.now(), nullable=False),
        sa.Column("password_changed_at", TZ),
        sa.Column("last_login_at", TZ),
        sa.CheckConstraint("role IN ('pboc_admin', 'institution_admin', 'auditor')", name="role"),
        sa.CheckConstraint("region_prefix ~ '^([0-9]{2}){1,3}$'", name="region_prefix_format"),
        sa.CheckConstraint(
            "role <> 'pboc_admin' OR legal_entity_code IS NULL", name="pboc_no_legal_entity"
        ),
        sa.CheckConstraint(
            "role <> 'institution_admin' OR legal_entity_code IS NOT NULL",
            name="institution_admin_legal_entity",
        ),
        sa.CheckConstraint("username ~ '^[a-z0-9][a-z0-9._@-]{2,63}$'", name="username_format"),
    )

    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("at", TZ, server_default=sa.func.now(), nullable=False),
        sa.Column("actor_id", sa.BigInteger()),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("action", sa.String(48), nullable=False),
        sa.Column("outcome", sa.String(8), nullable=False),
        sa.Column("target_kind", sa.String(16)),
        sa.Column("target_id", sa.Text()),
        sa.Column("region_code", sa.String(6)),
        sa.Column("legal_entity_code", sa.String(14)),
        sa.Column("detail", postgresql.JSONB(), nullable=False),
        sa.Column("client_hash", sa.Text()),
        sa.Column("request_id", sa.Text()),
        sa.CheckConstraint("outcome IN ('ok', 'denied', 'failed')", name="outcome"),
        sa.CheckConstraint(
            "client_hash IS NULL OR client_hash ~ '^[0-9a-f]{64}$'", name="client_hash_format"
        ),
    )
    # Reading the log is a region-prefix filter (LIKE '3201%'), like institutions.
    op.create_index(
        "ix_audit_log_region_code",
        "audit_log",
        ["region_code"],
        postgresql_ops={"region_code": "text_pattern_ops"},
    )
    op.create_index("ix_audit_log_actor_id", "audit_log", ["actor_id"])
    op.create_index("ix_audit_log_target", "audit_log", ["target_kind", "target_id"])
    op.execute(
        """
        CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
        "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
    op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    op.drop_table("audit_log")
    op.drop_table("pro_account")
