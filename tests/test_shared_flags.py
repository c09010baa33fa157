"""Each flag the engine's verbs and mmtool's verbs share is spelled once, in `deployer/flags.py` (`SHARED`); a verb
adds it with `add_flag`. A shared flag's name in an `add_argument` call anywhere else fails here."""

from __future__ import annotations

import ast
import argparse
from pathlib import Path

import pytest

from deployer.flags import SHARED, add_flag

ROOT = Path(__file__).resolve().parent.parent
SHARED_NAMES = {name for flag in SHARED.values() for name in flag.names}


def spelled_with_add_argument(path: Path, root: Path = ROOT) -> list[str]:
    """`file:line --flag` for every add_argument call of `path` that names a shared flag."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "add_argument":
            names = {a.value for a in node.args if isinstance(a, ast.Constant)}
            found += [f"{path.relative_to(root)}:{node.lineno} {n}" for n in sorted(names & SHARED_NAMES)]
    return found


def test_no_shared_flag_is_spelled_outside_the_table():
    sources = [p for pkg in ("mmtool", "deployer", "templates", "scripts") for p in sorted((ROOT / pkg).rglob("*.py"))]
    sources += [ROOT / "build.py"]
    offenders = [hit for path in sources if path != ROOT / "deployer/flags.py" for hit in spelled_with_add_argument(path)]
    assert offenders == [], "add these with deployer.flags.add_flag(parser, NAME)"


def test_the_guard_finds_a_spelled_flag(tmp_path):
    source = tmp_path / "verb.py"
    source.write_text("def f(p):\n    p.add_argument('--endpoint-url', help='x')\n    p.add_argument('--other')\n")
    assert spelled_with_add_argument(source, tmp_path) == ["verb.py:2 --endpoint-url"]


@pytest.mark.parametrize("argv, expected", [
    (["--profile", "ops", "--endpoint-url", "http://127.0.0.1:5000", "-y", "--json", "--endpoint", "churn",
      "--wait-for-lock", "30", "--skip-account-check"],
     {"profile": "ops", "endpoint_url": "http://127.0.0.1:5000", "yes": True, "json_output": True, "endpoint": "churn",
      "wait_for_lock": 30.0, "skip_account_check": True}),
    ([], {"profile": None, "endpoint_url": None, "yes": False, "json_output": False, "endpoint": None,
          "wait_for_lock": 0.0, "skip_account_check": False}),
])
def test_every_shared_flag_parses_the_same_everywhere(argv, expected):
    parser = argparse.ArgumentParser()
    for name in SHARED:
        add_flag(parser, name)
    assert vars(parser.parse_args(argv)) == expected


def test_a_verb_adds_its_use_and_a_hidden_flag_is_accepted_but_not_shown():
    parser = argparse.ArgumentParser(prog="x")
    add_flag(parser, "endpoint", use="the one to baseline")
    add_flag(parser, "yes", hidden=True)
    text = " ".join(parser.format_help().split())
    assert "its key under endpoints: in params (ENDPOINT=KEY); the one to baseline" in text
    assert "--yes" not in text and parser.parse_args(["--yes"]).yes is True


def test_the_engine_and_the_cli_verbs_share_the_help_text():
    from deployer import cli as engine
    from mmtool.cli import _parser

    deploy = argparse.ArgumentParser(prog="deploy")
    engine.add_arguments(deploy, "deploy")
    catalog = _parser(selected="catalog")._subparsers._group_actions[0].choices["catalog"]  # noqa: SLF001
    for parser in (deploy, catalog):
        text = " ".join(parser.format_help().split())
        assert "AWS profile (default: AWS_PROFILE / the default chain)" in text
        assert "send every AWS call to this endpoint (a local moto server); AWS_ENDPOINT_URL works too" in text
