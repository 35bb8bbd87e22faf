"""Registry queries in the professional app: look-up and search of records, their hierarchy
and history, and the import batches with their error receipts (each list also as CSV/XLSX).

Thin views over `registry.registry_queries` and `registry.name_search`; every query runs
inside the caller's jurisdiction (`Account.scope`). All three roles may read. The rules:

- A record (or batch) outside the jurisdiction is answered 404 exactly like one that does
  not exist, and audited the same way. A malformed fi_code is bad input: 422 naming the
  path field, as for any other malformed value (it cannot name anybody's record).
- Filters only ever narrow the jurisdiction. A `region` prefix wider than the
  jurisdiction changes nothing; one that lies outside it, or a `legal_entity` other than
  an institution account's own, is refused with 403 and an audit entry before anything is
  looked up: the call itself is not allowed, and comparing two prefixes reveals nothing.
- A search text (`q`) is only text: bound parameters, `%` and `_` literal.
- Lists are keyset pages. A ranked search is paged by position instead, within its first
  `SEARCH_CAP` matches (`next_after` is then a count of matches already shown): relevance
  has no stable key to resume from, and a search deeper than that wants a filter.
- Parents, legal entities and ancestors outside the jurisdiction are named (fi_code, name,
  short name, level) and marked `in_jurisdiction: false`, never detailed; see
  `registry.registry_queries` for why.
- Every export is audited (who took which list out of the system, with which filters).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any, cast

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from flask_smorest.error_handler import ErrorSchema
from sqlalchemy import Select

from accounts.accounts import Account
from core.coords import CoordSystem, position_in
from core.models.registry import ChangeEvent, ImportBatch, ImportIssue, Institution
from pro_api.access import PRO_SECURITY, audit, current_account, deny, filed_under, not_found
from pro_api.exports import EXPORT_LIMIT, Column, export_doc, export_response
from pro_api.paging import keyset_page
from pro_api.registry_schemas import (
    BATCH_COLUMNS,
    EVENT_COLUMNS,
    FI_CODE_MESSAGE,
    INSTITUTION_COLUMNS,
    ISSUE_COLUMNS,
    SEARCH_CAP,
    AncestorsSchema,
    BatchDetailSchema,
    BatchExportArgs,
    BatchListArgs,
    BatchPageSchema,
    ChangeEventPageSchema,
    ChildrenArgs,
    ChildrenExportArgs,
    CoordArgs,
    HistoryArgs,
    HistoryExportArgs,
    InstitutionDetailSchema,
    InstitutionExportArgs,
    InstitutionListArgs,
    InstitutionPageSchema,
    IssueArgs,
    IssueExportArgs,
    IssuePageSchema,
    business_type_view,
    event_view,
    institution_view,
    issue_view,
)
from profiles.hours import format_hours
from profiles.opening import parse_stored
from registry import registry_queries as queries
from registry.codes import FI_CODE_RE
from registry.name_search import NameQuery, match_kind, read_query
from reports.rollout import YearNotCovered, correction_deadline
from web.extensions import db_session

blp = Blueprint(
    "pro_registry",
    __name__,
    description="专业版：机构查询、层级、变更历史、导入批次与错误回执 / Professional app: "
    "registry look-up and search, hierarchy, history, import batches and error receipts",
)

_UNAUTHORIZED = "没有有效的登录 / no valid token"
_PENDING = "须先修改临时密码 / temporary password to change first"
_FILTER_REFUSED = (
    "筛选条件超出你的辖区（已记录）/ a filter outside your jurisdiction (audited); "
    "or a temporary password to change first"
)
_NO_RECORD = "没有这个机构，或不在你的辖区内 / no such institution in your jurisdiction"
_NO_BATCH = "没有这个批次，或不在你的辖区内 / no such batch in your jurisdiction"
_INVALID = "参数无效：errors 中逐项说明 / invalid parameters, named in `errors`"


def _refusals(*, filters: bool = False, not_found: str | None = None) -> Any:
    """The 401/403/404/422 answers of a view, for the OpenAPI document."""

    def decorate(view: Any) -> Any:
        view = blp.alt_response(401, schema=ErrorSchema, description=_UNAUTHORIZED)(view)
        view = blp.alt_response(
            403, schema=ErrorSchema, description=_FILTER_REFUSED if filters else _PENDING
        )(view)
        if not_found is not None:
            view = blp.alt_response(404, schema=ErrorSchema, description=not_found)(view)
        view = blp.alt_response(422, schema=ErrorSchema, description=_INVALID)(view)
        return blp.doc(security=PRO_SECURITY)(view)

    return decorate


# --- the caller, its records, its filters -----------------------------------------------------


def _fi_code(raw: str) -> str:
    code = raw.strip().upper()
    if not FI_CODE_RE.match(code):
        abort(422, message=FI_CODE_MESSAGE, errors={"path": {"fi_code": [FI_CODE_MESSAGE]}})
    return code


def record_in_scope(caller: Account, raw_code: str, action: str) -> Institution:
    """The record named in the path, inside the caller's jurisdiction, or 422/404."""
    code = _fi_code(raw_code)
    record = queries.find_institution(db_session(), caller.scope, code)
    if record is None:
        not_found("institution", code, action=action, account=caller)
    return record


def _batch(caller: Account, batch_id: int, action: str) -> ImportBatch:
    batch = queries.find_batch(db_session(), caller.scope, batch_id)
    if batch is None:
        not_found("import_batch", batch_id, action=action, account=caller)
    return batch


def list_filters(
    caller: Account, args: Mapping[str, Any], action: str
) -> queries.InstitutionFilters:
    """The list filters, refused (403, audited) where they reach outside the jurisdiction."""
    scope = caller.scope
    region = args.get("region")
    if region is not None and not (
        region.startswith(scope.region_prefix) or scope.region_prefix.startswith(region)
    ):
        message = (
            f"地区 {region} 不在你的辖区 {scope.region_prefix} 内 / region {region} is outside "
            f"your jurisdiction {scope.region_prefix}"
        )
        deny(
            403,
            message,
            action=action,
            account=caller,
            reason=f"filter region {region} outside jurisdiction",
            errors={"query": {"region": [message]}},
        )
    legal = args.get("legal_entity")
    if legal is not None and scope.legal_entity_code not in (None, legal):
        message = (
            f"你的账户只能查询法人机构 {scope.legal_entity_code} / your account is limited to "
            f"legal entity {scope.legal_entity_code}"
        )
        deny(
            403,
            message,
            action=action,
            account=caller,
            reason=f"filter legal_entity {legal} outside jurisdiction",
            errors={"query": {"legal_entity": [message]}},
        )
    return queries.InstitutionFilters(
        text=read_query(args["q"]) if args.get("q") else None,
        category=args.get("category"),
        level=args.get("level"),
        region_prefix=region if region and region.startswith(scope.region_prefix) else None,
        status=args.get("status"),
        legal_entity_code=legal,
    )


# --- lists of records ---------------------------------------------------------------------------


def _ranked_rows(
    caller: Account, filters: queries.InstitutionFilters, query: NameQuery, offset: int, count: int
) -> list[dict[str, Any]]:
    """`count` ranked matches of `query` (the filters' text) from position `offset`; the
    caller keeps within SEARCH_CAP."""
    found = queries.search_institutions(
        db_session(), caller.scope, filters, offset=offset, limit=count
    )
    return [institution_view(record, match_kind(query, tier)) for record, tier in found]


def institution_page(
    caller: Account, filters: queries.InstitutionFilters, args: Mapping[str, Any]
) -> dict[str, Any]:
    if filters.text is None:
        page = keyset_page(
            db_session(), queries.institutions(caller.scope, filters), Institution.id, dict(args)
        )
        return {"items": [institution_view(r) for r in page.items], "next_after": page.next_after}
    offset = int(args.get("after") or 0)
    wanted = max(0, min(int(args["limit"]), SEARCH_CAP - offset))
    if wanted == 0:
        return {"items": [], "next_after": None}
    rows = _ranked_rows(caller, filters, filters.text, offset, wanted + 1)
    more = len(rows) > wanted and offset + wanted < SEARCH_CAP
    return {"items": rows[:wanted], "next_after": offset + wanted if more else None}


def institution_rows(
    caller: Account, filters: queries.InstitutionFilters
) -> Iterable[dict[str, Any]]:
    if filters.text is not None:
        return _ranked_rows(caller, filters, filters.text, 0, SEARCH_CAP)
    stmt = queries.institutions(caller.scope, filters).order_by(Institution.id)
    return (institution_view(r) for r in _capped(stmt))


def _capped(stmt: Select[Any]) -> Iterable[Any]:
    """Rows for an export: one more than the limit, so `export_response` can refuse."""
    return db_session().execute(stmt.limit(EXPORT_LIMIT + 1)).scalars()


def export_audited(
    caller: Account,
    action: str,
    name: str,
    columns: tuple[Column, ...],
    rows: Iterable[Mapping[str, Any]],
    args: Mapping[str, Any],
) -> Response:
    """The file, and an audit entry saying who took which list out (with its filters)."""
    table = list(rows)
    response = export_response(name, columns, table, args["format"])
    audit(
        action,
        "ok",
        actor=caller,
        filed=filed_under(caller),
        target_kind="export",
        target_id=name,
        detail={
            "filters": {k: v for k, v in args.items() if k != "format"},
            "format": args["format"],
            "rows": len(table),
        },
    )
    db_session().commit()
    return response


@blp.route("/institutions")
class Institutions(MethodView):
    @blp.arguments(InstitutionListArgs, location="query")
    @blp.response(200, InstitutionPageSchema)
    @_refusals(filters=True)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """机构查询 — records of your jurisdiction: filters, and fuzzy search with `q`.

        Without `q`: keyset pages in id order. With `q`: the best matches first (exact name
        or code, name starting with the text, every word in the name, an abbreviation's
        institution, words in the address, resembling names), paged by position within
        the first 1,000; each hit says how it matched.
        """
        action = "registry.institutions"
        caller = current_account(action)
        filters = list_filters(caller, args, action)
        return institution_page(caller, filters, args)


@blp.route("/institutions/export")
class InstitutionsExport(MethodView):
    @blp.arguments(InstitutionExportArgs, location="query")
    @blp.doc(**export_doc("机构列表 / institutions"))
    @_refusals(filters=True)
    def get(self, args: dict[str, Any]) -> Response:
        """导出机构 — the list of GET /institutions with the same filters, as CSV or XLSX
        (a search: its ranked matches, at most 1,000)."""
        action = "registry.institutions.export"
        caller = current_account(action)
        filters = list_filters(caller, args, action)
        rows = institution_rows(caller, filters)
        return export_audited(caller, action, "institutions", INSTITUTION_COLUMNS, rows, args)


# --- one record -----------------------------------------------------------------------------------


def _last_confirmed(provenance: list[queries.Provenance]) -> datetime | None:
    stamps = [p.confirmed_at for p in provenance if p.confirmed_at is not None]
    return max(stamps) if stamps else None


def hours_text(hours: dict[str, Any] | None) -> str | None:
    parsed = parse_stored(hours)
    return format_hours(parsed) if parsed is not None else None


def profile_view(facts: queries.ProfileFacts | None, coord: str) -> dict[str, Any] | None:
    if facts is None:
        return None
    position = None
    if facts.lat is not None and facts.lng is not None:
        position = position_in(facts.lat, facts.lng, cast(CoordSystem, coord))
    return {
        "coord": coord,
        "position": position,
        "captured_in": facts.captured_in,
        "accuracy_m": facts.accuracy_m,
        "business_types": [business_type_view(k) for k in facts.business_types],
        "opening_hours": facts.opening_hours,
        "hours_text": hours_text(facts.opening_hours),
        "phone": facts.phone,
        "service_links": facts.service_links,
        "photos": {"published": facts.photos_published, "held": facts.photos_held},
        "updated_at": facts.updated_at,
        "last_confirmed_at": _last_confirmed(facts.provenance),
        "provenance": facts.provenance,
    }


@blp.route("/institutions/<string:fi_code>")
class OneInstitution(MethodView):
    @blp.arguments(CoordArgs, location="query")
    @blp.response(200, InstitutionDetailSchema)
    @_refusals(not_found=_NO_RECORD)
    def get(self, args: dict[str, Any], fi_code: str) -> dict[str, Any]:
        """精确查询 — one record by fi_code: the registry record, its outlet profile
        (position, business types, hours, phone, photos, who set each and when it was
        confirmed), its upload task, its legal entity and parent."""
        action = "registry.institution"
        caller = current_account(action)
        record = record_in_scope(caller, fi_code, action)
        session = db_session()
        scope = caller.scope
        named = queries.links(
            session, scope, [c for c in (record.legal_entity_code, record.parent_code) if c]
        )
        task = queries.task_facts(session, record)
        return {
            **institution_view(record),
            "postcode": record.postcode,
            "licence_no": record.licence_no,
            "uscc": record.uscc,
            "batch_id": record.batch_id,
            "created_at": record.created_at,
            "legal_entity": named[record.legal_entity_code],
            "parent": named[record.parent_code] if record.parent_code else None,
            "children_in_jurisdiction": queries.children_count(session, scope, record.fi_code),
            "profile": profile_view(queries.profile_facts(session, record), args["coord"]),
            "upload_task": task,
        }


@blp.route("/institutions/<string:fi_code>/ancestors")
class Ancestors(MethodView):
    @blp.response(200, AncestorsSchema)
    @_refusals(not_found=_NO_RECORD)
    def get(self, fi_code: str) -> dict[str, Any]:
        """上级机构链 — the chain of parents up to the head office, parent first.

        Links outside your jurisdiction show only fi_code, names and level.
        """
        action = "registry.ancestors"
        caller = current_account(action)
        record = record_in_scope(caller, fi_code, action)
        return {
            "fi_code": record.fi_code,
            "ancestors": queries.ancestors(db_session(), caller.scope, record),
        }


def _children_filters(record: Institution, args: Mapping[str, Any]) -> queries.InstitutionFilters:
    return queries.InstitutionFilters(
        parent_code=record.fi_code, status=args.get("status"), level=args.get("level")
    )


@blp.route("/institutions/<string:fi_code>/children")
class Children(MethodView):
    @blp.arguments(ChildrenArgs, location="query")
    @blp.response(200, InstitutionPageSchema)
    @_refusals(not_found=_NO_RECORD)
    def get(self, args: dict[str, Any], fi_code: str) -> dict[str, Any]:
        """下级机构 — the direct children of a record that lie in your jurisdiction."""
        action = "registry.children"
        caller = current_account(action)
        record = record_in_scope(caller, fi_code, action)
        stmt = queries.institutions(caller.scope, _children_filters(record, args))
        page = keyset_page(db_session(), stmt, Institution.id, args)
        return {"items": [institution_view(r) for r in page.items], "next_after": page.next_after}


@blp.route("/institutions/<string:fi_code>/children/export")
class ChildrenExport(MethodView):
    @blp.arguments(ChildrenExportArgs, location="query")
    @blp.doc(**export_doc("下级机构 / children"))
    @_refusals(not_found=_NO_RECORD)
    def get(self, args: dict[str, Any], fi_code: str) -> Response:
        """导出下级机构 — GET …/children as CSV or XLSX."""
        action = "registry.children.export"
        caller = current_account(action)
        record = record_in_scope(caller, fi_code, action)
        stmt = queries.institutions(caller.scope, _children_filters(record, args))
        rows = (institution_view(r) for r in _capped(stmt.order_by(Institution.id)))
        name = f"children-{record.fi_code}"
        return export_audited(caller, action, name, INSTITUTION_COLUMNS, rows, args)


def _history(record: Institution, args: Mapping[str, Any]) -> Select[Any]:
    return queries.history(
        record.fi_code, channel=args.get("channel"), field_group=args.get("field_group")
    )


@blp.route("/institutions/<string:fi_code>/history")
class History(MethodView):
    @blp.arguments(HistoryArgs, location="query")
    @blp.response(200, ChangeEventPageSchema)
    @_refusals(not_found=_NO_RECORD)
    def get(self, args: dict[str, Any], fi_code: str) -> dict[str, Any]:
        """变更历史 — every change of the record and its profile, newest first: registry
        imports, profile imports, staff uploads, updates in this app; with before/after."""
        action = "registry.history"
        caller = current_account(action)
        record = record_in_scope(caller, fi_code, action)
        page = keyset_page(
            db_session(), _history(record, args), ChangeEvent.id, args, newest_first=True
        )
        return {"items": [event_view(e) for e in page.items], "next_after": page.next_after}


@blp.route("/institutions/<string:fi_code>/history/export")
class HistoryExport(MethodView):
    @blp.arguments(HistoryExportArgs, location="query")
    @blp.doc(**export_doc("变更历史 / history"))
    @_refusals(not_found=_NO_RECORD)
    def get(self, args: dict[str, Any], fi_code: str) -> Response:
        """导出变更历史 — GET …/history as CSV or XLSX (before/after as JSON text)."""
        action = "registry.history.export"
        caller = current_account(action)
        record = record_in_scope(caller, fi_code, action)
        events = _capped(_history(record, args).order_by(ChangeEvent.id.desc()))
        rows = (_json_cells(event_view(e)) for e in events)
        return export_audited(
            caller, action, f"history-{record.fi_code}", EVENT_COLUMNS, rows, args
        )


def _json_cells(row: dict[str, Any]) -> dict[str, Any]:
    return {
        **row,
        "before": None if row["before"] is None else json.dumps(row["before"], ensure_ascii=False),
        "after": None if row["after"] is None else json.dumps(row["after"], ensure_ascii=False),
    }


# --- import batches and error receipts ---------------------------------------------------------


def _batch_view(
    caller: Account, batch: ImportBatch, counts: queries.LineCounts | None
) -> dict[str, Any]:
    covered = queries.covers(caller.scope, batch)
    declared = (batch.options or {}).get("jurisdiction")
    counts = counts or queries.LineCounts()
    return {
        "id": batch.id,
        "kind": batch.kind,
        "source_name": batch.source_name,
        "source_sha256": batch.source_sha256,
        "actor": batch.actor,
        "outcome": batch.status,
        "started_at": batch.started_at,
        "finished_at": batch.finished_at,
        "declared_jurisdiction": declared if isinstance(declared, str) and declared else None,
        "covers_whole_batch": covered,
        "summary": batch.summary if covered else None,
        "in_jurisdiction": {"errors": counts.errors, "warnings": counts.warnings},
        "correction_due": correction_due(batch, counts),
    }


def correction_due(batch: ImportBatch, counts: queries.LineCounts) -> date | None:
    """The last day to correct this receipt's errors (5 working days, holiday calendar);
    None when there is nothing to correct, the batch is running, or the year is not covered."""
    if batch.finished_at is None or not counts.errors:
        return None
    try:
        return correction_deadline(batch.finished_at).due
    except YearNotCovered:
        return None


def _batch_rows(caller: Account, batches: list[ImportBatch]) -> list[dict[str, Any]]:
    counts = queries.line_counts(db_session(), caller.scope, [b.id for b in batches])
    return [_batch_view(caller, b, counts.get(b.id)) for b in batches]


@blp.route("/batches")
class Batches(MethodView):
    @blp.arguments(BatchListArgs, location="query")
    @blp.response(200, BatchPageSchema)
    @_refusals()
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """导入批次 — registry and profile import batches that concern your jurisdiction,
        newest first, with their outcome and the receipt lines you may read."""
        caller = current_account("registry.batches")
        stmt = queries.batches(caller.scope, kind=args.get("kind"), outcome=args.get("outcome"))
        page = keyset_page(db_session(), stmt, ImportBatch.id, args, newest_first=True)
        return {"items": _batch_rows(caller, page.items), "next_after": page.next_after}


@blp.route("/batches/export")
class BatchesExport(MethodView):
    @blp.arguments(BatchExportArgs, location="query")
    @blp.doc(**export_doc("导入批次 / batches"))
    @_refusals()
    def get(self, args: dict[str, Any]) -> Response:
        """导出导入批次 — GET /batches as CSV or XLSX."""
        action = "registry.batches.export"
        caller = current_account(action)
        stmt = queries.batches(caller.scope, kind=args.get("kind"), outcome=args.get("outcome"))
        batches = list(_capped(stmt.order_by(ImportBatch.id.desc())))
        rows = [{**row, **row["in_jurisdiction"]} for row in _batch_rows(caller, batches)]
        return export_audited(caller, action, "batches", BATCH_COLUMNS, rows, args)


@blp.route("/batches/<int:batch_id>")
class OneBatch(MethodView):
    @blp.response(200, BatchDetailSchema)
    @_refusals(not_found=_NO_BATCH)
    def get(self, batch_id: int) -> dict[str, Any]:
        """导入批次详情 — one batch, with the summary of its receipt in your jurisdiction
        (errors and warnings by rule) and its changes to your records."""
        action = "registry.batch"
        caller = current_account(action)
        batch = _batch(caller, batch_id, action)
        receipt = queries.receipt_in_scope(db_session(), caller.scope, batch)
        counts = queries.LineCounts(receipt.errors, receipt.warnings)
        return {**_batch_view(caller, batch, counts), "options": batch.options, "receipt": receipt}


def _issues(caller: Account, batch: ImportBatch, args: Mapping[str, Any]) -> Select[Any]:
    return queries.issues(
        caller.scope,
        batch,
        severity=args.get("severity"),
        rule_id=args.get("rule"),
        fi_code=args.get("fi_code"),
    )


@blp.route("/batches/<int:batch_id>/issues")
class BatchIssues(MethodView):
    @blp.arguments(IssueArgs, location="query")
    @blp.response(200, IssuePageSchema)
    @_refusals(not_found=_NO_BATCH)
    def get(self, args: dict[str, Any], batch_id: int) -> dict[str, Any]:
        """错误回执 — the receipt lines of a batch about rows of your jurisdiction (and,
        when your jurisdiction covers the batch, its file-level lines), in file order."""
        action = "registry.batch.issues"
        caller = current_account(action)
        batch = _batch(caller, batch_id, action)
        page = keyset_page(db_session(), _issues(caller, batch, args), ImportIssue.id, args)
        return {"items": [issue_view(i) for i in page.items], "next_after": page.next_after}


@blp.route("/batches/<int:batch_id>/issues/export")
class BatchIssuesExport(MethodView):
    @blp.arguments(IssueExportArgs, location="query")
    @blp.doc(**export_doc("错误回执 / error receipt"))
    @_refusals(not_found=_NO_BATCH)
    def get(self, args: dict[str, Any], batch_id: int) -> Response:
        """导出错误回执 — GET …/issues as CSV or XLSX, to send back for correction."""
        action = "registry.batch.issues.export"
        caller = current_account(action)
        batch = _batch(caller, batch_id, action)
        lines = _capped(_issues(caller, batch, args).order_by(ImportIssue.id))
        rows = (issue_view(i) for i in lines)
        return export_audited(caller, action, f"receipt-{batch.id}", ISSUE_COLUMNS, rows, args)
