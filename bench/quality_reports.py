"""Data-quality and rollout reports at province scale (default 1,000,000 outlets).

Each report of `reports.quality` and `reports.rollout` is one SQL statement;
this times them over a generated Jiangsu data set made realistic for them
(front photos, confirmations, staff uploads, public error reports, install
registrations, all added set-based), for the whole province, the largest city
and one legal entity, against a baseline measured in the same run: the bare
count of the active outlets of the same area (`institution` ⋈ `outlet_profile`),
the scan no coverage figure can avoid. The ratio says what the six FILTER
measures, the photo join and the grouping cost on top.

The data set is generated and loaded once into `branchfinder_bench_quality_<N>`
and kept for later runs (drop it to start afresh). Reads only, once loaded.

    ./bench/run.sh quality_reports --outlets 1000000
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from accounts.jurisdiction import Scope
from backend.dbadmin import create_database
from backend.demo.generate import generate
from backend.demo.load import load_demo
from backend.migrate import upgrade
from bench.common import report, server_url
from core.database import make_engine, make_sessionmaker, normalise_url
from reports import quality, rollout

SHANGHAI = dt.timezone(dt.timedelta(hours=8))

# Set-based additions, with fixed proportions picked by a hash of the fi_code so that
# every run of the same size gets the same data.
ENRICH = [
    # a published front photo for 60% of the outlets, another published photo for 30%
    """INSERT INTO outlet_photo (institution_id, key, status, is_front, width, height,
                                 source_format, uploaded_by)
       SELECT i.id, md5(i.fi_code) || md5(i.fi_code || 'f'), 'published', true, 1600, 1200,
              'jpeg', 'staff:1'
       FROM institution i JOIN outlet_profile p ON p.institution_id = i.id
       WHERE abs(hashtext(i.fi_code)) % 10 < 6""",
    """INSERT INTO outlet_photo (institution_id, key, status, is_front, width, height,
                                 source_format, uploaded_by)
       SELECT i.id, md5(i.fi_code) || md5(i.fi_code || 'x'), 'published', false, 1600, 1200,
              'jpeg', 'staff:1'
       FROM institution i JOIN outlet_profile p ON p.institution_id = i.id
       WHERE abs(hashtext(i.fi_code)) % 10 < 3""",
    # staff uploads for 40% of the outlets during 2026
    """INSERT INTO change_event (entity, fi_code, field_group, before, after, actor, channel, at)
       SELECT 'outlet_profile', i.fi_code, 'position', NULL, NULL, 'staff:1', 'staff_upload',
              timestamptz '2026-01-01' + (abs(hashtext(i.fi_code || 'u')) % 330) * interval '1 day'
       FROM institution i JOIN outlet_profile p ON p.institution_id = i.id
       WHERE abs(hashtext(i.fi_code || 'u')) % 10 < 4""",
    # the institution confirmed 30%: provenance and task, as uploads.staff.confirm does
    """UPDATE outlet_profile p SET provenance = (
           SELECT coalesce(jsonb_object_agg(e.key, e.value || jsonb_build_object(
               'confirmed', true, 'confirmed_at', now(), 'confirmed_by', 'bench')), '{}')
           FROM jsonb_each(p.provenance) e)
       FROM institution i
       WHERE i.id = p.institution_id AND abs(hashtext(i.fi_code || 'c')) % 10 < 3""",
    """UPDATE upload_task t SET status = 'confirmed', confirmed_by = 'bench',
              confirmed_at = timestamptz '2026-06-01'
                             + (abs(hashtext(i.fi_code || 'c')) % 150) * interval '1 day'
       FROM institution i
       WHERE i.id = t.institution_id AND abs(hashtext(i.fi_code || 'c')) % 10 < 3""",
    # public error reports on 2% of the outlets, 1-3 each: open, accepted, rejected
    """INSERT INTO error_report (fi_code, kind, comment, client_key_hash, status,
                                 resolution_reason, resolved_by, resolved_at, created_at)
       SELECT i.fi_code, (ARRAY['position','phone','hours','closed'])[1 + n % 4], '',
              md5(i.fi_code || n) || md5(i.fi_code || n || 'k'),
              s.status, CASE WHEN s.status = 'rejected' THEN '不属实' END,
              CASE WHEN s.status <> 'open' THEN 'bench' END,
              CASE WHEN s.status <> 'open' THEN timestamptz '2026-11-01' END,
              timestamptz '2026-03-01' + (abs(hashtext(i.fi_code || n)) % 240) * interval '1 day'
       FROM institution i JOIN outlet_profile p ON p.institution_id = i.id
       CROSS JOIN generate_series(1, 1 + abs(hashtext(i.fi_code || 'r')) % 3) n
       CROSS JOIN LATERAL (SELECT (ARRAY['open','accepted','rejected'])
                           [1 + abs(hashtext(i.fi_code || n || 's')) % 3] AS status) s
       WHERE abs(hashtext(i.fi_code || 'r')) % 50 = 0""",
    # install registrations: 5 staff per 100 outlets, at the outlet's county, some without
    """INSERT INTO feedback (kind, text, staff_name, employer_name, employer_fi_code,
                             employer_region_code, client_key_hash, created_at)
       SELECT 'install_registration', '', '员工', '单位', i.legal_entity_code,
              CASE WHEN abs(hashtext(i.fi_code || 'g')) % 5 > 0 THEN i.region_code END,
              md5(i.fi_code || 'g') || md5(i.fi_code || 'h'),
              timestamptz '2026-04-01' + (abs(hashtext(i.fi_code || 'g')) % 200) * interval '1 day'
       FROM institution i JOIN outlet_profile p ON p.institution_id = i.id
       WHERE abs(hashtext(i.fi_code || 'g')) % 20 = 0""",
    "ANALYZE",
]


def bench_database(outlets: int) -> str:
    url = make_url(normalise_url(server_url())).set(
        database=f"branchfinder_bench_quality_{outlets}"
    )
    rendered = url.render_as_string(hide_password=False)
    create_database(rendered)
    upgrade(rendered)
    engine = make_engine(rendered, statement_timeout_ms=0)
    with engine.connect() as conn:
        loaded = conn.execute(text("SELECT count(*) FROM outlet_profile")).scalar_one()
        enriched = conn.execute(text("SELECT count(*) FROM outlet_photo")).scalar_one()
    if loaded < outlets * 0.9:
        print(f"loading {outlets:,} outlets (once)", file=sys.stderr)
        import tempfile

        with tempfile.TemporaryDirectory(prefix="branchfinder-bench-") as tmp:
            generate(Path(tmp), outlets=outlets, seed=1)
            load_demo(make_sessionmaker(engine), Path(tmp))
    if not enriched:
        print("adding photos, uploads, confirmations, reports, registrations", file=sys.stderr)
        with engine.begin() as conn:
            for statement in ENRICH:
                conn.execute(text(statement))
    engine.dispose()
    return rendered


def timings(url: str, runs: int, cases: dict[str, Callable[[Session], Any]]) -> dict[str, float]:
    """Median wall time (ms) of each case after one untimed run (caches warm, as in service)."""
    engine = make_engine(url, statement_timeout_ms=0)
    found: dict[str, float] = {}
    with Session(engine) as session:
        session.execute(text("SET TRANSACTION READ ONLY"))
        for name, case in cases.items():
            case(session)
            samples = []
            for _ in range(runs):
                start = time.perf_counter()
                case(session)
                samples.append((time.perf_counter() - start) * 1000)
            found[name] = statistics.median(samples)
    engine.dispose()
    return found


def baseline(scope: Scope) -> Callable[[Session], Any]:
    """Count the active outlets of the area: the scan every coverage figure needs."""
    legal = "AND i.legal_entity_code = :le" if scope.legal_entity_code else ""
    sql = text(
        "SELECT count(*) FROM institution i JOIN outlet_profile p ON p.institution_id = i.id "
        f"WHERE i.status = 'active' AND i.region_code LIKE :pattern {legal}"
    )
    params = {"pattern": scope.pattern, "le": scope.legal_entity_code}

    def count(session: Session) -> Any:
        quality.prepare_report(session)  # the same settings as the reports
        return session.execute(sql, params).scalar_one()

    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--outlets", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    url = bench_database(args.outlets)

    engine = make_engine(url, statement_timeout_ms=0)
    with engine.connect() as conn:
        outlets = conn.execute(text("SELECT count(*) FROM outlet_profile")).scalar_one()
        biggest_bank = conn.execute(
            text(
                "SELECT legal_entity_code FROM institution GROUP BY 1 ORDER BY count(*) DESC "
                "LIMIT 1"
            )
        ).scalar_one()
        events = conn.execute(text("SELECT count(*) FROM change_event")).scalar_one()
        reports = conn.execute(text("SELECT count(*) FROM error_report")).scalar_one()
    engine.dispose()

    # The demo load writes every profile's import event at load time: after it, every
    # outlet is stale (the list is long, a page is quick); before it, none is (a page
    # must look at every outlet to find none: the worst case).
    stale = dt.datetime.now(SHANGHAI) + dt.timedelta(days=1)
    fresh = dt.datetime(2026, 1, 1, tzinfo=SHANGHAI)
    rows: list[tuple[str, str]] = [
        ("outlets", f"{outlets:,}"),
        ("change events", f"{events:,}"),
        ("error reports", f"{reports:,}"),
    ]
    for label, scope in (
        ("province 32", Scope("32")),
        ("city 3205", Scope("3205")),
        (f"legal entity {biggest_bank} in 32", Scope("32", biggest_bank)),
    ):
        cases: dict[str, Callable[[Session], Any]] = {
            "baseline: count of outlets": baseline(scope),
            "coverage by city": lambda s, sc=scope: quality.coverage(s, sc, "city"),
            "coverage by county": lambda s, sc=scope: quality.coverage(s, sc, "county"),
            "coverage by legal entity": lambda s, sc=scope: quality.coverage(s, sc, "legal_entity"),
            "ranking": lambda s, sc=scope: quality.ranking(s, sc),
            "not updated (all stale), page of 200": lambda s, sc=scope: quality.not_updated(
                s, sc, stale, limit=201
            ),
            "not updated (all stale), export": lambda s, sc=scope: quality.not_updated(
                s, sc, stale, limit=100_001
            ),
            "not updated (none stale), empty page": lambda s, sc=scope: quality.not_updated(
                s, sc, fresh, limit=201
            ),
            "inaccurate, page of 200": lambda s, sc=scope: quality.inaccurate(s, sc, limit=201),
            "repeated errors": lambda s, sc=scope: quality.repeated_errors(s, sc),
            "rollout by institution": lambda s, sc=scope: rollout.by_institution(s, sc),
            "rollout by county office": lambda s, sc=scope: rollout.by_office(s, sc, "county"),
        }
        found = timings(url, args.runs, cases)
        base = found["baseline: count of outlets"]
        rows.append((f"-- {label}", ""))
        for name, ms in found.items():
            rows.append((f"  {name}", f"{ms:8.1f} ms  ({ms / base:5.1f}x baseline)"))
    report(rows)


if __name__ == "__main__":
    main()
