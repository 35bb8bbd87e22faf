"""Registry and profile imports as the product runs them, with the layers above kept in step.

The libraries (`registry.importer`, `profiles.profile_import`) load a file and call the hooks
they are given (`registry.batches.LoadHooks`), in the same transaction: here, the upload
tasks of the outlets a registry load brought (`uploads.staff`), and, after a load that
changed what the public sees, the map grid and the name words (`geo`). The CLI, the demo
loader, the benchmarks and the tests import through these two functions.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy.orm import Session

from geo.clusters import refresh_grid
from geo.landmarks import refresh_name_words
from profiles import profile_import
from profiles.profile_import import ProfileImportOptions
from registry import importer
from registry.batches import ImportResult, LoadHooks
from registry.importer import ImportOptions
from uploads.staff import create_auto_tasks


def refresh_public_views(session: Session) -> None:
    """The tables derived from outlet positions and names, after they changed."""
    refresh_grid(session)
    refresh_name_words(session)


HOOKS = LoadHooks(upserted=create_auto_tasks, changed=refresh_public_views)


def import_registry(
    session: Session,
    path: Path,
    options: ImportOptions | None = None,
    *,
    on_rows: Callable[[int], None] | None = None,
) -> ImportResult:
    """`registry.importer.import_registry` with the product's hooks; the caller commits."""
    return importer.import_registry(
        session, path, options or ImportOptions(), on_rows=on_rows, hooks=HOOKS
    )


def import_profiles(
    session: Session,
    path: Path,
    options: ProfileImportOptions | None = None,
    *,
    on_rows: Callable[[int], None] | None = None,
) -> ImportResult:
    """`profiles.profile_import.import_profiles` with the product's hooks; the caller commits."""
    return profile_import.import_profiles(
        session, path, options or ProfileImportOptions(), on_rows=on_rows, hooks=HOOKS
    )
