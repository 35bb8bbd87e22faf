"""Cross-record and load rules, run in SQL over the staged submission and the stored registry.

Why SQL: a parent may come later in the file or be stored already, and a file
may have 200,000 rows. Staging the rows in a temporary table (COPY) and
joining there keeps memory flat and lets PostgreSQL's hash joins do the work;
the same queries serve a one-row update from the professional app.

The stage table `registry_stage` holds every row of the submission with
`ok = false` for rows already refused by field checks. Each rule below marks
the rows it refuses, so later rules see only rows that can still load. The
"effective" parent of a row is the accepted file row with that code, else the
stored institution: what the registry will look like if the batch loads.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.record_checks import DATA_COLUMNS
from registry.rules import Issue, get, issue

STAGE_TABLE = "registry_stage"
# The registry format's columns plus the derived category, the verdict so far, and the
# fingerprint of a record that raised nothing (registry.importer).
STAGE_COLUMNS = ("row_no", *DATA_COLUMNS, "category", "ok", "fingerprint")


def create_stage(session: Session) -> None:
    session.execute(
        text(f"DROP TABLE IF EXISTS {STAGE_TABLE}")
    )  # an earlier file, same transaction
    session.execute(
        text(f"""
        CREATE TEMP TABLE {STAGE_TABLE} (
            row_no integer, fi_code text, name text, short_name text, category text,
            legal_entity_code text, parent_code text, level text, region_code text,
            address text, postcode text, phone text, licence_no text, uscc text, status text,
            established_on date, revoked_on date, kind text, ok boolean NOT NULL,
            fingerprint text
        ) ON COMMIT DROP
    """)
    )


def index_stage(session: Session) -> None:
    session.execute(text(f"CREATE INDEX ON {STAGE_TABLE} (fi_code)"))
    session.execute(text(f"CREATE INDEX ON {STAGE_TABLE} (parent_code)"))
    session.execute(text(f"ANALYZE {STAGE_TABLE} (fi_code, parent_code, ok)"))


@dataclass(frozen=True)
class CheckOptions:
    allow_reactivation: bool = False
    jurisdiction: str | None = None  # region-code prefix of a full snapshot
    revoke_missing: bool = False  # stored records of the jurisdiction absent from the file go


# Each query returns (row_no, fi_code, value, expected) for rows that break the rule.
# `eff_parent` is the parent as it will be after the load.
_EFFECTIVE_PARENT = f"""
    LEFT JOIN {STAGE_TABLE} sp ON sp.fi_code = s.parent_code AND sp.ok
    LEFT JOIN institution ip ON ip.fi_code = s.parent_code
"""

_QUERIES: list[tuple[str, str]] = [
    (
        "XRC-DUPLICATE",
        f"""
        SELECT s.row_no, s.fi_code, s.fi_code, d.rows
        FROM {STAGE_TABLE} s JOIN (
            SELECT fi_code, string_agg(row_no::text, ', ' ORDER BY row_no) AS rows
            FROM {STAGE_TABLE} WHERE fi_code IS NOT NULL
            GROUP BY fi_code HAVING count(*) > 1
        ) d USING (fi_code)
    """,
    ),
    (
        "LOAD-LEGAL-CHANGED",
        f"""
        SELECT s.row_no, s.fi_code, s.fi_code, i.legal_entity_code
        FROM {STAGE_TABLE} s JOIN institution i USING (fi_code)
        WHERE s.ok AND i.legal_entity_code <> s.legal_entity_code
    """,
    ),
    (
        "LOAD-REACTIVATION",
        f"""
        SELECT s.row_no, s.fi_code, s.fi_code, ''
        FROM {STAGE_TABLE} s JOIN institution i USING (fi_code)
        WHERE s.ok AND i.status = 'revoked' AND s.status = 'active'
    """,
    ),
    (
        "XRC-PARENT-MISSING",
        f"""
        SELECT s.row_no, s.fi_code, s.parent_code, ''
        FROM {STAGE_TABLE} s
        WHERE s.ok AND s.parent_code IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM {STAGE_TABLE} p WHERE p.fi_code = s.parent_code)
          AND NOT EXISTS (SELECT 1 FROM institution i WHERE i.fi_code = s.parent_code)
    """,
    ),
    (
        "XRC-LEGAL-MISSING",
        f"""
        SELECT s.row_no, s.fi_code, s.legal_entity_code, ''
        FROM {STAGE_TABLE} s
        WHERE s.ok AND s.legal_entity_code IS NOT NULL AND s.legal_entity_code <> s.fi_code
          AND NOT EXISTS (SELECT 1 FROM {STAGE_TABLE} p WHERE p.fi_code = s.legal_entity_code)
          AND NOT EXISTS (SELECT 1 FROM institution i WHERE i.fi_code = s.legal_entity_code)
    """,
    ),
]

_PARENT_REJECTED = f"""
    SELECT s.row_no, s.fi_code, s.parent_code,
           (SELECT string_agg(p.row_no::text, ', ') FROM {STAGE_TABLE} p
            WHERE p.fi_code = s.parent_code)
    FROM {STAGE_TABLE} s
    WHERE s.ok AND s.parent_code IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM {STAGE_TABLE} p WHERE p.fi_code = s.parent_code AND p.ok)
      AND EXISTS (SELECT 1 FROM {STAGE_TABLE} p WHERE p.fi_code = s.parent_code)
      AND NOT EXISTS (SELECT 1 FROM institution i WHERE i.fi_code = s.parent_code)
"""

_PARENT_QUERIES: list[tuple[str, str]] = [
    (
        "XRC-LEGAL-ENTITY",
        f"""
        SELECT s.row_no, s.fi_code, s.legal_entity_code,
               COALESCE(sp.legal_entity_code, ip.legal_entity_code)
        FROM {STAGE_TABLE} s {_EFFECTIVE_PARENT}
        WHERE s.ok AND s.parent_code IS NOT NULL
          AND COALESCE(sp.legal_entity_code, ip.legal_entity_code) <> s.legal_entity_code
    """,
    ),
    (
        "XRC-REVOKED-PARENT",
        f"""
        SELECT s.row_no, s.fi_code, s.parent_code, ''
        FROM {STAGE_TABLE} s {_EFFECTIVE_PARENT}
        WHERE s.ok AND s.status = 'active'
          AND COALESCE(sp.status, ip.status) = 'revoked'
    """,
    ),
    # A parent sits higher than its child; branches under branches (provincial →
    # city) and sub-branches under sub-branches (二级支行) are real, outlets have no children
    # but their self-service points (ATMs standing in a 分理处).
    (
        "XRC-LEVEL-ORDER",
        f"""
        SELECT s.row_no, s.fi_code, s.level, COALESCE(sp.level, ip.level)
        FROM {STAGE_TABLE} s {_EFFECTIVE_PARENT}
        WHERE s.ok AND s.parent_code IS NOT NULL AND COALESCE(sp.level, ip.level) IS NOT NULL
          AND s.kind = 'branch'  -- a self-service point's parent: XRC-KIND-PARENT
          AND (array_position(ARRAY['head_office','branch','sub_branch','outlet'],
                              COALESCE(sp.level, ip.level))
               > array_position(ARRAY['head_office','branch','sub_branch','outlet'], s.level)
               OR COALESCE(sp.level, ip.level) = 'outlet'
               OR (s.level <> 'head_office' AND COALESCE(sp.level, ip.level) = s.level
                   AND s.level NOT IN ('branch', 'sub_branch')))
    """,
    ),
    # A self-service point or ATM hangs under the branch it belongs to or stands in: a
    # branch-kind record the public visits (sub-branch or outlet), never another machine or
    # a city branch. Same legal entity and an active parent: XRC-LEGAL-ENTITY and
    # XRC-REVOKED-PARENT, as for every record.
    (
        "XRC-KIND-PARENT",
        f"""
        SELECT s.row_no, s.fi_code, s.parent_code,
               COALESCE(sp.kind, ip.kind) || '/' || COALESCE(sp.level, ip.level)
        FROM {STAGE_TABLE} s {_EFFECTIVE_PARENT}
        WHERE s.ok AND s.kind <> 'branch' AND COALESCE(sp.level, ip.level) IS NOT NULL
          AND (COALESCE(sp.kind, ip.kind) <> 'branch'
               OR COALESCE(sp.level, ip.level) NOT IN ('sub_branch', 'outlet'))
    """,
    ),
    (
        "XRC-CODE-PREFIX",
        f"""
        SELECT s.row_no, s.fi_code, s.fi_code, s.legal_entity_code
        FROM {STAGE_TABLE} s
        WHERE s.ok AND s.legal_entity_code IS NOT NULL
          AND left(s.fi_code, 6) <> left(s.legal_entity_code, 6)
    """,
    ),
]

# Walk up from every accepted row; the stored registry is acyclic (only checked
# data enters it), so a cycle must pass through a row of this file. The walk
# carries no path (building arrays for 200,000 walks costs more than the walk);
# the few cycles found are spelled out afterwards by _CYCLE_PATHS.
_CYCLES = f"""
    WITH RECURSIVE walk(start_row, start_code, cur, depth) AS (
        SELECT s.row_no, s.fi_code, s.parent_code, 1
        FROM {STAGE_TABLE} s WHERE s.ok AND s.parent_code IS NOT NULL
      UNION ALL
        SELECT w.start_row, w.start_code,
               COALESCE(sp.parent_code, CASE WHEN sp.fi_code IS NULL THEN ip.parent_code END),
               w.depth + 1
        FROM walk w
        LEFT JOIN {STAGE_TABLE} sp ON sp.fi_code = w.cur AND sp.ok
        LEFT JOIN institution ip ON ip.fi_code = w.cur
        WHERE w.cur IS NOT NULL AND w.cur <> w.start_code AND w.depth < 32
          AND (sp.fi_code IS NOT NULL OR ip.fi_code IS NOT NULL)
    )
    SELECT start_row, start_code FROM walk WHERE cur = start_code
"""

_CYCLE_PATHS = f"""
    WITH RECURSIVE walk(start_code, cur, path) AS (
        SELECT s.fi_code, s.parent_code, ARRAY[s.fi_code]
        FROM {STAGE_TABLE} s WHERE s.ok AND s.fi_code = ANY(:codes)
      UNION ALL
        SELECT w.start_code,
               COALESCE(sp.parent_code, CASE WHEN sp.fi_code IS NULL THEN ip.parent_code END),
               w.path || w.cur
        FROM walk w
        LEFT JOIN {STAGE_TABLE} sp ON sp.fi_code = w.cur AND sp.ok
        LEFT JOIN institution ip ON ip.fi_code = w.cur
        WHERE w.cur <> w.start_code AND cardinality(w.path) < 32
    )
    SELECT start_code, array_to_string(path || cur, ' → ') FROM walk WHERE cur = start_code
"""

# Revoking a stored parent must not leave active stored children under it, unless
# this batch revokes them too (they are in the file, or --revoke-missing takes them).
_ACTIVE_CHILDREN = f"""
    SELECT s.row_no, s.fi_code, s.fi_code,
           count(*) || '：' || string_agg(c.fi_code, ', ' ORDER BY c.fi_code)
    FROM {STAGE_TABLE} s
    JOIN institution c ON c.parent_code = s.fi_code AND c.status = 'active'
    WHERE s.ok AND s.status = 'revoked'
      AND NOT EXISTS (SELECT 1 FROM {STAGE_TABLE} sc WHERE sc.fi_code = c.fi_code)
      AND NOT (CAST(:revoke_missing AS boolean) AND c.region_code LIKE :prefix)
    GROUP BY s.row_no, s.fi_code
"""

_MISSING = f"""
    SELECT NULL::integer, i.fi_code, i.fi_code, ' (' || i.name || ')'
    FROM institution i
    WHERE i.status = 'active' AND i.region_code LIKE :prefix
      AND NOT EXISTS (SELECT 1 FROM {STAGE_TABLE} s WHERE s.fi_code = i.fi_code)
    ORDER BY i.fi_code
"""


def refuse(
    session: Session,
    rule_id: str,
    sql: str,
    params: dict[str, object] | None = None,
    *,
    stage: str = STAGE_TABLE,
    column: str | None = None,
) -> list[Issue]:
    """Run one rule's query (rows of row_no, fi_code, value, expected) over a stage table.

    Each row becomes an issue; if the rule is an error, those rows get `ok = false` so
    the rules after it see only rows that can still load. Both imports use it.
    """
    found = [
        issue(
            rule_id,
            row=row,
            fi_code=code,
            value=value,
            expected=expected or "",
            column=column or _COLUMN.get(rule_id),
        )
        for row, code, value, expected in session.execute(text(sql), params or {}).all()
    ]
    if found and get(rule_id).severity == "error":
        rows = sorted({i.row for i in found if i.row is not None})
        session.execute(
            text(f"UPDATE {stage} SET ok = false WHERE row_no = ANY(:rows)"), {"rows": rows}
        )
    return found


_COLUMN = {
    "XRC-DUPLICATE": "fi_code",
    "LOAD-LEGAL-CHANGED": "legal_entity_code",
    "LOAD-REACTIVATION": "status",
    "LOAD-REACTIVATED": "status",
    "XRC-PARENT-MISSING": "parent_code",
    "XRC-PARENT-REJECTED": "parent_code",
    "XRC-LEGAL-MISSING": "legal_entity_code",
    "XRC-LEGAL-ENTITY": "legal_entity_code",
    "XRC-REVOKED-PARENT": "status",
    "XRC-LEVEL-ORDER": "level",
    "XRC-KIND-PARENT": "parent_code",
    "XRC-CODE-PREFIX": "fi_code",
    "XRC-HIERARCHY-CYCLE": "parent_code",
    "LOAD-ACTIVE-CHILDREN": "status",
}


def _cycles(session: Session) -> list[Issue]:
    starts = session.execute(text(_CYCLES)).all()
    if not starts:
        return []
    paths: dict[str, str] = {
        code: path
        for code, path in session.execute(
            text(_CYCLE_PATHS), {"codes": [code for _, code in starts]}
        ).all()
    }
    found = [
        issue(
            "XRC-HIERARCHY-CYCLE",
            row=row,
            fi_code=code,
            column="parent_code",
            value=paths.get(code, code),
        )
        for row, code in starts
    ]
    session.execute(
        text(f"UPDATE {STAGE_TABLE} SET ok = false WHERE row_no = ANY(:rows)"),
        {"rows": [row for row, _ in starts]},
    )
    return found


def _cascade(session: Session) -> list[Issue]:
    """A rejected parent takes its children (and theirs) with it, unless it is stored already.

    A row whose legal entity is refused goes the same way: XRC-LEGAL-ENTITY keeps the legal
    entity at the top of the row's parent chain, so XRC-LEGAL-MISSING leaves that to this.
    """
    issues: list[Issue] = []
    while cascade := refuse(session, "XRC-PARENT-REJECTED", _PARENT_REJECTED):
        issues += cascade
    return issues


def run_cross_checks(session: Session, options: CheckOptions) -> list[Issue]:
    """All cross-record and load rules over the stage; refused rows get ok = false."""
    issues: list[Issue] = []
    for rule_id, sql in _QUERIES:
        if rule_id == "LOAD-REACTIVATION" and options.allow_reactivation:
            issues += refuse(session, "LOAD-REACTIVATED", sql)
            continue
        issues += refuse(session, rule_id, sql)
    issues += _cascade(session)
    for rule_id, sql in _PARENT_QUERIES:
        issues += refuse(session, rule_id, sql)
    issues += _cycles(session)
    issues += refuse(
        session,
        "LOAD-ACTIVE-CHILDREN",
        _ACTIVE_CHILDREN,
        {
            "revoke_missing": options.revoke_missing and options.jurisdiction is not None,
            "prefix": (options.jurisdiction or "") + "%",
        },
    )
    issues += _cascade(session)  # rows refused since then must not leave orphans behind
    return issues + missing_checks(session, options)


def missing_checks(session: Session, options: CheckOptions) -> list[Issue]:
    """Stored active records of a full snapshot's jurisdiction that the file lacks."""
    if options.jurisdiction is None:
        return []
    return refuse(session, "LOAD-MISSING", _MISSING, {"prefix": options.jurisdiction + "%"})
