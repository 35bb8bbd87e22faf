"""An index of the head offices, for the list of institutions.

`GET /api/mp/v1/institutions` (the filter the finder and the H5 page offer) and the chat
bot's lexicon list the active head offices, a few hundred rows among a million outlets
and their ATMs; without an index that was a scan of the whole table, 0.5 s at a million
outlets, the H5 page's slowest request before its first list.

Revision ID: 0019_head_office_index
Revises: 0018_change_feed_xid
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019_head_office_index"
down_revision = "0018_change_feed_xid"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_institution_head_offices",
        "institution",
        ["fi_code"],
        postgresql_where=sa.text("level = 'head_office'"),
    )


def downgrade() -> None:
    op.drop_index("ix_institution_head_offices", table_name="institution")
