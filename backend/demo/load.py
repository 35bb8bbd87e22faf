"""Loading generated demo data through the same imports real data uses.

Demo files are the registry and profile import formats, so they go through
`registry.importer` and `profiles.profile_import`: every rule runs, every row
gets its change event, and what the demo shows is what an operator's sync
would produce. Both imports share one transaction: a failed load leaves
nothing behind.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from tqdm import tqdm

from backend.imports import import_profiles, import_registry
from core.models.registry import Institution
from profiles.profile_import import ProfileImportOptions
from registry.batches import ImportResult
from registry.importer import ImportOptions

ACTOR = "demo-loader"


@dataclass
class LoadCounts:
    institutions: int
    profiles: int
    registry: ImportResult
    profile_result: ImportResult


class DemoLoadError(RuntimeError):
    """The generated data did not pass the registry's rules: a generator bug."""


def database_is_empty(sessions: sessionmaker[Session]) -> bool:
    with sessions() as session:
        return session.execute(select(Institution.id).limit(1)).first() is None


def load_demo(
    sessions: sessionmaker[Session], data_dir: Path, *, progress: bool = False
) -> LoadCounts:
    with sessions() as session, session.begin():
        with tqdm(
            unit=" rows", desc="registry", disable=not progress, leave=False, file=sys.stderr
        ) as bar:
            registry = import_registry(
                session,
                data_dir / "institutions.csv",
                ImportOptions(actor=ACTOR),
                on_rows=bar.update,
            )
        with tqdm(
            unit=" rows", desc="profiles", disable=not progress, leave=False, file=sys.stderr
        ) as bar:
            profiles = import_profiles(
                session,
                data_dir / "profiles.csv",
                ProfileImportOptions(actor=ACTOR),
                on_rows=bar.update,
            )
        for result in (registry, profiles):
            if result.outcome != "accepted":
                first = next((i for i in result.issues if i.severity == "error"), None)
                raise DemoLoadError(
                    f"{result.source_name}: {result.summary.get('rejected')} rows rejected"
                    + (
                        f", e.g. row {first.row} {first.rule_id}: {first.message_en}"
                        if first
                        else ""
                    )
                )
    return LoadCounts(
        institutions=int(registry.summary["accepted"]),
        profiles=int(profiles.summary["accepted"]),
        registry=registry,
        profile_result=profiles,
    )
