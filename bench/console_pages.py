"""The professional console's pages at scale (default 200,000 outlets): server time per page.

Uses the data set of `bench/quality_reports.py` (generated, loaded and enriched once into
`branchfinder_bench_quality_<N>`: photos, confirmations, uploads, error reports), makes a
provincial and a Nanjing PBoC account there, signs in through the console as a browser
would, and times each page in-process (Flask's test client: the app's own time, no network,
no browser rendering), median of `--runs` after one untimed run.

    ./bench/run.sh console_pages --outlets 200000
"""

from __future__ import annotations

import argparse
import re
import secrets
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask.testing import FlaskClient
from sqlalchemy import text

from accounts.accounts import NewAccount, change_password, create_account, make_login_policy
from backend.app import create_app
from bench.common import report
from bench.quality_reports import bench_database
from core.config import Config
from core.database import make_engine, make_sessionmaker


def _account(url: str, prefix: str) -> tuple[str, str]:
    """A PBoC account of `prefix` with a known password (temporary one changed)."""
    policy = make_login_policy(Config())
    username, temporary, password = (
        f"bench-{prefix}-{secrets.token_hex(3)}",
        secrets.token_urlsafe(12),
        secrets.token_urlsafe(16),
    )
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        created = create_account(
            session, None, NewAccount(username, "bench", "pboc_admin", prefix), policy, temporary
        )
        change_password(session, created.account, temporary, password, policy)
        session.commit()
    engine.dispose()
    return username, password


def _signed_in(client: FlaskClient, username: str, password: str) -> None:
    form = client.get("/console/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', form)
    assert token
    answer = client.post(
        "/console/login",
        data={"username": username, "password": password, "csrf_token": token.group(1)},
    )
    assert answer.status_code == 303, answer.status_code


def _median_ms(client: FlaskClient, path: str, runs: int) -> float:
    first = client.get(path)
    assert first.status_code == 200, (path, first.status_code)
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        assert client.get(path).status_code == 200
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--outlets", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    url = bench_database(args.outlets)
    engine = make_engine(url, statement_timeout_ms=0)
    with engine.connect() as conn:
        outlets = conn.execute(text("SELECT count(*) FROM outlet_profile")).scalar_one()
        nanjing_outlet = conn.execute(
            text(
                "SELECT i.fi_code FROM institution i JOIN outlet_profile p "
                "ON p.institution_id = i.id WHERE i.region_code LIKE '320102%' "
                "ORDER BY i.fi_code LIMIT 1"
            )
        ).scalar_one()
    engine.dispose()
    app = create_app(Config(database_url=url, log_level="WARNING"))
    rows: list[tuple[str, str]] = [("outlets", f"{outlets:,}")]
    pages = {
        "dashboard": "/console/",
        "registry search 工行 新街口": "/console/registry?q=工行 新街口",
        "registry list, outlets": "/console/registry?level=outlet",
        "an institution": f"/console/institutions/{nanjing_outlet}",
        "map, province view (zoom 7)": "/console/map.json?min_lat=30.5&min_lng=116&"
        "max_lat=35.5&max_lng=122.5&zoom=7",
        "map, district view (zoom 14)": "/console/map.json?min_lat=32.03&min_lng=118.76&"
        "max_lat=32.06&max_lng=118.81&zoom=14",
    }
    for prefix, label in (("32", "province 32"), ("3201", "city 3201")):
        client = app.test_client()
        _signed_in(client, *_account(url, prefix))
        for name, path in pages.items():
            rows.append((f"{label}: {name}", f"{_median_ms(client, path, args.runs):,.0f} ms"))
    app.extensions["branchfinder.db"].dispose()
    report(rows)


if __name__ == "__main__":
    main()
