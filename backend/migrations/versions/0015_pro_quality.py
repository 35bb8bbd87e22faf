"""Data-quality reports and rollout statistics of the professional API.

- `feedback.employer_region_code`: the region an install registrant works in
  (a current county, city or province code), optional, so that registrations
  count for the PBoC office of that area (`reports.rollout`); a legal entity
  alone does not say which office's area its staff are in.

The quality reports themselves need no new index: they are single GROUP BY
scans over `institution` ⋈ `outlet_profile`, and the "not updated" and
"inaccurate" lists probe the existing (fi_code, at) index of `change_event`
and (fi_code, status, created_at) index of `error_report`.

Revision ID: 0015_pro_quality
Revises: 0014_pro_registry
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_pro_quality"
down_revision = "0014_pro_registry"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("feedback", sa.Column("employer_region_code", sa.String(6), nullable=True))
    op.create_check_constraint(
        op.f("ck_feedback_employer_region_code"),
        "feedback",
        "employer_region_code IS NULL OR (kind = 'install_registration' "
        "AND employer_region_code ~ '^[0-9]{6}$')",
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_feedback_employer_region_code"), "feedback", type_="check")
    op.drop_column("feedback", "employer_region_code")
