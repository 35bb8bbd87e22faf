"""Shared by the benchmarks: a scratch database on the benchmark server, timing, reporting."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

from backend.dbadmin import create_database, drop_database
from backend.migrate import upgrade
from core.database import normalise_url

ROOT = Path(__file__).resolve().parent.parent


def server_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if not url:
        raise SystemExit("set DATABASE_URL, or run through ./bench/run.sh")
    return url


@contextmanager
def scratch_database(name: str, *, keep: bool = False) -> Iterator[str]:
    url = make_url(normalise_url(server_url())).set(database=f"branchfinder_bench_{name}")
    rendered = url.render_as_string(hide_password=False)
    drop_database(rendered)
    create_database(rendered)
    upgrade(rendered)
    try:
        yield rendered
    finally:
        if not keep:
            drop_database(rendered)


@contextmanager
def timed() -> Iterator[list[float]]:
    box: list[float] = []
    start = time.perf_counter()
    yield box
    box.append(time.perf_counter() - start)


_TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def cpu_seconds(matches: str) -> float:
    """User and system CPU of the processes whose command line contains `matches`
    (a server's `127.0.0.1:PORT`, or `postgres:` for every PostgreSQL process)."""
    ticks = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                command = fh.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        if matches in command:
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / _TICKS_PER_S


def gunicorn(
    app: str,
    port: int,
    *,
    workers: int,
    env: dict[str, str],
    ready: str = "/healthz",
    checkout: Path = ROOT,
    options: tuple[str, ...] = (),
) -> subprocess.Popen[bytes]:
    """`app` served by gunicorn on 127.0.0.1:`port` from `checkout` (this one, or an
    earlier revision's worktree), returned once `ready` answers. Its own process group,
    so that `stop` ends the master and its workers together. `env` is added to ours,
    with warnings-only logging."""
    command = [str(ROOT / ".venv/bin/gunicorn"), "--bind", f"127.0.0.1:{port}"]
    command += ["--workers", str(workers), "--log-level", "warning", "--chdir", str(checkout)]
    proc = subprocess.Popen(
        [*command, *options, app],
        cwd=checkout,
        env={**os.environ, "BRANCHFINDER_LOG_LEVEL": "WARNING", "PYTHONPATH": str(checkout), **env},
        start_new_session=True,
    )
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}{ready}", timeout=1)
            return proc
        except OSError:
            time.sleep(0.1)
    stop(proc)
    raise SystemExit(f"{app} from {checkout} did not start on port {port}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=10)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def report(rows: list[tuple[str, str]]) -> None:
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key.ljust(width)}  {value}")
