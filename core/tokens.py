"""Bearer tokens for signed-in users: outlet staff now, professional accounts later.

A token is 32 random bytes shown to the client once; the table keeps only its
sha256, so a copy of the database cannot be replayed against the API. Tokens
expire, and a revoked token (log-out, an account locked by its office) is
refused at once by every worker because the check is a database read, not a
signature that stays valid until it expires.

sha256 rather than a slow password hash: the token has 256 bits of entropy, so
there is nothing to guess, and each request must stay cheap to authenticate.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Connection,
    DateTime,
    Index,
    String,
    Text,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.base import Base

SubjectKind = Literal["staff", "account"]
SUBJECT_KINDS: tuple[SubjectKind, ...] = ("staff", "account")


class AuthToken(Base):
    """One issued bearer token, by digest."""

    __tablename__ = "auth_token"
    __table_args__ = (
        CheckConstraint("token_sha256 ~ '^[0-9a-f]{64}$'", name="token_sha256_format"),
        CheckConstraint("subject_kind IN ('staff', 'account')", name="subject_kind"),
        Index("ix_auth_token_subject", "subject_kind", "subject_id"),
        Index("ix_auth_token_expires_at", "expires_at"),
    )

    token_sha256: Mapped[str] = mapped_column(Text, primary_key=True)
    subject_kind: Mapped[str] = mapped_column(String(8))
    subject_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True)
class Issued:
    token: str  # shown to the client once, never stored
    expires_at: datetime


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(session: Session, kind: SubjectKind, subject_id: int, ttl_s: int) -> Issued:
    """A new token for `subject_id`; the caller commits."""
    token = secrets.token_urlsafe(32)
    now = session.execute(select(func.now())).scalar_one()
    expires_at = now + timedelta(seconds=ttl_s)
    session.add(
        AuthToken(
            token_sha256=digest(token),
            subject_kind=kind,
            subject_id=subject_id,
            expires_at=expires_at,
        )
    )
    # Expired tokens are useless; dropping this subject's keeps the table small.
    session.execute(
        delete(AuthToken).where(
            AuthToken.subject_kind == kind,
            AuthToken.subject_id == subject_id,
            AuthToken.expires_at < func.now() - timedelta(days=1),
        )
    )
    return Issued(token, expires_at)


def subject(session: Session | Connection, kind: SubjectKind, token: str) -> int | None:
    """The subject a live (issued, unexpired, unrevoked) token belongs to, else None.

    Takes a connection too: a request checks its token on a connection it gives
    back at once, so it never holds one pooled connection while waiting for another.
    """
    if not token or len(token) > 200:
        return None
    found: int | None = session.execute(
        select(AuthToken.subject_id).where(
            AuthToken.token_sha256 == digest(token),
            AuthToken.subject_kind == kind,
            AuthToken.revoked_at.is_(None),
            AuthToken.expires_at > func.now(),
        )
    ).scalar_one_or_none()
    return found


def revoke(session: Session, kind: SubjectKind, token: str) -> bool:
    """Revoke one token (log-out); True if it was live. The caller commits."""
    result = session.execute(
        update(AuthToken)
        .where(
            AuthToken.token_sha256 == digest(token),
            AuthToken.subject_kind == kind,
            AuthToken.revoked_at.is_(None),
        )
        .values(revoked_at=func.now())
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def revoke_all(session: Session, kind: SubjectKind, subject_id: int) -> int:
    """Revoke every live token of a subject (locked account, lost phone)."""
    result = session.execute(
        update(AuthToken)
        .where(
            AuthToken.subject_kind == kind,
            AuthToken.subject_id == subject_id,
            AuthToken.revoked_at.is_(None),
        )
        .values(revoked_at=func.now())
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
