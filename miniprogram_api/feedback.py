"""Public error reports on outlets and general feedback (信息纠错 / 意见反馈).

A thin HTTP layer: the schemas document and check the shape, `feedback.submissions`
validates and stores, `core.ratelimit` counts each client's submissions in
the database. The public reads `message`, so every refusal here carries a
Chinese one; `errors` names the fields as webargs does (`json.<field>`).
"""

from __future__ import annotations

from typing import Any, NoReturn

import marshmallow as ma
from flask import current_app
from flask.views import MethodView
from flask_smorest import abort
from flask_smorest.error_handler import ErrorSchema

from core.config import Config
from core.coords import COORD_SYSTEMS
from core.models.feedback import (
    FEEDBACK_KINDS,
    MAX_COMMENT,
    MAX_CONTACT,
    MAX_TEXT,
    REPORT_KINDS,
    Feedback,
)
from core.ratelimit import TOO_MANY_MESSAGE
from feedback.submissions import (
    FEEDBACK_KIND_LABELS,
    MAX_EMPLOYER_NAME,
    MAX_STAFF_NAME,
    REPORT_KIND_LABELS,
    FeedbackError,
    SuggestedPosition,
    UnknownOutlet,
    report_error,
    submit_feedback,
)
from web.extensions import db_session
from web.public_blueprint import INVALID_MESSAGE, PublicBlueprint
from web.ratelimit import limit_current_client

blp = PublicBlueprint(
    "feedback",
    __name__,
    description="公众版：信息纠错与意见反馈 / Public error reports and feedback",
)


def _labels(labels: dict[str, str]) -> str:
    return "; ".join(f"`{key}` {label}" for key, label in labels.items())


def _length(max_len: int) -> ma.validate.Length:
    return ma.validate.Length(max=max_len, error=f"不能超过 {max_len} 个字 / at most {{max}}")


class SuggestedPositionSchema(ma.Schema):
    lat = ma.fields.Float(
        required=True,
        validate=ma.validate.Range(
            -90, 90, error="纬度应在 -90 到 90 之间 / latitude out of range"
        ),
        metadata={"title": "纬度", "description": "latitude in `coord`", "example": 32.041544},
    )
    lng = ma.fields.Float(
        required=True,
        validate=ma.validate.Range(
            -180, 180, error="经度应在 -180 到 180 之间 / longitude out of range"
        ),
        metadata={"title": "经度", "description": "longitude in `coord`", "example": 118.784355},
    )
    coord = ma.fields.String(
        load_default="gcj02",
        validate=ma.validate.OneOf(
            COORD_SYSTEMS, error="坐标系应为 wgs84、gcj02 或 bd09 / coord must be one of {choices}"
        ),
        metadata={
            "title": "坐标系",
            "description": "coordinate system of lat/lng; gcj02 for WeChat maps "
            "(`wx.getLocation({type: 'gcj02'})`); stored converted to WGS-84",
            "example": "gcj02",
        },
    )


class ErrorReportArgs(ma.Schema):
    kind = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(
            REPORT_KINDS, error="纠错类型无效 / kind must be one of {choices}"
        ),
        metadata={
            "title": "纠错类型",
            "description": "what is wrong: " + _labels(REPORT_KIND_LABELS),
            "example": "phone",
        },
    )
    comment = ma.fields.String(
        load_default="",
        validate=_length(MAX_COMMENT),
        metadata={
            "title": "说明",
            "description": f"what is wrong and what is right, at most {MAX_COMMENT} characters; "
            "required for kind `other`",
            "example": "电话已改为 025-84561234",
        },
    )
    suggested_position = ma.fields.Nested(
        SuggestedPositionSchema,
        load_default=None,
        allow_none=True,
        metadata={"title": "建议位置", "description": "where the outlet really is (optional)"},
    )
    contact = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=_length(MAX_CONTACT),
        metadata={"title": "联系方式", "description": "optional, for questions back"},
    )


class ErrorReportSchema(ma.Schema):
    id = ma.fields.Integer(metadata={"title": "编号", "example": 1024})
    fi_code = ma.fields.String(metadata={"title": "机构编码", "example": "C1010232000123"})
    kind = ma.fields.String(metadata={"title": "纠错类型", "example": "phone"})
    status = ma.fields.String(
        metadata={
            "title": "处理状态",
            "description": "`open` 待处理, `accepted` 已采纳, `rejected` 未采纳",
            "example": "open",
        }
    )
    created_at = ma.fields.DateTime(metadata={"title": "提交时间"})


class FeedbackArgs(ma.Schema):
    kind = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(
            FEEDBACK_KINDS, error="反馈类型无效 / kind must be one of {choices}"
        ),
        metadata={
            "title": "反馈类型",
            "description": _labels(FEEDBACK_KIND_LABELS)
            + ". An install registration (staff of an institution who installed the app) "
            "needs `staff_name` and `employer_name`; it is counted per institution.",
            "example": "suggestion",
        },
    )
    text = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=_length(MAX_TEXT),
        metadata={
            "title": "反馈内容",
            "description": f"required except for install registrations; at most {MAX_TEXT}",
            "example": "希望增加按无障碍设施筛选",
        },
    )
    contact = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=_length(MAX_CONTACT),
        metadata={"title": "联系方式"},
    )
    staff_name = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=_length(MAX_STAFF_NAME),
        metadata={"title": "姓名", "description": "install registration only", "example": "张三"},
    )
    employer_name = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=_length(MAX_EMPLOYER_NAME),
        metadata={
            "title": "工作单位",
            "description": "install registration only",
            "example": "中国工商银行南京分行",
        },
    )
    employer_fi_code = ma.fields.String(
        load_default=None,
        allow_none=True,
        metadata={
            "title": "单位法人机构编码",
            "description": "the employer's legal entity (head office) fi_code, optional; "
            "see GET /institutions",
            "example": "C1010211000012",
        },
    )
    employer_region_code = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Regexp(
            r"^[0-9]{6}$", error="应为 6 位行政区划代码 / must be a 6-digit region code"
        ),
        metadata={
            "title": "工作地区",
            "description": "install registration only, optional: the current region code of "
            "where you work (county, or city/province for staff of those levels), so the "
            "install counts for that area's PBoC office",
            "example": "320102",
        },
    )


class FeedbackSchema(ma.Schema):
    id = ma.fields.Integer(metadata={"title": "编号", "example": 77})
    kind = ma.fields.String(metadata={"title": "反馈类型", "example": "install_registration"})
    created_at = ma.fields.DateTime(metadata={"title": "提交时间"})


_ERROR_422 = {
    "code": 422,
    "status": "Unprocessable Entity",
    "message": INVALID_MESSAGE + "suggested_position.lat",
    "errors": {"json": {"suggested_position": {"lat": ["纬度应在 -90 到 90 之间"]}}},
}
_INVALID = {
    "schema": ErrorSchema,
    "description": "内容有误，`errors` 指出字段 / invalid input, `errors` names the field",
    "example": _ERROR_422,
}
_TOO_MANY = {
    "schema": ErrorSchema,
    "description": "提交过于频繁 / too many submissions from this client",
    "example": {"code": 429, "status": "Too Many Requests", "message": TOO_MANY_MESSAGE},
    "headers": {
        "Retry-After": {
            "description": "seconds until a submission is accepted again",
            "schema": {"type": "integer"},
        }
    },
}


def _config() -> Config:
    config: Config = current_app.extensions["branchfinder.config"]
    return config


def _refuse(exc: FeedbackError, status: int = 422, location: str = "json") -> NoReturn:
    """Abort with the library's refusal, nesting a dotted field as webargs would."""
    errors: dict[str, Any] = {exc.field.split(".")[-1]: [f"{exc.message_zh} / {exc.message_en}"]}
    for part in reversed(exc.field.split(".")[:-1]):
        errors = {part: errors}
    abort(status, message=exc.message_zh, errors={location: errors})
    raise AssertionError("abort returned")  # pragma: no cover


@blp.route("/outlets/<string:fi_code>/error-reports")
class ErrorReports(MethodView):
    @blp.arguments(
        ErrorReportArgs,
        example={
            "kind": "position",
            "comment": "网点在路口东侧",
            "suggested_position": {"lat": 32.041544, "lng": 118.784355, "coord": "gcj02"},
        },
    )
    @blp.response(201, ErrorReportSchema, description="已收到，等待核实 / stored, open")
    @blp.alt_response(404, schema=ErrorSchema, description="没有这个网点 / unknown fi_code")
    @blp.alt_response(422, **_INVALID)
    @blp.alt_response(429, **_TOO_MANY)
    def post(self, args: dict[str, Any], fi_code: str) -> Any:
        """报告网点信息有误 / Report wrong outlet data.

        Position, address, phone, hours, business types, closed for good, or
        other, with a comment and optionally where the outlet really is. PBoC
        staff check every report and accept or reject it.
        """
        client = limit_current_client("error_report", _config().error_report_rate_limit)
        position = args["suggested_position"]
        session = db_session()
        try:
            report = report_error(
                session,
                fi_code,
                args["kind"],
                args["comment"],
                suggested=SuggestedPosition(**position) if position else None,
                contact=args["contact"],
                client_key=client,
            )
        except UnknownOutlet as exc:
            _refuse(exc, 404, "path")
        except FeedbackError as exc:
            _refuse(exc)
        session.commit()
        return report


@blp.route("/feedback")
class FeedbackView(MethodView):
    @blp.arguments(
        FeedbackArgs,
        example={
            "kind": "install_registration",
            "staff_name": "张三",
            "employer_name": "中国工商银行南京分行",
            "employer_fi_code": "C1010211000012",
            "employer_region_code": "320102",
        },
    )
    @blp.response(201, FeedbackSchema, description="已收到 / stored")
    @blp.alt_response(422, **_INVALID)
    @blp.alt_response(429, **_TOO_MANY)
    def post(self, args: dict[str, Any]) -> Feedback:
        """意见反馈与安装登记 / Feedback, and install registration of institution staff."""
        client = limit_current_client("feedback", _config().feedback_rate_limit)
        session = db_session()
        try:
            item = submit_feedback(session, client_key=client, **args)
        except FeedbackError as exc:
            _refuse(exc)
        session.commit()
        return item
