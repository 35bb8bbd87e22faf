"""Schemas of the pro API's info updates, upload tasks, held uploads and error reports.

The bodies of profile updates are the staff uploads' own schemas
(`miniprogram_api.staff_schemas`): one definition of what a position, a list
of business types, opening hours or a phone looks like, whoever sends it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import marshmallow as ma

from core.coords import COORD_SYSTEMS
from core.models.feedback import REPORT_KINDS, REPORT_STATUSES
from feedback.error_report_decisions import MAX_REASON
from pro_api.exports import ExportArgs
from pro_api.paging import PageArgs, PageSchema
from profiles.business_types import BY_KEY
from profiles.profile_changes import VALUE_GROUPS
from registry.institution_contacts import CONTACT_FIELDS
from uploads.reviews import REVIEW_STATUSES
from uploads.staff import TASK_STATUSES
from web.schemas import HoursUploadArgs, PositionUploadArgs

MAX_TASK_CODES = 500  # outlets per call: a county's worth, and one answer a person can print
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_OR_NEWLINE = re.compile(r"[\x00-\x1f\x7f]")


def plain_text(*, newlines: bool = False) -> Callable[[str], None]:
    """Refuse control characters (PostgreSQL text cannot even hold NUL)."""
    pattern = _CONTROL if newlines else _CONTROL_OR_NEWLINE

    def check(value: str) -> None:
        if pattern.search(value):
            raise ma.ValidationError("含有控制字符 / contains control characters")

    return check


def not_blank(value: str) -> None:
    if not value.strip():
        raise ma.ValidationError("不能为空 / must not be blank")


def _known_type(value: str) -> None:
    if value not in BY_KEY:
        raise ma.ValidationError(f"未知的业务类型 {value} / unknown business type")


_FI_CODE_FILTER = ma.fields.String(
    validate=[ma.validate.Length(1, 100), plain_text()],
    metadata={"description": "one outlet, by fi_code (case does not matter)"},
)
_REGION_FILTER = ma.fields.String(
    validate=ma.validate.Regexp(r"^[0-9]{2,6}$", error="2 到 6 位数字 / 2 to 6 digits"),
    metadata={
        "description": "region-code prefix, to narrow the list inside your jurisdiction",
        "example": "320102",
    },
)


# --- outlet profile updates ---------------------------------------------------------------------


class ProUpdateResultSchema(ma.Schema):
    fi_code = ma.fields.String()
    field_group = ma.fields.String(metadata={"enum": list(VALUE_GROUPS)})
    changed = ma.fields.Boolean(
        metadata={"description": "false: the outlet already had this value; nothing written"}
    )
    event_id = ma.fields.Integer(
        allow_none=True,
        metadata={"description": "the change event (channel pro_update): history, revert"},
    )
    before = ma.fields.Raw(allow_none=True, metadata={"description": "the value replaced"})
    value = ma.fields.Raw(
        allow_none=True,
        metadata={"description": "the value now (positions in WGS-84, as the history holds)"},
    )


class ProPhotoChoiceArgs(ma.Schema):
    front = ma.fields.Boolean(
        required=True,
        validate=ma.validate.Equal(True, error="只能设为门头照 / only true"),
        metadata={"description": "true: make this photo the front photo (门头照)"},
    )


class ProConfirmArgs(ma.Schema):
    groups = ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf(VALUE_GROUPS)),
        required=True,
        validate=ma.validate.Length(1, len(VALUE_GROUPS)),
        metadata={"description": "the field groups you checked: " + ", ".join(VALUE_GROUPS)},
    )


class ProConfirmationSchema(ma.Schema):
    fi_code = ma.fields.String()
    groups = ma.fields.List(ma.fields.String(), metadata={"description": "confirmed now"})
    task_status = ma.fields.String(
        allow_none=True,
        metadata={
            "description": "the upload task's status afterwards: " + " → ".join(TASK_STATUSES)
        },
    )
    task_confirmed = ma.fields.Boolean(
        metadata={
            "description": "true: the staff had submitted and every group with a value is now "
            "confirmed, so the upload task moved to confirmed"
        }
    )
    provenance = ma.fields.Dict(
        metadata={"description": "per group: channel, actor, when, confirmed, confirmed_by/at"}
    )


# --- institution contact fields -----------------------------------------------------------------


class ProContactArgs(ma.Schema):
    address = ma.fields.String(
        allow_none=True,
        validate=[ma.validate.Length(max=1000), plain_text()],
        metadata={"description": "required (non-empty) for sub-branches and outlets"},
    )
    postcode = ma.fields.String(
        allow_none=True,
        validate=[ma.validate.Length(max=100), plain_text()],
        metadata={"description": "6 digits; null or empty clears it", "example": "210008"},
    )
    phone = ma.fields.String(
        allow_none=True,
        validate=[ma.validate.Length(max=1000), plain_text()],
        metadata={
            "description": "landline with area code or mobile, several separated by ;",
            "example": "025-84571234",
        },
    )

    @ma.validates_schema
    def _some(self, data: dict[str, Any], **_: Any) -> None:
        if not data:
            raise ma.ValidationError(
                "至少给出一个字段 / give at least one of " + ", ".join(CONTACT_FIELDS), "address"
            )


class ProRuleIssueSchema(ma.Schema):
    rule_id = ma.fields.String(metadata={"example": "FLD-POSTCODE-FORMAT"})
    severity = ma.fields.String()
    column = ma.fields.String(allow_none=True)
    value = ma.fields.String(allow_none=True)
    message_zh = ma.fields.String()
    message_en = ma.fields.String()


class ProInstitutionContactSchema(ma.Schema):
    fi_code = ma.fields.String()
    name = ma.fields.String()
    address = ma.fields.String(allow_none=True)
    postcode = ma.fields.String(allow_none=True)
    phone = ma.fields.String(allow_none=True)


class ProContactResultSchema(ma.Schema):
    fi_code = ma.fields.String()
    changed = ma.fields.Boolean()
    event_id = ma.fields.Integer(allow_none=True)
    before = ma.fields.Dict(metadata={"description": "the changed fields' old values"})
    after = ma.fields.Dict(metadata={"description": "the changed fields' new values (normalised)"})
    warnings = ma.fields.List(
        ma.fields.Nested(ProRuleIssueSchema),
        metadata={"description": "registry rules that warn about the new values (not refused)"},
    )
    institution = ma.fields.Nested(ProInstitutionContactSchema)
    registry_sync_note = ma.fields.String(
        metadata={"description": "how the PBoC registry sync treats this change"}
    )


# --- history --------------------------------------------------------------------------------------


class ProRevertResultSchema(ma.Schema):
    reverted_event_id = ma.fields.Integer()
    event_id = ma.fields.Integer(metadata={"description": "the new change event (pro_update)"})
    fi_code = ma.fields.String()
    entity = ma.fields.String(metadata={"enum": ["outlet_profile", "institution"]})
    field_group = ma.fields.String(allow_none=True)
    before = ma.fields.Raw(allow_none=True)
    value = ma.fields.Raw(allow_none=True, metadata={"description": "the value restored"})


# --- upload tasks ---------------------------------------------------------------------------------


class ProCreateTasksArgs(ma.Schema):
    fi_codes = ma.fields.List(
        ma.fields.String(
            validate=ma.validate.Regexp(
                r"^[A-Za-z][0-9]{13}$",
                error="金融机构编码为 1 个字母加 13 位数字 / a letter and 13 digits",
            )
        ),
        required=True,
        validate=ma.validate.Length(1, MAX_TASK_CODES),
        metadata={"description": f"active outlets in your jurisdiction, at most {MAX_TASK_CODES}"},
    )


class ProIssuedCodeSchema(ma.Schema):
    fi_code = ma.fields.String()
    name = ma.fields.String()
    code = ma.fields.String(
        metadata={"description": "the one-time binding code, shown only in this answer"}
    )
    expires_at = ma.fields.DateTime()
    qr_text = ma.fields.String(metadata={"description": "the text to print as a QR code"})


class ProIssuedCodesSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ProIssuedCodeSchema))


class _TaskFilters(ma.Schema):
    status = ma.fields.String(validate=ma.validate.OneOf(TASK_STATUSES))
    fi_code = _FI_CODE_FILTER
    region = _REGION_FILTER


class ProTaskListArgs(PageArgs, _TaskFilters):
    pass


class ProTaskExportArgs(ExportArgs, _TaskFilters):
    pass


class ProTaskSchema(ma.Schema):
    id = ma.fields.Integer()
    fi_code = ma.fields.String()
    name = ma.fields.String()
    region_code = ma.fields.String()
    legal_entity_code = ma.fields.String()
    status = ma.fields.String(metadata={"description": " → ".join(TASK_STATUSES)})
    code_out = ma.fields.Boolean(metadata={"description": "an unredeemed binding code is out"})
    code_expires_at = ma.fields.DateTime(allow_none=True)
    created_by = ma.fields.String()
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()
    submitted_at = ma.fields.DateTime(allow_none=True)
    confirmed_at = ma.fields.DateTime(allow_none=True)
    confirmed_by = ma.fields.String(allow_none=True)


class ProTaskPageSchema(PageSchema):
    items = ma.fields.List(ma.fields.Nested(ProTaskSchema))


# --- uploads held for review ----------------------------------------------------------------------


class _ReviewFilters(ma.Schema):
    status = ma.fields.String(
        validate=ma.validate.OneOf(REVIEW_STATUSES),
        metadata={"description": "open (waiting), accepted or rejected; all when absent"},
    )
    fi_code = _FI_CODE_FILTER
    region = _REGION_FILTER


class ProReviewListArgs(PageArgs, _ReviewFilters):
    pass


class ProReviewExportArgs(ExportArgs, _ReviewFilters):
    pass


class ProReviewSchema(ma.Schema):
    id = ma.fields.Integer()
    fi_code = ma.fields.String()
    name = ma.fields.String()
    region_code = ma.fields.String()
    field_group = ma.fields.String()
    value = ma.fields.Raw(
        allow_none=True, metadata={"description": "the held value (positions in WGS-84)"}
    )
    flags = ma.fields.List(ma.fields.String())
    flag_labels = ma.fields.List(ma.fields.String(), metadata={"description": "why it was held"})
    actor = ma.fields.String(metadata={"description": "the staff member who uploaded it"})
    event_id = ma.fields.Integer(metadata={"description": "the unpublished upload event"})
    status = ma.fields.String(metadata={"enum": list(REVIEW_STATUSES)})
    created_at = ma.fields.DateTime()
    decided_at = ma.fields.DateTime(allow_none=True)
    decided_by = ma.fields.String(allow_none=True)
    reason = ma.fields.String(allow_none=True)


class ProReviewPageSchema(PageSchema):
    items = ma.fields.List(ma.fields.Nested(ProReviewSchema))


class ProReviewDecisionSchema(ma.Schema):
    review = ma.fields.Nested(ProReviewSchema)
    event_id = ma.fields.Integer(
        allow_none=True, metadata={"description": "accepted: the event that published the value"}
    )


class ProRejectArgs(ma.Schema):
    reason = ma.fields.String(
        required=True,
        validate=[ma.validate.Length(1, MAX_REASON), plain_text(newlines=True), not_blank],
        metadata={"description": "why, for whoever sent it"},
    )


# --- public error reports -------------------------------------------------------------------------


class _ErrorReportFilters(ma.Schema):
    status = ma.fields.String(
        validate=ma.validate.OneOf(REPORT_STATUSES),
        metadata={"description": "open (new), accepted (verified) or rejected; all when absent"},
    )
    kind = ma.fields.String(validate=ma.validate.OneOf(REPORT_KINDS))
    fi_code = _FI_CODE_FILTER
    region = _REGION_FILTER
    coord = ma.fields.String(
        load_default="gcj02",
        validate=ma.validate.OneOf(COORD_SYSTEMS),
        metadata={"description": "the system of the suggested positions in the answer"},
    )


class ProErrorReportListArgs(PageArgs, _ErrorReportFilters):
    pass


class ProErrorReportExportArgs(ExportArgs, _ErrorReportFilters):
    pass


class ProLatLngSchema(ma.Schema):
    lat = ma.fields.Float()
    lng = ma.fields.Float()
    coord = ma.fields.String(metadata={"enum": list(COORD_SYSTEMS)})


class ProErrorReportSchema(ma.Schema):
    id = ma.fields.Integer()
    fi_code = ma.fields.String()
    name = ma.fields.String()
    region_code = ma.fields.String()
    kind = ma.fields.String(metadata={"enum": list(REPORT_KINDS)})
    kind_label = ma.fields.String(metadata={"example": "位置不准"})
    comment = ma.fields.String()
    suggested_position = ma.fields.Nested(
        ProLatLngSchema, allow_none=True, metadata={"description": "in the `coord` asked for"}
    )
    suggested_coord_system = ma.fields.String(
        allow_none=True, metadata={"description": "the system the reporter gave it in"}
    )
    contact = ma.fields.String(allow_none=True, metadata={"description": "the reporter's"})
    status = ma.fields.String(
        metadata={"enum": list(REPORT_STATUSES), "description": "accepted = verified (核实)"}
    )
    created_at = ma.fields.DateTime()
    resolved_at = ma.fields.DateTime(allow_none=True)
    resolved_by = ma.fields.String(allow_none=True)
    resolution_reason = ma.fields.String(allow_none=True)
    resolution_event_id = ma.fields.Integer(
        allow_none=True, metadata={"description": "accepted: the change event that fixed it"}
    )


class ProErrorReportPageSchema(PageSchema):
    coord = ma.fields.String()
    items = ma.fields.List(ma.fields.Nested(ProErrorReportSchema))


class ProErrorReportAcceptArgs(ma.Schema):
    position = ma.fields.Nested(
        PositionUploadArgs, metadata={"description": "kind position: the corrected position"}
    )
    use_suggested_position = ma.fields.Boolean(
        metadata={"description": "kind position: apply the position the reporter suggested"}
    )
    business_types = ma.fields.List(
        ma.fields.String(validate=_known_type),
        validate=ma.validate.Length(max=len(BY_KEY)),
        metadata={"description": "kind business_types: the full corrected list"},
    )
    hours = ma.fields.Nested(HoursUploadArgs, metadata={"description": "kind hours"})
    phone = ma.fields.String(
        validate=[ma.validate.Length(1, 100), plain_text()],
        metadata={"description": "kind phone: the outlet's phone as the public sees it"},
    )
    address = ma.fields.String(
        validate=[ma.validate.Length(1, 1000), plain_text()],
        metadata={"description": "kind address: the institution's address (registry rules)"},
    )
    already_fixed = ma.fields.Boolean(
        load_default=False,
        metadata={"description": "verified, but the field was fixed already: nothing to apply"},
    )
    note = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=[ma.validate.Length(max=MAX_REASON), plain_text(newlines=True)],
    )

    @ma.validates_schema
    def _at_most_one_fix(self, data: dict[str, Any], **_: Any) -> None:
        given = [
            k
            for k in ("position", "business_types", "hours", "phone", "address")
            if data.get(k) is not None
        ]
        if data.get("use_suggested_position"):
            given.append("use_suggested_position")
        if len(given) > 1:
            raise ma.ValidationError(
                "只能给出一个更正值 / give one corrected value, not " + ", ".join(given), given[1]
            )
