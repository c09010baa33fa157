"""`mmtool lint` forks its cfn-lint process before anything else (mmtool.generate.lint.prestart): its build takes
it, and whatever way the command ends without linting, the process is ended and reaped, never left behind.
`mmtool build`, which does not lint, forks nothing."""

from __future__ import annotations

import os

import pytest

from mmtool.cli import main
from mmtool.generate import lint
from mmtool.generate.lint import Linter


@pytest.fixture
def started(monkeypatch) -> list[int]:
    pids: list[int] = []
    real = Linter.start.__func__

    def start(cls):
        linter = real(cls)
        if linter._pid is not None:
            pids.append(linter._pid)
        return linter

    monkeypatch.setattr(Linter, "start", classmethod(start))
    return pids


def gone(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True  # already reaped
    return False


def test_the_build_lints_with_the_prestarted_process_and_an_up_to_date_one_ends_it(scratch, started, capsys,
                                                                                   monkeypatch):
    given = []

    def recording_lint(jobs, cache_dir=None, linter=None):  # the build's lint call: which process it was handed
        given.append(linter._pid)
        linter.stop()  # the linting itself is tests/generate/test_build.py's
        return []

    monkeypatch.setattr(lint, "lint", recording_lint)
    assert main(["lint", "--env", "dev"], paths=scratch) == 0
    assert given == started[:1] and len(set(started)) == 1  # one process: the one forked first
    assert all(map(gone, started))  # and reaped
    assert main(["lint", "--env", "dev"], paths=scratch) == 0
    assert "up to date" in capsys.readouterr().out
    assert len(set(started)) == 2 and all(map(gone, started)) and lint._prestarted == []


def test_nothing_is_forked_first_when_every_environment_is_up_to_date(scratch, started, monkeypatch, capsys):
    monkeypatch.setattr(lint, "lint", lambda jobs, cache_dir=None, linter=None: linter.stop() or [])
    assert main(["lint"], paths=scratch) == 0
    assert len(started) == 2  # the prestarted process, taken by the build
    assert main(["lint"], paths=scratch) == 0 and capsys.readouterr().out.count("up to date") == 3
    assert len(started) == 2 and all(map(gone, started)) and lint._prestarted == []


def test_an_error_or_help_ends_the_prestarted_process(scratch, started, capsys):
    assert main(["lint", "--env", "nowhere"], paths=scratch) != 0
    with pytest.raises(SystemExit):
        main(["lint", "--help"], paths=scratch)
    assert len(started) == 2 and all(map(gone, started)) and lint._prestarted == []


def test_other_commands_fork_nothing_first(scratch, started):
    assert main(["build", "--env", "dev"], paths=scratch) == 0
    assert main(["validate", "--env", "dev"], paths=scratch) == 0
    assert started == []
