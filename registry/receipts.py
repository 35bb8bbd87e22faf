"""Error receipts (错误回执): the summary and the list of issues of one submission.

The same content in two forms: JSON for machines (the sender's system can
fix and resubmit), CSV for people (opens in a spreadsheet, UTF-8 with BOM so
Excel shows the Chinese). Issues are also stored row by row in
`import_issue`, so a batch's receipt can be fetched and paged later.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.bulk import copy_rows
from registry.rules import Issue

RECEIPT_COLUMNS = (
    "row",
    "fi_code",
    "column",
    "rule_id",
    "severity",
    "value",
    "message_zh",
    "message_en",
)


def summarise(
    rows_read: int, accepted: int, issues: list[Issue], counts: dict[str, int], outcome: str
) -> dict[str, Any]:
    return {
        "outcome": outcome,
        "rows_read": rows_read,
        "accepted": accepted,
        "rejected": rows_read - accepted,
        "errors": sum(1 for i in issues if i.severity == "error"),
        "warnings": sum(1 for i in issues if i.severity == "warning"),
        "by_rule": dict(sorted(Counter(i.rule_id for i in issues).items())),
        **counts,
    }


def receipt_document(
    *,
    batch_id: int | None,
    source_name: str,
    source_sha256: str,
    summary: dict[str, Any],
    issues: Iterable[Issue],
) -> dict[str, Any]:
    return {
        "batch_id": batch_id,
        "source_name": source_name,
        "source_sha256": source_sha256,
        "summary": summary,
        "issues": [i.as_dict() for i in issues],
    }


def write_receipt(path: Path, document: dict[str, Any]) -> list[Path]:
    """Write `<path>.json` and `<path>.csv` (or just one, if `path` names .json or .csv)."""
    written = []
    stem = path.with_suffix("") if path.suffix in (".json", ".csv") else path
    if path.suffix != ".csv":
        target = stem.with_name(stem.name + ".json")
        target.write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")
        written.append(target)
    if path.suffix != ".json":
        target = stem.with_name(stem.name + ".csv")
        with target.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(RECEIPT_COLUMNS)
            for item in document["issues"]:
                writer.writerow(["" if item[c] is None else item[c] for c in RECEIPT_COLUMNS])
        written.append(target)
    return written


def store_issues(session: Session, batch_id: int, issues: list[Issue]) -> None:
    copy_rows(
        session,
        "import_issue",
        (
            "batch_id",
            "row_no",
            "fi_code",
            "column_name",
            "rule_id",
            "severity",
            "value",
            "message_zh",
            "message_en",
        ),
        (
            [
                batch_id,
                i.row,
                i.fi_code,
                i.column,
                i.rule_id,
                i.severity,
                i.value,
                i.message_zh,
                i.message_en,
            ]
            for i in issues
        ),
    )


_REGION_OK = "{0}.region_code ~ '^[0-9]{{6}}$'"
_LEGAL_OK = "{0}.legal_entity_code ~ '^[A-Z][0-9]{{13}}$'"


def attribute_issues(session: Session, batch_id: int, *, stage: str | None = None) -> None:
    """Fill in the region and legal entity each receipt line of a batch belongs to.

    A registry file is province-wide, while each PBoC office (and each institution) may
    read only the lines of its own jurisdiction, so every line is filed when stored: under
    the region and legal entity its row *declared* (from `stage`, by row number, when the
    declared region code is well-formed: a rejected new record exists nowhere else), else
    under those of the stored record with the line's fi_code (a profile row, a record
    missing from a snapshot). Lines with neither (file and header problems) stay NULL:
    only an office covering the whole batch reads them.
    """
    if stage is None:
        region, legal, staged = "i.region_code", "i.legal_entity_code", ""
    else:
        declared = _REGION_OK.format("s")
        region = f"CASE WHEN {declared} THEN s.region_code ELSE i.region_code END"
        legal = (
            f"CASE WHEN {declared} AND {_LEGAL_OK.format('s')} THEN s.legal_entity_code "
            f"WHEN {declared} THEN NULL ELSE i.legal_entity_code END"
        )
        staged = f"LEFT JOIN {stage} s ON s.row_no = x.row_no"
    session.execute(
        text(
            f"""UPDATE import_issue ii SET region_code = a.region_code,
                   legal_entity_code = a.legal_entity_code
            FROM (SELECT x.id, {region} AS region_code, {legal} AS legal_entity_code
                  FROM import_issue x {staged}
                  LEFT JOIN institution i ON i.fi_code = x.fi_code
                  WHERE x.batch_id = :batch) a
            WHERE ii.id = a.id AND a.region_code IS NOT NULL"""
        ),
        {"batch": batch_id},
    )


def load_receipt(session: Session, batch_id: int) -> dict[str, Any] | None:
    batch = session.execute(
        text("SELECT id, source_name, source_sha256, summary FROM import_batch WHERE id = :id"),
        {"id": batch_id},
    ).one_or_none()
    if batch is None:
        return None
    rows = session.execute(
        text(
            "SELECT rule_id, severity, row_no, fi_code, column_name, value, message_zh, "
            "message_en FROM import_issue WHERE batch_id = :id ORDER BY id"
        ),
        {"id": batch_id},
    ).all()
    issues = [
        Issue(
            r.rule_id,
            r.severity,
            r.row_no,
            r.fi_code,
            r.column_name,
            r.value,
            r.message_zh,
            r.message_en,
        )
        for r in rows
    ]
    return receipt_document(
        batch_id=batch.id,
        source_name=batch.source_name,
        source_sha256=batch.source_sha256,
        summary=batch.summary,
        issues=issues,
    )
