"""The build as a user runs it: output layout, real cfn-lint, determinism, skipping unchanged work."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from mmtool.generate import fingerprint
from mmtool.generate.pipeline import build
from mmtool.cli import main
from mmtool.errors import LintError
from mmtool.generate.lint import STANDALONE_NOTE, Finding, LintJob, lint
from tests.conftest import REPO, dev_params, write_params

STACKS = ["foundation", "network", "endpoint", "monitoring", "alarms"]


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_every_environment_is_lint_clean(built):
    """The session build ran real cfn-lint (informational rules on) with each parameter file and alone, and found
    nothing: a build records itself as linted only then (a finding raises LintError and records nothing)."""
    for env in ("dev", "staging", "prod"):
        assert (built.build / env / "manifest.json").exists()
        assert fingerprint.up_to_date(built.root, built.cache, built.build, env, True), env


def test_every_template_is_lint_clean_alone(built):
    """What a platform team runs on the bundle, `cfn-lint -c I build/*/*.template.json`: each generated
    template alone, no parameter file, informational rules on, cfn-lint's default region. Run through
    cfn-lint's own API, not through mmtool.generate.lint, so the build's standalone pass is checked from outside."""
    from cfnlint.api import ManualArgs, lint as cfn_lint

    distinct = {p.read_text(): p for p in sorted(built.build.glob("*/*.template.json"))}
    assert len(distinct) >= len(STACKS) + 1  # the five stacks and the catalog (per environment when it differs)
    findings = {}
    for text, path in distinct.items():
        matches = cfn_lint(text, config=ManualArgs(include_checks=["I"], regions=["us-east-1"]))
        if matches:
            findings[str(path)] = [f"{m.rule.id} line {m.linenumber}: {m.message}" for m in matches]
    assert findings == {}


def test_lint_alone_finds_what_the_parameter_files_hide():
    """A Default that is not a valid value passes when every parameter file sets the parameter; cfn-lint
    on the template alone flags it (W1030). The build's standalone pass must report it, marked as such."""
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {"Cidr": {"Type": "String", "Default": ""}},
        "Resources": {"Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": {"Ref": "Cidr"}}}},
    }
    parameters = json.dumps([{"ParameterKey": "Cidr", "ParameterValue": "10.40.0.0/16"}]).encode()
    findings = lint([LintJob(Path("t.json"), json.dumps(template, indent=1).encode(), Path("p.json"), parameters,
                             "eu-west-1")])
    assert [(f.rule, f.message.endswith(STANDALONE_NOTE)) for f in findings] == [("W1030", True)], findings


def test_output_layout_and_manifest(built):
    folder = built.build / "prod"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert [s["name"] for s in manifest["stacks"]] == STACKS  # deploy order
    assert manifest["region"] == "eu-west-1" and manifest["account_id"] == "777788889999"
    assert manifest["tags"]["Environment"] == "prod" and manifest["tags"]["cost-center"] == "ml-platform"
    assert manifest["deploy"]["termination_protection"] is True
    for stack in manifest["stacks"]:
        assert set(stack) >= {"name", "stack_name", "template", "parameters", "depends_on"}
        assert stack["stack_name"] == f"churn-prod-{stack['name']}"
        assert all(STACKS.index(dep) < STACKS.index(stack["name"]) for dep in stack["depends_on"])
        body = json.loads((folder / stack["parameters"]).read_text())
        assert all(set(entry) == {"ParameterKey", "ParameterValue"} for entry in body)
        assert all(isinstance(entry["ParameterValue"], str) for entry in body)
        template = json.loads((folder / stack["template"]).read_text())
        required = {k for k, v in template["Parameters"].items() if "Default" not in v}
        assert required <= {entry["ParameterKey"] for entry in body}
    assert manifest["stacks"][0]["protected_resources"] == ["Bucket", "KmsKey"]


def test_same_input_gives_byte_identical_output(built, scratch):
    build(scratch, scratch.environments(), run_lint=False, out=lambda *_: None)
    first = {env: tree(built.build / env) for env in ("dev", "staging", "prod")}
    second = {env: tree(scratch.build / env) for env in ("dev", "staging", "prod")}
    assert first == second


def test_lint_finds_a_broken_template_and_reports_file_line_rule(tmp_path):
    """Negative control: the lint step is not vacuous."""
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {"Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketNam": "x"}}},
    }
    body = json.dumps(template, indent=2).encode()
    findings = lint([LintJob(Path("build/x/bad.template.json"), body, Path("build/x/bad.parameters.json"), b"[]",
                             "eu-west-1")])
    assert findings
    assert any(f.rule == "E3002" and f.line == 7 for f in findings), findings
    assert findings[0].render().startswith("build/x/bad.template.json:")


def test_lint_checks_parameter_file_values_against_the_template(tmp_path):
    template = {
        "Parameters": {"Size": {"Type": "String", "AllowedValues": ["small", "large"]}},
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": {"Ref": "Size"}}}},
    }
    parameters = json.dumps([{"ParameterKey": "Size", "ParameterValue": "huge"}]).encode()
    findings = lint([LintJob(Path("t.json"), json.dumps(template, indent=1).encode(), Path("p.json"), parameters,
                             "eu-west-1")])
    # cfn-lint's own E2900 (it sees this file) and the build's value check of every file (parameter_sets)
    assert sorted(f.rule for f in findings if f.file == "p.json") == ["E2900", "parameters"]


def test_failed_lint_fails_the_build_and_writes_no_manifest(scratch, monkeypatch, capsys):
    def broken(*args, **kwargs):
        return [Finding("build/dev/network.template.json", 12, "E3012", "expected type")]

    monkeypatch.setattr("mmtool.generate.lint.lint", broken)
    assert main(["lint", "--env", "dev"], paths=scratch) == 1
    err = capsys.readouterr().err
    assert "build/dev/network.template.json:12: E3012: expected type" in err
    assert not (scratch.build / "dev" / "manifest.json").exists(), "deploy must not pick up an unlinted build"


def test_build_does_not_lint_and_a_later_lint_is_not_taken_as_done(scratch, monkeypatch, capsys):
    calls = []

    def findings(jobs, **kwargs):
        calls.append(len(jobs))
        return [Finding("build/dev/network.template.json", 12, "E3012", "expected type")]

    monkeypatch.setattr("mmtool.generate.lint.lint", findings)
    assert main(["build", "--env", "dev"], paths=scratch) == 0
    out = capsys.readouterr().out
    assert calls == [] and "(not linted)" in out and "`make lint` builds and runs cfn-lint" in out
    assert main(["lint", "--env", "dev"], paths=scratch) == 1, "the unlinted build was taken as linted"
    assert calls and "E3012: expected type" in capsys.readouterr().err


def test_unchanged_rebuild_is_skipped_and_any_change_rebuilds(scratch):
    lines: list[str] = []
    build(scratch, ["dev"], run_lint=False, out=lines.append)
    build(scratch, ["dev"], run_lint=False, out=lines.append)
    assert "up to date" in lines[-1]
    data = dev_params()
    data["endpoint"]["data_capture"]["sampling_percentage"] = 42
    write_params(scratch, data)
    build(scratch, ["dev"], run_lint=False, out=lines.append)
    assert "up to date" not in lines[-1]
    values = json.loads((scratch.build / "dev" / "endpoint.parameters.json").read_text())
    assert {"ParameterKey": "SamplingPercentage", "ParameterValue": "42"} in values
    # a hand-edited output is regenerated, not trusted
    (scratch.build / "dev" / "endpoint.template.json").write_text("{}")
    build(scratch, ["dev"], run_lint=False, out=lines.append)
    assert "up to date" not in lines[-1]
    assert json.loads((scratch.build / "dev" / "endpoint.template.json").read_text())["Resources"]


def test_stale_files_disappear(scratch):
    build(scratch, ["dev"], run_lint=False, out=lambda *_: None)
    (scratch.build / "dev" / "leftover.template.json").write_text("{}")
    data = dev_params()
    data["storage"]["capture_retention_days"] = 3
    write_params(scratch, data)
    build(scratch, ["dev"], run_lint=False, out=lambda *_: None)
    assert not (scratch.build / "dev" / "leftover.template.json").exists()


def test_unknown_environment_is_a_clear_error(scratch, capsys):
    assert main(["build", "--env", "qa"], paths=scratch) == 2
    assert "no params file params/qa.yaml (environments: dev, prod, staging)" in capsys.readouterr().err


@pytest.mark.slow
def test_make_help_lists_the_targets():
    result = subprocess.run(["make", "-s", "help"], cwd=REPO, capture_output=True, text=True, check=True)
    for target in ("build", "test", "lint", "snapshots", "clean", "help", "bench"):
        assert f" {target} " in result.stdout or f"{target} " in result.stdout, target


def test_lint_error_is_a_tool_error():
    assert LintError("x").exit_code == 1


def _rebuild_with_lint_findings(scratch, monkeypatch, capsys) -> str:
    """Change a value, then build with cfn-lint reporting a finding (the pipeline's handling is under test)."""
    def finding(jobs, **kwargs):
        return [Finding(str(jobs[0].template_path), 3, "E3012", "expected type")]

    monkeypatch.setattr("mmtool.generate.lint.lint", finding)
    data = dev_params()
    data["endpoint"]["data_capture"]["sampling_percentage"] = 42
    write_params(scratch, data)
    assert main(["lint", "--env", "dev"], paths=scratch) == 1
    return capsys.readouterr().err


def test_a_failing_build_leaves_the_last_good_build_as_it_was(scratch, monkeypatch, capsys):
    build(scratch, ["dev"], run_lint=False, out=lambda *_: None)
    good = tree(scratch.build / "dev")
    err = _rebuild_with_lint_findings(scratch, monkeypatch, capsys)
    assert tree(scratch.build / "dev") == good, "a failed build must not touch build/dev/ (deploy reads it)"
    rejected = scratch.build / "dev.rejected"
    assert "build/dev.rejected/" in err and ": E3012: expected type" in err, err  # the findings name what exists
    assert "build/dev/ unchanged (the last good build)" in err
    values = json.loads((rejected / "endpoint.parameters.json").read_text())
    assert {"ParameterKey": "SamplingPercentage", "ParameterValue": "42"} in values
    assert not [p for p in scratch.build.iterdir() if p.name.startswith(".")], "no staging folder left behind"

    monkeypatch.undo()  # lint passes again: the new build replaces the old one and the rejected output goes
    write_params(scratch, dev_params())
    build(scratch, ["dev"], run_lint=False, out=lambda *_: None)
    assert tree(scratch.build / "dev") == good and not rejected.exists()


def test_an_interrupted_build_leaves_the_last_good_build_and_no_staging(scratch, monkeypatch):
    build(scratch, ["dev"], run_lint=False, out=lambda *_: None)
    good = tree(scratch.build / "dev")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("mmtool.generate.lint.lint", interrupted)
    data = dev_params()
    data["storage"]["capture_retention_days"] = 3
    write_params(scratch, data)
    with pytest.raises(KeyboardInterrupt):
        build(scratch, ["dev"], out=lambda *_: None)
    assert tree(scratch.build / "dev") == good
    assert sorted(p.name for p in scratch.build.iterdir()) == ["dev"]


def test_files_of_one_content_are_hard_linked_where_the_file_system_allows(tmp_path, monkeypatch):
    """A fleet's endpoints share a script's rendering (one bytes object): stage_tree writes it once and links the
    others to it; a content equal but rendered apart, or too small to gain a block, is written; without hard links
    (os.link failing) every file is written."""
    from mmtool.generate.pipeline import LINK_ABOVE, stage_tree

    shared, small = b"x" * (LINK_ABOVE + 1), b"y" * 10
    files = {"assets/a/p.py": shared, "assets/b/p.py": shared, "assets/c/p.py": bytes(bytearray(shared)),
             "s1": small, "s2": small}
    staged = stage_tree(tmp_path / "dev", files)
    inode = {name: (staged / name).stat().st_ino for name in files}
    assert inode["assets/a/p.py"] == inode["assets/b/p.py"] != inode["assets/c/p.py"]
    assert inode["s1"] != inode["s2"]
    assert {name: (staged / name).read_bytes() for name in files} == files

    def no_links(*args):
        raise OSError(1, "Operation not permitted")

    monkeypatch.setattr("os.link", no_links)
    staged = stage_tree(tmp_path / "prod", files)
    assert len({(staged / name).stat().st_ino for name in files}) == len(files)
    assert {name: (staged / name).read_bytes() for name in files} == files


def test_a_linted_build_serves_make_build_and_an_unlinted_one_never_serves_make_lint(scratch, monkeypatch, capsys):
    """`make build` after `make lint` finds everything up to date (nothing to do); after `make build` changed the
    inputs, `make lint` lints again. The lint itself is stubbed: the fingerprint's bookkeeping is under test."""
    calls = []
    monkeypatch.setattr("mmtool.generate.lint.lint", lambda jobs, **kwargs: calls.append(len(jobs)) or [])
    assert main(["lint", "--env", "dev"], paths=scratch) == 0 and len(calls) == 1
    capsys.readouterr()
    assert main(["build", "--env", "dev"], paths=scratch) == 0
    assert "dev: up to date" in capsys.readouterr().out
    assert main(["lint", "--env", "dev"], paths=scratch) == 0 and len(calls) == 1  # still linted: nothing to do
    data = dev_params()
    data["endpoint"]["data_capture"]["sampling_percentage"] = 42
    write_params(scratch, data)
    assert main(["build", "--env", "dev"], paths=scratch) == 0 and "(not linted)" in capsys.readouterr().out
    assert main(["lint", "--env", "dev"], paths=scratch) == 0 and len(calls) == 2
