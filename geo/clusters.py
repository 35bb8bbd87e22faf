"""Map viewports: the outlets themselves when few, server-side clusters when many.

WeChat's <map> cannot draw ten thousand markers, and sending them would be slow
on a phone. Above `MAX_OUTLETS` in view, outlets are counted on a grid whose
cells are about `CELL_PX` screen pixels wide at the map's zoom level, and each
non-empty cell becomes one cluster at the mean position of its outlets — so a
view of all of Jiangsu is a few hundred clusters at most, and the counts add
up to the number of outlets in view.

"Open now" cannot be decided in SQL (it needs the holiday calendar), so it
narrows the individual outlets, not cluster counts.

Clustering a million points live takes seconds, so without filters and at zoom
levels whose cells span at least GRID_MIN_CELLS grid cells, clusters come from
`outlet_grid` (migration 0006): visible outlets counted per 0.01° cell,
refreshed by every import (`refresh_grid`). Cells at the viewport's edge count
whole, so a total there may include outlets up to one grid cell (~1 km) outside.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from core.models.registry import OutletProfile
from geo.search import BBox, Filters, OutletHit, SearchQuery, build_select, search

MAX_OUTLETS = 200
CELL_PX = 64
GRID_DEG = 0.01  # outlet_grid's cell
GRID_MIN_CELLS = 2  # a cluster cell this many grid cells wide or more comes from the grid


@dataclass(frozen=True)
class Cluster:
    count: int
    lat: float  # WGS-84 mean of the outlets in the cell
    lng: float


@dataclass(frozen=True)
class ViewportResult:
    total: int
    outlets: list[OutletHit]
    clusters: list[Cluster]


def cell_size_deg(zoom: int) -> float:
    """Degrees of longitude covered by CELL_PX pixels of a 256-pixel Web Mercator tile."""
    return 360.0 / float(2**zoom) * CELL_PX / 256


def _at_most(session: Session, box: BBox, filters: Filters, cap: int) -> int:
    """How many outlets are in view, counting no further than `cap` (stops early)."""
    ids = (
        build_select(SearchQuery(bbox=box, filters=filters))
        .order_by(None)
        .with_only_columns(OutletProfile.institution_id)
        .limit(cap)
        .subquery()
    )
    return int(session.execute(select(func.count()).select_from(ids)).scalar_one())


def viewport(session: Session, box: BBox, zoom: int, filters: Filters) -> ViewportResult:
    sql_filters = replace(filters, open_at=None)
    unfiltered = sql_filters == Filters()
    # Without filters the grid tells cheaply that there are many (edge cells may count
    # outlets just outside, hence the margin); otherwise count, stopping early.
    wide = min(box.max_lat - box.min_lat, box.max_lng - box.min_lng) >= 10 * GRID_DEG
    many = unfiltered and wide and _grid_total(session, box) > 4 * MAX_OUTLETS
    if not many and _at_most(session, box, sql_filters, MAX_OUTLETS + 1) <= MAX_OUTLETS:
        few = search(
            session,
            SearchQuery(bbox=box, filters=filters, limit=MAX_OUTLETS, max_limit=MAX_OUTLETS),
        )
        return ViewportResult(total=len(few), outlets=few, clusters=[])
    cell = cell_size_deg(zoom)
    if unfiltered and cell >= GRID_MIN_CELLS * GRID_DEG:
        return _from_grid(session, box, cell)
    points = build_select(SearchQuery(bbox=box, filters=sql_filters)).order_by(None).subquery()
    col_x = func.floor(points.c.lng / cell)
    col_y = func.floor(points.c.lat / cell)
    rows = session.execute(
        select(func.count(), func.avg(points.c.lat), func.avg(points.c.lng))
        .group_by(col_x, col_y)
        .order_by(col_y, col_x)
    ).all()
    clusters = [Cluster(count=int(n), lat=float(lat), lng=float(lng)) for n, lat, lng in rows]
    return ViewportResult(total=sum(c.count for c in clusters), outlets=[], clusters=clusters)


_GRID_CLUSTERS = text(
    """
    SELECT sum(n) AS n, sum(sum_lat) / sum(n) AS lat, sum(sum_lng) / sum(n) AS lng
    FROM outlet_grid
    WHERE gx BETWEEN floor(:min_lng / :grid) AND floor(:max_lng / :grid)
      AND gy BETWEEN floor(:min_lat / :grid) AND floor(:max_lat / :grid)
    GROUP BY floor(gx * :grid / :cell), floor(gy * :grid / :cell)
    ORDER BY floor(gy * :grid / :cell), floor(gx * :grid / :cell)
    """
)


def _grid_cells(box: BBox) -> dict[str, float]:
    """Parameters selecting the grid cells that a box touches."""
    return {
        "min_lat": box.min_lat,
        "min_lng": box.min_lng,
        "max_lat": box.max_lat,
        "max_lng": box.max_lng,
        "grid": GRID_DEG,
    }


def _from_grid(session: Session, box: BBox, cell: float) -> ViewportResult:
    rows = session.execute(
        _GRID_CLUSTERS,
        {**_grid_cells(box), "cell": cell},
    ).all()
    clusters = [Cluster(count=int(n), lat=float(lat), lng=float(lng)) for n, lat, lng in rows]
    return ViewportResult(total=sum(c.count for c in clusters), outlets=[], clusters=clusters)


def _grid_total(session: Session, box: BBox) -> int:
    total = session.execute(
        text(
            "SELECT coalesce(sum(n), 0) FROM outlet_grid "
            "WHERE gx BETWEEN floor(:min_lng / :grid) AND floor(:max_lng / :grid) "
            "AND gy BETWEEN floor(:min_lat / :grid) AND floor(:max_lat / :grid)"
        ),
        _grid_cells(box),
    ).scalar_one()
    return int(total)


def refresh_grid(session: Session) -> None:
    """Recount outlet_grid after positions or statuses changed (in the caller's transaction)."""
    session.execute(text("REFRESH MATERIALIZED VIEW outlet_grid"))
