"""`build.py cost` and `build.py prices` through the CLI's one error boundary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mmtool.cli import main
from tests.conftest import scratch_root

OFFERS = Path(__file__).resolve().parent.parent / "data" / "offers"


def test_cost_builds_then_prints_the_estimate_and_the_build_keeps_it_for_the_plan(tmp_path, capsys, monkeypatch):
    paths = scratch_root(tmp_path)
    linted = []
    monkeypatch.setattr("mmtool.generate.lint.lint", lambda jobs, **kwargs: linted.append(jobs) or [])

    assert main(["cost", "--env", "dev"], paths=paths) == 0
    assert linted == []  # the estimate needs the templates, not cfn-lint's verdict on them

    out = capsys.readouterr().out
    assert "Monthly estimate for dev (eu-west-1)" in out
    assert "KMS keys: 1 key(s) = $1.00" in out
    assert "price: $1/key-month (https://aws.amazon.com/kms/pricing/" in out
    assert "data quality runs [model-monitor]: 730 runs (hourly) x 0.5 h x 1 ml.m5.large = UNPRICED" in out
    assert "unpriced line(s), not counted (never as $0)" in out
    written = json.loads((paths.build / "dev" / "cost.json").read_text())
    assert written["environment"] == "dev" and written["total_usd"] == "1.00"


def test_cost_needs_an_environment(tmp_path, capsys):
    assert main(["cost"], paths=scratch_root(tmp_path)) == 2
    assert "make cost ENV=<name>" in capsys.readouterr().err


def test_prices_from_offer_files_update_the_snapshot_given(tmp_path, capsys):
    paths = scratch_root(tmp_path)
    out = tmp_path / "prices.json"
    out.write_text((Path(__file__).resolve().parents[2] / "mmtool" / "cost" / "data" / "prices.json").read_text())

    assert main(["prices", "--offers", str(OFFERS), "--region", "eu-west-1", "--out", str(out)], paths=paths) == 0

    table = json.loads(out.read_text())
    keys = {(p["key"], p["dimension"], p["region"]): p for p in table["prices"]}
    assert keys[("sagemaker.processing.instance-hour", "ml.m5.large", "eu-west-1")]["usd"] == "0.128"
    assert ("kms.key-month", "", "*") in keys  # kept
    assert "3 price(s) for eu-west-1" in capsys.readouterr().out


def test_prices_refuses_a_missing_folder(tmp_path, capsys):
    assert main(["prices", "--offers", str(tmp_path / "nope"), "--region", "eu-west-1",
                 "--out", str(tmp_path / "p.json")], paths=scratch_root(tmp_path)) == 2
    assert "not a folder of offer files" in capsys.readouterr().err


def test_live_prices_without_credentials_is_one_line_naming_the_permission(tmp_path, capsys, monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")

    code = main(["prices", "--live-prices", "--region", "eu-west-1", "--out", str(tmp_path / "p.json")],
                paths=scratch_root(tmp_path))

    err = capsys.readouterr().err
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert "pricing:GetProducts" in err and "Traceback" not in err
    assert not (tmp_path / "p.json").exists()
