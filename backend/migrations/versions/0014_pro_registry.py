"""Receipt lines filed under a jurisdiction, for the professional app's registry queries.

A registry file is province-wide, but a city office (or an institution) may read only the
error-receipt lines of its own area. `import_issue` therefore gets the region code and
legal entity of the row each line is about (filled by `registry.receipts.attribute_issues`
when a batch is stored). Lines already stored are filed here from the stored record with
their fi_code, the best that can be known after the fact; lines about records that were
never loaded stay unfiled, readable by an office that covers the whole batch.

Revision ID: 0014_pro_registry
Revises: 0013_pro_updates
Create Date: 2026-12-16
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_pro_registry"
down_revision = "0013_pro_updates"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("import_issue", sa.Column("region_code", sa.String(6)))
    op.add_column("import_issue", sa.Column("legal_entity_code", sa.String(14)))
    op.execute(
        """UPDATE import_issue ii
           SET region_code = i.region_code, legal_entity_code = i.legal_entity_code
           FROM institution i WHERE i.fi_code = ii.fi_code"""
    )


def downgrade() -> None:
    op.drop_column("import_issue", "legal_entity_code")
    op.drop_column("import_issue", "region_code")
