"""Which tool this is: the version (pyproject.toml's `[project] version`, the one place it is written) and the
commit it runs from, for `mmtool --version` and the name of the hand-off bundle.

The commit comes from `git describe --tags --always --dirty` in a clone. A copy without git metadata made by
`git archive` (a release tarball, GitHub's "Download ZIP") carries it in `.git_archival.txt`, which git fills in
when it writes the archive (`export-subst` in .gitattributes; https://git-scm.com/docs/gitattributes#_export_subst).
Any other copy has no commit to tell, and says so rather than inventing one.
"""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

from mmtool.config.workspace import REPO_ROOT

ARCHIVAL_FILE = ".git_archival.txt"
DISTRIBUTION = "model-monitor-deployer"  # pyproject.toml's [project] name


def project_version(root: Path = REPO_ROOT) -> str:
    """pyproject.toml's version; the installed distribution's when the file is not there; else "unknown"."""
    try:
        return tomllib.loads((root / "pyproject.toml").read_text())["project"]["version"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        pass
    from importlib import metadata

    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "unknown"


def describe(root: Path = REPO_ROOT) -> str | None:
    """`git describe --tags --always --dirty` of the clone at `root`; the archived commit of a `git archive`
    copy; None when neither says."""
    try:
        result = subprocess.run(["git", "describe", "--tags", "--always", "--dirty"], cwd=root,
                                capture_output=True, text=True, timeout=30)
        if result.returncode == 0 and result.stdout.strip():
            return result.stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        pass
    return archived_commit(root)


def archived_commit(root: Path) -> str | None:
    """The `describe:` (or else the short `commit:`) line of `.git_archival.txt`, once `git archive` filled it."""
    try:
        lines = (root / ARCHIVAL_FILE).read_text().splitlines()
    except OSError:
        return None
    fields = dict(line.split(":", 1) for line in lines if ":" in line)
    for key, length in (("describe", None), ("commit", 7)):
        value = fields.get(key, "").strip()
        if value and "$Format" not in value and "%" not in value:
            return value[:length] if length else value
    return None


def version_line(prog: str, root: Path = REPO_ROOT) -> str:
    """What `--version` prints: `mmtool 0.1.0 (commit 7822456-dirty)`."""
    commit = describe(root)
    return f"{prog} {project_version(root)} ({f'commit {commit}' if commit else 'commit unknown: not a git clone'})"
