"""Model quality: the SDK's real capture and ground-truth samples joined on eventId, metrics against
independent references (pandas, scipy, Model Monitor's own sample figures), and the constraint check."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from scripts.analyzer import capture, model_quality, run
from scripts.analyzer.errors import NoDataError

from .conftest import BASELINE, CAPTURE


def events(path):
    return capture.local_events(capture.local_files(str(path)))


def truth_table():
    """The samples joined by hand: eventId -> (label, probability)."""
    labels = {}
    for line in (CAPTURE / "actuals.jsonl").read_text().splitlines():
        record = json.loads(line)
        labels[record["eventMetadata"]["eventId"]] = int(record["groundTruthData"]["data"])
    rows = []
    for line in (CAPTURE / "capture.jsonl").read_text().splitlines():
        record = json.loads(line)
        event_id = record["eventMetadata"]["eventId"]
        if event_id in labels:
            rows.append((labels[event_id], float(record["captureData"]["endpointOutput"]["data"])))
    return pd.DataFrame(rows, columns=["label", "probability"])


def test_binary_classification_on_the_sdks_samples(tmp_path):
    statistics, violations = run.check_model_quality(
        events(CAPTURE / "capture.jsonl"), events(CAPTURE / "actuals.jsonl"), str(tmp_path), "BinaryClassification",
        probability_attribute="0")
    table = truth_table()
    predicted = (table["probability"] >= 0.5).astype(int)
    metrics = statistics["binary_classification_metrics"]
    assert statistics["dataset"]["item_count"] == len(table) == 44
    crosstab = pd.crosstab(table["label"], predicted).reindex(index=[0, 1], columns=[0, 1], fill_value=0)
    assert metrics["confusion_matrix"] == {str(a): {str(p): int(crosstab.loc[a, p]) for p in (0, 1)} for a in (0, 1)}
    tp = ((table["label"] == 1) & (predicted == 1)).sum()
    assert metrics["accuracy"]["value"] == pytest.approx((table["label"] == predicted).mean())
    assert metrics["precision"]["value"] == pytest.approx(tp / predicted.sum())
    assert metrics["recall"]["value"] == pytest.approx(tp / table["label"].sum())
    positives = table.loc[table["label"] == 1, "probability"]
    negatives = table.loc[table["label"] == 0, "probability"]
    u = stats.mannwhitneyu(positives, negatives).statistic  # AUC = U / (n1 * n0)
    assert metrics["auc"]["value"] == pytest.approx(u / (len(positives) * len(negatives)))
    curve = metrics["receiver_operating_characteristic_curve"]
    assert curve["false_positive_rates"][0] == 0.0 and curve["true_positive_rates"][-1] == 1.0
    assert violations == []
    assert json.loads((tmp_path / "statistics.json").read_text()) == statistics


def test_binary_figures_of_model_monitors_sample_are_reproduced():
    """The SDK's model-card fixture: its confusion matrix (actual 0: 1 right, 2 wrong; actual 1: 1 right)
    and Model Monitor's figures for it, including the constant classifier's."""
    reference = json.loads((BASELINE / "model-quality-binary-classification-statistics.json").read_text())
    expected = reference["binary_classification_metrics"]
    ours = model_quality.binary_metrics(np.array([0, 0, 0, 1]), np.array([0, 1, 1, 1]))
    assert ours["confusion_matrix"] == expected["confusion_matrix"]
    for name in ("accuracy", "precision", "recall", "f0_5", "f1", "f2", "false_negative_rate", "false_positive_rate",
                 "true_negative_rate", "true_positive_rate", "accuracy_best_constant_classifier",
                 "precision_best_constant_classifier", "recall_best_constant_classifier",
                 "f0_5_best_constant_classifier", "f1_best_constant_classifier", "f2_best_constant_classifier"):
        assert ours[name]["value"] == pytest.approx(expected[name]["value"], abs=1e-12), name
    assert set(expected) <= set(ours)


def test_multiclass_metrics_by_hand():
    actual = ["a", "a", "a", "b", "b", "c"]
    predicted = ["a", "b", "a", "b", "c", "c"]
    metrics = model_quality.multiclass_metrics(actual, predicted)
    assert metrics["accuracy"]["value"] == pytest.approx(4 / 6)
    # per class (precision, recall, support): a (1, 2/3, 3), b (1/2, 1/2, 2), c (1/2, 1, 1)
    assert metrics["weighted_precision"]["value"] == pytest.approx((3 * 1 + 2 * 0.5 + 1 * 0.5) / 6)
    assert metrics["weighted_recall"]["value"] == pytest.approx((3 * 2 / 3 + 2 * 0.5 + 1 * 1) / 6)
    f1 = [2 * 1 * (2 / 3) / (1 + 2 / 3), 0.5, 2 * 0.5 / 1.5]
    assert metrics["weighted_f1"]["value"] == pytest.approx((3 * f1[0] + 2 * f1[1] + 1 * f1[2]) / 6)
    assert metrics["accuracy_best_constant_classifier"]["value"] == pytest.approx(3 / 6)
    assert metrics["confusion_matrix"]["a"] == {"a": 2, "b": 1, "c": 0}


def test_regression_metrics_match_pandas():
    rng = np.random.default_rng(2)
    actual = rng.normal(10, 2, size=500)
    predicted = actual + rng.normal(0.3, 1, size=500)
    metrics = model_quality.regression_metrics(actual, predicted)
    errors = pd.Series(predicted - actual)
    assert metrics["mae"]["value"] == pytest.approx(errors.abs().mean())
    assert metrics["mse"]["value"] == pytest.approx((errors ** 2).mean())
    assert metrics["rmse"]["value"] == pytest.approx((errors ** 2).mean() ** 0.5)
    assert metrics["r2"]["value"] == pytest.approx(1 - (errors ** 2).sum() / ((actual - actual.mean()) ** 2).sum())


def test_regression_check_against_model_monitors_constraints_file():
    constraints = json.loads((BASELINE / "model-quality-regression-constraints.json").read_text())
    baseline = json.loads((BASELINE / "model-quality-regression-statistics.json").read_text())["regression_metrics"]
    assert model_quality.check("Regression", {k: {"value": float(v["value"]), "standard_deviation": "NaN"}
                                              for k, v in baseline.items()}, constraints) == []
    worse = {"mae": 0.9, "mse": 0.2, "rmse": 0.4, "r2": -4.0}
    violations = model_quality.check("Regression", {k: {"value": v, "standard_deviation": "NaN"}
                                                    for k, v in worse.items()}, constraints)
    assert [(v["metric_name"], v["constraint_check_type"]) for v in violations] == [
        ("mae", "GreaterThanThreshold"), ("r2", "LessThanThreshold")]
    assert violations[0]["description"].startswith("Metric mae with 0.9 +/- NaN was GreaterThanThreshold '0.504")


def test_suggested_model_quality_constraints_keep_the_baselines_direction():
    baseline = json.loads((BASELINE / "model-quality-regression-statistics.json").read_text())["regression_metrics"]
    suggested = model_quality.suggest("Regression", {k: {"value": float(v["value"])} for k, v in baseline.items()})
    assert suggested == json.loads((BASELINE / "model-quality-regression-constraints.json").read_text())


def test_json_outputs_and_inference_ids(tmp_path):
    """JSON output read by key path; a capture's inferenceId, when present, is the join key."""
    capture_file, truth_file = tmp_path / "c.jsonl", tmp_path / "t.jsonl"
    lines, labels = [], []
    for i in range(20):
        lines.append({"captureData": {"endpointOutput": {"observedContentType": "application/json", "mode": "OUTPUT",
                                                         "data": json.dumps({"predicted_label": i % 3}),
                                                         "encoding": "JSON"}},
                      "eventMetadata": {"eventId": "e%d" % i, "inferenceId": "i%d" % i}, "eventVersion": "0"})
        labels.append({"groundTruthData": {"data": str(i % 3 if i < 15 else 0), "encoding": "CSV"},
                       "eventMetadata": {"eventId": "i%d" % i}, "eventVersion": "0"})
    capture_file.write_text("\n".join(map(json.dumps, lines)))
    truth_file.write_text("\n".join(map(json.dumps, labels)))
    statistics, _ = run.check_model_quality(events(capture_file), events(truth_file), str(tmp_path / "o"),
                                            "MulticlassClassification", inference_attribute="predicted_label")
    assert statistics["dataset"]["item_count"] == 20
    assert statistics["multiclass_classification_metrics"]["accuracy"]["value"] == pytest.approx(17 / 20)


def test_no_label_joins_is_no_data(tmp_path):
    with pytest.raises(NoDataError, match="no captured prediction"):
        run.check_model_quality(events(CAPTURE / "capture.jsonl"),
                                events(CAPTURE / "01d3c1a8-aa99-4149-9d5e-78bea047a788.jsonl"),
                                str(tmp_path), "BinaryClassification")


def test_model_quality_baseline_of_a_labelled_csv_then_a_check_against_it(tmp_path):
    rng = np.random.default_rng(8)
    label = rng.integers(0, 2, size=400)
    score = np.clip(label * 0.6 + rng.random(400) * 0.5, 0, 1)
    pd.DataFrame({"label": label, "score": score.round(4)}).to_csv(tmp_path / "train.csv", index=False)
    statistics, suggested = run.baseline_model_quality(str(tmp_path / "train.csv"), str(tmp_path / "b"),
                                                       "BinaryClassification", "label", None, "score", header=True)
    predicted = (score.round(4) >= 0.5).astype(int)
    metrics = statistics["binary_classification_metrics"]
    assert metrics["accuracy"]["value"] == pytest.approx((predicted == label).mean())
    rules = suggested["binary_classification_constraints"]
    assert rules["accuracy"] == {"threshold": metrics["accuracy"]["value"], "comparison_operator": "LessThanThreshold"}
    assert rules["false_positive_rate"]["comparison_operator"] == "GreaterThanThreshold"
    # the baseline against itself: no violation; a worse model: accuracy and more fall below it
    assert model_quality.check("BinaryClassification", metrics, suggested) == []
    worse = model_quality.binary_metrics(label, 1 - predicted, None)
    fired = {v["metric_name"] for v in model_quality.check("BinaryClassification", worse, suggested)}
    assert {"accuracy", "f1", "recall"} <= fired


def merged(problem_type, pairs):
    merger = model_quality.Merger(problem_type)
    merger.pairs.extend(pairs)
    return merger.metrics()


def test_standard_deviations_only_from_200_items_as_model_monitor():
    """AWS: "provided only when at least 200 samples are available"; below, "NaN" as in Model Monitor's own
    100-item regression statistics (tests/data/reference/baseline-samples)."""
    rng = np.random.default_rng(5)
    pairs = [(float(a), float(a + e), None) for a, e in zip(rng.normal(10, 2, 200), rng.normal(0, 1, 200))]
    below = merged("Regression", pairs[:199])
    reference = json.loads((BASELINE / "model-quality-regression-statistics.json").read_text())
    assert reference["dataset"]["item_count"] < 200
    assert {m["standard_deviation"] for m in below.values()} == \
        {m["standard_deviation"] for m in reference["regression_metrics"].values()} == {"NaN"}
    at = merged("Regression", pairs)
    assert all(isinstance(m["standard_deviation"], float) and m["standard_deviation"] > 0 for m in at.values())


def test_subsamples_are_five_distinct_80_percent_draws_without_replacement():
    draws = model_quality.subsamples(437)
    assert len(draws) == 5 and all(len(d) == int(437 * 0.8) == len(set(d.tolist())) for d in draws)
    assert all(0 <= d.min() and d.max() < 437 for d in draws)
    assert len({tuple(d.tolist()) for d in draws}) == 5
    assert [d.tolist() for d in model_quality.subsamples(437)] == [d.tolist() for d in draws]  # reproducible


def test_regression_standard_deviations_match_an_independent_computation():
    """Each subsample's metrics recomputed in plain Python (no numpy), their sample standard deviation by the
    standard library's statistics.stdev."""
    import math
    import statistics as pystats

    rng = np.random.default_rng(11)
    actual = rng.normal(10, 2, 500).tolist()
    predicted = [a + e for a, e in zip(actual, rng.normal(0.3, 1, 500).tolist())]
    metrics = merged("Regression", list(zip(actual, predicted, [None] * 500)))
    per_run = {"mae": [], "mse": [], "rmse": [], "r2": []}
    for draw in model_quality.subsamples(500):
        a = [actual[i] for i in draw.tolist()]
        p = [predicted[i] for i in draw.tolist()]
        errors = [y - x for x, y in zip(a, p)]
        mse = sum(e * e for e in errors) / len(errors)
        mean = sum(a) / len(a)
        per_run["mae"].append(sum(abs(e) for e in errors) / len(errors))
        per_run["mse"].append(mse)
        per_run["rmse"].append(math.sqrt(mse))
        per_run["r2"].append(1 - sum(e * e for e in errors) / sum((x - mean) ** 2 for x in a))
    for name, values in per_run.items():
        assert metrics[name]["standard_deviation"] == pytest.approx(pystats.stdev(values), rel=1e-9), name
    assert metrics["mae"]["value"] == pytest.approx(sum(abs(y - x) for x, y in zip(actual, predicted)) / 500)


def test_classification_standard_deviations_match_an_independent_computation():
    import statistics as pystats

    rng = np.random.default_rng(12)
    labels = rng.integers(0, 2, 300).tolist()
    predictions = [l if r > 0.25 else 1 - l for l, r in zip(labels, rng.random(300).tolist())]
    metrics = merged("BinaryClassification", [(str(l), str(p), None) for l, p in zip(labels, predictions)])
    accuracy, precision = [], []
    for draw in model_quality.subsamples(300):
        pairs = [(labels[i], predictions[i]) for i in draw.tolist()]
        accuracy.append(sum(a == p for a, p in pairs) / len(pairs))
        precision.append(sum(a == p == 1 for a, p in pairs) / sum(p == 1 for _, p in pairs))
    assert metrics["accuracy"]["standard_deviation"] == pytest.approx(pystats.stdev(accuracy), rel=1e-9)
    assert metrics["precision"]["standard_deviation"] == pytest.approx(pystats.stdev(precision), rel=1e-9)
    # the constant classifier's figures vary with the subsample's share of positives, and have their spread too
    assert isinstance(metrics["accuracy_best_constant_classifier"]["standard_deviation"], float)

    classes = ["a", "b", "c"]
    actual = [classes[i] for i in rng.integers(0, 3, 250).tolist()]
    guess = [a if r > 0.4 else "a" for a, r in zip(actual, rng.random(250).tolist())]
    multi = merged("MulticlassClassification", list(zip(actual, guess, [None] * 250)))
    runs = [sum(actual[i] == guess[i] for i in d.tolist()) / len(d) for d in model_quality.subsamples(250)]
    assert multi["accuracy"]["standard_deviation"] == pytest.approx(pystats.stdev(runs), rel=1e-9)


def test_a_metric_undefined_in_a_subsample_keeps_nan():
    """Precision of a model that never predicts the positive label is undefined (0/0): its value and its
    standard deviation are "NaN", while the defined metrics get theirs."""
    metrics = merged("BinaryClassification", [(str(i % 2), "0", None) for i in range(240)])
    assert metrics["precision"] == {"value": "NaN", "standard_deviation": "NaN"}
    assert isinstance(metrics["accuracy"]["standard_deviation"], float)
