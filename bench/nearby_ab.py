"""`/outlets/nearby` of this checkout against an earlier revision, same data, same run.

For changes to the public finder's hot path, whose effect (a few per cent) is smaller
than this host's drift between two runs: both versions are served at once under
gunicorn (the earlier one from a temporary `git worktree`, with this checkout's
virtual environment), and `wrk` loads them in alternating rounds with
bench/geo_search.py's `interleaved`. Besides requests/s, the CPU time of each
version's gunicorn processes and of all PostgreSQL processes is read from /proc per
round and divided by the requests served, which is steadier than throughput.

The database is geo_search's (`branchfinder_bench_geo_<N>`, loaded once, migrated to
this checkout's head), so the earlier revision must read the same schema.

    ./bench/run.sh nearby_ab --against 17d9140 --coord gcj02
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, gunicorn, report, stop
from bench.geo_search import (
    bench_database,
    interleaved,
    libpq_url,
    random_points,
    served_text,
    wrk,
)

NEARBY = "/api/mp/v1/outlets/nearby?lat=%f&lng=%f&coord={coord}&limit=20&radius_m=50000"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--against", default="HEAD", help="the earlier revision (git)")
    parser.add_argument("--outlets", type=int, default=1_000_000)
    parser.add_argument("--coord", default="wgs84", choices=["wgs84", "gcj02", "bd09"])
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers, both")
    parser.add_argument("--rounds", type=int, default=10, help="turns each version takes")
    parser.add_argument("--seconds", type=int, default=4, help="length of one turn")
    args = parser.parse_args()

    url = bench_database(args.outlets)
    points = random_points(1000)
    path = NEARBY.format(coord=args.coord)
    with tempfile.TemporaryDirectory() as scratch:
        earlier = Path(scratch) / "earlier"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(earlier), args.against],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        versions = {args.against: (earlier, 8721), "this checkout": (ROOT, 8722)}
        procs = [
            gunicorn(
                "backend.wsgi:app",
                port,
                workers=args.workers,
                env={"DATABASE_URL": libpq_url(url)},
                checkout=checkout,
            )
            for checkout, port in versions.values()
        ]
        apps = {name: ("backend.wsgi:app", port, path) for name, (_, port) in versions.items()}
        try:
            for _, port in versions.values():
                wrk(port, path, points, args.connections, 2)  # warm up
            served = interleaved(
                apps, points, args.connections, args.rounds * args.seconds, args.rounds
            )
        finally:
            for proc in procs:
                stop(proc)
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(earlier)], cwd=ROOT, check=False
            )
    rows = [("outlets", f"{args.outlets:,}"), ("query", f"{path} ({args.connections} conn.)")]
    rows += [(name, served_text(measured)) for name, measured in served.items()]
    old, new = served[args.against], served["this checkout"]
    rows.append(
        (
            "this checkout / earlier",
            f"throughput {new.rps / old.rps:.2f}x, "
            f"gunicorn CPU per request {new.server_cpu_ms / old.server_cpu_ms:.2f}x",
        )
    )
    report(rows)


if __name__ == "__main__":
    main()
