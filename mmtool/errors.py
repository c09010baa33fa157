"""The tool's errors: the params file's problems, a wrong command line, lint findings.

They belong to the one error family of the whole tool, whose base `ToolError` (its exit code, its
what/where/fix message) is `deployer.tool_error`'s, shared with the deploy engine's `DeployError`. The CLI
(`mmtool.cli`) is the single place that turns a `ToolError` into text on stderr and an exit code; `--debug`
re-raises instead so the traceback is visible. The codes are the tool's one table, `deployer.exit_codes`
(shown in docs/deploying.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from deployer.exit_codes import EXIT_FAILED, EXIT_INPUT, EXIT_INTERRUPTED, EXIT_TIMEOUT  # noqa: F401 (imported from here)
from deployer.tool_error import ToolError



@dataclass(frozen=True)
class Problem:
    """One problem in a params file: where it is, what is wrong and how to fix it."""

    file: str
    field: str
    message: str
    value: object = None
    line: int | None = None
    show_value: bool = True

    def render(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        field = self.field or "(top level)"
        if self.show_value:
            return _one_line(f"{where}: {field}={_short(self.value)}: {self.message}")
        return _one_line(f"{where}: {field}: {self.message}")


def _one_line(text: str) -> str:
    """Escape control and other non-printable characters (a key or value may hold a newline): one line each."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _short(value: object, limit: int = 80) -> str:
    text = repr(value) if not isinstance(value, str) else value
    text = text.replace("\n", "\\n")
    return text if len(text) <= limit else text[: limit - 3] + "..."


class ParamsError(ToolError):
    """A params file failed to load or validate. Carries one `Problem` per problem."""

    exit_code = EXIT_INPUT

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(p.render() for p in problems))


class UsageError(ToolError):
    """The command line itself is wrong: an unknown environment, a missing option."""

    exit_code = EXIT_INPUT


class LintError(ToolError):
    """cfn-lint reported findings for generated templates."""
