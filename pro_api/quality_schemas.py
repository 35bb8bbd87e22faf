"""Schemas of the pro API's data-quality reports (the OpenAPI document's words)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from core.coords import COORD_SYSTEMS
from pro_api.exports import ExportArgs
from pro_api.paging import PageArgs, PageSchema
from pro_api.report_filters import AreaArgs, PeriodArgs
from reports.quality import GROUPINGS, MEASURE_LABELS, SCORE_WEIGHTS, Coverage

_SEARCH = ma.fields.String(
    validate=ma.validate.Length(1, 100),
    metadata={"description": "only outlets whose name contains this text, taken literally"},
)


def _report_date(description: str, *, required: bool = False) -> ma.fields.Date:
    return ma.fields.Date(
        required=required, metadata={"description": description + " (YYYY-MM-DD, Asia/Shanghai)"}
    )


# --- coverage --------------------------------------------------------------------------------


class _CoverageFilter(AreaArgs):
    by = ma.fields.String(
        load_default="city",
        validate=ma.validate.OneOf(GROUPINGS),
        metadata={
            "description": "group by province / city / county (region-code prefix of 2, 4, "
            "6 digits) or legal_entity"
        },
    )


class CoverageArgs(PageArgs, _CoverageFilter):
    """`after`: the position of the last group of the previous page."""


class CoverageExportArgs(ExportArgs, _CoverageFilter):
    pass


class SharesSchema(ma.Schema):
    """Fractions 0-1 of the outlets (4 decimals); null for a group without outlets."""

    position = ma.fields.Float(allow_none=True)
    business_types = ma.fields.Float(allow_none=True)
    front_photo = ma.fields.Float(allow_none=True)
    hours = ma.fields.Float(allow_none=True)
    phone = ma.fields.Float(allow_none=True)
    confirmed = ma.fields.Float(allow_none=True)


class CoverageSchema(ma.Schema):
    key = ma.fields.String(
        metadata={"description": "region-code prefix, or legal entity fi_code", "example": "3201"}
    )
    name = ma.fields.String(allow_none=True, metadata={"example": "江苏省南京市"})
    outlets = ma.fields.Integer(metadata={"description": "active outlets"})
    with_position = ma.fields.Integer()
    with_business_types = ma.fields.Integer()
    with_front_photo = ma.fields.Integer(metadata={"description": "a published front photo"})
    with_hours = ma.fields.Integer()
    with_phone = ma.fields.Integer(metadata={"description": "the outlet's or the record's phone"})
    confirmed = ma.fields.Integer(
        metadata={"description": "every field group confirmed by the institution (核对确认)"}
    )
    shares = ma.fields.Nested(SharesSchema)
    score = ma.fields.Float(
        allow_none=True, metadata={"description": "completeness score 0-100, see /quality/ranking"}
    )


class CoveragePageSchema(PageSchema):
    by = ma.fields.String(metadata={"enum": list(GROUPINGS)})
    total = ma.fields.Nested(CoverageSchema, metadata={"description": "all groups together"})
    items = ma.fields.List(ma.fields.Nested(CoverageSchema))


def coverage_view(row: Coverage) -> dict[str, Any]:
    """A `Coverage` as `CoverageSchema` (and the coverage exports) show it."""
    return {
        "key": row.key,
        "name": row.name,
        "outlets": row.outlets,
        "with_position": row.counts["position"],
        "with_business_types": row.counts["business_types"],
        "with_front_photo": row.counts["front_photo"],
        "with_hours": row.counts["hours"],
        "with_phone": row.counts["phone"],
        "confirmed": row.counts["confirmed"],
        "shares": row.shares,
        "score": row.score,
    }


# --- ranking ---------------------------------------------------------------------------------


class _RankingFilter(AreaArgs):
    min_outlets = ma.fields.Integer(
        load_default=1,
        validate=ma.validate.Range(1, 1_000_000),
        metadata={"description": "only legal entities with at least this many active outlets"},
    )


class RankingArgs(PageArgs, _RankingFilter):
    """`after`: the position of the last row of the previous page."""


class RankingExportArgs(ExportArgs, _RankingFilter):
    pass


class RankedInstitutionSchema(CoverageSchema):
    rank = ma.fields.Integer(metadata={"description": "1 = best; equal scores share a rank"})
    open_reports = ma.fields.Integer(metadata={"description": "open public error reports"})
    verified_reports = ma.fields.Integer(metadata={"description": "verified (accepted) reports"})


SCORE_FORMULA = (
    "score = 100 × Σ weight × share / Σ weight; weights "
    + ", ".join(f"{m} {w}" for m, w in SCORE_WEIGHTS.items())
    + "（"
    + "、".join(f"{MEASURE_LABELS[m][0]} {w}" for m, w in SCORE_WEIGHTS.items())
    + "）"
)


class RankingPageSchema(PageSchema):
    weights = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Integer(),
        metadata={"description": SCORE_FORMULA, "example": dict(SCORE_WEIGHTS)},
    )
    items = ma.fields.List(ma.fields.Nested(RankedInstitutionSchema))


# --- not updated -----------------------------------------------------------------------------


class _NotUpdatedFilter(AreaArgs):
    since = _report_date("outlets not updated on or after this day", required=True)
    q = _SEARCH


class NotUpdatedArgs(PageArgs, _NotUpdatedFilter):
    pass


class NotUpdatedExportArgs(ExportArgs, _NotUpdatedFilter):
    pass


class _OutletSchema(ma.Schema):
    fi_code = ma.fields.String(metadata={"example": "C1010232000156"})
    name = ma.fields.String()
    region_code = ma.fields.String(metadata={"example": "320102"})
    region_name = ma.fields.String(allow_none=True, metadata={"example": "江苏省南京市玄武区"})
    legal_entity_code = ma.fields.String()


class NotUpdatedSchema(_OutletSchema):
    last_updated_at = ma.fields.DateTime(
        allow_none=True,
        metadata={
            "description": "last upload, import, pro-app update or confirmation; null: never"
        },
    )


class NotUpdatedPageSchema(PageSchema):
    items = ma.fields.List(ma.fields.Nested(NotUpdatedSchema))


# --- inaccurate ------------------------------------------------------------------------------


class _InaccurateFilter(AreaArgs):
    reports = ma.fields.String(
        load_default="any",
        validate=ma.validate.OneOf(("open", "verified", "any")),
        metadata={"description": "open, verified (accepted), or any of the two"},
    )
    since = _report_date("only reports made on or after this day")
    q = _SEARCH


class InaccurateArgs(PageArgs, _InaccurateFilter):
    pass


class InaccurateExportArgs(ExportArgs, _InaccurateFilter):
    pass


class InaccurateSchema(_OutletSchema):
    open_reports = ma.fields.Integer()
    verified_reports = ma.fields.Integer()
    kinds = ma.fields.List(
        ma.fields.String(), metadata={"description": "what the reports say is wrong"}
    )
    last_reported_at = ma.fields.DateTime()


class InaccuratePageSchema(PageSchema):
    items = ma.fields.List(ma.fields.Nested(InaccurateSchema))


# --- repeated verified errors ----------------------------------------------------------------


class _RepeatedFilter(AreaArgs, PeriodArgs):
    """The period counts reports by the day they were made."""

    threshold = ma.fields.Integer(
        load_default=2,
        validate=ma.validate.Range(2, 10_000),
        metadata={"description": "at least this many verified reports"},
    )


class RepeatedErrorsArgs(PageArgs, _RepeatedFilter):
    """`after`: the position of the last row of the previous page."""


class RepeatedErrorsExportArgs(ExportArgs, _RepeatedFilter):
    pass


class RepeatedErrorsSchema(ma.Schema):
    legal_entity_code = ma.fields.String()
    name = ma.fields.String(allow_none=True)
    verified_reports = ma.fields.Integer()
    outlets = ma.fields.Integer(metadata={"description": "institutions the reports were about"})
    last_reported_at = ma.fields.DateTime()


class RepeatedErrorsPageSchema(PageSchema):
    items = ma.fields.List(ma.fields.Nested(RepeatedErrorsSchema))


# --- the map ---------------------------------------------------------------------------------


def _bound(name: str, low: float, high: float) -> ma.fields.Float:
    return ma.fields.Float(
        required=True,
        allow_nan=False,
        validate=ma.validate.Range(low, high),
        metadata={"description": f"{name} of the map's box, in `coord`"},
    )


class MapArgs(AreaArgs):
    min_lat = _bound("south edge", -90, 90)
    min_lng = _bound("west edge", -180, 180)
    max_lat = _bound("north edge", -90, 90)
    max_lng = _bound("east edge", -180, 180)
    zoom = ma.fields.Integer(
        required=True,
        validate=ma.validate.Range(1, 20),
        metadata={"description": "the web map's zoom: below 13 outlets are grouped in cells"},
    )
    coord = ma.fields.String(
        load_default="wgs84",
        validate=ma.validate.OneOf(COORD_SYSTEMS),
        metadata={"description": "coordinate system of the box and of the answer's positions"},
    )

    @ma.validates_schema
    def _ordered(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("max_lat", 0) < data.get("min_lat", 0):
            raise ma.ValidationError("北边界小于南边界 / max_lat < min_lat", field_name="max_lat")
        if data.get("max_lng", 0) < data.get("min_lng", 0):
            raise ma.ValidationError("东边界小于西边界 / max_lng < min_lng", field_name="max_lng")


class MapPointSchema(ma.Schema):
    lat = ma.fields.Float()
    lng = ma.fields.Float()
    outlets = ma.fields.Integer(metadata={"description": "1: one outlet; more: a grid cell"})
    score = ma.fields.Float(metadata={"description": "mean completeness score, 0-100"})
    fi_code = ma.fields.String(allow_none=True, metadata={"description": "for one outlet"})
    name = ma.fields.String(allow_none=True, metadata={"description": "for one outlet"})


class MapSchema(ma.Schema):
    coord = ma.fields.String()
    cell_deg = ma.fields.Float(
        allow_none=True, metadata={"description": "grid cell in degrees; null: single outlets"}
    )
    items = ma.fields.List(ma.fields.Nested(MapPointSchema))
