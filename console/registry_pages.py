"""Registry pages: fuzzy search with filters, one institution, and their exports.

The same calls as `pro_api.registry_views`: the arguments are read by the API's own
schema (`InstitutionListArgs`), the filters checked against the jurisdiction by
`list_filters` (a region outside it is refused and audited), the page by
`institution_page`; an institution is found by `record_in_scope` (outside the
jurisdiction: the same 404 page as an unknown code, audited) and shown with
`registry_queries.ancestors`, `links`, `institutions` (its children), `profile_facts`
through `profile_view`, `task_facts` and `history`, and its published photos as the
public finder shows them (`uploads.outlet_photos.published`, `web.schemas.photo_urls`).
Exports are the API's files with its audit entry (`export_audited`).
"""

from __future__ import annotations

import json
from typing import Any

import marshmallow as ma
from flask import g, request
from flask.wrappers import Response

from accounts.accounts import Account
from console.labels import (
    CATEGORY_LABELS,
    CHANNEL_LABELS,
    GROUP_LABELS,
    KEY_LABELS,
    LEVEL_LABELS,
    STATUS_LABELS,
    TASK_LABELS,
    label,
)
from console.shell import blp, page, signed_in
from core.models.registry import LEVELS, STATUSES, ChangeEvent, Institution
from pro_api.registry_schemas import (
    INSTITUTION_COLUMNS,
    InstitutionExportArgs,
    InstitutionListArgs,
    business_type_view,
)
from pro_api.registry_views import (
    export_audited,
    hours_text,
    institution_page,
    institution_rows,
    list_filters,
    profile_view,
    record_in_scope,
)
from registry import regions
from registry import registry_queries as queries
from registry.codes import CATEGORIES
from uploads import outlet_photos
from web.extensions import db_session
from web.schemas import photo_urls

PAGE_SIZE = 50
HISTORY_SHOWN = 100
CHILDREN_SHOWN = 100
DIFF_KEYS = 16  # changed keys shown per event
DIFF_TEXT = 160  # characters shown per value
FILTER_FIELDS = ("q", "category", "level", "region", "status", "legal_entity")


def _region_choices(account: Account) -> list[tuple[str, str]]:
    """The cities and counties inside the jurisdiction, for the region filter."""
    prefix = account.region_prefix
    found: list[tuple[str, str]] = []
    if len(prefix) == 6:
        return [(prefix, regions.full_name(prefix) if regions.get(prefix) else prefix)]
    for child in regions.children(prefix.ljust(6, "0")):
        code = child.code[: len(prefix) + 2]
        found.append((code, child.name))
        if len(prefix) == 2:
            found += [
                (county.code, "\u3000" + county.name) for county in regions.children(child.code)
            ]
    return found


def _read(schema: ma.Schema) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The query string by the API's schema; empty fields are absent fields."""
    raw = {k: v.strip() for k, v in request.args.items() if k in schema.fields and v.strip()}
    try:
        return schema.load(raw), {}
    except ma.ValidationError as error:
        messages = error.messages if isinstance(error.messages, dict) else {}
        kept = {k: v for k, v in raw.items() if k not in messages}
        return schema.load(kept), {k: [str(m) for m in v] for k, v in messages.items()}


@blp.get("/registry")
@signed_in()
def registry() -> Response:
    """机构查询 — fuzzy search (names, abbreviations, typos, codes) and filters."""
    account: Account = g.console_account
    args, errors = _read(InstitutionListArgs())
    args["limit"] = PAGE_SIZE
    filters = list_filters(account, args, "console.registry")
    result = institution_page(account, filters, args)
    shown = {k: request.args.get(k, "") for k in FILTER_FIELDS}
    return page(
        "registry.html",
        title="机构查询",
        rows=result["items"],
        next_after=result["next_after"],
        searching=filters.text is not None,
        shown=shown,
        errors=errors,
        regions_in=_region_choices(account),
        categories=[(c, label(CATEGORY_LABELS, c)) for c in CATEGORIES],
        levels=[(v, label(LEVEL_LABELS, v)) for v in LEVELS],
        statuses=[(v, label(STATUS_LABELS, v)) for v in STATUSES],
        level_label=lambda v: label(LEVEL_LABELS, v),
        status_label=lambda v: label(STATUS_LABELS, v),
        export_query={k: v for k, v in shown.items() if v and k not in errors},
        match_labels=MATCH_LABELS,
    )


MATCH_LABELS = {
    "code": "编码",
    "exact": "名称完全一致",
    "prefix": "名称开头",
    "name": "名称包含",
    "abbreviation": "简称",
    "address": "地址",
    "similar": "相似名称",
}


@blp.get("/registry/export")
@signed_in()
def registry_export() -> Response:
    """导出 — the list with the same filters, as the API's CSV or XLSX (audited)."""
    account: Account = g.console_account
    args, _ = _read(InstitutionExportArgs())
    action = "console.registry.export"
    filters = list_filters(account, args, action)
    rows = institution_rows(account, filters)
    return export_audited(account, action, "institutions", INSTITUTION_COLUMNS, rows, args)


def _text(value: Any) -> str | None:
    """A value of the history as a person reads it: text as is, the rest as short JSON."""
    if value is None:
        return None
    shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return shown if len(shown) <= DIFF_TEXT else shown[: DIFF_TEXT - 1] + "…"


def _group_text(group: str | None, value: Any) -> str | None:
    """A whole field group's value in words, where keys would say nothing to a person."""
    if value is None:
        return None
    if group == "hours" and isinstance(value, dict):
        return hours_text(value) or _text(value)
    if group == "business_types" and isinstance(value, list):
        return "、".join(business_type_view(str(k))["label_zh"] for k in value) or "（无）"
    return _text(value)


Change = tuple[str, str | None, str | None]


def diff(group: str | None, before: Any, after: Any) -> list[Change]:
    """What an event changed, in words: hours and business types as a whole, the other
    records and groups (JSON objects) key by key, with the keys' Chinese names."""
    if group in ("hours", "business_types") or not (
        isinstance(before, dict | None) and isinstance(after, dict | None)
    ):
        return [("", _group_text(group, before), _group_text(group, after))]
    old, new = before or {}, after or {}
    keys = sorted(set(old) | set(new), key=lambda k: (k not in KEY_LABELS, k))
    return [
        (label(KEY_LABELS, k), _text(old.get(k)), _text(new.get(k)))
        for k in keys
        if old.get(k) != new.get(k)
    ]


def _timeline(record: Institution) -> list[dict[str, Any]]:
    stmt = queries.history(record.fi_code).order_by(ChangeEvent.id.desc()).limit(HISTORY_SHOWN)
    return [
        {
            "event": event,
            "group": label(GROUP_LABELS, event.field_group),
            "channel": label(CHANNEL_LABELS, event.channel),
            "created": event.before is None,
            "changes": diff(event.field_group, event.before, event.after)[:DIFF_KEYS],
        }
        for event in db_session().execute(stmt).scalars()
    ]


@blp.get("/institutions/<string:fi_code>")
@signed_in()
def institution(fi_code: str) -> Response:
    """一个机构 — record, hierarchy, profile by field group with provenance, history."""
    account: Account = g.console_account
    record = record_in_scope(account, fi_code, "console.institution")
    session = db_session()
    scope = account.scope
    named = queries.links(
        session, scope, [c for c in (record.legal_entity_code, record.parent_code) if c]
    )
    children = list(
        session.execute(
            queries.institutions(scope, queries.InstitutionFilters(parent_code=record.fi_code))
            .order_by(Institution.id)
            .limit(CHILDREN_SHOWN)
        ).scalars()
    )
    profile = profile_view(queries.profile_facts(session, record), "wgs84")
    provenance = {p.group: p for p in (profile or {}).get("provenance", [])}
    photos = (
        [{**p, **photo_urls(p["key"])} for p in outlet_photos.published(session, record.id)]
        if profile
        else []
    )
    return page(
        "institution.html",
        title=record.name,
        record=record,
        region=regions.full_name(record.region_code) if regions.get(record.region_code) else "",
        ancestors=queries.ancestors(session, scope, record),
        legal_entity=named.get(record.legal_entity_code),
        children=children,
        children_total=queries.children_count(session, scope, record.fi_code),
        profile=profile,
        provenance=provenance,
        photos=photos,
        groups=[(g_, GROUP_LABELS[g_]) for g_ in GROUP_ORDER],
        task=queries.task_facts(session, record),
        timeline=_timeline(record),
        business_type_view=business_type_view,
        level_label=lambda v: label(LEVEL_LABELS, v),
        status_label=lambda v: label(STATUS_LABELS, v),
        category_label=lambda v: label(CATEGORY_LABELS, v),
        task_label=lambda v: label(TASK_LABELS, v),
        channel_label=lambda v: label(CHANNEL_LABELS, v),
    )


GROUP_ORDER = ("position", "business_types", "photos", "hours", "phone", "service_links")
