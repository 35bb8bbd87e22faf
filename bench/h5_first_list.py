"""The H5 finder's time to its first list, and the bytes it moves, at N outlets on loopback.

One gunicorn serves the benchmark database (geo_search's, loaded once); Debian's chromium
(Playwright) opens `/m/` as a 375×812 phone located at 新街口, with a fresh cache each
round, and the clock runs from the navigation's start until the list is drawn (the page
sets `body[data-ready]`). Bytes are what came over the wire (encoded body sizes; gzip
where the server compressed), for the page itself, its assets and its API answers.

Baseline, in the same run: the one API answer the list is made of (`/outlets/nearby`
for the same point, fetched by the same browser), so the ratio says what the page, its
assets and its vocabularies add to the query itself.

    ./bench/run.sh h5_first_list --outlets 1000000
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import sync_playwright

from backend.browser import XINJIEKOU_GCJ02, launch, phone_context
from bench.common import gunicorn, report, stop
from bench.geo_search import bench_database, libpq_url
from core.coords import convert

PORT = 8741
BASE = f"http://127.0.0.1:{PORT}"


def one_load(browser: Any) -> tuple[float, int, dict[str, int], float]:
    """ms to the first list, bytes moved, bytes by kind, and the list's own API ms."""
    context = phone_context(browser)
    page = context.new_page()
    page.goto(f"{BASE}/m/")
    page.wait_for_selector("body[data-ready='1']", timeout=60_000)
    ms = page.evaluate("() => performance.now()")
    entries = page.evaluate(
        "() => performance.getEntriesByType('resource').concat(performance.getEntriesByType"
        "('navigation')).map(e => [e.name, e.transferSize || e.encodedBodySize, e.duration])"
    )
    by_kind: dict[str, int] = {}
    nearby_ms = 0.0
    for name, size, duration in entries:
        kind = "api" if "/api/" in name else "asset" if "/static/" in name else "page"
        by_kind[kind] = by_kind.get(kind, 0) + int(size)
        if "/outlets/nearby" in name:
            nearby_ms = float(duration)
    context.close()
    return float(ms), sum(by_kind.values()), by_kind, nearby_ms


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--outlets", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    url = bench_database(args.outlets)
    server = gunicorn("backend.wsgi:app", PORT, workers=2, env={"DATABASE_URL": libpq_url(url)})
    lat, lng = convert(*XINJIEKOU_GCJ02, "gcj02", "wgs84")
    nearby = f"{BASE}/api/mp/v1/outlets/nearby?lat={lat:.6f}&lng={lng:.6f}&coord=wgs84&limit=20"
    try:
        with sync_playwright() as playwright:
            browser = launch(playwright)
            one_load(browser)  # warm the server, its caches and the browser
            loads = [one_load(browser) for _ in range(args.rounds)]
            context = browser.new_context()
            page = context.new_page()
            alone = []
            for _ in range(args.rounds):
                page.goto(f"{BASE}/healthz")  # same origin as the API
                alone.append(
                    page.evaluate(
                        "async u => { const t = performance.now(); const r = await fetch(u); "
                        "await r.json(); return performance.now() - t; }",
                        nearby,
                    )
                )
            browser.close()
    finally:
        stop(server)
    first = [load[0] for load in loads]
    moved = [load[1] for load in loads]
    kinds = {k: v / 1024 for k, v in loads[-1][2].items()}
    median = statistics.median(first)
    base = statistics.median(alone)
    report(
        [
            ("outlets", f"{args.outlets:,}"),
            ("rounds", f"{args.rounds} page loads, fresh cache each"),
            ("time to first list", f"p50 {median:.0f} ms, max {max(first):.0f} ms"),
            ("its nearby answer alone (baseline)", f"p50 {base:.1f} ms"),
            ("page / baseline", f"{median / base:.1f}x"),
            (
                "bytes moved",
                f"{statistics.median(moved) / 1024:.1f} KB (page {kinds.get('page', 0):.1f}, "
                f"assets {kinds.get('asset', 0):.1f}, API {kinds.get('api', 0):.1f})",
            ),
        ]
    )


if __name__ == "__main__":
    main()
