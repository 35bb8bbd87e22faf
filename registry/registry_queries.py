"""Read queries of the professional app over the registry, always inside a jurisdiction.

Exact look-up (精确查询) and fuzzy search (模糊查询, `registry.name_search`) of records,
their hierarchy, their change history, and the import batches with their error receipts.
Every function takes the caller's `Jurisdiction` (in the web app `accounts.jurisdiction.Scope`,
which fits the protocol; the registry stays free of the web layer) and applies it in SQL,
so no query here can return a record outside it. Functions return `select()`s where the
caller pages, and plain values where the answer is one thing.

What is shown of records *outside* the jurisdiction, and why:

- A record's parent and legal entity are fields of the record itself, and a Nanjing
  office must be able to tell which head office an outlet belongs to. So the chain of
  ancestors and the legal entity are always named, but a foreign link carries only its
  fi_code, name, short name and level (no region, address, phone, status or dates), and
  says `in_jurisdiction: false`. Its children, history and detail stay 404.
- Import batches are province-wide files. A batch is visible to an account that *covers*
  it (no legal-entity limit, and a region prefix containing the jurisdiction the batch
  declared; a batch that declared none is province-wide, covered by the provincial level)
  and to any account with at least one receipt line or one change of the batch in its
  jurisdiction. Receipt lines are filed under the region and legal entity of their rows
  (`registry.receipts.attribute_issues`): each account reads the lines of its own
  jurisdiction, and only a covering account reads the unfiled ones (file and header
  problems). The batch-wide summary (all rows of the province) goes to covering accounts
  only; everybody gets the counts within their jurisdiction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import (
    ColumnElement,
    Select,
    Text,
    all_,
    and_,
    cast,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.orm import Session

from core.models.photos import OutletPhoto
from core.models.registry import ChangeEvent, ImportBatch, ImportIssue, Institution, OutletProfile
from core.models.staff import UploadTask
from registry import name_search
from registry.history import history_query

MAX_ANCESTORS = 12  # head office → branch → sub-branch → outlet is 4; a loop must still end


class Jurisdiction(Protocol):
    """What the queries need of a jurisdiction (`accounts.jurisdiction.Scope` has it)."""

    @property
    def region_prefix(self) -> str: ...

    @property
    def legal_entity_code(self) -> str | None: ...

    def clause(self, entity: Any) -> ColumnElement[bool]: ...

    def allows(self, region_code: str | None, legal_entity_code: str | None = None) -> bool: ...


# --- institutions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class InstitutionFilters:
    """Filters of the institution list; empty means no constraint. The region prefix
    narrows the jurisdiction, it can never widen it (both apply). A search `text` makes
    the list a ranked one: `search_institutions`."""

    text: name_search.NameQuery | None = None
    category: str | None = None
    level: str | None = None
    region_prefix: str | None = None
    status: str | None = None
    legal_entity_code: str | None = None
    parent_code: str | None = None


def institutions(scope: Jurisdiction, filters: InstitutionFilters) -> Select[Any]:
    """The records matching `filters` in `scope`, unordered: the caller orders and pages.
    The search text is not applied here (see `search_institutions`)."""
    stmt = select(Institution).where(scope.clause(Institution))
    if filters.category is not None:
        stmt = stmt.where(Institution.category == filters.category)
    if filters.level is not None:
        stmt = stmt.where(Institution.level == filters.level)
    if filters.region_prefix is not None:
        stmt = stmt.where(Institution.region_code.like(_digits(filters.region_prefix) + "%"))
    if filters.status is not None:
        stmt = stmt.where(Institution.status == filters.status)
    if filters.legal_entity_code is not None:
        stmt = stmt.where(Institution.legal_entity_code == filters.legal_entity_code)
    if filters.parent_code is not None:
        stmt = stmt.where(Institution.parent_code == filters.parent_code)
    return stmt


def search_institutions(
    session: Session,
    scope: Jurisdiction,
    filters: InstitutionFilters,
    *,
    offset: int,
    limit: int,
) -> list[tuple[Institution, int]]:
    """The matches of `filters.text` (and the other filters) from position `offset`, best
    first, each with its relevance tier (`name_search.MATCH_KINDS`)."""
    if filters.text is None:
        raise ValueError("a search needs a text; list without one through `institutions`")
    name_search.prepare(session)
    query = name_search.resolve_entities(session, filters.text)
    tier = name_search.match_tier(query).label("match_tier")
    base = institutions(scope, filters).where(name_search.match_condition(query))
    stmt = base.add_columns(tier).order_by(*name_search.relevance(query, tier))
    rows = session.execute(stmt.offset(offset).limit(limit))
    return [(record, int(rank)) for record, rank in rows]


def _digits(prefix: str) -> str:
    """A region prefix reaches LIKE only as digits (the caller validated it; say so twice)."""
    if not (prefix.isascii() and prefix.isdigit()):
        raise ValueError(f"a region prefix is digits only, got {prefix!r}")
    return prefix


def find_institution(session: Session, scope: Jurisdiction, fi_code: str) -> Institution | None:
    """One record by fi_code, or None if there is none *in the jurisdiction*."""
    return session.execute(
        select(Institution).where(Institution.fi_code == fi_code, scope.clause(Institution))
    ).scalar_one_or_none()


@dataclass(frozen=True)
class Link:
    """Another record named by a record (its parent, legal entity or an ancestor).

    Outside the jurisdiction only the code, names and level are given; a code that names
    no record at all has `known` false (a broken reference, worth fixing).
    """

    fi_code: str
    known: bool
    in_jurisdiction: bool
    name: str | None = None
    short_name: str | None = None
    level: str | None = None
    region_code: str | None = None
    status: str | None = None


def _link(scope: Jurisdiction, fi_code: str, row: Institution | None) -> Link:
    if row is None:
        return Link(fi_code=fi_code, known=False, in_jurisdiction=False)
    inside = scope.allows(row.region_code, row.legal_entity_code)
    return Link(
        fi_code=row.fi_code,
        known=True,
        in_jurisdiction=inside,
        name=row.name,
        short_name=row.short_name,
        level=row.level,
        region_code=row.region_code if inside else None,
        status=row.status if inside else None,
    )


def links(session: Session, scope: Jurisdiction, codes: Sequence[str]) -> dict[str, Link]:
    """The records named by `codes`, each as a `Link` (see above for what shows)."""
    wanted = sorted(set(codes))
    rows = session.execute(select(Institution).where(Institution.fi_code.in_(wanted))).scalars()
    found = {r.fi_code: r for r in rows}
    return {code: _link(scope, code, found.get(code)) for code in wanted}


def ancestors(session: Session, scope: Jurisdiction, record: Institution) -> list[Link]:
    """The chain of parents from `record`'s parent up to its head office, nearest first.

    One recursive query; it stops at a code that names nothing (shown as unknown), at a
    loop (a code met twice) and after MAX_ANCESTORS steps.
    """
    if record.parent_code is None:
        return []
    # text, not varchar(14): a recursive CTE needs the same column types in both terms
    anchor = select(
        cast(literal(record.parent_code), Text).label("fi_code"),
        literal(1).label("depth"),
        array([cast(literal(record.fi_code), Text)]).label("seen"),
    ).cte("chain", recursive=True)
    step = (
        select(
            cast(Institution.parent_code, Text),
            anchor.c.depth + 1,
            func.array_append(anchor.c.seen, cast(Institution.fi_code, Text)),
        )
        .join(anchor, cast(Institution.fi_code, Text) == anchor.c.fi_code)
        .where(
            Institution.parent_code.is_not(None),
            anchor.c.depth < MAX_ANCESTORS,
            cast(Institution.parent_code, Text) != all_(anchor.c.seen),
        )
    )
    chain = anchor.union_all(step)
    codes = list(session.execute(select(chain.c.fi_code).order_by(chain.c.depth)).scalars())
    found = links(session, scope, codes)
    return [found[code] for code in codes]


def children_count(session: Session, scope: Jurisdiction, fi_code: str) -> int:
    """How many direct children of `fi_code` lie in the jurisdiction."""
    stmt = institutions(scope, InstitutionFilters(parent_code=fi_code))
    count = select(func.count()).select_from(stmt.subquery())
    return int(session.execute(count).scalar_one())


# --- the outlet profile of one record ---------------------------------------------------------


@dataclass(frozen=True)
class Provenance:
    """Who last set one field group of a profile, and whether the institution confirmed it."""

    group: str
    channel: str | None
    actor: str | None
    at: datetime | None
    event_id: int | None
    confirmed: bool
    confirmed_at: datetime | None
    confirmed_by: str | None


@dataclass(frozen=True)
class ProfileFacts:
    """An outlet profile as the professional app shows it (position in WGS-84)."""

    lat: float | None
    lng: float | None
    captured_in: str | None
    accuracy_m: float | None
    business_types: tuple[str, ...]
    opening_hours: dict[str, Any] | None
    phone: str | None
    service_links: list[dict[str, Any]]
    photos_published: int
    photos_held: int
    updated_at: datetime
    provenance: list[Provenance] = field(default_factory=list)


@dataclass(frozen=True)
class TaskFacts:
    """The outlet's upload task (数据录入任务): where its data entry stands."""

    status: str
    submitted_at: datetime | None
    confirmed_at: datetime | None
    confirmed_by: str | None


def _stamp(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _provenance(raw: dict[str, Any] | None) -> list[Provenance]:
    entries = []
    for group, entry in sorted((raw or {}).items()):
        if not isinstance(entry, dict):
            continue
        event_id = entry.get("event_id")
        entries.append(
            Provenance(
                group=group,
                channel=entry.get("channel"),
                actor=entry.get("actor"),
                at=_stamp(entry.get("at")),
                event_id=int(event_id) if isinstance(event_id, int) else None,
                confirmed=bool(entry.get("confirmed")),
                confirmed_at=_stamp(entry.get("confirmed_at")),
                confirmed_by=entry.get("confirmed_by"),
            )
        )
    return entries


def profile_facts(session: Session, record: Institution) -> ProfileFacts | None:
    """The profile of a record already found in the jurisdiction, or None if it has none."""
    row = session.execute(
        select(
            OutletProfile,
            func.ST_Y(func.geometry(OutletProfile.position)).label("lat"),
            func.ST_X(func.geometry(OutletProfile.position)).label("lng"),
        ).where(OutletProfile.institution_id == record.id)
    ).one_or_none()
    if row is None:
        return None
    profile: OutletProfile = row.OutletProfile
    photos = dict(
        session.execute(
            select(OutletPhoto.status, func.count())
            .where(OutletPhoto.institution_id == record.id)
            .group_by(OutletPhoto.status)
        ).all()
    )
    return ProfileFacts(
        lat=row.lat,
        lng=row.lng,
        captured_in=profile.position_coord_system,
        accuracy_m=profile.position_accuracy_m,
        business_types=tuple(profile.business_types or ()),
        opening_hours=profile.opening_hours,
        phone=profile.phone,
        service_links=list(profile.service_links or []),
        photos_published=int(photos.get("published", 0)),
        photos_held=int(photos.get("flagged", 0)),
        updated_at=profile.updated_at,
        provenance=_provenance(profile.provenance),
    )


def task_facts(session: Session, record: Institution) -> TaskFacts | None:
    task = session.execute(
        select(UploadTask).where(UploadTask.institution_id == record.id)
    ).scalar_one_or_none()
    if task is None:
        return None
    return TaskFacts(task.status, task.submitted_at, task.confirmed_at, task.confirmed_by)


# --- history ----------------------------------------------------------------------------------


def history(
    fi_code: str, *, channel: str | None = None, field_group: str | None = None
) -> Select[Any]:
    """Change events of one record (the caller found it in its jurisdiction first),
    unordered: the caller pages newest first by id. `field_group` "record" means the
    registry record itself (events without a group)."""
    stmt = history_query(fi_code).order_by(None)
    if channel is not None:
        stmt = stmt.where(ChangeEvent.channel == channel)
    if field_group == "record":
        stmt = stmt.where(ChangeEvent.entity == "institution")
    elif field_group is not None:
        stmt = stmt.where(ChangeEvent.field_group == field_group)
    return stmt


# --- import batches and their receipts -------------------------------------------------------

_DECLARED = ImportBatch.options["jurisdiction"].astext


def covers(scope: Jurisdiction, batch: ImportBatch) -> bool:
    """Whether `scope` may read the whole batch: its summary and its unfiled lines."""
    if scope.legal_entity_code is not None:
        return False
    declared = (batch.options or {}).get("jurisdiction")
    if isinstance(declared, str) and declared:
        return declared.startswith(scope.region_prefix)
    return len(scope.region_prefix) == 2  # undeclared: the province's own file


def _covers_clause(scope: Jurisdiction) -> ColumnElement[bool]:
    """`covers` in SQL, over `import_batch`."""
    if scope.legal_entity_code is not None:
        return false()
    prefix = _digits(scope.region_prefix)
    declared = and_(_DECLARED.is_not(None), _DECLARED != "", _DECLARED.like(prefix + "%"))
    if len(prefix) == 2:
        return or_(declared, _DECLARED.is_(None), _DECLARED == "")
    return declared


def _line_in_scope(scope: Jurisdiction, covered: ColumnElement[bool]) -> ColumnElement[bool]:
    """A receipt line the caller may read: filed in its jurisdiction, or unfiled in a batch
    it covers."""
    return or_(
        and_(ImportIssue.region_code.is_not(None), scope.clause(ImportIssue)),
        and_(ImportIssue.region_code.is_(None), covered),
    )


def batches(
    scope: Jurisdiction, *, kind: str | None = None, outcome: str | None = None
) -> Select[Any]:
    """The batches visible in `scope` (see the module docstring), unordered."""
    covered = _covers_clause(scope)
    own_line = exists(
        select(ImportIssue.id).where(
            ImportIssue.batch_id == ImportBatch.id,
            ImportIssue.region_code.is_not(None),
            scope.clause(ImportIssue),
        )
    )
    own_change = exists(
        select(ChangeEvent.id)
        .join(Institution, Institution.fi_code == ChangeEvent.fi_code)
        .where(ChangeEvent.batch_id == ImportBatch.id, scope.clause(Institution))
    )
    stmt = select(ImportBatch).where(or_(covered, own_line, own_change))
    if kind is not None:
        stmt = stmt.where(ImportBatch.kind == kind)
    if outcome is not None:
        stmt = stmt.where(ImportBatch.status == outcome)
    return stmt


def find_batch(session: Session, scope: Jurisdiction, batch_id: int) -> ImportBatch | None:
    """One batch, or None if there is none *visible in the jurisdiction*."""
    return session.execute(batches(scope).where(ImportBatch.id == batch_id)).scalar_one_or_none()


def issues(
    scope: Jurisdiction,
    batch: ImportBatch,
    *,
    severity: str | None = None,
    rule_id: str | None = None,
    fi_code: str | None = None,
) -> Select[Any]:
    """The receipt lines of a (visible) batch the caller may read, unordered."""
    covered = true() if covers(scope, batch) else false()
    stmt = select(ImportIssue).where(
        ImportIssue.batch_id == batch.id, _line_in_scope(scope, covered)
    )
    if severity is not None:
        stmt = stmt.where(ImportIssue.severity == severity)
    if rule_id is not None:
        stmt = stmt.where(ImportIssue.rule_id == rule_id)
    if fi_code is not None:
        stmt = stmt.where(ImportIssue.fi_code == fi_code)
    return stmt


@dataclass(frozen=True)
class LineCounts:
    errors: int = 0
    warnings: int = 0


def line_counts(
    session: Session, scope: Jurisdiction, batch_ids: Sequence[int]
) -> dict[int, LineCounts]:
    """Errors and warnings per batch among the lines the caller may read (one query)."""
    if not batch_ids:
        return {}
    covered = _covers_clause(scope)
    rows = session.execute(
        select(
            ImportIssue.batch_id,
            func.count().filter(ImportIssue.severity == "error"),
            func.count().filter(ImportIssue.severity == "warning"),
        )
        .join(ImportBatch, ImportBatch.id == ImportIssue.batch_id)
        .where(ImportIssue.batch_id.in_(batch_ids), _line_in_scope(scope, covered))
        .group_by(ImportIssue.batch_id)
    ).all()
    return {int(b): LineCounts(int(e), int(w)) for b, e, w in rows}


@dataclass(frozen=True)
class ReceiptInScope:
    """A batch's receipt as far as the caller may read it."""

    errors: int
    warnings: int
    by_rule: dict[str, int]
    unfiled: int  # lines about no known row (file, header): counted only when covered
    changes: dict[str, int]  # change events of the batch in the jurisdiction, by kind


def receipt_in_scope(session: Session, scope: Jurisdiction, batch: ImportBatch) -> ReceiptInScope:
    lines = issues(scope, batch).subquery()
    by_rule_rows = session.execute(
        select(lines.c.rule_id, lines.c.severity, func.count()).group_by(
            lines.c.rule_id, lines.c.severity
        )
    ).all()
    unfiled = session.execute(
        select(func.count()).select_from(lines).where(lines.c.region_code.is_(None))
    ).scalar_one()
    kind = func.coalesce(ChangeEvent.field_group, ChangeEvent.entity)
    changes = session.execute(
        select(kind, func.count())
        .join(Institution, Institution.fi_code == ChangeEvent.fi_code)
        .where(ChangeEvent.batch_id == batch.id, scope.clause(Institution))
        .group_by(kind)
    ).all()
    by_rule: dict[str, int] = {}
    for rule, _, n in by_rule_rows:
        by_rule[rule] = by_rule.get(rule, 0) + int(n)
    return ReceiptInScope(
        errors=sum(int(n) for _, sev, n in by_rule_rows if sev == "error"),
        warnings=sum(int(n) for _, sev, n in by_rule_rows if sev == "warning"),
        by_rule=dict(sorted(by_rule.items())),
        unfiled=int(unfiled),
        changes={str(k): int(n) for k, n in sorted(changes)},
    )
