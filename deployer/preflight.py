"""Checks that run before any command touches a stack: credentials, account, region."""

from __future__ import annotations

import os

from rich.markup import escape

from .aws import Identity, check_account
from .context import Context
from .local import local_endpoint


def preflight(ctx: Context) -> Identity:
    """sts:GetCallerIdentity must work and return the expected account (unless explicitly skipped)."""
    m = ctx.manifest
    expected = m.model.account_id
    identity = check_account(ctx.clients, expected, skip=ctx.options.skip_account_check)
    local = local_endpoint(ctx.clients.endpoint_url)
    if local and expected and identity.account != expected:
        ctx.reporter.print(f"[bold yellow]! local moto server (make local-up, {escape(local)}):[/] account "
                           f"{identity.account}, not {escape(expected)}: the account check does not apply")
    elif ctx.options.skip_account_check and expected and identity.account != expected:
        ctx.reporter.print(
            f"[bold yellow]! account check skipped (--skip-account-check):[/] using account {identity.account}, "
            f"the environment expects {escape(expected)}"
        )
    where = f"account {identity.account} ({escape(identity.arn)}), region {escape(m.region)}"
    endpoint = ctx.clients.endpoint_url or os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        where += f", endpoint {escape(endpoint)}"
    ctx.reporter.print(f"[dim]{escape(m.project)} {escape(m.environment)} → {where}[/]")
    return identity
