"""Fixtures of the security tests: the scanners (installed by the Makefile) and one scan of every environment."""

from __future__ import annotations

import pytest

from mmtool.errors import ToolError
from mmtool.security import Report, Subject, load_subjects, scan
from mmtool.security import scanners
from tests.conftest import REPO


@pytest.fixture(scope="session")
def tools() -> None:
    """Fail, loudly, when the scanners are missing: a security gate that silently skips is no gate."""
    try:
        scanners.checkov_executable(REPO)
        scanners.guard_binary(scanners.guard_package(REPO))
    except ToolError as exc:
        pytest.fail(f"{exc} (`make test` installs them; a bare `pytest` needs `make security-tools` once)",
                    pytrace=False)


@pytest.fixture(scope="session")
def subjects(built) -> list[Subject]:
    return load_subjects(built.build, built.environments())


@pytest.fixture(scope="session")
def report(tools, subjects) -> Report:
    """checkov, cfn-guard and our checks over every template of every environment, once per session."""
    return scan(subjects, REPO)


@pytest.fixture(scope="session")
def dev(subjects) -> dict[str, Subject]:
    return {s.stack: s for s in subjects if s.environment == "dev"}
