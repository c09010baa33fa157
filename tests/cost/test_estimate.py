"""The monthly estimate, figure by figure, from a FIXTURE price table (made-up figures, not AWS prices):
every expected figure is worked out by hand in the test, not by the estimate's own formula. Unpriced lines
are listed and never summed as $0. Resource counts come from the golden snapshots of the built templates."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from mmtool.config.params import FleetEndpoint
from mmtool.config.workspace import Paths, validate
from mmtool.cost import report
from mmtool.cost.counts import _values, count_build, count_stacks
from mmtool.cost.estimate import estimate
from mmtool.cost.prices import Price, PriceTable
from tests.snapshots import SNAPSHOTS

from tests.conftest import REPO

REGION = "eu-west-1"


def fixture_price(key: str, usd: str, dimension: str = "", region: str = REGION) -> Price:
    return Price(key, dimension, region, Decimal(usd), "fixture-unit", "test fixture, not an AWS price", "2026-01-01")


FIXTURE = PriceTable((
    fixture_price("sagemaker.processing.instance-hour", "0.10", "ml.m5.large"),
    fixture_price("sagemaker.processing.instance-hour", "0.20", "ml.m5.xlarge"),
    fixture_price("sagemaker.processing.storage-gb-month", "0.14"),
    fixture_price("vpc.interface-endpoint.az-hour", "0.01"),
    fixture_price("kms.key-month", "1.00"),
    fixture_price("cloudwatch.metric-month", "0.30"),
    fixture_price("cloudwatch.alarm-month", "0.10"),
    fixture_price("cloudwatch.dashboard-month", "3.00"),
), "fixture")


def params_of(env: str):
    return validate(Paths(REPO), [env])[env]


def snapshot_counts(env: str):
    folder = SNAPSHOTS / env
    manifest = json.loads((folder / "manifest.json").read_text())
    stacks = [(e["name"], e["stack_name"], json.loads((SNAPSHOTS / e["template"]).read_text()),
               _values(json.loads((folder / e["parameters"]).read_text()))) for e in manifest["stacks"]]
    return count_stacks(stacks, manifest["region"])


def test_count_build_reads_a_shared_template_once_and_counts_each_stack_with_its_own_values(tmp_path, monkeypatch):
    """staging's three monitoring stacks share monitoring.template.json, and their values give them 5, 7 and 3
    alarms: count_build reads the file once and still counts each stack with its own parameter file."""
    folder = tmp_path / "staging"
    shutil.copytree(SNAPSHOTS / "staging", folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    for template in {e["template"] for e in manifest["stacks"]}:
        shutil.copyfile(SNAPSHOTS / template, folder / template)
    reads: Counter[str] = Counter()
    real = Path.read_text

    def counted(path, *args, **kwargs):
        reads[path.name] += 1
        return real(path, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", counted)
    counts = count_build(folder)
    monkeypatch.undo()
    assert counts == snapshot_counts("staging")  # each stack's template parsed afresh
    assert (counts.alarms, counts.dashboards) == (15, 5)
    assert [e["template"] for e in manifest["stacks"]].count("monitoring.template.json") == 3
    assert reads["monitoring.template.json"] == 1


def line(est, item: str, group: str | None = None):
    found = [ln for ln in est.lines if ln.item == item and (group is None or ln.group == group)]
    assert len(found) == 1, [ln.item for ln in est.lines]
    return found[0]


def test_counts_of_the_built_templates():
    # dev: its own VPC with 2 subnets, the 8 interface endpoints of docs/stacks.md in each; alarms off (the
    # dashboard is always created); the foundation creates the key (kms_key_arn: null).
    dev = snapshot_counts("dev")
    assert (dev.interface_endpoints, dev.interface_endpoint_zones, dev.kms_keys, dev.alarms, dev.dashboards) == \
        (8, 16, 1, 0, 1)
    # prod: an existing VPC with 3 subnets; alarms on: failed runs, its delivery, the violations delivery
    # (notify_on_violations) and the 2 drift alarms of params/prod.yaml.
    prod = snapshot_counts("prod")
    assert (prod.interface_endpoints, prod.interface_endpoint_zones, prod.kms_keys, prod.alarms, prod.dashboards) == \
        (8, 24, 1, 5, 1)
    assert dev.undecided == 0 and prod.undecided == 0


def test_dev_estimate_worked_out_by_hand():
    est = estimate(params_of("dev"), FIXTURE, snapshot_counts("dev"))
    # data quality: hourly = 730 runs a month; at most 1800 s = 0.5 h each; 1 x ml.m5.large at $0.10/h
    #   730 * 0.5 * 1 * 0.10 = 36.50
    assert line(est, "data quality runs [model-monitor]").monthly_usd == Decimal("36.50")
    # its 20 GB volume exists 730 * 0.5 = 365 h of the 730-hour month: 20 * 365 / 730 = 10 GB-month * 0.14 = 1.40
    assert line(est, "data quality volume [model-monitor]").monthly_usd == Decimal("1.40")
    # 8 endpoints in 2 zones = 16 endpoint-zones * 730 h * $0.01 = 116.80
    assert line(est, "interface VPC endpoints").monthly_usd == Decimal("116.80")
    assert line(est, "KMS keys").monthly_usd == Decimal("1.00")
    assert line(est, "CloudWatch dashboards").monthly_usd == Decimal("3.00")
    assert not [ln for ln in est.lines if ln.item == "CloudWatch alarms"]  # none created in dev
    # the processing engine is shown beside it, at the same instance price, and not counted
    other = line(est, "data quality runs [processing, not deployed: for comparison]")
    assert other.monthly_usd == Decimal("36.50") and not other.in_total
    # 36.50 + 1.40 + 116.80 + 1.00 + 3.00
    assert est.total_usd == Decimal("158.70")
    # no feature names in dev: the custom metrics are unpriced; no traffic figure: storage is unpriced
    assert sorted(ln.item for ln in est.unpriced) == ["capture storage", "data-quality custom metrics",
                                                       "report storage"]


def test_prod_monitors_and_alarms_worked_out_by_hand():
    est = estimate(params_of("prod"), FIXTURE, snapshot_counts("prod"))
    # data quality: hourly, 3600 s = 1 h, 1 x ml.m5.xlarge at $0.20: 730 * 1 * 1 * 0.20 = 146.00
    assert line(est, "data quality runs [model-monitor]").monthly_usd == Decimal("146.00")
    # model quality: hourly, 1800 s, ml.m5.xlarge, 1 instance (default): 730 * 0.5 * 0.20 = 73.00
    assert line(est, "model quality runs [model-monitor]").monthly_usd == Decimal("73.00")
    # 5 alarms * 0.10
    assert line(est, "CloudWatch alarms").monthly_usd == Decimal("0.50")
    # 24 endpoint-zones * 730 * 0.01 = 175.20 (the "about $175 a month per VPC")
    assert line(est, "interface VPC endpoints").monthly_usd == Decimal("175.20")


def test_every_n_hours_and_daily_schedules():
    est = estimate(params_of("staging"), FIXTURE, snapshot_counts("staging"))
    # churn's data quality runs every 6 hours: 730 / 6 = 121.666... runs * 1 h * 1 x ml.m5.xlarge * 0.20 = 24.33
    churn = line(est, "data quality runs [model-monitor]", "endpoint churn")
    assert churn.monthly_usd == Decimal("24.33")
    assert "121.67 runs" in churn.quantity
    # model bias is daily: 730 / 24 = 30.416... runs; Clarify monitors have no processing-engine line
    bias = [ln for ln in est.lines if ln.item.startswith("model bias runs")]
    assert bias and all("[model-monitor]" in ln.item for ln in bias)
    # Clarify's shadow endpoint during explainability runs has no price key: listed, unpriced, not $0
    shadow = line(est, "model explainability shadow endpoint", "endpoint churn")
    assert shadow.monthly_usd is None and shadow in est.unpriced


def test_metrics_priced_only_with_a_known_feature_count():
    params = params_of("dev")
    legacy = params.fleet()[0]
    dq = legacy.monitoring.data_quality
    named = dq.model_copy(update={"preprocessor": dq.preprocessor.model_copy(
        update={"feature_names": ["a", "b", "c"]})})
    monitoring = legacy.monitoring.model_copy(update={"data_quality": named})
    endpoint = FleetEndpoint(legacy.key, legacy.legacy, legacy.create, legacy.existing, monitoring)
    from mmtool.cost.estimate import metric_lines

    (metrics,) = metric_lines(params, endpoint, FIXTURE)
    # 3 features * 11 metrics = 33 * $0.30 = 9.90
    assert metrics.monthly_usd == Decimal("9.90")
    assert "33 metrics" in metrics.quantity


@pytest.mark.parametrize("engine, counted", [
    ("model-monitor", {"model-monitor"}),
    ("processing", {"processing"}),
    ("both", {"model-monitor", "processing"}),
])
def test_engines_side_by_side_and_only_the_running_ones_in_the_total(engine, counted):
    from mmtool.cost.estimate import monitor_lines

    params = params_of("dev")
    legacy = params.fleet()[0]
    monitoring = legacy.monitoring.model_copy(update={"engine": engine})  # the field issue 20 adds
    endpoint = FleetEndpoint(legacy.key, legacy.legacy, legacy.create, legacy.existing, monitoring)
    runs = [ln for ln in monitor_lines(params, endpoint, FIXTURE) if " runs [" in ln.item]
    assert len(runs) == 2  # both engines always shown for data quality
    assert {ln.item.split("[")[1].split(",")[0].rstrip("]") for ln in runs if ln.in_total} == counted


def test_unpriced_lines_are_never_summed_as_zero():
    empty = PriceTable((), "empty")
    est = estimate(params_of("dev"), empty, snapshot_counts("dev"))
    assert est.total_usd == Decimal(0)
    assert all(ln.monthly_usd is None for ln in est.lines)
    assert len(est.unpriced) == len([ln for ln in est.lines if ln.in_total])
    text = "\n".join(report.render(est))
    assert "$0.00 a month" in text and f"+ {len(est.unpriced)} unpriced line(s)" in text
    assert "= $0" not in text  # no line reads as free
    body = est.to_json()
    assert all(ln["monthly_usd"] is None for ln in body["lines"])
    assert body["unpriced_lines"] == len(est.unpriced)


def test_the_repository_snapshot_prices_eu_west_1_monitors_as_unpriced_not_zero():
    from mmtool.cost.prices import load_table

    est = estimate(params_of("dev"), load_table(), snapshot_counts("dev"))
    runs = line(est, "data quality runs [model-monitor]")
    assert runs.monthly_usd is None and "eu-west-1" in runs.unpriced
    assert line(est, "KMS keys").monthly_usd == Decimal("1.00")  # stated by AWS's page for every region


def test_without_counts_the_environment_lines_say_what_to_do():
    est = estimate(params_of("dev"), FIXTURE, None)
    assert "build the environment first" in line(est, "interface VPC endpoints").unpriced


def test_the_written_estimate_keeps_only_the_inputs_its_stack_has():
    # the monitoring stack's parameter file of the dev snapshot has the five DataQuality* parameters a
    # data-quality line is made of; a stack whose file lacks one keeps only those it has
    params = json.loads((SNAPSHOTS / "dev" / "monitoring.parameters.json").read_text())
    kept = {p["ParameterKey"] for p in params if p["ParameterKey"] != "DataQualityVolumeSizeGb"}
    est = estimate(params_of("dev"), FIXTURE, snapshot_counts("dev"))

    written = json.loads(report.file_bytes(est, {"monitoring": kept}))

    runs = next(ln for ln in written["lines"] if ln["item"] == "data quality runs [model-monitor]")
    assert runs["inputs"] == ["DataQualityScheduleExpression", "DataQualityInstanceType", "DataQualityInstanceCount",
                              "DataQualityMaxRuntimeSeconds"]
    # runs scale with the instance count and the runtime (x old / new when only those change)
    assert runs["proportional"] == ["DataQualityInstanceCount", "DataQualityMaxRuntimeSeconds"]
    volume = next(ln for ln in written["lines"] if ln["item"] == "data quality volume [model-monitor]")
    assert volume["proportional"] == ["DataQualityInstanceCount", "DataQualityMaxRuntimeSeconds"]  # no size key here
    full = next(ln for ln in est.lines if ln.item == "data quality volume [model-monitor]")
    assert full.proportional == ("DataQualityInstanceCount", "DataQualityMaxRuntimeSeconds", "DataQualityVolumeSizeGb")
    kms = next(ln for ln in written["lines"] if ln["item"] == "KMS keys")
    assert kms["inputs"] == []  # counted from the templates: the stack as a whole counts


def test_a_fleet_is_counted_as_the_full_templates_count():
    """count_stacks gives its evaluator only what the counts read of each template (the counted resources, and the
    parameters the Conditions read): the same counts as evaluating every stack's whole template, on a fleet whose
    endpoints differ in their monitors (every fifth runs all of them) and on staging."""
    from deployer.intrinsics import Evaluator
    from mmtool.config.loader import params_from_data
    from mmtool.cost.counts import KINDS
    from mmtool.generate.synth import synthesize
    from tests.fleet_data import fleet_data

    fleet = params_from_data(fleet_data(25), "params/staging.yaml", None, "staging", REPO)
    for params in (fleet, params_of("staging")):
        stacks = [(s.name, s.stack_name, s.template, s.parameters) for s in synthesize(params, REPO).stacks]
        whole = Counter()
        for _, stack_name, template, values in stacks:
            ev = Evaluator(template, values, region=params.region, account=None, stack_name=stack_name)
            for logical_id, body in template["Resources"].items():
                if body["Type"] in KINDS and ev.created(logical_id) is not False:
                    whole[KINDS[body["Type"]]] += 1
        counts = count_stacks(stacks, params.region)
        assert (counts.kms_keys, counts.alarms, counts.dashboards) == (
            whole["kms_keys"], whole["alarms"], whole["dashboards"])
        assert counts.alarms > len(stacks) and counts.undecided == 0
