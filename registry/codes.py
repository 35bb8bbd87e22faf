"""Structure and check characters of the codes in registry records.

Facts and their certainty are in docs (STANDARDS): the USCC and organisation
code check characters are verified against published examples; the fi_code's
structure is observed from real codes and its check digit is unknown, so
nothing here rejects a code for its 14th character.
"""

from __future__ import annotations

import re
from operator import mul

# --- fi_code (金融机构编码), 14 characters ---------------------------------------------

FI_CODE_RE = re.compile(r"^[A-Z][0-9]{13}$")

# Category letter in position 1. C, D, G, Z are observed in real codes; the
# others follow the standard's sector order and are unverified.
CATEGORY_BY_LETTER: dict[str, str] = {
    "A": "monetary_authority",
    "B": "regulator",
    "C": "bank",
    "D": "bank_non_deposit",
    "E": "securities",
    "F": "insurance",
    "G": "trading_settlement",
    "H": "financial_holding",
    "Z": "other",
}
# The institution categories an outlet can have (its fi_code's letter), for filters.
CATEGORIES: tuple[str, ...] = tuple(sorted(set(CATEGORY_BY_LETTER.values())))

# GB/T 2260 province-level codes (positions 7-8 of an fi_code).
PROVINCE_CODES: frozenset[str] = frozenset(
    [
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
    ]
)


def fi_code_category(fi_code: str) -> str | None:
    return CATEGORY_BY_LETTER.get(fi_code[:1])


def fi_code_problems(fi_code: str) -> list[str]:
    """What is wrong with an fi_code's structure, in English; empty if nothing.

    The check digit is deliberately not checked here (see `registry.rules`).
    """
    if len(fi_code) != 14:
        return [f"must be 14 characters, got {len(fi_code)}"]
    if not FI_CODE_RE.match(fi_code):
        return ["must be one capital letter followed by 13 digits"]
    problems = []
    if fi_code[0] not in CATEGORY_BY_LETTER:
        problems.append(f"unknown category letter {fi_code[0]!r}")
    if fi_code[6:8] not in PROVINCE_CODES:
        problems.append(f"positions 7-8 {fi_code[6:8]!r} are not a province code")
    return problems


def legal_entity_prefix(fi_code: str) -> str:
    """Positions 1-6: category, sub-category and the legal entity's number."""
    return fi_code[:6]


# --- Unified social credit code (统一社会信用代码, GB 32100-2015), 18 characters ----------

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {ch: i for i, ch in enumerate(USCC_ALPHABET)}
_USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
USCC_RE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{18}$")


def uscc_check_char(first17: str) -> str:
    """The 18th character for the first 17 (upper-case) characters."""
    # map() keeps the loop in C: this runs for every row of a 200,000-row import
    total = sum(map(mul, map(_USCC_VALUE.__getitem__, first17), _USCC_WEIGHTS))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def uscc_problems(uscc: str) -> list[str]:
    """What is wrong with a USCC; upper-cases first because real data has lower case."""
    code = uscc.strip().upper()
    if len(code) != 18:
        return [f"must be 18 characters, got {len(code)}"]
    if not USCC_RE.match(code):
        bad = sorted({ch for ch in code if ch not in _USCC_VALUE})
        return [f"characters {''.join(bad)!r} are not allowed (no I, O, S, V, Z)"]
    problems = []
    expected = uscc_check_char(code[:17])
    if code[17] != expected:
        problems.append(f"check character should be {expected!r}, got {code[17]!r}")
    body = code[8:17]
    if org_code_problems(body):
        problems.append(f"organisation code part {body!r} has a wrong check character")
    return problems


# --- Organisation code (组织机构代码, GB 11714-1997), 9 characters -------------------------

_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_VALUE = {ch: int(ch, 36) for ch in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"}
_ORG_RE = re.compile(r"[0-9A-Z]{8}[0-9X]")


def org_code_check_char(body8: str) -> str:
    total = sum(map(mul, map(_ORG_VALUE.__getitem__, body8), _ORG_WEIGHTS))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def org_code_problems(code: str) -> list[str]:
    if not _ORG_RE.fullmatch(code):
        return ["must be 8 digits or capital letters and a check digit or X"]
    expected = org_code_check_char(code[:8])
    return [] if code[8] == expected else [f"check character should be {expected!r}"]


def make_uscc(authority_type: str, region_code: str, org_body8: str) -> str:
    """A USCC with valid check characters from its parts (used by the demo generator)."""
    org = org_body8 + org_code_check_char(org_body8)
    first17 = authority_type + region_code + org
    return first17 + uscc_check_char(first17)


# --- Financial licence institution code (金融许可证机构编码), 15 characters --------------

LICENCE_RE = re.compile(r"^[A-Z][0-9]{4}[HBS][1-3][0-9]{8}$")


def licence_problems(licence_no: str) -> list[str]:
    if not LICENCE_RE.match(licence_no):
        return [
            "must be a type letter, 4 digits, H/B/S, an authority digit 1-3, "
            "a 4-digit prefecture and a 4-digit sequence"
        ]
    if licence_no[7:9] not in PROVINCE_CODES:
        return [f"positions 8-11 {licence_no[7:11]!r} are not a prefecture code"]
    return []
