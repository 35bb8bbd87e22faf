"""Jurisdiction (辖区): what a professional account may see and change, as one value object.

Every PBoC office maintains the records of its own area ("分级维护"), so a
jurisdiction is a region-code prefix: "32" Jiangsu (provincial branch), "3201"
Nanjing (city central sub-branch), "320102" Xuanwu (county sub-branch). An
institution's own administrators and some auditors are further limited to one
legal entity (法人机构). `Scope` holds both, plus whether the holder may write.

Why one object rather than checks spread through the views: every professional
endpoint lists or changes rows that carry a region code, and one forgotten
filter leaks another office's data. The way to query is therefore always

    stmt = scope.institutions(select(Institution))        # or
    stmt = select(Thing).where(scope.clause(Thing))       # any table with region_code

and the way to test one row already loaded is `scope.allows(region, legal_entity)`.

A prefix is matched with `LIKE '3201%'`; prefixes are digits only (checked
here), so there is nothing to escape, and the pattern reaches PostgreSQL as a
constant, which lets the `text_pattern_ops` index on `institution.region_code`
serve it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_

from core.models.registry import Institution
from registry.codes import FI_CODE_RE

PREFIX_RE = re.compile(r"^(?:[0-9]{2}|[0-9]{4}|[0-9]{6})$")

_S = TypeVar("_S", bound=Select[Any])


class ScopeError(ValueError):
    """A prefix or legal entity code that cannot be a jurisdiction."""


@dataclass(frozen=True)
class Scope:
    """A region-code prefix, optionally one legal entity, and whether writes are allowed."""

    region_prefix: str
    legal_entity_code: str | None = None
    can_write: bool = False

    def __post_init__(self) -> None:
        if not PREFIX_RE.match(self.region_prefix):
            raise ScopeError(f"region prefix must be 2, 4 or 6 digits, got {self.region_prefix!r}")
        if self.legal_entity_code is not None and not FI_CODE_RE.match(self.legal_entity_code):
            raise ScopeError(
                f"legal entity code must be an fi_code, got {self.legal_entity_code!r}"
            )

    @property
    def pattern(self) -> str:
        """The LIKE pattern of the region prefix."""
        return self.region_prefix + "%"

    def allows(self, region_code: str | None, legal_entity_code: str | None = None) -> bool:
        """Whether a row with this region code (and legal entity) lies inside the scope.

        A row without a region code belongs to nobody's jurisdiction: refused.
        """
        if region_code is None or not region_code.startswith(self.region_prefix):
            return False
        return self.legal_entity_code is None or legal_entity_code == self.legal_entity_code

    def covers(self, other: Scope) -> bool:
        """Whether every row `other` allows is also allowed here (for handing out accounts)."""
        if not other.region_prefix.startswith(self.region_prefix):
            return False
        return self.legal_entity_code is None or other.legal_entity_code == self.legal_entity_code

    def clause(self, entity: Any) -> ColumnElement[bool]:
        """The WHERE condition for any mapped class, alias or table with `region_code`
        and `legal_entity_code` columns (`Institution`, the audit log, ...)."""
        columns = getattr(entity, "c", entity)  # a Table or subquery keeps them under .c
        return self.columns_clause(
            columns.region_code,
            columns.legal_entity_code if self.legal_entity_code is not None else None,
        )

    def columns_clause(
        self, region_code: Any, legal_entity_code: Any | None = None
    ) -> ColumnElement[bool]:
        """The same condition over explicitly given columns (tables whose names differ)."""
        condition: ColumnElement[bool] = region_code.like(self.pattern)
        if self.legal_entity_code is not None:
            if legal_entity_code is None:
                raise ScopeError("this scope is limited to a legal entity: give its column")
            condition = and_(condition, legal_entity_code == self.legal_entity_code)
        return condition

    def institutions(self, stmt: _S) -> _S:
        """`stmt` (which selects from `institution`) limited to this jurisdiction."""
        return stmt.where(self.clause(Institution))
