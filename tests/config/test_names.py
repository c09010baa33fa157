"""Validation refuses environments of one params folder whose composed names could meet (mmtool/config/names.py):
the reported case is `project: churn-ta, environment: ab` beside `project: churn, environment: ta`, where ta's
endpoint key `ab` composes ab's stack names."""

from __future__ import annotations

import pytest
import yaml

from mmtool.config import names
from mmtool.config.workspace import validate
from mmtool.errors import ParamsError

from ..conftest import REPO, dev_params, write_params

STAGING_ACCOUNT = yaml.safe_load((REPO / "params" / "staging.yaml").read_text())["account_id"]


def environment(scratch, env: str, project: str, **values: str) -> None:
    data = dev_params()
    data.update(project=project, environment=env, **values)
    write_params(scratch, data, env)


def test_the_repository_params_have_no_clash(scratch) -> None:
    assert set(validate(scratch, scratch.environments())) == {"dev", "staging", "prod"}


@pytest.mark.parametrize("only", [None, "ab", "ta"], ids=["all", "ab-alone", "ta-alone"])
def test_a_prefix_that_continues_another_is_refused_even_when_validated_alone(scratch, only) -> None:
    environment(scratch, "ab", "churn-ta")
    environment(scratch, "ta", "churn")
    envs = scratch.environments() if only is None else [only]
    with pytest.raises(ParamsError) as caught:
        validate(scratch, envs)
    text = "\n".join(p.render() for p in caught.value.problems)
    if only in (None, "ab"):
        assert "/params/ab.yaml:1: project: churn-ta-ab: this environment's names start with churn-ta-ab-, which " \
               "params/ta.yaml composes for an endpoint key 'ab' (churn-ta-ab-endpoint)" in text
    if only in (None, "ta"):
        assert "/params/ta.yaml:1: project: churn-ta: params/ab.yaml's names start with churn-ta-ab-" in text
    assert "could meet" in text


def test_the_same_prefix_from_two_files_is_refused(scratch) -> None:
    environment(scratch, "x-y", "churn")
    environment(scratch, "y", "churn-x")
    with pytest.raises(ParamsError, match=r"composes the same names as params/y.yaml \(churn-x-y-...\)"):
        validate(scratch, ["x-y"])


def test_names_that_only_share_a_start_are_fine(scratch) -> None:
    """churn-dev and churn-devx never meet: no key can follow churn-dev with 'x'."""
    environment(scratch, "devx", "churn")
    assert "devx" in validate(scratch, ["devx", "dev"])


def test_a_broken_neighbour_is_its_own_problem(scratch) -> None:
    (scratch.params / "broken.yaml").write_text("project: [\n")
    assert "dev" in validate(scratch, ["dev"])


def fleet_environment(scratch, env: str, project: str = "churn") -> None:
    data = yaml.safe_load((REPO / "params" / "staging.yaml").read_text())
    data.update(project=project, environment=env)
    write_params(scratch, data, env)


def test_a_fleet_whose_overview_search_finds_another_environment_is_refused(scratch) -> None:
    """The overview dashboard searches `churn-stg` by name tokens (docs/fleet.md): `churn-stg2-...` holds them in a
    row (digits start a token), so stg's overview would show stg2's metrics; `churn-stgb-...` does not."""
    fleet_environment(scratch, "stg")
    environment(scratch, "stg2", "churn", account_id=STAGING_ACCOUNT)  # metrics are per account and region
    with pytest.raises(ParamsError) as caught:
        validate(scratch, ["stg"])
    text = "\n".join(p.render() for p in caught.value.problems)
    assert "/params/stg.yaml:" in text and "project: churn-stg: this fleet's overview dashboard searches for " \
        "churn-stg by name tokens, which params/stg2.yaml's names (churn-stg2-...) hold too" in text
    assert "stg2" in validate(scratch, ["stg2"])  # a single endpoint's dashboard searches exact names


def test_a_fleet_beside_an_environment_named_apart_by_letters_is_fine(scratch) -> None:
    fleet_environment(scratch, "stg")
    environment(scratch, "stgb", "churn")
    environment(scratch, "ab", "old-churn")  # tokens old, churn, ab: not churn, stg in a row
    assert set(validate(scratch, ["stg", "stgb", "ab"])) == {"stg", "stgb", "ab"}


def test_a_fleet_beside_a_token_sharing_environment_of_another_account_or_region_is_fine(scratch) -> None:
    """Metrics are kept per account and region: stg2 elsewhere cannot show on stg's overview."""
    fleet_environment(scratch, "stg")
    environment(scratch, "stg2", "churn")  # dev's account, not staging's
    assert dev_params()["account_id"] != yaml.safe_load((REPO / "params" / "staging.yaml").read_text())["account_id"]
    assert set(validate(scratch, ["stg", "stg2"])) == {"stg", "stg2"}
    assert not names._same_metrics(("1", "eu-west-1"), ("1", "us-west-2"))
    assert names._same_metrics(("1", "eu-west-1"), ("1", None))  # an unreadable file is taken to share them


def test_each_params_file_is_read_once(scratch, monkeypatch) -> None:
    """The name-clash check takes what it needs of the validated files from validation instead of parsing them
    again (a 200-endpoint file takes most of a second to parse); the other environments' files are read once."""
    from collections import Counter

    from mmtool.config import loader

    reads: Counter[str] = Counter()
    real = loader.read_yaml

    def counted(path, name):
        reads[path.name] += 1
        return real(path, name)

    monkeypatch.setattr(loader, "read_yaml", counted)
    assert set(validate(scratch, ["dev", "staging"])) == {"dev", "staging"}
    assert reads == {"dev.yaml": 1, "staging.yaml": 1, "prod.yaml": 1}
