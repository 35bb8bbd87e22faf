"""Deciding public error reports (信息纠错): accept (verified, and fix the field) or reject.

A report says one thing about an outlet is wrong (`ErrorReport.kind`). The
institution or its PBoC office looks at it and either

- accepts it: the report was right. For the kinds that name a field the fix is
  applied in the same transaction as a `pro_update` change event, through the
  same code and rules as any info update (`uploads.pro_updates` for the
  profile's position, business types, hours and phone;
  `registry.institution_contacts` for the address), and the report keeps that
  event's id. A position report may be fixed with the position the reporter
  suggested. When someone already fixed the field, `already_fixed` accepts
  without writing anything. "Closed for good" (`closed`) and `other` are
  recorded only: closing an outlet is a revocation in the PBoC registry, which
  reaches the finder through the registry sync (and a revoked outlet leaves
  the finder at once), not a field the professional app edits;
- or rejects it with a reason (required): the report was wrong.

Accepted reports are the "verified error reports" the quality lists count
against an institution (DOMAIN.md §5). A decision is final: deciding a report
twice is refused (`AlreadyDecided`). The status vocabulary is `ErrorReport`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from core.coords import CoordSystem, convert
from core.models.feedback import ErrorReport
from core.models.registry import Institution
from registry import institution_contacts
from registry.institution_contacts import ContactRefused
from uploads import pro_updates
from uploads.staff_uploads import UploadRefused

# The field each kind of report is about, and so the fix it takes.
FIX_FIELD = {
    "position": "position",
    "address": "address",
    "phone": "phone",
    "hours": "hours",
    "business_types": "business_types",
}
RECORD_ONLY_KINDS = ("closed", "other")
MAX_REASON = 500

FixField = Literal["position", "suggested_position", "address", "phone", "hours", "business_types"]


class AlreadyDecided(ValueError):
    def __init__(self, report: ErrorReport) -> None:
        super().__init__(f"error report {report.id} is already {report.status}")
        self.status = report.status


class FixRefused(UploadRefused):
    """The fix does not fit the report, or its value breaks a rule; `field` names the input."""


@dataclass(frozen=True)
class Fix:
    """A corrected value for the field a report is about.

    `field` is the report's field, or `suggested_position` (use the reporter's);
    `value`: position `{lat, lng, coord, accuracy_m}`, hours `{text, hours}`,
    business types a list of keys, phone and address text.
    """

    field: FixField
    value: Any = None


@dataclass(frozen=True)
class Decision:
    report_id: int
    status: str
    event_id: int | None


def report_query(report_id: int) -> Select[ErrorReport, Institution]:
    """The report with its institution, locked for a decision; the caller adds the
    jurisdiction (it selects from `institution`)."""
    return (
        select(ErrorReport, Institution)
        .join(Institution, Institution.fi_code == ErrorReport.fi_code)
        .where(ErrorReport.id == report_id)
        .with_for_update(of=ErrorReport)
    )


def _suggested(session: Session, report: ErrorReport) -> tuple[float, float, CoordSystem]:
    """The reporter's position, in the system it was given in."""
    lat, lng = session.execute(
        select(
            func.ST_Y(func.geometry(ErrorReport.suggested_position)),
            func.ST_X(func.geometry(ErrorReport.suggested_position)),
        ).where(ErrorReport.id == report.id)
    ).one()
    system: CoordSystem = report.suggested_coord_system  # type: ignore[assignment]
    glat, glng = convert(float(lat), float(lng), "wgs84", system)
    return glat, glng, system


def _check_fix(report: ErrorReport, fix: Fix | None, already_fixed: bool) -> None:
    wanted = FIX_FIELD.get(report.kind)
    if fix is not None and already_fixed:
        raise FixRefused(
            "already_fixed",
            "不能同时给出更正值和“已更正”/ give a corrected value or already_fixed, not both",
            "give a corrected value or already_fixed, not both",
        )
    if wanted is None:
        if fix is not None:
            raise FixRefused(
                fix.field,
                f"“{report.kind}”类纠错没有可更正的字段，接受即记为已核实 / "
                f"a report of kind {report.kind} has no field to fix: accepting records it",
                f"a report of kind {report.kind} has no field to fix",
            )
        return
    if fix is None:
        if not already_fixed:
            hint = " or use_suggested_position" if report.kind == "position" else ""
            raise FixRefused(
                wanted,
                f"请给出更正后的{wanted}，或注明已更正（already_fixed）/ give the corrected "
                f"{wanted}{hint}, or already_fixed",
                f"give the corrected {wanted}{hint}, or already_fixed",
            )
        return
    field = "position" if fix.field == "suggested_position" else fix.field
    if field != wanted:
        raise FixRefused(
            fix.field,
            f"该纠错针对“{wanted}”，不能更正“{field}”/ the report is about {wanted}",
            f"the report is about {wanted}, not {field}",
        )
    if fix.field == "suggested_position" and report.suggested_position is None:
        raise FixRefused(
            "use_suggested_position",
            "该纠错没有建议位置，请给出位置 / the report suggests no position: give one",
            "the report suggests no position: give position",
        )


def _apply(
    session: Session, report: ErrorReport, institution: Institution, fix: Fix, actor: str
) -> int | None:
    if fix.field in ("position", "suggested_position"):
        if fix.field == "suggested_position":
            lat, lng, coord = _suggested(session, report)
            accuracy = None
        else:
            lat, lng = fix.value["lat"], fix.value["lng"]
            coord, accuracy = fix.value["coord"], fix.value.get("accuracy_m")
        return pro_updates.update_position(
            session, institution, lat=lat, lng=lng, coord=coord, accuracy_m=accuracy, actor=actor
        ).event_id
    if fix.field == "business_types":
        return pro_updates.update_business_types(
            session, institution, fix.value, actor=actor
        ).event_id
    if fix.field == "hours":
        return pro_updates.update_hours(
            session,
            institution,
            text=fix.value.get("text"),
            structured=fix.value.get("hours"),
            actor=actor,
        ).event_id
    if fix.field == "phone":
        return pro_updates.update_phone(session, institution, fix.value, actor=actor).event_id
    pro_updates.check_active(institution)
    try:
        return institution_contacts.update_contacts(
            session,
            institution,
            {"address": fix.value},
            actor=actor,
            channel=pro_updates.CHANNEL,
        ).event_id
    except ContactRefused as exc:
        first = exc.issues[0]
        raise FixRefused(
            "address", f"{first.rule_id}: {first.message_zh}", first.message_en
        ) from exc


def accept(
    session: Session,
    report: ErrorReport,
    institution: Institution,
    *,
    fix: Fix | None,
    already_fixed: bool = False,
    note: str | None = None,
    actor: str,
) -> Decision:
    """Accept a report (locked by `report_query`), applying `fix`; the caller commits.

    Raises `AlreadyDecided`, `FixRefused` / `UploadRefused` (a fix that does not
    fit or breaks a rule) and `pro_updates.NotUpdatable` (a revoked outlet).
    """
    if report.status != "open":
        raise AlreadyDecided(report)
    _check_fix(report, fix, already_fixed)
    event_id = _apply(session, report, institution, fix, actor) if fix is not None else None
    report.status = "accepted"
    report.resolved_by = actor
    report.resolved_at = func.now()
    report.resolution_reason = (note or "").strip() or None
    report.resolution_event_id = event_id
    session.flush()
    return Decision(report.id, "accepted", event_id)


def reject(session: Session, report: ErrorReport, *, reason: str, actor: str) -> Decision:
    """Reject a report (locked by `report_query`) with a reason; the caller commits."""
    if report.status != "open":
        raise AlreadyDecided(report)
    cleaned = (reason or "").strip()
    if not cleaned:
        raise FixRefused("reason", "请说明驳回理由 / a rejection needs a reason", "reason required")
    if len(cleaned) > MAX_REASON:
        raise FixRefused(
            "reason",
            f"驳回理由不能超过 {MAX_REASON} 个字 / at most {MAX_REASON} characters",
            f"reason is longer than {MAX_REASON} characters",
        )
    report.status = "rejected"
    report.resolved_by = actor
    report.resolved_at = func.now()
    report.resolution_reason = cleaned
    session.flush()
    return Decision(report.id, "rejected", None)
