"""Registry sync: validate a submitted file, then load its valid rows in one transaction.

The steps, each in a module of its own:
  open and decode the file (`registry.formats`) → check each record as it streams past
  (`registry.record_checks`) → COPY every row into a temporary stage → cross-record and
  load rules in SQL (`registry.cross_checks`) → upsert what changed, with a change event
  for every insert and change → the error receipt, stored with the batch (`registry.receipts`).

Everything happens in the caller's transaction: if anything fails or the user
presses Ctrl-C, the rollback leaves the registry exactly as it was. Only a
file-level rejection commits something: the batch and its receipt, so the
sender can look the refusal up later.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.batches import (
    NO_HOOKS,
    ImportResult,
    LoadHooks,
    begin,
    decide,
    file_rejected,
    finish,
    new_batch,
    problem_issues,
)
from registry.bulk import copy_rows
from registry.cross_checks import (
    STAGE_COLUMNS,
    STAGE_TABLE,
    CheckOptions,
    create_stage,
    index_stage,
    missing_checks,
    run_cross_checks,
)
from registry.formats import EXTRA_KEY, OpenedFile
from registry.record_checks import DATA_COLUMNS, REGISTRY_COLUMNS, check_record, today_in_china
from registry.rules import Issue, issue

COMPARED = (*(c for c in DATA_COLUMNS if c != "fi_code"), "category")


@dataclass(frozen=True)
class ImportOptions:
    strict: bool = False
    revoke_missing: bool = False
    jurisdiction: str | None = None
    allow_reactivation: bool = False
    actor: str = "registry-sync"
    dry_run: bool = False  # validate only: nothing is written

    def __post_init__(self) -> None:
        # The jurisdiction becomes a LIKE prefix: "" or "%" would make the whole registry
        # "missing" from the file, and --revoke-missing would revoke all of it.
        if self.jurisdiction is not None and not valid_jurisdiction(self.jurisdiction):
            raise ValueError(
                f"jurisdiction must be a region-code prefix of 2 to 6 digits, "
                f"got {self.jurisdiction!r}"
            )
        if self.revoke_missing and self.jurisdiction is None:
            raise ValueError("revoke_missing needs a jurisdiction (the snapshot's region prefix)")


def valid_jurisdiction(prefix: str) -> bool:
    """A region-code prefix: province (32), prefecture (3201) or county (320102)."""
    return prefix.isascii() and prefix.isdigit() and 2 <= len(prefix) <= 6


def fingerprint(raw: dict[str, str]) -> str:
    """md5 of a raw record as the file spelled it (column order does not matter)."""
    # kind only when given: files from before ATMs keep their fingerprints (no re-check)
    keys = (
        *(k for k in DATA_COLUMNS if k != "kind"),
        EXTRA_KEY,
        *(("kind",) if raw.get("kind") else ()),
    )
    text_ = "\x1f".join([raw.get(key) or "" for key in keys])
    return hashlib.md5(text_.encode("utf-8"), usedforsecurity=False).hexdigest()


def _stage_rows(
    rows: Iterator[tuple[int, dict[str, str]]], issues: list[Issue], *, fingerprints: bool
) -> Iterator[list[Any]]:
    for row_no, raw in rows:
        checked = check_record(raw, row_no)
        issues.extend(checked.issues)
        stage: dict[str, Any] = {
            **checked.values,
            "row_no": row_no,
            "category": checked.category,
            # dates as parsed: the text of an invalid date cannot go into a date column
            "established_on": checked.established_on,
            "revoked_on": checked.revoked_on,
            "ok": not checked.has_errors,
            # only a record that raised nothing may later skip its checks
            "fingerprint": fingerprint(raw) if fingerprints and not checked.issues else None,
        }
        yield [stage.get(column) for column in STAGE_COLUMNS]


class _Changed(Exception):
    """A record differs from what is stored: the quick pass gives way to the full one."""


_QUICK_CHUNK = f"""
SELECT count(*) FILTER (WHERE i.source_fingerprint = s.fingerprint), count(*)
FROM {STAGE_TABLE} s LEFT JOIN institution i USING (fi_code)
WHERE s.row_no > :after
"""


def _quick_unchanged(
    session: Session, opened: OpenedFile, on_rows: Callable[[int], None] | None
) -> bool:
    """Whether every record of the file is, as spelled, one stored without any issue.

    Such a file needs no validation: each record passed every rule when it was stored, and
    nothing changed it since (any other change voids the fingerprint, migration 0003). A
    daily sync re-sends mostly unchanged records, so this makes a no-op re-import cheap;
    the first record that differs ends the pass (checked per COPY chunk) and the full
    checks run instead. A file with unreadable bytes in some rows (`OpenedFile.damaged`) has
    rows that were never stored, and text that cannot be fingerprinted: it takes the checks.
    """
    if opened.damaged:
        return False
    seen_problems = len(opened.problems)
    known = session.execute(
        text("SELECT EXISTS (SELECT 1 FROM institution WHERE source_fingerprint IS NOT NULL)")
    ).scalar_one()
    if not known:
        return False
    create_stage(session)
    last = [0, 0]  # last row number yielded, last row number checked

    def rows() -> Iterator[list[Any]]:
        for row_no, raw in opened.rows():
            last[0] = row_no
            stage = {
                "row_no": row_no,
                "fi_code": (raw.get("fi_code") or "").upper(),
                "ok": True,
                "fingerprint": fingerprint(raw),
            }
            yield [stage.get(column) for column in STAGE_COLUMNS]

    def check(n: int) -> None:
        matched, total = session.execute(text(_QUICK_CHUNK), {"after": last[1]}).one()
        if matched != total:
            raise _Changed
        last[1] = last[0]
        if on_rows is not None:
            on_rows(n)

    try:
        copy_rows(session, STAGE_TABLE, STAGE_COLUMNS, rows(), on_chunk=check)
    except _Changed:
        session.execute(text(f"TRUNCATE {STAGE_TABLE}"))
        return False
    index_stage(session)
    total, distinct = session.execute(
        text(f"SELECT count(*), count(DISTINCT fi_code) FROM {STAGE_TABLE}")
    ).one()
    if total == 0 or total != distinct or len(opened.problems) > seen_problems:
        session.execute(text(f"TRUNCATE {STAGE_TABLE}"))
        return False
    return True


def import_registry(
    session: Session,
    path: Path,
    options: ImportOptions = ImportOptions(),
    *,
    on_rows: Callable[[int], None] | None = None,
    hooks: LoadHooks = NO_HOOKS,
) -> ImportResult:
    """Validate `path` and (unless a dry run or rejected) load it; the caller commits."""
    opened, result = begin(path, REGISTRY_COLUMNS)
    issues = result.issues
    seen_problems = len(opened.problems)
    staged = not file_rejected(issues)  # the rows go to the stage table (either pass below)
    check_options = CheckOptions(
        allow_reactivation=options.allow_reactivation,
        jurisdiction=options.jurisdiction,
        revoke_missing=options.revoke_missing,
    )
    unchanged = not file_rejected(issues) and _quick_unchanged(session, opened, on_rows)
    if unchanged:
        issues += missing_checks(session, check_options)
    elif not file_rejected(issues):
        create_stage(session)
        copy_rows(
            session,
            STAGE_TABLE,
            STAGE_COLUMNS,
            _stage_rows(opened.rows(), issues, fingerprints=not options.dry_run),
            on_chunk=on_rows,
        )
        issues += problem_issues(opened.problems, seen_problems)
        if opened.data_rows_seen == 0:
            issues.append(issue("FILE-EMPTY", value="no data rows / 没有数据行"))
    rows_read = opened.data_rows_seen
    accepted = 0
    rejected = file_rejected(issues)
    if unchanged:
        accepted = rows_read
    elif not rejected:
        index_stage(session)
        issues += run_cross_checks(session, check_options)
        accepted = session.execute(
            text(f"SELECT count(*) FROM {STAGE_TABLE} WHERE ok")
        ).scalar_one()
        if options.strict and any(i.severity == "error" for i in issues):
            rejected, accepted = True, 0
    result.outcome = decide(rows_read, accepted, rejected)

    counts: dict[str, int] = {"inserted": 0, "updated": 0, "unchanged": 0, "revoked_missing": 0}
    if not options.dry_run:
        result.batch_id = new_batch(
            session,
            "registry",
            result.source_name,
            result.source_sha256,
            options.actor,
            _options_dict(options),
        )
        if result.outcome != "rejected":
            if not unchanged:
                counts.update(_upsert(session, result.batch_id, options.actor, hooks))
            counts["revoked_missing"] = _revoke_missing(session, result.batch_id, options)
            counts["unchanged"] = accepted - counts["inserted"] - counts["updated"]
            changed = counts["inserted"] or counts["updated"] or counts["revoked_missing"]
            if changed and hooks.changed:  # statuses may have changed what the map shows
                hooks.changed(session)
    finish(session, result, rows_read, accepted, counts, stage=STAGE_TABLE if staged else None)
    return result


def _options_dict(options: ImportOptions) -> dict[str, Any]:
    return {
        "strict": options.strict,
        "revoke_missing": options.revoke_missing,
        "jurisdiction": options.jurisdiction,
        "allow_reactivation": options.allow_reactivation,
    }


def _json_object(alias: str, columns: tuple[str, ...]) -> str:
    return "jsonb_build_object(" + ", ".join(f"'{c}', {alias}.{c}" for c in columns) + ")"


_DATA_DIFFERS = (
    f"({', '.join(f't.{c}' for c in COMPARED)}) "
    f"IS DISTINCT FROM ({', '.join(f'excluded.{c}' for c in COMPARED)})"
)

# Only rows whose data differ are written (so a re-import is a no-op), and
# every written row gets a change event holding just the fields that changed.
_UPSERT = f"""
WITH src AS (
    SELECT * FROM {STAGE_TABLE} WHERE ok
), old AS (
    SELECT i.* FROM institution i JOIN src USING (fi_code)
), up AS (
    INSERT INTO institution AS t (fi_code, {", ".join(COMPARED)}, source_fingerprint,
                                  batch_id, updated_at)
    SELECT fi_code, {", ".join(COMPARED)}, fingerprint, :batch, now() FROM src
    ON CONFLICT (fi_code) DO UPDATE SET
        {", ".join(f"{c} = excluded.{c}" for c in COMPARED)},
        source_fingerprint = excluded.source_fingerprint,
        batch_id = CASE WHEN {_DATA_DIFFERS} THEN excluded.batch_id ELSE t.batch_id END,
        updated_at = CASE WHEN {_DATA_DIFFERS} THEN now() ELSE t.updated_at END
    WHERE {_DATA_DIFFERS}
          OR t.source_fingerprint IS DISTINCT FROM excluded.source_fingerprint
    RETURNING t.*
), ev AS (
    INSERT INTO change_event (entity, fi_code, before, after, actor, channel, batch_id)
    SELECT 'institution', up.fi_code,
           CASE WHEN old.fi_code IS NULL THEN NULL ELSE d.before END,
           CASE WHEN old.fi_code IS NULL THEN {_json_object("up", COMPARED)} ELSE d.after END,
           :actor, 'registry_sync', :batch
    FROM up LEFT JOIN old USING (fi_code)
    LEFT JOIN LATERAL (
        SELECT jsonb_object_agg(o.key, o.value) AS before, jsonb_object_agg(n.key, n.value) AS after
        FROM jsonb_each({_json_object("old", COMPARED)}) o
        JOIN jsonb_each({_json_object("up", COMPARED)}) n USING (key)
        WHERE o.value IS DISTINCT FROM n.value
    ) d ON old.fi_code IS NOT NULL
    WHERE old.fi_code IS NULL OR d.before IS NOT NULL  -- not for a new fingerprint alone
    RETURNING before IS NULL AS inserted
)
SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM ev
"""

# New places the public can visit get an empty profile: staff must still supply
# position, business types and photo (they become upload tasks).
_NEW_PROFILES = """
INSERT INTO outlet_profile (institution_id, business_types, service_links, provenance)
SELECT i.id, '{}', '[]', '{}' FROM institution i
WHERE i.batch_id = :batch AND i.level IN ('sub_branch', 'outlet') AND i.status = 'active'
ON CONFLICT (institution_id) DO NOTHING
"""

_REVOKE_MISSING = f"""
WITH gone AS (
    UPDATE institution i SET status = 'revoked', revoked_on = :today, batch_id = :batch,
           updated_at = now()
    WHERE i.status = 'active' AND i.region_code LIKE :prefix
      AND NOT EXISTS (SELECT 1 FROM {STAGE_TABLE} s WHERE s.fi_code = i.fi_code)
    RETURNING i.fi_code
), ev AS (
    INSERT INTO change_event (entity, fi_code, before, after, actor, channel, batch_id)
    SELECT 'institution', fi_code, '{{"status": "active", "revoked_on": null}}'::jsonb,
           jsonb_build_object('status', 'revoked', 'revoked_on', CAST(:today AS date)),
           :actor, 'registry_sync', :batch
    FROM gone RETURNING 1
)
SELECT count(*) FROM ev
"""


def _upsert(session: Session, batch_id: int, actor: str, hooks: LoadHooks) -> dict[str, int]:
    inserted, updated = session.execute(text(_UPSERT), {"batch": batch_id, "actor": actor}).one()
    session.execute(text(_NEW_PROFILES), {"batch": batch_id})
    if hooks.upserted:
        hooks.upserted(session, batch_id, actor)
    return {"inserted": int(inserted), "updated": int(updated)}


def _revoke_missing(session: Session, batch_id: int, options: ImportOptions) -> int:
    if not (options.revoke_missing and options.jurisdiction is not None):
        return 0
    today: date = today_in_china()
    return int(
        session.execute(
            text(_REVOKE_MISSING),
            {
                "batch": batch_id,
                "actor": options.actor,
                "today": today,
                "prefix": options.jurisdiction + "%",
            },
        ).scalar_one()
    )
