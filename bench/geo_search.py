"""Geo search at scale (default 1,000,000 outlets), against baselines measured in the same run.

1. In the database, over random points in Jiangsu's cities: the nearest-20 query
   and the 2 km radius query (p50/p95), against (a) the same nearest-20 query with
   the spatial index switched off (a sequential scan and a sort by exact distance).
2. End to end, `/api/mp/v1/outlets/nearby` under gunicorn with `wrk` on loopback
   at 8 and 32 connections (requests/s, p95, and the CPU per request of gunicorn and
   of PostgreSQL, from /proc), against (b) a minimal Flask endpoint running the
   same SQL through raw psycopg2 under the same gunicorn settings
   (bench/baseline_nearby_app.py), taking turns in slices. (b) runs
   twice: a hand-written six-column query, and the very statement the endpoint
   sends ("same statement"), so that the second ratio counts only what runs
   around the statement: Flask-smorest, schemas, coordinates, open-now, paging.
3. The map viewport of all of Jiangsu (clusters), in the library.

The data set is generated and loaded once into `branchfinder_bench_geo_<N>` and
kept for later runs (drop it to start afresh).

Goals (issue 4): nearest-20 p95 <= 2 ms and >= 500x faster than (a);
/outlets/nearby >= 0.8x the throughput of (b); all-Jiangsu viewport < 100 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import make_url

from backend.dbadmin import create_database
from backend.migrate import upgrade
from bench.common import ROOT, cpu_seconds, gunicorn, report, server_url, stop
from core.database import make_engine, make_sessionmaker, normalise_url
from geo.clusters import viewport
from geo.search import BBox, Filters, Point, SearchQuery, driver_statement, statement
from registry.regions import jiangsu_places

JIANGSU = BBox(30.7, 116.3, 35.2, 121.9)


def bench_database(
    outlets: int, prefix: str = "branchfinder_bench_geo_", load_args: tuple[str, ...] = ()
) -> str:
    """The benchmark database `<prefix><outlets>`, migrated to head, loaded once (with
    `load_args` for `branchfinder demo load`, e.g. --no-atms), analysed."""
    url = make_url(normalise_url(server_url())).set(database=f"{prefix}{outlets}")
    rendered = url.render_as_string(hide_password=False)
    create_database(rendered)
    upgrade(rendered)
    engine = make_engine(rendered)
    with engine.connect() as conn:
        loaded = conn.execute(
            text("SELECT count(*) FROM outlet_profile WHERE position IS NOT NULL")
        ).scalar_one()
    engine.dispose()
    if loaded < outlets * 0.9:
        print(f"loading {outlets:,} outlets into the benchmark database (once)", file=sys.stderr)
        subprocess.run(
            [
                str(ROOT / ".venv/bin/branchfinder"),
                "demo",
                "load",
                "--outlets",
                str(outlets),
                "--database-url",
                rendered,
                "--no-progress",
                *load_args,
            ],
            check=True,
        )
    with make_engine(rendered, statement_timeout_ms=0).connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()
    return rendered


def random_points(n: int, seed: int = 7) -> list[Point]:
    """Points around the built-up centres of Jiangsu's counties, weighted like the outlets."""
    rng = random.Random(seed)
    places = [p for p in jiangsu_places() if not p.code.endswith("00")]
    chosen = rng.choices(places, weights=[p.weight for p in places], k=n)
    return [
        Point(
            p.lat + rng.gauss(0, p.radius_km / 111 / 2), p.lng + rng.gauss(0, p.radius_km / 100 / 2)
        )
        for p in chosen
    ]


def compiled(query: SearchQuery) -> str:
    return str(
        statement(query, query.limit, 0).compile(
            dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}
        )
    )


def time_queries(url: str, sqls: list[str], *, no_index: bool = False) -> list[float]:
    engine = make_engine(url, statement_timeout_ms=0)
    raw = engine.raw_connection()
    times = []
    try:
        cur = raw.cursor()
        if no_index:
            cur.execute("SET enable_indexscan = off; SET enable_bitmapscan = off")
        for sql in sqls:  # one untimed pass: a running service has its index pages cached
            cur.execute(sql)
            cur.fetchall()
        for sql in sqls:
            start = time.perf_counter()
            cur.execute(sql)
            cur.fetchall()
            times.append((time.perf_counter() - start) * 1000)
    finally:
        raw.close()
        engine.dispose()
    return times


def pct(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]


WRK_SCRIPT = """
local points = {%s}
local i = 0
request = function()
  i = i %% #points + 1
  local p = points[i]
  return wrk.format("GET", string.format("%s", p[1], p[2]))
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %%f %%f\\n", summary.requests / (summary.duration / 1e6),
                         latency:percentile(95) / 1000))
end
"""


def libpq_url(url: str) -> str:
    """The database URL as libpq reads it (baseline (b) connects with raw psycopg2)."""
    return url.replace("postgresql+psycopg2://", "postgresql://", 1)


def wrk(
    port: int, path_format: str, points: list[Point], connections: int, seconds: int
) -> tuple[float, float]:
    lua_points = ",".join(f"{{{p.lat:.6f},{p.lng:.6f}}}" for p in points)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(WRK_SCRIPT % (lua_points, path_format))
        script = fh.name
    out = subprocess.run(
        [
            "wrk",
            "-t",
            "2",
            "-c",
            str(connections),
            "-d",
            f"{seconds}s",
            "-s",
            script,
            f"http://127.0.0.1:{port}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    os.unlink(script)
    line = next(x for x in out.splitlines() if x.startswith("RESULT"))
    _, rps, p95 = line.split()
    return float(rps), float(p95)


class Served(NamedTuple):
    rps: float  # over all slices
    p95_ms: float  # the median of the slices' p95
    server_cpu_ms: float  # the gunicorn processes' CPU (user + system) per request
    postgres_cpu_ms: float  # every PostgreSQL process's CPU per request


def interleaved(
    apps: dict[str, tuple[str, int, str]],
    points: list[Point],
    connections: int,
    seconds: int,
    slices: int,
) -> dict[str, Served]:
    """Each app measured in alternating slices, with the CPU it and PostgreSQL used.

    This host's speed drifts by a fifth within minutes; measured one after the other,
    the apps would be compared under different conditions. Both servers are up (an idle
    sync worker waits in accept, using no CPU) and take turns, the order swapped each
    slice. CPU time per request, read from /proc around each slice, says where a
    difference in throughput comes from, and drifts less than throughput.
    """
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in apps}
    cpu: dict[str, list[float]] = {name: [0.0, 0.0, 0.0] for name in apps}  # requests, s, s
    names = list(apps)
    length = max(1, seconds // slices)
    for i in range(slices):
        for name in names if i % 2 == 0 else names[::-1]:
            _, port, path = apps[name]
            server, database = f"127.0.0.1:{port}", "postgres:"
            before = cpu_seconds(server), cpu_seconds(database)
            rps, p95 = wrk(port, path, points, connections, length)
            runs[name].append((rps, p95))
            used = cpu[name]
            used[0] += rps * length
            used[1] += cpu_seconds(server) - before[0]
            used[2] += cpu_seconds(database) - before[1]
    return {
        name: Served(
            statistics.fmean(r for r, _ in done),
            statistics.median(p for _, p in done),
            1000 * cpu[name][1] / cpu[name][0],
            1000 * cpu[name][2] / cpu[name][0],
        )
        for name, done in runs.items()
    }


def served_text(measured: Served) -> str:
    return (
        f"{measured.rps:,.0f} req/s, p95 {measured.p95_ms:.1f} ms; CPU per request: "
        f"gunicorn {measured.server_cpu_ms:.3f} ms, PostgreSQL {measured.postgres_cpu_ms:.3f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--outlets", type=int, default=1_000_000)
    parser.add_argument("--points", type=int, default=1000)
    parser.add_argument(
        "--baseline-points",
        type=int,
        default=10,
        help="points for the no-index baseline (each scans every outlet)",
    )
    parser.add_argument(
        "--seconds", type=int, default=18, help="per app and connection count, over all slices"
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers, both apps")
    parser.add_argument(
        "--slices", type=int, default=6, help="turns each app takes per connection count"
    )
    args = parser.parse_args()

    url = bench_database(args.outlets)
    points = random_points(args.points)
    nearest = [compiled(SearchQuery(near=p, limit=20)) for p in points]
    radius = [compiled(SearchQuery(near=p, radius_m=2000, limit=100)) for p in points]
    t_near = time_queries(url, nearest)
    t_radius = time_queries(url, radius)
    t_noindex = time_queries(url, nearest[: args.baseline_points], no_index=True)

    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    t_view: list[float] = []
    with sessions() as session:
        for _ in range(6):
            start = time.perf_counter()
            result = viewport(session, JIANGSU, 7, Filters())
            t_view.append((time.perf_counter() - start) * 1000)
    dialect = engine.dialect
    engine.dispose()

    apps = {
        "branchfinder": (
            "backend.wsgi:app",
            8701,
            "/api/mp/v1/outlets/nearby?lat=%f&lng=%f&coord=wgs84&limit=20&radius_m=50000",
        ),
        "baseline (b)": ("bench.baseline_nearby_app:app", 8702, "/nearby?lat=%f&lng=%f"),
        "baseline (b) same statement": (
            "bench.baseline_nearby_app:app",
            8702,
            "/nearby-same?lat=%f&lng=%f",
        ),
    }
    same_sql, same_values = driver_statement(SearchQuery(near=points[0], limit=20), dialect)
    baseline_env = {
        "BASELINE_SAME_SQL": same_sql,
        "BASELINE_SAME_VALUES": json.dumps(
            {k: v for k, v in same_values.items() if k not in ("lat", "lng")}
        ),
    }
    servers = {port: app for app, port, _ in apps.values()}
    procs = [
        gunicorn(
            app,
            port,
            workers=args.workers,
            env={"DATABASE_URL": libpq_url(url), **baseline_env},
            ready="/healthz" if app.startswith("backend.") else "/nearby?lat=32&lng=118.8",
        )
        for port, app in servers.items()
    ]
    http: dict[str, dict[int, Served]] = {name: {} for name in apps}
    try:
        for _, port, path in apps.values():
            wrk(port, path, points, 8, 3)  # warm up
        for c in (8, 32):
            for name, measured in interleaved(apps, points, c, args.seconds, args.slices).items():
                http[name][c] = measured
    finally:
        for proc in procs:
            stop(proc)
    near50, near95 = pct(t_near, 50), pct(t_near, 95)
    base50 = statistics.median(t_noindex)
    rows: list[tuple[str, str]] = [
        ("outlets", f"{args.outlets:,}"),
        (
            "nearest-20 in the database",
            f"p50 {near50:.2f} ms, p95 {near95:.2f} ms ({len(t_near)} points; goal p95 <= 2 ms)",
        ),
        (
            "2 km radius in the database (nearest 100, cut at 2 km)",
            f"p50 {pct(t_radius, 50):.2f} ms, p95 {pct(t_radius, 95):.2f} ms",
        ),
        ("baseline (a): no spatial index", f"p50 {base50:.1f} ms ({len(t_noindex)} points)"),
        ("nearest-20 vs (a)", f"{base50 / near50:,.0f}x faster (goal >= 500x)"),
        (
            "all-Jiangsu viewport (library)",
            f"{statistics.median(t_view):.0f} ms median, "
            f"{len(result.clusters)} clusters (goal < 100 ms)",
        ),
    ]
    for c in (8, 32):
        ours = http["branchfinder"][c]
        rows.append((f"/outlets/nearby, {c} connections", served_text(ours)))
        for name in ("baseline (b)", "baseline (b) same statement"):
            base = http[name][c]
            rows.append((f"{name}, {c} connections", served_text(base)))
            rows.append((f"  ratio to it at {c}", f"{ours.rps / base.rps:.2f} (goal >= 0.8)"))
    report(rows)


if __name__ == "__main__":
    main()
