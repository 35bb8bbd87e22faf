"""Catalogue of real legal entities and real Jiangsu place names for the demo-data generator.

Pure data plus a few typed helpers; nothing here touches the database or the network.

What is real and what is invented
---------------------------------
* Entity names (``name``), brands, short names and former names are the real ones.
* ``fi_code`` (14-character PBoC financial institution code, shared/STANDARDS.md section 1):
  the eleven codes quoted in STANDARDS.md are **real** and used verbatim (ICBC, ABC, BOC, CCB,
  BOCOM, PSBC, CMB, 江苏银行, 南京银行, 苏州银行, 江苏省农村信用社联合社). **Every other code is
  invented**: it has the observed structure -- category letter (``C`` banks; ``F`` insurance and
  ``E`` securities, which STANDARDS.md lists as *unverified* by sector order), a sub-category
  digit, a 4-digit entity number (the CNAPS bank class where one exists, e.g. ``0302`` for
  CITIC; otherwise a number unique within this catalogue), the 2-digit province of the head
  office, ``00`` + a 3-digit sequence ``001``, and a check digit from a **placeholder rule**
  (:func:`placeholder_check_digit`, a Luhn digit over positions 2-13; the real algorithm is
  unknown and the real codes above do not all satisfy it). Plausible structure, not real codes.
* ``licence_number`` (positions 2-5 of the 15-character 金融许可证 code, STANDARDS.md section 2):
  real for ICBC 0001, ABC 0002, BOC 0003, CCB 0004, BOCOM 0005, PSBC 0018, 南京银行 0140,
  江苏银行 0243, 苏州银行 0236; all others are plausible invented numbers, unique per type.
  Insurers and securities firms hold no licence of this form (``None``).
* ``cnaps_class``: the bank classes of STANDARDS.md section 5 (102 ... 310, 313 city commercial,
  314 rural commercial, 402 rural credit cooperatives, 403 PSBC); 315 恒丰, 316 浙商, 318 渤海 and
  325 上海银行 are the classes seen in public CNAPS head-office lists (observed, not in the
  standard text).
* ``home_region``: current GB/T 2260 county code of the head office's registered address (from
  public knowledge; the Suzhou Industrial Park, which has no GB/T 2260 code, is filed under 吴中区
  320506).
* ``weight``: rough relative numbers of Jiangsu outlets (order of magnitude right, not counts).
* ``uscc`` is left ``None``: the generator computes valid ones.
* :data:`PLACES` and :data:`ROADS` are real area, town, road and landmark names as they appear in
  branch names and addresses, per prefecture; they are drawn from the per-county table
  ``backend/demo/data/county_places.csv`` (written from general knowledge and not checked
  against a gazetteer: see ``backend/demo/data/README.md``).

Branch-name patterns
--------------------
``branch_pattern``, ``city_branch_pattern`` and ``province_branch_pattern`` are
:meth:`str.format` templates over the fields of :data:`PATTERN_FIELDS`: ``{legal}`` full legal
name, ``{brand}``, ``{city}`` (prefecture name without 市, e.g. 南京), ``{district}`` (county or
district without 区/市/县, e.g. 鼓楼) and ``{place}`` (an area or road of the outlet's county).
``province_branch_pattern`` is ``None`` for entities headquartered in Jiangsu and for banks whose
top Jiangsu unit is their 南京分行 (joint-stock and out-of-province city commercial banks).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from backend.demo.county_places import county_places
from registry.regions import jiangsu_places

__all__ = [
    "CATEGORIES",
    "CITY_NAMES",
    "JIANGSU_PREFECTURES",
    "LEGAL_ENTITIES",
    "PATTERN_FIELDS",
    "PLACES",
    "ROADS",
    "LegalEntity",
    "by_key",
    "entities_in",
    "make_fi_code",
    "placeholder_check_digit",
]

CATEGORIES: Final[tuple[str, ...]] = ("bank", "rural_bank", "insurance", "securities")

PATTERN_FIELDS: Final[tuple[str, ...]] = ("brand", "city", "district", "place", "legal")

JIANGSU_PREFECTURES: Final[tuple[str, ...]] = (
    "3201", "3202", "3203", "3204", "3205", "3206", "3207",
    "3208", "3209", "3210", "3211", "3212", "3213",
)  # fmt: skip

CITY_NAMES: Final[dict[str, str]] = {
    "3201": "南京",
    "3202": "无锡",
    "3203": "徐州",
    "3204": "常州",
    "3205": "苏州",
    "3206": "南通",
    "3207": "连云港",
    "3208": "淮安",
    "3209": "盐城",
    "3210": "扬州",
    "3211": "镇江",
    "3212": "泰州",
    "3213": "宿迁",
}


# --- codes --------------------------------------------------------------------------------------


def placeholder_check_digit(digits: str) -> str:
    """Luhn check digit over ``digits`` (positions 2-13 of a fi_code).

    A placeholder only: the real PBoC check-digit algorithm is unknown (STANDARDS.md section 1).
    """
    if not digits.isdigit():
        raise ValueError(f"digits expected, got {digits!r}")
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:  # rightmost payload digit is doubled
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def make_fi_code(letter: str, sub: str, entity: str, province: str, sequence: int = 1) -> str:
    """Build a 14-character fi_code of the observed structure with the placeholder check digit.

    ``letter`` category letter, ``sub`` sub-category digit, ``entity`` 4-digit entity number,
    ``province`` 2-digit province code, ``sequence`` 1..999 (positions 9-13 are ``00`` + 3 digits).
    """
    if not (len(letter) == 1 and letter.isascii() and letter.isupper()):
        raise ValueError(f"bad category letter {letter!r}")
    if not (len(sub) == 1 and sub.isdigit()):
        raise ValueError(f"bad sub-category {sub!r}")
    if not (len(entity) == 4 and entity.isdigit()):
        raise ValueError(f"bad entity number {entity!r}")
    if not (len(province) == 2 and province.isdigit()):
        raise ValueError(f"bad province {province!r}")
    if not 1 <= sequence <= 999:
        raise ValueError(f"sequence out of range: {sequence}")
    body = f"{letter}{sub}{entity}{province}00{sequence:03d}"
    return body + placeholder_check_digit(body[1:])


# --- the entity record --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LegalEntity:
    """A head office (法人机构) and how its Jiangsu outlets are named."""

    key: str
    name: str
    brand: str
    short_names: tuple[str, ...]
    category: str
    fi_code: str
    licence_type: str | None
    licence_number: str | None
    cnaps_class: str | None
    home_region: str
    scope: tuple[str, ...]
    weight: float
    branch_pattern: str
    city_branch_pattern: str
    province_branch_pattern: str | None
    uscc: str | None = None
    former_names: tuple[str, ...] = ()

    @property
    def prefectures(self) -> tuple[str, ...]:
        """Jiangsu prefecture codes with outlets (``scope``, or all 13 when it is empty)."""
        return self.scope or JIANGSU_PREFECTURES

    @property
    def is_local(self) -> bool:
        """Whether the head office is in Jiangsu."""
        return self.home_region.startswith("32")

    def operates_in(self, prefecture: str) -> bool:
        return prefecture in self.prefectures

    def _fields(self, city: str, district: str, place: str) -> dict[str, str]:
        return {
            "legal": self.name,
            "brand": self.brand,
            "city": city,
            "district": district,
            "place": place,
        }

    def outlet_name(self, *, city: str, district: str = "", place: str = "") -> str:
        return self.branch_pattern.format(**self._fields(city, district, place))

    def city_branch_name(self, *, city: str, district: str = "", place: str = "") -> str:
        return self.city_branch_pattern.format(**self._fields(city, district, place))

    def province_branch_name(self) -> str | None:
        if self.province_branch_pattern is None:
            return None
        return self.province_branch_pattern.format(**self._fields("", "", ""))


# --- constructors for the table below -----------------------------------------------------------

_ALL: tuple[str, ...] = ()

_BANK_OUTLET = "{legal}{city}{place}支行"
_BANK_CITY = "{legal}{city}分行"
_BANK_PROVINCE = "{legal}江苏省分行"


def _bank(
    key: str,
    name: str,
    brand: str,
    short_names: tuple[str, ...],
    *,
    fi_code: str,
    licence_number: str,
    cnaps_class: str,
    home_region: str,
    weight: float,
    scope: tuple[str, ...] = _ALL,
    branch_pattern: str = _BANK_OUTLET,
    city_branch_pattern: str = _BANK_CITY,
    province_branch_pattern: str | None = None,
    former_names: tuple[str, ...] = (),
) -> LegalEntity:
    return LegalEntity(
        key=key,
        name=name,
        brand=brand,
        short_names=short_names,
        category="bank",
        fi_code=fi_code,
        licence_type="B",
        licence_number=licence_number,
        cnaps_class=cnaps_class,
        home_region=home_region,
        scope=scope,
        weight=weight,
        branch_pattern=branch_pattern,
        city_branch_pattern=city_branch_pattern,
        province_branch_pattern=province_branch_pattern,
        former_names=former_names,
    )


def _rcb(
    key: str,
    name: str,
    brand: str,
    short_names: tuple[str, ...],
    *,
    entity: str,
    licence_number: str,
    home_region: str,
    weight: float,
    scope: tuple[str, ...] | None = None,
    former_names: tuple[str, ...] = (),
) -> LegalEntity:
    """A Jiangsu rural commercial bank: invented C1 code, licence type B, CNAPS class 314.

    Outlets are named ``{legal}{place}支行``; the prefecture-level unit is the head office's own
    营业部. ``scope`` defaults to the prefecture of the head office.
    """
    return LegalEntity(
        key=key,
        name=name,
        brand=brand,
        short_names=short_names,
        category="rural_bank",
        fi_code=make_fi_code("C", "1", entity, "32"),
        licence_type="B",
        licence_number=licence_number,
        cnaps_class="314",
        home_region=home_region,
        scope=scope if scope is not None else (home_region[:4],),
        weight=weight,
        branch_pattern="{legal}{place}支行",
        city_branch_pattern="{legal}营业部",
        province_branch_pattern=None,
        former_names=former_names,
    )


def _nonbank(
    key: str,
    name: str,
    brand: str,
    short_names: tuple[str, ...],
    *,
    category: str,
    fi_code: str,
    home_region: str,
    weight: float,
    branch_pattern: str,
    city_branch_pattern: str,
    province_branch_pattern: str | None,
    scope: tuple[str, ...] = _ALL,
    former_names: tuple[str, ...] = (),
) -> LegalEntity:
    """An insurer or securities firm: no 金融许可证 of the bank form, no CNAPS class."""
    return LegalEntity(
        key=key,
        name=name,
        brand=brand,
        short_names=short_names,
        category=category,
        fi_code=fi_code,
        licence_type=None,
        licence_number=None,
        cnaps_class=None,
        home_region=home_region,
        scope=scope,
        weight=weight,
        branch_pattern=branch_pattern,
        city_branch_pattern=city_branch_pattern,
        province_branch_pattern=province_branch_pattern,
        former_names=former_names,
    )


# Prefecture groups used in scopes.
_SOUTH = ("3201", "3202", "3204", "3205", "3211")  # 苏南
_MAJOR = ("3201", "3202", "3203", "3204", "3205", "3206", "3209", "3210", "3211", "3212")


# --- large state-owned commercial banks (real fi_codes and licence numbers) ---------------------

_LARGE: tuple[LegalEntity, ...] = (
    _bank(
        "icbc", "中国工商银行股份有限公司", "中国工商银行",
        ("工行", "工商银行", "ICBC", "gonghang", "gsyh"),
        fi_code="C1010211000012", licence_number="0001", cnaps_class="102",
        home_region="110102", weight=900.0, province_branch_pattern=_BANK_PROVINCE,
    ),
    _bank(
        "abc", "中国农业银行股份有限公司", "中国农业银行",
        ("农行", "农业银行", "ABC", "nonghang", "nyyh"),
        fi_code="C1010311000014", licence_number="0002", cnaps_class="103",
        home_region="110101", weight=1100.0, province_branch_pattern=_BANK_PROVINCE,
    ),
    _bank(
        "boc", "中国银行股份有限公司", "中国银行",
        ("中行", "BOC", "zhonghang", "zgyh"),
        fi_code="C1010411000013", licence_number="0003", cnaps_class="104",
        home_region="110102", weight=700.0, province_branch_pattern=_BANK_PROVINCE,
    ),
    _bank(
        "ccb", "中国建设银行股份有限公司", "中国建设银行",
        ("建行", "建设银行", "CCB", "jianhang", "jsyh"),
        fi_code="C1010511003703", licence_number="0004", cnaps_class="105",
        home_region="110102", weight=800.0, province_branch_pattern=_BANK_PROVINCE,
    ),
    _bank(
        "bocom", "交通银行股份有限公司", "交通银行",
        ("交行", "BOCOM", "BCM", "jiaohang", "jtyh"),
        fi_code="C1030131001288", licence_number="0005", cnaps_class="301",
        home_region="310115", weight=250.0, province_branch_pattern=_BANK_PROVINCE,
    ),
    _bank(
        "psbc", "中国邮政储蓄银行股份有限公司", "中国邮政储蓄银行",
        ("邮储", "邮储银行", "邮政", "邮政银行", "PSBC", "youchu", "yzcx"),
        fi_code="C1040311005293", licence_number="0018", cnaps_class="403",
        home_region="110102", weight=1200.0,
        branch_pattern="{legal}{city}市{place}支行",
        city_branch_pattern="{legal}{city}市分行",
        province_branch_pattern=_BANK_PROVINCE,
        former_names=("中国邮政储蓄银行有限责任公司",),
    ),
)  # fmt: skip


# --- joint-stock commercial banks (CMB real; others invented codes, invented licence numbers) ---

_JOINT_STOCK: tuple[LegalEntity, ...] = (
    _bank(
        "cmb", "招商银行股份有限公司", "招商银行",
        ("招行", "招商", "CMB", "zhaohang", "zsyh"),
        fi_code="C1030844001362", licence_number="0011", cnaps_class="308",
        home_region="440304", weight=110.0,
    ),
    _bank(
        "spdb", "上海浦东发展银行股份有限公司", "上海浦东发展银行",
        ("浦发", "浦发银行", "SPDB", "pufa", "pfyh"),
        fi_code=make_fi_code("C", "1", "0310", "31"), licence_number="0015",
        cnaps_class="310", home_region="310101", weight=90.0,
    ),
    _bank(
        "citic", "中信银行股份有限公司", "中信银行",
        ("中信", "CITIC", "CNCB", "zhongxin", "zxyh"),
        fi_code=make_fi_code("C", "1", "0302", "11"), licence_number="0006",
        cnaps_class="302", home_region="110105", weight=100.0,
    ),
    _bank(
        "ceb", "中国光大银行股份有限公司", "中国光大银行",
        ("光大", "光大银行", "CEB", "guangda", "gdyh"),
        fi_code=make_fi_code("C", "1", "0303", "11"), licence_number="0007",
        cnaps_class="303", home_region="110102", weight=85.0,
    ),
    _bank(
        "hxb", "华夏银行股份有限公司", "华夏银行",
        ("华夏", "HXB", "huaxia", "hxyh"),
        fi_code=make_fi_code("C", "1", "0304", "11"), licence_number="0008",
        cnaps_class="304", home_region="110101", weight=65.0, scope=_MAJOR,
    ),
    _bank(
        "cmbc", "中国民生银行股份有限公司", "中国民生银行",
        ("民生", "民生银行", "CMBC", "minsheng", "msyh"),
        fi_code=make_fi_code("C", "1", "0305", "11"), licence_number="0009",
        cnaps_class="305", home_region="110102", weight=85.0,
    ),
    _bank(
        "cgb", "广发银行股份有限公司", "广发银行",
        ("广发", "CGB", "guangfa", "gfyh"),
        fi_code=make_fi_code("C", "1", "0306", "44"), licence_number="0012",
        cnaps_class="306", home_region="440104", weight=55.0, scope=_MAJOR,
        former_names=("广东发展银行股份有限公司",),
    ),
    _bank(
        "pab", "平安银行股份有限公司", "平安银行",
        ("平安", "PAB", "pingan", "payh"),
        fi_code=make_fi_code("C", "1", "0307", "44"), licence_number="0014",
        cnaps_class="307", home_region="440303", weight=55.0, scope=_MAJOR,
        former_names=("深圳发展银行股份有限公司",),
    ),
    _bank(
        "cib", "兴业银行股份有限公司", "兴业银行",
        ("兴业", "CIB", "xingye", "xyyh"),
        fi_code=make_fi_code("C", "1", "0309", "35"), licence_number="0013",
        cnaps_class="309", home_region="350102", weight=95.0,
        former_names=("福建兴业银行股份有限公司",),
    ),
    _bank(
        "czb", "浙商银行股份有限公司", "浙商银行",
        ("浙商", "CZB", "zheshang"),
        fi_code=make_fi_code("C", "1", "0316", "33"), licence_number="0010",
        cnaps_class="316", home_region="330109", weight=45.0, scope=_MAJOR,
    ),
    _bank(
        "hfb", "恒丰银行股份有限公司", "恒丰银行",
        ("恒丰", "hengfeng", "hfyh"),
        fi_code=make_fi_code("C", "1", "0315", "37"), licence_number="0016",
        cnaps_class="315", home_region="370102", weight=20.0,
        scope=("3201", "3202", "3205"),
        former_names=("烟台住房储蓄银行",),
    ),
    _bank(
        "cbhb", "渤海银行股份有限公司", "渤海银行",
        ("渤海", "CBHB", "bohai", "bhyh"),
        fi_code=make_fi_code("C", "1", "0318", "12"), licence_number="0017",
        cnaps_class="318", home_region="120102", weight=20.0, scope=("3201", "3205"),
    ),
)  # fmt: skip


# --- city commercial banks ----------------------------------------------------------------------

_CITY: tuple[LegalEntity, ...] = (
    _bank(
        "jsb", "江苏银行股份有限公司", "江苏银行",
        ("苏银", "苏行", "江苏银行", "jiangsuyinhang"),
        fi_code="C1086832000010", licence_number="0243", cnaps_class="313",
        home_region="320104", weight=450.0,
    ),
    _bank(
        "njcb", "南京银行股份有限公司", "南京银行",
        ("南银", "宁行", "南京银行", "nanjingyinhang", "njyh"),
        fi_code="C1086932000011", licence_number="0140", cnaps_class="313",
        home_region="320105", weight=200.0, branch_pattern="{legal}{place}支行",
    ),
    _bank(
        "szb", "苏州银行股份有限公司", "苏州银行",
        ("苏州银行", "suzhouyinhang", "szyh"),
        fi_code="C1115332000018", licence_number="0236", cnaps_class="313",
        home_region="320506", weight=160.0,
        scope=("3205", "3201", "3202", "3204", "3206", "3209", "3210", "3212", "3213"),
        former_names=("江苏东吴农村商业银行股份有限公司",),
    ),
    _bank(
        "cjccb", "江苏长江商业银行股份有限公司", "江苏长江商业银行",
        ("长江商业银行", "长江银行", "changjiang"),
        fi_code=make_fi_code("C", "1", "0805", "32"), licence_number="0345",
        cnaps_class="313", home_region="321282", weight=25.0, scope=("3212",),
        branch_pattern="{legal}{place}支行", city_branch_pattern="{legal}营业部",
    ),
    _bank(
        "bosc", "上海银行股份有限公司", "上海银行",
        ("上海银行", "BOSC", "shanghaiyinhang", "shyh"),
        fi_code=make_fi_code("C", "1", "0801", "31"), licence_number="0130",
        cnaps_class="325", home_region="310101", weight=30.0,
        scope=("3201", "3202", "3204", "3205", "3206", "3212"),
    ),
    _bank(
        "bob", "北京银行股份有限公司", "北京银行",
        ("北京银行", "BOB", "beijingyinhang", "bjyh"),
        fi_code=make_fi_code("C", "1", "0802", "11"), licence_number="0107",
        cnaps_class="313", home_region="110102", weight=20.0,
        scope=("3201", "3202", "3204", "3205", "3206", "3210"),
    ),
    _bank(
        "nbcb", "宁波银行股份有限公司", "宁波银行",
        ("宁波银行", "NBCB", "ningboyinhang", "nbyh"),
        fi_code=make_fi_code("C", "1", "0803", "33"), licence_number="0152",
        cnaps_class="313", home_region="330212", weight=60.0,
        scope=("3201", "3202", "3204", "3205", "3206"),
    ),
    _bank(
        "hzbank", "杭州银行股份有限公司", "杭州银行",
        ("杭州银行", "杭银", "hangzhouyinhang", "hzyh"),
        fi_code=make_fi_code("C", "1", "0804", "33"), licence_number="0160",
        cnaps_class="313", home_region="330102", weight=12.0, scope=("3201", "3205"),
    ),
)  # fmt: skip


# --- Jiangsu rural commercial banks and the provincial rural credit union -----------------------

_RURAL: tuple[LegalEntity, ...] = (
    _rcb("zjrcb", "江苏紫金农村商业银行股份有限公司", "紫金农商银行",
         ("紫金农商行", "紫金农商", "紫金银行", "ZJRCB", "zijinnongshang"),
         entity="1401", licence_number="1101", home_region="320105", weight=100.0),
    _rcb("jnrcb", "江苏江南农村商业银行股份有限公司", "江南农商银行",
         ("江南农商行", "江南农商", "江南银行", "JNRCB", "jiangnannongshang"),
         entity="1402", licence_number="1102", home_region="320402", weight=220.0),
    _rcb("wrcb", "无锡农村商业银行股份有限公司", "无锡农商银行",
         ("无锡农商行", "无锡农商", "锡农商", "WRCB", "wuxinongshang"),
         entity="1403", licence_number="1103", home_region="320211", weight=110.0),
    _rcb("jyrcb", "江苏江阴农村商业银行股份有限公司", "江阴农商银行",
         ("江阴农商行", "江阴农商", "江阴银行", "JYRCB", "jiangyinnongshang"),
         entity="1404", licence_number="1104", home_region="320281", weight=80.0),
    _rcb("yxrcb", "江苏宜兴农村商业银行股份有限公司", "宜兴农商银行",
         ("宜兴农商行", "宜兴农商", "yixingnongshang"),
         entity="1405", licence_number="1105", home_region="320282", weight=60.0),
    _rcb("csrcb", "江苏常熟农村商业银行股份有限公司", "常熟农商银行",
         ("常熟农商行", "常熟农商", "常熟银行", "CSRCB", "changshunongshang"),
         entity="1406", licence_number="1106", home_region="320581", weight=110.0),
    _rcb("zrcb", "江苏张家港农村商业银行股份有限公司", "张家港农商银行",
         ("张家港农商行", "张家港行", "张家港农商", "ZRCB", "zhangjiagangnongshang"),
         entity="1407", licence_number="1107", home_region="320582", weight=85.0),
    _rcb("szrcb", "江苏苏州农村商业银行股份有限公司", "苏州农商银行",
         ("苏州农商行", "苏农银行", "苏州农商", "吴江农商行", "SZRCB", "suzhounongshang"),
         entity="1408", licence_number="1108", home_region="320509", weight=90.0,
         former_names=("江苏吴江农村商业银行股份有限公司",)),
    _rcb("ksrcb", "江苏昆山农村商业银行股份有限公司", "昆山农商银行",
         ("昆山农商行", "昆山农商", "KSRCB", "kunshannongshang"),
         entity="1409", licence_number="1109", home_region="320583", weight=80.0),
    _rcb("tcrcb", "江苏太仓农村商业银行股份有限公司", "太仓农商银行",
         ("太仓农商行", "太仓农商", "TCRCB", "taicangnongshang"),
         entity="1410", licence_number="1110", home_region="320585", weight=40.0),
    _rcb("ntrcb", "江苏南通农村商业银行股份有限公司", "南通农商银行",
         ("南通农商行", "南通农商", "NTRCB", "nantongnongshang"),
         entity="1411", licence_number="1111", home_region="320613", weight=85.0),
    _rcb("ycrcb", "江苏盐城农村商业银行股份有限公司", "盐城农商银行",
         ("盐城农商行", "盐城农商", "yanchengnongshang"),
         entity="1412", licence_number="1112", home_region="320902", weight=75.0),
    _rcb("dtrcb", "江苏东台农村商业银行股份有限公司", "东台农商银行",
         ("东台农商行", "东台农商", "dongtainongshang"),
         entity="1413", licence_number="1113", home_region="320981", weight=50.0),
    _rcb("dfrcb", "江苏大丰农村商业银行股份有限公司", "大丰农商银行",
         ("大丰农商行", "大丰农商", "dafengnongshang"),
         entity="1414", licence_number="1114", home_region="320904", weight=40.0),
    _rcb("yzrcb", "江苏扬州农村商业银行股份有限公司", "扬州农商银行",
         ("扬州农商行", "扬州农商", "yangzhounongshang"),
         entity="1415", licence_number="1115", home_region="321002", weight=75.0),
    _rcb("jdrcb", "江苏江都农村商业银行股份有限公司", "江都农商银行",
         ("江都农商行", "江都农商", "jiangdunongshang"),
         entity="1416", licence_number="1116", home_region="321012", weight=50.0),
    _rcb("gyrcb", "江苏高邮农村商业银行股份有限公司", "高邮农商银行",
         ("高邮农商行", "高邮农商", "gaoyounongshang"),
         entity="1417", licence_number="1117", home_region="321084", weight=40.0),
    _rcb("zjjrcb", "江苏镇江农村商业银行股份有限公司", "镇江农商银行",
         ("镇江农商行", "镇江农商", "zhenjiangnongshang"),
         entity="1418", licence_number="1118", home_region="321102", weight=60.0),
    _rcb("dyrcb", "江苏丹阳农村商业银行股份有限公司", "丹阳农商银行",
         ("丹阳农商行", "丹阳农商", "danyangnongshang"),
         entity="1419", licence_number="1119", home_region="321181", weight=50.0),
    _rcb("tzrcb", "江苏泰州农村商业银行股份有限公司", "泰州农商银行",
         ("泰州农商行", "泰州农商", "taizhounongshang"),
         entity="1420", licence_number="1120", home_region="321202", weight=60.0),
    _rcb("xhrcb", "江苏兴化农村商业银行股份有限公司", "兴化农商银行",
         ("兴化农商行", "兴化农商", "xinghuanongshang"),
         entity="1421", licence_number="1121", home_region="321281", weight=60.0),
    _rcb("harcb", "江苏淮安农村商业银行股份有限公司", "淮安农商银行",
         ("淮安农商行", "淮安农商", "huaiannongshang"),
         entity="1422", licence_number="1122", home_region="320812", weight=70.0),
    _rcb("lsrcb", "江苏涟水农村商业银行股份有限公司", "涟水农商银行",
         ("涟水农商行", "涟水农商", "lianshuinongshang"),
         entity="1423", licence_number="1123", home_region="320826", weight=40.0),
    _rcb("gyurcb", "江苏赣榆农村商业银行股份有限公司", "赣榆农商银行",
         ("赣榆农商行", "赣榆农商", "ganyunongshang"),
         entity="1424", licence_number="1124", home_region="320707", weight=45.0),
    _rcb("lygrcb", "江苏连云港东方农村商业银行股份有限公司", "连云港东方农商银行",
         ("东方农商行", "连云港东方农商行", "连云港农商", "dongfangnongshang"),
         entity="1425", licence_number="1125", home_region="320706", weight=45.0),
    _rcb("syrcb", "江苏沭阳农村商业银行股份有限公司", "沭阳农商银行",
         ("沭阳农商行", "沭阳农商", "shuyangnongshang"),
         entity="1426", licence_number="1126", home_region="321322", weight=70.0),
    _rcb("mfrcb", "江苏民丰农村商业银行股份有限公司", "民丰农商银行",
         ("民丰农商行", "民丰农商", "宿迁民丰", "minfengnongshang"),
         entity="1427", licence_number="1127", home_region="321302", weight=50.0),
    _rcb("pzrcb", "江苏邳州农村商业银行股份有限公司", "邳州农商银行",
         ("邳州农商行", "邳州农商", "pizhounongshang"),
         entity="1428", licence_number="1128", home_region="320382", weight=60.0),
    _rcb("xyrcb", "江苏新沂农村商业银行股份有限公司", "新沂农商银行",
         ("新沂农商行", "新沂农商", "xinyinongshang"),
         entity="1429", licence_number="1129", home_region="320381", weight=45.0),
    # The provincial union: a management body, head-office record only (weight 0: no outlets).
    # Its fi_code is real; its licence (type E, number) is invented and unverified.
    LegalEntity(
        key="jsrcu",
        name="江苏省农村信用社联合社",
        brand="江苏省农村信用社联合社",
        short_names=("江苏农信", "江苏省联社", "省联社", "jiangsunongxin"),
        category="rural_bank",
        fi_code="C3240632000017",
        licence_type="E",
        licence_number="0320",
        cnaps_class="402",
        home_region="320105",
        scope=("3201",),
        weight=0.0,
        branch_pattern="{legal}{city}办事处",
        city_branch_pattern="{legal}{city}办事处",
        province_branch_pattern=None,
    ),
)  # fmt: skip


# --- insurers (invented F codes: F1 property and casualty, F2 life) -----------------------------

_INS_OUTLET = "{legal}{city}市{district}支公司"
_INS_CITY = "{legal}{city}市分公司"

_INSURANCE: tuple[LegalEntity, ...] = (
    _nonbank(
        "picc_pc", "中国人民财产保险股份有限公司", "中国人保财险",
        ("人保财险", "人保", "人保产险", "PICC", "renbao"),
        category="insurance", fi_code=make_fi_code("F", "1", "5001", "11"),
        home_region="110105", weight=120.0,
        branch_pattern=_INS_OUTLET, city_branch_pattern=_INS_CITY,
        province_branch_pattern="{legal}江苏省分公司",
    ),
    _nonbank(
        "chinalife", "中国人寿保险股份有限公司", "中国人寿",
        ("国寿", "中国人寿", "人寿", "China Life", "guoshou"),
        category="insurance", fi_code=make_fi_code("F", "2", "5101", "11"),
        home_region="110102", weight=140.0,
        branch_pattern=_INS_OUTLET, city_branch_pattern="{legal}{city}分公司",
        province_branch_pattern="{legal}江苏省分公司",
    ),
    _nonbank(
        "pingan_pc", "中国平安财产保险股份有限公司", "平安产险",
        ("平安产险", "平安财险", "平安车险", "pinganchanxian"),
        category="insurance", fi_code=make_fi_code("F", "1", "5002", "44"),
        home_region="440304", weight=60.0,
        branch_pattern="{legal}{city}{district}支公司",
        city_branch_pattern="{legal}{city}分公司",
        province_branch_pattern="{legal}江苏分公司",
    ),
    _nonbank(
        "pingan_life", "中国平安人寿保险股份有限公司", "平安人寿",
        ("平安人寿", "平安寿险", "pinganrenshou"),
        category="insurance", fi_code=make_fi_code("F", "2", "5102", "44"),
        home_region="440304", weight=45.0,
        branch_pattern="{legal}{city}{district}营销服务部",
        city_branch_pattern="{legal}{city}中心支公司",
        province_branch_pattern="{legal}江苏分公司",
    ),
    _nonbank(
        "cpic_pc", "中国太平洋财产保险股份有限公司", "太平洋产险",
        ("太保产险", "太平洋产险", "太保", "CPIC", "taibao"),
        category="insurance", fi_code=make_fi_code("F", "1", "5003", "31"),
        home_region="310101", weight=60.0,
        branch_pattern="{legal}{city}{district}支公司",
        city_branch_pattern="{legal}{city}分公司",
        province_branch_pattern="{legal}江苏分公司",
    ),
    _nonbank(
        "cpic_life", "中国太平洋人寿保险股份有限公司", "太平洋人寿",
        ("太保寿险", "太平洋人寿", "taibaoshouxian"),
        category="insurance", fi_code=make_fi_code("F", "2", "5103", "31"),
        home_region="310101", weight=40.0,
        branch_pattern="{legal}{city}{district}支公司",
        city_branch_pattern="{legal}{city}中心支公司",
        province_branch_pattern="{legal}江苏分公司",
    ),
    _nonbank(
        "nci", "新华人寿保险股份有限公司", "新华保险",
        ("新华保险", "新华人寿", "NCI", "xinhuabaoxian"),
        category="insurance", fi_code=make_fi_code("F", "2", "5104", "11"),
        home_region="110105", weight=35.0, scope=_MAJOR,
        branch_pattern="{legal}{city}{district}营销服务部",
        city_branch_pattern="{legal}{city}中心支公司",
        province_branch_pattern="{legal}江苏分公司",
    ),
    _nonbank(
        "taikang", "泰康人寿保险有限责任公司", "泰康人寿",
        ("泰康", "泰康人寿", "泰康保险", "taikang"),
        category="insurance", fi_code=make_fi_code("F", "2", "5105", "11"),
        home_region="110102", weight=40.0, scope=_MAJOR,
        branch_pattern="{legal}{city}{district}营销服务部",
        city_branch_pattern="{legal}{city}中心支公司",
        province_branch_pattern="{legal}江苏分公司",
        former_names=("泰康人寿保险股份有限公司",),
    ),
    _nonbank(
        "zijin_ins", "紫金财产保险股份有限公司", "紫金保险",
        ("紫金保险", "紫金财险", "紫金产险", "zijinbaoxian"),
        category="insurance", fi_code=make_fi_code("F", "1", "5004", "32"),
        home_region="320105", weight=40.0,
        branch_pattern="{legal}{city}{district}支公司",
        city_branch_pattern="{legal}{city}分公司",
        province_branch_pattern=None,
    ),
    _nonbank(
        "lian_life", "利安人寿保险股份有限公司", "利安人寿",
        ("利安人寿", "利安保险", "lianrenshou"),
        category="insurance", fi_code=make_fi_code("F", "2", "5106", "32"),
        home_region="320105", weight=30.0,
        branch_pattern="{legal}{city}{district}营销服务部",
        city_branch_pattern="{legal}{city}中心支公司",
        province_branch_pattern=None,
    ),
)  # fmt: skip


# --- securities firms (invented E codes) --------------------------------------------------------

_SEC_OUTLET = "{legal}{city}{place}证券营业部"
_SEC_CITY = "{legal}{city}分公司"

_SECURITIES: tuple[LegalEntity, ...] = (
    _nonbank(
        "htsc", "华泰证券股份有限公司", "华泰证券",
        ("华泰", "华泰证券", "HTSC", "huataizhengquan"),
        category="securities", fi_code=make_fi_code("E", "1", "6001", "32"),
        home_region="320105", weight=90.0,
        branch_pattern=_SEC_OUTLET, city_branch_pattern=_SEC_CITY,
        province_branch_pattern=None,
    ),
    _nonbank(
        "dwzq", "东吴证券股份有限公司", "东吴证券",
        ("东吴", "东吴证券", "dongwuzhengquan"),
        category="securities", fi_code=make_fi_code("E", "1", "6002", "32"),
        home_region="320506", weight=55.0,
        branch_pattern=_SEC_OUTLET, city_branch_pattern=_SEC_CITY,
        province_branch_pattern=None,
    ),
    _nonbank(
        "njzq", "南京证券股份有限公司", "南京证券",
        ("南京证券", "南证", "nanjingzhengquan"),
        category="securities", fi_code=make_fi_code("E", "1", "6003", "32"),
        home_region="320102", weight=40.0,
        branch_pattern=_SEC_OUTLET, city_branch_pattern=_SEC_CITY,
        province_branch_pattern=None,
    ),
    _nonbank(
        "citics", "中信证券股份有限公司", "中信证券",
        ("中信证券", "CITICS", "zhongxinzhengquan"),
        category="securities", fi_code=make_fi_code("E", "1", "6004", "44"),
        home_region="440304", weight=25.0, scope=_MAJOR,
        branch_pattern=_SEC_OUTLET, city_branch_pattern=_SEC_CITY,
        province_branch_pattern="{legal}江苏分公司",
    ),
    _nonbank(
        "gtht", "国泰海通证券股份有限公司", "国泰海通",
        ("国泰海通", "国泰君安", "国君", "GTHT", "GTJA", "guotaihaitong"),
        category="securities", fi_code=make_fi_code("E", "1", "6005", "31"),
        home_region="310115", weight=45.0, scope=_MAJOR,
        branch_pattern=_SEC_OUTLET, city_branch_pattern=_SEC_CITY,
        province_branch_pattern="{legal}江苏分公司",
        former_names=("国泰君安证券股份有限公司",),
    ),
    _nonbank(
        "cmsc", "招商证券股份有限公司", "招商证券",
        ("招商证券", "招证", "CMS", "zhaoshangzhengquan"),
        category="securities", fi_code=make_fi_code("E", "1", "6006", "44"),
        home_region="440304", weight=15.0, scope=_SOUTH,
        branch_pattern=_SEC_OUTLET, city_branch_pattern=_SEC_CITY,
        province_branch_pattern="{legal}江苏分公司",
    ),
    _nonbank(
        "gfzq", "广发证券股份有限公司", "广发证券",
        ("广发证券", "GF Securities", "guangfazhengquan"),
        category="securities", fi_code=make_fi_code("E", "1", "6007", "44"),
        home_region="440106", weight=18.0, scope=_SOUTH,
        branch_pattern=_SEC_OUTLET, city_branch_pattern=_SEC_CITY,
        province_branch_pattern="{legal}江苏分公司",
    ),
)  # fmt: skip


LEGAL_ENTITIES: Final[tuple[LegalEntity, ...]] = (
    _LARGE + _JOINT_STOCK + _CITY + _RURAL + _INSURANCE + _SECURITIES
)

_BY_KEY: Final[dict[str, LegalEntity]] = {e.key: e for e in LEGAL_ENTITIES}


def by_key(key: str) -> LegalEntity:
    """The entity with this key; ``KeyError`` if there is none."""
    try:
        return _BY_KEY[key]
    except KeyError:
        raise KeyError(f"no legal entity with key {key!r}") from None


def entities_in(prefecture: str) -> tuple[LegalEntity, ...]:
    """Entities with outlets in a Jiangsu prefecture (4-digit code), in catalogue order."""
    return tuple(e for e in LEGAL_ENTITIES if e.weight > 0 and e.operates_in(prefecture))


# --- places -------------------------------------------------------------------------------------
# Business districts, towns, roads and landmarks as used in branch names and addresses, per
# prefecture. Drawn from the per-county table (backend/demo/county_places.py), which is what the
# generator uses, so that these lists and the generated names never disagree.


def _by_prefecture(column: str) -> dict[str, tuple[str, ...]]:
    """Each prefecture's names of one column of the county table, taking the counties in turn
    (heaviest first), so that the first names of a list are the first of each county: the
    ones a bank's first branches there are named after."""
    weight = {p.code: p.weight for p in jiangsu_places()}
    result: dict[str, tuple[str, ...]] = {}
    for prefecture in JIANGSU_PREFECTURES:
        counties = sorted(
            (c for c in county_places().values() if c.code[:4] == prefecture),
            key=lambda c: (-weight[c.code], c.code),
        )
        lists = [c.areas if column == "areas" else c.roads for c in counties]
        names: list[str] = []
        for rank in range(max(len(lst) for lst in lists)):
            names += [n for n in (lst[rank] for lst in lists if rank < len(lst)) if n not in names]
        result[prefecture] = tuple(names)
    return result


PLACES: Final[dict[str, tuple[str, ...]]] = _by_prefecture("areas")
ROADS: Final[dict[str, tuple[str, ...]]] = _by_prefecture("roads")
