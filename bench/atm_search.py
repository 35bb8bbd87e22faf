"""Nearest-20 with the ATMs added (issue 18): the same search over the same outlets, with and
without the banks' self-service points, measured in one run.

Two databases of the same generated branches (`--outlets`, seed 1): `<prefix>base_<N>`
loaded without self-service points (`demo load --no-atms`: the data as it was before
ATMs), and `<prefix><N>` with them (two to three per bank branch, about 2.5 times as many
outlets again). Over the same random points in Jiangsu's counties, taken in turns on both,
each query runs through `geo.search.search` on a bare connection, as the public finder
calls it (statement, rows, hits):

- baseline: nearest-20 on the branches-only database (today's query);
- nearest-20 branches with the ATMs added: the public lists' default (`kind=branch`),
  which the partial GiST index of branches answers (migration 0020);
- nearest-20 of every kind, and nearest-20 cash machines (kind atm or self_service
  offering cash_out: the bot's 取钱), for comparison.

Goal: the default nearest-20's p95 within 10% of the baseline's (ratio <= 1.10). At
1,000,000 outlets plus their ATMs (some 3.5 million rows) the load takes long on the
shared 2-core machine, so 200,000 is the default; the databases are kept for later runs
(drop them to start afresh). `--database-prefix` names them.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Connection, text

from bench.common import report
from bench.geo_search import bench_database, pct, random_points
from core.database import make_engine
from geo.search import Filters, Point, SearchQuery, search

CASES: dict[str, tuple[bool, Filters]] = {  # label: (on the database with ATMs, filters)
    "baseline: nearest-20, no ATMs in the data": (False, Filters()),
    "nearest-20 branches, ATMs added (default)": (True, Filters(kinds=("branch",))),
    "nearest-20 of every kind, ATMs added": (True, Filters()),
    "nearest-20 cash machines (取钱)": (
        True,
        Filters(kinds=("self_service", "atm"), business_types=("cash_out",)),
    ),
}


def _timer(conn: Connection, filters: Filters) -> Callable[[Point], float]:
    def run(point: Point) -> float:
        start = time.perf_counter()
        hits = search(conn, SearchQuery(near=point, limit=20, filters=filters))
        elapsed = (time.perf_counter() - start) * 1000
        assert len(hits) == 20, "every point has 20 outlets of each kind asked for"
        return elapsed

    return run


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--outlets", type=int, default=200_000)
    parser.add_argument("--points", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3, help="passes over the points")
    parser.add_argument("--database-prefix", default="branchfinder_bench_atm_")
    args = parser.parse_args()

    base_url = bench_database(args.outlets, f"{args.database_prefix}base_", ("--no-atms",))
    full_url = bench_database(args.outlets, args.database_prefix)
    engines = {False: make_engine(base_url), True: make_engine(full_url)}
    conns = {atms: engine.connect() for atms, engine in engines.items()}
    try:
        for atms, conn in conns.items():
            kinds = conn.execute(
                text("SELECT kind, count(*) FROM outlet_profile GROUP BY kind ORDER BY kind")
            ).all()
            print(f"{'with' if atms else 'without'} ATMs: {dict(kinds)}", file=sys.stderr)
            conn.rollback()
        points = random_points(args.points)
        timers = {label: _timer(conns[atms], f) for label, (atms, f) in CASES.items()}
        for run in timers.values():  # untimed: a running service has its pages cached
            for point in points:
                run(point)
        times: dict[str, list[float]] = {label: [] for label in CASES}
        for _ in range(args.rounds):
            for point in points:  # in turns, so drift on the shared machine hits all alike
                for label, run in timers.items():
                    times[label].append(run(point))
    finally:
        for conn in conns.values():
            conn.close()
        for engine in engines.values():
            engine.dispose()
    base = pct(times[next(iter(CASES))], 95)
    rows: list[tuple[str, str]] = []
    for label, values in times.items():
        p95 = pct(values, 95)
        rows.append(
            (
                label,
                f"p50 {statistics.median(values):.3f} ms, p95 {p95:.3f} ms, "
                f"p95 ratio {p95 / base:.2f}",
            )
        )
    print(f"{args.outlets:,} outlets, {len(points)} points x {args.rounds} rounds, in turns")
    report(rows)


if __name__ == "__main__":
    main()
