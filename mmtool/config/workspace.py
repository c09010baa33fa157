"""The project's folders (params/, build/, .cache/), its environments, and loading them all at once."""

from __future__ import annotations

import json
import re
from pathlib import Path

from mmtool.errors import ParamsError, ToolError, UsageError

REPO_ROOT = Path(__file__).resolve().parents[2]


class Paths:
    def __init__(self, root: Path = REPO_ROOT):
        self.root = root
        self.params = root / "params"
        self.build = root / "build"
        self.cache = root / ".cache"

    def environments(self) -> list[str]:
        return sorted(p.stem for p in self.params.glob("*.yaml"))


def environments(paths: Paths, env: str | None) -> list[str]:
    """The environments a command acts on: `env`, or every params file when it is None."""
    known = paths.environments()
    if env is None:
        if not known:
            raise ToolError(f"no params files in {paths.params}/; create params/<env>.yaml")
        return known
    if env not in known:
        choices = ", ".join(known) or "none yet"
        if not re.fullmatch(r"[a-z][a-z0-9]{1,9}", env):  # shown quoted: it may hold spaces, newlines or shell code
            raise UsageError(f"ENV={env!r} is not an environment name (2-10 lowercase letters and digits; "
                             f"environments: {choices})")
        raise UsageError(f"no params file params/{env}.yaml (environments: {choices}); create it or fix ENV=")
    return [env]


def validate(paths: Paths, envs: list[str]):
    """Load every environment; raise one ParamsError with the problems of all of them. Each file is read once: the
    name-clash check gets what it needs of it from here."""
    from mmtool.config.loader import display_path as shown, params_from_data, read_yaml
    from mmtool.config.names import clashes, prefix_facts  # names that could meet (docs/deploying.md)

    loaded, problems, read = {}, [], {}
    for env in envs:
        path = paths.params / f"{env}.yaml"
        name = shown(path)
        read[env] = None
        try:
            data, lines = read_yaml(path, name)
            read[env] = prefix_facts(path, data, lines)  # what the file says, for the name-clash check
            loaded[env] = params_from_data(data, name, lines, env, paths.root)
        except ParamsError as exc:
            problems.extend(exc.problems)
    problems.extend(clashes(paths.params, envs, {env: params.prefix for env, params in loaded.items()},
                            frozenset(env for env, params in loaded.items() if params.is_fleet), read))
    if problems:
        raise ParamsError(problems)
    return loaded


def display_path(path: Path, paths: Paths) -> Path:
    """`path` as a user wants to read it: relative to the working directory, else to the repository."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        try:
            return path.relative_to(paths.root)
        except ValueError:
            return path


def template_parameter_pairs(folder: Path, templates: list[Path]) -> list[tuple[Path, Path]]:
    """Each template with each parameter file that goes with it: the manifest's pairs (a fleet's
    monitoring.template.json goes with every <key>-monitoring.parameters.json), and <stack>.parameters.json for a
    template the manifest does not list (the catalog's)."""
    pairs: list[tuple[Path, Path]] = []
    manifest = folder / "manifest.json"
    listed = json.loads(manifest.read_text())["stacks"] if manifest.exists() else []
    for template in templates:
        mine = [folder / s["parameters"] for s in listed if s["template"] == template.name]
        for parameters in mine or [template.with_name(template.name.replace(".template.json", ".parameters.json"))]:
            pairs.append((template, parameters))
    return pairs
