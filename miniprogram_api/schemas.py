"""Marshmallow schemas of the public finder: what the OpenAPI document says, checked.

Coordinates: every endpoint that takes or returns a position has `coord`
(gcj02 by default, the system of WeChat's map and `wx.getLocation({type:
'gcj02'})`), and echoes it in the answer. Validation errors name the parameter
(webargs puts them under `errors.query.<name>`), with Chinese messages for the
public.
"""

from __future__ import annotations

import base64
import binascii
import json
from functools import lru_cache
from typing import Any

import marshmallow as ma

from core.coords import COORD_SYSTEMS
from core.models.registry import OUTLET_KINDS
from geo.search import MAX_LIMIT, MAX_RADIUS_M
from profiles.business_types import BY_KEY
from registry.codes import CATEGORIES
from web.schemas import BusinessTypeSchema, PhotoSchema, PositionSchema

MAX_OFFSET = 1000  # deeper paging is not a finder's job; narrow the search instead


def _list_of(values: list[str]) -> list[str]:
    """Accept repeated parameters and comma-separated lists alike."""
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


class CommaList(ma.fields.List):  # type: ignore[type-arg]
    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> list[Any]:
        values = value if isinstance(value, list) else [value]
        return super()._deserialize(_list_of([str(v) for v in values]), attr, data, **kwargs)


@lru_cache(maxsize=MAX_OFFSET + MAX_LIMIT + 1)  # every offset a page can end at
def encode_cursor(offset: int) -> str:
    """The opaque next_cursor for an offset; cached, as most pages of results have a next."""
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        offset = data["o"]
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise ma.ValidationError("无效的分页游标 / malformed cursor") from exc
    if not isinstance(offset, int) or not 0 <= offset <= MAX_OFFSET:
        raise ma.ValidationError("无效的分页游标 / malformed cursor")
    return offset


class Cursor(ma.fields.String):
    def _deserialize(  # type: ignore[override]  # the decoded cursor is an offset
        self, value: Any, attr: Any, data: Any, **kwargs: Any
    ) -> int:
        return decode_cursor(super()._deserialize(value, attr, data, **kwargs))


def _known_business_type(value: str) -> None:
    if value not in BY_KEY:
        raise ma.ValidationError(f"未知的业务类型 {value} / unknown business type")


COORD_FIELD = ma.fields.String(
    load_default="gcj02",
    validate=ma.validate.OneOf(COORD_SYSTEMS, error="坐标系应为 wgs84、gcj02 或 bd09"),
    metadata={"description": "coordinate system of lat/lng in and out (gcj02 for WeChat maps)"},
)


class CoordArgs(ma.Schema):
    coord = COORD_FIELD


def _category_list() -> CommaList:
    return CommaList(
        ma.fields.String(
            validate=ma.validate.OneOf(
                CATEGORIES, error="未知的机构类别 {input} / unknown category: one of {choices}"
            )
        ),
        load_default=list,
        metadata={"description": f"institution categories, any of: {', '.join(CATEGORIES)}"},
    )


# The fields of OutletSummarySchema, which `fields` may choose among (fi_code always comes).
SUMMARY_FIELDS = (
    "fi_code",
    "name",
    "short_name",
    "category",
    "legal_entity_code",
    "address",
    "phone",
    "position",
    "distance_m",
    "business_types",
    "open_now",
    "hours_verified",
    "kind",
    "facilities",
    "parent_fi_code",
    "parts",
)
FORMATS = ("json", "geojson")
SORTS = ("distance", "name", "-updated_at")
GEOJSON = "application/geo+json"


def _kind_list(default: tuple[str, ...], described: str) -> CommaList:
    return CommaList(
        ma.fields.String(
            validate=ma.validate.OneOf(
                OUTLET_KINDS, error="未知的网点类型 {input} / unknown kind: one of {choices}"
            )
        ),
        load_default=lambda: list(default),
        metadata={
            "description": "kinds of outlet, any of: branch (营业网点), self_service "
            f"(自助银行), atm (ATM); {described}"
        },
    )


# Lists answer branches unless asked (what they answered before ATMs, and a branch with
# its ATMs at one distance would fill a page thrice); the map shows every kind, one pin
# per address (geo.clusters).
LIST_KINDS = ("branch",)


class FilterArgs(ma.Schema):
    category = _category_list()
    institution = CommaList(
        ma.fields.String(
            validate=ma.validate.Regexp(r"^[A-Z][0-9]{13}$", error="应为 14 位金融机构编码")
        ),
        load_default=list,
        metadata={"description": "legal entities (their head-office fi_code), see /institutions"},
    )
    business_type = CommaList(
        ma.fields.String(validate=_known_business_type),
        load_default=list,
        metadata={
            "description": "business types and facilities the outlet must all offer, "
            "see /business-types"
        },
    )
    region = ma.fields.String(
        validate=ma.validate.Regexp(r"^[0-9]{2,6}$", error="应为 2–6 位行政区划代码前缀"),
        metadata={"description": "region-code prefix, e.g. 3201 for Nanjing"},
    )
    open_now = ma.fields.Boolean(
        load_default=False, metadata={"description": "only outlets open right now (Asia/Shanghai)"}
    )
    limit = ma.fields.Integer(
        load_default=20, validate=ma.validate.Range(1, MAX_LIMIT, error=f"应在 1–{MAX_LIMIT} 之间")
    )
    cursor = Cursor(metadata={"description": "next_cursor of the previous page"})
    chosen_fields = CommaList(
        ma.fields.String(
            validate=ma.validate.OneOf(
                SUMMARY_FIELDS, error="未知的字段 {input} / unknown field: one of {choices}"
            )
        ),
        data_key="fields",  # not an attribute: a Schema's `fields` are its own
        load_default=list,
        metadata={
            "description": "only these fields of each outlet (fi_code always), e.g. "
            f"name,position,open_now; any of: {', '.join(SUMMARY_FIELDS)}"
        },
    )
    format = ma.fields.String(
        validate=ma.validate.OneOf(FORMATS, error="格式应为 json 或 geojson / json or geojson"),
        metadata={
            "description": "geojson: an RFC 7946 FeatureCollection (as `Accept: "
            f"{GEOJSON}` asks), in WGS-84 unless `coord` is given"
        },
    )


class NearbyArgs(FilterArgs):
    kind = _kind_list(LIST_KINDS, "default branch; e.g. atm,self_service for cash machines")
    lat = ma.fields.Float(
        required=True,
        validate=ma.validate.Range(-90, 90, error="纬度超出范围"),
        metadata={"example": 32.039452},
    )
    lng = ma.fields.Float(
        required=True,
        validate=ma.validate.Range(-180, 180, error="经度超出范围"),
        metadata={"example": 118.783309},
    )
    coord = COORD_FIELD
    radius_m = ma.fields.Float(
        load_default=5000,
        validate=ma.validate.Range(1, MAX_RADIUS_M, error=f"半径应在 1–{MAX_RADIUS_M} 米之间"),
    )
    sort = ma.fields.String(
        load_default="distance",
        validate=ma.validate.OneOf(SORTS, error="排序应为 {choices} 之一 / sort: one of {choices}"),
        metadata={
            "description": "distance (nearest first), name, or -updated_at (latest changed "
            "first); name and -updated_at sort every outlet within radius_m"
        },
    )


class ViewportArgs(FilterArgs):
    kind = _kind_list((), "default every kind")
    min_lat = ma.fields.Float(required=True, validate=ma.validate.Range(-90, 90))
    min_lng = ma.fields.Float(required=True, validate=ma.validate.Range(-180, 180))
    max_lat = ma.fields.Float(required=True, validate=ma.validate.Range(-90, 90))
    max_lng = ma.fields.Float(required=True, validate=ma.validate.Range(-180, 180))
    coord = COORD_FIELD
    zoom = ma.fields.Integer(
        load_default=12,
        validate=ma.validate.Range(3, 20, error="缩放级别应在 3–20 之间"),
        metadata={"description": "map zoom level, as in WeChat's <map> component"},
    )

    @ma.validates_schema
    def _corners(self, data: dict[str, Any], **_: Any) -> None:
        if data["min_lat"] > data["max_lat"] or data["min_lng"] > data["max_lng"]:
            raise ma.ValidationError("min_lat/min_lng 应小于 max_lat/max_lng", "min_lat")


class TextSearchArgs(FilterArgs):
    kind = _kind_list(LIST_KINDS, "default branch")
    q = ma.fields.String(
        required=True,
        validate=ma.validate.Length(1, 50, error="搜索词应为 1–50 个字符"),
        metadata={"example": "新街口"},
    )
    lat = ma.fields.Float(validate=ma.validate.Range(-90, 90, error="纬度超出范围"))
    lng = ma.fields.Float(validate=ma.validate.Range(-180, 180, error="经度超出范围"))
    coord = COORD_FIELD
    sort = ma.fields.String(
        validate=ma.validate.OneOf(SORTS, error="排序应为 {choices} 之一 / sort: one of {choices}"),
        metadata={
            "description": "distance (needs lat/lng), name, or -updated_at; by default "
            "nearest first with lat/lng, else the best matches first"
        },
    )

    @ma.validates_schema
    def _both(self, data: dict[str, Any], **_: Any) -> None:
        if ("lat" in data) != ("lng" in data):
            raise ma.ValidationError("lat 与 lng 需同时提供", "lat" if "lat" not in data else "lng")
        if data.get("sort") == "distance" and "lat" not in data:
            raise ma.ValidationError(
                "按距离排序需提供 lat 与 lng / sort=distance needs lat", "sort"
            )


class FacilitiesSchema(ma.Schema):
    cash_out = ma.fields.Boolean(metadata={"description": "取款"})
    cash_in = ma.fields.Boolean(metadata={"description": "存款"})
    foreign_currency = ma.fields.Boolean(metadata={"description": "外币取款"})
    open_24h = ma.fields.Boolean(metadata={"description": "24 小时"})


class PartSchema(ma.Schema):
    """Another outlet at a pin's position (an ATM in the branch)."""

    fi_code = ma.fields.String()
    name = ma.fields.String()
    kind = ma.fields.String()
    facilities = ma.fields.Nested(FacilitiesSchema, allow_none=True)
    business_types = ma.fields.List(ma.fields.String())
    open_now = ma.fields.Boolean(allow_none=True)


class OutletSummarySchema(ma.Schema):
    fi_code = ma.fields.String(metadata={"example": "C1010232000123"})
    name = ma.fields.String(metadata={"example": "中国工商银行股份有限公司南京新街口支行"})
    short_name = ma.fields.String(allow_none=True)
    category = ma.fields.String(metadata={"example": "bank"})
    legal_entity_code = ma.fields.String()
    address = ma.fields.String(allow_none=True)
    phone = ma.fields.String(allow_none=True)
    position = ma.fields.Nested(PositionSchema, metadata={"description": "in the `coord` system"})
    distance_m = ma.fields.Float(allow_none=True, metadata={"description": "from the given point"})
    business_types = ma.fields.List(ma.fields.String())
    open_now = ma.fields.Boolean(allow_none=True)
    hours_verified = ma.fields.Boolean(
        metadata={"description": "false when the holiday calendar has no data for today"}
    )
    kind = ma.fields.String(
        metadata={"description": "branch (营业网点), self_service (自助银行) or atm (ATM)"}
    )
    facilities = ma.fields.Nested(
        FacilitiesSchema,
        allow_none=True,
        metadata={"description": "what a self-service point's machines do; null for a branch"},
    )
    parent_fi_code = ma.fields.String(
        allow_none=True,
        metadata={
            "description": "a self-service point's branch (the one it belongs to or "
            "stands in); null for a branch"
        },
    )
    parts = ma.fields.List(
        ma.fields.Nested(PartSchema),
        metadata={
            "description": "viewport only: the other outlets at exactly this position "
            "(one pin per address: a branch and the ATMs in it); empty in other lists"
        },
    )


class OutletPageSchema(ma.Schema):
    coord = ma.fields.String(metadata={"example": "gcj02"})
    items = ma.fields.List(ma.fields.Nested(OutletSummarySchema))
    next_cursor = ma.fields.String(allow_none=True)


class ClusterSchema(ma.Schema):
    count = ma.fields.Integer()
    kinds = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Integer(),
        metadata={
            "description": "outlets of each kind in the cluster",
            "example": {"branch": 12, "self_service": 3, "atm": 25},
        },
    )
    position = ma.fields.Nested(PositionSchema, metadata={"description": "centre of the outlets"})


class ViewportSchema(ma.Schema):
    coord = ma.fields.String()
    total = ma.fields.Integer(
        metadata={"description": "outlets in the viewport, every pin's parts included"}
    )
    mode = ma.fields.String(metadata={"description": "outlets (few) or clusters (many)"})
    items = ma.fields.List(
        ma.fields.Nested(OutletSummarySchema),
        metadata={
            "description": "one per pin: outlets at one exact position (a branch and "
            "the ATMs in it) are one item, the others in its `parts`"
        },
    )
    clusters = ma.fields.List(ma.fields.Nested(ClusterSchema))


class ServiceLinkSchema(ma.Schema):
    kind = ma.fields.String(metadata={"example": "queue"})
    label = ma.fields.String(allow_none=True)
    url = ma.fields.String(allow_none=True)
    appid = ma.fields.String(allow_none=True)
    path = ma.fields.String(allow_none=True)


class LegalEntitySchema(ma.Schema):
    fi_code = ma.fields.String(metadata={"example": "C1010211000012"})
    name = ma.fields.String(metadata={"example": "中国工商银行股份有限公司"})
    short_name = ma.fields.String(allow_none=True)
    category = ma.fields.String()


class RegionSchema(ma.Schema):
    code = ma.fields.String(metadata={"example": "320102"})
    name = ma.fields.String(metadata={"example": "玄武区"})
    full_name = ma.fields.String(metadata={"example": "江苏省南京市玄武区"})
    level = ma.fields.String()
    centre = ma.fields.Nested(
        PositionSchema,
        allow_none=True,
        metadata={
            "description": "where its outlets cluster (the district seat or old town), in "
            "`coord`: a place to search from when the user's position is unknown"
        },
    )


class SpecialDaySchema(ma.Schema):
    date = ma.fields.Date()
    kind = ma.fields.String(metadata={"description": "holiday, makeup_workday or exception"})
    name = ma.fields.String(allow_none=True, metadata={"example": "国庆节"})
    intervals = ma.fields.List(
        ma.fields.List(ma.fields.String()),
        metadata={"description": "[[open, close], ...] local time; empty: closed"},
    )
    verified = ma.fields.Boolean(
        metadata={"description": "false when the year's holiday schedule is not known yet"}
    )


class NavigationSchema(ma.Schema):
    """Links that open a map app at the outlet, each in the coordinate system it reads."""

    tencent = ma.fields.String(metadata={"description": "Tencent Maps (GCJ-02)"})
    amap = ma.fields.String(metadata={"description": "Amap / 高德地图 (GCJ-02)"})
    baidu = ma.fields.String(metadata={"description": "Baidu Maps (BD-09)"})
    wechat = ma.fields.Nested(
        PositionSchema, metadata={"description": "for wx.openLocation inside WeChat (GCJ-02)"}
    )


class HoursSchema(ma.Schema):
    text = ma.fields.String(metadata={"example": "Mo-Fr 09:00-17:00; Sa,Su 09:00-16:00"})
    weekly = ma.fields.Dict(metadata={"description": "mo..su → [[open, close], ...] local time"})
    public_holidays = ma.fields.String()
    exceptions = ma.fields.List(ma.fields.Dict())


class OutletDetailSchema(OutletSummarySchema):
    legal_entity = ma.fields.Nested(LegalEntitySchema)
    region = ma.fields.Nested(RegionSchema)
    business_type_labels = ma.fields.List(ma.fields.Nested(BusinessTypeSchema))
    hours = ma.fields.Nested(HoursSchema, allow_none=True)
    closes_at = ma.fields.DateTime(allow_none=True)
    opens_next_at = ma.fields.DateTime(allow_none=True)
    photos = ma.fields.List(
        ma.fields.Nested(PhotoSchema), metadata={"description": "front photo first"}
    )
    service_links = ma.fields.List(ma.fields.Nested(ServiceLinkSchema))
    last_confirmed_at = ma.fields.DateTime(allow_none=True)
    coord = ma.fields.String()
    navigation = ma.fields.Nested(
        NavigationSchema, allow_none=True, metadata={"description": "none without a position"}
    )
    special_days = ma.fields.List(
        ma.fields.Nested(SpecialDaySchema),
        metadata={
            "description": "coming days (today included, 60 days ahead) whose hours are not "
            "the week's: official holidays, make-up working days, the outlet's own exceptions"
        },
    )


class InstitutionArgs(ma.Schema):
    category = _category_list()


class RegionArgs(ma.Schema):
    coord = COORD_FIELD
    parent = ma.fields.String(
        load_default="320000",
        validate=ma.validate.Regexp(r"^[0-9]{6}$", error="应为 6 位行政区划代码"),
        metadata={"description": "list the regions under this one (default Jiangsu 320000)"},
    )


class PointGeometrySchema(ma.Schema):
    type = ma.fields.String(metadata={"example": "Point"})
    coordinates = ma.fields.List(
        ma.fields.Float(), metadata={"description": "[longitude, latitude], as RFC 7946 orders"}
    )


class FeatureSchema(ma.Schema):
    type = ma.fields.String(metadata={"example": "Feature"})
    id = ma.fields.String(metadata={"description": "fi_code (absent for a cluster)"})
    geometry = ma.fields.Nested(PointGeometrySchema)
    properties = ma.fields.Dict(
        metadata={
            "description": "an outlet's fields but its position (as in the JSON list), or, "
            "for a cluster, {cluster: true, count, kinds}"
        }
    )


class FeatureCollectionSchema(ma.Schema):
    """RFC 7946 FeatureCollection; `coord`, `next_cursor`, `total`, `mode` are foreign
    members (RFC 7946, 6.1)."""

    type = ma.fields.String(metadata={"example": "FeatureCollection"})
    features = ma.fields.List(ma.fields.Nested(FeatureSchema))
    coord = ma.fields.String(
        metadata={"description": "wgs84 as the RFC says, unless coord= asked for another"}
    )
    next_cursor = ma.fields.String(allow_none=True)
    total = ma.fields.Integer()
    mode = ma.fields.String()
