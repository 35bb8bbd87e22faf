"""Fuzzy search of registry records by what somebody typed: names, abbreviations, typos, codes.

The professional app's look-up box (模糊查询) takes 新街口支行, 工行 新街口, ICBC, 紫金农商行,
建航 (a typo of 建行), or the first characters of an fi_code. The text becomes a small value
(`NameQuery`, pure Python, no database) and then SQL over `institution`: a condition
(`match_condition`), a relevance tier (`match_tier`, named by `MATCH_KINDS`) and an order
(`relevance`), which the caller combines with its own filters and jurisdiction. How the
text is read:

- A text that looks like the start of an fi_code (a capital letter and digits) is a code
  look-up and nothing else: "C10305" lists the codes that begin so.
- Otherwise every word of the text must occur in the name, short name or address
  (`%` and `_` are literal), or the whole text must *resemble* the name (pg_trgm word
  similarity of at least `TYPO_SIMILARITY`: typos, a character missing or swapped); both
  through the trigram indexes. Run `prepare(session)` first in the search's transaction.
- A word that is a conventional abbreviation of a legal entity (`registry.entity_names`:
  工行, ICBC, 招行, 邮储, English names), or starts with one (工行新街口), or misspells one
  by sound (建航 → 建行, jianhnag → jianhang), also selects that entity's records: those
  whose legal entity is a head office of that name (`resolve_entities`), or, when the
  registry has no such head office, whose own name contains it. The remaining words must
  then occur in the record.
- Contracted names are expanded (紫金农商行 → 紫金农村商业银行), and a word is also read as
  two where a legal name ends (紫金农村商业银行|珠江路): registry names hold the company
  form between (…银行股份有限公司珠江路支行).
- An abbreviation only ever *adds* candidates: a record literally named with the text is
  still found and ranked above them.

Relevance, best first: code or exact name, name starting with the text, every word in the
name, the entity of an abbreviation (with the other words in its name), words in the
address, resemblance; within a tier by trigram similarity, then head offices before
branches before outlets, then fi_code.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from pypinyin import Style, pinyin
from rapidfuzz import fuzz, process
from sqlalchemy import ColumnElement, and_, case, false, func, or_, select, text, true
from sqlalchemy.orm import Session

from core.models.registry import LEVELS, Institution
from registry.entity_names import (
    CONTRACTIONS,
    CONVENTIONS,
    ENGLISH_NAMES,
    LEGAL_FORMS,
    NAME_TAILS,
)

MAX_TEXT_LENGTH = 100
TYPO_SIMILARITY = 0.3  # pg_trgm word similarity for "resembles" (see `prepare`)
MAX_WORDS = 8  # every word is a trigram-indexed condition: a sentence is not a look-up
CODE_PREFIX_RE = re.compile(r"^[A-Z][0-9]{1,13}$")
_CJK_RE = re.compile(r"^[\u3400-\u9fff\uf900-\ufaff]+$")
_ASCII_FUZZY_MIN = 5  # shorter English/pinyin words are too close to everything (as the bot)
_ASCII_FUZZY_CUTOFF = 85


@dataclass(frozen=True)
class NameQuery:
    """What a search text asks for.

    `code_prefix`: the text is the start of an fi_code. Otherwise `text` (whitespace
    collapsed) and its `words`; `expanded_words` with contractions spelt out (or empty when
    that changes nothing); `entity_stems`: the legal names (without company form) that an
    abbreviation in the text stands for, and `rest`: the words left beside it;
    `entity_codes`: their head offices' fi_codes, once `resolve_entities` looked them up.
    """

    text: str
    words: tuple[str, ...]
    code_prefix: str | None = None
    expanded_words: tuple[str, ...] = ()
    entity_stems: tuple[str, ...] = ()
    rest: tuple[str, ...] = ()
    entity_codes: tuple[str, ...] = ()  # filled by `resolve_entities`

    @property
    def similarity_text(self) -> str:
        """What the names are compared with for ranking: the words beside an abbreviation
        if there are any, else the whole text (contractions spelt out)."""
        if self.entity_stems and self.rest:
            return " ".join(self.rest)
        return " ".join(self.expanded_words) if self.expanded_words else self.text


def normalise(text: str) -> str:
    """Full-width letters and digits made ASCII (ＩＣＢＣ → ICBC), whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def read_query(text: str) -> NameQuery | None:
    """The `NameQuery` of a search text, or None when nothing is left to search for."""
    text = normalise(text)[:MAX_TEXT_LENGTH]
    if not text:
        return None
    if CODE_PREFIX_RE.match(text.upper()):
        return NameQuery(text=text, words=(text,), code_prefix=text.upper())
    if text.isascii() and _ascii_key(text) in _aliases():  # Bank of China, China Life
        named = _aliases()[_ascii_key(text)]
        return NameQuery(text=text, words=tuple(text.split()), entity_stems=named)
    words = tuple(text.split()[:MAX_WORDS])
    expanded = tuple(part for w in words for part in _split_at_tail(_expand(w)))
    stems: list[str] = []
    rest: list[str] = []
    for word in words:
        found, remainder = _abbreviation(word)
        if found:
            stems.extend(s for s in found if s not in stems)
            if remainder:
                rest.append(_expand(remainder))
        else:
            rest.append(_expand(word))
    return NameQuery(
        text=text,
        words=words,
        expanded_words=expanded if expanded != words else (),
        entity_stems=tuple(stems),
        rest=tuple(rest) if stems else (),
    )


def _expand(word: str) -> str:
    """紫金农商行珠江路 → 紫金农村商业银行珠江路: contractions spelt out as names hold them."""
    for long, shorts in CONTRACTIONS:
        if long in word:
            continue
        for short in sorted(shorts, key=len, reverse=True):
            if short in word and word != short:
                word = word.replace(short, long)
                break
    return word


def _split_at_tail(word: str) -> tuple[str, ...]:
    """紫金农村商业银行珠江路 → 紫金农村商业银行, 珠江路: the name typed without the company
    form that registry names hold between the two (…银行股份有限公司珠江路支行)."""
    ends = [word.find(t) + len(t) for t in NAME_TAILS if t in word]
    cut = min((e for e in ends if e < len(word)), default=None)
    return (word,) if cut is None else (word[:cut], word[cut:])


def _ascii_key(text: str) -> str:
    return re.sub(r"\s+", "", text.lower())


@functools.cache
def _aliases() -> dict[str, tuple[str, ...]]:
    """Every conventional alias (Chinese as written, English/pinyin lower-case without
    spaces) → the stems it names. Some name two entities (平安保险, 太保)."""
    table: dict[str, list[str]] = {}
    for convention in CONVENTIONS:
        names = (
            convention.stem,
            *convention.aliases,
            *ENGLISH_NAMES.get(convention.stem, ()),
        )
        for alias in names:
            key = alias if _CJK_RE.match(alias) else _ascii_key(alias)
            stems = table.setdefault(key, [])
            if convention.stem not in stems:
                stems.append(convention.stem)
    return {k: tuple(v) for k, v in table.items()}


@functools.cache
def _ascii_alias_keys() -> tuple[str, ...]:
    return tuple(sorted(k for k in _aliases() if k.isascii() and len(k) >= _ASCII_FUZZY_MIN))


@functools.cache
def _readings(ch: str) -> frozenset[str]:
    """Every toneless reading of a character (行 → xing, hang, heng)."""
    found = pinyin(ch, style=Style.NORMAL, heteronym=True, errors="ignore")
    return frozenset(r for group in found for r in group if r) or frozenset({ch})


def _sounds_like(word: str, alias: str) -> bool:
    """Same length, every character sharing a reading with the alias's, and at least one
    character the same: 建航 reads as 建行, 中心 never as 中信's typo unless it sounds so."""
    if len(word) != len(alias) or word == alias:
        return False
    if not any(a == b for a, b in zip(word, alias, strict=True)):
        return False
    return all(a == b or _readings(a) & _readings(b) for a, b in zip(word, alias, strict=True))


def _abbreviation(word: str) -> tuple[tuple[str, ...], str]:
    """The stems an abbreviation at the start of `word` names, and the rest of the word.

    English and pinyin words are taken whole (ICBC, jianhang, or one mistyped by a letter
    or two). Chinese words may go on after the abbreviation (工行新街口); the longest
    alias wins. A typo by sound is believed for a whole word only when it is two
    characters long (中航工业 is no 中行), and as the start of a word for longer aliases.
    """
    aliases = _aliases()
    if word.isascii():
        key = _ascii_key(word)
        if key in aliases:
            return aliases[key], ""
        if len(key) >= _ASCII_FUZZY_MIN:
            found = process.extractOne(
                key, _ascii_alias_keys(), scorer=fuzz.ratio, score_cutoff=_ASCII_FUZZY_CUTOFF
            )
            if found is not None:
                return aliases[found[0]], ""
        return (), word
    longest = min(len(word), max(len(k) for k in aliases))
    for size in range(longest, 1, -1):
        head = word[:size]
        if head in aliases:
            return aliases[head], word[size:]
    for size in range(min(len(word), 6), 1, -1):
        head = word[:size]
        if size == 2 and len(word) > 2:
            continue
        for alias, stems in aliases.items():
            if _sounds_like(head, alias):
                return stems, word[size:]
    return (), word


# --- SQL -------------------------------------------------------------------------------------


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _contains(column: Any, word: str) -> ColumnElement[bool]:
    return column.ilike(f"%{_like_escape(word)}%", escape="\\")  # type: ignore[no-any-return]


def _in_name(word: str) -> ColumnElement[bool]:
    return or_(_contains(Institution.name, word), _contains(Institution.short_name, word))


def _in_record(word: str) -> ColumnElement[bool]:
    return or_(_in_name(word), _contains(Institution.address, word))


def _all(words: Sequence[str], test: Any) -> ColumnElement[bool]:
    return and_(*(test(w) for w in words)) if words else true()


def _word_variants(query: NameQuery) -> list[tuple[str, ...]]:
    return [query.words, query.expanded_words] if query.expanded_words else [query.words]


def resolve_entities(session: Session, query: NameQuery) -> NameQuery:
    """`query` with the codes of the head offices its abbreviations name (any company form).

    Looked up once, before the search: as a literal list the legal-entity condition is one
    index scan that PostgreSQL can OR with the trigram scans; as a subquery it made the
    planner read every record (a second at 100,000 records).
    """
    if not query.entity_stems:
        return query
    legal_names = [s + form for s in query.entity_stems for form in ("", *LEGAL_FORMS)]
    codes = session.execute(
        # Equalities OR-ed rather than IN: each one is a look-up in the name's trigram index.
        select(Institution.fi_code)
        .where(
            or_(*(Institution.name == n for n in legal_names)),
            Institution.fi_code == Institution.legal_entity_code,
        )
        .order_by(Institution.fi_code)
    ).scalars()
    return replace(query, entity_codes=tuple(codes))


def entity_condition(query: NameQuery) -> ColumnElement[bool]:
    """Records of the entities the abbreviations name: of the head offices found by
    `resolve_entities`, or, where the registry holds no such head office, records whose
    own name holds the stem (中国工商银行股份有限公司南京分行)."""
    if not query.entity_stems:
        return false()
    if query.entity_codes:
        return Institution.legal_entity_code.in_(query.entity_codes)
    return or_(*(_contains(Institution.name, s) for s in query.entity_stems))


def _resembles(text: str) -> ColumnElement[bool]:
    # `name %> text`: some stretch of the name is trigram-similar to the whole text, at
    # least pg_trgm.word_similarity_threshold (see `prepare`), through the trigram index.
    return Institution.name.op("%>")(text)


def prepare(session: Session) -> None:
    """Set the resemblance threshold for this transaction (run before a search).

    pg_trgm's default (0.6) suits words in spaced text. A registry name is one long
    unspaced run of characters, so a query loses its padding trigrams against it, and a
    one-character typo in 南京新街口之行 leaves 3 of its 8 trigrams (0.375) in
    南京新街口支行. 0.3 finds such typos and still refuses names sharing one trigram.
    Set locally (`set_config(..., true)`): it ends with the transaction.
    """
    session.execute(
        text("SELECT set_config('pg_trgm.word_similarity_threshold', :t, true)"),
        {"t": str(TYPO_SIMILARITY)},
    )


def match_condition(query: NameQuery) -> ColumnElement[bool]:
    """The WHERE condition: the record matches the text in one of the ways above."""
    if query.code_prefix is not None:
        # A range rather than LIKE: the unique btree on fi_code serves it (the database's
        # C.UTF-8 collation orders by code point, and "~" sorts after every digit).
        return and_(
            Institution.fi_code >= query.code_prefix,
            Institution.fi_code < query.code_prefix + "~",
        )
    ways = [_all(words, _in_record) for words in _word_variants(query)]
    # As typed only: spelt out, 紫金农村商业银行 resembles every rural bank's name.
    ways.append(_resembles(query.text))
    if query.entity_stems:
        ways.append(and_(entity_condition(query), _all(query.rest, _in_record)))
    return or_(*ways)


# How a record matched, by relevance tier (best first): shown to the user with each hit.
MATCH_KINDS = ("exact", "prefix", "name", "abbreviation", "address", "similar")


def match_tier(query: NameQuery) -> ColumnElement[int]:
    """The relevance tier of a matching record: an index into `MATCH_KINDS`."""
    if query.code_prefix is not None:
        return case((Institution.fi_code == query.code_prefix, 0), else_=1)
    variants = _word_variants(query)
    tiers: list[tuple[ColumnElement[bool], int]] = [
        (or_(Institution.name == query.text, Institution.short_name == query.text), 0),
        (Institution.name.ilike(_like_escape(query.text) + "%", escape="\\"), 1),
        (or_(*(_all(words, _in_name) for words in variants)), 2),
    ]
    if query.entity_stems:
        tiers.append((and_(entity_condition(query), _all(query.rest, _in_name)), 3))
    tiers.append((or_(*(_all(words, _in_record) for words in variants)), 4))
    if query.entity_stems:
        tiers.append((and_(entity_condition(query), _all(query.rest, _in_record)), 4))
    return case(*tiers, else_=5)


def relevance(query: NameQuery, tier: ColumnElement[int]) -> list[Any]:
    """ORDER BY terms, best first: the tier, then trigram similarity of the name, then head
    offices before branches before outlets; fi_code ends every tie, so pages are stable."""
    if query.code_prefix is not None:
        return [Institution.fi_code]
    level_order = case(
        *((Institution.level == level, rank) for rank, level in enumerate(LEVELS)), else_=9
    )
    similarity = func.word_similarity(query.similarity_text, Institution.name)
    return [tier, similarity.desc(), level_order, Institution.fi_code]


def match_kind(query: NameQuery, tier: int) -> str:
    """The name of a tier, as shown with each hit (a code look-up says "code")."""
    if query.code_prefix is not None:
        return "code"
    return MATCH_KINDS[min(max(tier, 0), len(MATCH_KINDS) - 1)]
