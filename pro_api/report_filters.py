"""What every report of the pro API shares: who may read it, over which area, in which pages.

- `report_scope(args, action, roles)`: the signed-in caller's jurisdiction,
  narrowed by the optional `region` and `legal_entity` filters. A filter can
  only narrow: a region that contains the jurisdiction (a Nanjing account
  asking for "32") is the jurisdiction itself; a region beside it (Nanjing
  asking for Suzhou's "3205"), or another legal entity than an institution
  account's own, is refused with 403 and an audit entry before anything is
  read. That refusal depends only on the caller's own jurisdiction and the
  filter it sent, so it reveals nothing about the data.
- `ranked_page(rows, args)`: rankings and per-group tables are computed whole
  (one GROUP BY over the area, a few hundred groups at most) and served in
  pages of at most `MAX_LIMIT` rows; there `after` is the position of the last
  row of the previous page (0 = the top), because a rank, not an id, orders
  them. The lists of outlets page by institution id (keyset) instead.
- `id_page(fetch, args, key)`: a keyset page of a list ordered by id.
- `audited_export(...)`: an export file of jurisdiction data, with an audit
  entry (who, which report, which filters, how many rows): data that leaves
  the system should leave a trace.
- `local_day_start(day)`: dates in filters are Asia/Shanghai days.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import marshmallow as ma
from flask import Response
from flask_smorest import Blueprint
from flask_smorest.error_handler import ErrorSchema

from accounts.accounts import Account
from accounts.jurisdiction import Scope
from pro_api.access import PRO_SECURITY, audit, current_account, deny, filed_under, require_role
from pro_api.exports import Column, export_response
from pro_api.paging import DEFAULT_LIMIT, MAX_LIMIT, Page
from reports.rollout import local_midnight
from web.extensions import db_session

READERS = ("pboc_admin", "institution_admin", "auditor")
SUPERVISORS = ("pboc_admin", "auditor")  # PBoC's own assessment tools

T = TypeVar("T")


class AreaArgs(ma.Schema):
    """Optional narrowing of a report to part of the caller's jurisdiction."""

    region = ma.fields.String(
        validate=ma.validate.Regexp(
            r"^(?:[0-9]{2}){1,3}$",
            error="应为 2、4 或 6 位行政区划代码前缀 / must be a region-code prefix of 2, 4 or "
            "6 digits",
        ),
        metadata={
            "description": "region-code prefix inside your jurisdiction (2 province, 4 city, "
            "6 county); one beside it is refused with 403",
            "example": "3201",
        },
    )
    legal_entity = ma.fields.String(
        validate=ma.validate.Regexp(
            r"^[A-Z][0-9]{13}$",
            error="应为 14 位金融机构编码 / must be a 14-character fi_code",
        ),
        metadata={
            "description": "fi_code of a legal entity (head office): only its institutions",
            "example": "C1010211000012",
        },
    )


class PeriodArgs(ma.Schema):
    """An optional period of Asia/Shanghai days, both ends included."""

    since = ma.fields.Date(
        metadata={"description": "first day counted (YYYY-MM-DD, Asia/Shanghai)"},
    )
    until = ma.fields.Date(
        metadata={"description": "last day counted, included (YYYY-MM-DD, Asia/Shanghai)"},
    )

    @ma.validates_schema
    def _ordered(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("since") and data.get("until") and data["until"] < data["since"]:
            raise ma.ValidationError(
                "结束日期早于开始日期 / until is before since", field_name="until"
            )


def report_scope(
    args: dict[str, Any], action: str, roles: Sequence[str] = READERS
) -> tuple[Account, Scope]:
    """The caller and the area its report covers; 401/403 (audited) otherwise."""
    caller = current_account(action)
    require_role(caller, roles, action)
    scope = caller.scope
    prefix = scope.region_prefix
    region = args.get("region")
    if region is not None:
        if region.startswith(prefix):
            prefix = region
        elif not prefix.startswith(region):
            _outside(caller, action, "region", region)
    legal_entity = scope.legal_entity_code
    wanted = args.get("legal_entity")
    if wanted is not None:
        if legal_entity is not None and wanted != legal_entity:
            _outside(caller, action, "legal_entity", wanted)
        legal_entity = wanted
    return caller, Scope(prefix, legal_entity, can_write=False)


def _outside(caller: Account, action: str, field: str, value: str) -> None:
    message = "超出你的辖区 / outside your jurisdiction"
    deny(
        403,
        f"{message}: {field}={value}",
        action=action,
        account=caller,
        reason=f"{field} outside jurisdiction",
        errors={"query": {field: [message]}},
    )


def ranked_page(rows: Sequence[T], args: dict[str, Any]) -> Page[T]:
    """One page of a whole computed table; `next_after` is the position of its last row."""
    limit = min(int(args.get("limit") or DEFAULT_LIMIT), MAX_LIMIT)
    start = int(args.get("after") or 0)
    items = list(rows[start : start + limit])
    more = len(rows) > start + limit
    return Page(items, start + limit if more else None)


def local_day_start(day: dt.date | None) -> dt.datetime | None:
    """00:00 of `day` in Asia/Shanghai (None stays None)."""
    return None if day is None else local_midnight(day)


def local_day_end(day: dt.date | None) -> dt.datetime | None:
    """00:00 of the day after `day` in Asia/Shanghai: the exclusive end of an inclusive day."""
    return None if day is None else local_midnight(day + dt.timedelta(days=1))


def id_page(
    fetch: Callable[[int | None, int], list[T]], args: dict[str, Any], key: Callable[[T], int]
) -> Page[T]:
    """A keyset page of a list ordered by an integer id: `fetch(after, limit)` reads one
    row more than asked to know whether another page follows."""
    limit = min(int(args.get("limit") or DEFAULT_LIMIT), MAX_LIMIT)
    rows = fetch(args.get("after"), limit + 1)
    if len(rows) <= limit:
        return Page(rows, None)
    return Page(rows[:limit], key(rows[limit - 1]))


def audited_export(
    caller: Account,
    action: str,
    name: str,
    columns: Sequence[Column],
    rows: Iterable[Mapping[str, Any]],
    args: dict[str, Any],
) -> Response:
    """The export file, and an audit entry saying who took which data out of the system."""
    table = list(rows)
    response = export_response(name, columns, table, args["format"])
    audit(
        action,
        "ok",
        actor=caller,
        filed=filed_under(caller),
        detail={
            "format": args["format"],
            "rows": len(table),
            "filters": {k: str(v) for k, v in sorted(args.items()) if k != "format"},
        },
    )
    db_session().commit()
    return response


UNAUTHORIZED = "没有有效的登录 / no valid token"
FORBIDDEN = (
    "须先修改临时密码，或筛选条件超出辖区（errors 指出字段）/ temporary password to change "
    "first, or a filter outside your jurisdiction (errors name the field)"
)
FORBIDDEN_ROLE = (
    "仅人民银行管理员和审计员，或筛选条件超出辖区 / PBoC administrators and auditors only, "
    "or a filter outside your jurisdiction"
)

_V = TypeVar("_V", bound=Callable[..., Any])


def report_doc(blp: Blueprint, forbidden: str = FORBIDDEN) -> Callable[[_V], _V]:
    """The refusals every report documents (401, 403) and its bearer-token security."""

    def decorate(view: _V) -> _V:
        view = blp.alt_response(401, schema=ErrorSchema, description=UNAUTHORIZED)(view)
        view = blp.alt_response(403, schema=ErrorSchema, description=forbidden)(view)
        documented: _V = blp.doc(security=PRO_SECURITY)(view)
        return documented

    return decorate
