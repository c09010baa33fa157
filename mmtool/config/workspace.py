"""The project's folders (params/, build/, .cache/), its environments, and loading them all at once."""

from __future__ import annotations

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
        raise UsageError(f"no params file params/{env}.yaml (environments: {choices}); create it or fix ENV=")
    return [env]


def validate(paths: Paths, envs: list[str]):
    """Load every environment; raise one ParamsError with the problems of all of them."""
    from mmtool.config.loader import load_params

    loaded, problems = {}, []
    for env in envs:
        try:
            loaded[env] = load_params(paths.params / f"{env}.yaml", paths.root)
        except ParamsError as exc:
            problems.extend(exc.problems)
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
