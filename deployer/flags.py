"""The flags the engine's verbs and ``mmtool``'s verbs share, each spelled once: its names, type, default, destination
and help. A verb adds one with :func:`add_flag` (``add_flag(parser, "profile")``), never with ``add_argument``
(tests/test_shared_flags.py refuses that anywhere but here). A verb may say what the flag does for it
(``use=...``), which follows the shared help after "; ".

Standard library only, so registering ``mmtool``'s commands loads no botocore.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Flag:
    names: tuple[str, ...]
    help: str
    options: dict[str, Any] = field(default_factory=dict)  # add_argument's: action, type, default, metavar, dest


SHARED: dict[str, Flag] = {
    "profile": Flag(("--profile",), "AWS profile (default: AWS_PROFILE / the default chain)", {"default": None}),
    "endpoint-url": Flag(("--endpoint-url",), "send every AWS call to this endpoint (a local moto server); "
                         "AWS_ENDPOINT_URL works too", {"default": None}),
    "skip-account-check": Flag(("--skip-account-check",), "do not refuse when the credentials' account differs from "
                               "account_id in params (printed loudly)", {"action": "store_true"}),
    "yes": Flag(("--yes", "-y"), "do not ask for confirmation (CI; AUTO_APPROVE=1)", {"action": "store_true"}),
    "wait-for-lock": Flag(("--wait-for-lock",), "when another run holds the environment's lock, wait up to SECONDS "
                          "for it (default 0: fail at once)", {"type": float, "default": 0.0, "metavar": "SECONDS"}),
    "endpoint": Flag(("--endpoint",), "a fleet endpoint: its key under endpoints: in params (ENDPOINT=KEY)",
                     {"default": None, "metavar": "KEY"}),
    "json": Flag(("--json",), "print JSON on stdout (messages go to stderr)",
                 {"action": "store_true", "dest": "json_output"}),
}


def add_flag(parser: argparse.ArgumentParser, name: str, *, use: str | None = None, hidden: bool = False) -> None:
    """Add the shared flag ``name`` (a key of :data:`SHARED`) to ``parser``. ``use``: what it does for this verb,
    after the shared help; ``hidden``: accepted but not shown in ``--help`` (a verb that refuses it with the
    reason)."""
    flag = SHARED[name]
    text = argparse.SUPPRESS if hidden else flag.help + (f"; {use}" if use else "")
    parser.add_argument(*flag.names, help=text, **flag.options)
