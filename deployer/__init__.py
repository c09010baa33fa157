"""The deploy engine: plan, deploy, destroy, drift and outputs of a built environment.

It reads ``build/<env>/manifest.json`` (written by the build) and the templates, parameter files and
assets it lists, and talks to AWS through boto3 clients (:mod:`deployer.aws`). It never imports
troposphere: the build produces plain JSON and this package only reads it (a test keeps that boundary).

Layout, one module per job: ``manifest`` (read and check the build), ``aws`` (clients, retries, roles,
account), ``compare`` (no-change detection), ``changesets``, ``plan``, ``deploy``, ``destroy``, ``drift``,
``outputs``, ``events`` (waiting and failure reasons), ``graph`` (dependency order, Ctrl-C), ``lock`` (one run
at a time per environment), ``cli`` (with ``flags``, the flags ``mmtool``'s verbs share, and ``tool_error``, the base
of every error a user can cause, ``mmtool``'s too).
"""

from __future__ import annotations

from typing import Any

__all__ = ["DeployError"]


def __getattr__(name: str) -> Any:
    """``deployer.DeployError`` on first use: importing ``deployer.exit_codes`` (as mmtool.errors does for
    every command) must not load botocore."""
    if name == "DeployError":
        from .errors import DeployError

        return DeployError
    raise AttributeError(f"module 'deployer' has no attribute {name!r}")
