"""Baselines in another bucket are used from copies in the project bucket (mmtool/config/baselines.py; issue 16 #2):
the keys the build gives them. The deploy engine makes the copies (tests/deployer/test_baseline_copies.py).
"""

from __future__ import annotations

from mmtool.config.baselines import baseline_copies, copy_key
from templates import monitoring

OUTSIDE = "churn-baselines-444455556666"
DQ = {"constraints": f"s3://{OUTSIDE}/data-quality/2026-11-20/constraints.json",
      "statistics": f"s3://{OUTSIDE}/data-quality/2026-11-20/statistics.json"}
MQ = f"s3://{OUTSIDE}/model-quality/2026-11-20/constraints.json"  # staging's


def test_copy_keys_are_under_baselines_which_the_role_already_reads():
    # foundation's role reads and lists baselines/*; nothing else is granted for baselines any more.
    key = copy_key(MQ)
    assert key.startswith("baselines/imported/") and key.endswith("/constraints.json")
    assert copy_key(MQ) != copy_key(DQ["constraints"])  # same file name, other source: other key


def test_a_fleet_copies_every_endpoints_baselines_under_that_endpoints_own_prefix():
    """staging is a fleet: churn's and fraud's baselines are copied to baselines/<key>/imported/..., which only that
    endpoint's role reads (its BaselinesPrefix), and each copy is where that endpoint's monitoring stack reads it."""
    from mmtool.config.loader import load_params
    from tests.conftest import REPO

    staging = load_params(REPO / "params" / "staging.yaml", REPO)
    copies = baseline_copies(staging)
    assert [c.field for c in copies] == [
        "endpoints.churn.monitoring.data_quality.baseline.constraints",
        "endpoints.churn.monitoring.data_quality.baseline.statistics",
        "endpoints.churn.monitoring.model_quality.baseline_constraints",
        "endpoints.fraud.monitoring.data_quality.baseline.constraints",
        "endpoints.fraud.monitoring.data_quality.baseline.statistics",
    ]
    read = set()
    for endpoint in staging.fleet():
        values = monitoring.parameter_values(staging, endpoint, {})
        keys = {v for k, v in values.items() if k.endswith(("BaselineConstraintsKey", "BaselineStatisticsKey")) and v}
        assert all(key.startswith(values["BaselinesPrefix"] + "/imported/") for key in keys), endpoint.key
        read |= keys
    assert read == {c.key for c in copies}
    assert copy_key(MQ, "baselines/churn") != copy_key(MQ)  # one source, two endpoints: two copies
    # the build hands them to the deploy engine with their endpoint: `make deploy ENV=staging ENDPOINT=fraud` copies
    # (and plan checks) fraud's only (deployer/manifest.py, select)
    from mmtool.generate.synth import baseline_copy_entries

    assert [c["endpoint"] for c in baseline_copy_entries(staging)] == ["churn", "churn", "churn", "fraud", "fraud"]


def test_a_fleets_copies_need_no_shared_monitoring_role():
    """A fleet's foundation publishes no monitoring-role-arn (each endpoint's stack has its own role): reading
    the deployed bucket and key for the copies must not ask for it."""
    from types import SimpleNamespace

    from mmtool.config.loader import load_params
    from mmtool.operate.awsenv import deployed_values
    from tests.conftest import REPO

    staging = load_params(REPO / "params" / "staging.yaml", REPO)
    asked: list[str] = []

    def get_parameters(Names):  # noqa: N803 - boto3's spelling
        asked.extend(Names)
        return {"Parameters": [{"Name": n, "Value": "subnet-1,subnet-2" if "subnet" in n else f"<{n}>"} for n in Names]}

    values = deployed_values(SimpleNamespace(ssm=SimpleNamespace(get_parameters=get_parameters)), staging)
    assert "/churn/staging/foundation/monitoring-role-arn" not in asked and values.monitoring_role_arn == ""
    assert values.bucket == "</churn/staging/foundation/bucket-name>"
