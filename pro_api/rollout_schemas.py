"""Schemas of the pro API's rollout statistics and reporting calendar."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from pro_api.exports import ExportArgs
from pro_api.paging import PageArgs, PageSchema
from pro_api.report_filters import AreaArgs, PeriodArgs
from reports.rollout import (
    CORRECTION_WORKING_DAYS,
    OFFICE_LEVELS,
    RANK_BY,
    CorrectionDeadline,
    RankedUnit,
    ReportDue,
)

_RANK_BY = ma.fields.String(
    load_default="installs",
    validate=ma.validate.OneOf(RANK_BY),
    metadata={
        "description": "installs (staff install registrations), installs_per_outlet, or "
        "reports (public error reports received); most first"
    },
)


class _InstitutionFilter(AreaArgs, PeriodArgs):
    """The period counts registrations and reports by the day they were made."""

    rank_by = _RANK_BY


class RolloutInstitutionArgs(PageArgs, _InstitutionFilter):
    """`after`: the position of the last row of the previous page."""


class RolloutInstitutionExportArgs(ExportArgs, _InstitutionFilter):
    pass


class _OfficeFilter(_InstitutionFilter):
    level = ma.fields.String(
        load_default="city",
        validate=ma.validate.OneOf(tuple(OFFICE_LEVELS)),
        metadata={
            "description": "city: central sub-branches (4-digit region prefix); county: "
            "county sub-branches (6 digits)"
        },
    )


class RolloutOfficeArgs(PageArgs, _OfficeFilter):
    """`after`: the position of the last row of the previous page."""


class RolloutOfficeExportArgs(ExportArgs, _OfficeFilter):
    pass


class _FiguresSchema(ma.Schema):
    rank = ma.fields.Integer(metadata={"description": "1 = most; equal values share a rank"})
    name = ma.fields.String(allow_none=True)
    outlets = ma.fields.Integer(metadata={"description": "active outlets in your area"})
    installs = ma.fields.Integer(metadata={"description": "staff install registrations"})
    installs_per_outlet = ma.fields.Float(allow_none=True)
    reports = ma.fields.Integer(metadata={"description": "public error reports received"})
    open_reports = ma.fields.Integer()
    verified_reports = ma.fields.Integer(metadata={"description": "accepted by PBoC"})
    rejected_reports = ma.fields.Integer()


class RolloutInstitutionSchema(_FiguresSchema):
    legal_entity_code = ma.fields.String(metadata={"example": "C1010211000012"})


class RolloutOfficeSchema(_FiguresSchema):
    region_prefix = ma.fields.String(
        metadata={"description": "the office's area (region-code prefix)", "example": "3201"}
    )


class RolloutInstitutionPageSchema(PageSchema):
    items = ma.fields.List(ma.fields.Nested(RolloutInstitutionSchema))


class RolloutOfficePageSchema(PageSchema):
    level = ma.fields.String(metadata={"enum": list(OFFICE_LEVELS)})
    items = ma.fields.List(ma.fields.Nested(RolloutOfficeSchema))


def figures_view(unit: RankedUnit, key_name: str) -> dict[str, Any]:
    f = unit.figures
    return {
        "rank": unit.rank,
        key_name: f.key,
        "name": f.name,
        "outlets": f.outlets,
        "installs": f.installs,
        "installs_per_outlet": f.installs_per_outlet,
        "reports": f.reports,
        "open_reports": f.open_reports,
        "verified_reports": f.verified_reports,
        "rejected_reports": f.rejected_reports,
    }


# --- the reporting calendar ------------------------------------------------------------------


class MonthlyReportArgs(ma.Schema):
    year = ma.fields.Integer(
        required=True,
        validate=ma.validate.Range(1900, 2200),
        metadata={"description": "a year the holiday calendar covers", "example": 2026},
    )
    month = ma.fields.Integer(
        validate=ma.validate.Range(1, 12),
        metadata={"description": "one month only; absent: all twelve"},
    )


class CoveredYearsSchema(ma.Schema):
    first = ma.fields.Integer(metadata={"example": 2004})
    last = ma.fields.Integer(metadata={"example": 2026})


class ReportDueSchema(ma.Schema):
    year = ma.fields.Integer()
    month = ma.fields.Integer()
    due = ma.fields.Date(metadata={"description": "the 15th, or the next working day"})
    weekday = ma.fields.Integer(metadata={"description": "ISO weekday of `due`, 1 = Monday"})
    moved = ma.fields.Boolean(metadata={"description": "the 15th is not a working day"})
    reason = ma.fields.String(
        allow_none=True,
        metadata={"description": "why it moved: the holiday (春节) or weekend", "example": "春节"},
    )


class MonthlyReportSchema(ma.Schema):
    covered_years = ma.fields.Nested(CoveredYearsSchema)
    items = ma.fields.List(
        ma.fields.Nested(ReportDueSchema), metadata={"description": "at most 12, by month"}
    )


def report_due_view(due: ReportDue) -> dict[str, Any]:
    return {
        "year": due.year,
        "month": due.month,
        "due": due.due,
        "weekday": due.due.isoweekday(),
        "moved": due.moved,
        "reason": due.reason,
    }


class CorrectionDeadlineArgs(ma.Schema):
    received = ma.fields.Date(
        required=True,
        metadata={
            "description": "the day the error receipt was received (YYYY-MM-DD)",
            "example": "2026-09-28",
        },
    )


class CorrectionDeadlineSchema(ma.Schema):
    received = ma.fields.Date()
    due = ma.fields.Date(
        metadata={"description": f"{CORRECTION_WORKING_DAYS} working days after `received`"}
    )
    weekday = ma.fields.Integer(metadata={"description": "ISO weekday of `due`, 1 = Monday"})
    working_days = ma.fields.Integer(metadata={"example": CORRECTION_WORKING_DAYS})
    days_off = ma.fields.List(
        ma.fields.Date(), metadata={"description": "weekends and holidays skipped in between"}
    )
    verified = ma.fields.Boolean(
        metadata={
            "description": "false: the count runs into a year whose holidays are not yet "
            "published; provisional"
        }
    )
    note = ma.fields.String(allow_none=True)
    covered_years = ma.fields.Nested(CoveredYearsSchema)


def deadline_view(deadline: CorrectionDeadline) -> dict[str, Any]:
    note = None
    if not deadline.verified:
        note = (
            f"{deadline.due.year} 年节假日尚未公布，按普通周末推算 / the holidays of "
            f"{deadline.due.year} are not yet published: counted with plain weekends"
        )
    return {
        "received": deadline.received,
        "due": deadline.due,
        "weekday": deadline.due.isoweekday(),
        "working_days": deadline.working_days,
        "days_off": list(deadline.days_off),
        "verified": deadline.verified,
        "note": note,
    }
