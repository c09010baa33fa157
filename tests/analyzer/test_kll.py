"""The KLL sketch and the drift distances, against independent references: scipy's two-sample KS statistic,
scipy's chi-squared test, exact ranks, Model Monitor's own sketches, and a line-by-line transcription of
Deequ's one-item-at-a-time update as the oracle of the block update."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats

from scripts.analyzer.kll import KLLSketch, categorical_linf, chi2_sf, chi_squared, numerical_distance

from .conftest import BASELINE


def sketch_of(values, k=2048):
    sketch = KLLSketch(k)
    sketch.update(values)
    return sketch


# ---------------------------------------------------------------- Deequ's update, item by item (test oracle)


class DeequOracle:
    """QuantileNonSample.update/condense and NonSampleCompactor.compact, transcribed one step at a time
    (github.com/awslabs/deequ src/main/scala/com/amazon/deequ/analyzers/QuantileNonSample.scala)."""

    def __init__(self, k=2048, c=0.64):
        self.k, self.c = k, c
        self.compactors = [[]]
        self.num_compress = [0]
        self.offset = [0]

    def capacity(self, h):
        return 2 * (math.ceil(self.k * self.c ** h / 2) + 1)

    def update(self, item):
        self.compactors[0].append(item)
        if sum(map(len, self.compactors)) > sum(self.capacity(h) for h in range(len(self.compactors))):
            for h in range(len(self.compactors)):
                if len(self.compactors[h]) >= self.capacity(h):
                    if h + 1 >= len(self.compactors):
                        self.compactors.append([])
                        self.num_compress.append(0)
                        self.offset.append(0)
                    buffer = self.compactors[h]
                    even = len(buffer) - len(buffer) % 2
                    if self.num_compress[h] % 2 == 1:
                        self.offset[h] = 1 - self.offset[h]
                    output = sorted(buffer[:even])[self.offset[h]:even:2]
                    self.compactors[h] = buffer[even:]
                    self.num_compress[h] += 1
                    self.compactors[h + 1].extend(output)
                    break


def test_block_updates_leave_the_state_deequs_item_by_item_updates_leave():
    rng = np.random.default_rng(7)
    values = rng.normal(size=30_000).round(3)  # ties included
    oracle = DeequOracle(k=256)
    for value in values:
        oracle.update(float(value))
    sketch = KLLSketch(256)
    start = 0
    while start < len(values):  # blocks of random sizes, as rows arrive
        size = int(rng.integers(1, 5000))
        sketch.update(values[start:start + size])
        start += size
    assert sketch.data() == oracle.compactors
    assert len(sketch.data()) > 3  # several levels were compacted, so the comparison means something


def test_a_small_sketch_is_exact_and_keeps_arrival_order():
    values = [3.0, 1.0, 2.0, 2.0]
    assert sketch_of(values).data() == [values]


# ---------------------------------------------------------------- distances


@pytest.mark.parametrize("seed, n, m, shift", [(1, 100, 44, 0.0), (2, 2000, 1500, 0.3), (3, 50, 2050, 1.0)])
def test_simple_distance_is_scipys_two_sample_ks_statistic_on_exact_sketches(seed, n, m, shift):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 30, size=n).astype(float)  # many ties
    b = rng.integers(0, 30, size=m).astype(float) + shift
    expected = stats.ks_2samp(a, b).statistic
    assert numerical_distance(sketch_of(a), sketch_of(b), "Simple") == pytest.approx(expected, abs=1e-12)
    assert numerical_distance(sketch_of(b), sketch_of(a), "Simple") == pytest.approx(expected, abs=1e-12)


def test_robust_distance_subtracts_the_ks_critical_value_for_alpha_0_003():
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=300), rng.normal(0.8, size=200)
    simple = stats.ks_2samp(a, b).statistic
    expected = max(0.0, simple - 1.8 * math.sqrt((300 + 200) / (300 * 200)))
    assert expected > 0
    assert numerical_distance(sketch_of(a), sketch_of(b), "Robust") == pytest.approx(expected, abs=1e-12)
    # two small samples of the same distribution: the robust distance forgives the noise
    assert numerical_distance(sketch_of(a[:30]), sketch_of(a[30:60]), "Robust") == 0.0


def test_sketch_error_stays_within_its_bound_on_large_data_and_memory_stays_flat():
    rng = np.random.default_rng(5)
    retained = []
    for n in (200_000, 800_000):
        values = rng.lognormal(size=n)
        sketch = KLLSketch()
        for start in range(0, n, 8192):
            sketch.update(values[start:start + 8192])
        ordered = np.sort(values)
        queries = np.quantile(values, np.linspace(0.01, 0.99, 99))
        true_ranks = np.searchsorted(ordered, queries, side="right")
        errors = [abs(sketch.rank(q) - r) / n for q, r in zip(queries, true_ranks)]
        assert max(errors) < 0.005, max(errors)  # KLL's additive rank error, about 1/k-scale for k=2048
        retained.append(sum(len(level) for level in sketch.data()))
    assert retained[1] < 1.3 * retained[0] < 8000  # 4x the data, about the same memory


def test_ks_distance_of_sketches_of_large_samples_approximates_scipys():
    rng = np.random.default_rng(6)
    a, b = rng.normal(size=300_000), rng.normal(0.05, size=300_000)
    expected = stats.ks_2samp(a, b).statistic
    assert numerical_distance(sketch_of(a), sketch_of(b), "Simple") == pytest.approx(expected, abs=0.01)


def test_model_monitors_own_sketches_give_their_own_buckets():
    """Deequ's buckets, recomputed from the sketch Model Monitor stored, are the buckets it stored."""
    document = json.loads((BASELINE / "data-quality-statistics.json").read_text())
    for feature in document["features"]:
        numbers = feature["numerical_statistics"]
        kll = numbers["distribution"]["kll"]
        sketch = KLLSketch.from_data(kll["sketch"]["data"], int(kll["sketch"]["parameters"]["k"]),
                                     kll["sketch"]["parameters"]["c"])
        assert sketch.buckets(numbers["min"], numbers["max"]) == kll["buckets"], feature["name"]
        assert sketch.count() == document["dataset"]["item_count"]


def test_categorical_linf_by_hand():
    current = {"a": 6, "b": 3, "c": 1}
    baseline = {"a": 50, "b": 50}
    # |0.6-0.5| = 0.1, |0.3-0.5| = 0.2, |0.1-0| = 0.1
    assert categorical_linf(current, baseline, "Simple") == pytest.approx(0.2)
    robust = max(0.0, 0.2 - 1.8 * math.sqrt((10 + 100) / (10 * 100)))
    assert categorical_linf(current, baseline, "Robust") == pytest.approx(robust)
    assert categorical_linf({"x": 5}, {"x": 7}, "Simple") == 0.0


def test_chi_squared_is_pearsons_goodness_of_fit_when_no_category_is_small():
    current = {"a": 40, "b": 35, "c": 25, "new": 9}  # a category the baseline lacks is not tested
    baseline = {"a": 300, "b": 400, "c": 300}
    statistic, p_value, dof = chi_squared(current, baseline)
    observed = np.array([40, 35, 25], dtype=float)
    expected = np.array([0.3, 0.4, 0.3]) * observed.sum()
    reference = stats.chisquare(observed, expected)
    assert (statistic, p_value, dof) == (pytest.approx(reference.statistic), pytest.approx(reference.pvalue), 2)


def test_chi_squared_regroups_small_expected_categories_like_deequ():
    # expected (scaled to the sample's 100): a 80, b 15, c 3, d 2 -> two of four below 5 (> 20 % of 4, i.e. > 0)
    # d (smallest) merges into c -> a 80, b 15, c 5 -> none below 5 among three: stop.
    current = {"a": 70, "b": 20, "c": 6, "d": 4}
    baseline = {"a": 800, "b": 150, "c": 30, "d": 20}
    statistic, p_value, dof = chi_squared(current, baseline)
    reference = stats.chisquare([70, 20, 10], [80, 15, 5])
    assert (statistic, p_value, dof) == (pytest.approx(reference.statistic), pytest.approx(reference.pvalue), 2)


def test_chi_squared_needs_two_categories():
    statistic, p_value, dof = chi_squared({"a": 10}, {"a": 10})
    assert math.isnan(p_value) and dof == 0


@pytest.mark.parametrize("dof", [1, 2, 3, 7, 30, 101])
def test_chi2_survival_function_matches_scipy(dof):
    for x in (0.01, 0.5, 1.0, dof * 0.7, dof, dof * 1.5, dof + 40.0):
        assert chi2_sf(x, dof) == pytest.approx(stats.chi2.sf(x, dof), rel=1e-9, abs=1e-300)
