"""What a message that matched nothing was probably meant to say, for "你是不是要找…".

The offer used to come from one pg_trgm word-similarity query over every outlet name
(`similar_names` in geo.search): 90 ms for "中国建没" at 200,000 outlets and 141 ms at
worst, because a short mistyped text shares trigrams with a large part of the names and
each of them had to be ranked. The typo is in a word, not in a name, and the words come
from small vocabularies held in memory: the legal entities' names and aliases (a few
hundred: 中国建没 → 中国建设) and the place words of outlet names (a few thousand,
`bot.landmarks`: 新街扣 → 新街口). So the text is corrected against those first, in
well under a millisecond, and the engine then finds outlets by the corrected words
through the one search service's indexes (an entity's outlets, a word in names), as for
any other question.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from bot.landmarks import LandmarkIndex
from bot.lexicon import Lexicon

__all__ = ["Guess", "guess"]

# An alias must keep three of four characters in place (中国建没 / 中国建设): shorter
# aliases with one slip are too close to ordinary words, and exact ones the scan reads.
MIN_ALIAS_LEN = 4
MIN_ALIAS_SCORE = 75.0


@dataclass(frozen=True)
class Guess:
    """The vocabulary words a message most likely meant: entities and/or a place word."""

    entities: tuple[str, ...] = ()  # legal entity codes
    word: str | None = None  # a word of outlet names


@functools.lru_cache(maxsize=4)
def _aliases(lexicon: Lexicon) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """The lexicon's Chinese aliases long enough to correct, and the codes each names."""
    codes: dict[str, list[str]] = {}
    for code in lexicon.entities:
        for alias in lexicon.aliases_of(code):
            if len(alias) >= MIN_ALIAS_LEN and not alias.isascii():
                named = codes.setdefault(alias, [])
                if code not in named:
                    named.append(code)
    ordered = sorted(codes, key=lambda a: (-len(a), a))  # ties: the longer, fuller name
    return tuple(ordered), tuple(tuple(codes[a]) for a in ordered)


@dataclass(frozen=True)
class _EntityGuess:
    alias: str
    codes: tuple[str, ...]
    covered: str  # the stretch of the text read as the alias


def _entity(text: str, lexicon: Lexicon) -> _EntityGuess | None:
    """The alias `text` holds with at most one slip in four characters (中国建没 → 中国建设)."""
    compact = "".join(ch for ch in text if ch.isalnum())
    if len(compact) < MIN_ALIAS_LEN - 1 or compact.isascii():
        return None
    aliases, codes = _aliases(lexicon)
    found = process.extract(
        compact, aliases, scorer=fuzz.partial_ratio, score_cutoff=MIN_ALIAS_SCORE, limit=5
    )
    for alias, _, index in found:
        covered = _slipped(alias, compact)
        if covered is not None:
            return _EntityGuess(alias, codes[index], covered)
    return None


def _slipped(alias: str, text: str) -> str | None:
    """The stretch of `text` that is `alias`, or its start or end (中国光打 for 中国光大银行),
    with one character in four replaced in place, as an input method slips (建没 for 建设):
    not characters dropped or moved, so 村镇银行 is no 镇江银行 though three of its letters
    are there."""
    for length in range(min(len(alias), len(text)), MIN_ALIAS_LEN - 1, -1):
        allowed = length // MIN_ALIAS_LEN
        for part in {alias[:length], alias[-length:]}:
            for start in range(len(text) - length + 1):
                window = text[start : start + length]
                if sum(a != b for a, b in zip(part, window, strict=True)) <= allowed:
                    return window
    return None


def guess(
    text: str, landmarks: Sequence[str], lexicon: Lexicon, words: LandmarkIndex
) -> Guess | None:
    """The entity named in `text` with a slip, and the outlet-name word one of its other
    unrecognised `landmarks` was meant to be; None when neither comes close."""
    entity = _entity(text, lexicon)
    rest = [_outside(w, entity.covered) if entity else w for w in landmarks]
    rest = [w for w in rest if len(w) >= 2]
    word = next((c for c in (words.correct(w) for w in rest) if c is not None), None)
    if entity is None and word is None:
        return None
    return Guess(entities=entity.codes if entity else (), word=word)


def _outside(word: str, covered: str) -> str:
    """What of `word` the entity's stretch does not cover: 建没新街扣 less 中国建没 → 新街扣."""
    if word in covered:
        return ""
    for k in range(min(len(word), len(covered)), 0, -1):
        if covered.endswith(word[:k]):
            return word[k:]
        if covered.startswith(word[-k:]):
            return word[:-k]
    return word
