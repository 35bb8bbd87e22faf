"""Marshmallow schemas of the open data API: what the OpenAPI document says, checked.

Records are `open_data.records`' (WGS-84 positions); a feed cursor is
`open_data.feed.Cursor` as text ("<xid>-<event id>").
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from open_data.feed import KINDS, MAX_LIMIT, START, Cursor, CursorError
from open_data.records import COLUMN_DOCS


class FeedCursor(ma.fields.String):
    """A change feed cursor; a malformed one is a 422 naming the parameter."""

    def _deserialize(  # type: ignore[override]  # the parsed cursor
        self, value: Any, attr: Any, data: Any, **kwargs: Any
    ) -> Cursor:
        try:
            return Cursor.parse(super()._deserialize(value, attr, data, **kwargs))
        except CursorError as exc:
            raise ma.ValidationError(str(exc)) from exc


class ChangesArgs(ma.Schema):
    since = FeedCursor(
        load_default=START,
        metadata={
            "description": (
                "从此游标之后读取：导出清单的 cursor，或上一页的 next_cursor；省略则从头开始 / "
                "read after this cursor: the export manifest's `cursor` or the previous page's "
                "`next_cursor`; omitted, from the first event"
            ),
            "example": "0-0",
        },
    )
    limit = ma.fields.Integer(
        load_default=MAX_LIMIT,
        validate=ma.validate.Range(1, MAX_LIMIT, error=f"每页条数应在 1 到 {MAX_LIMIT} 之间"),
        metadata={"description": f"events per page, 1-{MAX_LIMIT}"},
    )


def _doc(name: str) -> dict[str, str]:
    return {"description": COLUMN_DOCS[name]}


class OutletRecordSchema(ma.Schema):
    """One outlet's public record: the export's JSON Lines line, the feed's `record`."""

    fi_code = ma.fields.String(required=True, metadata=_doc("fi_code"))
    name = ma.fields.String(required=True, metadata=_doc("name"))
    short_name = ma.fields.String(allow_none=True, metadata=_doc("short_name"))
    category = ma.fields.String(required=True, metadata=_doc("category"))
    legal_entity_code = ma.fields.String(required=True, metadata=_doc("legal_entity_code"))
    region_code = ma.fields.String(required=True, metadata=_doc("region_code"))
    address = ma.fields.String(allow_none=True, metadata=_doc("address"))
    phone = ma.fields.String(allow_none=True, metadata=_doc("phone"))
    latitude = ma.fields.Float(required=True, metadata=_doc("latitude"))
    longitude = ma.fields.Float(required=True, metadata=_doc("longitude"))
    business_types = ma.fields.List(
        ma.fields.String(), required=True, metadata=_doc("business_types")
    )
    opening_hours = ma.fields.Raw(allow_none=True, metadata=_doc("opening_hours"))


class ChangeSchema(ma.Schema):
    cursor = ma.fields.String(
        required=True, metadata={"description": "this event's place in the feed"}
    )
    event_id = ma.fields.Integer(required=True, metadata={"description": "the change event"})
    fi_code = ma.fields.String(required=True)
    kind = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(KINDS),
        metadata={
            "description": (
                "new 新增（登记、首次有位置或恢复）/ moved 位置变更 / changed 其他公开字段变更 / "
                "revoked 撤销或不再公开（record 为 null，请删除）"
            )
        },
    )
    changed_fields = ma.fields.List(  # `fields` is Schema's own attribute
        ma.fields.String(),
        attribute="fields",
        data_key="fields",
        required=True,
        metadata={"description": "the public fields the event changed (record field names)"},
    )
    at = ma.fields.String(
        required=True,
        metadata={"format": "date-time", "description": "when the change was made (ISO 8601)"},
    )
    record = ma.fields.Nested(
        OutletRecordSchema,
        allow_none=True,
        required=True,
        metadata={
            "description": (
                "网点当前的公开记录；null 表示已不公开 / the outlet's public record as it is now "
                "(replace your copy with it); null: no longer public (delete your copy)"
            )
        },
    )


class ChangePageSchema(ma.Schema):
    coord = ma.fields.String(required=True, metadata={"description": "always wgs84"})
    items = ma.fields.List(ma.fields.Nested(ChangeSchema), required=True)
    next_cursor = ma.fields.String(
        required=True, metadata={"description": "pass as `since` for the next page"}
    )
    more = ma.fields.Boolean(
        required=True,
        metadata={"description": "the page is full: ask again at once; false: caught up, poll"},
    )


class FileEntrySchema(ma.Schema):
    name = ma.fields.String(required=True, metadata={"description": "GET /files/{name}"})
    format = ma.fields.String(required=True, metadata={"description": "csv, geojson or jsonl"})
    media_type = ma.fields.String(required=True, metadata={"description": "inside the gzip"})
    content_encoding = ma.fields.String(required=True, metadata={"description": "gzip"})
    count = ma.fields.Integer(required=True, metadata={"description": "outlets in the file"})
    bytes = ma.fields.Integer(required=True, metadata={"description": "the gzipped size"})
    sha256 = ma.fields.String(
        required=True, metadata={"description": "of the gzipped bytes; the file's ETag"}
    )
    url = ma.fields.String(required=True, metadata={"description": "where to download it"})


class ColumnSchema(ma.Schema):
    name = ma.fields.String(required=True)
    description = ma.fields.String(required=True)


class ManifestSchema(ma.Schema):
    format_version = ma.fields.Integer(required=True)
    generated_at = ma.fields.String(
        required=True, metadata={"description": "when the snapshot was taken (UTC, ISO 8601)"}
    )
    data_version = ma.fields.Integer(
        required=True, metadata={"description": "the public data's version at the snapshot"}
    )
    cursor = ma.fields.String(
        required=True,
        metadata={
            "description": (
                "变更订阅的起点：以此为 since 读取 /changes 并依次应用 / the change feed cursor "
                "of the snapshot: read /changes?since= this and apply the items in order"
            )
        },
    )
    coord = ma.fields.String(required=True, metadata={"description": "always wgs84"})
    count = ma.fields.Integer(required=True, metadata={"description": "outlets in each file"})
    files = ma.fields.List(ma.fields.Nested(FileEntrySchema), required=True)
    columns = ma.fields.List(
        ma.fields.Nested(ColumnSchema),
        required=True,
        metadata={"description": "the records' fields, in the CSV's column order"},
    )
