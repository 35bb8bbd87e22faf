"""Fingerprint of the source record an institution was last loaded from.

A registry sync re-sends mostly unchanged records. When every row of a file
has the fingerprint stored with its institution, the file is what the registry
already holds and validation can be skipped. Any change of the data by another
route (an info update, a revocation) must void the fingerprint, so a trigger
clears it whenever data columns change without a new fingerprint being set.

Revision ID: 0003_source_fingerprint
Revises: 0002_import_receipts
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_source_fingerprint"
down_revision = "0002_import_receipts"
branch_labels = None
depends_on = None

DATA = (
    "name, short_name, category, legal_entity_code, parent_code, level, region_code, address, "
    "postcode, phone, licence_no, uscc, status, established_on, revoked_on"
)


def upgrade() -> None:
    op.add_column("institution", sa.Column("source_fingerprint", sa.String(length=32)))
    new = ", ".join(f"NEW.{c.strip()}" for c in DATA.split(","))
    old = ", ".join(f"OLD.{c.strip()}" for c in DATA.split(","))
    op.execute(
        f"""
        CREATE FUNCTION institution_void_fingerprint() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.source_fingerprint IS NOT DISTINCT FROM OLD.source_fingerprint
               AND ROW({new}) IS DISTINCT FROM ROW({old}) THEN
                NEW.source_fingerprint := NULL;
            END IF;
            RETURN NEW;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER institution_void_fingerprint BEFORE UPDATE ON institution "
        "FOR EACH ROW EXECUTE FUNCTION institution_void_fingerprint()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS institution_void_fingerprint ON institution")
    op.execute("DROP FUNCTION IF EXISTS institution_void_fingerprint()")
    op.drop_column("institution", "source_fingerprint")
