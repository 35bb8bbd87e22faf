"""The controlled vocabulary of business types (受理业务类型) and facilities.

This is the one place the vocabulary is defined: the database stores the
English keys, the public sees the Chinese labels, and the importers, the
search filters and the bot all validate against `BUSINESS_TYPES`. Keys are
stable identifiers: rename a label freely, never a key.

Self-service points (自助银行, ATMs; `core.models.registry.OUTLET_KINDS`) list what their
machines do with the same vocabulary, kind "self_service": cash out, cash in, foreign
currency; open all hours is `self_service_24h`, as for a branch's own self-service area.
A counter service means a staffed counter, so a machine offers none (`ALLOWED_BY_KIND`,
checked by the profile import, rule PRF-KIND-BUSINESS), and a branch lists no machine
facility: its machines are self-service points of their own, under it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["service", "facility", "self_service"]


@dataclass(frozen=True)
class BusinessType:
    key: str
    label_zh: str
    label_en: str
    kind: Kind


BUSINESS_TYPES: tuple[BusinessType, ...] = (
    BusinessType("cash", "现金存取款", "Cash deposit and withdrawal", "service"),
    BusinessType("personal_account", "个人开户", "Personal account opening", "service"),
    BusinessType("corporate_account", "对公开户", "Corporate account opening", "service"),
    BusinessType("foreign_exchange", "外币兑换", "Foreign currency exchange", "service"),
    BusinessType("damaged_notes", "残损人民币兑换", "Damaged banknote exchange", "service"),
    BusinessType("coin_exchange", "零钱兑换", "Coin and small-change exchange", "service"),
    BusinessType("credit_report", "征信查询", "Personal credit report query", "service"),
    BusinessType(
        "foreign_card",
        "境外银行卡受理",
        "Foreign card acceptance, services for foreign visitors",
        "service",
    ),
    BusinessType("wealth_management", "理财", "Wealth management", "service"),
    BusinessType("loans", "贷款", "Loans", "service"),
    BusinessType("insurance", "保险", "Insurance", "service"),
    BusinessType("securities", "证券", "Securities", "service"),
    BusinessType("precious_metals", "贵金属", "Precious metals", "service"),
    BusinessType("social_security_card", "社保卡", "Social security card", "service"),
    BusinessType("self_service_24h", "24小时自助银行", "24-hour self-service banking", "service"),
    BusinessType("cash_out", "自助取款", "Cash withdrawal (machine)", "self_service"),
    BusinessType("cash_in", "自助存款", "Cash deposit (machine)", "self_service"),
    BusinessType(
        "foreign_cash", "外币自助取款", "Foreign currency withdrawal (machine)", "self_service"
    ),
    BusinessType("wheelchair_access", "无障碍通道", "Wheelchair access", "facility"),
    BusinessType("elderly_friendly", "适老服务", "Elderly-friendly service", "facility"),
    BusinessType("parking", "停车", "Parking", "facility"),
)

BY_KEY: dict[str, BusinessType] = {bt.key: bt for bt in BUSINESS_TYPES}
SERVICE_KEYS: frozenset[str] = frozenset(bt.key for bt in BUSINESS_TYPES if bt.kind == "service")
FACILITY_KEYS: frozenset[str] = frozenset(bt.key for bt in BUSINESS_TYPES if bt.kind == "facility")
SELF_SERVICE_KEYS: frozenset[str] = frozenset(
    bt.key for bt in BUSINESS_TYPES if bt.kind == "self_service"
)
OPEN_24H = "self_service_24h"  # a branch's 24-hour self-service area, or a machine never shut
# What an outlet of each kind (core.models.registry.OUTLET_KINDS) may list.
ALLOWED_BY_KIND: dict[str, frozenset[str]] = {
    "branch": SERVICE_KEYS | FACILITY_KEYS,
    "self_service": SELF_SERVICE_KEYS | FACILITY_KEYS | {OPEN_24H},
    "atm": SELF_SERVICE_KEYS | FACILITY_KEYS | {OPEN_24H},
}


def facilities(kind: str, keys: tuple[str, ...] | list[str]) -> dict[str, bool] | None:
    """What a self-service point's machines do, for the public list (None for a branch,
    whose business types say it): cash out and in, foreign currency, open all hours."""
    if kind == "branch":
        return None
    return {
        "cash_out": "cash_out" in keys,
        "cash_in": "cash_in" in keys,
        "foreign_currency": "foreign_cash" in keys,
        "open_24h": OPEN_24H in keys,
    }


def unknown_keys(keys: list[str] | tuple[str, ...] | set[str]) -> list[str]:
    """Keys not in the vocabulary, in input order, so an error can name each one."""
    return [k for k in keys if k not in BY_KEY]


def label(key: str) -> str:
    return BY_KEY[key].label_zh
