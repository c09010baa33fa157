"""README.md documents what the code does: the generated parameter reference is current."""

from __future__ import annotations

from mmtool.reference import README, render


def test_parameter_reference_in_readme_is_current():
    text = README.read_text()
    assert render() in text, "README.md's parameter reference is stale: run `make docs`"


def test_readme_gives_the_two_quickstart_commands():
    text = README.read_text()
    assert "make build" in text and "make test" in text
