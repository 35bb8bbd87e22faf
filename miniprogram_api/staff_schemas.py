"""Schemas of the staff side of the mini-program: sign-in, binding, uploads."""

from __future__ import annotations

import marshmallow as ma
from flask_smorest.fields import Upload

from uploads.staff import CHECKED_GROUPS, TASK_STATUSES
from web.schemas import PhotoSchema


class LoginArgs(ma.Schema):
    code = ma.fields.String(
        required=True,
        validate=ma.validate.Length(1, 128, error="登录凭证长度不对 / code length"),
        metadata={"description": "the code `wx.login()` gave the mini-program (valid 5 minutes)"},
    )


class LoginSchema(ma.Schema):
    token = ma.fields.String(
        metadata={"description": "send as `Authorization: Bearer <token>`; shown once"}
    )
    expires_at = ma.fields.DateTime()
    staff_id = ma.fields.Integer()


class BindArgs(ma.Schema):
    code = ma.fields.String(
        required=True,
        validate=ma.validate.Length(1, 40, error="绑定码长度不对 / code length"),
        metadata={
            "description": "the outlet's one-time binding code, e.g. `K7Q3M-9XPAB` (case, "
            "spaces and dashes do not matter)",
            "example": "K7Q3M-9XPAB",
        },
    )


class TaskSchema(ma.Schema):
    fi_code = ma.fields.String(metadata={"example": "B0001H232010001"})
    name = ma.fields.String()
    short_name = ma.fields.String(allow_none=True)
    address = ma.fields.String(allow_none=True)
    status = ma.fields.String(metadata={"description": " → ".join(TASK_STATUSES)})
    missing = ma.fields.List(
        ma.fields.String(),
        metadata={"description": "still without a value: " + ", ".join(CHECKED_GROUPS)},
    )
    required_missing = ma.fields.List(
        ma.fields.String(), metadata={"description": "missing and needed before submitting"}
    )
    in_review = ma.fields.Integer(metadata={"description": "uploads held for review"})
    submitted_at = ma.fields.DateTime(allow_none=True)
    confirmed_at = ma.fields.DateTime(allow_none=True)


class UploadResultSchema(ma.Schema):
    fi_code = ma.fields.String()
    field_group = ma.fields.String()
    published = ma.fields.Boolean(
        metadata={"description": "false: held for review, the public does not see it yet"}
    )
    flags = ma.fields.List(ma.fields.String(), metadata={"description": "why it is held"})
    event_id = ma.fields.Integer(metadata={"description": "its change event (history, revert)"})
    review_id = ma.fields.Integer(allow_none=True)
    value = ma.fields.Raw(metadata={"description": "the value as stored"})


class PhotoUploadFiles(ma.Schema):
    photo = Upload(
        required=True,
        metadata={"description": "JPEG, PNG, WebP or HEIC; at most 10 MB, at least 200×200"},
    )


class PhotoUploadQuery(ma.Schema):
    front = ma.fields.Boolean(
        load_default=False, metadata={"description": "make it the front photo (门头照)"}
    )


class PhotoUploadSchema(PhotoSchema):
    published = ma.fields.Boolean()
    duplicate = ma.fields.Boolean(metadata={"description": "the outlet already had this photo"})
    flags = ma.fields.List(ma.fields.String())
    exif_distance_m = ma.fields.Float(
        allow_none=True,
        metadata={"description": "how far from the outlet the photo's EXIF says it was taken"},
    )
    event_id = ma.fields.Integer(allow_none=True)
    review_id = ma.fields.Integer(allow_none=True)


class PhotoChangeArgs(ma.Schema):
    front = ma.fields.Boolean(
        required=True, validate=ma.validate.Equal(True, error="只能设为门头照 / only true")
    )
