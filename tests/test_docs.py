"""The documentation says what the code does: the generated parameter reference is current, and every
guide the README links to exists."""

from __future__ import annotations

import re
from pathlib import Path

from mmtool.config.reference import KINDS_DOC, REFERENCE_DOC, render, render_kinds

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def test_parameter_reference_is_current():
    assert render() in REFERENCE_DOC.read_text(), "docs/parameters.md's parameter reference is stale: run `make docs`"


def test_monitor_kinds_table_is_current():
    assert render_kinds() in KINDS_DOC.read_text(), "docs/monitors.md's monitor kinds are stale: run `make docs`"


def test_readme_gives_the_two_quickstart_commands():
    text = README.read_text()
    assert "make build" in text and "make test" in text


def test_readme_stays_a_front_door():
    assert len(README.read_text().splitlines()) <= 250, "README.md is the front door: move guides to docs/"


def test_every_guide_is_linked_from_the_readme_and_every_link_resolves():
    text = README.read_text()
    linked = set(re.findall(r"\]\((docs/[\w.-]+\.md)", text))
    guides = {f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md")}
    assert guides <= linked, f"guides not reachable from README.md: {sorted(guides - linked)}"
    assert all((ROOT / link).exists() for link in linked), "README.md links to a missing guide"


def test_relative_links_between_guides_resolve():
    broken = []
    for doc in [README, *sorted((ROOT / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(((?:\.\./|docs/)?[\w./-]+\.md)(?:#[\w-]+)?\)", doc.read_text()):
            if not (doc.parent / target).resolve().exists():
                broken.append(f"{doc.relative_to(ROOT)} -> {target}")
    assert not broken, broken


def test_fleet_limits_table_is_current():
    from mmtool.config.limits import markdown_table
    assert markdown_table() in (ROOT / "docs" / "fleet.md").read_text(), \
        "docs/fleet.md's limits table is stale: paste mmtool.config.limits.markdown_table()"
