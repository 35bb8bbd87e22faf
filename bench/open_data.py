"""Open data: the full export of every public outlet, and change-feed pages of 1,000 events.

    ./bench/run.sh open_data --outlets 200000

Goals (issue 18, at 1,000,000 outlets): the export in under 60 s with memory flat in the
number of outlets; a feed page of 1,000 events p95 under 20 ms (reported with Python's
default collector and (c) as a serving worker sets it). Baselines, measured in
the same run: (a) for the export, reading the same rows (`visible_outlets()` in fi_code
order) through a psycopg2 server-side cursor and doing nothing with them, the floor
of any export; (b) for the feed, the naive page (`id > cursor ORDER BY id LIMIT 1000`,
event columns only), which skips late commits but costs the least.

Memory: the process's resident set (VmRSS) is sampled after every batch of the export;
flat means the last sample is no larger than the one after the first tenth of the rows.
Uses its own database `branchfinder_bench_open_<outlets>` (loaded once, kept).
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.dialects import postgresql

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backend.gc_tuning import tune_for_serving
from bench.common import report
from bench.geo_search import bench_database
from core.database import make_engine
from core.models.registry import Institution
from geo.search import visible_outlets
from open_data.export import export
from open_data.feed import Cursor, read_page


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def scan_baseline(url: str) -> float:
    stmt = visible_outlets().order_by(Institution.fi_code)
    compiled = stmt.compile(dialect=postgresql.dialect())
    params = {k: v.effective_value for k, v in compiled.binds.items()}
    engine = make_engine(url, statement_timeout_ms=0)
    raw = engine.raw_connection()
    start = time.perf_counter()
    cur = raw.cursor(name="scan")
    cur.itersize = 5000
    cur.execute(str(compiled), params)
    n = sum(1 for _ in cur)
    elapsed = time.perf_counter() - start
    raw.close()
    engine.dispose()
    assert n > 0
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--outlets", type=int, default=200_000)
    parser.add_argument("--pages", type=int, default=200)
    args = parser.parse_args()
    url = bench_database(args.outlets, prefix="branchfinder_bench_open_")
    engine = make_engine(url, statement_timeout_ms=0)

    baseline_s = scan_baseline(url)
    samples: list[tuple[int, float]] = []
    with tempfile.TemporaryDirectory(prefix="branchfinder-open-") as tmp:
        start = time.perf_counter()
        manifest = export(engine, Path(tmp), on_batch=lambda n: samples.append((n, rss_mb())))
        export_s = time.perf_counter() - start
    tenth = next(rss for n, rss in samples if n >= manifest.count / 10)
    peak = max(rss for _, rss in samples)

    with engine.connect() as conn:
        low, high = conn.execute(text("SELECT min(id), max(id) FROM change_event")).one()
        rng = random.Random(11)
        starts = []
        for _ in range(args.pages):
            event_id = rng.randint(int(low), max(int(low), int(high) - 5000))
            xid = conn.execute(
                text("SELECT xid::text FROM change_event WHERE id = :i"), {"i": event_id}
            ).scalar_one()
            starts.append((Cursor(int(xid), event_id), event_id))
        for cursor, _ in starts[:10]:  # warm the caches and the statement
            read_page(conn, cursor)
        feed_ms, naive_ms, sizes = [], [], []
        naive = text(
            "SELECT id, fi_code, entity, field_group, at FROM change_event "
            "WHERE id > :c ORDER BY id LIMIT 1000"
        )
        for cursor, event_id in starts:
            t0 = time.perf_counter()
            page = read_page(conn, cursor, 1000)
            feed_ms.append((time.perf_counter() - t0) * 1000)
            sizes.append(len(page.items))
            t0 = time.perf_counter()
            conn.execute(naive, {"c": event_id}).all()
            naive_ms.append((time.perf_counter() - t0) * 1000)
        # (c) the same pages with the collector set as a serving worker sets it
        # (backend.gc_tuning, which backend.wsgi applies), in this same run
        defaults = gc.get_threshold()
        tune_for_serving()
        served_ms = []
        for cursor, _ in starts:
            t0 = time.perf_counter()
            read_page(conn, cursor, 1000)
            served_ms.append((time.perf_counter() - t0) * 1000)
        gc.unfreeze()
        gc.set_threshold(*defaults)
        events = int(high) - int(low) + 1
    engine.dispose()

    def p95(values: list[float]) -> float:
        return statistics.quantiles(values, n=20)[18]

    report(
        [
            ("outlets exported", f"{manifest.count:,}"),
            ("export, whole (3 gzip files + manifest)", f"{export_s:.1f} s"),
            ("(a) baseline: the same rows scanned", f"{baseline_s:.1f} s"),
            ("export / baseline (a)", f"{export_s / baseline_s:.2f}x"),
            ("export rate", f"{manifest.count / export_s:,.0f} outlets/s"),
            ("export RSS after 1/10 of rows", f"{tenth:.0f} MB"),
            ("export RSS peak (any batch)", f"{peak:.0f} MB"),
            ("export RSS at the end", f"{samples[-1][1]:.0f} MB"),
            ("files (bytes)", ", ".join(f"{f.name} {f.bytes:,}" for f in manifest.files)),
            ("change events in the database", f"{events:,}"),
            ("feed pages timed", f"{len(feed_ms)} (items per page: min {min(sizes)})"),
            ("feed page of 1,000, p50", f"{statistics.median(feed_ms):.1f} ms"),
            ("feed page of 1,000, p95", f"{p95(feed_ms):.1f} ms"),
            (
                "(c) the same, collector as served",
                f"p50 {statistics.median(served_ms):.1f} ms, p95 {p95(served_ms):.1f} ms",
            ),
            ("(b) naive id page of 1,000, p95", f"{p95(naive_ms):.1f} ms"),
            ("feed p95 / naive p95 (b)", f"{p95(feed_ms) / p95(naive_ms):.2f}x"),
        ]
    )


if __name__ == "__main__":
    main()
