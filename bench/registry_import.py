"""Registry import at scale: validation, first import, no-op re-import, memory.

On generated data (default 200,000 institution rows): validate the file
(nothing written), import it into an empty database, import it again (a
no-op), and run the profile import beside it. Each step runs in a fresh
process so its peak memory is its own; validating a quarter of the file in
the same way shows whether memory grows with the file.

Baseline, in the same run: a bare COPY of the same file into a table of text
columns — the floor for getting these bytes into PostgreSQL.

Goals (issue 3): validation >= 20,000 rows/s; first import of 200,000 rows
< 60 s; re-import < 1/3 of the first import; memory flat in the file size.
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing as mp
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import report, scratch_database


def _step(kind: str, url: str, path: str, queue: Any) -> None:
    from backend.imports import import_profiles, import_registry
    from core.database import make_engine, make_sessionmaker
    from registry.importer import ImportOptions

    engine = make_engine(url, statement_timeout_ms=0)
    sessions = make_sessionmaker(engine)
    start = time.perf_counter()
    with sessions() as session:
        if kind == "profiles":
            result = import_profiles(session, Path(path))
        else:
            result = import_registry(session, Path(path), ImportOptions(dry_run=kind == "validate"))
        if kind == "validate":
            session.rollback()
        else:
            session.commit()
    elapsed = time.perf_counter() - start
    engine.dispose()
    queue.put((elapsed, result.summary, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))


def run_step(kind: str, url: str, path: Path) -> tuple[float, dict[str, Any], float]:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_step, args=(kind, url, str(path), queue))
    proc.start()
    out = queue.get()
    proc.join()
    return out  # type: ignore[no-any-return]


def bare_copy(url: str, path: Path) -> float:
    from core.database import make_engine

    engine = make_engine(url, statement_timeout_ms=0)
    raw = engine.raw_connection()
    start = time.perf_counter()
    try:
        cur = raw.cursor()
        cur.execute("CREATE TEMP TABLE bare (" + ", ".join(f"c{i} text" for i in range(15)) + ")")
        with path.open(encoding="utf-8") as fh:
            cur.copy_expert("COPY bare FROM STDIN WITH (FORMAT csv, HEADER true)", fh)
        raw.commit()
    finally:
        raw.close()
        engine.dispose()
    return time.perf_counter() - start


def head(path: Path, out: Path, rows: int) -> None:
    with path.open(encoding="utf-8", newline="") as src, out.open("w", encoding="utf-8") as dst:
        reader = csv.reader(src)
        writer = csv.writer(dst, lineterminator="\n")
        for i, row in enumerate(reader):
            if i > rows:
                break
            writer.writerow(row)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=200_000, help="about this many institutions")
    args = parser.parse_args()

    from backend.demo.generate import generate

    with (
        tempfile.TemporaryDirectory(prefix="bf-bench-") as tmp,
        scratch_database("registry") as url,
    ):
        data = Path(tmp)
        generate(data, outlets=int(args.rows * 0.99), seed=1)
        inst = data / "institutions.csv"
        quarter = data / "quarter.csv"
        n_rows = sum(1 for _ in inst.open(encoding="utf-8")) - 1
        head(inst, quarter, n_rows // 4)

        t_copy = bare_copy(url, inst)
        t_val_q, _, mem_q = run_step("validate", url, quarter)
        t_val, val_summary, mem_val = run_step("validate", url, inst)
        t_imp, imp_summary, mem_imp = run_step("import", url, inst)
        t_re, re_summary, mem_re = run_step("import", url, inst)
        t_prof, prof_summary, mem_prof = run_step("profiles", url, data / "profiles.csv")

    assert val_summary["rejected"] == 0 and imp_summary["inserted"] == n_rows
    assert re_summary["inserted"] == 0 and re_summary["updated"] == 0
    rate = n_rows / t_val
    report(
        [
            ("institution rows", f"{n_rows:,}"),
            ("baseline: bare COPY", f"{t_copy:.1f} s ({n_rows / t_copy:,.0f} rows/s)"),
            (
                "validate (no writes)",
                f"{t_val:.1f} s ({rate:,.0f} rows/s; goal >= 20,000)"
                f"  {t_val / t_copy:.1f}x bare COPY",
            ),
            (
                "first import",
                f"{t_imp:.1f} s ({n_rows / t_imp:,.0f} rows/s; goal < 60 s)"
                f"  {t_imp / t_copy:.1f}x bare COPY",
            ),
            (
                "re-import (no-op)",
                f"{t_re:.1f} s = {t_re / t_imp:.2f} of the first import (goal < 0.33)",
            ),
            (
                "profile import",
                f"{t_prof:.1f} s ({prof_summary['rows_read'] / t_prof:,.0f} rows/s)",
            ),
            ("peak RSS validate 1/4 file", f"{mem_q:,.0f} MB ({t_val_q:.1f} s)"),
            ("peak RSS validate full file", f"{mem_val:,.0f} MB"),
            ("peak RSS import / re-import", f"{mem_imp:,.0f} MB / {mem_re:,.0f} MB"),
            ("peak RSS profile import", f"{mem_prof:,.0f} MB"),
        ]
    )


if __name__ == "__main__":
    main()
