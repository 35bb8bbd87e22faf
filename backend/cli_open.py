"""`branchfinder open export`: the daily full files of the open data (open_data.export).

Run it from cron once a day (or more often: each run is one consistent snapshot and
replaces the current export atomically); it needs only a reader of the database.
"""

from __future__ import annotations

from pathlib import Path

import click

from backend.cli_common import DB_OPTION
from core.config import Config


@click.group("open")
def open_group() -> None:
    """Open data: the full files of the public outlet data (/api/open/v1)."""


@open_group.command("export")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=lambda: Config().open_dir,
    show_default="$BRANCHFINDER_OPEN_DIR, else var/open",
    help="Where the exports are kept (the API serves the current one from there).",
)
@click.option(
    "--keep", type=click.IntRange(1, 100), default=2, show_default=True, help="Exports kept."
)
@DB_OPTION
def open_export(directory: Path, keep: int, database_url: str) -> None:
    """Write outlets.csv.gz, outlets.geojson.gz, outlets.jsonl.gz and manifest.json from one
    snapshot, then make them the current export."""
    from core.database import make_engine
    from open_data.export import export

    engine = make_engine(database_url, statement_timeout_ms=0)
    try:
        manifest = export(engine, directory, keep=keep)
    finally:
        engine.dispose()
    click.echo(
        f"exported {manifest.count} outlets to {directory} "
        f"(snapshot {manifest.generated_at}, feed cursor {manifest.cursor})",
        err=True,
    )
