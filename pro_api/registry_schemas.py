"""Schemas of the professional app's registry queries (the OpenAPI document's words), the
views' dict shapes, and the columns of their exports."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from core.coords import COORD_SYSTEMS
from core.models.registry import (
    BATCH_KINDS,
    CHANNELS,
    FIELD_GROUPS,
    LEVELS,
    STATUSES,
    ChangeEvent,
    ImportIssue,
    Institution,
)
from pro_api.exports import Column, ExportArgs
from pro_api.paging import PageArgs, PageSchema
from profiles.business_types import BY_KEY
from registry import regions
from registry.codes import CATEGORIES, FI_CODE_RE
from registry.name_search import MATCH_KINDS, MAX_TEXT_LENGTH
from registry.rules import all_rules
from web.schemas import BusinessTypeSchema, PositionSchema

SEARCH_CAP = 1000  # a ranked search shows at most this many matches; filters narrow it
BATCH_OUTCOMES = ("running", "accepted", "partial", "rejected")
SEVERITIES = ("error", "warning")
HISTORY_GROUPS = ("record", *FIELD_GROUPS)
FI_CODE_MESSAGE = "应为 1 个大写字母加 13 位数字 / an fi_code is a capital letter and 13 digits"


class FiCode(ma.fields.String):
    """An fi_code as people type it: spaces trimmed, letters upper-cased, then checked."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs).strip().upper()
        if not FI_CODE_RE.match(text):
            raise ma.ValidationError(FI_CODE_MESSAGE)
        return text


# --- arguments ----------------------------------------------------------------------------------


class InstitutionFilterArgs(ma.Schema):
    q = ma.fields.String(
        validate=ma.validate.Length(1, MAX_TEXT_LENGTH),
        metadata={
            "description": "模糊查询 fuzzy search: name, short name, address, conventional "
            "abbreviations (工行, ICBC, 招行, 邮储 ...), typos, or the start of an fi_code. "
            f"Results are ranked by relevance, at most {SEARCH_CAP:,} (narrow with filters).",
            "example": "工行 新街口",
        },
    )
    category = ma.fields.String(validate=ma.validate.OneOf(CATEGORIES))
    level = ma.fields.String(validate=ma.validate.OneOf(LEVELS))
    region = ma.fields.String(
        validate=ma.validate.Regexp(r"^[0-9]{2,6}$", error="应为 2-6 位数字 / 2 to 6 digits"),
        metadata={
            "description": "region-code prefix (3201 Nanjing, 320102 Xuanwu). Inside your "
            "jurisdiction it narrows the list; wider than it, it changes nothing; outside it "
            "the call is refused (403, audited).",
            "example": "320102",
        },
    )
    status = ma.fields.String(validate=ma.validate.OneOf(STATUSES))
    legal_entity = FiCode(
        metadata={
            "description": "fi_code of the legal entity (head office); an institution "
            "account may give only its own",
            "example": "C1010211000012",
        }
    )


_RANKED_AFTER = ma.fields.Integer(
    load_default=None,
    validate=ma.validate.Range(min=1),
    metadata={
        "description": "the `next_after` of the previous page. Without `q` it is the id of "
        "the last record shown (keyset); with `q` it is the number of ranked matches already "
        f"shown (a position within the first {SEARCH_CAP:,})"
    },
)


class InstitutionListArgs(InstitutionFilterArgs, PageArgs):
    after = _RANKED_AFTER


class InstitutionExportArgs(InstitutionFilterArgs, ExportArgs):
    pass


class CoordArgs(ma.Schema):
    coord = ma.fields.String(
        load_default="wgs84",
        validate=ma.validate.OneOf(COORD_SYSTEMS),
        metadata={
            "description": "coordinate system of the position in the answer: wgs84 (as "
            "stored), gcj02 (Amap, Tencent, WeChat maps) or bd09 (Baidu)"
        },
    )


class _ChildFilters(ma.Schema):
    status = ma.fields.String(validate=ma.validate.OneOf(STATUSES))
    level = ma.fields.String(validate=ma.validate.OneOf(LEVELS))


class ChildrenArgs(_ChildFilters, PageArgs):
    pass


class ChildrenExportArgs(_ChildFilters, ExportArgs):
    pass


class _HistoryFilters(ma.Schema):
    channel = ma.fields.String(validate=ma.validate.OneOf(CHANNELS))
    field_group = ma.fields.String(
        validate=ma.validate.OneOf(HISTORY_GROUPS),
        metadata={"description": "a profile field group, or `record` for the registry record"},
    )


class HistoryArgs(_HistoryFilters, PageArgs):
    pass


class HistoryExportArgs(_HistoryFilters, ExportArgs):
    pass


class _BatchFilters(ma.Schema):
    kind = ma.fields.String(validate=ma.validate.OneOf(BATCH_KINDS))
    outcome = ma.fields.String(validate=ma.validate.OneOf(BATCH_OUTCOMES))


class BatchListArgs(_BatchFilters, PageArgs):
    pass


class BatchExportArgs(_BatchFilters, ExportArgs):
    pass


class _IssueFilters(ma.Schema):
    severity = ma.fields.String(validate=ma.validate.OneOf(SEVERITIES))
    rule = ma.fields.String(
        validate=ma.validate.OneOf(sorted(r.id for r in all_rules())),
        metadata={"description": "a rule id of docs/rules.md", "example": "FLD-PHONE-FORMAT"},
    )
    fi_code = FiCode(metadata={"description": "only the lines about this record"})


class IssueArgs(_IssueFilters, PageArgs):
    pass


class IssueExportArgs(_IssueFilters, ExportArgs):
    pass


# --- answers ------------------------------------------------------------------------------------


class InstitutionSummarySchema(ma.Schema):
    fi_code = ma.fields.String(metadata={"example": "C1010232000123"})
    name = ma.fields.String(metadata={"example": "中国工商银行股份有限公司南京新街口支行"})
    short_name = ma.fields.String(allow_none=True)
    category = ma.fields.String(metadata={"enum": list(CATEGORIES)})
    level = ma.fields.String(metadata={"enum": list(LEVELS)})
    legal_entity_code = ma.fields.String()
    parent_code = ma.fields.String(allow_none=True)
    region_code = ma.fields.String(metadata={"example": "320102"})
    region_name = ma.fields.String(allow_none=True, metadata={"example": "江苏省南京市玄武区"})
    address = ma.fields.String(allow_none=True)
    phone = ma.fields.String(allow_none=True)
    status = ma.fields.String(metadata={"enum": list(STATUSES)})
    established_on = ma.fields.Date(allow_none=True)
    revoked_on = ma.fields.Date(allow_none=True)
    updated_at = ma.fields.DateTime()
    match = ma.fields.String(
        allow_none=True,
        metadata={
            "description": "with `q`: how the record matched, best first: "
            + ", ".join(("code", *MATCH_KINDS))
        },
    )


class InstitutionPageSchema(PageSchema):
    items = ma.fields.List(ma.fields.Nested(InstitutionSummarySchema))


class LinkSchema(ma.Schema):
    fi_code = ma.fields.String()
    known = ma.fields.Boolean(
        metadata={"description": "false: the code names no record (a broken reference)"}
    )
    in_jurisdiction = ma.fields.Boolean(
        metadata={"description": "false: outside your jurisdiction, only names and level shown"}
    )
    name = ma.fields.String(allow_none=True)
    short_name = ma.fields.String(allow_none=True)
    level = ma.fields.String(allow_none=True)
    region_code = ma.fields.String(allow_none=True, metadata={"description": "inside only"})
    status = ma.fields.String(allow_none=True, metadata={"description": "inside only"})


class ProvenanceSchema(ma.Schema):
    group = ma.fields.String(metadata={"enum": list(FIELD_GROUPS)})
    channel = ma.fields.String(allow_none=True, metadata={"enum": list(CHANNELS)})
    actor = ma.fields.String(allow_none=True)
    at = ma.fields.DateTime(allow_none=True)
    event_id = ma.fields.Integer(allow_none=True)
    confirmed = ma.fields.Boolean()
    confirmed_at = ma.fields.DateTime(allow_none=True)
    confirmed_by = ma.fields.String(allow_none=True)


class PhotoCountSchema(ma.Schema):
    published = ma.fields.Integer(metadata={"description": "shown to the public (at most 6)"})
    held = ma.fields.Integer(metadata={"description": "held for review"})


class ProfileSchema(ma.Schema):
    coord = ma.fields.String(metadata={"enum": list(COORD_SYSTEMS)})
    position = ma.fields.Nested(PositionSchema, allow_none=True)
    captured_in = ma.fields.String(
        allow_none=True, metadata={"description": "the system the position was captured in"}
    )
    accuracy_m = ma.fields.Float(allow_none=True)
    business_types = ma.fields.List(ma.fields.Nested(BusinessTypeSchema))
    opening_hours = ma.fields.Dict(allow_none=True)
    hours_text = ma.fields.String(allow_none=True, metadata={"example": "周一至周五 9:00-17:00"})
    phone = ma.fields.String(allow_none=True)
    service_links = ma.fields.List(ma.fields.Dict())
    photos = ma.fields.Nested(PhotoCountSchema)
    updated_at = ma.fields.DateTime()
    last_confirmed_at = ma.fields.DateTime(allow_none=True)
    provenance = ma.fields.List(
        ma.fields.Nested(ProvenanceSchema),
        metadata={"description": "per field group: who set it, how, when, confirmed when"},
    )


class UploadTaskSchema(ma.Schema):
    status = ma.fields.String(
        metadata={"enum": ["assigned", "in_progress", "submitted", "confirmed"]}
    )
    submitted_at = ma.fields.DateTime(allow_none=True)
    confirmed_at = ma.fields.DateTime(allow_none=True)
    confirmed_by = ma.fields.String(allow_none=True)


class InstitutionDetailSchema(InstitutionSummarySchema):
    postcode = ma.fields.String(allow_none=True)
    licence_no = ma.fields.String(allow_none=True)
    uscc = ma.fields.String(allow_none=True)
    batch_id = ma.fields.Integer(
        allow_none=True, metadata={"description": "the import batch that last changed it"}
    )
    created_at = ma.fields.DateTime()
    legal_entity = ma.fields.Nested(LinkSchema)
    parent = ma.fields.Nested(LinkSchema, allow_none=True)
    children_in_jurisdiction = ma.fields.Integer()
    profile = ma.fields.Nested(
        ProfileSchema, allow_none=True, metadata={"description": "null: not an outlet"}
    )
    upload_task = ma.fields.Nested(UploadTaskSchema, allow_none=True)


class AncestorsSchema(ma.Schema):
    fi_code = ma.fields.String()
    ancestors = ma.fields.List(
        ma.fields.Nested(LinkSchema),
        metadata={"description": "parent first, head office last"},
    )


class ChangeEventSchema(ma.Schema):
    id = ma.fields.Integer()
    at = ma.fields.DateTime()
    entity = ma.fields.String(metadata={"enum": ["institution", "outlet_profile"]})
    field_group = ma.fields.String(allow_none=True)
    channel = ma.fields.String(metadata={"enum": list(CHANNELS)})
    actor = ma.fields.String(metadata={"example": "staff:12"})
    batch_id = ma.fields.Integer(allow_none=True)
    published = ma.fields.Boolean(metadata={"description": "false: held for review"})
    before = ma.fields.Raw(allow_none=True)
    after = ma.fields.Raw(allow_none=True)


class ChangeEventPageSchema(PageSchema):
    items = ma.fields.List(ma.fields.Nested(ChangeEventSchema))


class LineCountSchema(ma.Schema):
    errors = ma.fields.Integer()
    warnings = ma.fields.Integer()


class BatchSchema(ma.Schema):
    id = ma.fields.Integer()
    kind = ma.fields.String(metadata={"enum": list(BATCH_KINDS)})
    source_name = ma.fields.String()
    source_sha256 = ma.fields.String()
    actor = ma.fields.String()
    outcome = ma.fields.String(metadata={"enum": list(BATCH_OUTCOMES)})
    started_at = ma.fields.DateTime()
    finished_at = ma.fields.DateTime(allow_none=True)
    declared_jurisdiction = ma.fields.String(
        allow_none=True,
        metadata={"description": "region prefix of a snapshot file; null: province-wide"},
    )
    covers_whole_batch = ma.fields.Boolean(
        metadata={"description": "true: your jurisdiction covers the batch (summary shown)"}
    )
    summary = ma.fields.Dict(
        allow_none=True,
        metadata={"description": "the batch-wide receipt summary; null unless covered"},
    )
    in_jurisdiction = ma.fields.Nested(
        LineCountSchema, metadata={"description": "receipt lines you may read"}
    )
    correction_due = ma.fields.Date(
        allow_none=True,
        metadata={
            "description": "corrections due (5 working days after the receipt, official "
            "holidays and swapped working days counted); null without errors of yours"
        },
    )


class BatchPageSchema(PageSchema):
    items = ma.fields.List(ma.fields.Nested(BatchSchema))


class ReceiptSchema(ma.Schema):
    errors = ma.fields.Integer()
    warnings = ma.fields.Integer()
    by_rule = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())
    unfiled = ma.fields.Integer(
        metadata={"description": "lines about no record (file, header): only when covered"}
    )
    changes = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Integer(),
        metadata={"description": "changes of this batch in your jurisdiction, by kind"},
    )


class BatchDetailSchema(BatchSchema):
    options = ma.fields.Dict()
    receipt = ma.fields.Nested(ReceiptSchema, metadata={"description": "within your jurisdiction"})


class IssueSchema(ma.Schema):
    id = ma.fields.Integer()
    row = ma.fields.Integer(allow_none=True, metadata={"description": "line of the file"})
    fi_code = ma.fields.String(allow_none=True)
    column = ma.fields.String(allow_none=True)
    rule_id = ma.fields.String(metadata={"example": "FLD-PHONE-FORMAT"})
    severity = ma.fields.String(metadata={"enum": list(SEVERITIES)})
    value = ma.fields.String(allow_none=True)
    message_zh = ma.fields.String()
    message_en = ma.fields.String()
    region_code = ma.fields.String(
        allow_none=True, metadata={"description": "jurisdiction the line is filed under"}
    )


class IssuePageSchema(PageSchema):
    items = ma.fields.List(ma.fields.Nested(IssueSchema))


# --- dict shapes ------------------------------------------------------------------------------


def institution_view(record: Institution, match: str | None = None) -> dict[str, Any]:
    """A record as `InstitutionSummarySchema` documents it."""
    return {
        "fi_code": record.fi_code,
        "name": record.name,
        "short_name": record.short_name,
        "category": record.category,
        "level": record.level,
        "legal_entity_code": record.legal_entity_code,
        "parent_code": record.parent_code,
        "region_code": record.region_code,
        "region_name": regions.full_name(record.region_code)
        if regions.get(record.region_code)
        else None,
        "address": record.address,
        "phone": record.phone,
        "status": record.status,
        "established_on": record.established_on,
        "revoked_on": record.revoked_on,
        "updated_at": record.updated_at,
        "match": match,
    }


def business_type_view(key: str) -> dict[str, Any]:
    known = BY_KEY.get(key)
    if known is None:  # a key retired from the vocabulary: still shown, never dropped
        return {"key": key, "label_zh": key, "label_en": key, "kind": "service"}
    return {"key": key, "label_zh": known.label_zh, "label_en": known.label_en, "kind": known.kind}


def event_view(event: ChangeEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "at": event.at,
        "entity": event.entity,
        "field_group": event.field_group,
        "channel": event.channel,
        "actor": event.actor,
        "batch_id": event.batch_id,
        "published": event.published,
        "before": event.before,
        "after": event.after,
    }


def issue_view(line: ImportIssue) -> dict[str, Any]:
    return {
        "id": line.id,
        "row": line.row_no,
        "fi_code": line.fi_code,
        "column": line.column_name,
        "rule_id": line.rule_id,
        "severity": line.severity,
        "value": line.value,
        "message_zh": line.message_zh,
        "message_en": line.message_en,
        "region_code": line.region_code,
    }


# --- export columns --------------------------------------------------------------------------

INSTITUTION_COLUMNS = (
    Column("fi_code", "金融机构编码 / fi_code"),
    Column("name", "名称 / name"),
    Column("short_name", "简称 / short name"),
    Column("category", "类别 / category"),
    Column("level", "层级 / level"),
    Column("legal_entity_code", "法人机构编码 / legal entity"),
    Column("parent_code", "上级机构编码 / parent"),
    Column("region_code", "行政区划代码 / region code"),
    Column("region_name", "行政区划 / region"),
    Column("address", "地址 / address"),
    Column("phone", "电话 / phone"),
    Column("status", "状态 / status"),
    Column("established_on", "成立日期 / established"),
    Column("revoked_on", "撤销日期 / revoked"),
    Column("updated_at", "更新时间 / updated"),
    Column("match", "匹配方式 / match"),
)

EVENT_COLUMNS = (
    Column("id", "编号 / id"),
    Column("at", "时间 / at"),
    Column("entity", "对象 / entity"),
    Column("field_group", "字段组 / field group"),
    Column("channel", "渠道 / channel"),
    Column("actor", "操作人 / actor"),
    Column("batch_id", "批次 / batch"),
    Column("published", "已生效 / published"),
    Column("before", "修改前 / before"),
    Column("after", "修改后 / after"),
)

BATCH_COLUMNS = (
    Column("id", "批次 / batch"),
    Column("kind", "类型 / kind"),
    Column("source_name", "文件 / file"),
    Column("source_sha256", "SHA-256"),
    Column("actor", "提交人 / actor"),
    Column("outcome", "结果 / outcome"),
    Column("started_at", "开始 / started"),
    Column("finished_at", "结束 / finished"),
    Column("declared_jurisdiction", "声明辖区 / declared jurisdiction"),
    Column("errors", "辖区内错误 / errors in jurisdiction"),
    Column("warnings", "辖区内警告 / warnings in jurisdiction"),
    Column("correction_due", "整改期限 / corrections due"),
)

ISSUE_COLUMNS = (
    Column("row", "行号 / row"),
    Column("fi_code", "金融机构编码 / fi_code"),
    Column("column", "字段 / column"),
    Column("rule_id", "规则 / rule"),
    Column("severity", "级别 / severity"),
    Column("value", "值 / value"),
    Column("message_zh", "说明 / message"),
    Column("message_en", "message (English)"),
    Column("region_code", "行政区划代码 / region code"),
)
