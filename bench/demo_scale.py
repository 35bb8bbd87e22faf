"""Generation and load of the demo data set at scale (default 1,000,000 outlets).

Baseline, measured in the same run: a bare COPY of the same two files into
tables with no indexes, constraints or transformation — the floor for getting
these bytes into PostgreSQL. The ratio says what validation-free parsing,
coordinate conversion, the GiST index and the change events cost on top.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backend.demo.generate import generate
from backend.demo.load import load_demo
from bench.common import peak_rss_mb, report, scratch_database, timed
from core.database import make_engine, make_sessionmaker


def bare_copy(database_url: str, data_dir: Path) -> None:
    engine = make_engine(database_url, statement_timeout_ms=0)
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute(
            "CREATE TEMP TABLE bare_inst (" + ", ".join(f"c{i} text" for i in range(15)) + ")"
        )
        cur.execute(
            "CREATE TEMP TABLE bare_prof (" + ", ".join(f"c{i} text" for i in range(8)) + ")"
        )
        for table, name in (("bare_inst", "institutions.csv"), ("bare_prof", "profiles.csv")):
            with (data_dir / name).open(encoding="utf-8") as fh:
                cur.copy_expert(f"COPY {table} FROM STDIN WITH (FORMAT csv, HEADER true)", fh)
        raw.commit()
    finally:
        raw.close()
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--outlets", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--progress", action="store_true", help="progress bars on stderr")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bf-bench-") as tmp, scratch_database("demo") as url:
        data_dir = Path(tmp)
        with timed() as t_gen:
            result = generate(
                data_dir, outlets=args.outlets, seed=args.seed, progress=args.progress
            )
        size_mb = sum(p.stat().st_size for p in data_dir.iterdir()) / 1e6
        with timed() as t_base:
            bare_copy(url, data_dir)
        engine = make_engine(url, statement_timeout_ms=0)
        with timed() as t_load:
            load_demo(make_sessionmaker(engine), data_dir, progress=args.progress)
        engine.dispose()

    rows = result.institutions + result.profiles
    report(
        [
            ("outlets", f"{args.outlets:,}"),
            ("institution rows", f"{result.institutions:,}"),
            ("files", f"{size_mb:,.0f} MB"),
            ("generate", f"{t_gen[0]:.1f} s ({args.outlets / t_gen[0]:,.0f} outlets/s)"),
            ("load", f"{t_load[0]:.1f} s ({rows / t_load[0]:,.0f} rows/s)"),
            ("baseline: bare COPY", f"{t_base[0]:.1f} s ({rows / t_base[0]:,.0f} rows/s)"),
            ("load / bare COPY", f"{t_load[0] / t_base[0]:.1f}x"),
            ("generate + load", f"{t_gen[0] + t_load[0]:.1f} s"),
            ("peak RSS (this process)", f"{peak_rss_mb():,.0f} MB"),
        ]
    )


if __name__ == "__main__":
    main()
