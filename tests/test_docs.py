"""Generated documents stay equal to the code that generates them."""

from __future__ import annotations

from pathlib import Path

from registry.rules_doc import render_rules

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_rules_md_matches_the_rule_registry() -> None:
    committed = (DOCS / "rules.md").read_text(encoding="utf-8")
    assert committed == render_rules("markdown"), (
        "docs/rules.md is stale: "
        "run `branchfinder registry rules --format markdown > docs/rules.md`"
    )
