"""A large generated fleet (tests/fleet_data.py: every fifth endpoint created, the others existing) on the moto
server, built by the real pipeline (lint is tests/generate/test_fleet_limits.py's business): 200 endpoints plan; a
smaller one deploys and redeploys with no change. The full 200-endpoint deploy is a benchmark
(`python -m benchmarks fleet_deploy`, figures in docs/performance.md): about 250 stacks on one moto server take
minutes, too long for `make test`."""

from __future__ import annotations

import json
import shutil

import pytest
import yaml

from mmtool.config.workspace import Paths
from tests.conftest import REPO
from tests.fleet_data import fleet_data, put_baselines

from .conftest import CallLog, run

pytestmark = pytest.mark.slow


def built_fleet(root, endpoints: int):
    from mmtool.generate.pipeline import build

    (root / "params").mkdir()
    shutil.copytree(REPO / "scripts", root / "scripts")
    (root / "params" / "staging.yaml").write_text(
        yaml.safe_dump(fleet_data(endpoints, quotas={"event_bus_rules": 2 * endpoints}), sort_keys=False))
    paths = Paths(root)
    build(paths, ["staging"], run_lint=False, out=lambda *_: None)
    return paths.build / "staging" / "manifest.json"


def test_two_hundred_endpoints_plan_on_moto(tmp_path, clients, capsys):
    manifest_path = built_fleet(tmp_path, 200)
    names = [s["stack_name"] for s in json.loads(manifest_path.read_text())["stacks"]]
    assert len(names) == 243  # 3 shared, 40 endpoint stacks, 200 monitoring stacks

    plan = run("plan", manifest_path, clients, skip_account_check=True, json_output=True)

    assert plan.code == 0, plan.text
    document = json.loads(capsys.readouterr().out)
    assert {stack["stack_name"]: stack["action"] for stack in document["stacks"]} == {n: "create" for n in names}
    assert document["summary"]["add"] > len(names) and document["summary"]["destroy"] == 0


def test_a_generated_fleet_deploys_and_redeploys_without_change_sets(tmp_path, clients, cf, s3):
    put_baselines(s3, 20)
    manifest_path = built_fleet(tmp_path, 20)
    names = [s["stack_name"] for s in json.loads(manifest_path.read_text())["stacks"]]

    first = run("deploy", manifest_path, clients, skip_account_check=True)

    assert first.code == 0, first.text
    statuses = {n: cf.describe_stacks(StackName=n)["Stacks"][0]["StackStatus"] for n in names}
    assert set(statuses.values()) == {"CREATE_COMPLETE"}, statuses
    log = CallLog().attach(clients)
    again = run("deploy", manifest_path, clients, skip_account_check=True)
    assert again.code == 0, again.text
    assert log.count("CreateChangeSet") == 0 and log.count("ExecuteChangeSet") == 0
