"""Indexes the chat bot's searches need at a million outlets.

- A trigram index on `short_name`: the text filter is an OR over name, address
  and short name; one unindexed branch made PostgreSQL read every row (2–4 s).
- `(legal_entity_code, fi_code)` instead of `legal_entity_code` alone: "建行"
  without a position lists a bank's outlets in fi_code order, which walked the
  fi_code index past every other bank's rows first (up to 0.5 s).

Revision ID: 0010_bot_search_indexes
Revises: 0009_outlet_name_words
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0010_bot_search_indexes"
down_revision = "0009_outlet_name_words"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_institution_short_name_trgm",
        "institution",
        ["short_name"],
        postgresql_using="gin",
        postgresql_ops={"short_name": "gin_trgm_ops"},
    )
    op.create_index(
        "ix_institution_legal_entity_code_fi_code",
        "institution",
        ["legal_entity_code", "fi_code"],
    )
    op.drop_index("ix_institution_legal_entity_code", table_name="institution")
    op.execute("ANALYZE institution")  # the planner must know the new index's selectivity


def downgrade() -> None:
    op.create_index("ix_institution_legal_entity_code", "institution", ["legal_entity_code"])
    op.drop_index("ix_institution_legal_entity_code_fi_code", table_name="institution")
    op.drop_index("ix_institution_short_name_trgm", table_name="institution")
