"""A generated fleet environment of any size (params/staging.yaml with its endpoints replaced): every fifth endpoint
created, the others existing. Used by the limit and build tests (tests/generate/test_fleet_limits.py), the moto deploy
tests (tests/deployer/test_fleet_scale.py) and benchmarks; never committed as YAML."""

from __future__ import annotations

import copy

import yaml

from tests.conftest import REPO

ENDPOINTS = 200
CREATED_EVERY = 5  # every fifth endpoint is created: 40 created, 160 existing


def fleet_data(endpoints: int = ENDPOINTS, quotas: dict | None = None) -> dict:
    data = yaml.safe_load((REPO / "params" / "staging.yaml").read_text())
    created = next(entry for entry in data["endpoints"].values() if "create" in entry)
    existing = next(entry for entry in data["endpoints"].values() if "existing" in entry)
    fleet = {}
    for index in range(endpoints):
        if index % CREATED_EVERY == 0:
            entry = copy.deepcopy(created)
            entry["create"]["model_data_url"] = f"s3://churn-models-444455556666/e{index:03d}/model.tar.gz"
        else:
            entry = copy.deepcopy(existing)
            entry["existing"]["endpoint_name"] = f"scoring-{index:03d}"
        fleet[f"e{index:03d}"] = entry
    data["endpoints"] = fleet
    if quotas is not None:
        data["quotas"] = quotas
    return data


def baseline_uris(node, inside: bool = False):
    """Every s3:// URI under a `baseline` key of the params data: the baselines `make deploy` copies."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from baseline_uris(value, inside or "baseline" in str(key))
    elif isinstance(node, list):
        for item in node:
            yield from baseline_uris(item, inside)
    elif inside and isinstance(node, str) and node.startswith("s3://"):
        yield node


def put_baselines(s3, endpoints: int) -> None:
    """The baselines the params name, in their own bucket on the moto server (the deploy copies them first)."""
    for uri in set(baseline_uris(fleet_data(endpoints))):
        bucket, key = uri.removeprefix("s3://").split("/", 1)
        if bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": s3.meta.region_name})
        s3.put_object(Bucket=bucket, Key=key, Body=b"{}")
