"""What a chat message asks for: "鼓楼区现在开门的建行" → CCB, 鼓楼区, open now.

A pipeline of small steps over one normalised string, in the spirit of a geocoder's query
analysis (no database, no Flask: the engine runs the search afterwards):

1. `normalise`: NFKC (full-width letters, digits and punctuation become ASCII), lower case.
2. `_scan`: left to right, the longest dictionary word of the `Lexicon` at each position
   (Chinese needs no spaces for this), or a count/ordinal ("三家", "第2个"); English and
   typed pinyin are read as whole words. What no word covers stays as unknown characters.
3. Unknown stretches are first tried as misspelt entity names (`Lexicon.typo_match`:
   same or near pinyin, then an edit ratio), and what remains is a landmark ("新街口",
   "珠江路") that the engine matches against outlet names and addresses.
4. The pieces become an `Understanding`; places named twice narrow each other
   (南京 + 鼓楼 → Nanjing's 鼓楼区 only).

Nothing here raises on any input: a message the bot cannot read is an empty understanding.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Literal

from bot.lexicon import Lexicon, Meaning
from bot.self_questions import asks_about_the_bot

__all__ = ["FollowUp", "Match", "Understanding", "normalise", "understand"]

FollowUpField = Literal["phone", "address", "hours", "detail", "more"]

_FOLLOW_UP_FIELDS: dict[str, FollowUpField] = {
    "phone": "phone",
    "address": "address",
    "hours": "hours",
    "detail": "detail",
    "more": "more",
}
MAX_RADIUS_M = 50_000  # the search service's limit
MAX_COUNT = 20  # the most outlets one chat reply lists; "附近100家" asks for a page of them
# Longer messages are read only this far: a query is a few words, and typo matching grows
# with the length of unknown text (a 1,000-character paste would cost a tenth of a second).
MAX_TEXT = 120

_NUM = r"(\d{1,3}|[零一二两三四五六七八九十]{1,3}|几)"
_INDEX_RE = re.compile(rf"第\s*{_NUM}\s*(?:个|家|条|间|所|处|项)?")
_COUNT_RE = re.compile(rf"前?\s*{_NUM}\s*(?:个网点|个|家|间|所|处|条)")
_DISTANCE_RE = re.compile(
    r"(\d{1,5}(?:\.\d+)?|[一二两三四五六七八九十半]{1,3})\s*(公里|千米|km|米|m)(?![a-z])"
    r"(?:以内|之内|范围内|内)?"
)
_BARE_NUMBER_RE = re.compile(r"^\s*(\d{1,2})\s*$")
_CN_DIGITS = {
    "零": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
# What follows a place or brand word when it is part of a landmark's name: 玄武湖, 民生路,
# 南京站, 平安大厦. Such a word names the landmark, not the district or the bank.
_LANDMARK_SUFFIX_RE = re.compile(
    r"(?:[东西南北中]?(?:路|街|大街|大道|巷|弄|桥|站)|广场|大厦|商场|商城|花园|小区|新村|村|镇|乡"
    r"|门|湖|山|公园|医院|大学|学院|中学|小学|号|地铁站|火车站|机场)"
)
# A street named by itself (南大街, 中大道), not only by the place before it: 常州南大街 is
# 常州's 南大街, while 江宁路 and 南京东路 are roads named after the place.
_STREET_RE = re.compile(r"[东西南北中](?:大街|大道)")
# Entity aliases that say what they are (建行, 南京银行, 人保财险) never start a landmark.
_SELF_DESCRIBING = ("行", "银行", "保险", "证券", "险", "信用社")
_ASCII_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_ASCII_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyz")
_CJK_CHAR_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


@dataclass(frozen=True)
class FollowUp:
    """A question about outlets: their phone, address, hours, one of them, or more of them.

    Whether it is about the last results ("第二个的电话") or about a new search
    ("南京银行珠江路支行电话多少") is the engine's call: see `Understanding.has_search_terms`.
    """

    field: FollowUpField
    index: int | None = None  # 1-based position in the last results


@dataclass(frozen=True)
class Match:
    """One recognised piece of the text and how it was recognised (for `explain`)."""

    text: str
    kind: str
    values: tuple[str, ...]
    how: str  # exact, pinyin, near_pinyin, fuzzy, pattern
    score: float


MACHINE_KINDS = ("self_service", "atm")  # what a cash machine word asks for


@dataclass(frozen=True)
class Understanding:
    """What one message asks for, in the registry's terms, for the engine to act on.

    Everything is a hint, not a command: several legal entities (农商行) or places (鼓楼)
    mean "any of these", and the engine may prefer the one nearest the user.
    """

    text: str  # the normalised message
    legal_entities: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    business_types: tuple[str, ...] = ()
    # outlet kinds (core.models.registry.OUTLET_KINDS); empty: branches, as people mean
    # by 银行 and a bank's name; a cash machine word (取钱, ATM) asks for the machines
    kinds: tuple[str, ...] = ()
    places: tuple[str, ...] = ()  # region codes; several when a name is ambiguous
    landmarks: tuple[str, ...] = ()  # unrecognised words, for outlet names and addresses
    wants_nearest: bool = False
    radius_m: int | None = None  # "3公里内": metres, at most the search service's limit
    open_now: bool = False
    count: int | None = None
    follow_up: FollowUp | None = None
    greeting: bool = False
    help: bool = False
    matches: tuple[Match, ...] = field(default=(), compare=False)

    @property
    def landmark(self) -> str | None:
        """The landmarks as one text-search string, or None."""
        return " ".join(self.landmarks) or None

    @property
    def has_search_terms(self) -> bool:
        """Whether the message names something to search for (else a follow-up or chat)."""
        return bool(
            self.legal_entities
            or self.categories
            or self.business_types
            or self.kinds
            or self.places
            or self.landmarks
        )

    def as_dict(self, explain: bool = False) -> dict[str, Any]:
        """The API's "understood" field; `explain` adds every recognised piece."""
        out: dict[str, Any] = {
            "legal_entities": list(self.legal_entities),
            "categories": list(self.categories),
            "business_types": list(self.business_types),
            "kinds": list(self.kinds),
            "places": list(self.places),
            "landmark": self.landmark,
            "wants_nearest": self.wants_nearest,
            "radius_m": self.radius_m,
            "open_now": self.open_now,
            "count": self.count,
            "follow_up": (
                {"field": self.follow_up.field, "index": self.follow_up.index}
                if self.follow_up
                else None
            ),
            "greeting": self.greeting,
            "help": self.help,
        }
        if explain:
            out["matches"] = [
                {
                    "text": m.text,
                    "kind": m.kind,
                    "values": list(m.values),
                    "how": m.how,
                    "score": m.score,
                }
                for m in self.matches
            ]
        return out


def normalise(text: str) -> str:
    """NFKC and lower case: ＩＣＢＣ → icbc, ３个 → 3个, full-width ？ → ?."""
    return unicodedata.normalize("NFKC", text).lower()


# --- scanning ---------------------------------------------------------------------------------


@dataclass
class _Piece:
    text: str
    meanings: tuple[Meaning, ...] = ()  # empty: unknown
    how: str = "exact"
    score: float = 100.0
    sep: bool = False
    word: bool = False  # an unknown English/pinyin word (not merged with its neighbours)
    number: int | None = None  # for count, index and radius pieces
    numeric: Literal["count", "index", "radius", ""] = ""

    @property
    def unknown(self) -> bool:
        return not self.meanings and not self.sep and self.number is None


_SEP = _Piece(" ", sep=True)


def _is_separator(ch: str) -> bool:
    if ch in _ASCII_ALNUM:
        return False
    category = unicodedata.category(ch)
    return not (category.startswith("L") or category == "Nd")


def _parse_distance(amount: str, unit: str) -> int | None:
    """Metres of "3公里", "500米", "1.5km", "半公里"; None if unreadable or zero."""
    try:
        value = float(amount)
    except ValueError:
        value = 0.5 if amount == "半" else float(_parse_number(amount) or 0)
    metres = value * (1000 if unit in ("公里", "千米", "km") else 1)
    return min(round(metres), MAX_RADIUS_M) if metres >= 1 else None


def _parse_number(text: str) -> int | None:
    """3, 三, 两, 十二, 二十, 几 (a few: 3), 两三 (a range: the larger)."""
    if text.isdigit():
        return int(text)
    if text == "几":
        return 3
    if "十" in text:
        head, _, tail = text.partition("十")
        if len(head) > 1 or len(tail) > 1:
            return None
        tens = _CN_DIGITS.get(head, -1) if head else 1
        units = _CN_DIGITS.get(tail, -1) if tail else 0
        return None if tens < 0 or units < 0 else tens * 10 + units
    values = [_CN_DIGITS[ch] for ch in text if ch in _CN_DIGITS]
    return max(values) if values and len(values) == len(text) else None


def _longest_word(s: str, i: int, lex: Lexicon) -> str | None:
    """The longest dictionary word at s[i:], not ending inside an English word."""
    n = len(s)
    for length in range(min(lex.max_phrase_len, n - i), 0, -1):
        word = s[i : i + length]
        if word in lex.phrases:
            end = i + length
            if word[-1] in _ASCII_LETTERS and end < n and s[end] in _ASCII_LETTERS:
                continue
            return word
    return None


_ENGLISH_WORDS_RE = re.compile(r"[a-z0-9]+(?: +[a-z0-9]+){1,5}")


def _english_phrase(s: str, i: int, lex: Lexicon) -> tuple[str, int] | None:
    """The longest run of two to six English words that is one name: bank of china."""
    run = _ENGLISH_WORDS_RE.match(s, i)
    if run is None:
        return None
    words = run.group(0).split()
    for size in range(len(words), 1, -1):
        key = "".join(words[:size])
        if key in lex.phrases:
            end = i
            for word in words[:size]:
                end = s.index(word, end) + len(word)
            return key, end
    return None


def _demote_to_landmark(word: str, meanings: tuple[Meaning, ...], s: str, end: int) -> bool:
    """Whether a place or brand word is the start of a landmark's name (民生路, 玄武湖).

    Not when a place is followed by a street with a name of its own (常州|南大街).
    """
    if not all(m.kind in ("place", "entity") for m in meanings):
        return False
    if word.endswith(_SELF_DESCRIBING) or not word[-1:].isalpha() or word.isascii():
        return False
    return _names_a_landmark(s, end, place=all(m.kind == "place" for m in meanings))


def _names_a_landmark(s: str, end: int, place: bool) -> bool:
    """Whether what follows s[:end] makes it part of a landmark's name: 玄武|湖, 江宁|路."""
    if _LANDMARK_SUFFIX_RE.match(s, end) is None:
        return False
    return not (place and _STREET_RE.match(s, end))


def _numeric(s: str, i: int) -> _Piece | None:
    """An ordinal (第2个), a distance (3公里内) or a count (三家) starting at s[i]."""
    found = _INDEX_RE.match(s, i)
    if found is not None:
        number = _parse_number(found.group(1))
        kind: Literal["count", "index", "radius"] = "index"
    elif (found := _DISTANCE_RE.match(s, i)) is not None:
        number = _parse_distance(found.group(1), found.group(2))
        kind = "radius"
    elif (found := _COUNT_RE.match(s, i)) is not None:
        number = _parse_number(found.group(1))
        kind = "count"
    else:
        return None
    if number is None or number <= 0:
        return None
    return _Piece(found.group(0), how="pattern", number=number, numeric=kind)


def _scan(s: str, lex: Lexicon) -> list[_Piece]:
    pieces: list[_Piece] = []
    i, n = 0, len(s)
    while i < n:
        ch = s[i]
        if _is_separator(ch):
            pieces.append(_SEP)
            i += 1
            continue
        if ch in _ASCII_LETTERS and (i == 0 or s[i - 1] not in _ASCII_ALNUM):
            phrase = _english_phrase(s, i, lex)
            if phrase is not None:
                key, end = phrase
                pieces.append(_Piece(s[i:end], lex.phrases[key]))
                i = end
                continue
            j = i
            while j < n and s[j] in _ASCII_ALNUM:
                j += 1
            word = _longest_word(s, i, lex)
            if word is not None and i + len(word) >= j:
                pieces.append(_Piece(word, lex.phrases[word]))
                i += len(word)
            elif s[i:j] in lex.phrases:
                pieces.append(_Piece(s[i:j], lex.phrases[s[i:j]]))
                i = j
            else:
                pieces.append(_Piece(s[i:j], word=True))
                i = j
            continue
        word = _longest_word(s, i, lex)
        numeric = _numeric(s, i)
        if numeric is not None and (word is None or len(numeric.text) >= len(word)):
            pieces.append(numeric)
            i += len(numeric.text)
            continue
        if word is not None:
            meanings = lex.phrases[word]
            if _demote_to_landmark(word, meanings, s, i + len(word)):
                pieces.extend(_Piece(c) for c in word)
            else:
                pieces.append(_Piece(word, meanings))
            i += len(word)
            continue
        pieces.append(_Piece(ch))
        i += 1
    return pieces


_CONJUNCTIONS = frozenset("和跟与及")


def _keep_weak_inside_words(pieces: list[_Piece]) -> None:
    """A weak filler next to unknown characters may belong to them: 存在路, 新都, 和平路.

    Kept when it sits between unknown characters, ends the text right after them (新都),
    or is a conjunction opening the text before them (和平路: nobody starts with "and").
    Otherwise it is a verb or pronoun around a landmark and dropped: 我在新街口, 去珠江路,
    新街口能换外币吗.
    """
    n = len(pieces)
    for k, piece in enumerate(pieces):
        if not piece.meanings or any(m.kind != "weak" for m in piece.meanings):
            continue
        before = pieces[k - 1] if k > 0 else None
        after = pieces[k + 1] if k + 1 < n else None
        unknown_before = before is not None and _unknown_char(before)
        unknown_after = after is not None and _unknown_char(after)
        at_start = before is None or before.sep
        at_end = after is None or after.sep
        if (
            (unknown_before and unknown_after)
            or (unknown_before and at_end)
            or (unknown_after and at_start and piece.text in _CONJUNCTIONS)
        ):
            pieces[k] = _Piece(piece.text)


def _unknown_char(piece: _Piece) -> bool:
    return piece.unknown and not piece.word


# --- unknown stretches ------------------------------------------------------------------------


def _resolve_cjk(segment: str, lex: Lexicon, depth: int = 0) -> list[_Piece]:
    """Find misspelt entity names in an unknown stretch, then a misspelt place at its start;
    the rest stays unknown."""
    if len(segment) < 2 or depth > 4:
        return [_Piece(segment)]
    found = lex.typo_match(segment)
    if found is None:
        return _resolve_place(segment, lex)
    meanings = tuple(Meaning("entity", code) for code in found.codes)
    return [
        *_resolve_cjk(segment[: found.start], lex, depth + 1),
        _Piece(segment[found.start : found.end], meanings, how=found.how, score=found.score),
        *_resolve_cjk(segment[found.end :], lex, depth + 1),
    ]


def _resolve_place(segment: str, lex: Lexicon) -> list[_Piece]:
    """A misspelt place filling an unknown stretch (苏洲, 古楼区) or opening it (苏洲|观前街).

    Opening it, the place must leave a word of two characters or more that does not make
    it part of a landmark's name, as for a place spelt right: 建业路, 建业大厦 and 大风车
    stay landmarks, though 建业 and 大风 alone are read as 建邺 and 大丰.
    """
    for length in range(min(len(segment), lex.max_place_len), 1, -1):
        rest = segment[length:]
        if rest and (len(rest) < 2 or _names_a_landmark(segment, length, place=True)):
            continue
        found = lex.place_typo(segment[:length])
        if found is not None:
            meanings = tuple(Meaning("place", code) for code in found.codes)
            piece = _Piece(segment[:length], meanings, how=found.how, score=found.score)
            return [piece, _Piece(rest)] if rest else [piece]
    return [_Piece(segment)]


def _resolve_words(words: list[str], lex: Lexicon) -> list[_Piece]:
    """Unknown English or pinyin words: typed with spaces (jian hang) or mistyped (jianhnag)."""
    out: list[_Piece] = []
    k = 0
    while k < len(words):
        for size in range(min(4, len(words) - k), 0, -1):
            joined = "".join(words[k : k + size])
            if joined in lex.phrases:
                out.append(_Piece(joined, lex.phrases[joined]))
                k += size
                break
        else:
            for size in range(min(4, len(words) - k), 0, -1):
                joined = "".join(words[k : k + size])
                fuzzy = lex.ascii_entity_fuzzy(joined)
                if fuzzy is not None:
                    _, codes, score = fuzzy
                    meanings = tuple(Meaning("entity", c) for c in codes)
                    out.append(_Piece(joined, meanings, how="fuzzy", score=score))
                    k += size
                    break
            else:
                out.append(_Piece(words[k], word=True))
                k += 1
    return out


def _group_unknown(pieces: list[_Piece], lex: Lexicon) -> list[_Piece]:
    """Unknown characters into stretches, unknown words resolved as English or pinyin."""
    out: list[_Piece] = []
    chars: list[str] = []
    words: list[str] = []

    def flush_chars() -> None:
        if chars:
            out.append(_Piece("".join(chars)))
            chars.clear()

    def flush_words() -> None:
        if words:
            out.extend(_resolve_words(words, lex))
            words.clear()

    for piece in pieces:
        if piece.word:
            flush_chars()
            words.append(piece.text)
        elif piece.unknown:
            flush_words()
            chars.append(piece.text)
        elif piece.sep:
            flush_chars()  # spaces separate landmarks but join typed pinyin words
            out.append(piece)
        else:
            flush_chars()
            flush_words()
            out.append(piece)
    flush_chars()
    flush_words()
    return out


_JOINABLE_KINDS = frozenset({"entity", "place", "category", "weak"})
_JOINABLE_FILLERS = frozenset({"中国", "江苏", "江苏省"})


def _joinable(piece: _Piece | None) -> bool:
    """A word a misspelt name may have swallowed: 中国农业|很行, 建没|银行, 南京|很行, 中国|建没,
    有|储 (the weak 有 of 有储 is 邮 misheard)."""
    if piece is None or piece.how != "exact" or piece.text.isascii():
        return False
    return piece.text in _JOINABLE_FILLERS or any(m.kind in _JOINABLE_KINDS for m in piece.meanings)


def _across(
    left: _Piece | None, segment: str, right: _Piece | None, lex: Lexicon
) -> tuple[list[_Piece], bool, bool] | None:
    """A misspelt name running from an unknown stretch into a neighbouring word.

    The dictionary reads "中国农业很行" as the alias 中国农业 and leaves 很行; read together
    they are 中国农业银行. A match must overlap the stretch and take neighbours whole.
    """
    lt = left.text if _joinable(left) and left else ""
    rt = right.text if _joinable(right) and right else ""
    if not lt and not rt:
        return None
    combined = lt + segment + rt
    named = frozenset(
        m.value for p in (left, right) if p is not None for m in p.meanings if m.kind == "entity"
    )
    found = lex.typo_match(combined, prefer=named)
    if found is None:
        return None
    a, b = len(lt), len(lt) + len(segment)
    if not (found.start < b and found.end > a):
        return None
    if not (found.start == 0 or found.start >= a) or not (
        found.end == len(combined) or found.end <= b
    ):
        return None
    used_left, used_right = found.start < a, found.end > b
    if not used_left and not used_right:
        return None
    meanings = tuple(Meaning("entity", code) for code in found.codes)
    pieces = [
        *_resolve_cjk(combined[a : found.start], lex),
        _Piece(combined[found.start : found.end], meanings, how=found.how, score=found.score),
        *_resolve_cjk(combined[found.end : b], lex),
    ]
    return [p for p in pieces if p.text], used_left, used_right


def _resolve_unknown(pieces: list[_Piece], lex: Lexicon) -> list[_Piece]:
    grouped = _group_unknown(pieces, lex)
    out: list[_Piece] = []
    k = 0
    while k < len(grouped):
        piece = grouped[k]
        if not _unknown_char(piece) or not _CJK_CHAR_RE.search(piece.text):
            out.append(piece)
            k += 1
            continue
        left = out[-1] if out else None
        right = grouped[k + 1] if k + 1 < len(grouped) else None
        across = _across(left, piece.text, right, lex)
        if across is None:
            out.extend(_resolve_cjk(piece.text, lex))
            k += 1
            continue
        resolved, used_left, used_right = across
        if used_left:
            out.pop()
        out.extend(resolved)
        k += 2 if used_right else 1
    return out


# --- assembling -------------------------------------------------------------------------------


def _unique(values: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def _narrow_places(groups: list[tuple[str, ...]]) -> tuple[str, ...]:
    """Places named together narrow each other: 南京 + 鼓楼 → 320106, not Xuzhou's 320302.

    A prefecture is dropped when another word named a county inside it; within one word
    both stay (淮安 is the city 320800 and its district 320803).
    """
    narrowed: list[tuple[str, ...]] = []
    for k, group in enumerate(groups):
        named = {c[:4] for j, g in enumerate(groups) if j != k for c in g if c.endswith("00")}
        inside = tuple(c for c in group if c[:4] in named and not c.endswith("00"))
        narrowed.append(inside or group)
    result: list[str] = []
    for k, group in enumerate(narrowed):
        others = {
            c[:4] for j, g in enumerate(narrowed) if j != k for c in g if not c.endswith("00")
        }
        result.extend(c for c in group if not (c.endswith("00") and c[:4] in others))
    return _unique(result)


# A unit word typed by its sound (zhī háng): 新街口之行 means 新街口支行, whose unit word
# the lexicon drops as it drops 支行 itself, leaving the landmark 新街口 either way.
_UNIT_BY_SOUND = re.compile(r"(?<=..)(之|知|枝|芝|只)行$")


def _unit_spelt_right(word: str) -> str:
    return _UNIT_BY_SOUND.sub("", word)


def _is_landmark(text: str) -> bool:
    """Two or more characters with a letter in them: 新街口, 中山路100号; not 3 or 街."""
    stripped = text.strip()
    return len(stripped) >= 2 and any(ch.isalpha() for ch in stripped)


def understand(text: str, lexicon: Lexicon) -> Understanding:
    """Read one chat message against a lexicon; never raises, whatever the text."""
    s = normalise(text if isinstance(text, str) else "")[:MAX_TEXT]
    stripped = s.strip()
    if stripped and set(stripped) <= {"?", "¿"}:
        return Understanding(s, help=True, matches=(Match(stripped, "help", (), "exact", 100),))
    if asks_about_the_bot(s):  # 你是谁, 你能帮我做什么: help, though every word is a filler
        return Understanding(s, help=True, matches=(Match(stripped, "about", (), "pattern", 100),))
    bare = _BARE_NUMBER_RE.match(s)
    if bare and int(bare.group(1)) > 0:
        picked = int(bare.group(1))
        match = Match(bare.group(1), "index", (str(picked),), "pattern", 100)
        return Understanding(s, follow_up=FollowUp("detail", picked), matches=(match,))

    pieces = _scan(s, lexicon)
    _keep_weak_inside_words(pieces)
    return _assemble(s, _resolve_unknown(pieces, lexicon))


def _assemble(s: str, pieces: list[_Piece]) -> Understanding:
    """The recognised pieces, in message order, as one `Understanding`."""
    entities: list[str] = []
    categories: list[str] = []
    business: list[str] = []
    place_groups: list[tuple[str, ...]] = []
    landmarks: list[str] = []
    asks: list[str] = []
    matches: list[Match] = []
    count: int | None = None
    index: int | None = None
    radius: int | None = None
    nearest = open_now = greeting = help_ = machine = False

    for piece in pieces:
        if piece.sep:
            continue
        if piece.number is not None:
            if piece.numeric == "index":
                index = index or piece.number
            elif piece.numeric == "radius":
                radius = radius or piece.number
            else:
                count = count or min(piece.number, MAX_COUNT)
            number = (str(piece.number),)
            matches.append(Match(piece.text, piece.numeric, number, "pattern", 100))
            continue
        if not piece.meanings:
            if _is_landmark(piece.text):
                landmarks.append(_unit_spelt_right(piece.text.strip()))
                matches.append(Match(piece.text, "landmark", (), "leftover", 0))
            continue
        kinds = {m.kind for m in piece.meanings}
        values = tuple(m.value for m in piece.meanings)
        if kinds <= {"filler", "weak"}:
            continue
        if "landmark" in kinds:
            landmarks.append(piece.text)
        matches.append(Match(piece.text, "/".join(sorted(kinds)), values, piece.how, piece.score))
        places = tuple(m.value for m in piece.meanings if m.kind == "place")
        if places:
            place_groups.append(places)
        for m in piece.meanings:
            if m.kind == "entity":
                entities.append(m.value)
            elif m.kind == "category":
                categories.append(m.value)
            elif m.kind == "business":
                business.append(m.value)
            elif m.kind == "machine":
                machine = True
            elif m.kind == "nearest":
                nearest = True
            elif m.kind == "open_now":
                open_now = True
            elif m.kind == "ask":
                asks.append(m.value)
            elif m.kind == "count":
                count = count or int(m.value)
            elif m.kind == "greeting":
                greeting = True
            elif m.kind == "help":
                help_ = True

    business_types = _unique(business)
    if "self_service_24h" in business_types:
        business_types = tuple(b for b in business_types if b != "cash")
    follow_up: FollowUp | None = None
    fields = [_FOLLOW_UP_FIELDS[a] for a in asks if a in _FOLLOW_UP_FIELDS]
    if index is not None:
        follow_up = FollowUp(next((f for f in fields if f != "more"), "detail"), index)
    elif fields:
        follow_up = FollowUp(fields[0])
    return Understanding(
        text=s,
        legal_entities=_unique(entities),
        categories=_unique(categories),
        business_types=business_types,
        kinds=MACHINE_KINDS if machine else (),
        places=_narrow_places(place_groups),
        landmarks=_unique(landmarks),
        wants_nearest=nearest,
        radius_m=radius,
        open_now=open_now,
        count=count,
        follow_up=follow_up,
        greeting=greeting,
        help=help_,
        matches=tuple(matches),
    )
