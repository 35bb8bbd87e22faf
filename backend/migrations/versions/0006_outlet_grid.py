"""A precomputed grid of visible outlets for map clusters at low zoom.

Clustering a million points on the fly takes seconds; the map of a whole
province must answer in well under 100 ms. `outlet_grid` holds, per cell of
0.01° (about 1 km), the number of visible outlets and the sums of their
coordinates, so a low-zoom viewport aggregates a few tens of thousands of
cells instead of a million points. The imports refresh it (geo.clusters).

Revision ID: 0006_outlet_grid
Revises: 0005_search_indexes
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0006_outlet_grid"
down_revision = "0005_search_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
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
    )
    op.execute("CREATE UNIQUE INDEX ix_outlet_grid_cell ON outlet_grid (gx, gy)")


def downgrade() -> None:
    op.execute("DROP MATERIALIZED VIEW IF EXISTS outlet_grid")
