"""The daily full files of the public outlet data, and their manifest.

`export()` writes, from one consistent snapshot of the database, every public outlet
(`open_data.records`, in fi_code order) three ways, each gzipped:

- `outlets.csv.gz`: CSV, UTF-8 with a BOM (so that Excel opens Chinese correctly), one
  header row (`records.COLUMNS`), one row per outlet;
- `outlets.geojson.gz`: an RFC 7946 FeatureCollection of WGS-84 Points;
- `outlets.jsonl.gz`: JSON Lines, one outlet's record per line;

and `manifest.json`: when the snapshot was taken, the public data's version then, the
feed cursor a consumer continues from (`open_data.feed.horizon` of the same snapshot),
and per file its outlet count, size and sha256 (of the gzipped bytes, as served).

Memory is flat in the number of outlets: rows come from one server-side cursor in
batches (`geo.search.stream_visible`) and each batch is written out before the next is
read; the sha256 is taken as bytes are written. Compression runs in a thread per file
(zlib lets go of the GIL), so it overlaps with building the next batch's rows.

Layout under the configured directory (BRANCHFINDER_OPEN_DIR, default var/open):
`exports/<time>/` holds one export; `current` is a symbolic link to the newest complete
one, replaced atomically once all its files and its manifest are written, so a reader
never sees a manifest that does not match its files. The previous exports (`keep`)
stay, so a download that began before the switch can finish (it revalidates with its
ETag, the file's sha256, and learns that a new file replaced it).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import os
import shutil
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, Final

import orjson
from sqlalchemy import Engine, text

from core.models.public_version import public_data_state
from geo.search import stream_visible
from open_data.feed import horizon
from open_data.records import COLUMN_DOCS, COLUMNS, csv_row, feature, record

FORMAT_VERSION: Final = 1
CURRENT: Final = "current"
MANIFEST: Final = "manifest.json"
BOM: Final = "\ufeff".encode()


@dataclass(frozen=True)
class FileFormat:
    name: str  # the file's name, also its URL's last part
    format: str
    media_type: str  # of the content inside the gzip
    description: str


FORMATS: Final = (
    FileFormat(
        "outlets.csv.gz",
        "csv",
        "text/csv; charset=utf-8",
        "CSV（UTF-8 带 BOM），每行一个网点 / CSV, UTF-8 with BOM, one row per outlet",
    ),
    FileFormat(
        "outlets.geojson.gz",
        "geojson",
        "application/geo+json",
        "GeoJSON FeatureCollection（RFC 7946，WGS-84） / RFC 7946 FeatureCollection, WGS-84",
    ),
    FileFormat(
        "outlets.jsonl.gz",
        "jsonl",
        "application/jsonl",
        "JSON Lines，每行一个网点 / JSON Lines, one outlet per line",
    ),
)
BY_NAME: Final = {f.name: f for f in FORMATS}


@dataclass(frozen=True)
class FileEntry:
    name: str
    format: str
    media_type: str
    content_encoding: str  # of the file: gzip (served as application/gzip)
    count: int
    bytes: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    format_version: int
    generated_at: str  # ISO 8601, UTC: when the snapshot was taken
    data_version: int  # core.models.public_version at the snapshot
    cursor: str  # the change feed's cursor to continue from (open_data.feed)
    coord: str  # positions' system: wgs84
    count: int  # outlets in each file
    files: list[FileEntry]
    columns: list[dict[str, str]]  # name and description, in the CSV's order

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Manifest:
        return cls(**{**data, "files": [FileEntry(**f) for f in data["files"]]})


class _HashingFile(io.RawIOBase):
    """A binary file that hashes and counts what is written through it."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self.sha256 = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = memoryview(data)
        self.sha256.update(view)
        self.size += len(view)
        self._raw.write(view)
        return len(view)


class _GzipWriter:
    """One gzipped output whose compression runs in its own thread, one chunk behind."""

    def __init__(self, path: Path, level: int) -> None:
        self._raw = path.open("wb")
        self.hashing = _HashingFile(self._raw)
        self._gzip = gzip.GzipFile(
            filename="", mode="wb", fileobj=self.hashing, compresslevel=level, mtime=0
        )
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix=path.name)
        self._pending: Future[Any] | None = None

    def write(self, chunk: bytes) -> None:
        if self._pending is not None:
            self._pending.result()  # at most one chunk waits: memory stays a batch or two
        self._pending = self._thread.submit(self._gzip.write, chunk)

    def close(self) -> None:
        if self._pending is not None:
            self._pending.result()
        self._thread.shutdown()
        self._gzip.close()
        self._raw.close()


def _csv_chunk(records: list[dict[str, Any]], header: bool) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")  # RFC 4180
    if header:
        writer.writerow(COLUMNS)
    writer.writerows(csv_row(r) for r in records)
    return (BOM if header else b"") + buffer.getvalue().encode()


def _geojson_chunk(records: list[dict[str, Any]], first: bool) -> bytes:
    features = b",\n".join(orjson.dumps(feature(r)) for r in records)
    if not features:
        return b""
    return features if first else b",\n" + features


def _jsonl_chunk(records: list[dict[str, Any]]) -> bytes:
    return b"".join(orjson.dumps(r) + b"\n" for r in records)


def export(
    engine: Engine,
    directory: Path,
    *,
    batch_size: int = 5_000,
    compresslevel: int = 6,
    keep: int = 2,
    on_batch: Callable[[int], None] | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Manifest:
    """Write a full export under `directory` and make it the current one.

    One repeatable-read, read-only transaction: the files, their counts and the feed
    cursor all describe the same snapshot. `on_batch(outlets_so_far)` after each batch.
    """
    stamp = now().strftime("%Y%m%dT%H%M%S%fZ")
    exports = directory / "exports"
    target = exports / stamp
    partial = exports / f".{stamp}.partial"
    partial.mkdir(parents=True)
    try:
        manifest = _write(engine, partial, batch_size, compresslevel, on_batch)
        (partial / MANIFEST).write_text(
            json.dumps(manifest.to_json(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        partial.rename(target)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    link = directory / f".{CURRENT}.{stamp}"
    link.symlink_to(Path("exports") / stamp)
    os.replace(link, directory / CURRENT)  # atomic: readers see the old export or this one
    _prune(exports, keep)
    return manifest


def _write(
    engine: Engine,
    out: Path,
    batch_size: int,
    compresslevel: int,
    on_batch: Callable[[int], None] | None,
) -> Manifest:
    writers = {f.format: _GzipWriter(out / f.name, compresslevel) for f in FORMATS}
    count = 0
    try:
        with engine.connect() as conn:
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                conn.execute(text("SET TRANSACTION READ ONLY"))
                cursor = horizon(conn)  # first statement: it takes the snapshot
                taken_at = conn.execute(text("SELECT now()")).scalar_one()
                state = public_data_state(conn)
                writers["geojson"].write(b'{"type": "FeatureCollection", "features": [\n')
                for hits in stream_visible(conn, batch_size):
                    records = [record(h) for h in hits]
                    writers["csv"].write(_csv_chunk(records, header=count == 0))
                    writers["geojson"].write(_geojson_chunk(records, first=count == 0))
                    writers["jsonl"].write(_jsonl_chunk(records))
                    count += len(records)
                    if on_batch is not None:
                        on_batch(count)
                if count == 0:
                    writers["csv"].write(_csv_chunk([], header=True))
                writers["geojson"].write(b"\n]}\n")
    finally:
        for writer in writers.values():
            writer.close()
    files = [
        FileEntry(
            name=f.name,
            format=f.format,
            media_type=f.media_type,
            content_encoding="gzip",
            count=count,
            bytes=writers[f.format].hashing.size,
            sha256=writers[f.format].hashing.sha256.hexdigest(),
        )
        for f in FORMATS
    ]
    return Manifest(
        format_version=FORMAT_VERSION,
        generated_at=taken_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        data_version=state.version,
        cursor=str(cursor),
        coord="wgs84",
        count=count,
        files=files,
        columns=[{"name": c, "description": COLUMN_DOCS[c]} for c in COLUMNS],
    )


def _prune(exports: Path, keep: int) -> None:
    done = sorted(p for p in exports.iterdir() if p.is_dir() and not p.name.startswith("."))
    for old in done[: max(len(done) - keep, 0)]:
        shutil.rmtree(old, ignore_errors=True)


@dataclass(frozen=True)
class CurrentExport:
    directory: Path  # the export's own directory (resolved)
    manifest: Manifest


def current(directory: Path) -> CurrentExport | None:
    """The current export, or None when none was made yet."""
    try:
        resolved = (directory / CURRENT).resolve(strict=True)
        data = json.loads((resolved / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return CurrentExport(resolved, Manifest.from_json(data))
