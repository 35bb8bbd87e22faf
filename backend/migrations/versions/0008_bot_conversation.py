"""What the chat bot remembers per user: last position, last results, last search.

One row per user (a keyed hash, never the channel's id), read and upserted
with every message so that any worker can continue a conversation
(bot/conversation.py). `updated_at` is indexed for purging idle rows.

Revision ID: 0008_bot_conversation
Revises: 0007_wechat_messages
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008_bot_conversation"
down_revision = "0007_wechat_messages"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bot_conversation",
        sa.Column("user_key", sa.Text(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lng", sa.Float(), nullable=True),
        sa.Column("location_label", sa.Text(), nullable=True),
        sa.Column("location_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("results", postgresql.JSONB(), nullable=False),
        sa.Column("search", postgresql.JSONB(), nullable=True),
        sa.Column("pending", postgresql.JSONB(), nullable=True),
        sa.Column("results_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("user_key", name=op.f("pk_bot_conversation")),
    )
    op.create_index("ix_bot_conversation_updated_at", "bot_conversation", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_bot_conversation_updated_at", table_name="bot_conversation")
    op.drop_table("bot_conversation")
