"""What the bot remembers of each user between messages, in PostgreSQL.

"第二个的电话", "更多" or "附近的" only make sense after an earlier message: the
last results, the last search (to page on) and the last shared position. They
live in `bot_conversation`, one row per user, so any worker of any host can
answer the next message (DESIGN.md, Scale), and they expire: a position shared
an hour ago is no longer where the user is, and a list from yesterday is not
what "第二个" points at. Users are stored as a keyed hash (`client_hash` with
the server's secret), never as the channel's id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import DateTime, Float, Index, Text, func, select
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from bot.messages import SharedLocation
from core.base import Base
from core.ratelimit import client_hash

LOCATION_TTL = timedelta(hours=1)
RESULTS_TTL = timedelta(minutes=30)


class BotConversation(Base):
    __tablename__ = "bot_conversation"
    __table_args__ = (Index("ix_bot_conversation_updated_at", "updated_at"),)

    user_key: Mapped[str] = mapped_column(Text, primary_key=True)
    lat: Mapped[float | None] = mapped_column(Float)  # WGS-84
    lng: Mapped[float | None] = mapped_column(Float)
    location_label: Mapped[str | None] = mapped_column(Text)
    location_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    results: Mapped[list[str]] = mapped_column(JSONB)  # fi_codes, in order
    search: Mapped[dict[str, Any] | None] = mapped_column(JSONB)  # the last search, to page on
    pending: Mapped[dict[str, Any] | None] = mapped_column(JSONB)  # waits for a position
    results_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


@dataclass
class Memory:
    """One user's remembered state, with what has expired already left out."""

    user_key: str
    location: SharedLocation | None = None
    location_at: datetime | None = None
    results: list[str] = field(default_factory=list)
    search: dict[str, Any] | None = None
    pending: dict[str, Any] | None = None
    results_at: datetime | None = None


def user_key(user: str, secret: str) -> str:
    return client_hash(f"bot:{user}", secret)


def recall(session: Session, key: str, now: datetime) -> Memory:
    row = session.execute(
        select(BotConversation).where(BotConversation.user_key == key)
    ).scalar_one_or_none()
    memory = Memory(user_key=key)
    if row is None:
        return memory
    if (
        row.lat is not None
        and row.lng is not None
        and row.location_at is not None
        and now - row.location_at <= LOCATION_TTL
    ):
        memory.location = SharedLocation(row.lat, row.lng, row.location_label)
        memory.location_at = row.location_at
    if row.results_at is not None and now - row.results_at <= RESULTS_TTL:
        memory.results = list(row.results or [])
        memory.search = row.search
        memory.pending = row.pending
        memory.results_at = row.results_at
    return memory


def remember(session: Session, memory: Memory, now: datetime) -> None:
    """Store `memory` (one upsert; the caller's transaction commits it)."""
    location = memory.location
    values: dict[str, Any] = {
        "user_key": memory.user_key,
        "lat": None if location is None else location.lat,
        "lng": None if location is None else location.lng,
        "location_label": None if location is None else location.label,
        "location_at": memory.location_at,
        "results": memory.results,
        "search": memory.search,
        "pending": memory.pending,
        "results_at": memory.results_at,
        "updated_at": now,
    }
    statement = insert(BotConversation).values(**values)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[BotConversation.user_key],
            set_={k: statement.excluded[k] for k in values if k != "user_key"},
        )
    )


def forget(session: Session, key: str) -> None:
    """Drop everything about a user (on unsubscribe)."""
    session.query(BotConversation).filter(BotConversation.user_key == key).delete()


def purge(session: Session, now: datetime) -> int:
    """Delete conversations idle for longer than anything in them lives."""
    cutoff = now - max(LOCATION_TTL, RESULTS_TTL)
    deleted = session.query(BotConversation).filter(BotConversation.updated_at < cutoff).delete()
    return int(deleted)
