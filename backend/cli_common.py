"""What every `branchfinder` command group shares: the database option and a session
whose connection failure is a one-line click error rather than a traceback.

With no `--database-url` and no `DATABASE_URL`, commands use the local cluster that
./run.sh set up in this checkout (core.config.local_cluster_url), so the README's
examples work as written; when no database can be reached, the one line says what to run.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from core.config import Config, local_cluster_url

DB_OPTION = click.option(
    "--database-url",
    envvar="DATABASE_URL",
    default=lambda: Config().database_url,
    show_default="$DATABASE_URL, else the local cluster of ./run.sh",
    help="PostgreSQL URL of a PostGIS database.",
)


@contextmanager
def cli_session(database_url: str) -> Iterator[Session]:
    """A session committed at the end of the block (rolled back on an error)."""
    from core.database import make_engine, make_sessionmaker, session_scope

    engine = make_engine(database_url)
    try:
        with session_scope(make_sessionmaker(engine)) as session:
            yield session
    except OperationalError as exc:
        raise click.ClickException(one_line_error(exc)) from exc
    finally:
        engine.dispose()


# What libpq says when it cannot connect or sign in, or the database is not there.
_UNREACHABLE = re.compile(
    r"connection to server|could not connect|could not translate host|fe_sendauth|"
    r'password authentication failed|no password supplied|database "[^"]*" does not exist|'
    r"Connection refused|timeout expired",
    re.IGNORECASE,
)


def where_to_get_a_database(problem: str) -> str:
    """What to run when no database answers, for the one line of a failed command."""
    if os.environ.get("DATABASE_URL"):
        return "check DATABASE_URL (is that server up, and the database created?)"
    if local_cluster_url() is None:
        return "no local database is set up here: run ./run.sh (or set DATABASE_URL)"
    if "does not exist" in problem:
        return "the local database is not created yet: run ./run.sh (or set DATABASE_URL)"
    return "the local database is not running: run ./run.sh to start it (or set DATABASE_URL)"


def one_line_error(exc: BaseException) -> str:
    """The first line of a database error; when it is a failure to reach the database at
    all, followed by what to run."""
    lines = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    first = lines[0] if lines else type(exc).__name__
    if isinstance(exc, OperationalError) and _UNREACHABLE.search(first):
        return f"{first} — {where_to_get_a_database(first)}"
    return first
