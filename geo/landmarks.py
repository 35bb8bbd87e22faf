"""Words that occur in outlet names (roads, districts, landmarks), from `outlet_name_word`.

The materialized view (migration 0009) splits each visible outlet's name after
its legal entity's name at the unit words (支行, 分理处, ...): 中国工商银行股份有限
公司南京新街口支行 gives 南京新街口. The chat bot compares a mistyped place word
with these; the imports refresh the view whenever names, statuses or positions
may have changed.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

MAX_WORDS = 200_000  # far above a province's few thousand; a bound on memory all the same


def refresh_name_words(session: Session) -> None:
    """Recount outlet_name_word (in the caller's transaction)."""
    session.execute(text("REFRESH MATERIALIZED VIEW outlet_name_word"))


def name_words(session: Session) -> list[tuple[str, int]]:
    """Every word with the number of outlet names it occurs in, most frequent first."""
    rows = session.execute(
        text("SELECT word, n FROM outlet_name_word ORDER BY n DESC, word LIMIT :cap"),
        {"cap": MAX_WORDS},
    ).all()
    return [(str(word), int(n)) for word, n in rows]
