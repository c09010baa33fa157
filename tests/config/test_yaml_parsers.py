"""The params loader composes a file with libyaml (PyYAML's C extension) where libyaml reads it as PyYAML's own
parser does, and with PyYAML's parser otherwise (mmtool/config/loader.py `_libyaml_node`): whichever reads it, a
file gives the same data, the same line of every key and the same error message. The reference here is the loader
with libyaml switched off (what it was before libyaml was used)."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mmtool.config import loader
from mmtool.errors import ParamsError
from tests.conftest import REPO
from tests.fleet_data import fleet_data

NAME = "params/dev.yaml"
CORPUS = sorted((REPO / "tests" / "bad_params").glob("*.yaml"))
PARAMS = sorted((REPO / "params").glob("*.yaml"))

pytestmark = pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML without libyaml reads with one parser only")


def read(text: str) -> str:
    """What the loader makes of `text`: its data and lines, or its error message, as text (NaN is not equal to
    itself, its repr is)."""
    try:
        return repr(loader.parse_yaml(text, NAME))
    except ParamsError as exc:
        return "\n".join(p.render() for p in exc.problems)


def read_by_pyyaml(text: str, monkeypatch: pytest.MonkeyPatch) -> str:
    with monkeypatch.context() as patched:
        patched.setattr(loader, "_libyaml_node", lambda text: None)
        return read(text)


def _text(path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:  # not-utf8.yaml: refused before any parser sees it
        return None


TEXTS = [p for p in CORPUS + PARAMS if _text(p) is not None]  # not-utf8.yaml is refused before any parser sees it


@pytest.mark.parametrize("path", TEXTS, ids=[p.stem for p in TEXTS])
def test_every_params_file_and_bad_file_reads_the_same_with_either_parser(path, monkeypatch):
    text = _text(path)
    if path.stem == "hostile-nesting-600":  # PyYAML's parser runs out of Python's recursion: the file as a whole
        assert read(text).startswith(f"{NAME}:4: tags[0][0]")  # libyaml composes it: the key, its line
        assert "nested deeper than 32 levels" in read(text) and "nested deeper than 32 levels" in read_by_pyyaml(
            text, monkeypatch)
        return
    assert read(text) == read_by_pyyaml(text, monkeypatch)


def test_the_repository_params_and_a_200_endpoint_fleet_take_the_libyaml_path():
    """What makes a large fleet's build fast: its file is composed by libyaml, not sent back to PyYAML's parser."""
    fleet = yaml.safe_dump(fleet_data(200, quotas={"event_bus_rules": 400}), sort_keys=False)
    for text in [p.read_text() for p in PARAMS] + [fleet]:
        assert loader._libyaml_node(text) is not None


# Texts libyaml and PyYAML's parser read differently (each found by the comparison below before the loader knew it).
DIFFERENT = {
    "question-mark-in-flow-plain-scalar": "a: [Input, Outp?ut]\n",
    "question-mark-in-flow-key": "a: {b?: 1}\n",
    "tab-before-comment": "project: churn \t # c\n",
    "tab-in-plain-scalar": "a: b\tc\n",
    "lone-tag": "a: !\n",
    "explicit-empty-key-in-flow": "c: [\n?\n]\n",
    "comment-right-after-block-scalar-header": "a: |#c\n  x\n",
    "comment-right-after-block-scalar-indicators": "- >-2#\n  x\n",
}


@pytest.mark.parametrize("text", DIFFERENT.values(), ids=DIFFERENT.keys())
def test_where_the_parsers_differ_the_loader_reads_with_pyyaml(text, monkeypatch):
    def composed(loader_class) -> str:
        try:
            return repr(_tree(yaml.compose(text, Loader=loader_class)))
        except yaml.YAMLError as exc:
            return type(exc).__name__

    assert composed(yaml.CSafeLoader) != composed(yaml.SafeLoader)  # why the loader must not use libyaml here
    assert loader._libyaml_node(text) is None
    assert read(text) == read_by_pyyaml(text, monkeypatch)


def _tree(node: yaml.Node) -> tuple:
    if isinstance(node, yaml.ScalarNode):
        return node.tag, node.value, node.start_mark.line
    pairs = node.value if isinstance(node, yaml.MappingNode) else [(item,) for item in node.value]
    return node.tag, node.start_mark.line, [tuple(_tree(part) for part in pair) for pair in pairs]


# Mutations that matter to a YAML parser: indicators, line breaks, quotes, escapes, tags, anchors, directives.
TOKENS = [*":-[]{}&*!|>'\"#%@`,?\t\n\r \\", "\x85", "\u2028", "\ufeff", "é", "<<", "---", "...", "!!str ", "&a ",
          "*a", "\r\n", "  ", "\n  ", "\n- ", "? ", ": ", "\\x41", "\\/", "%YAML 1.2\n---\n", ":x", "|-", ">+", "~",
          "1e3", "0o17", ".nan", "2001-12-14", "<<: *a\n"]
BASES = [(REPO / "params" / name).read_text() for name in ("dev.yaml", "staging.yaml")] + [
    (REPO / "tests" / "bad_params" / name).read_text()
    for name in ("hostile-alias-bomb.yaml", "yaml-duplicate-key.yaml")]


@st.composite
def mutated_text(draw) -> str:
    text = draw(st.sampled_from(BASES))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        at = draw(st.integers(min_value=0, max_value=len(text)))
        action = draw(st.sampled_from(["insert", "delete", "replace"]))
        if action == "delete":
            text = text[:at] + text[at + draw(st.integers(min_value=1, max_value=3)):]
        else:
            text = text[:at] + draw(st.sampled_from(TOKENS)) + text[at + (action == "replace"):]
    return text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(mutated_text())
def test_a_mutated_params_file_reads_the_same_with_either_parser(monkeypatch, text):
    assert read(text) == read_by_pyyaml(text, monkeypatch)
