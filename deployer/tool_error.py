"""The base of every error a user can cause, in the deploy engine and in ``mmtool`` alike: one family.

A :class:`ToolError` carries its exit code (from the tool's one table, :mod:`deployer.exit_codes`) and a message
for a person: what went wrong, where (a file and line, a field, a flag, a stack) and how to fix it. Each CLI has one
boundary that catches this base, prints ``str(error)`` on stderr and exits with ``error.exit_code``: ``mmtool``'s
``main`` (``mmtool/cli/__init__.py``) and ``python -m deployer``'s ``boundary`` (``deployer/cli.py``); ``--debug``
re-raises instead so the traceback is visible.

It lives here, in the engine, because that is the lowest layer both may import (``deployer/`` never imports
``mmtool``; tests/test_layout.py), and it imports nothing but the table, so ``build.py build`` loads no botocore.
The engine's errors derive from it in :mod:`deployer.errors` (``DeployError`` and its kinds), the tool's in
:mod:`mmtool.errors` (``ParamsError``, ``UsageError``, ``LintError``) and in the job modules.
"""

from __future__ import annotations

from .exit_codes import EXIT_FAILED


class ToolError(Exception):
    """An error the user can act on. ``str()`` is the whole message; no traceback is shown.

    ``ToolError(message)`` takes the message as written; ``ToolError(what, where=..., fix=...)`` composes it as
    ``<where>: <what>`` and, on its own line, ``Next: <fix>`` (the engine's and the operate verbs' way of
    saying what to do). ``exit_code`` overrides the class's code for this one error (an engine error passed
    on with its own code, a wait that ends in Ctrl-C)."""

    exit_code = EXIT_FAILED

    def __init__(self, what: str, exit_code: int | None = None, *, where: str | None = None,
                 fix: str | None = None) -> None:
        self.what, self.where, self.fix = what, where, fix
        super().__init__(f"{where}: {what}" if where else what)
        if exit_code is not None:
            self.exit_code = exit_code

    def __str__(self) -> str:
        message = super().__str__()
        return f"{message}\nNext: {self.fix}" if self.fix else message
