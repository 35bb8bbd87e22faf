"""How people name legal entities: the conventional abbreviations of the registry's head offices.

Pure data plus two small rules, shared by everything that reads a name somebody typed:
the chat bot's lexicon (`bot.lexicon`, which adds pinyin, typo and group handling for chat)
and the professional app's registry search (`registry.name_search`). It lives in the
registry because it is knowledge about registry records, not about chatting.

- `CONVENTIONS`: for a legal name without its company form (the *stem*, `stem()`), the
  usual abbreviations in Chinese and English (工行, ICBC, gonghang) and typed initials.
  The registry is the truth about which institutions exist; this only says how people
  *call* them, so an entry without a registry record matches nothing.
- `ENGLISH_NAMES`: official English names, matched without spaces or case.
- `CONTRACTIONS`: how the tail of a legal name is shortened in speech
  (江苏紫金农村商业银行 → 紫金农商行, 财产保险 → 财险); `NAME_TAILS`: where a legal name ends.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Convention:
    """How people call one legal entity: keyed by its name without the company form."""

    stem: str
    aliases: tuple[str, ...]  # Chinese and English; pinyin of the Chinese ones is derived
    initials: tuple[str, ...] = ()  # typed pinyin initials worth recognising (gh, jh)


# Company-form suffixes removed to get the name people use (the stem).
LEGAL_FORMS = ("股份有限公司", "有限责任公司", "有限公司")

# Conventional names. A stem of the registry's names selects the entry, so an entry without a
# registry record adds nothing (and the bot still derives aliases for entities missing here).
CONVENTIONS: tuple[Convention, ...] = (
    Convention(
        "中国工商银行",
        ("工行", "工商银行", "中国工商", "工商", "ICBC", "gonghang", "gongshang"),
        ("gh", "gsyh"),
    ),
    Convention(
        "中国农业银行",
        ("农行", "农业银行", "中国农业", "ABC", "nonghang", "nongye"),
        ("nh", "nyyh"),
    ),
    Convention("中国银行", ("中行", "中国银行", "BOC", "zhonghang"), ("zh", "zgyh")),
    Convention(
        "中国建设银行",
        ("建行", "建设银行", "中国建设", "CCB", "jianhang", "jianshe"),
        ("jh", "jsyh"),
    ),
    Convention("交通银行", ("交行", "交通银行", "BOCOM", "BCM", "jiaohang"), ("jtyh",)),
    Convention(
        "中国邮政储蓄银行",
        ("邮储", "邮储银行", "邮政", "邮政储蓄", "邮政银行", "邮局", "PSBC", "youchu", "youzheng"),
        ("yc", "yzcx", "yzyh"),
    ),
    Convention(
        "招商银行", ("招行", "招商", "招商银行", "CMB", "zhaohang", "zhaoshang"), ("zh", "zsyh")
    ),
    Convention("上海浦东发展银行", ("浦发", "浦发银行", "SPDB", "pufa"), ("pfyh",)),
    Convention("中信银行", ("中信", "中信银行", "CITIC", "CNCB", "zhongxin"), ("zxyh",)),
    Convention("中国光大银行", ("光大", "光大银行", "CEB", "guangda"), ("gdyh",)),
    Convention("中国民生银行", ("民生", "民生银行", "CMBC", "minsheng"), ("msyh",)),
    Convention("兴业银行", ("兴业", "兴业银行", "CIB", "xingye"), ("xyyh",)),
    Convention("平安银行", ("平安", "平安银行", "PAB", "pingan"), ("payh",)),
    Convention("华夏银行", ("华夏", "华夏银行", "HXB", "huaxia"), ("hxyh",)),
    Convention("广发银行", ("广发", "广发银行", "CGB", "guangfa"), ("gfyh",)),
    Convention("浙商银行", ("浙商", "浙商银行", "CZB", "zheshang"), ("zsyh",)),
    Convention("恒丰银行", ("恒丰", "恒丰银行", "hengfeng"), ("hfyh",)),
    Convention("渤海银行", ("渤海银行", "CBHB"), ("bhyh",)),
    Convention("江苏银行", ("江苏银行", "苏银", "苏行", "JSB", "JSBC"), ("jsyh",)),
    Convention("南京银行", ("南京银行", "南银", "宁行", "NJCB", "BONJ"), ("njyh",)),
    Convention("苏州银行", ("苏州银行", "BOSZ"), ("szyh",)),
    Convention("上海银行", ("上海银行", "BOSC"), ("shyh",)),
    Convention("北京银行", ("北京银行", "BOB"), ("bjyh",)),
    Convention("宁波银行", ("宁波银行", "NBCB"), ("nbyh",)),
    Convention("杭州银行", ("杭州银行", "杭银"), ("hzyh",)),
    Convention("江苏长江商业银行", ("长江商业银行", "长江银行"), ()),
    Convention(
        "中国人民财产保险", ("人保", "人保财险", "人保产险", "中国人保", "PICC", "renbao"), ()
    ),
    Convention("中国人寿保险", ("国寿", "中国人寿", "人寿", "guoshou"), ()),
    Convention("中国平安财产保险", ("平安产险", "平安财险", "平安车险", "平安保险"), ()),
    Convention("中国平安人寿保险", ("平安人寿", "平安寿险", "平安保险"), ()),
    Convention("中国太平洋财产保险", ("太保", "太保产险", "太平洋产险", "太平洋保险", "CPIC"), ()),
    Convention("中国太平洋人寿保险", ("太保", "太保寿险", "太平洋人寿", "太平洋保险"), ()),
    Convention("新华人寿保险", ("新华保险", "新华人寿", "NCI"), ()),
    Convention("泰康人寿保险", ("泰康", "泰康人寿", "泰康保险"), ()),
    Convention("紫金财产保险", ("紫金保险", "紫金财险"), ()),
    Convention("利安人寿保险", ("利安人寿", "利安保险"), ()),
    Convention("华泰证券", ("华泰", "华泰证券", "HTSC"), ()),
    Convention("东吴证券", ("东吴证券",), ()),
    Convention("南京证券", ("南京证券", "南证"), ()),
    Convention("中信证券", ("中信证券", "CITICS"), ()),
    Convention("国泰海通证券", ("国泰海通", "国泰君安", "国君", "GTJA", "GTHT"), ()),
    Convention("国泰君安证券", ("国泰君安", "国泰海通", "国君", "GTJA", "GTHT"), ()),
    Convention("招商证券", ("招商证券", "招证"), ()),
    Convention("广发证券", ("广发证券",), ()),
)

# Official English names, typed by foreign visitors; matched without spaces or case.
ENGLISH_NAMES: dict[str, tuple[str, ...]] = {
    "中国工商银行": ("Industrial and Commercial Bank of China",),
    "中国农业银行": ("Agricultural Bank of China",),
    "中国银行": ("Bank of China",),
    "中国建设银行": ("China Construction Bank",),
    "交通银行": ("Bank of Communications",),
    "中国邮政储蓄银行": ("Postal Savings Bank of China", "China Post"),
    "招商银行": ("China Merchants Bank",),
    "上海浦东发展银行": ("Shanghai Pudong Development Bank",),
    "中信银行": ("China CITIC Bank", "CITIC Bank"),
    "中国光大银行": ("China Everbright Bank", "Everbright"),
    "中国民生银行": ("China Minsheng Bank", "Minsheng Bank"),
    "兴业银行": ("Industrial Bank",),
    "平安银行": ("Ping An Bank",),
    "华夏银行": ("Hua Xia Bank", "Huaxia Bank"),
    "广发银行": ("China Guangfa Bank",),
    "江苏银行": ("Bank of Jiangsu",),
    "南京银行": ("Bank of Nanjing",),
    "苏州银行": ("Bank of Suzhou",),
    "上海银行": ("Bank of Shanghai",),
    "北京银行": ("Bank of Beijing",),
    "宁波银行": ("Bank of Ningbo",),
    "中国人寿保险": ("China Life",),
    "中国平安财产保险": ("Ping An Insurance",),
    "中国平安人寿保险": ("Ping An Insurance", "Ping An Life"),
}

# Long forms in names and the contractions people use for them: 紫金农村商业银行 → 紫金农商行.
CONTRACTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("农村商业银行", ("农商银行", "农商行", "农商")),
    ("财产保险", ("财险", "产险")),
    ("人寿保险", ("人寿", "寿险")),
)

# Where the institution's own name ends inside a longer name: 紫金农村商业银行|珠江路支行.
# Registry names put the company form between (…银行股份有限公司珠江路支行), so a text typed
# without it is read as two words at this point.
NAME_TAILS = ("银行", "保险", "证券", "信用社")


def stem(name: str) -> str:
    """The legal name without its company form: 中国工商银行股份有限公司 → 中国工商银行."""
    for form in LEGAL_FORMS:
        if name.endswith(form) and len(name) > len(form):
            return name[: -len(form)]
    return name
