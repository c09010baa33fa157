"""Property: whatever a params file holds, the loader returns a valid `Params` or raises our `ParamsError`
(one readable problem per line), never another exception. Hypothesis searches for the counterexample."""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mmtool.errors import ParamsError
from mmtool.config.loader import params_from_data, read_yaml
from mmtool.config.params import Params
from tests.conftest import REPO, dev_params

NAME = "params/dev.yaml"
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=40),
    st.sampled_from(["", "0", "dev", "eu-west-1", "hourly", "now", "cron(0 * ? * * *)", "s3://b-1/k.json",
                     "10.30.0.0/22", "eu-west-1a", "$(rm -rf /)", "${AWS::AccountId}", "{{resolve:ssm:x}}",
                     "`id`", "a\nb", "\x00", "*"]),
)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.one_of(st.text(max_size=12), st.integers()), inner, max_size=4)),
    max_leaves=20)


def outcome(data: object) -> Params | None:
    try:
        return params_from_data(data, NAME, None, "dev", REPO)
    except ParamsError as exc:
        assert exc.problems and all(p.file == NAME for p in exc.problems)
        assert all("\n" not in p.render() for p in exc.problems), exc.problems
        return None


@SETTINGS
@given(values)
def test_any_document_validates_or_raises_params_error(data):
    outcome(data)


def _paths(node: object, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, prefix + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, prefix + (index,))
    return found


@st.composite
def mutated_dev(draw) -> dict:
    """The valid dev params with a few values replaced, removed or added anywhere in the tree."""
    data = copy.deepcopy(dev_params())
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        path = draw(st.sampled_from(_paths(data)[1:]))
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "replace":
            parent[path[-1]] = draw(values)
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=12))] = draw(values)
        else:
            parent.append(draw(values))
    return data


@SETTINGS
@given(mutated_dev())
def test_any_mutation_of_a_valid_file_validates_or_raises_params_error(data):
    result = outcome(data)
    if result is not None:
        assert result.environment == "dev"


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=300), st.binary(max_size=300)))
def test_any_file_content_reads_or_raises_params_error(content):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "dev.yaml"
        path.write_bytes(content.encode("utf-8", "surrogatepass") if isinstance(content, str) else content)
        try:
            data, _ = read_yaml(path, NAME)
        except ParamsError:
            return
        outcome(data)
