"""Questions about the bot itself: "你是谁", "你能帮我做什么", "这个怎么用", "who are you".

New users ask these before anything else. Word by word they are pronouns, verbs and
question words the lexicon drops as fillers, so the message seemed to say nothing
("抱歉，我没有看懂"); read as a whole they ask for help. They are recognised here as whole
messages, before the word scan: "你能帮我找工行吗" names something to search and must stay
a search, which a pattern over the whole message cannot mistake for help, while a
dictionary word (能帮我) would.
"""

from __future__ import annotations

import re

__all__ = ["asks_about_the_bot"]

_YOU = r"(?:你们|你|您|机器人|小助手|助手|客服|这个(?:公众号|号|机器人|东西)?|此号)"
_WHAT = r"(?:什么|啥|嘛|哪些)"
_HELP_ME = r"(?:帮我|帮|帮忙|为我|给我|替我)?"
_DO = r"(?:做|干|办|查|找|弄|提供)?"

_PATTERNS = (
    # who or what it is
    rf"{_YOU}?(?:是谁|是哪位|是什么|是啥|是干什么的|是做什么的|是干嘛的|是干啥的|是什么东西"
    rf"|是机器人|是人工|是真人|是人|叫什么(?:名字)?|叫啥(?:名字)?)",
    # what it can do
    rf"{_YOU}?(?:都|还)?(?:能|会|可以|能够){_HELP_ME}{_DO}(?:些)?{_WHAT}(?:事|事情|忙|用|业务|服务)?",
    rf"{_YOU}?有{_WHAT}(?:用|功能|本事|本领|服务)",
    rf"{_YOU}?(?:有|能)?{_WHAT}(?:用|功能|用处|用途)",
    # how to use it
    rf"{_YOU}?(?:要|该|应该)?(?:怎么|怎样|如何)(?:用|使用|问|提问|查|玩|操作)(?:呀|啊)?",
    rf"(?:我)?(?:要|该|应该)?(?:怎么|怎样|如何)(?:问|提问|查询|用{_YOU}|使用{_YOU})",
    # introduce yourself
    r"(?:请)?(?:介绍一下|介绍下|介绍)(?:你自己|你|自己)|自我介绍(?:一下|下)?",
    # English, its spaces removed like the rest
    r"whoareyou|whatareyou|whatcanyoudo|whatdoyoudo|how(?:doi|to|cani)use(?:this|it|you)?"
    r"|whatisthis",
)
_ABOUT_RE = re.compile("|".join(f"(?:{p})" for p in _PATTERNS))
# What may surround such a question: a greeting before it, particles after it.
_OPENING_RE = re.compile(r"^(?:你好|您好|哈喽|嗨|hi|hello|hey|请问|那|那么|所以)+")
_PARTICLES = frozenset("啊呀吗呢吧哦啦么嘛的呐")
_NOISE_RE = re.compile(r"[\s,.!?;:~，。！？；：、…·'\"“”‘’()（）]+")


def asks_about_the_bot(normalised: str) -> bool:
    """Whether the whole message (normalised: NFKC, lower case) asks who the bot is, what
    it can do or how to use it."""
    s = _NOISE_RE.sub("", normalised)
    s = _OPENING_RE.sub("", s)
    while s:  # 你能做什么呀: particles come off one by one (什么 ends with one too)
        if _ABOUT_RE.fullmatch(s):
            return True
        if s[-1] not in _PARTICLES:
            return False
        s = s[:-1]
    return False
