"""Bookkeeping shared by every import: the batch row, its outcome, and its receipt lines."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.formats import ColumnSpec, FileProblem, OpenedFile, open_submission
from registry.receipts import attribute_issues, receipt_document, store_issues, summarise
from registry.rules import Issue, issue


@dataclass(frozen=True)
class LoadHooks:
    """What the layers above the registry keep in step with a load, in its transaction.

    The registry calls these and imports none of them (dependencies point down only):
    whoever runs an import passes them (`backend.imports`).

    - `upserted(session, batch_id, actor)`: after a registry load has written its records
      (the upload tasks of new outlets, `uploads.staff.create_auto_tasks`);
    - `changed(session)`: after a load that changed what the public finder shows (the map
      grid and the name words of `geo`).
    """

    upserted: Callable[[Session, int, str], object] | None = None
    changed: Callable[[Session], object] | None = None


NO_HOOKS = LoadHooks()

Outcome = Literal["accepted", "partial", "rejected"]
EXIT_CODES: dict[Outcome, int] = {"accepted": 0, "partial": 1, "rejected": 2}


@dataclass
class ImportResult:
    """What an import did; `exit_code` is the CLI's (0 all accepted, 1 some, 2 none)."""

    outcome: Outcome
    source_name: str
    source_sha256: str
    batch_id: int | None
    summary: dict[str, Any]
    issues: list[Issue] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.outcome]

    def receipt(self) -> dict[str, Any]:
        return receipt_document(
            batch_id=self.batch_id,
            source_name=self.source_name,
            source_sha256=self.source_sha256,
            summary=self.summary,
            issues=self.issues,
        )


def file_digest(path: Path) -> tuple[str, int | None]:
    """The file's SHA-256 and the offset of its first NUL byte (None when it has none)."""
    digest = hashlib.sha256()
    nul: int | None = None
    offset = 0
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
            if nul is None and (at := block.find(b"\x00")) >= 0:
                nul = offset + at
            offset += len(block)
    return digest.hexdigest(), nul


def open_checked(path: Path, spec: Sequence[ColumnSpec]) -> tuple[OpenedFile, str]:
    """Open a submission (`open_submission`) and hash it.

    A NUL byte anywhere in CSV text rejects the file as binary data: opening only sniffs
    the first 8 KB for them, and PostgreSQL text cannot hold one, so a NUL further down
    would otherwise break the COPY and crash the import instead of being reported.
    """
    opened = open_submission(path, spec)
    sha, nul = file_digest(path)
    if (
        nul is not None
        and opened.kind == "csv"
        and not any(p.severity == "error" for p in opened.problems)
    ):
        opened.problems.append(
            FileProblem(
                "FILE-TYPE",
                "error",
                None,
                "binary data (NUL bytes), not CSV text",
                None,
                f"first NUL byte at offset {nul}",
            )
        )
    return opened, sha


def begin(path: Path, spec: Sequence[ColumnSpec]) -> tuple[OpenedFile, ImportResult]:
    """Open and hash a submission; the result starts as "rejected" with the file's problems."""
    opened, sha256 = open_checked(path, spec)
    return opened, ImportResult(
        "rejected", path.name, sha256, None, {}, problem_issues(opened.problems)
    )


def problem_issue(problem: FileProblem) -> Issue:
    return issue(
        problem.rule_id,
        row=problem.row,
        column=problem.column,
        value=problem.value,
        expected=f"（{problem.detail}）" if problem.detail else "",
        severity=problem.severity,
    )


def problem_issues(problems: list[FileProblem], start: int = 0) -> list[Issue]:
    """Issues for `problems[start:]`: reading rows can find more problems than opening did."""
    return [problem_issue(p) for p in problems[start:]]


def file_rejected(issues: list[Issue]) -> bool:
    """A file- or header-level error: no row can be trusted."""
    return any(i.severity == "error" and i.rule_id.startswith(("FILE-", "HDR-")) for i in issues)


def decide(rows_read: int, accepted: int, rejected_file: bool) -> Outcome:
    if rejected_file or accepted == 0:
        return "rejected"
    return "accepted" if accepted == rows_read else "partial"


def new_batch(
    session: Session, kind: str, name: str, sha: str, actor: str, options: dict[str, Any]
) -> int:
    return int(
        session.execute(
            text(
                "INSERT INTO import_batch (kind, source_name, source_sha256, actor, status, "
                "summary, options) VALUES (:k, :n, :s, :a, 'running', '{}', CAST(:o AS jsonb)) "
                "RETURNING id"
            ),
            {"k": kind, "n": name, "s": sha, "a": actor, "o": json.dumps(options)},
        ).scalar_one()
    )


def finish(
    session: Session,
    result: ImportResult,
    rows_read: int,
    accepted: int,
    counts: dict[str, int],
    *,
    stage: str | None = None,
) -> None:
    """Fill in the summary and, when a batch was written, store it with its receipt lines
    (filed under the jurisdiction of their rows: `stage` names the staged submission)."""
    result.summary = summarise(rows_read, accepted, result.issues, counts, result.outcome)
    if result.batch_id is None:
        return
    session.execute(
        text(
            "UPDATE import_batch SET status = :st, finished_at = now(), "
            "summary = CAST(:su AS jsonb) WHERE id = :id"
        ),
        {
            "st": result.outcome,
            "su": json.dumps(result.summary, ensure_ascii=False),
            "id": result.batch_id,
        },
    )
    store_issues(session, result.batch_id, result.issues)
    attribute_issues(session, result.batch_id, stage=stage)
