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
The grid counts per kind of outlet (branch, self-service bank, ATM), so a map
narrowed to some kinds still clusters from it, and every cluster says how many of
each kind it holds (`Cluster.kinds`).

One pin per address: a branch and the ATMs standing in it share one captured
position (and address), and so do machines at one off-site spot. Drawn apart they
would be markers stacked on one point, of which a phone shows the top one. So the
outlets of a viewport are grouped by their exact stored position into `Pin`s: the
first part by kind (the branch, then self-service banks, then ATMs) is the pin, the
rest its `parts`, listed with it. Grouping is exact, not by distance: two outlets a
few metres apart are different doors, and the client can tell them apart when
zoomed in. `total` still counts outlets, parts included.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from core.models.registry import OUTLET_KINDS, OutletProfile
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
    kinds: dict[str, int] = field(default_factory=dict)  # outlets of each kind in the cell


@dataclass(frozen=True)
class Pin:
    """Outlets at one exact position: the pin's own outlet first, the others its parts."""

    outlet: OutletHit
    parts: tuple[OutletHit, ...] = ()


@dataclass(frozen=True)
class ViewportResult:
    total: int
    outlets: list[OutletHit]
    clusters: list[Cluster]
    pins: list[Pin] = field(default_factory=list)


_KIND_ORDER = {kind: i for i, kind in enumerate(OUTLET_KINDS)}


def pins(hits: Sequence[OutletHit]) -> list[Pin]:
    """The hits grouped by exact position, in the order their first outlet came; within a
    pin the branch first, then self-service banks, ATMs, each by fi_code."""
    groups: dict[tuple[float, float], list[OutletHit]] = {}
    for hit in hits:
        groups.setdefault((hit.lat, hit.lng), []).append(hit)
    result = []
    for group in groups.values():
        group.sort(key=lambda h: (_KIND_ORDER.get(h.kind, len(_KIND_ORDER)), h.fi_code))
        result.append(Pin(group[0], tuple(group[1:])))
    return result


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
    # Kinds alone the grid can still answer: it counts per kind.
    unfiltered = replace(sql_filters, kinds=()) == Filters()
    # Without filters the grid tells cheaply that there are many (edge cells may count
    # outlets just outside, hence the margin); otherwise count, stopping early.
    wide = min(box.max_lat - box.min_lat, box.max_lng - box.min_lng) >= 10 * GRID_DEG
    many = unfiltered and wide and _grid_total(session, box, filters.kinds) > 4 * MAX_OUTLETS
    if not many and _at_most(session, box, sql_filters, MAX_OUTLETS + 1) <= MAX_OUTLETS:
        few = search(
            session,
            SearchQuery(bbox=box, filters=filters, limit=MAX_OUTLETS, max_limit=MAX_OUTLETS),
        )
        return ViewportResult(total=len(few), outlets=few, clusters=[], pins=pins(few))
    cell = cell_size_deg(zoom)
    if unfiltered and cell >= GRID_MIN_CELLS * GRID_DEG:
        return _from_grid(session, box, cell, filters.kinds)
    points = build_select(SearchQuery(bbox=box, filters=sql_filters)).order_by(None).subquery()
    col_x = func.floor(points.c.lng / cell)
    col_y = func.floor(points.c.lat / cell)
    per_kind = [func.count().filter(points.c.kind == kind) for kind in OUTLET_KINDS]
    rows = session.execute(
        select(func.count(), func.avg(points.c.lat), func.avg(points.c.lng), *per_kind)
        .group_by(col_x, col_y)
        .order_by(col_y, col_x)
    ).all()
    clusters = [_cluster(row) for row in rows]
    return ViewportResult(total=sum(c.count for c in clusters), outlets=[], clusters=clusters)


def _cluster(row: Sequence[object]) -> Cluster:
    """(count, lat, lng, then the count of each of OUTLET_KINDS) as a cluster."""
    n, lat, lng, *kinds = row
    return Cluster(
        count=int(n),  # type: ignore[call-overload]
        lat=float(lat),  # type: ignore[arg-type]
        lng=float(lng),  # type: ignore[arg-type]
        kinds={kind: int(k) for kind, k in zip(OUTLET_KINDS, kinds, strict=True)},  # type: ignore[call-overload]
    )


_PER_KIND = ", ".join(
    f"coalesce(sum(n) FILTER (WHERE kind = '{kind}'), 0)" for kind in OUTLET_KINDS
)
_GRID_CLUSTERS = """
    SELECT sum(n) AS n, sum(sum_lat) / sum(n) AS lat, sum(sum_lng) / sum(n) AS lng, {per_kind}
    FROM outlet_grid
    WHERE gx BETWEEN floor(:min_lng / :grid) AND floor(:max_lng / :grid)
      AND gy BETWEEN floor(:min_lat / :grid) AND floor(:max_lat / :grid) {kinds}
    GROUP BY floor(gx * :grid / :cell), floor(gy * :grid / :cell)
    ORDER BY floor(gy * :grid / :cell), floor(gx * :grid / :cell)
    """
_GRID_ALL = text(_GRID_CLUSTERS.format(per_kind=_PER_KIND, kinds=""))
_GRID_KINDS = text(
    _GRID_CLUSTERS.format(per_kind=_PER_KIND, kinds="AND kind = ANY(CAST(:kinds AS text[]))")
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


def _from_grid(
    session: Session, box: BBox, cell: float, kinds: tuple[str, ...] = ()
) -> ViewportResult:
    values: dict[str, object] = {**_grid_cells(box), "cell": cell}
    if kinds:
        values["kinds"] = list(kinds)
    rows = session.execute(_GRID_KINDS if kinds else _GRID_ALL, values).all()
    clusters = [_cluster(row) for row in rows]
    return ViewportResult(total=sum(c.count for c in clusters), outlets=[], clusters=clusters)


def _grid_total(session: Session, box: BBox, kinds: tuple[str, ...] = ()) -> int:
    values: dict[str, object] = dict(_grid_cells(box))
    condition = ""
    if kinds:
        values["kinds"] = list(kinds)
        condition = " AND kind = ANY(CAST(:kinds AS text[]))"
    total = session.execute(
        text(
            "SELECT coalesce(sum(n), 0) FROM outlet_grid "
            "WHERE gx BETWEEN floor(:min_lng / :grid) AND floor(:max_lng / :grid) "
            "AND gy BETWEEN floor(:min_lat / :grid) AND floor(:max_lat / :grid)" + condition
        ),
        values,
    ).scalar_one()
    return int(total)


def refresh_grid(session: Session) -> None:
    """Recount outlet_grid after positions or statuses changed (in the caller's transaction)."""
    session.execute(text("REFRESH MATERIALIZED VIEW outlet_grid"))
