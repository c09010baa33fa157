"""Environments of one params folder whose composed names could meet.

Every name the tool composes for an environment starts with ``<project>-<env>-`` (stacks
``<project>-<env>-<kind>``, a fleet endpoint's ``<project>-<env>-<key>-<kind>``, endpoint names, SSM paths aside).
When one environment's prefix ``<project>-<env>`` begins with another's followed by ``-``, an endpoint key can
make them equal: ``project: churn-ta, environment: ab`` and ``project: churn, environment: ta`` with a key ``ab``
both name ``churn-ta-ab-endpoint``. Validation refuses such a pair whether or not the key exists yet (keys are
added later, and then a destroy of one would reach the other's stacks). Making names unambiguous by construction
(another separator) would rename, and so replace, every deployed stack and bucket; the deploy engine proves
ownership by the stacks' tags instead (deployer/ownership.py, docs/deploying.md "Ownership"), and this check
keeps a params folder from producing the clash in the first place.

A fleet's overview dashboard finds every endpoint's metrics by a CloudWatch search on ``<project>-<env>``, which
matches name tokens in a row, not a prefix (docs/fleet.md, "The overview dashboard's searches"): the tokens of
``churn-dev`` (``churn``, ``dev``) are in ``churn-dev2-...`` too, digits starting a token. Validation refuses a fleet
environment whose overview would so show another environment's metrics of the same params folder in the same
account and region (metrics are kept per account and region).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Mapping

from mmtool.errors import ParamsError, Problem


Facts = tuple[str, int | None, tuple[object, object]]  # (<project>-<env>, line of project:, (account_id, region))


def prefix_facts(path: Path, data: Any, lines: Mapping[tuple, int]) -> Facts | None:
    """``(<project>-<env>, line of project:, (account_id, region))`` of a params file read into ``data`` and
    ``lines`` (mmtool.config.loader.read_yaml), or None when it names no project."""
    project = data.get("project") if isinstance(data, dict) else None
    if not isinstance(project, str):
        return None
    return f"{project}-{path.stem}", lines.get(("project",)), (data.get("account_id"), data.get("region"))


def _prefix_of(path: Path, read: Mapping[str, Facts | None]) -> Facts | None:
    """The facts of a params file, from ``read`` when the caller has read it already, or None when it cannot be
    read (its own problems are reported when that environment is validated)."""
    from mmtool.config.loader import display_path, read_yaml

    if path.stem in read:
        return read[path.stem]
    try:
        data, lines = read_yaml(path, display_path(path))
    except (ParamsError, OSError):
        return None
    return prefix_facts(path, data, lines)


def search_tokens(name: str) -> list[str]:
    """The tokens CloudWatch's search makes of a name: non-alphanumeric characters delimit, digits and capitals
    start a token (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/search-expression-syntax.html)."""
    return re.findall(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+", name)


def _holds_in_a_row(tokens: list[str], within: list[str]) -> bool:
    return any(within[start:start + len(tokens)] == tokens for start in range(len(within) - len(tokens) + 1))


def _same_metrics(where: tuple[object, object], their_where: tuple[object, object]) -> bool:
    """CloudWatch metrics belong to one account and region: two environments' searches can meet only there (an
    environment file without them, being invalid, is taken to share them)."""
    return all(mine is None or theirs is None or mine == theirs for mine, theirs in zip(where, their_where))


def clashes(params_dir: Path, envs: list[str], prefixes: dict[str, str], fleets: frozenset[str] = frozenset(),
            read: Mapping[str, Facts | None] | None = None) -> list[Problem]:
    """A problem on each of ``envs`` whose prefix could compose a name of another environment of ``params_dir``, or
    (``fleets``: the validated fleet environments) whose overview dashboard's search would find another's metrics.

    ``prefixes`` holds the already validated environments' ``<project>-<env>``; the other files are only read.
    ``read``: the `prefix_facts` of the files the caller has read already, by environment (None: it could not be
    read), so that no file is read twice."""
    from mmtool.config.loader import display_path

    read = read or {}
    known: dict[str, Facts] = {}
    for path in sorted(params_dir.glob("*.yaml")):
        if path.stem in prefixes:
            found = _prefix_of(path, read)
            known[path.stem] = (prefixes[path.stem], found[1] if found else None, found[2] if found else (None, None))
        else:
            found = _prefix_of(path, read)
            if found is not None:
                known[path.stem] = found
    problems = []
    for env in envs:
        if env not in known:
            continue
        mine, line, where = known[env]
        for other, (theirs, _, their_where) in known.items():
            if other == env:
                continue
            if mine == theirs:
                why = f"composes the same names as params/{other}.yaml ({theirs}-...)"
            elif theirs.startswith(mine + "-"):
                key = theirs[len(mine) + 1:]
                why = (f"params/{other}.yaml's names start with {theirs}-, which this environment composes for an "
                       f"endpoint key {key!r} ({theirs}-endpoint)")
            elif mine.startswith(theirs + "-"):
                key = mine[len(theirs) + 1:]
                why = (f"this environment's names start with {mine}-, which params/{other}.yaml composes for an "
                       f"endpoint key {key!r} ({mine}-endpoint)")
            elif env in fleets and _same_metrics(where, their_where) and _holds_in_a_row(search_tokens(mine),
                                                                                       search_tokens(theirs)):
                problems.append(Problem(
                    display_path(params_dir / f"{env}.yaml"), "project", f"{mine}: this fleet's overview dashboard "
                    f"searches for {mine} by name tokens, which params/{other}.yaml's names ({theirs}-...) hold too, so "
                    "it would show that environment's metrics (digits start a token: docs/fleet.md); choose names "
                    f"where neither <project>-<environment> holds the other's tokens in a row (e.g. {mine}b, not "
                    f"{mine}2)", line=line, show_value=False))
                continue
            else:
                continue
            problems.append(Problem(
                display_path(params_dir / f"{env}.yaml"), "project", f"{mine}: {why}: the two environments' stacks, "
                "endpoints and names could meet, and one's destroy reach the other's; choose project and "
                "environment names where neither <project>-<environment> starts with the other's followed by '-'",
                line=line, show_value=False))
    return problems
