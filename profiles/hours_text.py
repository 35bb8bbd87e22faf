"""Reading opening hours from text: the lenient OSM-like syntax of `profiles.hours` (its module
docstring, "Text format"), as CSV imports, staff and the professional app send it.

Apart from the data (`profiles.hours`: the value objects, their JSON and their canonical text)
because reading people's text is a subject of its own: Chinese spellings, tokens, and one
parser per rule with messages naming the token at fault.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Final, Literal, NamedTuple

# The parser builds the same value objects, with the same checks and messages, as the JSON
# reader of `profiles.hours`: it shares that module's private helpers on purpose.
from profiles.hours import (
    _DAY_TEXT,
    _MONTHS,
    ALL_DAY,
    MAX_TEXT_LENGTH,
    DateException,
    HoursError,
    Interval,
    OpeningHours,
    PublicHolidayPolicy,
    _check_note,
    _error,
    _format_minute,
    _in_text,
    _make_interval,
    _normalize_day,
    _parse_time,
)

_OFF_WORDS: Final = frozenset({"off", "closed"})
_EXPECTED_DAYS_EN: Final = "one of Mo, Tu, We, Th, Fr, Sa, Su (or PH)"
_EXPECTED_DAYS_ZH: Final = "Mo、Tu、We、Th、Fr、Sa、Su（或 PH）之一"
# Chinese spellings mapped onto the OSM tokens, longest first so 星期日 wins over 日.
_ZH_REPLACEMENTS: Final = (
    ("法定节假日", " PH "),
    ("节假日", " PH "),
    *((f"星期{c}", f" {d} ") for c, d in zip("一二三四五六日", _DAY_TEXT, strict=True)),
    ("星期天", " Su "),
    *((f"周{c}", f" {d} ") for c, d in zip("一二三四五六日", _DAY_TEXT, strict=True)),
    ("周天", " Su "),
    ("工作日", " Mo-Fr "),
    ("周末", " Sa,Su "),
    ("每天", " Mo-Su "),
    ("每日", " Mo-Su "),
    ("不营业", " off "),
    ("休息", " off "),
    ("关闭", " off "),
    ("至", "-"),
    ("到", "-"),
    ("~", "-"),
    ("〜", "-"),
    ("—", "-"),
    ("–", "-"),
    ("−", "-"),
    ("、", ","),
)


def _normalize_text(text: str) -> str:
    """NFKC (full-width ；，：０-９ to ASCII) and Chinese words to OSM, outside quoted notes."""
    pieces = text.split('"')
    if len(pieces) % 2 == 0:
        raise HoursError(
            "unterminated note: a '\"' has no closing '\"'",
            message_zh="备注未结束：缺少配对的 '\"'",
            part=text,
        )
    out: list[str] = []
    for index, piece in enumerate(pieces):
        if index % 2:
            out.append(f'"{piece}"')
            continue
        piece = unicodedata.normalize("NFKC", piece)
        for old, new in _ZH_REPLACEMENTS:
            piece = piece.replace(old, new)
        out.append(piece)
    return "".join(out)


_TOKEN_RE: Final = re.compile(
    r"""
     (?P<ws>\s+)
    |(?P<always>24/7)
    |(?P<isodate>\d{4}-\d{1,2}-\d{1,2}(?!\d|:))
    |(?P<num>\d+(?:[:.]\d+)*)
    |(?P<word>[^\W\d_]+)
    |(?P<note>"[^"]*")
    |(?P<dash>-)
    |(?P<comma>,)
    |(?P<colon>:)
    |(?P<semi>;)
    |(?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)


class _Token(NamedTuple):
    kind: str
    text: str
    start: int
    end: int


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    for match in _TOKEN_RE.finditer(text):
        kind = match.lastgroup
        assert kind is not None
        if kind != "ws":
            tokens.append(_Token(kind, match.group(), match.start(), match.end()))
    return tokens


@dataclass
class _Draft:
    """What the rules parsed so far say; a day no rule names stays closed."""

    weekly: list[tuple[Interval, ...]] = field(default_factory=lambda: [()] * 7)
    public_holidays: PublicHolidayPolicy = "as_weekly"
    exceptions: dict[dt.date, DateException] = field(default_factory=dict)


class _RuleParser:
    """Recursive descent over the tokens of one rule (between semicolons)."""

    def __init__(self, tokens: list[_Token], source: str) -> None:
        self.tokens = tokens
        self.pos = 0
        self.text = source[tokens[0].start : tokens[-1].end]
        self.where = _in_text(self.text)

    # -- cursor helpers --

    def peek(self) -> _Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def fail(self, en: str, zh: str) -> HoursError:
        return _error(self.where, en, zh)

    def unexpected(self, token: _Token | None, expected_en: str, expected_zh: str) -> HoursError:
        if token is None:
            return self.fail(
                f"unexpected end of rule{self.where.en}: expected {expected_en}",
                f"规则意外结束{self.where.zh}：应为{expected_zh}",
            )
        hint_en, hint_zh = "", ""
        if token.kind == "word" and token.text.lower()[:2] in _DAY_INDEX:
            hint_en = "; separate rules with ';'"
            hint_zh = "；规则之间请用 “;” 分隔"
        return self.fail(
            f"unexpected {token.text!r}{self.where.en}: expected {expected_en}{hint_en}",
            f"意外的 “{token.text}”{self.where.zh}：应为{expected_zh}{hint_zh}",
        )

    # -- grammar --

    def apply(self, draft: _Draft) -> None:
        first = self.tokens[0]
        if first.kind == "always":
            self.take()
            self.expect_end("';' after '24/7'", "“24/7” 后的 “;”")
            draft.weekly = [(ALL_DAY,)] * 7
        elif first.kind == "isodate" or (
            first.kind == "num" and len(self.tokens) > 1 and self.tokens[1].kind == "word"
        ):
            self.apply_date(draft)
        elif first.kind == "num":
            # OSM: a rule without a day selector applies to every day.
            intervals = self.times()
            self.expect_end("';' or ',' and another interval", "“;” 或 “,” 加另一个时段")
            draft.weekly = [intervals] * 7
        elif first.kind == "word":
            self.apply_days(draft)
        else:
            raise self.unexpected(
                first,
                f"days ({_EXPECTED_DAYS_EN}), '24/7' or a date",
                f"星期（{_EXPECTED_DAYS_ZH}）、“24/7” 或日期",
            )

    def expect_end(self, expected_en: str, expected_zh: str) -> None:
        token = self.peek()
        if token is not None:
            if token.kind == "note":
                raise self.fail(
                    f"unexpected note {token.text}{self.where.en}: notes are only kept on date"
                    " exceptions such as '2026 Oct 01 off \"国庆节\"'",
                    f"意外的备注 {token.text}{self.where.zh}：备注只能用于例外日期，如 "
                    '“2026 Oct 01 off "国庆节"”',
                )
            raise self.unexpected(token, expected_en, expected_zh)

    def day_word(self, token: _Token) -> int | Literal["PH"]:
        word = token.text
        if word.upper() == "PH":
            return "PH"
        index = _DAY_INDEX.get(word.lower()) if len(word) == 2 else None
        if index is not None:
            return index
        hint_en, hint_zh = "", ""
        guess = _DAY_INDEX.get(word.lower()[:2])
        if guess is not None:
            hint_en = f" (did you mean {_DAY_TEXT[guess]!r}?)"
            hint_zh = f"（是否应为 “{_DAY_TEXT[guess]}”？）"
        elif word.upper() == "SH":
            hint_en = " (school holidays are not supported)"
            hint_zh = "（不支持学校假期）"
        raise self.fail(
            f"unknown day {word!r}{self.where.en}: expected {_EXPECTED_DAYS_EN}{hint_en}",
            f"无法识别的星期 “{word}”{self.where.zh}：应为 {_EXPECTED_DAYS_ZH}{hint_zh}",
        )

    def apply_days(self, draft: _Draft) -> None:
        days: list[int] = []
        has_ph = False
        while True:
            token = self.peek()
            if token is None or token.kind != "word":
                raise self.unexpected(
                    token, f"a day, {_EXPECTED_DAYS_EN}", f"星期，{_EXPECTED_DAYS_ZH}"
                )
            item = self.day_word(self.take())
            following = self.peek()
            if following is not None and following.kind == "dash":
                self.take()
                end_token = self.peek()
                if end_token is None or end_token.kind != "word":
                    raise self.unexpected(end_token, "a day to end the range", "范围结束的星期")
                end = self.day_word(self.take())
                if item == "PH" or end == "PH":
                    raise self.fail(
                        f"'PH' cannot be part of a day range{self.where.en}: list it with a comma",
                        f"“PH” 不能用于星期范围{self.where.zh}：请用逗号列出",
                    )
                # OSM ranges may wrap around the week: "Fr-Mo" is Fr Sa Su Mo.
                length = (end - item) % 7 + 1
                days.extend((item + k) % 7 for k in range(length))
            elif item == "PH":
                has_ph = True
            else:
                days.append(item)
            following = self.peek()
            if following is not None and following.kind == "comma":
                self.take()
                continue
            break
        base = self.tokens[0].start
        selector = self.text[: self.tokens[self.pos - 1].end - base]

        token = self.peek()
        if token is not None and token.kind == "colon":  # "周一至周五：9:00-17:00"
            self.take()
            token = self.peek()
        if token is not None and token.kind == "word" and token.text.lower() in _OFF_WORDS:
            self.take()
            self.expect_end("';' after 'off'", "“off” 后的 “;”")
            for day in days:
                draft.weekly[day] = ()
            if has_ph:
                draft.public_holidays = "closed"
            return
        if token is None or token.kind != "num":
            raise self.unexpected(
                token,
                f"opening times like 09:00-17:00 or 'off' after {selector!r}",
                f"“{selector}” 之后的营业时间（如 09:00-17:00）或 “off”",
            )
        if has_ph:
            raise self.fail(
                f"'PH' with opening times{self.where.en} is not supported: only 'PH off' is",
                f"不支持为 “PH” 指定营业时间{self.where.zh}：只支持 “PH off”",
            )
        intervals = self.times()
        self.expect_end("';' or ',' and another interval", "“;” 或 “,” 加另一个时段")
        for day in days:
            draft.weekly[day] = intervals

    def time_token(self, *, closing: bool) -> int:
        token = self.peek()
        if token is None or token.kind != "num":
            what = "a closing" if closing else "an opening"
            what_zh = "结束" if closing else "开始"
            raise self.unexpected(token, f"{what} time HH:MM", f"{what_zh}时间 HH:MM")
        self.take()
        return _parse_time(token.text, closing=closing, strict=False, where=self.where)

    def times(self) -> tuple[Interval, ...]:
        """HH:MM-HH:MM, more separated by commas (or just spaces, as Chinese text does)."""
        intervals: list[Interval] = []
        while True:
            start = self.time_token(closing=False)
            dash = self.peek()
            if dash is None or dash.kind != "dash":
                raise self.unexpected(
                    dash,
                    f"'-' after {_format_minute(start)!r}",
                    f"“{_format_minute(start)}” 后的 “-”",
                )
            self.take()
            end = self.time_token(closing=True)
            intervals.append(_make_interval(start, end, self.where))
            token = self.peek()
            if token is not None and token.kind == "comma":
                after = self.tokens[self.pos + 1] if self.pos + 1 < len(self.tokens) else None
                if after is not None and after.kind == "num":
                    self.take()
                    continue
                raise self.unexpected(token, "';' between rules", "规则之间的 “;”")
            if token is not None and token.kind == "num":
                continue
            return _normalize_day(intervals, self.where)

    def apply_date(self, draft: _Draft) -> None:
        first = self.take()
        if first.kind == "isodate":
            year_s, month_s, day_s = first.text.split("-")
            year, month, day_num = int(year_s), int(month_s), int(day_s)
        else:
            month_token = self.take()
            month = _MONTH_INDEX.get(month_token.text.lower(), 0)
            if not re.fullmatch(r"\d{4}", first.text) or not month:
                raise self.fail(
                    f"invalid date {self.text[: month_token.end - first.start]!r}{self.where.en}:"
                    " expected 'YYYY Mon DD' such as '2026 Oct 01', or 'YYYY-MM-DD'",
                    f"日期无效{self.where.zh}：应为 “2026 Oct 01” 或 “2026-10-01” 的形式",
                )
            year = int(first.text)
            day_token = self.peek()
            if day_token is None or not re.fullmatch(r"\d{1,2}", day_token.text):
                raise self.unexpected(
                    day_token, "a day of the month (01-31)", "日期中的日（01–31）"
                )
            self.take()
            day_num = int(day_token.text)
        try:
            date = dt.date(year, month, day_num)
        except ValueError:
            raise self.fail(
                f"invalid date {year:04d}-{month:02d}-{day_num:02d}{self.where.en}:"
                " no such calendar day",
                f"日期 {year:04d}-{month:02d}-{day_num:02d} 无效{self.where.zh}：不存在这一天",
            ) from None
        token = self.peek()
        if token is not None and token.kind == "dash":
            raise self.fail(
                f"date ranges are not supported{self.where.en}: write one rule per date",
                f"不支持日期范围{self.where.zh}：请每个日期写一条规则",
            )
        if token is not None and token.kind == "colon":
            self.take()
            token = self.peek()
        intervals: tuple[Interval, ...]
        if token is not None and token.kind == "word" and token.text.lower() in _OFF_WORDS:
            self.take()
            intervals = ()
        elif token is not None and token.kind == "num":
            intervals = self.times()
        else:
            raise self.unexpected(
                token,
                "opening times like 10:00-14:00 or 'off' after the date",
                "日期后的营业时间（如 10:00-14:00）或 “off”",
            )
        note = ""
        token = self.peek()
        if token is not None and token.kind == "note":
            self.take()
            note = _check_note(token.text[1:-1], self.where)
        token = self.peek()
        if token is not None:
            raise self.unexpected(token, "';' after the date rule", "例外日期规则后的 “;”")
        # OSM: a later rule for the same date replaces the earlier one.
        draft.exceptions[date] = DateException(date, intervals, note)


_DAY_INDEX: Final = {d.lower(): i for i, d in enumerate(_DAY_TEXT)}
_MONTH_INDEX: Final = {m.lower(): i + 1 for i, m in enumerate(_MONTHS)}


def parse_hours(text: str) -> OpeningHours:
    """Parse the text format (module docstring) into canonical `OpeningHours`.

    Raises `HoursError` naming the rule and token at fault and what was expected.
    An empty text is an error, not "always closed": in an import it means the
    hours are unknown, which the caller should store as no value at all.
    """
    if not isinstance(text, str):
        raise HoursError(
            f"opening hours must be text, got {type(text).__name__}",
            message_zh="营业时间必须是文本",
            part=repr(text),
        )
    if len(text) > MAX_TEXT_LENGTH:
        raise HoursError(
            f"opening hours text is too long: at most {MAX_TEXT_LENGTH} characters",
            message_zh=f"营业时间文本过长：最多 {MAX_TEXT_LENGTH} 个字符",
            part=text[:40] + "…",
        )
    normalized = _normalize_text(text)
    tokens = _tokenize(normalized)
    rules: list[list[_Token]] = [[]]
    for token in tokens:
        if token.kind == "semi":
            rules.append([])
        else:
            rules[-1].append(token)
    rules = [rule for rule in rules if rule]  # tolerate "a;;b" and a trailing ";"
    if not rules:
        raise HoursError(
            "opening hours are empty: expected e.g. 'Mo-Fr 09:00-17:00' or '24/7'",
            message_zh="营业时间为空：应为如 “Mo-Fr 09:00-17:00” 或 “24/7”",
            part=text,
        )
    draft = _Draft()
    for rule in rules:
        _RuleParser(rule, normalized).apply(draft)
    return OpeningHours(
        tuple(draft.weekly), draft.public_holidays, tuple(draft.exceptions.values())
    )
