"""Changing one field group of one outlet profile, with its change event.

Every single-record write to a profile goes through `change_group`: staff
uploads, reverts, accepted reviews, and later the professional API. It

1. locks the profile row (`SELECT ... FOR UPDATE`), so two uploads for the same
   outlet apply one after the other and each event's `before` is exactly what
   the previous one left: none is lost, the latest wins;
2. reads the group's current value in the same JSON shape the bulk profile
   import writes into `change_event` (`profiles.profile_import`), so a revert
   can apply any event's `before`, whichever channel wrote it;
3. writes the new value (unless the change is held for review), the event and
   the group's provenance entry.

`mark_confirmed` is the other write of a profile's provenance: the
institution checked (核对确认) a group's current value.

Values per group: position `{latitude, longitude, captured_in, accuracy_m}`
(WGS-84), business_types a list of keys, hours the canonical hours JSON, phone
a string, photos a list of `{key, front}`; None means "no value".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.models.registry import ChangeEvent

VALUE_GROUPS = ("position", "business_types", "hours", "phone", "photos")

_CURRENT = {
    "position": "CASE WHEN p.position IS NULL THEN NULL ELSE jsonb_build_object("
    "'latitude', ST_Y(p.position::geometry), 'longitude', ST_X(p.position::geometry), "
    "'captured_in', p.position_coord_system, 'accuracy_m', p.position_accuracy_m) END",
    "business_types": "to_jsonb(p.business_types)",
    "hours": "p.opening_hours",
    "phone": "to_jsonb(p.phone)",
    "photos": "(SELECT coalesce(jsonb_agg(jsonb_build_object('key', ph.key, 'front', ph.is_front)"
    " ORDER BY ph.is_front DESC, ph.id), '[]'::jsonb) FROM outlet_photo ph "
    "WHERE ph.institution_id = p.institution_id AND ph.status = 'published')",
}

_WRITE = {
    "position": """UPDATE outlet_profile SET
        position = CASE WHEN CAST(:v AS jsonb) IS NULL THEN NULL ELSE ST_SetSRID(ST_MakePoint(
            (CAST(:v AS jsonb)->>'longitude')::float8, (CAST(:v AS jsonb)->>'latitude')::float8),
            4326)::geography END,
        position_coord_system = CAST(:v AS jsonb)->>'captured_in',
        position_accuracy_m = (CAST(:v AS jsonb)->>'accuracy_m')::float8""",
    "business_types": """UPDATE outlet_profile SET business_types = coalesce(ARRAY(
        SELECT jsonb_array_elements_text(CAST(:v AS jsonb))), '{}')""",
    "hours": "UPDATE outlet_profile SET opening_hours = CAST(:v AS jsonb)",
    "phone": "UPDATE outlet_profile SET phone = CAST(:v AS jsonb) #>> '{}'",
}

# Photos are rows of their own (uploads.outlet_photos); their value is the published set.
_WRITE_PHOTOS = """
UPDATE outlet_photo ph SET
    status = CASE WHEN v.key IS NULL THEN 'removed' ELSE 'published' END,
    is_front = coalesce(v.front, false)
FROM outlet_photo p2
LEFT JOIN (SELECT x->>'key' AS key, (x->>'front')::bool AS front
           FROM jsonb_array_elements(coalesce(CAST(:v AS jsonb), '[]'::jsonb)) x) v
       ON v.key = p2.key
WHERE ph.id = p2.id AND ph.institution_id = :id AND ph.status IN ('published', 'removed')
"""


@dataclass(frozen=True)
class Change:
    event_id: int
    before: Any
    after: Any
    published: bool


def ensure_profile(session: Session, institution_id: int) -> None:
    session.execute(
        text(
            "INSERT INTO outlet_profile (institution_id, business_types, service_links, "
            "provenance) VALUES (:id, '{}', '[]', '{}') ON CONFLICT (institution_id) DO NOTHING"
        ),
        {"id": institution_id},
    )


def lock(session: Session, institution_id: int) -> dict[str, Any]:
    """Lock the outlet's profile for this transaction and return its provenance."""
    ensure_profile(session, institution_id)
    provenance: dict[str, Any] = session.execute(
        text("SELECT provenance FROM outlet_profile WHERE institution_id = :id FOR UPDATE"),
        {"id": institution_id},
    ).scalar_one()
    return provenance or {}


def current(session: Session, institution_id: int, group: str) -> Any:
    """The group's value now, in the change-event shape."""
    return session.execute(
        text(f"SELECT {_CURRENT[group]} FROM outlet_profile p WHERE p.institution_id = :id"),
        {"id": institution_id},
    ).scalar_one()


def change_group(
    session: Session,
    institution_id: int,
    fi_code: str,
    group: str,
    value: Any,
    *,
    actor: str,
    channel: str,
    publish: bool = True,
    note: dict[str, Any] | None = None,
) -> Change:
    """Record (and unless held for review, apply) a new value of one group.

    The caller has validated `value`; the caller commits. `note` goes into the
    provenance entry (e.g. which event a revert undid, or the review flags).
    """
    if group not in VALUE_GROUPS:
        raise ValueError(f"unknown field group {group!r}")
    lock(session, institution_id)
    before = current(session, institution_id, group)
    params = {"v": _json(value), "id": institution_id}
    if publish:
        if group == "photos":
            session.execute(text(_WRITE_PHOTOS), params)
        else:
            session.execute(text(_WRITE[group] + " WHERE institution_id = :id"), params)
    event = ChangeEvent(
        entity="outlet_profile",
        fi_code=fi_code,
        field_group=group,
        before=before,
        after=value,
        actor=actor,
        channel=channel,
        published=publish,
    )
    session.add(event)
    session.flush()
    if publish:
        entry = {"channel": channel, "actor": actor, "event_id": event.id, "confirmed": False}
        session.execute(
            text(
                "UPDATE outlet_profile SET updated_at = now(), provenance = provenance || "
                "jsonb_build_object(CAST(:g AS text), CAST(:e AS jsonb) || "
                "jsonb_build_object('at', now())) WHERE institution_id = :id"
            ),
            {"g": group, "e": _json({**entry, **(note or {})}), "id": institution_id},
        )
    return Change(event.id, before, value, publish)


# Confirming stamps the group's provenance entry (made if the group has none yet, e.g. data
# older than provenance) with who confirmed it and when; the value itself is untouched.
# Without a list of groups: every group that has an entry.
_MARK_CONFIRMED = """
UPDATE outlet_profile p SET provenance = p.provenance || (
    SELECT coalesce(jsonb_object_agg(g.name, CASE
        WHEN jsonb_typeof(p.provenance -> g.name) = 'object' THEN p.provenance -> g.name
        ELSE '{}'::jsonb END
        || jsonb_build_object('confirmed', true, 'confirmed_at', now(),
                              'confirmed_by', CAST(:actor AS text))), '{}'::jsonb)
    FROM unnest(coalesce(CAST(:groups AS text[]), ARRAY(
        SELECT e.key FROM jsonb_each(p.provenance) e WHERE jsonb_typeof(e.value) = 'object'
    ))) AS g(name))
WHERE p.institution_id = :id
"""


def mark_confirmed(
    session: Session, institution_id: int, groups: tuple[str, ...] | None, *, actor: str
) -> None:
    """Record that `actor` confirmed the current value of `groups` (None: every group that
    has a provenance entry). The caller checked the groups and commits."""
    if groups is not None and not set(groups) <= set(VALUE_GROUPS):
        raise ValueError(f"unknown field groups {sorted(set(groups) - set(VALUE_GROUPS))}")
    session.execute(
        text(_MARK_CONFIRMED),
        {"id": institution_id, "groups": None if groups is None else list(groups), "actor": actor},
    )


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, default=str)
