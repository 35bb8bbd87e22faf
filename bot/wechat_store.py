"""WeChat's retries, answered once: one row per message in PostgreSQL.

WeChat re-sends a message when it has no answer within 5 seconds, up to three
times, and the retry may reach another gunicorn worker or host. So the "have
we seen it" mark lives in the database (DESIGN.md, Scale), not in memory: the
first delivery inserts the message's key (`INSERT ... ON CONFLICT DO NOTHING`
on its own connection, committed at once) and only that delivery asks the bot;
a retry finds the row and replays the reply stored with it.

Keys follow WeChat's advice (MsgId; FromUserName + CreateTime for events
without one) but are stored only as a keyed sha256 with the server's
`secret_key`, like every client identity here (`core.ratelimit`), so the
table never holds an openid; a CHECK constraint refuses anything but a digest.
`reply` is the text we answered ('' for WeChat's "success", i.e. no reply).

Rows are useful for the few seconds of WeChat's retries; `purge` deletes old
ones, and a small share of claims calls it, so the table stays small without
a cron job.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, Engine, Index, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column

from core.base import Base
from core.ratelimit import client_hash

RETENTION_S = 86_400  # a day: far beyond WeChat's retries, short enough to stay tiny
PURGE_PROBABILITY = 0.01  # share of claims that also delete old rows
POLL_INTERVAL_S = 0.1


class WeChatMessage(Base):
    """A message WeChat delivered, by keyed hash, with the reply we gave."""

    __tablename__ = "wechat_message"
    __table_args__ = (
        CheckConstraint("msg_key ~ '^[0-9a-f]{64}$'", name="msg_key_format"),
        Index("ix_wechat_message_received_at", "received_at"),
    )

    msg_key: Mapped[str] = mapped_column(Text, primary_key=True)
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    reply: Mapped[str | None] = mapped_column(Text)


@dataclass(frozen=True)
class Claim:
    """Whether this delivery is the first, and what was answered before if not."""

    first: bool
    reply: str | None = None  # for a retry: the stored reply, None while still pending


def message_key(
    pepper: str,
    account: str,
    msg_id: str | None,
    sender: str,
    create_time: str,
    event: str | None,
) -> str:
    """The hashed de-duplication key of one message, as WeChat advises forming it.

    The event name joins FromUserName + CreateTime so that two different events
    of one user in the same second stay two messages.
    """
    if msg_id:
        identity = f"wechat|{account}|msg|{msg_id}"
    else:
        identity = f"wechat|{account}|event|{sender}|{create_time}|{event or ''}"
    return client_hash(identity, pepper)


_CLAIM = text(
    "INSERT INTO wechat_message (msg_key) VALUES (:key) "
    "ON CONFLICT (msg_key) DO NOTHING RETURNING msg_key"
)
_REPLY = text("SELECT reply FROM wechat_message WHERE msg_key = :key")
_STORE = text("UPDATE wechat_message SET reply = :reply WHERE msg_key = :key")
_PURGE = text(
    "DELETE FROM wechat_message WHERE received_at < now() - make_interval(secs => :age_s)"
)


def claim(engine: Engine, key: str) -> Claim:
    """Mark the message as seen; say whether this delivery is the first one.

    Runs on its own connection and commits at once, so the mark holds for every
    other worker before the bot even starts.
    """
    with engine.begin() as conn:
        inserted = conn.execute(_CLAIM, {"key": key}).first() is not None
        if inserted:
            if random.random() < PURGE_PROBABILITY:
                conn.execute(_PURGE, {"age_s": RETENTION_S})
            return Claim(first=True)
        return Claim(first=False, reply=conn.execute(_REPLY, {"key": key}).scalar())


def store_reply(engine: Engine, key: str, reply: str) -> None:
    """Remember what the first delivery answered, for a retry to replay."""
    with engine.begin() as conn:
        conn.execute(_STORE, {"key": key, "reply": reply})


def wait_for_reply(engine: Engine, key: str, timeout_s: float) -> str | None:
    """The reply the first delivery stores, if it does so within `timeout_s`.

    A retry arrives 5 s after the first delivery, when that one has normally
    answered long since; a short wait covers the rare first delivery that is
    still finishing, without ever asking the bot twice.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        with engine.connect() as conn:
            reply: str | None = conn.execute(_REPLY, {"key": key}).scalar()
        if reply is not None or time.monotonic() >= deadline:
            return reply
        time.sleep(min(POLL_INTERVAL_S, max(0.0, deadline - time.monotonic())))


def purge(engine: Engine, older_than_s: int = RETENTION_S) -> int:
    """Delete rows older than `older_than_s`; returns how many went."""
    with engine.begin() as conn:
        return conn.execute(_PURGE, {"age_s": older_than_s}).rowcount
