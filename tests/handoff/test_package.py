"""`make package`: the hand-off bundle. Its DEPLOY.md is run with the real AWS CLI against moto, with nothing of
ours imported in that step; two packages of the same commit are byte-identical."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pytest

from deployer.moto_server import FAKE_CREDENTIALS, MotoServer
from mmtool.cli import main
from mmtool.handoff.package import git_version

AWS_CLI = Path(sys.executable).with_name("aws")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    """dev packaged once: (zip path, {name: bytes} without the top folder, top folder name)."""
    from tests.conftest import scratch_root

    paths = scratch_root(tmp_path_factory.mktemp("package"))
    assert main(["package", "--env", "dev"], paths=paths) == 0
    (target,) = (paths.root / "dist").glob("*.zip")
    with zipfile.ZipFile(target) as archive:
        names = archive.namelist()
        top = names[0].split("/")[0]
        files = {n.split("/", 1)[1]: archive.read(n) for n in names}
    return paths, target, files, top


def test_bundle_is_named_from_project_version_and_environment(bundle):
    paths, target, _, top = bundle
    # the scratch folder is no git repository: the version says so instead of inventing one
    assert target.name == "churn-unversioned-dev.zip" and top == "churn-unversioned-dev"


def test_version_comes_from_git_describe_sanitized(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@e"}
    (tmp_path / "f").write_text("x")
    subprocess.run(["git", "-C", str(tmp_path), "add", "f"], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "commit", "-qm", "x"], check=True, env=env)
    subprocess.run(["git", "-C", str(tmp_path), "tag", "v1.2+build"], check=True)
    assert git_version(tmp_path) == "v1.2-build"
    (tmp_path / "f").write_text("y")
    assert git_version(tmp_path) == "v1.2-build-dirty"


def test_bundle_holds_what_a_platform_team_needs(bundle):
    _, _, files, _ = bundle
    stacks = ["foundation", "network", "endpoint", "monitoring"]
    for stack in stacks:
        assert f"{stack}.template.json" in files and f"{stack}.parameters.json" in files
    for name in ("DEPLOY.md", "PARAMETERS.md", "lint-report.txt", "architecture.svg", "SHA256SUMS", "manifest.json",
                 "assets/record_preprocessor.py"):
        assert name in files, name
    assert "catalog.template.json" not in files  # published by `make catalog`, not handed over


def test_checksums_cover_every_other_file(bundle):
    _, _, files, _ = bundle
    lines = files["SHA256SUMS"].decode().splitlines()
    listed = dict(reversed(line.split("  ", 1)) for line in lines)
    assert sorted(listed) == sorted(n for n in files if n != "SHA256SUMS")
    for name, digest in listed.items():
        assert hashlib.sha256(files[name]).hexdigest() == digest, name


def test_parameter_reference_comes_from_the_templates(bundle):
    _, _, files, _ = bundle
    text = files["PARAMETERS.md"].decode()
    assert "## foundation.template.json" in text and "## monitoring.template.json" in text
    # dev's capture retention is 14 days (params/dev.yaml), the template's default 30, range 1-3650
    row = next(line for line in text.splitlines() if line.startswith("| `CaptureRetentionDays` |"))
    assert "`30`" in row and "MinValue 1" in row and "MaxValue 3650" in row and row.endswith("| `14` |")
    # an SSM-typed parameter shows the SSM name it reads
    assert "`/churn/dev/foundation/bucket-name`" in text


def test_lint_report_is_cfn_lint_output_for_every_template(bundle):
    _, _, files, _ = bundle
    report = files["lint-report.txt"].decode()
    assert '"include_checks": ["I"]' in report
    assert "each template alone, without a parameter file" in report  # the platform team's own cfn-lint run
    assert "foundation.template.json with foundation.parameters.json: 0 finding(s)" in report
    assert report.rstrip().endswith("total: 0 finding(s)")


def test_diagram_shows_every_resource_and_the_ssm_edges(bundle):
    _, _, files, _ = bundle
    svg = ElementTree.fromstring(files["architecture.svg"])
    ns = "{http://www.w3.org/2000/svg}"
    texts = " ".join(t.text or "" for t in svg.iter(f"{ns}text"))
    template = json.loads(files["foundation.template.json"])
    for logical in template["Resources"]:
        assert f"{logical}  (" in texts or logical[:40] in texts, logical
    ssm_edges = [p for p in svg.iter(f"{ns}path") if p.get("stroke") == "#1f6feb"]
    # every SSM-typed parameter of a downstream stack is one edge from the stack that writes it
    expected = sum(1 for stack in ("network", "endpoint", "monitoring")
                   for p in json.loads(files[f"{stack}.template.json"])["Parameters"].values()
                   if p["Type"].startswith("AWS::SSM::Parameter::Value"))
    if "alarms.template.json" in files:
        expected += sum(1 for p in json.loads(files["alarms.template.json"])["Parameters"].values()
                        if p["Type"].startswith("AWS::SSM::Parameter::Value"))
    assert len(ssm_edges) == expected > 5


def test_deploy_md_lists_the_stacks_in_dependency_order_with_the_asset_upload_after_the_bucket(bundle):
    _, _, files, _ = bundle
    text = files["DEPLOY.md"].decode()
    order = re.findall(r"--stack-name (churn-dev-\w+)", text)
    assert order[:4] == ["churn-dev-foundation", "churn-dev-network", "churn-dev-endpoint", "churn-dev-monitoring"]
    upload = text.index("aws s3 cp assets/record_preprocessor.py")
    assert text.index("--stack-name churn-dev-foundation") < upload < text.index("--stack-name churn-dev-monitoring")
    assert '--sse aws:kms --sse-kms-key-id "$KMS_KEY_ARN"' in text
    assert "--name /churn/dev/foundation/bucket-name" in text
    # every parameter is passed, the omitted ones at their Default (no UsePreviousValue on update)
    foundation = text[text.index("--stack-name churn-dev-foundation"):upload]
    assert "LogRetentionDays=365" in foundation and "CaptureRetentionDays=14" in foundation
    assert "cost-center=ml-platform" in foundation and "--capabilities CAPABILITY_NAMED_IAM" in foundation


def test_two_packages_of_the_same_commit_are_byte_identical(bundle):
    paths, target, _, _ = bundle
    first = target.read_bytes()
    assert main(["package", "--env", "dev"], paths=paths) == 0
    assert target.read_bytes() == first
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        infos = archive.infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.external_attr >> 16 for i in infos} == {0o100644}


def _sh_blocks(markdown: str) -> list[str]:
    return re.findall(r"```sh\n(.*?)```", markdown, re.S)


@pytest.mark.skipif(not AWS_CLI.exists(), reason="the AWS CLI (awscli in requirements.txt) is not installed")
def test_deploy_md_deploys_the_bundle_with_the_aws_cli_against_moto(bundle, tmp_path):
    _, target, _, top = bundle
    with zipfile.ZipFile(target) as archive:
        archive.extractall(tmp_path)
    folder = tmp_path / top
    script = "set -euo pipefail\n" + "\n".join(_sh_blocks((folder / "DEPLOY.md").read_text()))
    with MotoServer() as moto:
        # "localhost": moto resolves a template URL to its own S3 only for that host (large templates go via S3)
        endpoint = moto.url.replace("127.0.0.1", "localhost")
        env = {"PATH": f"{AWS_CLI.parent}{os.pathsep}/usr/bin:/bin", "HOME": str(tmp_path),
               "AWS_ENDPOINT_URL": endpoint, "AWS_CONFIG_FILE": str(tmp_path / "none"),
               "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"), "AWS_EC2_METADATA_DISABLED": "true",
               **FAKE_CREDENTIALS}
        # nothing of ours: no PYTHONPATH, run from the unzipped folder with the `aws` program only
        result = subprocess.run(["bash", "-c", script], cwd=folder, env=env, capture_output=True, text=True,
                                timeout=900)
        assert result.returncode == 0, f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        statuses = dict(line.split(" ", 1) for line in result.stdout.splitlines()
                        if line.startswith("churn-dev-"))
        stacks = [s["stack_name"] for s in json.loads((folder / "manifest.json").read_text())["stacks"]]
        assert statuses == {name: "CREATE_COMPLETE" for name in stacks}
        assert "assets/record_preprocessor.py aws:kms" in result.stdout
        # run again: every stack unchanged, still exit 0
        again = subprocess.run(["bash", "-c", script], cwd=folder, env=env, capture_output=True, text=True,
                               timeout=900)
        assert again.returncode == 0, again.stderr[-3000:]
        assert again.stdout.count("No changes to deploy") == len(stacks)
