"""The data-quality checks: Model Monitor's baseline files read as they are (their KLL sketches drive the drift
check), every check type with its options, and the suggested constraints."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from scripts.analyzer import capture, constraints, run
from scripts.analyzer.errors import InputError
from scripts.analyzer.profile import DatasetProfile

from .conftest import BASELINE, CAPTURE

STATISTICS = BASELINE / "data-quality-statistics.json"
CONSTRAINTS = BASELINE / "data-quality-constraints.json"
PREPROCESSOR = Path(__file__).resolve().parents[2] / "scripts" / "record_preprocessor.py"


def events(path=CAPTURE / "capture.jsonl"):
    return capture.local_events(capture.local_files(str(path)))


def by_type(violations):
    found = {}
    for violation in violations:
        found.setdefault(violation["constraint_check_type"], []).append(violation["feature_name"])
    return found


def test_model_monitors_baseline_is_read_as_is_and_its_sketches_drive_the_drift_check(tmp_path):
    """The SDK's capture sample (CSV, 7 inputs + 1 output) through the project's pre-processor, against
    Model Monitor's 6-column headerless baseline: the zero-padded keys are matched to _c0.._c5 by position,
    the two extra columns are reported, and each drift distance is the KS statistic between the values
    in Model Monitor's sketch (exact: 100 items on level 0) and ours, less the Robust correction."""
    result = run.check_data_quality(events(), str(tmp_path), str(STATISTICS), str(CONSTRAINTS), str(PREPROCESSOR))
    found = by_type(result.violations)
    assert found["extra_column_check"] == ["00000000000000000006", "00000000000000000007"]
    assert "data_type_check" not in found and "completeness_check" not in found
    baseline = json.loads(STATISTICS.read_text())
    rows = [json.loads(line) for line in (CAPTURE / "capture.jsonl").read_text().splitlines()]
    columns = [[float(r["captureData"]["endpointOutput"]["data"])] +
               [float(v) for v in r["captureData"]["endpointInput"]["data"].split(",")] for r in rows]
    for index, feature in enumerate(baseline["features"]):
        theirs = feature["numerical_statistics"]["distribution"]["kll"]["sketch"]["data"][0]
        ours = [row[index] for row in columns]
        ks = stats.ks_2samp(theirs, ours).statistic
        expected = max(0.0, ks - 1.8 * math.sqrt((100 + 44) / (100 * 44)))
        assert result.drift[feature["name"]] == pytest.approx(expected, abs=1e-12), feature["name"]
    assert sorted(found["baseline_drift_check"]) == sorted(n for n, d in result.drift.items() if d > 0.1)
    written = json.loads((tmp_path / "constraint_violations.json").read_text())
    assert written == {"violations": result.violations}
    assert all(set(v) == {"feature_name", "constraint_check_type", "description"} for v in written["violations"])


def test_the_sdks_older_constraints_shape_and_feature_overrides_are_read(tmp_path):
    """`enable_comparisons` and `monitoring_config_overrides` inside string_constraints (the SDK's fixture)."""
    capture_file = tmp_path / "c.jsonl"
    lines = [{"captureData": {"endpointInput": {"observedContentType": "text/csv", "mode": "INPUT",
                                                "data": value, "encoding": "CSV"}},
              "eventMetadata": {"eventId": str(i)}, "eventVersion": "0"} for i, value in enumerate(["hi", "yo"] * 5)]
    capture_file.write_text("\n".join(json.dumps(line) for line in lines))
    statistics = json.loads((BASELINE / "sdk-test-statistics.json").read_text())
    statistics["features"][0]["name"] = "_c0"
    (tmp_path / "s.json").write_text(json.dumps(statistics))
    sdk = json.loads((BASELINE / "sdk-test-constraints.json").read_text())
    sdk["features"][0]["name"] = "_c0"
    sdk["features"] = sdk["features"][:1]
    (tmp_path / "k.json").write_text(json.dumps(sdk))
    result = run.check_data_quality(events(capture_file), str(tmp_path / "out"), str(tmp_path / "s.json"),
                                    str(tmp_path / "k.json"))
    found = by_type(result.violations)
    # no value is in the domain ["preproc-not-YET-supported-for-csv-json"]; comparison threshold 1.0: no drift
    assert found == {"categorical_values_check": ["_c0"]}
    assert result.drift["_c0"] == pytest.approx(max(0.0, 1.0 - 1.8 * math.sqrt((10 + 418) / (10 * 418))))


# ---------------------------------------------------------------- every check, on generated data


def profile_of(rows):
    profile = DatasetProfile()
    for row in rows:
        profile.add(row)
    profile.flush()
    return profile


def baseline_files(rows):
    profile = profile_of(rows)
    statistics = profile.statistics()
    return statistics, constraints.suggest(statistics)


BASE_ROWS = [{"age": str(20 + i % 50), "city": ["paris", "rome", "oslo"][i % 3], "score": "%.2f" % (i % 97 / 10)}
             for i in range(3000)]


def test_identical_data_has_no_violation():
    statistics, suggested = baseline_files(BASE_ROWS)
    violations, drift = constraints.check(profile_of(BASE_ROWS), suggested, statistics)
    assert violations == []
    assert set(drift) == {"age", "city", "score"} and max(drift.values()) == 0.0


def test_each_check_fires_on_the_data_that_breaks_it():
    statistics, suggested = baseline_files(BASE_ROWS)
    rng = np.random.default_rng(0)
    current = [{"age": "x%d" % i if i % 2 else str(90 + i % 5),  # half strings: data type; shifted: drift
                "city": "lima" if i % 4 else "paris",  # 25 % in domain
                "extra": "1"}  # score missing, extra added
               for i in range(400)]
    current += [{"age": None, "city": None, "extra": "1"}] * int(rng.integers(50, 60))  # completeness
    violations, drift = constraints.check(profile_of(current), suggested, statistics)
    found = by_type(violations)
    assert found["missing_column_check"] == ["score"]
    assert found["extra_column_check"] == ["extra"]
    assert set(found["completeness_check"]) == {"age", "city"}
    assert found["data_type_check"] == ["age"]  # 0.5 Integral < suggested threshold 1.0
    assert found["categorical_values_check"] == ["city"]
    assert set(found["baseline_drift_check"]) == {"age", "city"}
    description = next(v["description"] for v in violations if v["constraint_check_type"] == "completeness_check")
    assert description.startswith("Value: ") and description.endswith(" does not meet the constraint requirement! ")


def test_thresholds_methods_and_switches_come_from_constraints_json():
    statistics, suggested = baseline_files(BASE_ROWS)
    shifted = [dict(row, score="%.2f" % (float(row["score"]) + 0.3)) for row in BASE_ROWS[:200]]
    profile = profile_of(shifted)
    distribution = suggested["monitoring_config"]["distribution_constraints"]
    base_scores = [float(r["score"]) for r in BASE_ROWS]
    simple = stats.ks_2samp(base_scores, [float(r["score"]) for r in shifted]).statistic
    _, drift = constraints.check(profile, suggested, statistics)
    assert drift["score"] == pytest.approx(max(0.0, simple - 1.8 * math.sqrt(3200 / (3000 * 200))))
    distribution["comparison_method"] = "Simple"
    _, drift = constraints.check(profile, suggested, statistics)
    assert drift["score"] == pytest.approx(simple)
    distribution["comparison_threshold"] = simple + 0.01
    assert "score" not in by_type(constraints.check(profile, suggested, statistics)[0]).get("baseline_drift_check", [])
    distribution["comparison_threshold"] = simple - 0.01
    assert "score" in by_type(constraints.check(profile, suggested, statistics)[0])["baseline_drift_check"]
    distribution["perform_comparison"] = "Disabled"
    assert constraints.check(profile, suggested, statistics)[1] == {}
    suggested["features"][2]["monitoringConfigOverrides"] = {"evaluate_constraints": "Disabled"}
    suggested["monitoring_config"]["datatype_check_threshold"] = 1.0
    suggested["monitoring_config"]["evaluate_constraints"] = "Disabled"
    assert constraints.check(profile_of([{"age": "x"}]), suggested, statistics) == ([], {})


def test_categorical_drift_by_chi_squared_uses_the_p_value():
    statistics, suggested = baseline_files(BASE_ROWS)
    distribution = suggested["monitoring_config"]["distribution_constraints"]
    distribution.update(categorical_drift_method="ChiSquared", categorical_comparison_threshold=0.05)
    current = [{"age": "30", "city": c, "score": "1.00"} for c in ["paris"] * 60 + ["rome"] * 25 + ["oslo"] * 15]
    violations, drift = constraints.check(profile_of(current), suggested, statistics)
    expected = stats.chisquare([60, 25, 15], [100 / 3.0] * 3).pvalue
    assert drift["city"] == pytest.approx(expected)
    assert "city" in by_type(violations)["baseline_drift_check"]
    balanced = [{"age": "30", "city": c, "score": "1.00"} for c in ["paris", "rome", "oslo"] * 30]
    violations, drift = constraints.check(profile_of(balanced), suggested, statistics)
    assert drift["city"] == pytest.approx(1.0) and "city" not in by_type(violations).get("baseline_drift_check", [])


def test_suggested_constraints_look_like_model_monitors():
    statistics, suggested = baseline_files(BASE_ROWS + [{"age": "-1", "city": None, "score": None}])
    reference = json.loads(CONSTRAINTS.read_text())
    assert suggested["monitoring_config"] == reference["monitoring_config"]
    features = {f["name"]: f for f in suggested["features"]}
    assert features["age"] == {"name": "age", "inferred_type": "Integral", "completeness": 1.0,
                               "num_constraints": {"is_non_negative": False}}
    assert features["city"]["string_constraints"] == {"domains": ["paris", "rome", "oslo"]}
    assert features["city"]["completeness"] == pytest.approx(3000 / 3001)
    unique = [{"id": "u%d" % i} for i in range(50)]  # values seen once: no domain (CategoricalRangeRule)
    assert "string_constraints" not in constraints.suggest(profile_of(unique).statistics())["features"][0]


def test_a_statistics_file_given_as_constraints_is_bad_input(tmp_path):
    with pytest.raises(InputError, match="statistics.json; pass it as --statistics"):
        constraints.load_constraints(str(STATISTICS))
    (tmp_path / "bad.json").write_text(json.dumps({"features": [], "monitoring_config": {
        "distribution_constraints": {"comparison_method": "Fancy"}}}))
    with pytest.raises(InputError, match="comparison_method='Fancy'"):
        constraints.check(profile_of(BASE_ROWS), constraints.load_constraints(str(tmp_path / "bad.json")), None)
