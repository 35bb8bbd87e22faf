"""WeChat messages already answered, so that WeChat's retries are answered once.

WeChat re-sends a message it got no answer to within 5 seconds, up to three
times, possibly to another worker or host; `wechat_message` holds one row per
message (a keyed sha256 of its MsgId, or of FromUserName + CreateTime for
events, never an openid in clear) with the reply we gave, so a retry replays
it instead of asking the bot again (bot/wechat_store.py). Rows older than a day
are purged; `received_at` is indexed for that.

Revision ID: 0007_wechat_messages
Revises: 0006_outlet_grid
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_wechat_messages"
down_revision = "0006_outlet_grid"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wechat_message",
        sa.Column("msg_key", sa.Text(), nullable=False),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("reply", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "msg_key ~ '^[0-9a-f]{64}$'", name=op.f("ck_wechat_message_msg_key_format")
        ),
        sa.PrimaryKeyConstraint("msg_key", name=op.f("pk_wechat_message")),
    )
    op.create_index("ix_wechat_message_received_at", "wechat_message", ["received_at"])


def downgrade() -> None:
    op.drop_index("ix_wechat_message_received_at", table_name="wechat_message")
    op.drop_table("wechat_message")
