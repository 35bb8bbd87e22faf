"""Error receipts stored line by line; import options kept with the batch.

Revision ID: 0002_import_receipts
Revises: 0001_core_schema
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002_import_receipts"
down_revision = "0001_core_schema"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_column("import_batch", "receipt")
    op.add_column(
        "import_batch",
        sa.Column(
            "options",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=False,
            server_default=sa.text("'{}'::jsonb"),
        ),
    )
    op.alter_column("import_batch", "options", server_default=None)
    op.create_table(
        "import_issue",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("batch_id", sa.BigInteger(), nullable=False),
        sa.Column("row_no", sa.Integer(), nullable=True),
        sa.Column("fi_code", sa.Text(), nullable=True),
        sa.Column("column_name", sa.Text(), nullable=True),
        sa.Column("rule_id", sa.String(length=32), nullable=False),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("message_zh", sa.Text(), nullable=False),
        sa.Column("message_en", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["import_batch.id"],
            name=op.f("fk_import_issue_batch_id_import_batch"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_issue")),
    )
    op.create_index(op.f("ix_import_issue_batch_id"), "import_issue", ["batch_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_import_issue_batch_id"), table_name="import_issue")
    op.drop_table("import_issue")
    op.drop_column("import_batch", "options")
    op.add_column(
        "import_batch", sa.Column("receipt", postgresql.JSONB(astext_type=sa.Text()), nullable=True)
    )
