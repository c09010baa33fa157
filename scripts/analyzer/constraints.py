"""Suggested constraints (baselining) and the data-quality constraint checks, in Model Monitor's formats.

Formats and options: AWS's "Schema for Constraints" and "Schema for Violations" pages
(https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-byoc-constraints.html,
https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-interpreting-violations.html).
How each check reads its option (the pages describe them in words only; docs/engine.md lists them):

* `data_type_check`: the share of a column's present values of the baseline's type (Integral values
  count as Fractional, anything as String) is below `datatype_check_threshold` (default 0.1);
* `completeness_check`: the share of rows with a value is below the feature's `completeness`;
* `categorical_values_check`: the share of a String column's values inside `string_constraints.domains`
  is below `domain_content_threshold` (default 0.1);
* `baseline_drift_check` (when `distribution_constraints.perform_comparison` is Enabled, the default):
  numerical columns, Deequ's L-infinity distance between the baseline's KLL sketch and ours
  (`comparison_method` Simple or Robust, default Robust) above `comparison_threshold` (default 0.1);
  String columns, the categorical L-infinity distance (same method) above
  `categorical_comparison_threshold` (default: `comparison_threshold`), or with
  `categorical_drift_method: ChiSquared` the chi-squared test's p-value below that threshold;
* `missing_column_check` / `extra_column_check`: a baseline column the data lacks / a column the
  baseline lacks.

`evaluate_constraints: Disabled` (globally or in a feature's `monitoringConfigOverrides`) skips the
checks of that scope; per-feature overrides may also set the thresholds.

Suggestions follow what Model Monitor's baselining writes (the reference sample in
tests/data/reference/baseline-samples/data-quality-constraints.json) and Deequ's suggestion rules
(github.com/awslabs/deequ, `src/main/scala/com/amazon/deequ/suggestions/rules/`): the inferred type,
the observed completeness, `is_non_negative` when the minimum is >= 0 (NonNegativeNumbersRule),
`domains` for a String column whose share of values seen once is <= 0.1 (CategoricalRangeRule), most
frequent first.
"""

import json
import math
import re

from .errors import InputError
from .kll import KLLSketch, categorical_linf, chi_squared, numerical_distance

DEFAULT_DATATYPE_CHECK_THRESHOLD = 0.1
DEFAULT_DOMAIN_CONTENT_THRESHOLD = 0.1
DEFAULT_COMPARISON_THRESHOLD = 0.1
DEFAULT_COMPARISON_METHOD = "Robust"
DEFAULT_CATEGORICAL_DRIFT_METHOD = "LInfinity"

_CONFORMS = {
    "Integral": ("Integral",),
    "Fractional": ("Integral", "Fractional"),
    "String": ("Integral", "Fractional", "Boolean", "String"),
}
_HEADERLESS = re.compile(r"_c(\d+)\Z")


def read_json(path, what):
    try:
        with open(path, encoding="utf-8") as stream:
            document = json.load(stream)
    except FileNotFoundError:
        raise InputError("%s: no such file (the baseline's %s)" % (path, what))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError("%s: cannot read the %s (%s)" % (path, what, exc))
    except ValueError as exc:
        raise InputError("%s: not valid JSON (%s); expected a %s" % (path, exc, what))
    if not isinstance(document, dict):
        raise InputError("%s: expected a JSON object (a %s)" % (path, what))
    return document


def load_statistics(path):
    document = read_json(path, "statistics.json")
    features = document.get("features")
    if not isinstance(features, list) or not all(isinstance(f, dict) and isinstance(f.get("name"), str)
                                                 for f in features):
        raise InputError("%s: no 'features' list of named columns; expected a data-quality statistics.json" % path)
    if "monitoring_config" in document:
        raise InputError("%s: this is a constraints.json; pass it as --constraints" % path)
    return document


def load_constraints(path):
    document = read_json(path, "constraints.json")
    features = document.get("features")
    if not isinstance(features, list) or not all(isinstance(f, dict) and isinstance(f.get("name"), str)
                                                 for f in features):
        raise InputError("%s: no 'features' list of named columns; expected a data-quality constraints.json" % path)
    if "dataset" in document or any("numerical_statistics" in f or "string_statistics" in f for f in features):
        raise InputError("%s: this is a statistics.json; pass it as --statistics" % path)
    if not isinstance(document.get("monitoring_config", {}), dict):
        raise InputError("%s: monitoring_config must be an object" % path)
    return document


# ---------------------------------------------------------------- suggestions


def suggest(statistics, high_cardinality=()):
    """constraints.json for a statistics.json (as Model Monitor's baselining suggests it)."""
    rows = statistics["dataset"]["item_count"]
    features = []
    for feature in statistics["features"]:
        kind = feature["inferred_type"]
        entry = {"name": feature["name"], "inferred_type": kind}
        stats = feature.get("numerical_statistics") or feature.get("string_statistics") or {}
        present = stats.get("common", {}).get("num_present", 0)
        entry["completeness"] = present / float(rows) if rows else 0.0
        if "numerical_statistics" in feature:
            entry["num_constraints"] = {"is_non_negative": feature["numerical_statistics"]["min"] >= 0}
        elif kind == "String" and feature["name"] not in high_cardinality:
            buckets = feature["string_statistics"].get("distribution", {}).get("categorical", {}).get("buckets", [])
            if buckets:
                seen_once = sum(1 for bucket in buckets if bucket["count"] == 1)
                if seen_once / float(len(buckets)) <= 0.1:
                    ordered = sorted(buckets, key=lambda b: -b["count"])
                    entry["string_constraints"] = {"domains": [b["value"] for b in ordered]}
        features.append(entry)
    return {
        "version": 0.0,
        "features": features,
        "monitoring_config": {
            "evaluate_constraints": "Enabled",
            "emit_metrics": "Enabled",
            "datatype_check_threshold": 1.0,
            "domain_content_threshold": 1.0,
            "distribution_constraints": {
                "perform_comparison": "Enabled",
                "comparison_threshold": DEFAULT_COMPARISON_THRESHOLD,
                "comparison_method": DEFAULT_COMPARISON_METHOD,
            },
        },
    }


# ---------------------------------------------------------------- checks


def _enabled(value, default=True):
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).lower() != "disabled"


def _number(config, key, default, where):
    value = config.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise InputError("%s: %s=%r: must be a number" % (where, key, value))
    return float(value)


def _choice(config, key, default, allowed, where):
    value = config.get(key, default)
    if value not in allowed:
        raise InputError("%s: %s=%r: must be one of %s" % (where, key, value, ", ".join(allowed)))
    return value


class Settings:
    """monitoring_config with defaults, merged with one feature's overrides."""

    def __init__(self, config, where):
        distribution = config.get("distribution_constraints") or {}
        if not isinstance(distribution, dict):
            raise InputError("%s: distribution_constraints must be an object" % where)
        self.evaluate = _enabled(config.get("evaluate_constraints"))
        self.emit_metrics = _enabled(config.get("emit_metrics"))
        self.datatype_threshold = _number(config, "datatype_check_threshold", DEFAULT_DATATYPE_CHECK_THRESHOLD, where)
        self.domain_threshold = _number(config, "domain_content_threshold", DEFAULT_DOMAIN_CONTENT_THRESHOLD, where)
        # `perform_comparison` (current schema) or `enable_comparisons` (older files, e.g. the SDK's fixtures)
        self.compare = _enabled(distribution.get("perform_comparison", distribution.get("enable_comparisons")))
        self.threshold = _number(distribution, "comparison_threshold", DEFAULT_COMPARISON_THRESHOLD, where)
        self.method = _choice(distribution, "comparison_method", DEFAULT_COMPARISON_METHOD, ("Simple", "Robust"), where)
        self.categorical_threshold = _number(distribution, "categorical_comparison_threshold", self.threshold, where)
        self.categorical_method = _choice(distribution, "categorical_drift_method", DEFAULT_CATEGORICAL_DRIFT_METHOD,
                                          ("LInfinity", "ChiSquared"), where)
        self._config = config
        self._where = where

    def for_feature(self, feature):
        overrides = {}
        strings = feature.get("string_constraints") if isinstance(feature.get("string_constraints"), dict) else {}
        for candidate in (feature.get("monitoringConfigOverrides"), feature.get("monitoring_config_overrides"),
                          strings.get("monitoring_config_overrides"), strings.get("monitoringConfigOverrides")):
            if isinstance(candidate, dict):
                overrides.update(candidate)
        if not overrides:
            return self
        merged = dict(self._config)
        merged.update(overrides)
        if "distribution_constraints" in overrides:
            distribution = dict(self._config.get("distribution_constraints") or {})
            distribution.update(overrides["distribution_constraints"] or {})
            merged["distribution_constraints"] = distribution
        return Settings(merged, "%s feature %r" % (self._where, feature["name"]))


def match_columns(produced, names):
    """{produced name: baseline name}: by name, or by position against a headerless CSV baseline."""
    if set(produced) & set(names) or not produced:
        return {key: key for key in produced if key in names}
    positions = [_HEADERLESS.match(name) for name in names]
    if all(positions) and sorted(int(m.group(1)) for m in positions) == list(range(len(names))):
        ordered = sorted(names, key=lambda name: int(name[2:]))
        if all(key.isdigit() for key in produced):
            return dict(zip(sorted(produced), ordered))
    return {}


def _violation(name, check, description):
    return {"feature_name": name, "constraint_check_type": check, "description": description}


def _requirement(value):
    return "Value: %r does not meet the constraint requirement! " % float(value)


def _baseline_sketch(feature):
    kll = feature.get("numerical_statistics", {}).get("distribution", {}).get("kll", {})
    sketch = kll.get("sketch")
    if not isinstance(sketch, dict) or not isinstance(sketch.get("data"), list):
        return None
    parameters = sketch.get("parameters", {})
    return KLLSketch.from_data(sketch["data"], int(parameters.get("k", 2048)), float(parameters.get("c", 0.64)))


def _baseline_categories(feature):
    buckets = feature.get("string_statistics", {}).get("distribution", {}).get("categorical", {}).get("buckets")
    if not isinstance(buckets, list):
        return None
    return {str(bucket["value"]): bucket["count"] for bucket in buckets}


def check(profile, constraints, statistics, where="constraints.json"):
    """(violations, drift {baseline feature name: distance}) of the profiled data against the baseline."""
    config = constraints.get("monitoring_config") or {} if constraints is not None else {}
    settings = Settings(config, where)
    baseline_features = (constraints or statistics)["features"]
    stats_by_name = {f["name"]: f for f in (statistics or {}).get("features", [])}
    names = [f["name"] for f in baseline_features]
    produced = sorted(profile.columns)
    mapping = match_columns(produced, names)
    by_baseline = {target: key for key, target in mapping.items()}
    rows = profile.rows
    violations = []
    drift = {}
    if not settings.evaluate:
        return violations, drift
    for feature in baseline_features:
        feature_settings = settings.for_feature(feature)
        name = feature["name"]
        key = by_baseline.get(name)
        if not feature_settings.evaluate:
            continue
        if key is None:
            violations.append(_violation(name, "missing_column_check",
                                         "There are missing columns in current dataset. Number of columns in "
                                         "current dataset: %d, Number of columns in baseline constraints: %d"
                                         % (len(produced), len(names))))
            continue
        column = profile.columns[key]
        present = column.present
        kind = feature.get("inferred_type")
        if constraints is not None:
            allowed = _CONFORMS.get(kind)
            if allowed is not None and present:
                ratio = sum(column.kinds[k] for k in allowed) / float(present)
                if ratio < feature_settings.datatype_threshold:
                    violations.append(_violation(name, "data_type_check", _requirement(ratio)))
            completeness = feature.get("completeness")
            if isinstance(completeness, (int, float)) and rows:
                observed = present / float(rows)
                if observed < completeness - 1e-12:
                    violations.append(_violation(name, "completeness_check", _requirement(observed)))
            domains = (feature.get("string_constraints") or {}).get("domains")
            if domains and present:
                domain = set(str(d) for d in domains)
                inside = sum(count for value, count in column.categories.items() if value in domain)
                ratio = inside / float(present)
                if ratio < feature_settings.domain_threshold:
                    violations.append(_violation(name, "categorical_values_check", _requirement(ratio)))
        baseline = stats_by_name.get(name)
        if baseline is None or not feature_settings.compare:
            continue
        sketch = _baseline_sketch(baseline)
        if sketch is not None and column.numeric_count:
            distance = numerical_distance(column.sketch, sketch, feature_settings.method)
            if math.isnan(distance):  # an empty baseline sketch: nothing to compare with
                continue
            drift[name] = distance
            if distance > feature_settings.threshold:
                violations.append(_violation(name, "baseline_drift_check",
                                             "Numerical distance: %r exceeds numerical threshold: %r"
                                             % (distance, feature_settings.threshold)))
            continue
        categories = _baseline_categories(baseline)
        if categories and present:
            threshold = feature_settings.categorical_threshold
            if feature_settings.categorical_method == "ChiSquared":
                _statistic, p_value, _dof = chi_squared(column.categories, categories)
                if math.isnan(p_value):
                    continue
                drift[name] = p_value
                if p_value < threshold:
                    violations.append(_violation(name, "baseline_drift_check",
                                                 "Categorical chi-squared p-value: %r is below categorical "
                                                 "threshold: %r" % (p_value, threshold)))
            else:
                distance = categorical_linf(column.categories, categories, feature_settings.method)
                if math.isnan(distance):
                    continue
                drift[name] = distance
                if distance > threshold:
                    violations.append(_violation(name, "baseline_drift_check",
                                                 "Categorical distance: %r exceeds categorical threshold: %r"
                                                 % (distance, threshold)))
    if constraints is not None or statistics is not None:
        for key in produced:
            if key not in mapping:
                violations.append(_violation(key, "extra_column_check",
                                             "There are extra columns in current dataset. Number of columns in "
                                             "current dataset: %d, Number of columns in baseline constraints: %d"
                                             % (len(produced), len(names))))
    return violations, drift
