"""The chat bot's engine: one message and what we remember of its sender → a reply.

Channel-neutral (`bot.messages`): WeChat, the JSON chat API and the terminal
chat all call `BotEngine.reply`. The steps, each small:

1. recall the user's memory (`bot.conversation`: last position, last results, last
   search), which expires;
2. read the text (`bot.understand` over a lexicon built from the registry's legal
   entities, rebuilt when an import changes them);
3. decide: help, a follow-up about the last results ("第二个的电话", "更多"), or a
   search, which asks for the user's position first when it needs one;
4. search with the one search service (`geo.search`) — nearest first when the
   position is known — and re-rank by how well names match the words the user
   gave (rapidfuzz), so "工行新街口支行" is that branch, not the nearest outlet
   whose address mentions 新街口 (without a position the service already ranks
   names so, through its indexes);
5. when nothing matches, say what was understood and suggest the closest names;
6. remember the results and the search for the next message.

The engine writes only its memory row, in the caller's transaction: the caller
commits (the WeChat adapter commits only if the reply went out in time).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from rapidfuzz import fuzz
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot import replies, suggestions
from bot.conversation import Memory, forget, recall, remember, user_key
from bot.landmarks import LandmarkIndex
from bot.lexicon import EntityRecord, Lexicon, lexicon_for
from bot.messages import BotInput, BotReply, ResultItem, SharedLocation
from bot.understand import Understanding, understand
from core.coords import distance_m
from core.models.registry import ImportBatch
from geo import outlets as outlet_records
from geo.landmarks import name_words
from geo.search import (
    Filters,
    OutletHit,
    Point,
    SearchQuery,
    by_fi_codes,
    search,
)
from profiles.business_types import BY_KEY
from profiles.opening import OpenState, open_state, open_states, parse_stored
from registry import regions

DEFAULT_COUNT = 5
CANDIDATES = 60  # rows read to re-rank by name when the user named a place or branch
VOCABULARY_CHECK_S = 30.0  # how often to ask whether an import changed names
SUGGESTIONS = 3
BRANCHES = ("branch",)


@dataclass(frozen=True)
class _Search:
    """A search the engine ran, as stored in memory for "更多" (JSON-friendly)."""

    entities: tuple[str, ...]
    categories: tuple[str, ...]
    business_types: tuple[str, ...]
    regions: tuple[str, ...]
    landmark: str | None
    open_now: bool
    radius_m: float | None
    count: int
    offset: int
    near: tuple[float, float] | None
    what: str = ""  # how the reply names what was asked for: 中国工商银行, 银行, ...
    also: tuple[str, ...] = ()  # other landmark words, each in the name or the address
    kinds: tuple[str, ...] = ()  # outlet kinds; empty: branches (Understanding.kinds)

    def to_json(self) -> dict[str, Any]:
        return {
            "entities": list(self.entities),
            "categories": list(self.categories),
            "business_types": list(self.business_types),
            "regions": list(self.regions),
            "landmark": self.landmark,
            "open_now": self.open_now,
            "radius_m": self.radius_m,
            "count": self.count,
            "offset": self.offset,
            "near": list(self.near) if self.near else None,
            "what": self.what,
            "also": list(self.also),
            "kinds": list(self.kinds),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> _Search:
        near = data.get("near")
        return cls(
            entities=tuple(data.get("entities", ())),
            categories=tuple(data.get("categories", ())),
            business_types=tuple(data.get("business_types", ())),
            regions=tuple(data.get("regions", ())),
            landmark=data.get("landmark"),
            open_now=bool(data.get("open_now")),
            radius_m=data.get("radius_m"),
            count=int(data.get("count", DEFAULT_COUNT)),
            offset=int(data.get("offset", 0)),
            near=(float(near[0]), float(near[1])) if near else None,
            what=str(data.get("what", "")),
            also=tuple(data.get("also", ())),
            kinds=tuple(data.get("kinds", ())),
        )


@dataclass(frozen=True)
class _Vocabulary:
    lexicon: Lexicon
    landmarks: LandmarkIndex


class _VocabularyCache:
    """What the engine knows of the registry's words, rebuilt after an import changed them:
    the lexicon of legal entities and the place words of outlet names.

    Asking costs one indexed query every VOCABULARY_CHECK_S per process; building
    takes a few hundred milliseconds and happens once per registry state.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._checked = 0.0
        self._version: object = None
        self._vocabulary: _Vocabulary | None = None

    def get(self, session: Session) -> _Vocabulary:
        now = time.monotonic()
        if self._vocabulary is not None and now - self._checked < VOCABULARY_CHECK_S:
            return self._vocabulary
        version = session.execute(select(func.max(ImportBatch.id))).scalar()
        with self._lock:
            if self._vocabulary is None or version != self._version:
                records = tuple(
                    EntityRecord(r["fi_code"], r["name"], r["short_name"], r["category"])
                    for r in outlet_records.legal_entities(session)
                )
                lexicon = lexicon_for(records)
                landmarks = LandmarkIndex(name_words(session), lexicon.place_names.values())
                self._vocabulary = _Vocabulary(lexicon, landmarks)
                self._version = version
            self._checked = now
            return self._vocabulary


class BotEngine:
    """Answers chat messages; safe to share between threads (state is in the database)."""

    def __init__(self, secret_key: str, *, default_count: int = DEFAULT_COUNT) -> None:
        self._secret = secret_key
        self._default_count = default_count
        self._vocabulary = _VocabularyCache()

    def lexicon(self, session: Session) -> Lexicon:
        return self._vocabulary.get(session).lexicon

    def landmark_index(self, session: Session) -> LandmarkIndex:
        """The place words of outlet names, which typos are corrected against."""
        return self._vocabulary.get(session).landmarks

    def reply(self, session: Session, message: BotInput, now: datetime) -> BotReply:
        key = user_key(message.user, self._secret)
        if message.event == "unsubscribe":
            forget(session, key)
            return BotReply(replies.GOODBYE)
        if message.event is not None:
            return BotReply(replies.HELP, understood={"event": message.event})
        memory = recall(session, key, now)
        answer = self._answer(session, message, memory, now)
        remember(session, memory, now)
        return answer

    # -- deciding -------------------------------------------------------------------------

    def _answer(
        self, session: Session, message: BotInput, memory: Memory, now: datetime
    ) -> BotReply:
        if message.location is not None:
            memory.location, memory.location_at = message.location, now
        text = (message.text or "").strip()
        if not text:
            if message.location is None:
                return BotReply(replies.HELP)
            return self._after_location(session, memory, now)
        lexicon = self.lexicon(session)
        u = understand(text, lexicon)
        understood = u.as_dict()
        if u.follow_up is not None and not u.has_search_terms:
            return self._follow_up(session, u, memory, now, understood)
        if not (u.has_search_terms or u.wants_nearest or u.open_now or u.radius_m):
            if u.greeting or u.help or not u.text.strip():
                about = any(m.kind == "about" for m in u.matches)
                return BotReply(replies.ABOUT if about else replies.HELP, understood=understood)
            return self._suggest(session, u, lexicon, memory, now, understood)
        wanted = self._search_for(u, memory, self._describe(u, lexicon), lexicon)
        if (
            wanted.near is None
            and (u.wants_nearest or u.radius_m)
            and not (u.places or u.landmarks)
        ):
            memory.pending = wanted.to_json()
            memory.results_at = now
            what = wanted.what or "网点"
            return BotReply(replies.ASK_LOCATION.format(what=what), understood=understood)
        answer = self._run(session, wanted, memory, now, u, lexicon)
        answer.understood = understood
        return answer

    def _after_location(self, session: Session, memory: Memory, now: datetime) -> BotReply:
        """A shared position: answer the search that waited for it, or list what is near."""
        assert memory.location is not None
        label = f"（{memory.location.label}）" if memory.location.label else ""
        near = (memory.location.lat, memory.location.lng)
        if memory.pending:
            wanted = replace(_Search.from_json(memory.pending), near=near, offset=0)
            memory.pending = None
        else:
            wanted = _Search((), (), (), (), None, False, None, self._default_count, 0, near)
        answer = self._run(session, wanted, memory, now, None, None)
        answer.text = replies.LOCATION_SAVED.format(label=label) + "\n" + answer.text
        answer.understood = {"location": {"lat": near[0], "lng": near[1]}}
        return answer

    def _search_for(self, u: Understanding, memory: Memory, what: str, lexicon: Lexicon) -> _Search:
        near = (memory.location.lat, memory.location.lng) if memory.location else None
        longest = max(u.landmarks, key=len) if u.landmarks else None
        places = self._regions(u.places, near)
        if longest is None and u.legal_entities and len(places) == 1 and len(places[0]) == 6:
            # 栖霞农行: the bank's branch named after the district first, then the others there
            longest = _stem(lexicon.place_name(places[0]) or "") or None
        return _Search(
            entities=u.legal_entities,
            categories=u.categories,
            business_types=u.business_types,
            kinds=u.kinds,
            regions=places,
            landmark=longest,
            also=tuple(w for w in u.landmarks if w != longest),
            open_now=u.open_now,
            radius_m=float(u.radius_m) if u.radius_m else None,
            count=u.count or self._default_count,
            offset=0,
            near=near,
            what=what,
        )

    @staticmethod
    def _regions(codes: Sequence[str], near: tuple[float, float] | None) -> tuple[str, ...]:
        """Region-code prefixes; of several same-named places, the one nearest the user."""
        prefixes = tuple(_prefix(code) for code in codes)
        if len(prefixes) <= 1 or near is None:
            return prefixes
        placed = [(c, regions.place(c)) for c in codes]
        known = [(c, p) for c, p in placed if p is not None]
        if not known:
            return prefixes
        best = min(known, key=lambda cp: distance_m(near[0], near[1], cp[1].lat, cp[1].lng))
        return (_prefix(best[0]),)

    # -- searching ------------------------------------------------------------------------

    def _run(
        self,
        session: Session,
        wanted: _Search,
        memory: Memory,
        now: datetime,
        u: Understanding | None,
        lexicon: Lexicon | None,
    ) -> BotReply:
        hits, more = self._find(session, wanted, now)
        corrected = None
        if not hits and wanted.landmark:
            corrected = self._vocabulary.get(session).landmarks.correct(wanted.landmark)
            if corrected is not None:
                wanted = replace(wanted, landmark=corrected)
                hits, more = self._find(session, wanted, now)
        if not hits and lexicon is not None:
            named = self._place_as_name(wanted, lexicon)
            if named is not None:
                found, found_more = self._find(session, named, now)
                if found:
                    wanted, hits, more = named, found, found_more
        if not hits and u is not None and lexicon is not None:
            elsewhere = self._none_in_place(session, wanted, memory, lexicon, now)
            if elsewhere is not None:
                return elsewhere
        memory.search = wanted.to_json()
        memory.pending = None
        memory.results_at = now
        if not hits:
            memory.results = []
            if u is not None and lexicon is not None:
                return self._nothing_found(session, wanted, u, lexicon, now)
            return BotReply("附近没有找到金融网点。")
        items = self._items(hits, now)
        memory.results = [h.fi_code for h in hits]
        heading = self._heading(wanted)
        if corrected is not None:
            heading = f"按“{corrected}”为您查找。" + heading
        return BotReply(
            replies.results_text(heading, items, wanted.offset + 1, more), results=items
        )

    def _none_in_place(
        self,
        session: Session,
        wanted: _Search,
        memory: Memory,
        lexicon: Lexicon,
        now: datetime,
    ) -> BotReply | None:
        """高淳区招行 where 高淳区 has no outlet of that bank at all: say so plainly, then offer
        the bank's outlets nearest the place's centre (with the distance from it), then the
        place's other outlets of that kind.

        Only when the place has none of it whatever else was asked (open now, a business, a
        branch name) and no outlet of it is named after the place elsewhere in its city (what
        `_place_as_name` finds): a bank that is there, but closed or without the business, is
        `_nothing_found`'s to relax. Relaxing the place instead used to offer other banks'
        outlets under "当地其他机构" as if they were the answer.
        """
        if not wanted.entities or len(wanted.regions) != 1:
            return None
        region = wanted.regions[0]
        centre = _centre(region)
        place = lexicon.place_name(region.ljust(6, "0"))
        if centre is None or place is None:
            return None
        bare = replace(
            wanted,
            landmark=None,
            also=(),
            business_types=(),
            open_now=False,
            radius_m=None,
            offset=0,
            count=1,
        )
        if self._find(session, bare, now)[0]:
            return None
        named = self._place_as_name(bare, lexicon)
        if named is not None and self._find(session, named, now)[0]:
            return None
        nearest = replace(bare, regions=(), near=centre, count=SUGGESTIONS)
        theirs = self._items(self._find(session, nearest, now)[0], now)
        kinds = wanted.categories or tuple(
            sorted({lexicon.entities[c].category for c in wanted.entities if c in lexicon.entities})
        )
        local = replace(bare, entities=(), categories=kinds or ("bank",), near=centre)
        others = [
            replace(item, distance_m=None)  # all in the place: only the bank's are measured
            for item in self._items(
                self._find(session, replace(local, count=SUGGESTIONS), now)[0], now
            )
        ]
        memory.search = replace(nearest, what=wanted.what).to_json()
        memory.pending = None
        memory.results = [item.fi_code for item in (*theirs, *others)]
        memory.results_at = now
        what = wanted.what or "这家机构"
        kind = _KIND_WORDS.get(kinds[0], "网点") if len(kinds) == 1 else "网点"
        text = replies.none_in_place_text(place, what, kind, theirs, others)
        return BotReply(text, results=[*theirs, *others])

    @staticmethod
    def _place_as_name(wanted: _Search, lexicon: Lexicon) -> _Search | None:
        """A county named as a branch's name rather than where it is registered:
        射阳建行 → 射阳 in the names of Yancheng's outlets; 江宁开发区 → 江宁开发区."""
        counties = [r for r in wanted.regions if len(r) == 6]
        if len(counties) != 1:
            return None
        stem = _stem(lexicon.place_name(counties[0]) or "")
        if not stem:
            return None
        landmark = wanted.landmark or ""
        return replace(
            wanted,
            landmark=landmark if landmark.startswith(stem) else stem + landmark,
            regions=(counties[0][:4],),
        )

    def _find(
        self, session: Session, wanted: _Search, now: datetime
    ) -> tuple[list[OutletHit], bool]:
        """One page of outlets for `wanted`, and whether there are more."""
        near = Point(*wanted.near) if wanted.near else None
        filters = Filters(
            legal_entities=wanted.entities,
            categories=wanted.categories,
            business_types=wanted.business_types,
            # branches unless machines were asked for: the bot answers a bank's name or
            # 银行 with places to walk into, and 取钱 / ATM with cash machines
            kinds=wanted.kinds or BRANCHES,
            open_at=now if wanted.open_now else None,
            # the landmark first (the service ranks names by it), then the other words
            words=(wanted.landmark, *wanted.also) if wanted.landmark else (),
        )
        end = wanted.offset + wanted.count
        # With a landmark and a position, the best names come first, then the nearest:
        # read more rows to rank. Without a position the service ranks names as
        # _rank_by_name does (named after the landmark, containing it, in the address).
        window = max(CANDIDATES, end + 1) if wanted.landmark and near else end + 1
        hits: list[OutletHit] = []
        for prefix in wanted.regions or (None,):
            query = SearchQuery(
                near=near
                or (None if wanted.landmark or wanted.entities else _centre_point(prefix)),
                radius_m=wanted.radius_m,
                filters=replace(filters, region_prefix=prefix),
                limit=min(window, 100),
                max_limit=100,
            )
            found = search(session, query)
            if near is None and query.near is not None:  # not from the user: no distances
                found = [h._replace(distance_m=None) for h in found]
            hits += found
        if wanted.also:
            hits = [h for h in hits if all(_mentions(h, word) for word in wanted.also)]
        if wanted.landmark:
            hits = _rank_by_name(hits, wanted.landmark)
        elif len(wanted.regions) > 1 and near is not None:
            hits.sort(key=lambda h: h.distance_m or 0.0)
        return hits[wanted.offset : end], len(hits) > end

    @staticmethod
    def _items(hits: Sequence[OutletHit], now: datetime) -> list[ResultItem]:
        states = open_states([h.opening_hours_json for h in hits], now)
        return [
            ResultItem(
                fi_code=hit.fi_code,
                name=hit.name,
                address=hit.address,
                phone=hit.phone,
                lat=hit.lat,
                lng=hit.lng,
                distance_m=hit.distance_m,
                open_now=None if state is None else state.open_now,
            )
            for hit, state in zip(hits, states, strict=True)
        ]

    # -- follow-ups -----------------------------------------------------------------------

    def _follow_up(
        self,
        session: Session,
        u: Understanding,
        memory: Memory,
        now: datetime,
        understood: dict[str, Any],
    ) -> BotReply:
        assert u.follow_up is not None
        if u.follow_up.field == "more":
            return self._more(session, memory, now, understood)
        if not memory.results:
            return BotReply(replies.NO_RESULTS_FOR_FOLLOW_UP, understood=understood)
        by_code = {h.fi_code: h for h in by_fi_codes(session, memory.results)}
        listed = [by_code[c] for c in memory.results if c in by_code]
        first = _Search.from_json(memory.search).offset + 1 if memory.search else 1
        index = u.follow_up.index
        if index is not None and not first <= index < first + len(listed):
            last = first + len(listed) - 1
            return BotReply(
                f"上次的结果是第 {first} 到第 {last} 个，请换个序号。", understood=understood
            )
        chosen = [(index, listed[index - first])] if index is not None else None
        if chosen is None:
            chosen = (
                [(first, listed[0])]
                if u.follow_up.field == "detail"
                else [(first + k, h) for k, h in enumerate(listed)]
            )
        lines: list[str] = []
        items: list[ResultItem] = []
        for number, hit in chosen:
            item = self._with_distance(self._items([hit], now)[0], memory)
            items.append(item)
            hours = parse_stored(hit.opening_hours_json)
            hours_text = hours.format_zh() if hours is not None else None
            if u.follow_up.field == "detail":
                state: OpenState | None = None if hours is None else open_state(hours, now)
                lines.extend(replies.detail_text(number, item, hours_text, state))
            else:
                lines.append(
                    f"{number}. " + replies.field_line(u.follow_up.field, item, hours_text)
                )
        return BotReply("\n".join(lines), results=items, understood=understood)

    def _more(
        self, session: Session, memory: Memory, now: datetime, understood: dict[str, Any]
    ) -> BotReply:
        if memory.search is None:
            return BotReply(replies.NO_RESULTS_FOR_FOLLOW_UP, understood=understood)
        previous = _Search.from_json(memory.search)
        wanted = replace(previous, offset=previous.offset + previous.count)
        hits, more = self._find(session, wanted, now)
        if not hits:
            return BotReply(replies.NO_MORE, understood=understood)
        items = self._items(hits, now)
        memory.search = wanted.to_json()
        memory.results, memory.results_at = [h.fi_code for h in hits], now
        text = replies.results_text("更多结果：", items, wanted.offset + 1, more)
        return BotReply(text, results=items, understood=understood)

    @staticmethod
    def _with_distance(item: ResultItem, memory: Memory) -> ResultItem:
        if memory.location is None:
            return item
        metres = distance_m(memory.location.lat, memory.location.lng, item.lat, item.lng)
        return replace(item, distance_m=metres)

    # -- when nothing matches -------------------------------------------------------------

    def _nothing_found(
        self,
        session: Session,
        wanted: _Search,
        u: Understanding,
        lexicon: Lexicon,
        now: datetime,
    ) -> BotReply:
        """Say what was understood, then offer what comes closest: drop one condition."""
        said = replies.understood_text(self._parts(u, lexicon))
        relaxed: list[tuple[str, _Search]] = []
        if wanted.open_now:
            relaxed.append(("不限营业状态", replace(wanted, open_now=False)))
        if wanted.landmark:
            relaxed.append((f"不限“{wanted.landmark}”", replace(wanted, landmark=None)))
        if wanted.business_types:
            relaxed.append(("不限业务", replace(wanted, business_types=())))
        if wanted.radius_m:
            relaxed.append(("不限距离", replace(wanted, radius_m=None)))
        if wanted.also:
            dropped = "、".join(wanted.also)
            relaxed.append((f"不限“{dropped}”", replace(wanted, also=())))
        if wanted.regions and wanted.entities:
            # That institution elsewhere, nearest the user or the place they named.
            near = wanted.near or _centre(wanted.regions[0])
            relaxed.append(("其他地区", replace(wanted, regions=(), near=near)))
            others = replace(wanted, entities=(), categories=wanted.categories or ("bank",))
            relaxed.append(("当地其他机构", others))
        for label, looser in relaxed:
            if looser.near is None and not (
                looser.entities or looser.regions or looser.landmark or looser.business_types
            ):
                continue  # that would list the whole province
            hits, _ = self._find(session, replace(looser, count=SUGGESTIONS), now)
            if hits:
                names = "、".join(replies.display_name(h.name) for h in hits)
                items = self._items(hits, now)
                if wanted.near is None:  # measured from a region's centre, not from the user
                    items = [replace(item, distance_m=None) for item in items]
                return BotReply(
                    f"没有找到符合“{said}”的网点。你是不是要找（{label}）：{names}？",
                    results=items,
                )
        hint, items = self._suggest_names(session, u, lexicon, wanted.near, now)
        return BotReply(f"没有找到符合“{said}”的网点。" + hint, results=items)

    def _suggest(
        self,
        session: Session,
        u: Understanding,
        lexicon: Lexicon,
        memory: Memory,
        now: datetime,
        understood: dict[str, Any],
    ) -> BotReply:
        """Nothing recognised: the closest legal entities and outlet names, if any."""
        near = (memory.location.lat, memory.location.lng) if memory.location else None
        hint, items = self._suggest_names(session, u, lexicon, near, now)
        return BotReply(
            "抱歉，我没有看懂。" + (hint or "可以问“最近的工行”或“新街口哪里能换外币”。"),
            results=items,
            understood=understood,
        )

    def _suggest_names(
        self,
        session: Session,
        u: Understanding,
        lexicon: Lexicon,
        near: tuple[float, float] | None,
        now: datetime,
    ) -> tuple[str, list[ResultItem]]:
        """The outlets to offer as 你是不是要找: those of what the words were most likely
        meant to be (`bot.suggestions`: corrected against the vocabularies in memory, then
        found through the search service's indexes), nearest the user when we know where."""
        landmarks = self._vocabulary.get(session).landmarks
        meant = suggestions.guess(u.text, u.landmarks, lexicon, landmarks)
        if meant is None:
            return "", []
        wanted = _Search(
            entities=meant.entities,
            categories=(),
            business_types=(),
            regions=(),
            landmark=meant.word,
            open_now=False,
            radius_m=None,
            count=SUGGESTIONS,
            offset=0,
            near=near,
        )
        hits, _ = self._find(session, wanted, now)
        if not hits:
            return "", []
        names = "、".join(replies.display_name(h.name) for h in hits)
        return f"你是不是要找：{names}？", self._items(hits, now)

    # -- words ----------------------------------------------------------------------------

    def _parts(self, u: Understanding, lexicon: Lexicon) -> list[str]:
        parts: list[str] = []
        parts += [lexicon.place_name(c) or c for c in u.places]
        parts += list(u.landmarks)
        if u.open_now:
            parts.append("现在营业")
        parts += [BY_KEY[k].label_zh for k in u.business_types if k in BY_KEY]
        if u.kinds:
            parts.append("ATM / 自助银行")
        what = self._describe(u, lexicon)
        if what:
            parts.append(what)
        return parts

    @staticmethod
    def _describe(u: Understanding, lexicon: Lexicon) -> str:
        names = [replies.display_name(lexicon.entity_name(c) or c) for c in u.legal_entities]
        if len(names) > 3:
            return "农商行" if all("农村" in n for n in names) else "、".join(names[:3]) + "等"
        if names:
            return "、".join(names)
        return _KIND_WORDS.get(u.categories[0] if u.categories else "", "")

    @staticmethod
    def _heading(wanted: _Search) -> str:
        order = "，离您最近的在前" if wanted.near is not None else ""
        return f"为您找到以下{wanted.what or '网点'}{order}："


_KIND_WORDS = {"bank": "银行", "insurance": "保险公司", "securities": "证券营业部"}


def _stem(place_name: str) -> str:
    """鼓楼区 → 鼓楼, 射阳县 → 射阳: how a place is named inside branch names."""
    if len(place_name) >= 3 and place_name[-1] in "区县市":
        return place_name[:-1]
    return place_name


def _centre(prefix: str) -> tuple[float, float] | None:
    """The centre of the region a code prefix stands for (3202 → 无锡市), if known."""
    place = regions.place(prefix.ljust(6, "0"))
    return None if place is None else (place.lat, place.lng)


def _centre_point(prefix: str | None) -> Point | None:
    """Where to list a region's outlets from when the user gave no position and named no
    institution or landmark: its centre.

    Nearest the centre is a better answer to "扬中对公开户" than the first by fi_code,
    and the spatial index finds it at once; the first by fi_code within a county made
    PostgreSQL walk the fi_code index past every other county's outlets (1.4 s at a
    million outlets), the region's share being no guide to where its codes lie. (With
    an institution, its own outlets in fi_code order are found through its index.)
    """
    centre = _centre(prefix) if prefix else None
    return None if centre is None else Point(*centre)


def _prefix(code: str) -> str:
    """A region code as the prefix of the codes inside it: 320100 → 3201, 320106 → 320106."""
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


_UNIT = re.compile(r"(支行|分行|营业部|支公司|分公司|分理处|营业所|储蓄所)$")


def _mentions(hit: OutletHit, word: str) -> bool:
    return word in hit.name or (hit.address is not None and word in hit.address)


def _rank_by_name(hits: list[OutletHit], landmark: str) -> list[OutletHit]:
    """The unit named after the words first (新街口支行 for 新街口), then other names that
    contain them, addresses that do, and look-alikes; each tier keeps the service's
    order (nearest first when a position is known)."""

    def tier(hit: OutletHit) -> int:
        name = _UNIT.sub("", hit.name)
        if name.endswith(landmark):
            return 0
        if landmark in hit.name:
            return 1
        if hit.address and landmark in hit.address:
            return 2
        return 3 if fuzz.partial_ratio(landmark, hit.name) >= 80 else 4

    return sorted(hits, key=tier)


__all__ = ["BotEngine", "SharedLocation"]
