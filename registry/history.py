"""The change history of one institution (its registry record and its outlet profile)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from core.models.registry import ChangeEvent


def history_query(fi_code: str) -> Select[Any]:
    """Events of `fi_code` (institution and profile), oldest first; the caller pages."""
    return (
        select(ChangeEvent)
        .where(ChangeEvent.fi_code == fi_code.strip().upper())
        .order_by(ChangeEvent.at, ChangeEvent.id)
    )
