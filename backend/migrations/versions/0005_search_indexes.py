"""Indexes for the finder's text search and business-type filters.

Trigram (pg_trgm) GIN indexes let `name ILIKE '%新街口%'` and the similarity
operator `%` find names and addresses without reading every row; they work on
Chinese because the database's ctype is UTF-8 (C.UTF-8). The GIN index on
business_types serves "offers all of these" (`@>`).

Revision ID: 0005_search_indexes
Revises: 0004_public_feedback
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0005_search_indexes"
down_revision = "0004_public_feedback"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_institution_name_trgm",
        "institution",
        ["name"],
        postgresql_using="gin",
        postgresql_ops={"name": "gin_trgm_ops"},
    )
    op.create_index(
        "ix_institution_address_trgm",
        "institution",
        ["address"],
        postgresql_using="gin",
        postgresql_ops={"address": "gin_trgm_ops"},
    )
    op.create_index(
        "ix_outlet_profile_business_types",
        "outlet_profile",
        ["business_types"],
        postgresql_using="gin",
    )


def downgrade() -> None:
    op.drop_index("ix_outlet_profile_business_types", table_name="outlet_profile")
    op.drop_index("ix_institution_address_trgm", table_name="institution")
    op.drop_index("ix_institution_name_trgm", table_name="institution")
