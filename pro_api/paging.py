"""Keyset pages for the pro API's lists: `?limit=50&after=<next_after of the last page>`.

Keyset rather than offset (shared/STYLE.md): the audit log only grows, and an
offset page both slows down with depth and shifts when rows arrive between two
requests. The cursor is the id of the last row of the previous page; `limit`
is capped so one request can never ask for the whole table.

Usage in a view:

    @blp.arguments(MyListArgs, location="query")      # MyListArgs(PageArgs)
    @blp.response(200, MyPageSchema)                  # MyPageSchema(PageSchema) + items
    def get(self, args):
        page = keyset_page(session, stmt, Model.id, args)
        return {"items": [...page.items...], "next_after": page.next_after}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import marshmallow as ma
from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute, Session

DEFAULT_LIMIT = 50
MAX_LIMIT = 200

T = TypeVar("T")


class PageArgs(ma.Schema):
    """Query arguments of every pro list; subclass it to add filters."""

    limit = ma.fields.Integer(
        load_default=DEFAULT_LIMIT,
        validate=ma.validate.Range(1, MAX_LIMIT),
        metadata={"description": f"rows per page, at most {MAX_LIMIT}"},
    )
    after = ma.fields.Integer(
        load_default=None,
        validate=ma.validate.Range(min=1),
        metadata={"description": "the `next_after` of the previous page; absent for the first"},
    )


class PageSchema(ma.Schema):
    """The envelope of every pro list; subclasses add `items`."""

    next_after = ma.fields.Integer(
        allow_none=True,
        metadata={"description": "pass as `after` for the next page; null on the last page"},
    )


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_after: int | None


def keyset_page(
    session: Session,
    stmt: Select[T],
    key: InstrumentedAttribute[int],
    args: dict[str, Any],
    *,
    newest_first: bool = False,
) -> Page[T]:
    """One page of `stmt` (which selects one entity) ordered by the integer `key`.

    Reads one row more than asked to know whether another page follows.
    """
    limit = min(int(args.get("limit") or DEFAULT_LIMIT), MAX_LIMIT)
    after = args.get("after")
    if after is not None:
        stmt = stmt.where(key < after if newest_first else key > after)
    stmt = stmt.order_by(key.desc() if newest_first else key.asc()).limit(limit + 1)
    rows = list(session.execute(stmt).scalars())
    if len(rows) <= limit:
        return Page(rows, None)
    items = rows[:limit]
    return Page(items, int(getattr(items[-1], key.key)))
