"""Model quality: captured predictions joined with Ground Truth labels, Model Monitor's metrics and checks.

Ground truth is Model Monitor's format: JSON lines `{"groundTruthData": {"data": "1", "encoding": "CSV"},
"eventMetadata": {"eventId": "..."}, "eventVersion": "0"}` in hourly folders
(https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-model-quality-merge.html). A label joins
the captured record with the same `inferenceId` when the capture has one, else the same `eventId`.

The prediction is read from the record's output: with `inference_attribute` a CSV column index or a
dotted key path into the JSON output (`predicted_label`, `predictions.0`); with only
`probability_attribute` (binary), the label is `probability >= probability_threshold_attribute`
(default 0.5); without either, the first value of the output.

Metrics per problem type, with the names of Model Monitor's model-quality statistics
(https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-model-quality-metrics.html):

* BinaryClassification: confusion_matrix (rows: actual label), accuracy, precision, recall, f0_5, f1,
  f2, true/false positive/negative rates, auc (from the probabilities when given, else the labels),
  the precision-recall and ROC curves, and `*_best_constant_classifier` = the classifier that always
  predicts the positive label (what the reference sample's figures are);
* MulticlassClassification: confusion_matrix, accuracy, weighted_precision, weighted_recall,
  weighted_f0_5, weighted_f1, weighted_f2 and their `_best_constant_classifier` (always the most
  frequent actual label);
* Regression: mae, mse, rmse, r2.

`standard_deviation` as Model Monitor's: with at least 200 joined items, the sample standard deviation of
the metric over five random 80 % subsamples of them (drawn without replacement, seeded: the same items give
the same figures); with fewer items, or when the metric is undefined in a subsample, "NaN"
(https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-model-quality-metrics.html, the note at the top).
Constraints: `{problem}_constraints: {metric: {threshold, comparison_operator}}`, the operators
GreaterThanThreshold, LessThanThreshold, GreaterThanOrEqualToThreshold, LessThanOrEqualToThreshold.
"""

import json

import numpy as np

from .errors import InputError, NoDataError

PROBLEM_TYPES = {
    "BinaryClassification": "binary_classification",
    "MulticlassClassification": "multiclass_classification",
    "Regression": "regression",
}
# Lower is better for these: their suggested constraint fires when the value grows past the baseline's.
_LOWER_IS_BETTER = {"mae", "mse", "rmse", "false_positive_rate", "false_negative_rate"}
_OPERATORS = {
    "GreaterThanThreshold": lambda value, threshold: value > threshold,
    "LessThanThreshold": lambda value, threshold: value < threshold,
    "GreaterThanOrEqualToThreshold": lambda value, threshold: value >= threshold,
    "LessThanOrEqualToThreshold": lambda value, threshold: value <= threshold,
}
NAN = "NaN"
# Model Monitor's standard deviation of a metric: "provided only when at least 200 samples are available";
# "randomly sampling 80% of the data five times, computing the metric, and taking the standard deviation of those
# results" (the page above). The seed makes a run reproducible; sample (n - 1) standard deviation, as Spark's stddev.
SD_MIN_ITEMS = 200
SD_SUBSAMPLES = 5
SD_FRACTION = 0.8
SD_SEED = 0
_trapezoid = getattr(np, "trapezoid", None) or np.trapz  # numpy 2 renamed it; the image may have numpy 1.2x


def _pick(document, attribute):
    value = document
    for part in str(attribute).split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.lstrip("-").isdigit() and -len(value) <= int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def _decode(event):
    text = event.data
    if event.encoding == "BASE64":
        import base64

        text = base64.b64decode(text).decode("utf-8")
    return text


def extract(event, attribute=None):
    """One value of a captured output (or label): CSV column `attribute` or JSON key path `attribute`."""
    if event is None or not isinstance(event.data, str):
        return None
    text = _decode(event).strip()
    if event.encoding == "CSV" or "csv" in str(event.observedContentType).lower():
        values = text.split("\n")[0].split(",")
        try:
            index = int(attribute) if attribute not in (None, "") else 0
        except ValueError:
            raise InputError("attribute %r: a CSV output is read by column index (0, 1, ...)" % (attribute,))
        return values[index].strip() if -len(values) <= index < len(values) else None
    try:
        document = json.loads(text)
    except ValueError:
        document = json.loads(text.split("\n")[0])
    if attribute in (None, ""):
        while isinstance(document, (list, dict)) and document:
            document = document[0] if isinstance(document, list) else next(iter(document.values()))
        return document
    return _pick(document, attribute)


def join_key(event):
    metadata = event.get("eventMetadata") or {}
    return metadata.get("inferenceId") or metadata.get("eventId")


class Merger:
    """Predictions by join key, then labels matched to them (memory: one entry per captured record)."""

    def __init__(self, problem_type, inference_attribute=None, probability_attribute=None,
                 probability_threshold=0.5):
        if problem_type not in PROBLEM_TYPES:
            raise InputError("problem_type=%r: must be one of %s" % (problem_type, ", ".join(PROBLEM_TYPES)))
        self.problem_type = problem_type
        self.inference_attribute = inference_attribute
        self.probability_attribute = probability_attribute
        self.threshold = float(probability_threshold)
        self.predictions = {}
        self.pairs = []

    def add_capture(self, record):
        key = join_key(record.event_dict)
        output = record.endpoint_output if record.endpoint_output is not None else record.batch_transform_output
        if key is None or output is None:
            return
        probability = None
        if self.probability_attribute not in (None, ""):
            probability = to_float(extract(output, self.probability_attribute))
        if self.inference_attribute not in (None, ""):
            label = extract(output, self.inference_attribute)
        elif probability is not None and self.problem_type == "BinaryClassification":
            label = 1 if probability >= self.threshold else 0
        else:
            label = extract(output)
        self.predictions[key] = (label, probability)

    def add_ground_truth(self, record):
        key = join_key(record.event_dict)
        if record.ground_truth is None or key not in self.predictions:
            return
        label = extract(record.ground_truth)
        prediction, probability = self.predictions.pop(key)
        self.pairs.append((label, prediction, probability))

    def metrics(self):
        if not self.pairs:
            raise NoDataError("no captured prediction in the window has a ground-truth label (joined on "
                              "inferenceId, else eventId): the run has no data")
        actual = [pair[0] for pair in self.pairs]
        predicted = [pair[1] for pair in self.pairs]
        probabilities = [pair[2] for pair in self.pairs]
        if self.problem_type == "Regression":
            actual, predicted = _floats(actual, "ground truth"), _floats(predicted, "prediction")
            compute = lambda i: regression_metrics(actual[i], predicted[i])  # noqa: E731
        elif self.problem_type == "BinaryClassification":
            scores = None if any(p is None for p in probabilities) else np.array(probabilities, dtype=float)
            actual, predicted = _binary(actual), _binary(predicted)
            compute = lambda i: binary_metrics(actual[i], predicted[i], None if scores is None else scores[i])  # noqa: E731
        else:
            actual, predicted = np.array([_label(a) for a in actual]), np.array([_label(p) for p in predicted])
            compute = lambda i: multiclass_metrics(actual[i].tolist(), predicted[i].tolist())  # noqa: E731
        return with_standard_deviations(compute, len(self.pairs))


def subsamples(count, seed=SD_SEED):
    """Model Monitor's five random 80 % subsamples of `count` items: sorted index arrays, drawn without replacement."""
    rng = np.random.default_rng(seed)
    size = int(count * SD_FRACTION)
    return [np.sort(rng.choice(count, size=size, replace=False)) for _ in range(SD_SUBSAMPLES)]


def with_standard_deviations(compute, count):
    """`compute(indices)` on all `count` items, each scalar metric's standard_deviation from the subsamples."""
    metrics = compute(np.arange(count))
    if count < SD_MIN_ITEMS:
        return metrics
    runs = [compute(indices) for indices in subsamples(count)]
    for name, metric in metrics.items():
        if isinstance(metric, dict) and "standard_deviation" in metric:
            values = [run[name]["value"] for run in runs]
            if all(isinstance(value, float) for value in values):  # an undefined metric's value is "NaN"
                metric["standard_deviation"] = float(np.std(values, ddof=1))
    return metrics


def to_float(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _floats(values, what):
    result = [to_float(v) for v in values]
    if any(v is None for v in result):
        raise InputError("a %s is not a number (%r)" % (what, values[result.index(None)]))
    return np.array(result, dtype=float)


def _label(value):
    number = to_float(value)
    if number is not None and number == int(number):
        return str(int(number))
    return str(value).strip()


def _binary(values):
    result = []
    for value in values:
        label = _label(value).lower()
        if label in ("1", "true"):
            result.append(1)
        elif label in ("0", "false"):
            result.append(0)
        else:
            raise InputError("binary classification label %r is not 0/1 or true/false (a probability? set "
                             "probability_attribute, and inference_attribute for the label if the output has one)"
                             % (value,))
    return np.array(result, dtype=int)


def _metric(value):
    value = float(value)
    return {"value": value if value == value else NAN, "standard_deviation": NAN}


def _ratio(numerator, denominator):
    return numerator / float(denominator) if denominator else float("nan")


def _f_beta(precision, recall, beta):
    if precision != precision or recall != recall or (precision == 0 and recall == 0):
        return 0.0 if precision == 0 and recall == 0 else float("nan")
    return (1 + beta * beta) * precision * recall / (beta * beta * precision + recall)


def _prf(tp, fp, fn):
    precision = _ratio(tp, tp + fp)
    recall = _ratio(tp, tp + fn)
    return precision, recall


def roc_curve(actual, scores):
    """(false positive rates, true positive rates) at every distinct score, highest first."""
    order = np.argsort(-scores, kind="mergesort")
    sorted_scores = scores[order]
    hits = actual[order]
    last = np.r_[np.nonzero(np.diff(sorted_scores))[0], len(sorted_scores) - 1]
    tps = np.cumsum(hits)[last]
    fps = (last + 1) - tps
    positives, negatives = hits.sum(), len(hits) - hits.sum()
    tpr = np.r_[0.0, tps / float(positives) if positives else tps * np.nan]
    fpr = np.r_[0.0, fps / float(negatives) if negatives else fps * np.nan]
    return fpr, tpr, tps, fps


def binary_metrics(actual, predicted, scores=None):
    tp = int(np.sum((actual == 1) & (predicted == 1)))
    tn = int(np.sum((actual == 0) & (predicted == 0)))
    fp = int(np.sum((actual == 0) & (predicted == 1)))
    fn = int(np.sum((actual == 1) & (predicted == 0)))
    total = len(actual)
    precision, recall = _prf(tp, fp, fn)
    fpr, tpr, tps, fps = roc_curve(actual, scores if scores is not None else predicted.astype(float))
    auc = float(_trapezoid(tpr, fpr))
    # the constant classifier that always says "positive"
    positives = tp + fn
    constant_precision, constant_recall = _prf(positives, total - positives, 0)
    result = {
        "confusion_matrix": {"0": {"0": tn, "1": fp}, "1": {"0": fn, "1": tp}},
        "accuracy": _metric(_ratio(tp + tn, total)),
        "precision": _metric(precision),
        "recall": _metric(recall),
        "f0_5": _metric(_f_beta(precision, recall, 0.5)),
        "f1": _metric(_f_beta(precision, recall, 1.0)),
        "f2": _metric(_f_beta(precision, recall, 2.0)),
        "true_positive_rate": _metric(recall),
        "true_negative_rate": _metric(_ratio(tn, tn + fp)),
        "false_positive_rate": _metric(_ratio(fp, fp + tn)),
        "false_negative_rate": _metric(_ratio(fn, fn + tp)),
        "auc": _metric(auc),
        "receiver_operating_characteristic_curve": {
            "false_positive_rates": fpr.tolist(), "true_positive_rates": tpr.tolist()},
        "precision_recall_curve": {
            "precisions": (tps / (tps + fps)).tolist(), "recalls": tpr[1:].tolist()},
        "accuracy_best_constant_classifier": _metric(_ratio(positives, total)),
        "precision_best_constant_classifier": _metric(constant_precision),
        "recall_best_constant_classifier": _metric(constant_recall),
        "f0_5_best_constant_classifier": _metric(_f_beta(constant_precision, constant_recall, 0.5)),
        "f1_best_constant_classifier": _metric(_f_beta(constant_precision, constant_recall, 1.0)),
        "f2_best_constant_classifier": _metric(_f_beta(constant_precision, constant_recall, 2.0)),
    }
    return dict(sorted(result.items()))


def _weighted(actual, predicted, labels):
    """Support-weighted precision, recall and F-scores over the actual labels."""
    total = float(len(actual))
    sums = {"precision": 0.0, "recall": 0.0, 0.5: 0.0, 1.0: 0.0, 2.0: 0.0}
    for label in labels:
        support = sum(1 for a in actual if a == label)
        if not support:
            continue
        tp = sum(1 for a, p in zip(actual, predicted) if a == label and p == label)
        fp = sum(1 for a, p in zip(actual, predicted) if a != label and p == label)
        precision = _ratio(tp, tp + fp)
        precision = 0.0 if precision != precision else precision
        recall = _ratio(tp, support)
        weight = support / total
        sums["precision"] += weight * precision
        sums["recall"] += weight * recall
        for beta in (0.5, 1.0, 2.0):
            sums[beta] += weight * _f_beta(precision, recall, beta)
    return sums


def multiclass_metrics(actual, predicted):
    labels = sorted(set(actual) | set(predicted))
    matrix = {a: {p: 0 for p in labels} for a in labels}
    for a, p in zip(actual, predicted):
        matrix[a][p] += 1
    total = len(actual)
    majority = max(sorted(set(actual)), key=actual.count)
    scores = _weighted(actual, predicted, labels)
    constant = _weighted(actual, [majority] * total, labels)
    result = {"confusion_matrix": matrix,
              "accuracy": _metric(_ratio(sum(1 for a, p in zip(actual, predicted) if a == p), total)),
              "accuracy_best_constant_classifier": _metric(_ratio(actual.count(majority), total))}
    for prefix, values in (("", scores), ("_best_constant_classifier", constant)):
        result["weighted_precision" + prefix] = _metric(values["precision"])
        result["weighted_recall" + prefix] = _metric(values["recall"])
        result["weighted_f0_5" + prefix] = _metric(values[0.5])
        result["weighted_f1" + prefix] = _metric(values[1.0])
        result["weighted_f2" + prefix] = _metric(values[2.0])
    return dict(sorted(result.items()))


def regression_metrics(actual, predicted):
    errors = predicted - actual
    mse = float(np.mean(errors ** 2))
    total = float(np.sum((actual - actual.mean()) ** 2))
    r2 = 1.0 - float(np.sum(errors ** 2)) / total if total else float("nan")
    return {"mae": _metric(np.mean(np.abs(errors))), "mse": _metric(mse), "rmse": _metric(mse ** 0.5),
            "r2": _metric(r2)}


def statistics(problem_type, metrics, item_count, evaluation_time=None):
    dataset = {"item_count": item_count}
    if evaluation_time:
        dataset["evaluation_time"] = evaluation_time
    return {"version": 0.0, "dataset": dataset, PROBLEM_TYPES[problem_type] + "_metrics": metrics}


def suggest(problem_type, metrics):
    """Constraints from baseline metrics: each scalar metric must not get worse than the baseline."""
    constraints = {}
    for name, value in metrics.items():
        if isinstance(value, dict) and isinstance(value.get("value"), float):
            operator = "GreaterThanThreshold" if name in _LOWER_IS_BETTER else "LessThanThreshold"
            constraints[name] = {"threshold": value["value"], "comparison_operator": operator}
    return {"version": 0.0, PROBLEM_TYPES[problem_type] + "_constraints": constraints}


def check(problem_type, metrics, constraints, where="constraints.json"):
    """Model Monitor's model-quality violations: one per metric that crosses its threshold."""
    key = PROBLEM_TYPES[problem_type] + "_constraints"
    rules = constraints.get(key)
    if not isinstance(rules, dict):
        raise InputError("%s: no %s object; expected the model-quality constraints of a %s baseline"
                         % (where, key, problem_type))
    violations = []
    for name, rule in sorted(rules.items()):
        operator = rule.get("comparison_operator") if isinstance(rule, dict) else None
        if operator not in _OPERATORS or not isinstance(rule.get("threshold"), (int, float)):
            raise InputError("%s: %s.%s: needs a numeric threshold and comparison_operator one of %s"
                             % (where, key, name, ", ".join(_OPERATORS)))
        metric = metrics.get(name)
        if not isinstance(metric, dict) or not isinstance(metric.get("value"), float):
            continue
        if _OPERATORS[operator](metric["value"], rule["threshold"]):
            violations.append({
                "constraint_check_type": operator,
                "description": "Metric %s with %r +/- %s was %s '%r'" % (
                    name, metric["value"], metric["standard_deviation"], operator, rule["threshold"]),
                "metric_name": name,
            })
    return violations
