"""Streaming column statistics against pandas, Deequ's type rules, and Model Monitor's statistics.json shape."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from scripts.analyzer.profile import MAX_CATEGORIES, MAX_NUMERIC_CATEGORIES, DatasetProfile, value_kind

from .conftest import BASELINE


def profile_rows(rows):
    profile = DatasetProfile()
    for row in rows:
        profile.add(row)
    return profile.statistics(), profile


def test_numerical_statistics_match_pandas_over_many_blocks_with_missing_values():
    rng = np.random.default_rng(11)
    n = 30_000  # several blocks of 8192 rows
    values = rng.normal(1e6, 3.0, size=n).round(4)  # a large mean: a naive sum of squares would lose digits
    missing = rng.random(n) < 0.1
    rows = [{"x": None if m else repr(float(v)), "k": str(int(v) % 7)} for v, m in zip(values, missing)]
    statistics, _ = profile_rows(rows)
    series = pd.Series(values[~missing])
    x = next(f for f in statistics["features"] if f["name"] == "x")
    numbers = x["numerical_statistics"]
    assert x["inferred_type"] == "Fractional"
    assert numbers["common"] == {"num_present": int((~missing).sum()), "num_missing": int(missing.sum())}
    assert numbers["mean"] == pytest.approx(series.mean(), rel=1e-12)
    assert numbers["sum"] == pytest.approx(series.sum(), rel=1e-12)
    assert numbers["std_dev"] == pytest.approx(series.std(ddof=0), rel=1e-9)  # Deequ: population std dev
    assert (numbers["min"], numbers["max"]) == (series.min(), series.max())
    assert sum(b["count"] for b in numbers["distribution"]["kll"]["buckets"]) == pytest.approx(len(series), rel=0.01)
    k = next(f for f in statistics["features"] if f["name"] == "k")
    assert k["inferred_type"] == "Integral"
    assert statistics["dataset"]["item_count"] == n


def test_completeness_counts_absent_keys_and_none_as_missing():
    rows = [{"a": "1", "b": "x"}, {"a": None}, {"b": "y"}, {"a": "2", "b": "x", "c": "late"}]
    statistics, profile = profile_rows(rows)
    frame = pd.DataFrame(rows)
    for feature in statistics["features"]:
        common = (feature.get("numerical_statistics") or feature["string_statistics"])["common"]
        assert common["num_present"] == frame[feature["name"]].notna().sum()
        assert common["num_missing"] == frame[feature["name"]].isna().sum()
    assert [f["name"] for f in statistics["features"]] == ["a", "b", "c"]  # sorted, as Model Monitor orders keys


@pytest.mark.parametrize("value, kind", [
    ("42", "Integral"), ("-7", "Integral"), ("+ 3", "Integral"), ("1.5", "Fractional"), ("-2.0e-3", "Fractional"),
    ("3E5", "Fractional"), (".5", "String"), ("1.", "String"), ("nan", "String"), ("inf", "String"),
    (" 5", "Integral"), ("  5", "String"), ("true", "Boolean"), ("True", "String"), ("١٢", "String"), ("abc", "String"),
    (3, "Integral"), (2.5, "Fractional"), (True, "Boolean"),
])
def test_value_types_follow_deequs_patterns(value, kind):
    assert value_kind(value) == kind


@pytest.mark.parametrize("values, inferred", [
    (["1", "2"], "Integral"),
    (["1", "2.5"], "Fractional"),
    (["1", "x"], "String"),
    (["true", "false"], "String"),  # Boolean: Model Monitor's schema has no Boolean type
    (["true", "1"], "String"),
    ([None, None], "Unknown"),
    ([1, 2.5], "Fractional"),
])
def test_column_type_is_deequs_decision(values, inferred):
    statistics, _ = profile_rows([{"c": v} for v in values])
    assert statistics["features"][0]["inferred_type"] == inferred


def test_block_fast_paths_count_types_like_one_value_at_a_time():
    rng = np.random.default_rng(3)
    pool = ["12", "-4", "0.5", "1e3", "abc", "true", ".5", "- 2", "7.25"]
    values = [pool[i] for i in rng.integers(0, len(pool), size=20_000)]
    _, profile = profile_rows([{"c": v} for v in values])
    counts = pd.Series([value_kind(v) for v in values]).value_counts().to_dict()
    assert {k: v for k, v in profile.columns["c"].kinds.items() if v} == counts
    numbers = [float(v.replace(" ", "")) for v in values if value_kind(v) in ("Integral", "Fractional")]
    assert profile.columns["c"].sum == pytest.approx(sum(numbers))


def test_string_statistics_have_categorical_buckets_most_frequent_first():
    statistics, _ = profile_rows([{"s": v} for v in ["b", "a", "b", "c", "b", "a"]])
    strings = statistics["features"][0]["string_statistics"]
    assert strings["distinct_count"] == 3.0
    assert strings["distribution"]["categorical"]["buckets"] == [
        {"value": "b", "count": 3}, {"value": "a", "count": 2}, {"value": "c", "count": 1}]


def test_category_tables_are_capped():
    _, profile = profile_rows([{"s": "v%d" % i, "x": "%d.5" % i, "k": str(i % 7)} for i in range(MAX_CATEGORIES + 500)])
    assert len(profile.columns["s"].categories) == MAX_CATEGORIES
    assert len(profile.columns["x"].categories) == MAX_NUMERIC_CATEGORIES
    assert profile.columns["s"].categories_overflow and profile.columns["x"].categories_overflow
    assert profile.columns["k"].categories == {str(i): (MAX_CATEGORIES + 500) // 7 + (i < (MAX_CATEGORIES + 500) % 7)
                                               for i in range(7)}


def test_our_statistics_have_the_keys_and_types_of_model_monitors():
    reference = json.loads((BASELINE / "data-quality-statistics.json").read_text())
    values = reference["features"][0]["numerical_statistics"]["distribution"]["kll"]["sketch"]["data"][0]
    ours, _ = profile_rows([{"_c0": repr(v)} for v in values])

    def shape(node):
        if isinstance(node, dict):
            return {key: shape(value) for key, value in node.items()}
        if isinstance(node, list):
            return [shape(node[0])] if node else []
        return type(node).__name__

    assert shape(ours) == shape({**reference, "features": reference["features"][:1]})
    # and, on the same 100 values, the same figures
    feature, theirs = ours["features"][0]["numerical_statistics"], reference["features"][0]["numerical_statistics"]
    for key in ("mean", "sum", "std_dev", "min", "max", "common"):
        assert feature[key] == pytest.approx(theirs[key]), key
    assert feature["distribution"] == theirs["distribution"]
