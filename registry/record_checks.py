"""Field- and record-level checks of one registry record, and its normalised form.

`check_record` is what both the file import (row by row, streamed) and the
professional app's single-record update call: the same rules, the same
messages. It is pure Python over one dict, so it runs at tens of thousands
of rows per second; checks that need other records or the database live in
`registry.cross_checks`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from registry import regions
from registry.codes import (
    CATEGORY_BY_LETTER,
    PROVINCE_CODES,
    fi_code_category,
    licence_problems,
    uscc_problems,
)
from registry.formats import EXTRA_KEY, ColumnSpec, looks_like_mojibake, unreadable
from registry.rules import Issue, issue

CHINA_TZ = ZoneInfo("Asia/Shanghai")
EARLIEST = date(1900, 1, 1)

LEVEL_ALIASES = {
    "head_office": "head_office",
    "总行": "head_office",
    "总公司": "head_office",
    "总部": "head_office",
    "法人": "head_office",
    "branch": "branch",
    "分行": "branch",
    "分公司": "branch",
    "sub_branch": "sub_branch",
    "支行": "sub_branch",
    "中心支公司": "sub_branch",
    "支公司": "sub_branch",
    "outlet": "outlet",
    "网点": "outlet",
    "营业部": "outlet",
    "分理处": "outlet",
    "储蓄所": "outlet",
    "营销服务部": "outlet",
    "证券营业部": "outlet",
}
# How registry files spell the kind of an outlet (core.models.registry.OUTLET_KINDS); an
# empty cell, or a file without the column, is a branch: every record before ATMs were.
KIND_ALIASES = {
    "branch": "branch",
    "营业网点": "branch",
    "网点": "branch",
    "self_service": "self_service",
    "自助银行": "self_service",
    "离行式自助银行": "self_service",
    "在行式自助银行": "self_service",
    "atm": "atm",
    "自动柜员机": "atm",
    "取款机": "atm",
    "存取款一体机": "atm",
    "自助设备": "atm",
}
STATUS_ALIASES = {"active": "active", "正常": "active", "revoked": "revoked", "撤销": "revoked"}
VISITED_LEVELS = frozenset({"sub_branch", "outlet"})  # places the public walks into

REGISTRY_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("fi_code", ("fi_code", "金融机构编码", "机构编码"), True),
    ColumnSpec("name", ("name", "机构名称", "名称"), True),
    ColumnSpec("short_name", ("short_name", "机构简称", "简称"), False),
    ColumnSpec("legal_entity_code", ("legal_entity_code", "法人机构编码"), True),
    ColumnSpec("parent_code", ("parent_code", "上级机构编码"), True),
    ColumnSpec("level", ("level", "机构层级", "层级"), True),
    ColumnSpec("region_code", ("region_code", "行政区划代码", "行政区划"), True),
    ColumnSpec("address", ("address", "地址", "机构地址"), True),
    ColumnSpec("postcode", ("postcode", "邮政编码", "邮编"), False),
    ColumnSpec("phone", ("phone", "联系电话", "电话"), False),
    ColumnSpec("licence_no", ("licence_no", "license_no", "金融许可证号", "许可证号"), False),
    ColumnSpec("uscc", ("uscc", "统一社会信用代码"), False),
    ColumnSpec("status", ("status", "状态"), True),
    ColumnSpec("established_on", ("established_on", "成立日期"), True),
    ColumnSpec("revoked_on", ("revoked_on", "撤销日期"), False),
    ColumnSpec("kind", ("kind", "outlet_kind", "网点类型", "网点种类"), False),
)
DATA_COLUMNS = tuple(c.key for c in REGISTRY_COLUMNS)
TEXT_LIMITS = {"name": 200, "short_name": 100, "address": 300, "phone": 200}

_FI_CODE = re.compile(r"^[A-Z][0-9]{13}$")
# re.ASCII: \d would also take full-width and other Unicode digits, and store them.
_LANDLINE = re.compile(r"^(?:\(0\d{2,3}\)|0\d{2,3}-?)\d{7,8}(?:-\d{1,6})?$", re.ASCII)
_MOBILE = re.compile(r"^1[3-9]\d{9}$", re.ASCII)
_PHONE_SPLIT = re.compile(r"[;；,，、/]\s*")
_DATE_FORMATS = ("%Y-%m-%d", "%Y%m%d", "%Y/%m/%d")

# A file repeats a few hundred region codes many thousands of times.
_current_county = lru_cache(maxsize=16384)(regions.is_current_county)
# ... and a few levels and statuses (支行, 正常) in every row.
_short_mojibake = lru_cache(maxsize=1024)(looks_like_mojibake)

# The fi_code check digit's algorithm is unknown (STANDARDS.md §1). When one is
# supplied, it computes the expected 14th character from the first 13; the rule
# FLD-FICODE-CHECK is a warning so that it can never reject a real code.
FiCodeCheckDigit = Callable[[str], str]
fi_code_check_digit: FiCodeCheckDigit | None = None


@dataclass
class CheckedRecord:
    """A record after field checks: normalised values (None = empty) and its issues."""

    row: int | None
    values: dict[str, str | None]
    established_on: date | None
    revoked_on: date | None
    category: str
    issues: list[Issue]

    @property
    def has_errors(self) -> bool:
        return any(i.severity == "error" for i in self.issues)


def today_in_china() -> date:
    return datetime.now(CHINA_TZ).date()


def fi_code_format_problem(code: str) -> str | None:
    """Why an fi_code is malformed (length, characters, category, province), or None."""
    if len(code) != 14:
        return f"14 characters expected, got {len(code)}"
    if not _FI_CODE.match(code):
        return "one capital letter and 13 digits expected"
    if code[0] not in CATEGORY_BY_LETTER:
        return f"category letter {code[0]} unknown (expected one of {''.join(CATEGORY_BY_LETTER)})"
    if code[6:8] not in PROVINCE_CODES:
        return f"positions 7-8 ({code[6:8]}) must be a province code"
    return None


def parse_date(text: str) -> date | None:
    if len(text) == 10 and text[4] == "-":  # the common case, parsed in C
        try:
            return date.fromisoformat(text)
        except ValueError:
            return None
    if len(text) == 8 and text.isdigit():
        try:
            return date(int(text[:4]), int(text[4:6]), int(text[6:]))
        except ValueError:
            return None
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def normalise_phone(text: str) -> str | None:
    """`;`-joined numbers if every part is a landline with area code or a mobile, else None."""
    parts = [p.strip().replace(" ", "") for p in _PHONE_SPLIT.split(text) if p.strip()]
    if not parts:
        return None
    for part in parts:
        if not (_LANDLINE.match(part) or _MOBILE.match(part)):
            return None
    return ";".join(parts)


def unusable_cells(raw: Mapping[str, str], keys: Iterable[str]) -> dict[str, tuple[str, str, str]]:
    """The cells of ``keys`` whose text cannot be taken as it is: (rule, value, expected) by key.

    FLD-ENCODING for bytes the file's encoding could not read (shown as ``\\xNN``, storable),
    FLD-MOJIBAKE for text garbled by a wrong conversion, with its probable repair. Both are
    defects of one cell, not of the file (registry.formats): the row is refused, the rest of
    the file is checked as usual, and no other rule looks at such a cell, whose text would
    only raise misleading errors (a Latin-1 misreading doubles the length of a name).
    """
    found: dict[str, tuple[str, str, str]] = {}
    for key in keys:
        text = raw.get(key) or ""
        if text.isascii():
            continue
        shown = unreadable(text)
        if shown is not None:
            found[key] = ("FLD-ENCODING", shown, "")
            continue
        garbled, repaired = (_short_mojibake if len(text) <= 8 else looks_like_mojibake)(text)
        if garbled:
            found[key] = ("FLD-MOJIBAKE", text, f"（可能应为：{repaired}）" if repaired else "")
    return found


def check_record(raw: dict[str, str], row: int | None = None) -> CheckedRecord:
    """Field and record rules for one registry record (values already stripped)."""
    issues: list[Issue] = []
    # The reader (registry.formats) hands over stripped text, "" for empty cells.
    values: dict[str, str | None] = {k: raw.get(k) or None for k in DATA_COLUMNS}
    unusable = unusable_cells(raw, DATA_COLUMNS)
    for key in unusable:
        values[key] = None  # present (so not FLD-REQUIRED) but unusable: no other rule
    code = values["fi_code"] or ""

    def add(
        rule_id: str, column: str | None = None, value: str | None = None, expected: str = ""
    ) -> None:
        issues.append(
            issue(rule_id, row=row, fi_code=code, column=column, value=value, expected=expected)
        )

    extra = raw.get(EXTRA_KEY)
    if extra:
        add("REC-EXTRA-CELLS", value=unreadable(extra) or extra)
    for key, (rule_id, shown, expected) in unusable.items():
        add(rule_id, key, shown, expected)

    for key in ("name", "short_name", "address"):
        text = values[key]
        limit = TEXT_LIMITS.get(key)
        if text is not None and limit and len(text) > limit:
            add("FLD-TEXT-LENGTH", key, str(len(text)), str(limit))

    # Codes
    for key in ("fi_code", "legal_entity_code", "parent_code"):
        value = values[key]
        if value is None:
            continue
        value = value.upper()
        values[key] = value
        problem = fi_code_format_problem(value)
        if problem:
            add("FLD-FICODE-FORMAT", key, value, problem)
    code = values["fi_code"] or ""
    if code and fi_code_check_digit is not None and not any(i.column == "fi_code" for i in issues):
        expected_digit = fi_code_check_digit(code[:13])
        if code[13] != expected_digit:
            add("FLD-FICODE-CHECK", "fi_code", code, expected_digit)

    level = values["level"]
    if level is not None:
        normal = LEVEL_ALIASES.get(level.lower() if level.isascii() else level)
        if normal is None:
            add(
                "FLD-LEVEL-VALUE",
                "level",
                level,
                "head_office/总行, branch/分行, sub_branch/支行, outlet/网点",
            )
        values["level"] = normal
    level = values["level"]

    kind_text = values["kind"]
    kind: str | None = "branch"
    if kind_text is not None:
        kind = KIND_ALIASES.get(kind_text.lower() if kind_text.isascii() else kind_text)
        if kind is None:
            add(
                "FLD-KIND-VALUE",
                "kind",
                kind_text,
                "branch/营业网点, self_service/自助银行, atm/ATM",
            )
    values["kind"] = kind
    if kind not in (None, "branch") and level is not None and level != "outlet":
        add("REC-KIND-LEVEL", "level", level, kind)

    required = [
        "fi_code",
        "name",
        "legal_entity_code",
        "level",
        "region_code",
        "status",
        "established_on",
    ]
    if level is not None and level != "head_office":
        required.append("parent_code")
    if level in VISITED_LEVELS:
        required.append("address")
    for key in required:
        if values[key] is None and not raw.get(key):  # not an unknown level or status
            add("FLD-REQUIRED", key)

    region = values["region_code"]
    if region is not None and not _current_county(region):
        known = regions.get(region) if len(region) == 6 and region.isdigit() else None
        hint = ""
        if known is not None and not known.is_current:
            hint = f"（{known.name} 已于 {known.valid_to} 年撤销 / retired in {known.valid_to}）"
        elif known is not None:
            hint = f"（{known.name} 不是县级 / not county level）"
        add("FLD-REGION-VALUE", "region_code", region, hint)

    postcode = values["postcode"]
    if postcode is not None and not (
        len(postcode) == 6 and postcode.isascii() and postcode.isdigit()
    ):
        add("FLD-POSTCODE-FORMAT", "postcode", postcode)

    phone = values["phone"]
    if phone is not None:
        if len(phone) > TEXT_LIMITS["phone"]:
            add("FLD-TEXT-LENGTH", "phone", str(len(phone)), str(TEXT_LIMITS["phone"]))
        normal_phone = normalise_phone(phone)
        if normal_phone is None:
            add("FLD-PHONE-FORMAT", "phone", phone)
        else:
            values["phone"] = normal_phone

    category = fi_code_category(code) or "other"
    licence = values["licence_no"]
    if licence is not None:
        licence = licence.upper()
        values["licence_no"] = licence
        problems = licence_problems(licence)
        if problems:
            add("FLD-LICENCE-FORMAT", "licence_no", licence, "; ".join(problems))
    elif code.startswith("C") and level is not None and kind == "branch":
        add("FLD-LICENCE-MISSING", "licence_no")  # a machine has no licence of its own

    uscc = values["uscc"]
    if uscc is not None:
        uscc = uscc.upper()
        values["uscc"] = uscc
        problems = uscc_problems(uscc)
        if problems:
            add("FLD-USCC-CHECK", "uscc", uscc, "; ".join(problems))

    status = values["status"]
    if status is not None:
        normal_status = STATUS_ALIASES.get(status.lower() if status.isascii() else status)
        if normal_status is None:
            add("FLD-STATUS-VALUE", "status", status)
        values["status"] = normal_status

    today = today_in_china()
    dates: dict[str, date | None] = {}
    for key in ("established_on", "revoked_on"):
        text = values[key]
        dates[key] = None
        if text is None:
            continue
        parsed = parse_date(text)
        if parsed is None:
            add("FLD-DATE-FORMAT", key, text)
        elif parsed < EARLIEST:
            add("FLD-DATE-RANGE", key, text, "不早于 1900-01-01 / not before 1900-01-01")
        elif parsed > today:
            add("FLD-DATE-RANGE", key, text, f"不晚于今天 {today} / not in the future ({today})")
        else:
            dates[key] = parsed
            values[key] = parsed.isoformat()
    revoked_text = values["revoked_on"]
    if values["status"] == "revoked" and revoked_text is None:
        add(
            "FLD-REVOKED-ON",
            "revoked_on",
            "",
            "状态为撤销时必须填写 / required when the status is revoked",
        )
    elif values["status"] == "active" and revoked_text is not None:
        add(
            "FLD-REVOKED-ON",
            "revoked_on",
            revoked_text,
            "状态为正常时应为空 / must be empty while the status is active",
        )
    est, rev = dates["established_on"], dates["revoked_on"]
    if est is not None and rev is not None and rev < est:
        add(
            "FLD-REVOKED-ON",
            "revoked_on",
            rev.isoformat(),
            f"不早于成立日期 {est} / not before established_on {est}",
        )

    # Record-level consistency of the codes
    legal = values["legal_entity_code"]
    parent = values["parent_code"]
    if code and legal:
        if level == "head_office" and legal != code:
            add("REC-HEAD-OFFICE-LEGAL", "legal_entity_code", legal, code)
        elif level is not None and level != "head_office" and legal == code:
            add("REC-BRANCH-LEGAL", "legal_entity_code", legal)
    if level == "head_office" and parent is not None:
        add("REC-HEAD-OFFICE-PARENT", "parent_code", parent)
    if code and parent == code:
        add("REC-SELF-PARENT", "parent_code", parent)

    return CheckedRecord(
        row=row,
        values=values,
        established_on=dates["established_on"],
        revoked_on=dates["revoked_on"],
        category=category,
        issues=issues,
    )
