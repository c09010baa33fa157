"""The plan shows the cost of what it deploys (issue 21 part 4): build/<env>/cost.json, which the build writes
(mmtool/cost/), matched to each stack's plan. A new environment adds everything; after a deploy an unchanged
stack keeps its lines and a changed one says which parameters change. Unpriced lines are counted apart."""

from __future__ import annotations

import json

import pytest

from .conftest import run
from .envs import full_env


def cost_file(env, lines) -> None:
    (env.manifest_path.parent / "cost.json").write_text(json.dumps({
        "format_version": 1, "currency": "USD", "environment": "test", "region": "eu-west-1",
        "prices_file": "fixture-prices.json", "prices_as_of": "2026-01-01", "hours_per_month": "730",
        "lines": lines, "total_usd": "ignored: the plan sums what it shows", "unpriced_lines": 0,
    }))


LINES = [
    {"group": "environment", "stack": "foundation", "item": "KMS keys", "quantity": "1 key(s)", "monthly_usd": "1.00",
     "unpriced": "", "basis": "", "prices": [], "in_total": True},
    {"group": "endpoint default", "stack": "app", "item": "data quality runs [model-monitor]",
     "quantity": "730 runs (hourly) x 0.5 h x 1 ml.m5.large", "monthly_usd": "36.50", "unpriced": "", "basis": "",
     "prices": [], "in_total": True},
    {"group": "endpoint default", "stack": "app", "item": "data quality runs [processing, not deployed: for comparison]",
     "quantity": "730 runs (hourly) x 0.5 h x 1 ml.m5.large", "monthly_usd": "36.50", "unpriced": "", "basis": "",
     "prices": [], "in_total": False},
    {"group": "endpoint default", "stack": "app", "item": "capture-sized line", "quantity": "by sampling",
     "monthly_usd": "2.00", "unpriced": "", "basis": "", "prices": [], "in_total": True,
     "inputs": ["SamplingPercentage"], "proportional": ["SamplingPercentage"]},
    {"group": "endpoint default", "stack": "app", "item": "mode-sized line", "quantity": "by capture modes",
     "monthly_usd": "3.00", "unpriced": "", "basis": "", "prices": [], "in_total": True, "inputs": ["CaptureModes"]},
    {"group": "environment", "stack": "network", "item": "interface VPC endpoints",
     "quantity": "8 endpoints in 16 endpoint-zones x 730 h", "monthly_usd": None,
     "unpriced": "no vpc.interface-endpoint.az-hour price in eu-west-1 in the snapshot", "basis": "", "prices": [],
     "in_total": True},
]


def squash(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.splitlines()]


def test_a_new_environment_plan_shows_the_estimate_and_that_all_of_it_is_added(tmp_path, clients, capsys):
    env = full_env(tmp_path / "build")
    cost_file(env, LINES)

    text = squash(run("plan", env.manifest_path, clients, skip_account_check=True).out)

    assert "environment: KMS keys: 1 key(s) = $1.00 (new)" in text
    assert ("endpoint default: data quality runs [processing, not deployed: for comparison]: 730 runs (hourly) x "
            "0.5 h x 1 ml.m5.large = $36.50 (new) [not in the total]") in text
    assert "environment: interface VPC endpoints: 8 endpoints in 16 endpoint-zones x 730 h = UNPRICED (new)" in text
    assert "unpriced: no vpc.interface-endpoint.az-hour price in eu-west-1 in the snapshot" in text
    # 1.00 + 36.50 + 2.00 + 3.00; the comparison line and the unpriced line are not summed
    assert "total as built: $42.50 a month + 1 unpriced line(s), not counted" in text
    assert ("change: +$42.50 a month (a new environment: nothing deployed before), + 1 unpriced line(s)") in text

    capsys.readouterr()
    assert run("plan", env.manifest_path, clients, skip_account_check=True, json_output=True).code == 0
    cost = json.loads(capsys.readouterr().out)["cost"]
    assert cost["total_usd"] == "42.50" and cost["unpriced_lines"] == 1 and cost["added_usd"] == "42.50"
    assert {ln["change"] for ln in cost["lines"]} == {"new"}


def test_after_deploy_unchanged_stacks_keep_their_cost_and_a_changed_one_names_its_parameters(tmp_path, clients):
    env = full_env(tmp_path / "build")
    cost_file(env, LINES)
    assert run("deploy", env.manifest_path, clients, skip_account_check=True).code == 0

    same = squash(run("plan", env.manifest_path, clients, skip_account_check=True).out)
    assert "environment: KMS keys: 1 key(s) = $1.00" in same  # no "(new)": it is deployed
    assert "change: +$0.00 a month from new stacks" in same

    env.parameters["app"]["SamplingPercentage"] = "50"
    env.write()
    cost_file(env, LINES)
    changed = squash(run("plan", env.manifest_path, clients, skip_account_check=True).out)
    # a line without inputs: the whole stack counts, every parameter that changes is named
    at = changed.index("endpoint default: data quality runs [model-monitor]: 730 runs (hourly) x 0.5 h x 1 "
                       "ml.m5.large = $36.50 (changed stack)")
    assert changed[at + 1] == 'changes: SamplingPercentage: "100" → "50" (the deployed figure is not known)'
    # a line proportional to the parameter that changes: deployed at 100 % it was 2.00 x 100 / 50 = 4.00
    at = changed.index("endpoint default: capture-sized line: by sampling = $2.00 (was $4.00)")
    assert changed[at + 1] == 'changes: SamplingPercentage: "100" → "50"'
    # a line made of a parameter that does not change keeps its figure
    assert "endpoint default: mode-sized line: by capture modes = $3.00" in changed
    assert ("change: +$0.00 a month from new stacks; -$2.00 a month from changed lines; not known for 1 changed "
            "line(s) (their deployed figure is not known)") in changed


def test_a_build_without_an_estimate_plans_without_a_cost_section(tmp_path, clients):
    env = full_env(tmp_path / "build")
    assert "Cost, monthly estimate" not in run("plan", env.manifest_path, clients, skip_account_check=True).out


@pytest.mark.slow  # a real build of dev
def test_the_real_build_of_dev_carries_its_estimate_into_the_plan(tmp_path, clients):
    from .test_plan_exact import build_env

    manifest = build_env(tmp_path, "dev")

    text = squash(run("plan", manifest, clients, skip_account_check=True).out)

    # eu-west-1 has no Processing price in the repository's snapshot: unpriced, and said so; the KMS key is
    # priced everywhere (AWS's page states it without a regional variation)
    assert ("endpoint default: data quality runs [model-monitor]: 730 runs (hourly) x 0.5 h x 1 ml.m5.large = "
            "UNPRICED (new)") in text
    assert "environment: KMS keys: 1 key(s) = $1.00 (new)" in text
    assert any(line.startswith("total as built: $1.00 a month + ") for line in text)
