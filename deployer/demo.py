"""``make demo``: deploy an environment to a local moto server, end to end, with nothing leaving the
machine.

    python -m deployer.demo --manifest build/dev/manifest.json

It starts moto on 127.0.0.1 (a free port) with fake credentials, deploys every stack of the manifest,
deploys again to show that an unchanged build creates no change set ("No changes."), prints the outputs,
and stops the server. moto always answers as account 123456789012, so the demo passes
``--skip-account-check`` — and says so — when the manifest expects another account.

What moto does not do (so what the demo cannot show): it accepts the SageMaker monitoring resources and
the bucket policy without creating anything, and it has no drift detection; see docs/deploying.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from . import cli
from .errors import DeployError
from .manifest import load_manifest
from .moto_server import FAKE_CREDENTIALS, MOTO_ACCOUNT, MotoServer

_SCRUB = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deployer.demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--manifest", type=Path, default=Path("build/dev/manifest.json"))
    parser.add_argument("--debug", action="store_true")
    args = parser.parse_args(argv)
    console = Console(highlight=False)

    # Never let the demo reach a real account: fake credentials, no profile, the endpoint pinned below.
    for name in _SCRUB:
        os.environ.pop(name, None)
    os.environ.update(FAKE_CREDENTIALS)
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"

    def demo() -> int:
        manifest = load_manifest(args.manifest)
        expected = manifest.model.account_id
        with MotoServer() as server:
            console.rule(f"[bold]make demo[/]: {escape(manifest.project)} {escape(manifest.environment)} on a local moto server")
            console.print(f"moto listens on {server.url} (fake credentials; nothing leaves this machine)")
            skip = bool(expected and expected != MOTO_ACCOUNT)
            if skip:
                console.print(
                    f"[yellow]The manifest expects account {escape(expected or '')}; moto is always {MOTO_ACCOUNT}, "
                    "so the demo deploys with --skip-account-check.[/]"
                )
            common = {"endpoint_url": server.url, "skip_account_check": skip, "console": console,
                      "resume_command": f"python -m deployer.demo --manifest {args.manifest}"}
            try:
                for step, title in ((1, "first deploy: every stack is created"),
                                    (2, "deploy again with nothing changed: no change set at all")):
                    console.rule(f"{step}. {title}")
                    started = time.monotonic()
                    cli.deploy(args.manifest, yes=True, poll_interval=0.2, show_outputs=False, **common)
                    console.print(f"[dim]step {step} took {time.monotonic() - started:.1f}s[/]")
                console.rule("3. outputs")
                cli.outputs(args.manifest, endpoint_url=server.url, console=console)
            except DeployError:
                console.print("[dim]last lines of the moto server's log:[/]")
                console.print(escape(server.log_tail(20)), style="dim")
                raise
            console.rule("done: the moto server is stopped, everything it held is gone")
        return 0

    return cli.boundary(demo, debug=args.debug)


if __name__ == "__main__":
    sys.exit(main())
