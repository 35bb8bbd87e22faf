"""The audit log of the professional app: who did what to whom, when, with what outcome.

Every write (an account created, a password changed or reset, an account
disabled, tokens revoked), every sign-in, and every refused call (wrong
password, dead token, a role or jurisdiction that does not allow it) adds one
row. A PBoC office must be able to answer "who changed this, and who tried to"
for its area, so:

- the table is append-only: a trigger (migration 0012) refuses UPDATE and
  DELETE, as for `change_event`;
- each row is filed under a jurisdiction (`region_code` prefix and, for an
  institution's accounts, `legal_entity_code`) when it is written, so reading
  the log is the same `Scope.clause(AuditEntry)` filter as any other pro query,
  whatever later happens to the accounts involved;
- client addresses are stored only as the peppered hash of
  `web.ratelimit.current_client_hash()`, like everywhere else.

`record()` adds the row to the caller's session: a write and its audit entry
commit or roll back together. A refusal has nothing to commit with, so the pro
API rolls the request back, records, and commits before answering (see
`pro_api.deny`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import BigInteger, CheckConstraint, DateTime, Identity, Index, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.base import Base

Outcome = Literal["ok", "denied", "failed"]
OUTCOMES: tuple[Outcome, ...] = ("ok", "denied", "failed")
DETAIL_MAX_CHARS = 2000  # a detail is a few facts, never a request body


class AuditEntry(Base):
    """One audited action; never updated or deleted."""

    __tablename__ = "audit_log"
    __table_args__ = (
        CheckConstraint("outcome IN ('ok', 'denied', 'failed')", name="outcome"),
        CheckConstraint(
            "client_hash IS NULL OR client_hash ~ '^[0-9a-f]{64}$'", name="client_hash_format"
        ),
        Index(
            "ix_audit_log_region_code",
            "region_code",
            postgresql_ops={"region_code": "text_pattern_ops"},
        ),
        Index("ix_audit_log_actor_id", "actor_id"),
        Index("ix_audit_log_target", "target_kind", "target_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    actor_id: Mapped[int | None] = mapped_column(BigInteger)  # a pro account, when known
    actor: Mapped[str] = mapped_column(Text)  # "account:12", "cli:alice", "anonymous"
    action: Mapped[str] = mapped_column(String(48))  # "account.create", "auth.login", ...
    outcome: Mapped[str] = mapped_column(String(8))
    target_kind: Mapped[str | None] = mapped_column(String(16))  # "account", later others
    target_id: Mapped[str | None] = mapped_column(Text)
    # The jurisdiction the entry is filed under (see module docstring); NULL = nobody's
    # (a sign-in attempt with an unknown username).
    region_code: Mapped[str | None] = mapped_column(String(6))
    legal_entity_code: Mapped[str | None] = mapped_column(String(14))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    client_hash: Mapped[str | None] = mapped_column(Text)
    request_id: Mapped[str | None] = mapped_column(Text)


@dataclass(frozen=True)
class Actor:
    """Who acts: a pro account (id) or a named non-account (the CLI, an anonymous client)."""

    label: str
    account_id: int | None = None

    @classmethod
    def account(cls, account_id: int) -> Actor:
        return cls(f"account:{account_id}", account_id)


ANONYMOUS = Actor("anonymous")


@dataclass(frozen=True)
class Filed:
    """The jurisdiction an entry is filed under: who may read it later."""

    region_code: str | None
    legal_entity_code: str | None = None


NOWHERE = Filed(None)


def record(
    session: Session,
    action: str,
    outcome: Outcome,
    *,
    actor: Actor,
    filed: Filed,
    target_kind: str | None = None,
    target_id: str | int | None = None,
    detail: Mapping[str, Any] | None = None,
    client_hash: str | None = None,
    request_id: str | None = None,
) -> AuditEntry:
    """Add one audit entry to `session`; the caller commits (with the write it describes)."""
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown audit outcome {outcome!r}")
    facts = _without_nul(dict(detail or {}))
    if len(repr(facts)) > DETAIL_MAX_CHARS:
        facts = {"truncated": repr(facts)[:DETAIL_MAX_CHARS]}
    entry = AuditEntry(
        actor_id=actor.account_id,
        actor=actor.label,
        action=action,
        outcome=outcome,
        target_kind=target_kind,
        target_id=None if target_id is None else _without_nul(str(target_id)),
        region_code=filed.region_code,
        legal_entity_code=filed.legal_entity_code,
        detail=facts,
        client_hash=client_hash,
        request_id=request_id,
    )
    session.add(entry)
    return entry


def _without_nul(value: Any) -> Any:
    """The value with NUL characters replaced: PostgreSQL text and jsonb cannot hold them,
    and a refused request's path or input may carry one (`/outlets/%00`)."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {str(k).replace("\x00", "\ufffd"): _without_nul(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_without_nul(v) for v in value]
    return value
