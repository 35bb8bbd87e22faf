"""What more than one API speaks: a position, a business type, a photo, and the arguments of
an upload of one field group (the mini-program's staff and the professional app's updates
send the same values, checked the same way).
"""

from __future__ import annotations

import marshmallow as ma

from core.coords import COORD_SYSTEMS
from profiles.business_types import BY_KEY
from web.public_blueprint import MP_PREFIX


class PositionSchema(ma.Schema):
    lat = ma.fields.Float(metadata={"example": 32.039452})
    lng = ma.fields.Float(metadata={"example": 118.783309})


class BusinessTypeSchema(ma.Schema):
    key = ma.fields.String(metadata={"example": "foreign_exchange"})
    label_zh = ma.fields.String(metadata={"example": "外币兑换"})
    label_en = ma.fields.String(metadata={"example": "Foreign currency exchange"})
    kind = ma.fields.String(metadata={"description": "service or facility"})


class PhotoSchema(ma.Schema):
    key = ma.fields.String(metadata={"description": "sha256 of the stored JPEG"})
    front = ma.fields.Boolean(metadata={"description": "the front photo (门头照)"})
    width = ma.fields.Integer()
    height = ma.fields.Integer()
    uploaded_at = ma.fields.DateTime()
    url = ma.fields.String(metadata={"description": "JPEG, long side at most 2048 px"})
    thumbnail_url = ma.fields.String(metadata={"description": "JPEG, long side 320 px"})


def _range(low: float, high: float, zh: str) -> ma.validate.Range:
    return ma.validate.Range(low, high, error=f"{zh}应在 {low:g} 到 {high:g} 之间 / out of range")


class PositionUploadArgs(ma.Schema):
    lat = ma.fields.Float(required=True, validate=_range(-90, 90, "纬度"))
    lng = ma.fields.Float(required=True, validate=_range(-180, 180, "经度"))
    coord = ma.fields.String(
        load_default="gcj02",
        validate=ma.validate.OneOf(COORD_SYSTEMS, error="坐标系应为 wgs84、gcj02 或 bd09"),
        metadata={"description": "gcj02 from `wx.getLocation` / `wx.chooseLocation`"},
    )
    accuracy_m = ma.fields.Float(
        load_default=None,
        allow_none=True,
        metadata={"description": "the fix's accuracy in metres (`wx.getLocation().accuracy`)"},
    )


def _known(value: str) -> None:
    if value not in BY_KEY:
        raise ma.ValidationError(f"未知的业务类型 {value} / unknown business type")


class BusinessTypesUploadArgs(ma.Schema):
    business_types = ma.fields.List(
        ma.fields.String(validate=_known),
        required=True,
        validate=ma.validate.Length(max=len(BY_KEY)),
        metadata={
            "description": "every business type and facility the outlet offers "
            "(keys of /business-types); replaces the list"
        },
    )


class HoursUploadArgs(ma.Schema):
    text = ma.fields.String(
        load_default=None,
        metadata={
            "description": "hours in the text format, e.g. `Mo-Fr 09:00-17:00; Sa 09:00-12:00`"
        },
    )
    hours = ma.fields.Dict(
        load_default=None,
        metadata={"description": "or the structured form of /outlets/{fi_code} `hours`"},
    )

    @ma.validates_schema
    def _one_of(self, data: dict[str, object], **_: object) -> None:
        if (data.get("text") is None) == (data.get("hours") is None):
            raise ma.ValidationError("请提供 text 或 hours 之一 / give text or hours", "text")


class PhoneUploadArgs(ma.Schema):
    phone = ma.fields.String(
        required=True,
        validate=ma.validate.Length(1, 100, error="电话长度不对 / phone length"),
        metadata={"example": "025-84571234"},
    )


# The photos are served by `miniprogram_api.photos`, under the mini-program's prefix.
def photo_urls(key: str) -> dict[str, str]:
    base = f"{MP_PREFIX}/photos/{key}"
    return {"url": f"{base}/original.jpg", "thumbnail_url": f"{base}/thumb.jpg"}
