"""Skip a build whose inputs and outputs are exactly as the last successful build left them.

The fingerprint covers everything a build reads: the environment's params file, the code that turns
it into templates (mmtool/, templates/, scripts/), the pinned requirements, the versions of the
libraries that shape the output and Python itself. The outputs are checked too: a hand-edited or
deleted file under build/<env>/ forces a rebuild.
"""

from __future__ import annotations

import hashlib
import json
import sys
from importlib.metadata import version
from pathlib import Path

LIBRARIES = ("troposphere", "awacs", "cfn-lint", "pydantic", "PyYAML")
SOURCE_DIRS = ("mmtool", "templates", "scripts")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def inputs(root: Path, env: str) -> str:
    digest = hashlib.sha256()
    files = [root / "params" / f"{env}.yaml", root / "requirements.txt"]
    for folder in SOURCE_DIRS:
        files += sorted(p for p in (root / folder).rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    for path in files:
        digest.update(f"{path.relative_to(root)}\0{_digest(path) if path.exists() else '-'}\n".encode())
    versions = [sys.version] + [f"{name}=={version(name)}" for name in LIBRARIES]
    digest.update(json.dumps(versions).encode())
    return digest.hexdigest()


# Written into build/<env>/ by other commands, not by the build: `make dry-run` results.
NOT_OUTPUTS = ("dry-run",)


def outputs(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): _digest(p) for p in sorted(folder.rglob("*"))
            if p.is_file() and p.relative_to(folder).parts[0] not in NOT_OUTPUTS}


def digests(files: dict[str, bytes]) -> dict[str, str]:
    """What `outputs` reads from a folder holding exactly `files` (relative path -> bytes), without reading it. A
    content that several files share (one bytes object: a fleet's endpoints load the same scripts) is hashed once."""
    hashed: dict[int, str] = {}
    for content in files.values():
        if id(content) not in hashed:
            hashed[id(content)] = hashlib.sha256(content).hexdigest()
    return {path: hashed[id(files[path])] for path in sorted(files, key=Path)}


def record_path(cache: Path, env: str) -> Path:
    return cache / "build" / f"{env}.json"


def up_to_date(root: Path, cache: Path, build: Path, env: str, linted: bool) -> bool:
    """Whether build/<env>/ is what a build of the current inputs would write, linted when `linted` asks for it (a
    linted build serves an unlinted request: `make build` after `make lint` does nothing; never the other way)."""
    record = record_path(cache, env)
    if not record.exists() or not (build / env / "manifest.json").exists():
        return False
    try:
        saved = json.loads(record.read_text())
    except ValueError:
        return False
    if linted and saved.get("linted") is not True:
        return False
    return saved.get("inputs") == inputs(root, env) and saved.get("outputs") == outputs(build / env)


def remember(root: Path, cache: Path, build: Path, env: str, linted: bool, written: dict[str, bytes]) -> None:
    """Record a successful build of `env`; `written`: the files it wrote to build/<env>/ (relative path -> bytes)."""
    record = record_path(cache, env)
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps({"inputs": inputs(root, env), "linted": linted, "outputs": digests(written)}))


def forget(cache: Path, env: str) -> None:
    record_path(cache, env).unlink(missing_ok=True)
