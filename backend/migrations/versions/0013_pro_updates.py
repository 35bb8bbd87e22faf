"""Info updates of the professional app: an accepted error report names the fix.

- `error_report.resolution_event_id`: the change event that fixed the field a
  public error report was right about (accepted through the professional app),
  so "verified" can be traced to what changed. Only an accepted report has one.
  The status vocabulary stays `open` / `accepted` (= verified) / `rejected`.

Revision ID: 0013_pro_updates
Revises: 0012_pro_accounts
Create Date: 2026-12-12
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_pro_updates"
down_revision = "0012_pro_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "error_report",
        sa.Column(
            "resolution_event_id",
            sa.BigInteger(),
            sa.ForeignKey(
                "change_event.id", name=op.f("fk_error_report_resolution_event_id_change_event")
            ),
        ),
    )
    op.create_check_constraint(
        op.f("ck_error_report_fix_only_when_accepted"),
        "error_report",
        "status = 'accepted' OR resolution_event_id IS NULL",
    )


def downgrade() -> None:
    op.drop_constraint(
        op.f("ck_error_report_fix_only_when_accepted"), "error_report", type_="check"
    )
    op.drop_column("error_report", "resolution_event_id")
