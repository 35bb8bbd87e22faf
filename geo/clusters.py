"""Map viewports: the outlets themselves when few, server-side clusters when many.

WeChat's <map> cannot draw ten thousand markers, and sending them would be slow
on a phone. Above `MAX_OUTLETS` in view, outlets are counted on a grid whose
cells are about `CELL_PX` screen pixels wide at the map's zoom level, and each
non-empty cell becomes one cluster at the mean position of its outlets — so a
view of all of Jiangsu is a few hundred clusters at most, and the counts add
up to the number of outlets in view.

"Open now" cannot be decided in SQL (it needs the holiday calendar), so it
narrows the individual outlets, not cluster counts.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geo.search import BBox, Filters, OutletHit, SearchQuery, build_select, search

MAX_OUTLETS = 200
CELL_PX = 64


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


def viewport(session: Session, box: BBox, zoom: int, filters: Filters) -> ViewportResult:
    sql_filters = replace(filters, open_at=None)
    few = search(
        session,
        SearchQuery(
            bbox=box, filters=sql_filters, limit=MAX_OUTLETS + 1, max_limit=MAX_OUTLETS + 1
        ),
    )
    if len(few) <= MAX_OUTLETS:
        if filters.open_at is not None:
            few = search(
                session,
                SearchQuery(bbox=box, filters=filters, limit=MAX_OUTLETS, max_limit=MAX_OUTLETS),
            )
        return ViewportResult(total=len(few), outlets=few, clusters=[])
    cell = cell_size_deg(zoom)
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
