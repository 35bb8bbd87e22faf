"""The jurisdiction filter as the registry's reports see it, without importing the web layer.

The professional API decides who may see what (`accounts.jurisdiction.Scope`:
a region-code prefix, optionally one legal entity). The registry's report
queries (`reports.quality`, `reports.rollout`) must apply exactly that
filter, but to more than one table: outlets by their own region, install
registrations by the region their registrant works in, error reports through
the outlet they are about. So they take the jurisdiction as an object that
builds the condition over any pair of columns, which `Scope` already is; this
Protocol names that shape so the registry does not depend on `backend`.
"""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import ColumnElement

from core.models.registry import Institution


class Jurisdiction(Protocol):
    """Anything that turns a region column (and a legal entity column) into a WHERE condition."""

    def columns_clause(
        self, region_code: Any, legal_entity_code: Any | None = None
    ) -> ColumnElement[bool]: ...


def institution_clause(
    jurisdiction: Jurisdiction, entity: Any = Institution
) -> ColumnElement[bool]:
    """The jurisdiction over `institution` (or an alias of it)."""
    return jurisdiction.columns_clause(entity.region_code, entity.legal_entity_code)
