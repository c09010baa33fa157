"""A no-change deploy of dev against a local moto server: ours (build included) vs `aws cloudformation
deploy` run once per stack, side by side in the same run, on the same stacks.

Both start from the same deployed environment (deployed once by our engine before timing). Each timed
run is a fresh process, as a user would run it: ours is `python build.py deploy --env dev --yes ...`
(or, while build.py has no deploy command, `python build.py lint --env dev` followed by
`python -m deployer deploy ...`); the AWS CLI's is one `aws cloudformation deploy` per stack, in
dependency order, with every parameter value and the stack tags given explicitly (so it, too, has
nothing to change). The moto server records every request, so the change sets each side created are
counted from what the server received. Target: ours creates no change set and takes less than half the
CLI's time (median of the runs).

    python -m benchmarks deploy      # or: make bench ARGS=deploy
    python -m benchmarks.deploy --runs 5
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qs

ROOT = Path(__file__).resolve().parents[1]
ENV = "dev"
MANIFEST = ROOT / "build" / ENV / "manifest.json"
TARGET_RATIO = 0.5
CLOUDFORMATION_API = "2010-05-15"  # the Version field of CloudFormation's query API
RUNS = 3


def _environment(url: str) -> dict[str, str]:
    from deployer.moto_server import FAKE_CREDENTIALS

    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(FAKE_CREDENTIALS)
    env.update(AWS_EC2_METADATA_DISABLED="true", AWS_DEFAULT_REGION="eu-west-1", AWS_PAGER="")
    return env


def _aws_cli() -> str | None:
    local = Path(sys.executable).with_name("aws")
    return str(local) if local.exists() else shutil.which("aws")


def _has_deploy_command() -> bool:
    result = subprocess.run([sys.executable, "build.py", "deploy", "--help"], cwd=ROOT, capture_output=True, text=True)
    return result.returncode == 0 and "--yes" in result.stdout


def ours_commands(url: str, integrated: bool) -> list[list[str]]:
    flags = ["--yes", "--skip-account-check", "--endpoint-url", url]
    if integrated:
        return [[sys.executable, "build.py", "deploy", "--env", ENV, *flags]]
    return [
        [sys.executable, "build.py", "lint", "--env", ENV],
        [sys.executable, "-m", "deployer", "deploy", "--manifest", str(MANIFEST), *flags],
    ]


def cli_commands(url: str, aws: str, bucket: str) -> list[list[str]]:
    from deployer.manifest import load_manifest

    manifest = load_manifest(MANIFEST)
    commands = []
    for spec in manifest.stacks:
        command = [
            aws, "cloudformation", "deploy",
            "--stack-name", spec.stack_name,
            "--template-file", str(spec.template_path),
            "--no-fail-on-empty-changeset",
            "--region", manifest.region,
            "--endpoint-url", url,
            "--parameter-overrides", *[f"{k}={v}" for k, v in sorted(spec.values.items())],
            "--tags", *[f"{k}={v}" for k, v in sorted(manifest.tags.items())],
        ]
        if spec.entry.capabilities:
            command += ["--capabilities", *spec.entry.capabilities]
        if spec.template_path.stat().st_size > 51_200:  # the CLI refuses larger bodies inline
            # (the CLI's S3 upload ignores --endpoint-url; the AWS_ENDPOINT_URL set in timed() reaches it)
            command += ["--s3-bucket", bucket, "--s3-prefix", "cloudformation-templates"]
        commands.append(command)
    return commands


class Recording:
    """Counts the CloudFormation actions the moto server received (moto's request recorder)."""

    def __init__(self, server, path: Path):
        self.server, self.path = server, path

    def start(self) -> None:
        self.server.post("/moto-api/recorder/reset-recording")
        self.server.post("/moto-api/recorder/start-recording")

    def stop(self) -> dict[str, int]:
        self.server.post("/moto-api/recorder/stop-recording")
        counts: dict[str, int] = {}
        for line in self.path.read_text().splitlines() if self.path.exists() else []:
            entry = json.loads(line)
            body = entry.get("body") or ""
            if entry.get("body_encoded"):
                body = base64.b64decode(body).decode("utf-8", "replace")
            query = parse_qs(body)
            action = query.get("Action", [None])[0]
            if action and query.get("Version") == [CLOUDFORMATION_API]:
                counts[action] = counts.get(action, 0) + 1
        return counts


def _project_bucket(url: str) -> str:
    """The bucket the foundation stack created (the CLI uploads templates over 51,200 bytes there)."""
    import boto3

    from deployer.manifest import load_manifest

    manifest = load_manifest(MANIFEST)
    ssm = boto3.client("ssm", region_name=manifest.region, endpoint_url=url, aws_access_key_id="testing",
                       aws_secret_access_key="testing")
    name = f"/{manifest.project}/{manifest.environment}/foundation/bucket-name"
    return ssm.get_parameter(Name=name)["Parameter"]["Value"]


def timed(commands: list[list[str]], env: dict[str, str]) -> float:
    # moto reads a TemplateURL from its own S3 only when the host is localhost
    url = next(c[c.index("--endpoint-url") + 1] for c in commands if "--endpoint-url" in c)
    env = {**env, "AWS_ENDPOINT_URL": url.replace("127.0.0.1", "localhost")}
    started = time.perf_counter()
    for command in commands:
        result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command[:4])}... failed ({result.returncode}):\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return time.perf_counter() - started


def run(runs: int = RUNS) -> bool:
    from rich.console import Console

    from deployer import cli
    from deployer.moto_server import MotoServer

    aws = _aws_cli()
    if aws is None:
        print("AWS CLI not found: install awscli==1.46.3 (it is in requirements.txt) to run this benchmark")
        return False
    # built and linted, as `build.py deploy` builds (an unlinted build would be linted again in the first timed run)
    build = subprocess.run([sys.executable, "build.py", "lint", "--env", ENV], cwd=ROOT, capture_output=True, text=True)
    if build.returncode != 0:
        print(f"build failed:\n{build.stdout}\n{build.stderr}")
        return False
    integrated = _has_deploy_command()
    record_file = Path(tempfile.mkdtemp(prefix="moto-recording-")) / "requests.jsonl"
    with MotoServer(env={"MOTO_RECORDER_FILEPATH": str(record_file)}) as server:
        env = _environment(server.url)
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update({k: v for k, v in env.items() if k.startswith("AWS_")})
        try:  # the environment both sides start from, deployed once
            cli.deploy(MANIFEST, yes=True, skip_account_check=True, endpoint_url=server.url, poll_interval=0.05,
                       console=Console(file=open(os.devnull, "w")))
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        recording = Recording(server, record_file)
        bucket = _project_bucket(server.url)
        ours_cmds, cli_cmds = ours_commands(server.url, integrated), cli_commands(server.url, aws, bucket)
        ours_times, cli_times, ours_counts, cli_counts = [], [], {}, {}
        for _ in range(runs):  # alternate, so both see the same machine state
            recording.start()
            ours_times.append(timed(ours_cmds, env))
            ours_counts = recording.stop()
            recording.start()
            cli_times.append(timed(cli_cmds, env))
            cli_counts = recording.stop()
    ours, theirs = statistics.median(ours_times), statistics.median(cli_times)
    ratio = ours / theirs
    ours_sets, cli_sets = ours_counts.get("CreateChangeSet", 0), cli_counts.get("CreateChangeSet", 0)
    label = "build.py deploy" if integrated else "build.py lint + python -m deployer deploy"
    print(f"no-change deploy of {ENV} ({len(cli_cmds)} stacks) against moto, median of {runs} runs, fresh processes")
    print(f"  ours ({label}): {ours:6.2f} s   runs {', '.join(f'{t:.2f}' for t in ours_times)}"
          f"   change sets created: {ours_sets}   CloudFormation calls: {sum(ours_counts.values())}")
    print(f"  aws cloudformation deploy x{len(cli_cmds)}: {theirs:6.2f} s   runs {', '.join(f'{t:.2f}' for t in cli_times)}"
          f"   change sets created: {cli_sets}   CloudFormation calls: {sum(cli_counts.values())}")
    met = ratio < TARGET_RATIO and ours_sets == 0
    print(f"  ratio: {ratio:.2f} (target < {TARGET_RATIO}, and no change set): {'met' if met else 'MISSED'}")
    return met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.deploy", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=RUNS)
    args = parser.parse_args(argv)
    return 0 if run(args.runs) else 1


if __name__ == "__main__":
    sys.exit(main())
