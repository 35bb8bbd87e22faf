"""Per-client rate limits whose counters live in PostgreSQL.

Why PostgreSQL: the web tier is stateless (DESIGN.md, Scale), so a counter in
process memory would let every gunicorn worker and host grant the full limit
again. One atomic `INSERT ... ON CONFLICT DO UPDATE ... RETURNING` per hit
counts correctly under any number of concurrent workers, and it runs on its own
connection and commits at once, so a request that fails and rolls back still
counts.

Windows are fixed (aligned to the epoch) but the decision uses the usual
sliding-window estimate, `count + previous_count * (1 - elapsed / window)`:
a client cannot burst twice the limit across a window boundary, and "the 11th
request within an hour" is refused wherever the boundary falls. Refused hits
count too, so a client that keeps hammering stays refused.

Clients are known only by a keyed hash (HMAC-SHA256 with the server's
`secret_key` as pepper) of their address: raw IPs are never stored.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
import random
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import DateTime, Engine, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.base import Base

MAX_WINDOW_S = 86_400  # the sweep below relies on no window being longer than a day
SWEEP_PROBABILITY = 0.01  # share of hits that also delete every client's stale windows
TOO_MANY_MESSAGE = "提交过于频繁，请稍后再试"


class RateLimitBucket(Base):
    """Hits of one client key in one window."""

    __tablename__ = "rate_limit_bucket"

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    retry_after_s: int  # 0 when allowed
    limit: int = 0
    remaining: int = 0  # hits left before a refusal, by the sliding estimate
    reset_s: int = 0  # seconds until this window ends


# In psycopg2's own parameter style: `hit` runs them on the DBAPI connection itself.
_HIT = """
    WITH t AS (
        SELECT now() AS now,
               to_timestamp(floor(extract(epoch FROM now()) / %(window_s)s) * %(window_s)s) AS ws
    ), cur AS (
        INSERT INTO rate_limit_bucket AS b (key, window_start, count)
        SELECT %(key)s, t.ws, 1 FROM t
        ON CONFLICT (key, window_start) DO UPDATE SET count = b.count + 1
        RETURNING b.count, b.window_start
    )
    SELECT cur.count,
           COALESCE((SELECT p.count FROM rate_limit_bucket p
                     WHERE p.key = %(key)s
                       AND p.window_start = cur.window_start - make_interval(secs => %(window_s)s)),
                    0) AS previous,
           extract(epoch FROM t.now - cur.window_start)::float8 AS elapsed
    FROM cur, t
"""
# Prepared on each connection the first time it counts: parsing and planning the statement
# cost PostgreSQL more than running it, at one hit per public GET.
_PREPARED = "branchfinder_rate_hit"
_HIT_PREPARED = _HIT.replace("%(key)s", "$1").replace("%(window_s)s", "$2")
# The previous window is still needed for the estimate; anything older is not.
_FORGET_OLD = (
    "DELETE FROM rate_limit_bucket WHERE key = %(key)s "
    "AND window_start < now() - make_interval(secs => 2 * %(window_s)s)"
)
_SWEEP = (
    "DELETE FROM rate_limit_bucket WHERE window_start < now() - make_interval(secs => %(age_s)s)"
)


def hit(engine: Engine, key: str, limit: int, window_s: int) -> RateDecision:
    """Count one hit for `key` and say whether it is within `limit` per `window_s` seconds.

    On a connection of its own, committed at once whatever later happens to the request's
    transaction: one statement, one round trip, on an autocommit engine whose commits
    are not flushed to disk (`Database.counters`): a crash may forget the last hits, which
    costs a client nothing, while a flush per public GET would make counting dearer than
    answering. The table is unlogged for the same reason (migration 0017). The statements
    go to the DBAPI cursor itself: SQLAlchemy's execution around them cost as much as
    answering a revalidated GET.
    """
    if limit < 1 or not 0 < window_s <= MAX_WINDOW_S:
        raise ValueError(f"bad rate limit {limit} per {window_s} s")
    values = {"key": key, "window_s": window_s}
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        if not connection.info.get(_PREPARED):  # once per connection: planned once
            cursor.execute(f"PREPARE {_PREPARED} (text, integer) AS {_HIT_PREPARED}")
            connection.info[_PREPARED] = True
        cursor.execute(f"EXECUTE {_PREPARED} (%(key)s, %(window_s)s)", values)
        count, previous, elapsed = cursor.fetchall()[0]
        if count == 1:  # first hit of a new window: forget this key's stale ones
            cursor.execute(_FORGET_OLD, values)
        if random.random() < SWEEP_PROBABILITY:  # keys of clients that never came back
            cursor.execute(_SWEEP, {"age_s": 2 * MAX_WINDOW_S})
        cursor.close()
        connection.commit()  # nothing to do on an autocommit engine; needed on any other
    except engine.dialect.loaded_dbapi.Error:
        connection.invalidate()  # the pool makes a new one rather than hand this out again
        raise
    finally:
        connection.close()
    return decide(int(count), int(previous), float(elapsed), limit, window_s)


def decide(count: int, previous: int, elapsed: float, limit: int, window_s: int) -> RateDecision:
    """The sliding-window decision, and when one more hit would be allowed if refused."""
    estimate = count + previous * (1 - elapsed / window_s)
    reset_s = max(1, math.ceil(window_s - elapsed))
    if estimate <= limit:
        return RateDecision(True, 0, limit, int(limit - estimate), reset_s)
    if count + 1 <= limit and previous > 0:
        # later in this window, once the previous window's weight has decayed enough
        wait = window_s * (1 - (limit - count - 1) / previous) - elapsed
    else:
        # in the next window, once this window's weight has decayed enough
        wait = (window_s - elapsed) + window_s * max(0.0, 1 - (limit - 1) / count)
    return RateDecision(False, max(1, math.ceil(wait)), limit, 0, reset_s)


def client_identity(remote_addr: str | None, forwarded_for: str, trusted_proxies: int) -> str:
    """The client's address: X-Forwarded-For only as far as our own proxies append to it.

    An IPv6 client owns at least a /64 and can rotate inside it, so it counts as one.
    """
    address = remote_addr or "unknown"
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    if trusted_proxies > 0 and len(hops) >= trusted_proxies:
        address = hops[-trusted_proxies]
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def client_hash(identity: str, pepper: str) -> str:
    """Keyed sha256 of a client identity: stable per client, useless to read an IP from."""
    return hmac.new(pepper.encode(), identity.encode(), hashlib.sha256).hexdigest()
