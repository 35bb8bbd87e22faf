"""What a revalidated `/outlets/nearby` costs the server: 304 against 200, same run.

One gunicorn serves the benchmark database (geo_search's, loaded once); `wrk` asks for
the nearest 20 outlets at random points in alternating slices: plainly (200, the answer),
or with `If-None-Match` carrying each point's current tag (304, nothing searched). The
CPU time of the gunicorn processes and of the PostgreSQL backends serving them is read
from /proc around each slice and divided by the answers given, as bench/geo_search.py does.

Tags hold the minute (open-now badges change with it), so the tags are fetched at the
start of each 304 slice and a slice that crosses a minute is run again.

Goal: a 304 costs at most a third of a 200's server CPU (gunicorn and PostgreSQL).

    ./bench/run.sh conditional_get --outlets 1000000
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy.engine import make_url

from bench.common import cpu_seconds, gunicorn, report, stop
from bench.geo_search import bench_database, libpq_url, random_points
from geo.search import Point

NEARBY = "/api/mp/v1/outlets/nearby?lat={lat:.6f}&lng={lng:.6f}&coord=wgs84&limit=20"
PORT = 8731
SERVER = f"http://127.0.0.1:{PORT}"
GOAL = 1 / 3

WRK_SCRIPT = """
local paths = {%s}
local tags = {%s}
local i = 0
request = function()
  i = i %% #paths + 1
  if tags[i] then
    return wrk.format("GET", paths[i], {["If-None-Match"] = tags[i]})
  end
  return wrk.format("GET", paths[i])
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %%d %%f\\n", summary.requests, latency:percentile(95) / 1000))
end
"""


def fetch_tags(paths: list[str]) -> list[str]:
    """Each path's current tag, and a check that quoting it gets a 304."""
    tags = []
    for path in paths:
        with urllib.request.urlopen(f"http://127.0.0.1:{PORT}{path}", timeout=10) as answer:
            tags.append(answer.headers["ETag"])
    asked = urllib.request.Request(
        f"http://127.0.0.1:{PORT}{paths[0]}", headers={"If-None-Match": tags[0]}
    )
    try:
        urllib.request.urlopen(asked, timeout=10)
    except urllib.error.HTTPError as answer:
        if answer.code == 304:
            return tags
    raise SystemExit("a current tag did not get a 304")


def slice_(paths: list[str], tags: list[str] | None, connections: int, seconds: int) -> int:
    """Requests served in one slice of `wrk`."""
    lua_paths = ",".join(f'"{p}"' for p in paths)
    lua_tags = ",".join(f"'{t}'" for t in tags) if tags else ""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(WRK_SCRIPT % (lua_paths, lua_tags))
        script = fh.name
    try:
        out = subprocess.run(
            ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-s", script, SERVER],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(script)
    line = next(x for x in out.splitlines() if x.startswith("RESULT"))
    return int(line.split()[1])


def measure(
    paths: list[str], database: str, connections: int, seconds: int, slices: int
) -> dict[str, tuple[float, float, int]]:
    """Per mode: gunicorn CPU ms and PostgreSQL CPU ms per request, requests.

    PostgreSQL's is that of the backends connected to the benchmark's database (their
    command line names it), so that other work on the cluster is not counted.
    """
    backends = f"postgres: postgres {database} "
    totals = {"200": [0, 0.0, 0.0], "304": [0, 0.0, 0.0]}
    done = 0
    while done < slices:
        for mode in ("200", "304") if done % 2 == 0 else ("304", "200"):
            minute = int(time.time() // 60)
            tags = fetch_tags(paths) if mode == "304" else None
            before = cpu_seconds(f"127.0.0.1:{PORT}"), cpu_seconds(backends)
            served = slice_(paths, tags, connections, seconds)
            used = cpu_seconds(f"127.0.0.1:{PORT}") - before[0], cpu_seconds(backends) - before[1]
            if int(time.time() // 60) != minute:  # the tags went stale during the slice
                continue
            total = totals[mode]
            total[0] += served
            total[1] += used[0]
            total[2] += used[1]
        done += 1
    return {mode: (1000 * t[1] / t[0], 1000 * t[2] / t[0], int(t[0])) for mode, t in totals.items()}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--outlets", type=int, default=1_000_000)
    parser.add_argument("--points", type=int, default=200, help="distinct queries")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--slices", type=int, default=6, help="turns each mode takes")
    parser.add_argument("--seconds", type=int, default=4, help="length of one turn")
    args = parser.parse_args()

    url = bench_database(args.outlets)
    points: list[Point] = random_points(args.points, seed=11)
    paths = [NEARBY.format(lat=p.lat, lng=p.lng) for p in points]
    proc = gunicorn(
        "backend.wsgi:app",
        PORT,
        workers=args.workers,
        env={"DATABASE_URL": libpq_url(url), "BRANCHFINDER_PUBLIC_GET_RATE_LIMIT": "1000000000"},
    )
    try:
        slice_(paths, None, args.connections, 2)  # warm up
        database = make_url(url).database or ""
        measured = measure(paths, database, args.connections, args.seconds, args.slices)
    finally:
        stop(proc)
    ok, revalidated = measured["200"], measured["304"]
    rows = [
        ("outlets", f"{args.outlets:,}"),
        ("query", f"nearest 20 at {args.points} points, {args.connections} connections"),
    ]
    for name, (app_ms, db_ms, served) in (("200", ok), ("304", revalidated)):
        rows.append(
            (
                f"{name} per answer",
                f"gunicorn {app_ms:.3f} ms + PostgreSQL {db_ms:.3f} ms CPU = "
                f"{app_ms + db_ms:.3f} ms ({served:,} answers)",
            )
        )
    ratio = (revalidated[0] + revalidated[1]) / (ok[0] + ok[1])
    rows.append(
        (
            "304 / 200 server CPU",
            f"{ratio:.2f}x (goal <= {GOAL:.2f}x: {'met' if ratio <= GOAL else 'NOT met'})",
        )
    )
    rows.append(("304 / 200 gunicorn CPU", f"{revalidated[0] / ok[0]:.2f}x"))
    report(rows)


if __name__ == "__main__":
    main()
