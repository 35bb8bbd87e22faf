"""Which state of the public outlet data a reader sees: a version number and when it changed.

Kept by triggers (migration 0017) on every table the public reads, bumped once per
writing transaction at its commit; nothing in Python writes it. The public API derives
its validators (`ETag`, `Last-Modified`) from it before it runs a search, so a client
that already holds the current answer costs one single-row read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, SmallInteger
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.base import Base
from core.database import driver_rows


class PublicDataVersion(Base):
    """The one row: the public data's version and the (distinct) second it took it."""

    __tablename__ = "public_data_version"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, server_default="1")
    version: Mapped[int] = mapped_column(BigInteger)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PublicDataPending(Base):
    """Transactions that changed public data and have yet to commit (empty between them)."""

    __tablename__ = "public_data_pending"

    txid: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)


@dataclass(frozen=True)
class PublicDataState:
    version: int
    changed_at: datetime
    read_at: datetime  # the database's clock when read, the one changed_at was taken by


_STATE = (
    "SELECT v.version, v.changed_at, now.at FROM (SELECT clock_timestamp() AS at) now "
    "LEFT JOIN public_data_version v ON v.id = 1"
)


NEVER = datetime(1970, 1, 1, tzinfo=UTC)  # emptied (a TRUNCATE) and unchanged since


def public_data_state(bind: Connection | Session) -> PublicDataState:
    """The current state; read it before the data it stands for (see migration 0017)."""
    # In the driver's own terms on a bare connection: SQLAlchemy's execution around one
    # row cost more than the query, and a revalidated GET does little else.
    version, changed_at, read_at = driver_rows(bind, _STATE, {})[0]
    if version is None:
        return PublicDataState(0, NEVER, read_at)
    return PublicDataState(int(version), changed_at, read_at)
