"""The photos of an outlet: at most six, one of them the front photo (门头照).

A photo's bytes live in a `PhotoStore` under their sha256 (the same picture
uploaded twice, or for two outlets, is stored once); the table says which
outlet shows which photo. The set an outlet shows is one field group,
`photos`, changed through `profiles.profile_changes` like every other group,
so adding, removing or choosing the front photo is an event that can be
reverted. Removed photos keep their row (status `removed`) so a revert can
bring them back.

A photo whose EXIF position (read before the EXIF is stripped) lies far from
the outlet is held for review rather than shown: staff sometimes upload the
wrong branch's picture.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    func,
    select,
    text,
)
from sqlalchemy.orm import Session

from core.coords import distance_m
from core.models.photos import OutletPhoto
from profiles.profile_changes import Change, change_group, current, lock
from uploads import reviews
from uploads.photo_store import PhotoStore
from uploads.photos import ProcessedPhoto

MAX_PHOTOS = 6
PHOTO_FAR_M = 1000.0  # EXIF position this far from the outlet: probably another branch


class PhotoLimit(Exception):
    pass


class UnknownPhoto(LookupError):
    pass


@dataclass(frozen=True)
class PhotoUpload:
    key: str
    front: bool
    published: bool
    duplicate: bool  # this outlet already had this photo
    flags: tuple[str, ...]
    exif_distance_m: float | None
    event_id: int | None
    review_id: int | None
    width: int
    height: int


def _outlet_position(session: Session, institution_id: int) -> tuple[float, float] | None:
    row = session.execute(
        text(
            "SELECT ST_Y(position::geometry), ST_X(position::geometry) FROM outlet_profile "
            "WHERE institution_id = :id AND position IS NOT NULL"
        ),
        {"id": institution_id},
    ).one_or_none()
    return (float(row[0]), float(row[1])) if row else None


def _with_front(photos: list[dict[str, Any]], front_key: str | None) -> list[dict[str, Any]]:
    """The set with exactly one front photo: `front_key`, else the current one, else the first."""
    if not photos:
        return []
    keys = [p["key"] for p in photos]
    if front_key not in keys:
        front_key = next((p["key"] for p in photos if p.get("front")), keys[0])
    return [{"key": k, "front": k == front_key} for k in keys]


def add_photo(
    session: Session,
    store: PhotoStore,
    institution_id: int,
    fi_code: str,
    photo: ProcessedPhoto,
    *,
    actor: str,
    channel: str = "staff_upload",
    front: bool = False,
) -> PhotoUpload:
    """Store a verified photo and show it for the outlet (or hold it for review).

    Raises `PhotoLimit` when the outlet already has `MAX_PHOTOS`. The caller commits.
    """
    lock(session, institution_id)
    shown: list[dict[str, Any]] = current(session, institution_id, "photos") or []
    existing = session.execute(
        select(OutletPhoto).where(
            OutletPhoto.institution_id == institution_id, OutletPhoto.key == photo.key
        )
    ).scalar_one_or_none()
    if existing is not None and existing.status != "removed":
        change = None
        if existing.status == "published" and front:
            change = change_group(
                session,
                institution_id,
                fi_code,
                "photos",
                _with_front(shown, photo.key),
                actor=actor,
                channel=channel,
            )
        return _result(existing, True, (), change, None, front_now=_is_front(session, existing))
    held = session.execute(
        select(func.count())
        .select_from(OutletPhoto)
        .where(OutletPhoto.institution_id == institution_id, OutletPhoto.status == "flagged")
    ).scalar_one()
    if len(shown) + held >= MAX_PHOTOS:
        raise PhotoLimit(f"an outlet shows at most {MAX_PHOTOS} photos")
    flags: list[str] = []
    distance = None
    outlet_at = _outlet_position(session, institution_id)
    if photo.gps is not None and outlet_at is not None:
        distance = distance_m(photo.gps[0], photo.gps[1], outlet_at[0], outlet_at[1])
        if distance > PHOTO_FAR_M:
            flags.append("photo_far_away")
    store.put(photo.key, "original", photo.jpeg)
    store.put(photo.key, "thumb", photo.thumbnail)
    row = existing or OutletPhoto(institution_id=institution_id, key=photo.key)
    row.status = "flagged" if flags else "removed"  # published below, through the event
    row.is_front = False
    row.width, row.height = photo.width, photo.height
    row.source_format = photo.source_format
    row.exif_position = (
        f"SRID=4326;POINT({photo.gps[1]} {photo.gps[0]})" if photo.gps is not None else None
    )
    row.exif_distance_m = distance
    row.taken_at = photo.taken_at
    row.uploaded_by = actor
    row.uploaded_at = func.now()
    session.add(row)
    session.flush()
    want_front = front or not shown
    if flags:
        proposed = {"key": photo.key, "front": want_front}
        change = change_group(
            session,
            institution_id,
            fi_code,
            "photos",
            _with_front([*shown, proposed], photo.key if want_front else None),
            actor=actor,
            channel=channel,
            publish=False,
        )
        review_id = reviews.hold(
            session, fi_code, "photos", proposed, flags, change.event_id, actor
        )
        return _result(row, False, tuple(flags), change, review_id, front_now=False)
    change = change_group(
        session,
        institution_id,
        fi_code,
        "photos",
        _with_front([*shown, {"key": photo.key}], photo.key if want_front else None),
        actor=actor,
        channel=channel,
    )
    session.refresh(row)
    return _result(row, False, (), change, None, front_now=row.is_front)


def _is_front(session: Session, row: OutletPhoto) -> bool:
    session.refresh(row)
    return bool(row.is_front)


def _result(
    row: OutletPhoto,
    duplicate: bool,
    flags: tuple[str, ...],
    change: Change | None,
    review_id: int | None,
    *,
    front_now: bool,
) -> PhotoUpload:
    return PhotoUpload(
        key=row.key,
        front=front_now,
        published=row.status == "published",
        duplicate=duplicate,
        flags=flags,
        exif_distance_m=row.exif_distance_m,
        event_id=change.event_id if change else None,
        review_id=review_id,
        width=row.width,
        height=row.height,
    )


def publish_held(
    session: Session, institution_id: int, fi_code: str, value: dict[str, Any], actor: str
) -> Change:
    """An accepted review: show the held photo in the outlet's current set."""
    lock(session, institution_id)
    session.execute(
        text(
            "UPDATE outlet_photo SET status = 'removed' "
            "WHERE institution_id = :id AND key = :key AND status = 'flagged'"
        ),
        {"id": institution_id, "key": value["key"]},
    )
    shown: list[dict[str, Any]] = current(session, institution_id, "photos") or []
    if len(shown) >= MAX_PHOTOS:
        raise PhotoLimit(f"an outlet shows at most {MAX_PHOTOS} photos")
    return change_group(
        session,
        institution_id,
        fi_code,
        "photos",
        _with_front([*shown, {"key": value["key"]}], value["key"] if value.get("front") else None),
        actor=actor,
        channel="pro_update",
        note={"accepted_photo": value["key"]},
    )


def change_shown(
    session: Session,
    institution_id: int,
    fi_code: str,
    key: str,
    *,
    remove: bool,
    actor: str,
    channel: str = "staff_upload",
) -> Change:
    """Make `key` the front photo, or stop showing it. Raises `UnknownPhoto`."""
    lock(session, institution_id)
    shown: list[dict[str, Any]] = current(session, institution_id, "photos") or []
    if key not in {p["key"] for p in shown}:
        raise UnknownPhoto(key)
    if remove:
        value = _with_front([p for p in shown if p["key"] != key], None)
    else:
        value = _with_front(shown, key)
    return change_group(
        session, institution_id, fi_code, "photos", value, actor=actor, channel=channel
    )


def published(session: Session, institution_id: int) -> list[dict[str, Any]]:
    """The photos the public sees, front first."""
    rows = session.execute(
        select(
            OutletPhoto.key,
            OutletPhoto.is_front,
            OutletPhoto.width,
            OutletPhoto.height,
            OutletPhoto.uploaded_at,
        )
        .where(OutletPhoto.institution_id == institution_id, OutletPhoto.status == "published")
        .order_by(OutletPhoto.is_front.desc(), OutletPhoto.id)
    ).all()
    return [
        {
            "key": r.key,
            "front": r.is_front,
            "width": r.width,
            "height": r.height,
            "uploaded_at": r.uploaded_at,
        }
        for r in rows
    ]


def known_key(session: Session, key: str) -> bool:
    """Whether any outlet shows (or holds for review) a photo with this key."""
    return bool(
        session.execute(
            select(func.count())
            .select_from(OutletPhoto)
            .where(OutletPhoto.key == key, OutletPhoto.status != "removed")
        ).scalar_one()
    )
