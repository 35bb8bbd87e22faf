"""Info updates (机构信息更新) of an outlet's profile from the professional app.

An institution's administrators, or its PBoC office, correct what the public
sees of an outlet one field group at a time, as staff do from the
mini-program, and through the same code:

- the value of each group is checked by the same functions with the same
  messages as a staff upload (`uploads.staff_uploads.position_value` and its
  siblings), and a position must lie inside the outlet's region, the rule the
  profile import holds positions to (`PRF-POSITION-REGION`);
- the change is written by `profiles.profile_changes.change_group` (row lock,
  before/after change event, provenance) with channel `pro_update` and the
  account as actor (`account:<id>`).

Why a pro update differs from a staff upload:

- It is trusted and published at once: the accounts that make it are the ones
  that would review a held upload, so nothing is held. The flags of staff
  uploads therefore do not apply, except the region box, which is refused
  outright (a position outside the outlet's county is a typo or swapped
  coordinates, and there is nobody above to review it). Moving a confirmed
  position by more than 2 km is allowed: the old value stays in the history and
  can be reverted.
- It is not a confirmation. 核对确认 is its own act (`confirm_groups`), so the
  quality lists can tell checked data from data that merely changed; a changed
  group's provenance says `confirmed: false` until someone confirms it.
- It leaves the outlet's upload task alone: the task tracks the staff's data
  entry, which a correction from the institution neither starts nor finishes.
- Writing the value a group already holds writes nothing (no event): saving an
  unchanged form is not a change.

The caller (the HTTP layer) has checked the jurisdiction; the caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from core.coords import CoordSystem
from core.models.registry import Institution
from profiles.profile_changes import VALUE_GROUPS, change_group, current, lock, mark_confirmed
from registry.record_checks import VISITED_LEVELS
from registry.rules import issue
from uploads import outlet_photos, staff
from uploads.staff_uploads import (
    UploadRefused,
    business_types_value,
    hours_value,
    outside_region,
    phone_value,
    position_value,
)

CHANNEL = "pro_update"


class NotUpdatable(ValueError):
    """The institution has no profile the public sees (not an outlet, or revoked)."""

    def __init__(self, reason: str, message_zh: str, message_en: str) -> None:
        super().__init__(message_en)
        self.reason = reason
        self.message_zh = message_zh
        self.message_en = message_en


class NothingToConfirm(ValueError):
    """A group to confirm has no value; `groups` names them."""

    def __init__(self, groups: list[str]) -> None:
        super().__init__(", ".join(groups))
        self.groups = groups


@dataclass(frozen=True)
class ProUpdate:
    """What an update did: `event_id` is None when the group already held the value."""

    fi_code: str
    field_group: str
    changed: bool
    event_id: int | None
    before: Any
    value: Any


@dataclass(frozen=True)
class Confirmation:
    fi_code: str
    groups: tuple[str, ...]
    task_status: str | None  # the upload task's status afterwards (None: no task)
    task_confirmed: bool  # this confirmation moved the task to confirmed


def check_active(institution: Institution) -> None:
    """Refuse revoked institutions: what is closed for good is no longer corrected."""
    if institution.status != "active":
        raise NotUpdatable(
            "revoked",
            f"机构 {institution.fi_code} 已撤销，不能再修改",
            f"{institution.fi_code} is revoked: its data can no longer change",
        )


def check_updatable(institution: Institution) -> None:
    """Refuse institutions without a public profile: head offices, branches, revoked ones."""
    check_active(institution)
    if institution.level not in VISITED_LEVELS:
        raise NotUpdatable(
            "not_an_outlet",
            f"机构 {institution.fi_code} 不是网点（层级 {institution.level}），没有网点信息",
            f"{institution.fi_code} is a {institution.level}, not an outlet the public visits",
        )


def _same(a: Any, b: Any) -> bool:
    """Equal as stored values: numbers compare by value to 1e-7 (a coordinate read back
    from PostGIS, or `8` for `8.0`), everything else exactly."""
    if isinstance(a, int | float) and isinstance(b, int | float):
        return not isinstance(a, bool) and not isinstance(b, bool) and abs(a - b) < 1e-7
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _apply(
    session: Session, institution: Institution, group: str, value: Any, actor: str
) -> ProUpdate:
    check_updatable(institution)
    lock(session, institution.id)
    before = current(session, institution.id, group)
    if _same(before, value):
        return ProUpdate(institution.fi_code, group, False, None, before, value)
    change = change_group(
        session, institution.id, institution.fi_code, group, value, actor=actor, channel=CHANNEL
    )
    return ProUpdate(institution.fi_code, group, True, change.event_id, before, value)


def update_position(
    session: Session,
    institution: Institution,
    *,
    lat: float,
    lng: float,
    coord: CoordSystem,
    accuracy_m: float | None,
    actor: str,
) -> ProUpdate:
    value = position_value(lat, lng, coord, accuracy_m)
    region = outside_region(session, institution.id, value)
    if region is not None:
        found = issue(
            "PRF-POSITION-REGION",
            fi_code=institution.fi_code,
            column="lat",
            value=f"{value['latitude']},{value['longitude']}",
            expected=region,
        )
        raise UploadRefused("lat", found.message_zh, found.message_en)
    return _apply(session, institution, "position", value, actor)


def update_business_types(
    session: Session, institution: Institution, keys: list[str], *, actor: str
) -> ProUpdate:
    return _apply(session, institution, "business_types", business_types_value(keys), actor)


def update_hours(
    session: Session,
    institution: Institution,
    *,
    text: str | None,
    structured: dict[str, Any] | None,
    actor: str,
) -> ProUpdate:
    return _apply(session, institution, "hours", hours_value(text, structured), actor)


def update_phone(
    session: Session, institution: Institution, phone: str, *, actor: str
) -> ProUpdate:
    return _apply(session, institution, "phone", phone_value(phone), actor)


def change_photo(
    session: Session, institution: Institution, key: str, *, remove: bool, actor: str
) -> ProUpdate:
    """Make a shown photo the front photo, or stop showing it (it stays in the history).

    Raises `outlet_photos.UnknownPhoto` for a key the outlet does not show.
    """
    check_updatable(institution)
    lock(session, institution.id)
    before = current(session, institution.id, "photos")
    if not remove and any(p["key"] == key and p["front"] for p in before or []):
        return ProUpdate(institution.fi_code, "photos", False, None, before, before)
    change = outlet_photos.change_shown(
        session,
        institution.id,
        institution.fi_code,
        key,
        remove=remove,
        actor=actor,
        channel=CHANNEL,
    )
    return ProUpdate(institution.fi_code, "photos", True, change.event_id, before, change.after)


def _has_value(value: Any) -> bool:
    return value is not None and value != [] and value != {}


def confirm_groups(
    session: Session, institution: Institution, groups: tuple[str, ...], *, actor: str
) -> Confirmation:
    """核对确认: `actor` checked the current value of each group.

    Provenance records who confirmed what and when (`profiles.profile_changes.
    mark_confirmed`, as `uploads.staff.confirm` does for a whole outlet). When
    the staff had submitted the outlet's data and now every group that has a
    value is confirmed, the upload task moves to confirmed. A group without a
    value cannot be confirmed (`NothingToConfirm`).
    """
    check_updatable(institution)
    provenance = lock(session, institution.id)
    values = {g: current(session, institution.id, g) for g in VALUE_GROUPS}
    empty = [g for g in groups if not _has_value(values[g])]
    if empty:
        raise NothingToConfirm(empty)
    mark_confirmed(session, institution.id, groups, actor=actor)
    confirmed = set(groups) | {
        g for g in VALUE_GROUPS if (provenance.get(g) or {}).get("confirmed") is True
    }
    complete = all(g in confirmed for g in VALUE_GROUPS if _has_value(values[g]))
    moved = complete and staff.confirm_task(session, institution.id, actor)
    return Confirmation(
        institution.fi_code, groups, staff.task_status(session, institution.id), moved
    )
