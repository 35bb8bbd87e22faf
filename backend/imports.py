"""Registry and profile imports as the product runs them, with the layers above kept in step.

The libraries (`registry.importer`, `profiles.profile_import`) load a file and call the hooks
they are given (`registry.batches.LoadHooks`), in the same transaction: here, the upload
tasks of the outlets a registry load brought (`uploads.staff`), and, after a load that
changed what the public sees, the map grid and the name words (`geo`). The CLI, the demo
loader, the benchmarks and the tests import through these two functions.
"""

from __future__ import annotations

from functools import partial

from sqlalchemy.orm import Session

from geo.clusters import refresh_grid
from geo.landmarks import refresh_name_words
from profiles import profile_import
from registry import importer
from registry.batches import LoadHooks
from uploads.staff import create_auto_tasks


def refresh_public_views(session: Session) -> None:
    """The tables derived from outlet positions and names, after they changed."""
    refresh_grid(session)
    refresh_name_words(session)


HOOKS = LoadHooks(upserted=create_auto_tasks, changed=refresh_public_views)


# The libraries' own functions and arguments, with the product's hooks.
import_registry = partial(importer.import_registry, hooks=HOOKS)
import_profiles = partial(profile_import.import_profiles, hooks=HOOKS)
