"""Streaming rows into PostgreSQL with COPY, in bounded chunks.

Row-by-row INSERTs cost a round trip each; at a million registry rows that is
the difference between seconds and an hour. Chunks keep memory flat however
large the file is. Everything runs on the caller's connection and transaction,
so an import stays all-or-nothing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy.orm import Session

CHUNK_ROWS = 20_000


def dbapi_connection(session: Session) -> Any:
    """The psycopg2 connection under the session's current transaction."""
    return session.connection().connection.dbapi_connection


def copy_rows(
    session: Session,
    table: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    on_chunk: Callable[[int], None] | None = None,
) -> int:
    """COPY `rows` into `table`; None (and "") becomes NULL. Returns the number of rows.

    CSV mode's NULL is the unquoted empty field, which the csv module writes for None and
    "": no in-band marker, so any text a file brings (even a literal \\N) stays text. The
    stored model has no empty strings anyway: every importer normalises "" to None.
    """
    cursor = dbapi_connection(session).cursor()
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)"
    total = 0
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    pending = 0

    def flush() -> None:
        nonlocal pending, buffer, writer
        if pending == 0:
            return
        buffer.seek(0)
        cursor.copy_expert(sql, buffer)
        if on_chunk is not None:
            on_chunk(pending)
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        pending = 0

    for row in rows:
        writer.writerow(row)
        pending += 1
        total += 1
        if pending >= CHUNK_ROWS:
            flush()
    flush()
    cursor.close()
    return total


def pg_array(values: Iterable[str]) -> str:
    """A PostgreSQL text[] literal for COPY (elements are vocabulary keys, no quoting needed)."""
    return "{" + ",".join(values) + "}"
