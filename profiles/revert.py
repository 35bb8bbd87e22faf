"""Reverting one change from an institution's history (`registry.history`) as a new event."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models.registry import ChangeEvent, Institution
from profiles.profile_changes import VALUE_GROUPS, Change, change_group
from registry.institution_contacts import (
    CONTACT_FIELDS,
    ContactRefused,
    is_contact_event,
    update_contacts,
)


class RevertRefused(ValueError):
    pass


def revert(session: Session, event_id: int, *, actor: str, channel: str) -> Change:
    """Put a profile field group, or an institution's contact fields, back to their value
    before `event_id`, as a new event.

    History is never rewritten: the revert is itself an event (a profile group's
    provenance names the reverted event), so it can be reverted in turn.
    Raises `LookupError` for an unknown event, `RevertRefused` for one that is
    not a published change of a profile field group or of contact fields only
    (the registry's other fields belong to the registry sync).
    """
    event = session.get(ChangeEvent, event_id)
    if event is None:
        raise LookupError(f"no change event {event_id}")
    if event.entity == "institution":
        return _revert_contacts(session, event, actor=actor, channel=channel)
    if event.entity != "outlet_profile" or event.field_group not in VALUE_GROUPS:
        raise RevertRefused(f"event {event_id} is not a change of an outlet's profile field")
    if not event.published:
        raise RevertRefused(f"event {event_id} was held for review and never applied")
    institution_id = session.execute(
        select(Institution.id).where(Institution.fi_code == event.fi_code)
    ).scalar_one()
    return change_group(
        session,
        institution_id,
        event.fi_code,
        event.field_group,
        event.before,
        actor=actor,
        channel=channel,
        note={"reverted_event": event_id},
    )


def _revert_contacts(session: Session, event: ChangeEvent, *, actor: str, channel: str) -> Change:
    if not is_contact_event(event):
        raise RevertRefused(
            f"event {event.id} changed registry fields other than {', '.join(CONTACT_FIELDS)} "
            "(or created the record): only the registry sync changes those"
        )
    institution = session.execute(
        select(Institution).where(Institution.fi_code == event.fi_code)
    ).scalar_one()
    try:
        update = update_contacts(
            session, institution, dict(event.before or {}), actor=actor, channel=channel
        )
    except ContactRefused as exc:
        raise RevertRefused(f"the earlier value breaks today's rules: {exc}") from exc
    if update.event_id is None:
        raise RevertRefused(f"the institution already holds the values before event {event.id}")
    return Change(update.event_id, update.before, update.after, True)
