"""The `branchfinder` command line: database set-up, demo data, and (later) registry jobs.

Every command reads the database from `--database-url` or `DATABASE_URL`, so
the same commands work against the local cluster of ./run.sh and against a
production server.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from sqlalchemy.exc import OperationalError

from backend.config import Config

DB_OPTION = click.option(
    "--database-url",
    envvar="DATABASE_URL",
    default=lambda: Config().database_url,
    show_default="$DATABASE_URL",
    help="PostgreSQL URL of a PostGIS database.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
def main() -> None:
    """branchfinder (金融网点通): finder of financial outlets over the PBoC registry."""


# --- db --------------------------------------------------------------------------------------


@main.group()
def db() -> None:
    """Create and migrate the database."""


@db.command("create")
@DB_OPTION
def db_create(database_url: str) -> None:
    """Create the database (UTF-8, C.UTF-8) with PostGIS and pg_trgm, if it is missing."""
    from backend.dbadmin import DatabaseSetupError, create_database

    try:
        created = create_database(database_url)
    except (DatabaseSetupError, OperationalError) as exc:
        raise click.ClickException(_one_line(exc)) from exc
    click.echo("database created" if created else "database exists", err=True)


@db.command("upgrade")
@click.argument("revision", default="head")
@DB_OPTION
def db_upgrade(revision: str, database_url: str) -> None:
    """Apply migrations up to REVISION (default: head)."""
    from backend.migrate import upgrade

    try:
        upgrade(database_url, revision)
    except OperationalError as exc:
        raise click.ClickException(_one_line(exc)) from exc


@db.command("downgrade")
@click.argument("revision")
@DB_OPTION
def db_downgrade(revision: str, database_url: str) -> None:
    """Revert migrations down to REVISION ('base' for an empty schema)."""
    from backend.migrate import downgrade

    downgrade(database_url, revision)


@db.command("current")
@DB_OPTION
def db_current(database_url: str) -> None:
    """Print the migration the database is at, and the newest one in the code."""
    from backend.database import make_engine
    from backend.migrate import current_revision, head_revision

    engine = make_engine(database_url)
    with engine.connect() as conn:
        click.echo(f"current: {current_revision(conn)}\nhead:    {head_revision()}")


# --- demo ------------------------------------------------------------------------------------


@main.group()
def demo() -> None:
    """Generate and load a realistic Jiangsu data set for demos and benchmarks."""


@demo.command("generate")
@click.option(
    "--outlets",
    type=click.IntRange(1, 5_000_000),
    default=5000,
    show_default=True,
    help="Number of outlets (plus the head offices and branches above them).",
)
@click.option(
    "--seed", type=int, default=1, show_default=True, help="Same seed, same files, byte for byte."
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Directory for institutions.csv and profiles.csv.",
)
@click.option("--progress/--no-progress", default=True, help="Progress bar on stderr.")
def demo_generate(outlets: int, seed: int, out_dir: Path, progress: bool) -> None:
    """Write institutions.csv (registry import format) and profiles.csv to OUT."""
    from backend.demo.generate import generate

    result = generate(out_dir, outlets=outlets, seed=seed, progress=progress)
    click.echo(
        f"wrote {result.institutions} institutions and {result.profiles} profiles to {out_dir}",
        err=True,
    )


@demo.command("load")
@click.option(
    "--dir",
    "data_dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Directory written by 'demo generate'; without it, data is generated first.",
)
@click.option(
    "--outlets",
    type=click.IntRange(1, 5_000_000),
    default=5000,
    show_default=True,
    help="Outlets to generate when --dir is not given.",
)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--if-empty", is_flag=True, help="Do nothing when institutions are already loaded.")
@click.option("--progress/--no-progress", default=True, help="Progress bar on stderr.")
@DB_OPTION
def demo_load(
    data_dir: Path | None,
    outlets: int,
    seed: int,
    if_empty: bool,
    progress: bool,
    database_url: str,
) -> None:
    """Load generated demo data into the database."""
    import tempfile

    from backend.database import make_engine, make_sessionmaker
    from backend.demo.generate import generate
    from backend.demo.load import database_is_empty, load_demo

    engine = make_engine(database_url, statement_timeout_ms=0)
    sessions = make_sessionmaker(engine)
    try:
        if if_empty and not database_is_empty(sessions):
            click.echo("demo data: institutions already loaded, nothing to do", err=True)
            return
    except OperationalError as exc:
        raise click.ClickException(_one_line(exc)) from exc
    with tempfile.TemporaryDirectory(prefix="branchfinder-demo-") as tmp:
        if data_dir is None:
            data_dir = Path(tmp)
            generate(data_dir, outlets=outlets, seed=seed, progress=progress)
        counts = load_demo(sessions, data_dir, progress=progress)
    click.echo(
        f"demo data loaded: {counts.institutions} institutions, {counts.profiles} profiles",
        err=True,
    )


def _one_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
