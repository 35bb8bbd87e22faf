"""Loading generated demo files into an empty database, fast enough for a million outlets.

Until the registry import (with its validation rules) exists, demo data is
inserted directly: COPY into the tables, then the change events written by
one INSERT ... SELECT each, all in one transaction so a failed load leaves
nothing behind. The files are the registry and profile import formats, so
the registry import replaces this path without changing the generator.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker
from tqdm import tqdm

from geo.coords import convert
from registry.bulk import copy_rows, pg_array
from registry.codes import fi_code_category
from registry.hours import parse_hours
from registry.models import ImportBatch, Institution

ACTOR = "demo-loader"


@dataclass
class LoadCounts:
    institutions: int
    profiles: int


def database_is_empty(sessions: sessionmaker[Session]) -> bool:
    with sessions() as session:
        return session.execute(select(Institution.id).limit(1)).first() is None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _count_lines(path: Path) -> int:
    with path.open("rb") as fh:
        return sum(block.count(b"\n") for block in iter(lambda: fh.read(1 << 20), b"")) - 1


def _new_batch(session: Session, kind: str, path: Path) -> int:
    batch = ImportBatch(
        kind=kind,
        source_name=path.name,
        source_sha256=_sha256(path),
        actor=ACTOR,
        status="running",
        summary={},
    )
    session.add(batch)
    session.flush()
    return batch.id


def _institution_rows(path: Path, batch_id: int) -> Iterator[list[Any]]:
    with path.open(encoding="utf-8", newline="") as fh:
        for rec in csv.DictReader(fh):
            yield [
                rec["fi_code"],
                rec["name"],
                rec["short_name"] or None,
                fi_code_category(rec["fi_code"]) or "other",
                rec["legal_entity_code"],
                rec["parent_code"] or None,
                rec["level"],
                rec["region_code"],
                rec["address"] or None,
                rec["postcode"] or None,
                rec["phone"] or None,
                rec["licence_no"] or None,
                rec["uscc"] or None,
                rec["status"],
                rec["established_on"] or None,
                rec["revoked_on"] or None,
                batch_id,
            ]


def _profile_rows(path: Path) -> Iterator[list[Any]]:
    with path.open(encoding="utf-8", newline="") as fh:
        for rec in csv.DictReader(fh):
            system = rec["coord_system"]
            lat, lng = convert(float(rec["latitude"]), float(rec["longitude"]), system, "wgs84")  # type: ignore[arg-type]
            hours = _hours_json(rec["opening_hours"]) if rec["opening_hours"] else None
            types = [t for t in rec["business_types"].split(";") if t]
            yield [
                rec["fi_code"],
                lng,
                lat,
                system,
                rec["accuracy_m"] or None,
                pg_array(types),
                hours,
                rec["phone"] or None,
            ]


@functools.lru_cache(maxsize=4096)
def _hours_json(text: str) -> str:
    """Files repeat a few schedules thousands of times: parse each distinct one once."""
    return _json(parse_hours(text).to_json())


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def load_demo(
    sessions: sessionmaker[Session], data_dir: Path, *, progress: bool = False
) -> LoadCounts:
    inst_path = data_dir / "institutions.csv"
    prof_path = data_dir / "profiles.csv"
    with sessions() as session, session.begin():
        batch_id = _new_batch(session, "registry", inst_path)
        with tqdm(
            total=_count_lines(inst_path),
            unit="row",
            desc="institutions",
            disable=not progress,
            leave=False,
        ) as bar:
            n_inst = copy_rows(
                session,
                "institution",
                (
                    "fi_code",
                    "name",
                    "short_name",
                    "category",
                    "legal_entity_code",
                    "parent_code",
                    "level",
                    "region_code",
                    "address",
                    "postcode",
                    "phone",
                    "licence_no",
                    "uscc",
                    "status",
                    "established_on",
                    "revoked_on",
                    "batch_id",
                ),
                _institution_rows(inst_path, batch_id),
                on_chunk=bar.update,
            )
        session.execute(
            text(
                """
                INSERT INTO change_event (entity, fi_code, before, after, actor, channel, batch_id)
                SELECT 'institution', i.fi_code, NULL,
                       to_jsonb(i) - 'id' - 'batch_id' - 'created_at' - 'updated_at',
                       :actor, 'registry_sync', :batch
                FROM institution i WHERE i.batch_id = :batch
                """
            ),
            {"actor": ACTOR, "batch": batch_id},
        )
        session.execute(
            text(
                "UPDATE import_batch SET status = 'done', finished_at = now(), "
                "summary = jsonb_build_object('rows_read', CAST(:n AS int), "
                "'accepted', CAST(:n AS int), 'rejected', 0) WHERE id = :b"
            ),
            {"n": n_inst, "b": batch_id},
        )

        profile_batch = _new_batch(session, "profiles", prof_path)
        session.execute(
            text(
                "CREATE TEMP TABLE demo_profile_stage (fi_code text, lng float8, lat float8, "
                "coord_system text, accuracy_m real, business_types text[], opening_hours jsonb, "
                "phone text) ON COMMIT DROP"
            )
        )
        with tqdm(
            total=_count_lines(prof_path),
            unit="row",
            desc="profiles",
            disable=not progress,
            leave=False,
        ) as bar:
            n_prof = copy_rows(
                session,
                "demo_profile_stage",
                (
                    "fi_code",
                    "lng",
                    "lat",
                    "coord_system",
                    "accuracy_m",
                    "business_types",
                    "opening_hours",
                    "phone",
                ),
                _profile_rows(prof_path),
                on_chunk=bar.update,
            )
        now = datetime.now(UTC).isoformat()
        provenance = {
            group: {
                "channel": "registry_sync",
                "actor": ACTOR,
                "batch_id": profile_batch,
                "at": now,
                "confirmed": False,
            }
            for group in ("position", "business_types", "hours", "phone")
        }
        session.execute(
            text(
                """
                INSERT INTO outlet_profile (institution_id, position, position_coord_system,
                    position_accuracy_m, business_types, opening_hours, phone, service_links,
                    provenance)
                SELECT i.id, ST_SetSRID(ST_MakePoint(s.lng, s.lat), 4326)::geography,
                       s.coord_system, s.accuracy_m, s.business_types, s.opening_hours, s.phone,
                       '[]'::jsonb,
                       CAST(:prov AS jsonb)
                FROM demo_profile_stage s JOIN institution i USING (fi_code)
                """
            ),
            {"prov": _json(provenance)},
        )
        session.execute(
            text(
                """
                INSERT INTO change_event (entity, fi_code, field_group, before, after, actor,
                                          channel, batch_id)
                SELECT 'outlet_profile', s.fi_code, NULL, NULL,
                       jsonb_build_object('latitude', s.lat, 'longitude', s.lng,
                                          'coord_system', 'wgs84',
                                          'captured_in', s.coord_system,
                                          'business_types', to_jsonb(s.business_types),
                                          'opening_hours', s.opening_hours, 'phone', s.phone),
                       :actor, 'registry_sync', :batch
                FROM demo_profile_stage s
                """
            ),
            {"actor": ACTOR, "batch": profile_batch},
        )
        session.execute(
            text(
                "UPDATE import_batch SET status = 'done', finished_at = now(), "
                "summary = jsonb_build_object('rows_read', CAST(:n AS int), "
                "'accepted', CAST(:n AS int), 'rejected', 0) WHERE id = :b"
            ),
            {"n": n_prof, "b": profile_batch},
        )
    return LoadCounts(institutions=n_inst, profiles=n_prof)
