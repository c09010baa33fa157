"""The manifest and the files it lists are checked before any AWS call; errors name file, key, fix."""

from __future__ import annotations

import json

import pytest

from deployer.errors import InputError
from deployer.manifest import TEMPLATE_BODY_LIMIT, load_manifest

from .envs import full_env


def edit(env, change) -> None:
    data = json.loads(env.manifest_path.read_text())
    change(data)
    env.manifest_path.write_text(json.dumps(data))


def test_loads_the_environment(tmp_path):
    manifest = load_manifest(full_env(tmp_path).manifest_path)
    assert [s.name for s in manifest.stacks] == ["foundation", "network", "alarms", "app"]
    assert manifest.dependents("foundation") == ["network", "alarms", "app"]
    assert manifest.stack("foundation").retained_resources() == {"KmsKey": "AWS::KMS::Key", "Bucket": "AWS::S3::Bucket"}


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(colour="blue"), "manifest.json: colour='blue': Extra inputs are not permitted"),
    (lambda d: d.update(format_version=2), "format_version=2: Input should be 1"),
    (lambda d: d["stacks"][1].update(depends_on=["app"]), "depends on 'app', which is not listed before it"),
    (lambda d: d.update(account_id="12345"), "account_id='12345'"),
    (lambda d: d["deploy"].update(external_id="x"), "external_id is set but assume_role_arn is not"),
    (lambda d: d["stacks"][0].update(protected_resources=["Buckit"]), "protected_resources ['Buckit'] are not resources"),
    (lambda d: d["stacks"][0].update(guarded_resources={"Grup": "why"}), "guarded_resources ['Grup'] are not resources"),
])
def test_manifest_errors_name_the_key(tmp_path, change, message):
    env = full_env(tmp_path)
    edit(env, change)
    with pytest.raises(InputError) as caught:
        load_manifest(env.manifest_path)
    assert message in str(caught.value)
    assert caught.value.exit_code == 2


def test_parameter_file_naming_an_unknown_parameter(tmp_path):
    env = full_env(tmp_path)
    env.parameters["network"]["VpcCdir"] = "10.0.0.0/16"
    env.write()
    with pytest.raises(InputError, match=r"network.parameters.json: VpcCdir: not declared in network.template.json"):
        load_manifest(env.manifest_path)


def test_parameter_without_value_or_default(tmp_path):
    env = full_env(tmp_path)
    del env.parameters["app"]["SubnetIds"]
    env.write()
    with pytest.raises(InputError, match=r"app.parameters.json: SubnetIds: no value, and app.template.json gives it no Default"):
        load_manifest(env.manifest_path)


def test_asset_changed_after_the_build(tmp_path):
    env = full_env(tmp_path)
    (env.root / "assets" / "record_preprocessor.py").write_text("tampered")
    with pytest.raises(InputError, match="sha256 is .* the manifest says"):
        load_manifest(env.manifest_path)


def test_missing_build(tmp_path):
    with pytest.raises(InputError, match="manifest not found. Next: run `make build ENV=<env>` first"):
        load_manifest(tmp_path / "build" / "dev" / "manifest.json")


def test_template_body_is_minified_json(tmp_path):
    spec = load_manifest(full_env(tmp_path).manifest_path).stack("foundation")
    assert json.loads(spec.template_body) == spec.template
    assert "\n" not in spec.template_body and "\": " not in spec.template_body
    assert len(spec.template_body) < TEMPLATE_BODY_LIMIT
