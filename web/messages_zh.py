"""Chinese for the validation messages that marshmallow, webargs and werkzeug write in English.

The public (the mini-program, the H5 page, the chat API) reads the error answer's messages,
so every one of them must hold Chinese. Our own schemas already say their messages in
Chinese ("纬度超出范围 / latitude out of range"); the libraries' defaults ("Not a valid
number.", "Special numeric values (nan or infinity) are not permitted.") come through when a
value fails a field's own type check before our validators run. Rather than restating every
field's `error_messages`, the error answer of a public path passes through
:func:`translate_errors` once (web/api.py), which puts the Chinese in front of the
English it recognises: "应为数字 / Not a valid number.".

The table covers every default message of marshmallow's fields, schemas and validators and
webargs' own; `tests/test_messages_zh.py` reads them from the installed libraries, so an
upgrade that adds one fails the test until it is translated here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, Final

# English template (placeholders as the libraries format them) -> Chinese template.
TRANSLATIONS: Final[dict[str, str]] = {
    # marshmallow.fields.Field and its subclasses
    "Missing data for required field.": "缺少必填项",
    "Field may not be null.": "不能为空（null）",
    "Invalid value.": "取值无效",
    "Invalid type.": "类型不对",
    "Not a valid list.": "应为列表",
    "Not a valid tuple.": "应为数组",
    "Not a valid string.": "应为文字",
    "Not a valid utf-8 string.": "不是有效的 UTF-8 文字",
    "Not a valid UUID.": "不是有效的 UUID",
    "Not a valid number.": "应为数字",
    "Number too large.": "数字过大",
    "Not a valid integer.": "应为整数",
    "Special numeric values (nan or infinity) are not permitted.": "不能是 NaN 或无穷大",
    "Not a valid boolean.": "应为 true 或 false",
    "Not a valid {obj_type}.": "不是有效的{obj_type}",
    "Not a valid {awareness} {obj_type}.": "不是有效的{obj_type}（{awareness}）",
    '"{input}" cannot be formatted as a {obj_type}.': "“{input}”无法格式化为{obj_type}",
    "Not a valid date.": "不是有效的日期",
    '"{input}" cannot be formatted as a date.': "“{input}”无法格式化为日期",
    "Not a valid datetime.": "不是有效的日期时间",
    "Not a valid time.": "不是有效的时间",
    "Not a valid period of time.": "不是有效的时长",
    "{input} cannot be formatted as a timedelta.": "{input} 无法格式化为时长",
    "Not a valid mapping type.": "应为对象（键值对）",
    "Not a valid URL.": "不是有效的网址",
    "Not a valid email address.": "不是有效的电子邮件地址",
    "Not a valid IP address.": "不是有效的 IP 地址",
    "Not a valid IPv4 address.": "不是有效的 IPv4 地址",
    "Not a valid IPv6 address.": "不是有效的 IPv6 地址",
    "Not a valid IP interface.": "不是有效的 IP 接口",
    "Not a valid IPv4 interface.": "不是有效的 IPv4 接口",
    "Not a valid IPv6 interface.": "不是有效的 IPv6 接口",
    "Must be one of: {choices}.": "应为以下之一：{choices}",
    # marshmallow.Schema
    "Unknown field.": "无法识别的字段",
    "Invalid input type.": "输入类型不对",
    # marshmallow.validate
    "Must be greater than or equal to {min}.": "应大于或等于 {min}",
    "Must be greater than {min}.": "应大于 {min}",
    "Must be less than or equal to {max}.": "应小于或等于 {max}",
    "Must be less than {max}.": "应小于 {max}",
    "Must be greater than or equal to {min} and less than or equal to {max}.": (
        "应在 {min} 到 {max} 之间（含两端）"
    ),
    "Must be greater than {min} and less than or equal to {max}.": "应大于 {min} 且不超过 {max}",
    "Must be greater than or equal to {min} and less than {max}.": "应不小于 {min} 且小于 {max}",
    "Must be greater than {min} and less than {max}.": "应大于 {min} 且小于 {max}",
    "Shorter than minimum length {min}.": "太短，至少 {min} 个字符",
    "Longer than maximum length {max}.": "太长，最多 {max} 个字符",
    "Length must be between {min} and {max}.": "长度应在 {min} 到 {max} 之间",
    "Length must be {equal}.": "长度应为 {equal}",
    "Must be equal to {other}.": "应等于 {other}",
    "String does not match expected pattern.": "格式不对",
    "Invalid input.": "输入无效",
    "One or more of the choices you made was not in: {choices}.": "有选项不在以下范围内：{choices}",
    "One or more of the choices you made was in: {values}.": "有选项不允许：{values}",
    # webargs and our own JSON body check (web/api.py)
    "Invalid JSON body.": "请求体不是有效的 JSON",
    "The request body is not valid JSON.": "请求体不是有效的 JSON",
}

# werkzeug's descriptions of plain HTTP errors, by status: the public reads these when no
# view said anything of its own (an unknown path, a wrong method, a body too large).
HTTP_STATUS_ZH: Final[dict[int, str]] = {
    400: "请求有误",
    401: "需要登录",
    403: "没有权限",
    404: "找不到该地址或资源",
    405: "不支持该请求方法",
    406: "无法提供所要求的格式",
    409: "与现有数据冲突",
    411: "缺少请求体长度",
    413: "请求内容过大",
    414: "网址过长",
    415: "不支持的内容类型",
    422: "请求参数有误",
    429: "请求过于频繁，请稍后再试",
    431: "请求头过大",
    500: "服务器内部错误",
    501: "暂不支持",
    503: "服务暂时不可用，请稍后再试",
}

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_PLACEHOLDER = re.compile(r"\{(\w+)(?:![rsa])?\}")


def has_chinese(text: str) -> bool:
    return _CJK.search(text) is not None


def _pattern(template: str) -> re.Pattern[str]:
    parts: list[str] = []
    end = 0
    for match in _PLACEHOLDER.finditer(template):
        parts.append(re.escape(template[end : match.start()]))
        parts.append(f"(?P<{match.group(1)}>.+?)")
        end = match.end()
    parts.append(re.escape(template[end:]))
    return re.compile("".join(parts) + r"\Z", re.DOTALL)


_EXACT: Final = {en: zh for en, zh in TRANSLATIONS.items() if not _PLACEHOLDER.search(en)}
# Longest literal text first: "Must be ... {min} and less than ... {max}." before the
# "Must be ... {min}." that would otherwise swallow the rest as its {min}.
_PATTERNS: Final = [
    (_pattern(en), _PLACEHOLDER.sub(r"{\1}", zh))
    for en, zh in sorted(TRANSLATIONS.items(), key=lambda item: -len(_PLACEHOLDER.sub("", item[0])))
    if _PLACEHOLDER.search(en)
]


@lru_cache(maxsize=1024)
def translate(message: str) -> str:
    """`message` with Chinese in front ("应为数字 / Not a valid number."); unchanged if it
    already holds Chinese or is not one of the libraries' messages (our own codes such as
    `invalid_code`, which clients compare, and messages our code already words)."""
    if has_chinese(message):
        return message
    zh = _EXACT.get(message)
    if zh is None:
        for pattern, template in _PATTERNS:
            match = pattern.match(message)
            if match:
                zh = template.format(**match.groupdict())
                break
    return f"{zh} / {message}" if zh else message


def translate_errors(errors: Any) -> Any:
    """webargs' nested `errors` (dicts of lists of strings) with every message translated."""
    if isinstance(errors, str):
        return translate(errors)
    if isinstance(errors, Mapping):
        return {key: translate_errors(value) for key, value in errors.items()}
    if isinstance(errors, list | tuple):
        return [translate_errors(value) for value in errors]
    return errors


def http_message(code: int, message: str) -> str:
    """A plain HTTP error's message for the public: Chinese by status, then the English."""
    if has_chinese(message):
        return message
    zh = HTTP_STATUS_ZH.get(code) or ("请求有误" if code < 500 else HTTP_STATUS_ZH[500])
    return f"{zh} / {message}"
