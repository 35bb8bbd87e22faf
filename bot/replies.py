"""The bot's words: how results, details and help read in a chat.

Kept apart from the engine's decisions so the wording can change without
touching what is searched. Chat screens are narrow and WeChat cuts long
texts, so names drop the company form (股份有限公司) and each outlet takes
two or three short lines.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.messages import ResultItem
from profiles.opening import OpenState

_COMPANY_FORM = re.compile(r"(股份有限公司|有限责任公司|有限公司)")

HELP = (
    "您好！我可以帮您查找附近的银行等金融网点。可以这样问：\n"
    "· 最近的工行（先点“+”→“位置”发送您的位置）\n"
    "· 新街口哪里能换外币\n"
    "· 鼓楼区现在开门的建行\n"
    "· 南京银行珠江路支行电话\n"
    "查到结果后，可以回复“第二个的电话”“地址”“营业时间”或“更多”。"
)
# "你是谁", "你能做什么": who answers, then the same help.
ABOUT = "我是“金融网点通”的查询助手，" + HELP.removeprefix("您好！")
ASK_LOCATION = "请先发送您的位置（点输入框旁的“+”→“位置”），我就能帮您找离您最近的{what}。"
NO_RESULTS_FOR_FOLLOW_UP = "请先告诉我您要找哪家网点，例如“最近的工行”。"
NO_MORE = "没有更多结果了。"
LOCATION_SAVED = "已收到您的位置{label}。"
GOODBYE = ""


def display_name(name: str) -> str:
    """中国工商银行股份有限公司南京新街口支行 → 中国工商银行南京新街口支行."""
    return _COMPANY_FORM.sub("", name)


def distance_text(metres: float | None) -> str:
    if metres is None:
        return ""
    if metres < 1000:
        return f"{int(round(metres, -1))}米"
    return f"{metres / 1000:.1f}公里"


def open_text(open_now: bool | None) -> str:
    if open_now is None:
        return ""
    return "营业中" if open_now else "未营业"


def result_lines(index: int, item: ResultItem) -> list[str]:
    facts = [f for f in (open_text(item.open_now), distance_text(item.distance_m)) if f]
    head = f"{index}. {display_name(item.name)}" + (f"｜{'｜'.join(facts)}" if facts else "")
    lines = [head]
    if item.address:
        lines.append(f"   地址：{item.address}")
    if item.phone:
        lines.append(f"   电话：{item.phone}")
    return lines


def results_text(
    heading: str, items: Sequence[ResultItem], first_index: int = 1, more: bool = False
) -> str:
    lines = [heading]
    for offset, item in enumerate(items):
        lines.extend(result_lines(first_index + offset, item))
    hint = "回复“第N个”看详情"
    if more:
        hint += "，“更多”看其余结果"
    lines.append(hint + "。")
    return "\n".join(lines)


def none_in_place_text(
    place: str,
    what: str,
    kind: str,
    theirs: Sequence[ResultItem],
    others: Sequence[ResultItem],
) -> str:
    """高淳区没有招商银行的网点: the institution's outlets nearest the place (their distances
    from its centre), then the place's other outlets of that kind, numbered on."""
    lines = [f"{place}没有{what}的网点。"]
    if theirs:
        lines.append(f"离{place}中心最近的{what}网点：")
    else:
        lines.append(f"其他地方也没有找到{what}的网点。")
    for offset, item in enumerate(theirs):
        lines.extend(result_lines(1 + offset, item))
    if others:
        lines.append(f"{place}的其他{kind}：")
    for offset, item in enumerate(others):
        lines.extend(result_lines(1 + len(theirs) + offset, item))
    if theirs or others:
        lines.append("回复“第N个”看详情。")
    return "\n".join(lines)


def detail_text(
    index: int, item: ResultItem, hours: str | None, state: OpenState | None
) -> list[str]:
    lines = [f"{index}. {display_name(item.name)}"]
    lines.append(f"地址：{item.address or '暂无'}")
    lines.append(f"电话：{item.phone or '暂无'}")
    lines.append(f"营业时间：{hours or '暂无'}")
    if state is not None:
        lines.append(f"现在：{open_text(state.open_now)}" + _next_opening(state))
    if item.distance_m is not None:
        lines.append(f"距离：{distance_text(item.distance_m)}")
    return lines


def _next_opening(state: OpenState) -> str:
    if state.open_now and state.closes_at is not None:
        return f"，{state.closes_at:%H:%M} 关门"
    if not state.open_now and state.opens_next_at is not None:
        return f"，下次开门 {state.opens_next_at:%m月%d日 %H:%M}"
    return ""


def field_line(field: str, item: ResultItem, hours: str | None) -> str:
    name = display_name(item.name)
    if field == "phone":
        return f"{name}：电话 {item.phone or '暂无'}"
    if field == "address":
        return f"{name}：地址 {item.address or '暂无'}"
    return f"{name}：营业时间 {hours or '暂无'}"


def understood_text(parts: Sequence[str]) -> str:
    return "、".join(parts) if parts else "您的问题"
