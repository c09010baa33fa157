"""``make demo``: the whole lifecycle of an environment on a local moto server, with nothing leaving the
machine.

    python -m deployer.demo --manifest build/dev/manifest.json [--changed-manifest <other build>/manifest.json]

It starts moto on 127.0.0.1 (a free port) with fake credentials, then:

1. deploys every stack of the manifest;
2. deploys again: an unchanged build creates no change set at all ("No changes.");
3. prints the outputs, and writes a data-capture file into the bucket, as the endpoint would;
4. plans the changed build (``--changed-manifest``: the same environment with one job setting changed,
   which ``python -m mmtool.cli.demo`` builds): the job definition is replaced, the plan shows ``±``;
5. deploys that change;
6. destroys the environment;
7. shows that the bucket, every object in it and the KMS key are still there (DeletionPolicy Retain).

Without ``--changed-manifest`` steps 4 and 5 are left out. moto always answers as account 123456789012, so
the demo passes ``--skip-account-check`` — and says so — when the manifest expects another account. It
runs ``deployer.moto_server``, which fixes the places where moto answers unlike AWS in a way that matters
here (see that module).

What moto does not do (so what the demo cannot show): it accepts the SageMaker monitoring resources and
the bucket policy without creating anything, and it has no drift detection; see docs/deploying.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable

from rich.console import Console
from rich.markup import escape

from . import cli
from .aws import make_clients
from .errors import AWS_ERRORS, DeployError
from .manifest import load_manifest
from .moto_server import FAKE_CREDENTIALS, MOTO_ACCOUNT, MotoServer
from .reporter import make_console

_SCRUB = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE")

# One record in the format SageMaker's data capture writes (one JSON line per request).
CAPTURE_RECORD = {
    "captureData": {
        "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT", "data": "9,45,45,42,7,5,0", "encoding": "CSV"},
        "endpointOutput": {"observedContentType": "text/csv", "mode": "OUTPUT", "data": "0.302709460258", "encoding": "CSV"},
    },
    "eventMetadata": {"eventId": "74b0dd56-e7c8-368e-94b1-14a138a96000", "inferenceTime": "2026-11-25T10:15:00Z"},
    "eventVersion": "0",
}


def capture_key(prefix: str, endpoint_name: str, variant: str = "AllTraffic") -> str:
    """Where SageMaker writes capture files: <prefix>/<endpoint>/<variant>/yyyy/mm/dd/hh/<name>.jsonl."""
    return f"{prefix}/{endpoint_name}/{variant}/2026/11/25/10/15-00-000-demo.jsonl"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deployer.demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--manifest", type=Path, default=Path("build/dev/manifest.json"))
    parser.add_argument("--changed-manifest", type=Path, default=None,
                        help="the same environment built with a change (python -m mmtool.cli.demo makes one)")
    parser.add_argument("--debug", action="store_true")
    args = parser.parse_args(argv)
    console = make_console()

    # Never let the demo reach a real account: fake credentials, no profile, the endpoint pinned below.
    for name in _SCRUB:
        os.environ.pop(name, None)
    os.environ.update(FAKE_CREDENTIALS)
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"

    return cli.boundary(lambda: lifecycle(args.manifest, args.changed_manifest, console), debug=args.debug)


def lifecycle(manifest_path: Path, changed_path: Path | None, console: Console) -> int:
    manifest = load_manifest(manifest_path)
    if changed_path is not None:
        changed = load_manifest(changed_path)
        if (changed.project, changed.environment) != (manifest.project, manifest.environment):
            raise DeployError(
                f"{changed_path}: builds {changed.project} {changed.environment}, not "
                f"{manifest.project} {manifest.environment}; give a changed build of the same environment"
            )
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
        resume = f"python -m deployer.demo --manifest {manifest_path}"
        common: dict[str, Any] = {"endpoint_url": server.url, "skip_account_check": skip, "console": console}
        clients = make_clients(manifest.region, endpoint_url=server.url)
        steps: list[tuple[str, Callable[[], Any]]] = [
            ("first deploy: every stack is created",
             lambda: cli.deploy(manifest_path, yes=True, poll_interval=0.2, show_outputs=False, resume_command=resume, **common)),
            ("deploy again with nothing changed: no change set at all",
             lambda: cli.deploy(manifest_path, yes=True, poll_interval=0.2, show_outputs=False, resume_command=resume, **common)),
            ("outputs, and a data-capture file written into the bucket as the endpoint would",
             lambda: (cli.outputs(manifest_path, endpoint_url=server.url, console=console),
                      _write_capture(clients, manifest, console))),
        ]
        if changed_path is not None:
            steps += [
                ("plan a change to the data-quality job: its job definition is replaced (±)",
                 lambda: cli.plan(changed_path, poll_interval=0.2, **common)),
                ("deploy the change",
                 lambda: cli.deploy(changed_path, yes=True, poll_interval=0.2, show_outputs=False, resume_command=resume, **common)),
            ]
        kept: dict[str, Any] = {}
        steps += [
            ("destroy: every stack is deleted, the data is kept",
             lambda: (kept.update(_retained(clients, manifest)),
                      cli.destroy(manifest_path, yes=True, poll_interval=0.2, resume_command=resume, **common))),
            ("after the destroy: the bucket, its objects and the key are still there",
             lambda: _show_kept(clients, manifest, kept, console)),
        ]
        try:
            for number, (title, step) in enumerate(steps, start=1):
                console.rule(f"{number}. {title}")
                started = time.monotonic()
                try:
                    step()
                except AWS_ERRORS as exc:  # the demo's own S3/KMS/CloudFormation reads and writes
                    raise DeployError(f"demo step {number} ({title}): {type(exc).__name__}: {exc}; "
                                      "the moto server's log follows") from exc
                console.print(f"[dim]step {number} took {time.monotonic() - started:.1f}s[/]")
        except DeployError:
            console.print("[dim]last lines of the moto server's log:[/]")
            console.print(escape(server.log_tail(20)), style="dim")
            raise
        console.rule("done: the moto server is stopped, everything it held is gone")
    return 0


def _foundation_outputs(clients: Any, manifest: Any) -> dict[str, str]:
    return _outputs(clients, manifest, "foundation")


def _outputs(clients: Any, manifest: Any, name: str) -> dict[str, str]:
    stack = next((s for s in manifest.stacks if s.name == name), None)
    if stack is None:
        return {}
    try:
        found = clients.cloudformation.describe_stacks(StackName=stack.stack_name)["Stacks"][0]
    except AWS_ERRORS as exc:
        raise DeployError(f"{stack.stack_name}: DescribeStacks failed: {exc}") from exc
    return {o["OutputKey"]: o["OutputValue"] for o in found.get("Outputs", [])}


def _write_capture(clients: Any, manifest: Any, console: Console) -> None:
    outputs = _foundation_outputs(clients, manifest)
    bucket, key_arn = outputs["BucketName"], outputs["KmsKeyArn"]
    deployed = _outputs(clients, manifest, "endpoint")
    endpoint = deployed.get("EndpointName", f"{manifest.project}-{manifest.environment}")
    # the endpoint stack's capture destination, s3://<bucket>/<capture prefix>: the prefix as the build laid it out
    destination = deployed.get("CaptureDestination", f"s3://{bucket}/")
    key = capture_key(destination.split("/", 3)[3] if destination.count("/") >= 3 else "", endpoint).lstrip("/")
    clients.s3.put_object(Bucket=bucket, Key=key, Body=(json.dumps(CAPTURE_RECORD) + "\n").encode(),
                          ServerSideEncryption="aws:kms", SSEKMSKeyId=key_arn)
    console.print(f"wrote s3://{escape(bucket)}/{escape(key)} (SSE-KMS with the project key)")


def _objects(clients: Any, bucket: str) -> list[str]:
    paginator = clients.s3.get_paginator("list_objects_v2")
    return sorted(o["Key"] for page in paginator.paginate(Bucket=bucket) for o in page.get("Contents", []))


def _retained(clients: Any, manifest: Any) -> dict[str, Any]:
    outputs = _foundation_outputs(clients, manifest)
    return {"bucket": outputs["BucketName"], "key_arn": outputs["KmsKeyArn"],
            "objects": _objects(clients, outputs["BucketName"])}


def _show_kept(clients: Any, manifest: Any, kept: dict[str, Any], console: Console) -> None:
    """After destroy: no stack is left, the bucket holds exactly what it held before, the key exists."""
    live = [s.stack_name for s in manifest.stacks
            if any(st["StackStatus"] != "DELETE_COMPLETE"
                   for st in clients.cloudformation.describe_stacks()["Stacks"] if st["StackName"] == s.stack_name)]
    bucket, key_arn = kept["bucket"], kept["key_arn"]
    objects = _objects(clients, bucket)
    # (moto stores a template's KeyPolicy in a shape its DescribeKey then fails on: ListKeys finds the key)
    keys = {k["KeyArn"] for k in clients.client("kms").list_keys()["Keys"]}
    console.print(f"stacks left: {', '.join(live) if live else 'none'}")
    console.print(f"bucket s3://{escape(bucket)}: still there, {len(objects)} objects")
    for key in objects:
        console.print(f"  {escape(key)}")
    console.print(f"KMS key {escape(key_arn)}: {'still there' if key_arn in keys else 'MISSING'}")
    problems = []
    if live:
        problems.append(f"stacks still there: {', '.join(live)}")
    if objects != kept["objects"]:
        problems.append(f"the bucket's objects changed: before {kept['objects']}, after {objects}")
    if key_arn not in keys:
        problems.append(f"the KMS key {key_arn} is gone")
    if problems:
        raise DeployError("demo: the destroy did not keep the data as it must: " + "; ".join(problems))


if __name__ == "__main__":
    sys.exit(main())
