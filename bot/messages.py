"""What goes into the bot engine and what comes out, independent of any channel.

WeChat (`bot.wechat`), the JSON chat API and the terminal chat all translate
their own formats to a `BotInput` and render a `BotReply`; the engine never
sees XML, HTTP or a terminal. Positions are WGS-84 here: each channel converts
from what its clients send (WeChat's Location_X/Y are GCJ-02).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from sqlalchemy.orm import Session

EventKind = Literal["subscribe", "unsubscribe", "other"]


@dataclass(frozen=True)
class SharedLocation:
    """A position the user shared (WGS-84), with the place name the client attached."""

    lat: float
    lng: float
    label: str | None = None


@dataclass(frozen=True)
class BotInput:
    """One message from one user: a text, a shared location, or an event."""

    user: str  # a stable, channel-scoped id (for WeChat the openid); never shown or logged
    text: str | None = None
    location: SharedLocation | None = None
    event: EventKind | None = None


@dataclass(frozen=True)
class ResultItem:
    fi_code: str
    name: str
    address: str | None
    phone: str | None
    lat: float  # WGS-84
    lng: float
    distance_m: float | None
    open_now: bool | None


@dataclass
class BotReply:
    """The answer: chat text, the outlets behind it, and what the engine understood."""

    text: str
    results: list[ResultItem] = field(default_factory=list)
    understood: dict[str, Any] = field(default_factory=dict)


class Engine(Protocol):
    """Anything that answers a message; the channels depend on this, not on the engine."""

    def reply(self, session: Session, message: BotInput, now: datetime) -> BotReply: ...
