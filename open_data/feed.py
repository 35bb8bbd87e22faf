"""The change feed: what changed in the public outlet data, from the change events.

Why the cursor is (xid, id) and not the event id
-------------------------------------------------
`change_event.id` is taken from an identity when the row is inserted, but transactions
commit in their own order. Transaction A inserts event 7 and is still running when B
inserts event 8 and commits: a reader paging by `id > cursor` serves 8, moves its
cursor to 8, and never sees 7 once A commits. Waiting a while does not make this safe;
an import can run for a minute.

Each event therefore records the transaction that wrote it (`xid`, migration 0018:
`pg_current_xact_id()`, the top-level transaction's 64-bit id, the same inside a
savepoint), and the feed is read in `(xid, id)` order, serving only events whose `xid`
is below the oldest transaction still running: `pg_snapshot_xmin(pg_current_snapshot())`,
taken by the very statement that reads the events. Every transaction below that
horizon has ended, so its events are visible to the statement (or were rolled back and
never will be), and no transaction can later add an event below it (new transactions
get larger ids). The horizon never moves back. Hence, after a page whose last event is
at `(x, i)`, every event still to be served lies after `(x, i)`: none is skipped (an
event after the cursor is served once its transaction, and every older one, has
ended) and none repeats (the cursor only moves forward past served events). The price
is latency, not correctness: while a long transaction runs, events of later ones wait
for it (the events of a one-minute import hold the feed for that minute).
`tests/test_open_feed.py` commits two connections out of order and shows the naive
reader skipping what this one serves.

What the feed says
------------------
Only events that touch a public field (`open_data.records`): an institution's names,
category, legal entity, region, address, phone or status, and a published change of
an outlet profile's position, business types, hours or phone. Each item has a `kind`,
new (the outlet appeared: registered, given its first position, or reactivated),
moved (its position changed), changed (another public field), revoked (it is no
longer public: revoked, or its position removed), and the outlet's public `record`
*as it is when the page is read* (null when it is not public now): the same record as
the export's. A consumer applies each item in order, replacing its copy of the outlet
by `record`, or deleting it when `record` is null. So replaying the feed from an
export's cursor (its manifest says which) over that export arrives at the data as they
are now, exactly; `tests/test_open_feed.py` replays it through real imports and edits.

Because records are current, an item may already show later changes of its outlet
(whose own items then repeat the same record): replaying is idempotent, and the state
after the last page is the current one. An event of an outlet that is not public now
and whose event did not withdraw it (say, a renamed institution that has no position
yet) is left out: a consumer never had it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, Final

from sqlalchemy import (
    ARRAY,
    BigInteger,
    ColumnElement,
    Connection,
    Integer,
    Select,
    String,
    Text,
    and_,
    any_,
    bindparam,
    case,
    cast,
    literal,
    literal_column,
    or_,
    select,
    text,
    tuple_,
)
from sqlalchemy.orm import Session

from core.models.registry import XID8, ChangeEvent
from geo.search import hits_of, visible_outlets
from open_data.records import record

MAX_LIMIT: Final = 1000
KINDS: Final = ("new", "changed", "moved", "revoked")

# Institution columns that are public (records) or decide whether the outlet is (status).
INSTITUTION_FIELDS: Final = (
    "name",
    "short_name",
    "category",
    "legal_entity_code",
    "region_code",
    "address",
    "phone",
)
_INSTITUTION_KEYS: Final = (*INSTITUTION_FIELDS, "status", "revoked_on")
# Profile field groups that are public, and the record fields each one sets.
PROFILE_GROUPS: Final[dict[str, tuple[str, ...]]] = {
    "position": ("latitude", "longitude"),
    "business_types": ("business_types",),
    "hours": ("opening_hours",),
    "phone": ("phone",),
}

# The oldest transaction of this database still running at the statement's snapshot (or the
# snapshot's xmax when none is). pg_snapshot_xmin() would be the same but for the other
# databases of the cluster: their transactions are in the snapshot too, and a long one
# there (an import into another database) would hold this feed back. A transaction is
# left out only on positive evidence that it runs in another database (pg_stat_activity,
# read after the snapshot): a backend's database never changes, and one that ended
# meanwhile, or that this role may not see, counts as ours, which can only delay.
# backend_xid is a 32-bit xid: compared with the low 32 bits of the snapshot's xid8.
HORIZON_SQL: Final = (
    "SELECT coalesce(min(x.x), pg_snapshot_xmax(pg_current_snapshot())) "
    "FROM pg_snapshot_xip(pg_current_snapshot()) AS x(x) WHERE NOT EXISTS ("
    "SELECT 1 FROM pg_stat_activity a WHERE a.backend_xid IS NOT NULL "
    "AND a.datid <> (SELECT d.oid FROM pg_database d WHERE d.datname = current_database()) "
    "AND a.backend_xid::text = ((x.x::text::numeric % 4294967296)::bigint)::text)"
)

_CURSOR = re.compile(r"([0-9]{1,20})-([0-9]{1,19})")


class CursorError(ValueError):
    """A `since` that is not a cursor this feed gave out."""


@dataclass(frozen=True, order=True)
class Cursor:
    """A place in the feed: after the event `event_id` of transaction `xid`."""

    xid: int
    event_id: int

    def __str__(self) -> str:
        return f"{self.xid}-{self.event_id}"

    @classmethod
    def parse(cls, text: str) -> Cursor:
        match = _CURSOR.fullmatch(text)
        if match is None:
            raise CursorError(
                f"游标无效：应为本接口给出的 next_cursor（如 0-0）/ not a cursor: {text[:40]!r}"
            )
        xid, event_id = int(match[1]), int(match[2])
        if xid >= 2**64 or event_id >= 2**63:
            raise CursorError(f"游标超出范围 / cursor out of range: {text[:40]!r}")
        return cls(xid, event_id)


START: Final = Cursor(0, 0)  # before every event


@dataclass(frozen=True)
class FeedItem:
    cursor: Cursor
    event_id: int
    fi_code: str
    kind: str
    fields: tuple[str, ...]  # the public fields the event changed (empty for revoked)
    at: datetime
    record: dict[str, Any] | None  # the outlet's public record now; None: not public now


@dataclass(frozen=True)
class FeedPage:
    items: list[FeedItem]
    next_cursor: Cursor  # where the next page starts (the same cursor when nothing was new)
    more: bool  # the page is full: more may follow at once


# A value of None in a JSONB column written through the ORM is JSON's null, not SQL's NULL.
_JSON_NULL: ColumnElement[Any] = literal_column("'null'::jsonb")


def _removal(e: Any) -> Any:
    """The event withdrew its outlet from the public: revoked, or its position removed."""
    return or_(
        and_(e.c.entity == "institution", e.c.after["status"].astext == "revoked"),
        and_(
            e.c.field_group == "position",
            or_(e.c.after.is_(None), e.c.after == _JSON_NULL),
        ),
    )


@lru_cache(maxsize=1)
def _page_statement() -> Select[Any]:
    """One page of events with the public record of their outlets, in (xid, id) order.

    The ordered scan of ix_change_event_xid_id stops after `limit` matching events; each
    outlet's row is found by fi_code (a left join: a revoked outlet has none)."""
    e = ChangeEvent.__table__
    v = visible_outlets().subquery("v")
    public = or_(
        and_(
            e.c.entity == "institution",
            or_(
                e.c.after.has_any(bindparam("keys", type_=ARRAY(Text()))),
                e.c.before.has_any(bindparam("keys", type_=ARRAY(Text()))),
            ),
        ),
        and_(
            e.c.entity == "outlet_profile",
            e.c.field_group == any_(literal(list(PROFILE_GROUPS), ARRAY(Text()))),
        ),
    )
    is_new = or_(
        and_(
            e.c.entity == "institution",
            or_(e.c.before.is_(None), e.c.after["status"].astext == "active"),
        ),
        and_(
            e.c.field_group == "position",
            or_(e.c.before.is_(None), e.c.before == _JSON_NULL),
        ),
    )
    kind = case(
        (v.c.id.is_(None), "revoked"),
        (is_new, "new"),
        (e.c.field_group == "position", "moved"),
        else_="changed",
    )
    keys = literal_column(
        "CASE WHEN change_event.entity = 'institution' THEN ARRAY(SELECT jsonb_object_keys("
        "coalesce(change_event.after, '{}'::jsonb) || coalesce(change_event.before, '{}'::jsonb)"
        ")) END",
        type_=ARRAY(Text()),
    )
    after = tuple_(e.c.xid, e.c.id) > tuple_(
        cast(bindparam("xid", type_=String()), XID8()), bindparam("event_id", type_=BigInteger())
    )
    horizon = literal_column(f"({HORIZON_SQL})", type_=XID8())
    return (
        select(
            *v.c, e.c.xid, e.c.id, e.c.fi_code, kind.label("kind"), e.c.field_group, keys, e.c.at
        )
        .select_from(e.outerjoin(v, v.c.fi_code == e.c.fi_code))
        .where(
            after,
            e.c.xid < horizon,
            e.c.published,
            public,
            or_(v.c.id.is_not(None), _removal(e)),
        )
        .order_by(e.c.xid, e.c.id)
        .limit(bindparam("limit", type_=Integer()))
    )


_VISIBLE_COLUMNS = len(visible_outlets().selected_columns)


def read_page(db: Connection | Session, since: Cursor = START, limit: int = MAX_LIMIT) -> FeedPage:
    """The events after `since` that no running transaction can still precede, up to `limit`.

    `db` in autocommit (the public API's reader connection) or a transaction of its own:
    the horizon is that of the statement's snapshot either way.
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIMIT}")
    rows = db.execute(
        _page_statement(),
        {
            "xid": str(since.xid),
            "event_id": since.event_id,
            "limit": limit,
            "keys": list(_INSTITUTION_KEYS),
        },
    ).all()
    n = _VISIBLE_COLUMNS
    shown = [row for row in rows if row[0] is not None]
    records = {hit.fi_code: record(hit) for hit in hits_of(db, [row[:n] for row in shown])}
    items = []
    for row in rows:
        xid, event_id, fi_code, kind, group, keys, at = row[n:]
        rec = records.get(fi_code) if row[0] is not None else None
        items.append(
            FeedItem(
                cursor=Cursor(int(xid), int(event_id)),
                event_id=int(event_id),
                fi_code=fi_code,
                kind=kind,
                fields=() if rec is None else _fields(group, keys),
                at=at,
                record=rec,
            )
        )
    next_cursor = items[-1].cursor if items else since
    return FeedPage(items, next_cursor, more=len(rows) == limit)


def _fields(group: str | None, keys: list[str] | None) -> tuple[str, ...]:
    if group is not None:
        return PROFILE_GROUPS.get(group, ())
    present = set(keys or ())
    return tuple(f for f in INSTITUTION_FIELDS if f in present)


def horizon(db: Connection | Session) -> Cursor:
    """Where a snapshot taken by `db`'s current statement (or repeatable-read transaction)
    begins in the feed: every event before it is in the snapshot. Some after it may be too
    (transactions that committed while an older one ran); replaying them is harmless."""
    xmin = db.execute(text(f"SELECT ({HORIZON_SQL})::text")).scalar_one()
    return Cursor(int(xmin), 0)
