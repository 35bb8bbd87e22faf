"""Outlet staff, their upload tasks and the one-time codes that bind them to an outlet.

The rollout (DOMAIN.md, steps 3-5) hands the data entry of each outlet to that
outlet's own staff. An institution creates an upload task per outlet and hands
out its binding code (on paper or as a QR code); whoever redeems the code in
the mini-program may edit that outlet, and only that outlet.

- Staff are known by a keyed hash of their WeChat openid (HMAC with the
  server's secret, as every client identity here): the openid itself is never stored,
  logged or put in a URL.
- A code is shown in clear only when it is issued; the table keeps its keyed
  hash, and redeeming it clears the hash, so a code works once.
- One task per outlet for its whole life: assigned → in_progress (a staff
  member bound) → submitted (staff say they are done) → confirmed (the
  institution checked it, 核对确认). An upload after that moves it back to
  in_progress, because the confirmed data changed.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import (
    func,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core.models.registry import Institution
from core.models.staff import StaffBinding, StaffMember, UploadTask
from profiles.profile_changes import mark_confirmed

TASK_STATUSES = ("assigned", "in_progress", "submitted", "confirmed")
TaskStatus = Literal["assigned", "in_progress", "submitted", "confirmed"]
# Crockford's base32 without I, L, O, U: nothing to misread on a printed slip.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 10  # 50 bits: with the bind rate limit, guessing one is hopeless
CODE_TTL = timedelta(days=30)
MAX_OUTLETS_PER_STAFF = 20  # a person staffs a few outlets, not a bank
REQUIRED_GROUPS = ("position", "business_types", "front_photo")  # DOMAIN.md step 3
CHECKED_GROUPS = ("position", "business_types", "hours", "phone", "front_photo")


class BindError(Exception):
    """A code that cannot be redeemed; `reason` is stable for clients and tests."""

    def __init__(self, reason: str, message: str, status: int) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.status = status


@dataclass(frozen=True)
class IssuedCode:
    fi_code: str
    name: str
    code: str  # in clear, this once
    expires_at: datetime
    qr_text: str


def keyed_hash(value: str, pepper: str) -> str:
    """HMAC-sha256 with the server's secret: stable per value, useless to read it back from."""
    return hmac.new(pepper.encode(), value.encode(), hashlib.sha256).hexdigest()


def staff_actor(staff_id: int) -> str:
    """How a staff member appears in change events and provenance."""
    return f"staff:{staff_id}"


def sign_in(session: Session, openid: str, pepper: str) -> int:
    """The staff id for a WeChat openid, created on first sign-in; the caller commits."""
    openid_hash = keyed_hash(f"openid:{openid}", pepper)
    staff_id: int = session.execute(
        insert(StaffMember)
        .values(openid_hash=openid_hash)
        .on_conflict_do_update(
            index_elements=[StaffMember.openid_hash], set_={"last_login_at": func.now()}
        )
        .returning(StaffMember.id)
    ).scalar_one()
    return staff_id


def normalise_code(code: str) -> str:
    """What a person typed, as the code was printed: case, spaces, dashes and the
    characters Crockford's alphabet reads as others (O→0, I/L→1) do not matter."""
    cleaned = code.upper().replace("-", "").replace(" ", "")
    return cleaned.translate(str.maketrans("OIL", "011"))


def _code_hash(code: str, pepper: str) -> str:
    return keyed_hash(f"bind:{normalise_code(code)}", pepper)


def _new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def create_tasks(
    session: Session,
    fi_codes: list[str],
    *,
    actor: str,
    pepper: str,
    qr_prefix: str,
) -> list[IssuedCode]:
    """Create (or keep) the task of each outlet and issue a fresh binding code for it.

    A new code replaces an unredeemed earlier one, so a lost slip can be voided
    by issuing another. Unknown, revoked or non-outlet codes raise `LookupError`
    naming them, before anything is written.
    """
    wanted = sorted({c.strip().upper() for c in fi_codes if c.strip()})
    rows = session.execute(
        select(Institution.id, Institution.fi_code, Institution.name)
        .where(
            Institution.fi_code.in_(wanted),
            Institution.status == "active",
            Institution.level.in_(("sub_branch", "outlet")),
        )
        .order_by(Institution.fi_code)
    ).all()
    missing = sorted(set(wanted) - {r.fi_code for r in rows})
    if missing:
        raise LookupError(", ".join(missing))
    now = session.execute(select(func.now())).scalar_one()
    issued: list[IssuedCode] = []
    for row in rows:
        code = _new_code()
        expires = now + CODE_TTL
        session.execute(
            insert(UploadTask)
            .values(
                institution_id=row.id,
                created_by=actor,
                code_hash=_code_hash(code, pepper),
                code_issued_by=actor,
                code_expires_at=expires,
            )
            .on_conflict_do_update(
                index_elements=[UploadTask.institution_id],
                set_={
                    "code_hash": _code_hash(code, pepper),
                    "code_issued_by": actor,
                    "code_expires_at": expires,
                    "updated_at": func.now(),
                },
            )
        )
        issued.append(IssuedCode(row.fi_code, row.name, code, expires, qr_prefix + code))
    return issued


# Tasks for the outlets a registry batch created (registry.importer): they still
# need everything from their staff. Codes are issued when the institution hands
# them out (`create_tasks`), because a code is shown in clear only then.
AUTO_TASKS = """
INSERT INTO upload_task (institution_id, created_by)
SELECT i.id, :actor FROM institution i
WHERE i.batch_id = :batch AND i.level IN ('sub_branch', 'outlet') AND i.status = 'active'
ON CONFLICT (institution_id) DO NOTHING
"""


def create_auto_tasks(session: Session, batch_id: int, actor: str) -> int:
    result = session.execute(text(AUTO_TASKS), {"batch": batch_id, "actor": actor})
    return int(result.rowcount)  # type: ignore[attr-defined]


def bind(session: Session, staff_id: int, code: str, pepper: str) -> str:
    """Redeem a binding code; returns the outlet's fi_code. The caller commits."""
    cleaned = normalise_code(code)
    if len(cleaned) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in cleaned):
        raise BindError(
            "malformed", "绑定码格式不对，应为 10 位字母数字 / a code has 10 letters or digits", 422
        )
    task = session.execute(
        select(UploadTask)
        .where(UploadTask.code_hash == _code_hash(cleaned, pepper))
        .with_for_update()
    ).scalar_one_or_none()
    if task is None:
        raise BindError(
            "unknown", "绑定码无效或已被使用 / unknown or already used binding code", 404
        )
    expires = task.code_expires_at
    if expires is not None and expires <= session.execute(select(func.now())).scalar_one():
        raise BindError("expired", "绑定码已过期，请向本机构索取新码 / the code has expired", 410)
    institution = session.get(Institution, task.institution_id)
    if institution is None or institution.status != "active":
        raise BindError("revoked", "该网点已撤销 / the outlet was revoked", 410)
    already = session.execute(
        select(func.count()).select_from(StaffBinding).where(StaffBinding.staff_id == staff_id)
    ).scalar_one()
    is_new = session.get(StaffBinding, (staff_id, task.institution_id)) is None
    if is_new and already >= MAX_OUTLETS_PER_STAFF:
        raise BindError(
            "too_many_outlets",
            f"每人最多绑定 {MAX_OUTLETS_PER_STAFF} 个网点 / at most "
            f"{MAX_OUTLETS_PER_STAFF} outlets per person",
            409,
        )
    if is_new:
        session.add(StaffBinding(staff_id=staff_id, institution_id=task.institution_id))
    task.code_hash = None  # one time
    task.code_expires_at = None
    if task.status == "assigned":
        task.status = "in_progress"
    task.updated_at = func.now()
    return institution.fi_code


def bound_institution(session: Session, staff_id: int, fi_code: str) -> int | None:
    """The institution id of `fi_code` if this staff member may edit it, else None."""
    found: int | None = session.execute(
        select(Institution.id)
        .join(StaffBinding, StaffBinding.institution_id == Institution.id)
        .where(
            StaffBinding.staff_id == staff_id,
            Institution.fi_code == fi_code.strip().upper(),
            Institution.status == "active",
        )
    ).scalar_one_or_none()
    return found


_TASKS = """
SELECT i.fi_code, i.name, i.short_name, i.address, t.status, t.submitted_at, t.confirmed_at,
       p.position IS NOT NULL AS has_position,
       coalesce(cardinality(p.business_types), 0) > 0 AS has_business_types,
       p.opening_hours IS NOT NULL AS has_hours,
       coalesce(p.phone, i.phone) IS NOT NULL AS has_phone,
       EXISTS (SELECT 1 FROM outlet_photo ph WHERE ph.institution_id = i.id AND ph.is_front
               AND ph.status = 'published') AS has_front_photo,
       (SELECT count(*) FROM upload_review r WHERE r.fi_code = i.fi_code
               AND r.status = 'open') AS in_review
FROM staff_binding b JOIN institution i ON i.id = b.institution_id
LEFT JOIN upload_task t ON t.institution_id = i.id
LEFT JOIN outlet_profile p ON p.institution_id = i.id
WHERE b.staff_id = :staff AND i.status = 'active'
ORDER BY b.bound_at, i.fi_code
"""


def staff_tasks(session: Session, staff_id: int) -> list[dict[str, Any]]:
    """The outlets a staff member may edit, each with what is still missing."""
    tasks = []
    for row in session.execute(text(_TASKS), {"staff": staff_id}).mappings():
        missing = [g for g in CHECKED_GROUPS if not row[f"has_{g}"]]
        tasks.append(
            {
                "fi_code": row["fi_code"],
                "name": row["name"],
                "short_name": row["short_name"],
                "address": row["address"],
                "status": row["status"] or "in_progress",
                "missing": missing,
                "required_missing": [g for g in REQUIRED_GROUPS if g in missing],
                "in_review": int(row["in_review"]),
                "submitted_at": row["submitted_at"],
                "confirmed_at": row["confirmed_at"],
            }
        )
    return tasks


def mark_changed(session: Session, institution_id: int) -> None:
    """An upload happened: the task is in progress again, whatever it was."""
    session.execute(
        text(
            "UPDATE upload_task SET status = 'in_progress', updated_at = now() "
            "WHERE institution_id = :id AND status <> 'in_progress'"
        ),
        {"id": institution_id},
    )


def submit(session: Session, staff_id: int, fi_code: str) -> dict[str, Any]:
    """Staff say the outlet is done; refused (ValueError naming what) while a required
    group is missing."""
    task = next((t for t in staff_tasks(session, staff_id) if t["fi_code"] == fi_code), None)
    if task is None:
        raise LookupError(fi_code)
    if task["required_missing"]:
        raise ValueError(",".join(task["required_missing"]))
    session.execute(
        text(
            "UPDATE upload_task t SET status = 'submitted', submitted_at = now(), "
            "updated_at = now() FROM institution i "
            "WHERE t.institution_id = i.id AND i.fi_code = :fi"
        ),
        {"fi": fi_code},
    )
    return {**task, "status": "submitted"}


def confirm(session: Session, fi_code: str, actor: str) -> bool:
    """The institution confirmed the outlet's data (核对确认); True if a task moved."""
    institution_id = session.execute(
        select(Institution.id).where(Institution.fi_code == fi_code.strip().upper())
    ).scalar_one_or_none()
    if institution_id is None or not confirm_task(session, institution_id, actor):
        return False
    # What was confirmed is what the profile holds now: every group's provenance says so
    # (the 2 km rule of uploads.staff_uploads and the public "last confirmed" read it).
    mark_confirmed(session, institution_id, None, actor=actor)
    return True


def task_status(session: Session, institution_id: int) -> str | None:
    """The outlet's upload task status, or None without a task."""
    status: str | None = session.execute(
        select(UploadTask.status).where(UploadTask.institution_id == institution_id)
    ).scalar_one_or_none()
    return status


def confirm_task(session: Session, institution_id: int, actor: str) -> bool:
    """Move a submitted task to confirmed (its data were confirmed group by group);
    True if it moved."""
    result = session.execute(
        text(
            "UPDATE upload_task SET status = 'confirmed', confirmed_at = now(), "
            "confirmed_by = :actor, updated_at = now() "
            "WHERE institution_id = :id AND status = 'submitted'"
        ),
        {"id": institution_id, "actor": actor},
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
