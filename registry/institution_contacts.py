"""Changing an institution's contact fields (address, postcode, phone) outside the registry sync.

The registry record of an institution (`core.models.registry.Institution`) comes
from the PBoC registry; its contact fields are the ones an institution most
often finds wrong and the ones the professional app's info update may change.
Everything else (names, codes, level, region, licence, status, dates) is the
registry's to maintain and only changes through the sync.

Why these rules:

- The same rule engine as the import: the stored record with the new values
  goes through `registry.record_checks.check_record`, so the same rule ids and
  messages refuse a bad postcode or phone, an over-long or garbled address, or
  an empty address of a place the public visits. Only issues in the fields
  being changed count: an old problem elsewhere in the record is not the
  caller's doing and must not block a correction.
- Only what differs is written, with one change event (entity `institution`,
  the changed fields before and after, like the sync's events) carrying the
  channel and actor, so history and revert treat them like any other change.
- The registry sync stays authoritative. Writing these columns voids the
  record's source fingerprint (trigger of migration 0003), so the next sync
  compares the record in full, and when the PBoC file still carries the old
  value, the sync writes it back (a `registry_sync` event; both stay in the
  history). A correction made here must therefore also be reported to the PBoC
  registry (金融业机构信息管理系统), which is how it becomes permanent. What the
  public sees as an outlet's phone is the profile's phone group when set
  (`uploads.pro_updates.update_phone`), which the sync never touches.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func
from sqlalchemy.orm import Session

from core.models.registry import ChangeEvent, Institution
from registry.record_checks import DATA_COLUMNS, check_record
from registry.rules import Issue

CONTACT_FIELDS = ("address", "postcode", "phone")


class ContactRefused(ValueError):
    """The new values break registry rules; `issues` are the errors, per field."""

    def __init__(self, issues: list[Issue]) -> None:
        super().__init__("; ".join(i.message_en for i in issues))
        self.issues = issues


@dataclass(frozen=True)
class ContactUpdate:
    """What changed (`before`/`after` hold only the changed fields; empty if nothing did)."""

    fi_code: str
    event_id: int | None
    before: dict[str, str | None]
    after: dict[str, str | None]
    warnings: tuple[Issue, ...]

    @property
    def changed(self) -> bool:
        return self.event_id is not None


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def update_contacts(
    session: Session,
    institution: Institution,
    changes: dict[str, str | None],
    *,
    actor: str,
    channel: str,
) -> ContactUpdate:
    """Check and write new contact values (None or "" clears a field); the caller commits.

    Raises `ContactRefused` with the rule issues of the changed fields, and
    `ValueError` for a field that is not a contact field (a programming error).
    """
    unknown = sorted(set(changes) - set(CONTACT_FIELDS))
    if unknown:
        raise ValueError(f"not contact fields: {unknown}")
    session.refresh(institution, with_for_update=True)  # one writer at a time, fresh values
    raw = {key: _as_text(getattr(institution, key)) for key in DATA_COLUMNS}
    raw["fi_code"] = institution.fi_code
    for field, value in changes.items():
        raw[field] = (value or "").strip()
    checked = check_record(raw)
    mine = [i for i in checked.issues if i.column in changes]
    errors = [i for i in mine if i.severity == "error"]
    if errors:
        raise ContactRefused(errors)
    before: dict[str, str | None] = {}
    after: dict[str, str | None] = {}
    for field in changes:
        old, new = getattr(institution, field), checked.values[field]
        if old != new:
            before[field], after[field] = old, new
    warnings = tuple(i for i in mine if i.severity != "error")
    if not after:
        return ContactUpdate(institution.fi_code, None, {}, {}, warnings)
    for field, value in after.items():
        setattr(institution, field, value)
    institution.updated_at = func.now()
    event = ChangeEvent(
        entity="institution",
        fi_code=institution.fi_code,
        field_group=None,  # as the registry sync's events: the keys say which fields
        before=before,
        after=after,
        actor=actor,
        channel=channel,
    )
    session.add(event)
    session.flush()
    return ContactUpdate(institution.fi_code, event.id, before, after, warnings)


def is_contact_event(event: ChangeEvent) -> bool:
    """Whether an institution event changed contact fields only (so it can be reverted)."""
    if event.entity != "institution" or not event.before or not event.after:
        return False
    return set(event.before) | set(event.after) <= set(CONTACT_FIELDS)
