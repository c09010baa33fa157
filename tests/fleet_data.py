"""A generated fleet environment of any size (params/staging.yaml with its endpoints replaced): every fifth endpoint
created, the others existing. Used by the limit and build tests (tests/build/test_fleet_limits.py), the moto deploy
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
