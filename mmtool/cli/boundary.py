"""The tool's one error boundary: `mmtool`'s `main`, `python -m mmtool.cli.demo` and `python -m mmtool.cli.local`
run their work through `boundary`. (`python -m deployer` has the engine's own, `deployer.cli.boundary`, for the
same base.)"""

from __future__ import annotations

import os
import sys
from typing import Callable

from mmtool.errors import EXIT_FAILED, EXIT_INPUT, EXIT_INTERRUPTED, ToolError


def boundary(run: Callable[[], int], *, debug: bool = False, detailed: bool = False) -> int:
    """The tool's one error boundary (also of `python -m mmtool.cli.demo` and `.local`): a `ToolError`, the base of
    every error a user can cause (the engine's `DeployError` included), becomes its message on stderr and its exit
    code; Ctrl-C exits 130. `debug` (`--debug`, MM_DEBUG=1) re-raises; `detailed` (`plan --detailed-exitcode`)
    turns bad input's 2 into 1."""
    debug = debug or os.environ.get("MM_DEBUG") == "1"
    try:
        return run()
    except ToolError as exc:
        if debug:
            raise
        print(str(exc), file=sys.stderr)
        return EXIT_FAILED if detailed and exc.exit_code == EXIT_INPUT else exc.exit_code
    except KeyboardInterrupt:
        if debug:
            raise
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
