"""The exit codes of the whole tool (``mmtool``, ``build.py``, ``python -m deployer``): one table, here.

Every error a user can cause is a :class:`deployer.tool_error.ToolError` (the engine's in :mod:`deployer.errors`,
the tool's in :mod:`mmtool.errors`) and takes its code from this module, and docs/deploying.md ('Exit codes') shows the same table (tests/test_cli.py compares them).
It imports nothing, so ``build.py build`` can read it without loading botocore.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_INPUT = 2
EXIT_REFUSED = 3
EXIT_TIMEOUT = 4
EXIT_DRIFTED = 5
EXIT_LOCKED = 6
EXIT_INTERRUPTED = 130
#: ``plan --detailed-exitcode`` (Terraform's ``-detailed-exitcode``): the plan has changes. Under that flag
#: an error that would exit 2 (bad input, a wrong command line) exits 1 instead, so 2 means changes only.
EXIT_CHANGES = 2

#: code -> meaning, in the order docs/deploying.md lists them.
TABLE: dict[int, str] = {
    EXIT_OK: "done (including \"no changes\")",
    EXIT_FAILED: "an AWS call or a stack operation failed (the message has AWS's code and words, and the next step)",
    EXIT_INPUT: "invalid input: params, manifest, template or parameter files, the command line; no usable "
                "credentials. With `plan --detailed-exitcode`: the plan has changes (invalid input exits 1 then)",
    EXIT_REFUSED: "refused before any change: wrong account, protected resource replaced, termination protection, "
                  "a state that needs a flag, confirmation not given, a stale saved plan",
    EXIT_TIMEOUT: "`--wait-timeout` reached (nothing cancelled)",
    EXIT_DRIFTED: "`drift`: something drifted",
    EXIT_LOCKED: "another run holds the environment's lock (at once, or still after `--wait-for-lock`); nothing "
                 "was changed",
    EXIT_INTERRUPTED: "Ctrl-C (nothing cancelled)",
}
