"""Correcting mistyped place words against the words that really occur in outlet names.

"工行新街扣支行" finds nothing: no name or address contains 新街扣. People type
by sound, so the index compares the word's pinyin as well as its characters with
every word of the registry's outlet names (`geo.landmarks`: 新街口, 珠江路, 观前街,
...), and offers the closest when both agree well enough. The words are stripped
of leading city and county names first (南京新街口 → 新街口), which is how people
say them. Built in memory once per registry state: a few thousand words for a
province, matched with rapidfuzz in well under a millisecond.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pypinyin import lazy_pinyin
from rapidfuzz import fuzz, process

MIN_SCORE = 75.0  # mean of the character and the pinyin similarity, out of 100
_SUFFIX = re.compile(r"^(市|区|县)")


def _pinyin(word: str) -> str:
    return "".join(lazy_pinyin(word))


class LandmarkIndex:
    """The place words of outlet names, with their pinyin, for typo correction."""

    def __init__(self, words: Iterable[tuple[str, int]], place_names: Iterable[str]) -> None:
        stems = {name for name in place_names if len(name) >= 2}
        stems |= {name[:-1] for name in stems if len(name) >= 3 and name[-1] in "市区县"}
        self._prefixes = sorted(stems, key=len, reverse=True)
        counts: dict[str, int] = {}
        for word, n in words:
            bare = self._strip_places(word)
            if len(bare) >= 2:
                counts[bare] = counts.get(bare, 0) + n
        self._counts = counts
        self._words = list(counts)
        self._pinyin = [_pinyin(w) for w in self._words]

    def __len__(self) -> int:
        return len(self._words)

    def __contains__(self, word: object) -> bool:
        return word in self._counts

    def _strip_places(self, word: str) -> str:
        """南京市江北新区 → 江北新区, 连云港东海通灌南路 → 通灌南路 (names people drop)."""
        changed = True
        while changed:
            changed = False
            for prefix in self._prefixes:
                if word.startswith(prefix) and len(word) > len(prefix) + 1:
                    word = _SUFFIX.sub("", word[len(prefix) :]) or word
                    changed = True
                    break
        return word

    def spelt_from_pinyin(self, typed: str) -> str | None:
        """The outlet-name word whose pinyin is `typed` (xinjiekou → 新街口; spaces and case
        ignored), the commonest of several; None when none is."""
        wanted = "".join(typed.lower().split())
        if not wanted.isascii() or not wanted.isalpha():
            return None
        best: tuple[int, str] | None = None
        for word, sound in zip(self._words, self._pinyin, strict=True):
            if sound == wanted and (best is None or (self._counts[word], word) > best):
                best = (self._counts[word], word)
        return None if best is None else best[1]

    def correct(self, word: str) -> str | None:
        """The outlet-name word `word` was most likely meant to be, or None.

        None as well when `word` itself occurs (nothing to correct).
        """
        if not word or word in self._counts or not self._words:
            return None
        typed = _pinyin(word)
        candidates: set[int] = set()
        for _, _, i in process.extract(word, self._words, scorer=fuzz.ratio, limit=10):
            candidates.add(int(i))
        for _, _, i in process.extract(typed, self._pinyin, scorer=fuzz.ratio, limit=10):
            candidates.add(int(i))
        best: tuple[float, int, str] | None = None
        for i in candidates:
            candidate = self._words[i]
            if abs(len(candidate) - len(word)) > 1:
                continue
            score = (fuzz.ratio(word, candidate) + fuzz.ratio(typed, self._pinyin[i])) / 2
            ranked = (score, self._counts[candidate], candidate)
            if score >= MIN_SCORE and (best is None or ranked > best):
                best = ranked
        return None if best is None else best[2]
