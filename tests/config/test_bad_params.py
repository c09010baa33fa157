"""A corpus of malformed params files (tests/bad_params/): each is refused by the CLI with exit code 2 and
one readable line naming the file and the field, no traceback, nothing written under build/.

Each file but the empty one says what is wrong with it and what the error must say, in a header:
    # <what is wrong>
    # expect: <field> | <fragment of the message>
(an empty field means the problem is the file as a whole, e.g. a YAML syntax error).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
from pathlib import Path

import pytest

from mmtool.cli import main
from tests.conftest import REPO, scratch_root

CORPUS = REPO / "tests" / "bad_params"
FILES = sorted(CORPUS.glob("*.yaml"))
HEADER = re.compile(rb"^# expect: (.*?) \| (.*)$", re.MULTILINE)


def build_or_fail(paths, blocked: str) -> int:
    """`build --env dev`, failing the test with `blocked` if it has not returned within 30 s."""
    def hung(signum, frame):
        raise AssertionError(blocked)

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(30)
    try:
        return main(["build", "--env", "dev"], paths=paths)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def expectation(path: Path) -> tuple[str, str]:
    raw = path.read_bytes()
    if not raw:
        return "", "the file is empty"
    match = HEADER.search(raw[:1000])
    assert match, f"{path.name}: no '# expect: <field> | <fragment>' header"
    return match.group(1).decode().strip(), match.group(2).decode().strip()


def test_corpus_is_large_and_covers_every_kind_of_bad_input():
    assert len(FILES) >= 40
    names = {p.stem for p in FILES}
    for kind in ("schedule-", "yaml-", "type-", "key-", "hostile-", "meta-"):
        assert any(n.startswith(kind) for n in names), kind
    for required in ("empty", "not-utf8", "huge", "hostile-alias-bomb", "key-misspelt-nested"):
        assert required in names, required
    assert (CORPUS / "huge.yaml").stat().st_size > 256 * 1024
    with pytest.raises(UnicodeDecodeError):
        (CORPUS / "not-utf8.yaml").read_bytes().decode("utf-8")


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_bad_params_file_gives_one_readable_error_and_exit_2(path, tmp_path, capsys):
    field, fragment = expectation(path)
    paths = scratch_root(tmp_path)
    shutil.copyfile(path, paths.params / "dev.yaml")
    code = main(["build", "--env", "dev"], paths=paths)
    out, err = capsys.readouterr()
    assert code == 2, err
    assert "Traceback" not in err and not out
    assert err.count("\n") == 1, f"expected one line:\n{err}"
    assert "dev.yaml" in err, err
    if field:
        assert f": {field}=" in err or f": {field}:" in err, f"field {field!r} not named in: {err}"
    assert fragment in err, err
    assert not paths.build.exists(), "a bad params file must not write anything under build/"


# --- params files that are not regular files (they cannot live in the corpus: git keeps none of them) --------

def _fifo(path: Path) -> None:
    os.mkfifo(path)


SPECIAL_FILES = {
    "symlink-to-dev-zero": (lambda p: p.symlink_to("/dev/zero"), "not a regular file but a character device"),
    "fifo": (_fifo, "not a regular file but a named pipe (FIFO)"),
    "directory": (lambda p: p.mkdir(), "not a regular file but a directory"),
    "symlink-to-directory": (lambda p: p.symlink_to(p.parent), "not a regular file but a directory"),
    "dangling-symlink": (lambda p: p.symlink_to(p.parent / "nowhere.yaml"), "file not found"),
    "symlink-loop": (lambda p: p.symlink_to(p), "cannot read the file"),
}


@pytest.mark.parametrize("kind", sorted(SPECIAL_FILES))
def test_a_params_file_that_is_not_a_regular_file_is_refused_without_reading_it(kind, tmp_path, capsys):
    make, fragment = SPECIAL_FILES[kind]
    paths = scratch_root(tmp_path)
    target = paths.params / "dev.yaml"
    target.unlink()
    make(target)

    # reading /dev/zero or opening a FIFO without a writer never returns
    code = build_or_fail(paths, f"{kind}: the loader blocked instead of refusing the file")
    out, err = capsys.readouterr()
    assert code == 2 and not out and "Traceback" not in err and err.count("\n") == 1, err
    assert "dev.yaml" in err and fragment in err, err
    assert not paths.build.exists()


def test_a_regular_file_behind_a_symlink_is_read(tmp_path, capsys):
    paths = scratch_root(tmp_path)
    real = paths.root / "elsewhere.yaml"
    (paths.params / "dev.yaml").rename(real)
    (paths.params / "dev.yaml").symlink_to(real)
    assert main(["validate", "--env", "dev"], paths=paths) == 0, capsys.readouterr().err


SPECIAL_SCRIPTS = {
    "directory": (lambda p: p.mkdir(), "not a regular file but a directory"),
    "symlink-to-dev-zero": (lambda p: p.symlink_to("/dev/zero"), "not a regular file but a character device"),
    "fifo": (_fifo, "not a regular file but a named pipe (FIFO)"),
    "too-large": (lambda p: p.write_bytes(b"#" * (1024 * 1024 + 1)), "a script the jobs load is at most 1048576"),
}


@pytest.mark.parametrize("kind", sorted(SPECIAL_SCRIPTS))
def test_a_script_that_is_not_a_regular_file_is_refused_at_validation(kind, tmp_path, capsys):
    make, fragment = SPECIAL_SCRIPTS[kind]
    paths = scratch_root(tmp_path)
    make(paths.root / "scripts" / "special.py")
    params = paths.params / "dev.yaml"
    params.write_text(params.read_text().replace("record_preprocessor: scripts/record_preprocessor.py",
                                                 "record_preprocessor: scripts/special.py"))
    code = build_or_fail(paths, f"{kind}: the build blocked instead of refusing the script")
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "monitoring.data_quality.record_preprocessor" in err, err
    assert fragment in err, err
    assert not paths.build.exists()
