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
"""

from __future__ import annotations

from pathlib import Path

from mmtool.errors import ParamsError, Problem


def _prefix_of(path: Path) -> tuple[str, int | None] | None:
    """``(<project>-<env>, line of project:)`` read from a params file, or None when it cannot be read (its own
    problems are reported when that environment is validated)."""
    from mmtool.config.loader import display_path, read_yaml

    try:
        data, lines = read_yaml(path, display_path(path))
    except (ParamsError, OSError):
        return None
    project = data.get("project") if isinstance(data, dict) else None
    if not isinstance(project, str):
        return None
    return f"{project}-{path.stem}", lines.get(("project",))


def clashes(params_dir: Path, envs: list[str], prefixes: dict[str, str]) -> list[Problem]:
    """A problem on each of ``envs`` whose prefix could compose a name of another environment of ``params_dir``.

    ``prefixes`` holds the already validated environments' ``<project>-<env>``; the other files are only read."""
    from mmtool.config.loader import display_path

    known: dict[str, tuple[str, int | None]] = {}
    for path in sorted(params_dir.glob("*.yaml")):
        if path.stem in prefixes:
            found = _prefix_of(path)
            known[path.stem] = (prefixes[path.stem], found[1] if found else None)
        else:
            found = _prefix_of(path)
            if found is not None:
                known[path.stem] = found
    problems = []
    for env in envs:
        if env not in known:
            continue
        mine, line = known[env]
        for other, (theirs, _) in known.items():
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
            else:
                continue
            problems.append(Problem(
                display_path(params_dir / f"{env}.yaml"), "project", f"{mine}: {why}: the two environments' stacks, "
                "endpoints and names could meet, and one's destroy reach the other's; choose project and "
                "environment names where neither <project>-<environment> starts with the other's followed by '-'",
                line=line, show_value=False))
    return problems
