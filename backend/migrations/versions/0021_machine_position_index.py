"""A spatial index of the self-service points and ATMs alone.

"附近哪里能取钱" asks for the nearest machines. The index of branches (0020) cannot serve
it and the index of every outlet walks the branches too: where a county has no machine,
or at a million outlets loaded before machines existed, the walk read every outlet
(0.25 s a message). With this index the nearest machines come first, or none at once.
The planner matches `kind = ANY('{atm,self_service}')` (or one of them) to its predicate
because geo.search sends the kinds as literals.

Revision ID: 0021_machine_position_index
Revises: 0020_outlet_kinds
Create Date: 2026-12-08
"""

from __future__ import annotations

from alembic import op

revision = "0021_machine_position_index"
down_revision = "0020_outlet_kinds"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX ix_outlet_profile_position_machines ON outlet_profile "
        "USING gist (position) WHERE kind IN ('atm', 'self_service')"
    )


def downgrade() -> None:
    op.execute("DROP INDEX ix_outlet_profile_position_machines")
