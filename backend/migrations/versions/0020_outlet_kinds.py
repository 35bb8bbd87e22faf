"""Kinds of outlet: branches (营业网点), self-service banks (自助银行) and ATMs.

- `institution.kind` says what a registry record is; every existing record is a branch.
  A self-service point is a record of level `outlet` (check constraint) whose parent is
  the branch it belongs to or stands in (registry rule XRC-KIND-PARENT).
- `outlet_profile.kind` is a copy, kept by triggers and never written by the application:
  a GiST index can only be narrowed by a column of its own table, and with two to three
  ATMs around every branch, "the nearest branches" through the index of every outlet would
  read three to four times the entries. `ix_outlet_profile_position_branch`, a partial
  GiST index of branches alone, hands them out in distance order as before.
- `outlet_grid` counts per cell and kind, so the map's clusters can be narrowed to some
  kinds (and say how many of each they hold) without counting points live.

Revision ID: 0020_outlet_kinds
Revises: 0019_head_office_index
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020_outlet_kinds"
down_revision = "0019_head_office_index"
branch_labels = None
depends_on = None

KINDS = "('branch', 'self_service', 'atm')"

COPY_KIND = """
CREATE FUNCTION outlet_profile_copies_kind() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT i.kind INTO NEW.kind FROM institution i WHERE i.id = NEW.institution_id;
    RETURN NEW;
END
$$
"""

SPREAD_KIND = """
CREATE FUNCTION institution_kind_to_profile() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE outlet_profile SET kind = NEW.kind
    WHERE institution_id = NEW.id AND kind IS DISTINCT FROM NEW.kind;
    RETURN NULL;
END
$$
"""

GRID = """
CREATE MATERIALIZED VIEW outlet_grid AS
SELECT floor(ST_X(o.position::geometry) / 0.01)::integer AS gx,
       floor(ST_Y(o.position::geometry) / 0.01)::integer AS gy,
       o.kind,
       count(*)::integer AS n,
       sum(ST_Y(o.position::geometry)) AS sum_lat,
       sum(ST_X(o.position::geometry)) AS sum_lng
FROM outlet_profile o JOIN institution i ON i.id = o.institution_id
WHERE i.status = 'active' AND o.position IS NOT NULL
GROUP BY 1, 2, 3
"""

OLD_GRID = """
CREATE MATERIALIZED VIEW outlet_grid AS
SELECT floor(ST_X(o.position::geometry) / 0.01)::integer AS gx,
       floor(ST_Y(o.position::geometry) / 0.01)::integer AS gy,
       count(*)::integer AS n,
       sum(ST_Y(o.position::geometry)) AS sum_lat,
       sum(ST_X(o.position::geometry)) AS sum_lng
FROM outlet_profile o JOIN institution i ON i.id = o.institution_id
WHERE i.status = 'active' AND o.position IS NOT NULL
GROUP BY 1, 2
"""


def upgrade() -> None:
    for table in ("institution", "outlet_profile"):
        op.add_column(
            table,
            sa.Column("kind", sa.String(16), server_default="branch", nullable=False),
        )
        op.create_check_constraint(op.f(f"ck_{table}_kind"), table, f"kind IN {KINDS}")
    op.create_check_constraint(
        op.f("ck_institution_self_service_is_outlet"),
        "institution",
        "kind = 'branch' OR level = 'outlet'",
    )
    op.execute(COPY_KIND)
    op.execute(SPREAD_KIND)
    op.execute(
        "CREATE TRIGGER outlet_profile_copies_kind BEFORE INSERT OR UPDATE OF institution_id "
        "ON outlet_profile FOR EACH ROW EXECUTE FUNCTION outlet_profile_copies_kind()"
    )
    op.execute(
        "CREATE TRIGGER institution_kind_to_profile AFTER UPDATE OF kind ON institution "
        "FOR EACH ROW WHEN (OLD.kind IS DISTINCT FROM NEW.kind) "
        "EXECUTE FUNCTION institution_kind_to_profile()"
    )
    op.execute(
        "CREATE INDEX ix_outlet_profile_position_branch ON outlet_profile "
        "USING gist (position) WHERE kind = 'branch'"
    )
    op.execute("DROP MATERIALIZED VIEW outlet_grid")
    op.execute(GRID)
    op.execute("CREATE UNIQUE INDEX ix_outlet_grid_cell ON outlet_grid (gx, gy, kind)")


def downgrade() -> None:
    op.execute("DROP MATERIALIZED VIEW outlet_grid")
    op.execute(OLD_GRID)
    op.execute("CREATE UNIQUE INDEX ix_outlet_grid_cell ON outlet_grid (gx, gy)")
    op.execute("DROP INDEX ix_outlet_profile_position_branch")
    op.execute("DROP TRIGGER institution_kind_to_profile ON institution")
    op.execute("DROP TRIGGER outlet_profile_copies_kind ON outlet_profile")
    op.execute("DROP FUNCTION institution_kind_to_profile()")
    op.execute("DROP FUNCTION outlet_profile_copies_kind()")
    op.drop_constraint(op.f("ck_institution_self_service_is_outlet"), "institution")
    for table in ("outlet_profile", "institution"):
        op.drop_constraint(op.f(f"ck_{table}_kind"), table)
        op.drop_column(table, "kind")
