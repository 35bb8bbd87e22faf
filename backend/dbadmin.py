"""Creating and dropping databases on a server: used by `branchfinder db create` and the tests.

Trigram matching of Chinese text needs a UTF-8 database with a UTF-8 ctype
(under the C locale pg_trgm ignores non-ASCII characters), so databases are
created from template0 with C.UTF-8, and the check refuses an existing
database that was created otherwise.
"""

from __future__ import annotations

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

from core.database import normalise_url

DB_LOCALE = "C.UTF-8"


class DatabaseSetupError(RuntimeError):
    """A database cannot be used as is; the message says how to fix it."""


def _maintenance_url(url: URL) -> URL:
    return url.set(database="postgres")


def database_exists(database_url: str) -> bool:
    url = make_url(normalise_url(database_url))
    engine = create_engine(_maintenance_url(url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            found = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": url.database}
            ).first()
            return found is not None
    finally:
        engine.dispose()


def create_database(database_url: str) -> bool:
    """Create the database (UTF-8, C.UTF-8) with PostGIS and pg_trgm if missing.

    Returns True if it was created. Extensions are created here as well as in
    the first migration, so a non-superuser application role can run the
    migrations once an administrator has run this.
    """
    url = make_url(normalise_url(database_url))
    name = url.database
    if not name:
        raise DatabaseSetupError("the database URL names no database")
    created = False
    admin = create_engine(_maintenance_url(url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if (
                conn.execute(
                    text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
                ).first()
                is None
            ):
                quoted = conn.dialect.identifier_preparer.quote(name)
                conn.execute(
                    text(
                        f"CREATE DATABASE {quoted} TEMPLATE template0 ENCODING 'UTF8' "
                        f"LC_COLLATE '{DB_LOCALE}' LC_CTYPE '{DB_LOCALE}'"
                    )
                )
                created = True
    finally:
        admin.dispose()
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            encoding, ctype = conn.execute(
                text(
                    "SELECT pg_encoding_to_char(encoding), datctype FROM pg_database "
                    "WHERE datname = current_database()"
                )
            ).one()
            if encoding != "UTF8" or "utf" not in ctype.lower().replace("-", ""):
                raise DatabaseSetupError(
                    f"database {name!r} has encoding {encoding} and ctype {ctype}: "
                    "recreate it with ENCODING 'UTF8' and a UTF-8 locale (e.g. C.UTF-8)"
                )
            for extension in ("postgis", "pg_trgm"):
                conn.execute(text(f"CREATE EXTENSION IF NOT EXISTS {extension}"))
    finally:
        engine.dispose()
    return created


def drop_database(database_url: str) -> None:
    url = make_url(normalise_url(database_url))
    quoted_name = url.database
    admin = create_engine(_maintenance_url(url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            quoted = conn.dialect.identifier_preparer.quote(quoted_name or "")
            conn.execute(text(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))
    finally:
        admin.dispose()
