"""Ask the bot engine for a reply, but never wait longer than a time budget.

WeChat drops a callback after 5 seconds and then shows the user an error, so
a channel must answer something in time even when a search is slow. Python
cannot stop a thread, so the engine runs in a worker thread and the caller
stops *waiting* for it. What makes that safe:

- The worker has its own session from the app's sessionmaker (sessions are not
  thread-safe, and the request's session is closed when the request ends).
- The adapter owns the transaction: the engine must not commit. The worker
  commits the engine's writes only if its reply is going to be delivered; when
  the caller has given up, it rolls them back. Either all of the engine's work
  is kept or none of it; state without its reply is left only when a commit
  outlasts a short grace period after the budget.
- The engine runs outside Flask's app context and gets everything it needs as
  arguments, as a library should.
- A `statement_timeout` of the budget makes PostgreSQL cancel any statement the
  abandoned worker still runs, so it soon frees its connection.
"""

from __future__ import annotations

import logging
import math
import threading
import traceback
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from bot.messages import BotInput, BotReply, Engine

log = logging.getLogger("branchfinder.bot")

# Once the reply is in and being committed, how much longer the caller waits for the commit.
COMMIT_GRACE_S = 0.5


class TimedOut(Exception):
    """The engine did not answer within the budget; its work will be rolled back."""


@dataclass
class _Attempt:
    lock: threading.Lock = field(default_factory=threading.Lock)
    done: threading.Event = field(default_factory=threading.Event)
    abandoned: bool = False  # the caller stopped waiting: roll back
    delivering: bool = False  # the reply is in and being committed: too late to abandon
    reply: BotReply | None = None
    error: BaseException | None = None


def reply_within(
    engine: Engine,
    sessions: sessionmaker[Session],
    message: BotInput,
    now: datetime,
    budget_s: float,
) -> BotReply:
    """The engine's reply, with its writes committed; `TimedOut` after `budget_s` seconds.

    Whatever the engine raises is raised here, after its work was rolled back.
    """
    attempt = _Attempt()
    worker = threading.Thread(
        target=_work,
        args=(attempt, engine, sessions, message, now, budget_s),
        name="bot-reply",
        daemon=True,  # an abandoned engine call must not keep the process alive
    )
    worker.start()
    if not attempt.done.wait(budget_s):
        with attempt.lock:
            if not attempt.delivering:
                attempt.abandoned = True
                raise TimedOut
        if not attempt.done.wait(COMMIT_GRACE_S):
            raise TimedOut  # the commit still lands whole; only this answer is lost
    if attempt.error is not None:
        raise attempt.error
    if attempt.reply is None:
        raise TypeError("the bot engine returned no reply")
    return attempt.reply


def scrubbed_traceback(exc: BaseException, *secrets: str) -> str:
    """The exception's traceback with each secret (e.g. the user's openid) blotted out.

    An engine's error message may quote its input; the log must not carry it.
    """
    text = "".join(traceback.format_exception(exc))
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return text


def _work(
    attempt: _Attempt,
    engine: Engine,
    sessions: sessionmaker[Session],
    message: BotInput,
    now: datetime,
    budget_s: float,
) -> None:
    """The worker thread: run the engine, then commit or (by closing) roll back."""
    try:
        session = sessions()
        try:
            session.execute(
                text("SELECT set_config('statement_timeout', :ms, true)"),
                {"ms": str(max(1, math.ceil(budget_s * 1000)))},
            )
            reply = engine.reply(session, message, now)
            with attempt.lock:
                if attempt.abandoned:
                    log.info("bot reply came too late; its writes are rolled back")
                    return
                attempt.delivering = True
            session.commit()
            attempt.reply = reply
        except BaseException as exc:
            attempt.error = exc
            if attempt.abandoned:
                log.warning("abandoned bot reply failed: %s", scrubbed_traceback(exc, message.user))
        finally:
            session.close()  # rolls back whatever was not committed
    finally:
        attempt.done.set()
