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

from registry.rules import Issue, get, issue

STAGE_TABLE = "registry_stage"
STAGE_COLUMNS = (
    "row_no",
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
    "ok",
)
LEVEL_RANK = {"head_office": 0, "branch": 1, "sub_branch": 2, "outlet": 3}


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
            established_on date, revoked_on date, ok boolean NOT NULL
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
          AND NOT EXISTS (SELECT 1 FROM {STAGE_TABLE} p
                          WHERE p.fi_code = s.legal_entity_code AND p.ok)
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
    # city) and sub-branches under sub-branches (二级支行) are real, outlets have no children.
    (
        "XRC-LEVEL-ORDER",
        f"""
        SELECT s.row_no, s.fi_code, s.level, COALESCE(sp.level, ip.level)
        FROM {STAGE_TABLE} s {_EFFECTIVE_PARENT}
        WHERE s.ok AND s.parent_code IS NOT NULL AND COALESCE(sp.level, ip.level) IS NOT NULL
          AND (array_position(ARRAY['head_office','branch','sub_branch','outlet'],
                              COALESCE(sp.level, ip.level))
               > array_position(ARRAY['head_office','branch','sub_branch','outlet'], s.level)
               OR COALESCE(sp.level, ip.level) = 'outlet'
               OR (s.level <> 'head_office' AND COALESCE(sp.level, ip.level) = s.level
                   AND s.level NOT IN ('branch', 'sub_branch')))
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
# data enters it), so a cycle must pass through a row of this file.
_CYCLES = f"""
    WITH RECURSIVE walk(start_row, start_code, cur, path, depth) AS (
        SELECT s.row_no, s.fi_code, s.parent_code, ARRAY[s.fi_code], 1
        FROM {STAGE_TABLE} s WHERE s.ok AND s.parent_code IS NOT NULL
      UNION ALL
        SELECT w.start_row, w.start_code,
               COALESCE(sp.parent_code, CASE WHEN sp.fi_code IS NULL THEN ip.parent_code END),
               w.path || w.cur, w.depth + 1
        FROM walk w
        LEFT JOIN {STAGE_TABLE} sp ON sp.fi_code = w.cur AND sp.ok
        LEFT JOIN institution ip ON ip.fi_code = w.cur
        WHERE w.cur IS NOT NULL AND w.cur <> w.start_code AND w.depth < 64
          AND NOT (w.cur = ANY(w.path[2:]))
          AND (sp.fi_code IS NOT NULL OR ip.fi_code IS NOT NULL)
    )
    SELECT start_row, start_code, array_to_string(path || cur, ' → '), ''
    FROM walk WHERE cur = start_code
"""

_MISSING = f"""
    SELECT NULL::integer, i.fi_code, i.fi_code, ' (' || i.name || ')'
    FROM institution i
    WHERE i.status = 'active' AND i.region_code LIKE :prefix
      AND NOT EXISTS (SELECT 1 FROM {STAGE_TABLE} s WHERE s.fi_code = i.fi_code)
    ORDER BY i.fi_code
"""


def _run(
    session: Session,
    rule_id: str,
    sql: str,
    params: dict[str, str] | None = None,
) -> list[Issue]:
    found = [
        issue(
            rule_id,
            row=row,
            fi_code=code,
            value=value,
            expected=expected or "",
            column=_COLUMN.get(rule_id),
        )
        for row, code, value, expected in session.execute(text(sql), params or {}).all()
    ]
    if found and get(rule_id).severity == "error":
        rows = sorted({i.row for i in found if i.row is not None})
        session.execute(
            text(f"UPDATE {STAGE_TABLE} SET ok = false WHERE row_no = ANY(:rows)"),
            {"rows": rows},
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
    "XRC-CODE-PREFIX": "fi_code",
    "XRC-HIERARCHY-CYCLE": "parent_code",
}


def run_cross_checks(session: Session, options: CheckOptions) -> list[Issue]:
    """All cross-record and load rules over the stage; refused rows get ok = false."""
    issues: list[Issue] = []
    for rule_id, sql in _QUERIES:
        if rule_id == "LOAD-REACTIVATION" and options.allow_reactivation:
            issues += _run(session, "LOAD-REACTIVATED", sql)
            continue
        issues += _run(session, rule_id, sql)
    # A rejected parent takes its children (and theirs) with it, unless it is stored already.
    while True:
        cascade = _run(session, "XRC-PARENT-REJECTED", _PARENT_REJECTED)
        issues += cascade
        if not cascade:
            break
    for rule_id, sql in _PARENT_QUERIES:
        issues += _run(session, rule_id, sql)
    issues += _run(session, "XRC-HIERARCHY-CYCLE", _CYCLES)
    if options.jurisdiction is not None:
        issues += _run(session, "LOAD-MISSING", _MISSING, {"prefix": options.jurisdiction + "%"})
    return issues
