"""Staff photo upload end to end: a 4 MB phone JPEG through gunicorn, time and memory.

1. A 4032×3024 JPEG of about 4 MB with the EXIF a phone writes (make, model, GPS)
   is uploaded to `POST /api/mp/v1/staff/outlets/{fi_code}/photos` under gunicorn
   (the settings of ./run.sh: sync workers, `--workers`), one at a time: time per
   upload (p50, p95) as the client sees it.
2. The same with 1, 2, 4, 8 and 16 uploads in flight at once: throughput, and the
   peak resident memory of every gunicorn worker (VmHWM from /proc). The
   goal is that the peak does not grow with the number in flight beyond the
   worker count: each sync worker decodes one photo at a time, and
   `BRANCHFINDER_PHOTO_WORKERS` bounds it within a process in any case.

Goals (issue 6): under 1 s per upload; memory bounded by the worker count.
Six different pictures go to twenty outlets in turn, so no outlet gets the same one
twice (each upload is decoded, re-encoded and recorded in full).
Runs in its own database `branchfinder_bench_photos` and a temporary photo directory.
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests
from PIL import ExifTags, Image
from sqlalchemy import text

from backend.demo.generate import generate
from backend.imports import import_profiles, import_registry
from bench.common import gunicorn, report, scratch_database, stop
from core import tokens
from core.database import make_engine, make_sessionmaker, session_scope
from uploads import staff

PEPPER = "bench-pepper"
PORT = 18_431


def phone_jpeg(seed: int, target_mb: float = 4.0) -> bytes:
    """A 12-megapixel JPEG of about `target_mb`, with a phone's EXIF."""
    rng = random.Random(seed)
    width, height = 4032, 3024
    base = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    noise = Image.effect_noise((width, height), 24 + rng.random()).convert("RGB")
    image = Image.blend(base, noise, 0.35)
    image.putpixel((seed % width, seed % height), (255, 0, seed % 256))
    exif = Image.Exif()
    exif[0x010F] = "BenchPhone"
    exif[0x0110] = "BP-12"
    exif[ExifTags.IFD.GPSInfo] = {1: "N", 2: (32.0, 2.0, 29.0), 3: "E", 4: (118.0, 46.0, 41.0)}
    quality = 90
    while True:
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=quality, exif=exif)
        if buffer.tell() <= target_mb * 1024 * 1024 * 1.1 or quality <= 60:
            return buffer.getvalue()
        quality -= 4


def prepare(url: str, outlets: int) -> tuple[str, list[str]]:
    """Demo outlets, a staff member bound to 20 of them, and that member's token."""
    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp), outlets=outlets, seed=3)
        engine = make_engine(url)
        with session_scope(make_sessionmaker(engine)) as session:
            import_registry(session, Path(tmp) / "institutions.csv")
            import_profiles(session, Path(tmp) / "profiles.csv")
        with session_scope(make_sessionmaker(engine)) as session:
            fi_codes = list(
                session.scalars(
                    text(
                        "SELECT i.fi_code FROM institution i JOIN outlet_profile p "
                        "ON p.institution_id = i.id WHERE p.position IS NOT NULL "
                        "ORDER BY i.fi_code LIMIT :n"
                    ),
                    {"n": staff.MAX_OUTLETS_PER_STAFF},
                )
            )
            staff_id = staff.sign_in(session, "bench-openid", PEPPER)
            issued = staff.create_tasks(
                session, fi_codes, actor="bench", pepper=PEPPER, qr_prefix=""
            )
            for code in issued:
                staff.bind(session, staff_id, code.code, PEPPER)
            token = tokens.issue(session, "staff", staff_id, 86_400).token
        engine.dispose()
    return token, fi_codes


def serve(url: str, workers: int, photo_dir: str) -> subprocess.Popen[bytes]:
    env = {
        "DATABASE_URL": url,
        "BRANCHFINDER_SECRET_KEY": PEPPER,
        "BRANCHFINDER_PHOTO_DIR": photo_dir,
        "BRANCHFINDER_STAFF_UPLOAD_RATE_LIMIT": "1000000",
    }
    return gunicorn(
        "backend.wsgi:app", PORT, workers=workers, env=env, options=("--timeout", "120")
    )


def worker_pids(master: int) -> list[int]:
    out = subprocess.run(
        ["pgrep", "-P", str(master)], capture_output=True, text=True, check=False
    ).stdout
    return [int(p) for p in out.split()]


def status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def upload(token: str, fi_code: str, data: bytes) -> float:
    start = time.perf_counter()
    response = requests.post(
        f"http://127.0.0.1:{PORT}/api/mp/v1/staff/outlets/{fi_code}/photos",
        files={"photo": ("IMG_0001.JPG", data, "image/jpeg")},
        headers={"Authorization": f"Bearer {token}"},
        timeout=120,
    )
    elapsed = time.perf_counter() - start
    if response.status_code != 201:
        raise SystemExit(f"upload failed: {response.status_code} {response.text[:300]}")
    return elapsed


def clear_photos(url: str) -> None:
    """Uploads beyond six per outlet would be refused: forget the photos between rounds."""
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM upload_review"))
        conn.execute(text("DELETE FROM outlet_photo"))
    engine.dispose()


def pct(values: list[float], p: int) -> float:
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (run.sh: 2)")
    parser.add_argument("--uploads", type=int, default=30, help="sequential uploads timed")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 2, 4, 8, 16])
    args = parser.parse_args()

    print("making phone photos …", file=sys.stderr)
    photos = [phone_jpeg(n) for n in range(6)]
    sizes = [len(p) / 1024 / 1024 for p in photos]
    with scratch_database("photos") as url, tempfile.TemporaryDirectory() as photo_dir:
        token, fi_codes = prepare(url, 300)
        proc = serve(url, args.workers, photo_dir)
        try:
            workers = worker_pids(proc.pid)
            rss_idle = max(status_kb(p, "VmRSS") for p in workers) / 1024
            counter = iter(range(10**9))

            def one(_: int = 0) -> float:
                n = next(counter)
                # six pictures over twenty outlets: no outlet gets the same one twice
                return upload(token, fi_codes[n % len(fi_codes)], photos[n % len(photos)])

            upload(token, fi_codes[0], photos[0])  # warm-up: imports, first connection
            clear_photos(url)
            times = []
            for n in range(args.uploads):
                if n and n % len(fi_codes) == 0:
                    clear_photos(url)
                times.append(one())
            clear_photos(url)
            rows = [
                ("photo", f"{sizes[0]:.1f}–{max(sizes):.1f} MB JPEG, 4032×3024, with EXIF GPS"),
                ("gunicorn workers", str(args.workers)),
                (
                    "upload, one at a time",
                    f"p50 {pct(times, 50) * 1000:.0f} ms, p95 {pct(times, 95) * 1000:.0f} ms "
                    f"(goal < 1000 ms)",
                ),
                ("worker RSS idle", f"{rss_idle:.0f} MB"),
            ]
            for level in args.concurrency:
                before = [status_kb(p, "VmHWM") for p in workers]
                start = time.perf_counter()
                total = max(level * 2, 8)
                with ThreadPoolExecutor(level) as pool:
                    elapsed = list(pool.map(one, range(total)))
                wall = time.perf_counter() - start
                clear_photos(url)
                peak = max(status_kb(p, "VmHWM") for p in workers) / 1024
                rows.append(
                    (
                        f"{level:>2} in flight",
                        f"{total / wall:.1f} uploads/s, client p95 "
                        f"{pct(elapsed, 95) * 1000:.0f} ms, peak worker RSS {peak:.0f} MB "
                        f"(was {max(before) / 1024:.0f} MB)",
                    )
                )
        finally:
            stop(proc)
    report(rows)


if __name__ == "__main__":
    main()
