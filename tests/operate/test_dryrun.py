"""The local dry run (mmtool.operate.dryrun): the real pre-processor over the capture samples, checked against
the baseline samples by the processing engine's analyzer. Every file of tests/data/reference/ is used (see the
coverage test at the end); expected counts, columns and violations are written out by hand from the sample contents,
drift distances are scipy's two-sample KS statistic (an independent reference) less the Robust correction.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from scipy import stats

from mmtool.generate.assets import render_preprocessor
from mmtool.operate.dryrun import (
    CHECK_TYPES,
    CapturedData,
    DryRunError,
    Violation,
    format_report,
    run_dry_run,
    value_type,
)

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "tests" / "data" / "reference"
CAPTURE = REFERENCE / "capture-samples"
BASELINE = REFERENCE / "baseline-samples"
SCRIPT = ROOT / "scripts" / "record_preprocessor.py"
SHARED = ROOT.parent / "shared" / "reference"

P = [str(i).zfill(20) for i in range(32)]


def rendered(tmp_path: Path, config: dict | None = None) -> Path:
    """The pre-processor as the build renders it."""
    path = tmp_path / "build" / "record_preprocessor.py"
    path.parent.mkdir(exist_ok=True)
    path.write_text(render_preprocessor(SCRIPT.read_text(encoding="utf-8"), config or {}), encoding="utf-8")
    return path


def write_capture(path: Path, rows: list[tuple[str, str | None]], content_type: str = "text/csv") -> Path:
    """A capture file of CSV records (input, output); output None leaves endpointOutput out."""
    lines = []
    for number, (data_in, data_out) in enumerate(rows):
        capture = {"endpointInput": {"observedContentType": content_type, "mode": "INPUT", "data": data_in, "encoding": "CSV"}}
        if data_out is not None:
            capture["endpointOutput"] = {"observedContentType": "text/csv", "mode": "OUTPUT", "data": data_out, "encoding": "CSV"}
        lines.append(json.dumps({"captureData": capture, "eventMetadata": {"eventId": f"ev-{number}",
                                 "inferenceTime": "2026-11-24T09:00:00Z"}, "eventVersion": "0"}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


EXTRA = ("There are extra columns in current dataset. Number of columns in current dataset: {0}, Number of columns "
         "in baseline constraints: {1}")
MISSING = ("There are missing columns in current dataset. Number of columns in current dataset: {0}, Number of "
           "columns in baseline constraints: {1}")
REQUIREMENT = "Value: {0!r} does not meet the constraint requirement! "


def capture_columns() -> list[list[float]]:
    """capture.jsonl as the default pre-processor orders it: the prediction, then the 7 inputs."""
    rows = [json.loads(line) for line in (CAPTURE / "capture.jsonl").read_text(encoding="utf-8").splitlines()]
    table = [[float(r["captureData"]["endpointOutput"]["data"])]
             + [float(v) for v in r["captureData"]["endpointInput"]["data"].split(",")] for r in rows]
    return [list(column) for column in zip(*table)]


def robust_ks(baseline_feature: dict, ours: list[float]) -> float:
    """Model Monitor's Robust drift by an independent route: scipy's KS statistic between the baseline sketch's
    items (exact here: its 100 items are all on level 0) and our values, less 1.8 * sqrt((n + m) / (n m))."""
    theirs = baseline_feature["numerical_statistics"]["distribution"]["kll"]["sketch"]["data"]
    assert len(theirs) == 1, "a sketch with one level holds the exact values"
    n, m = len(theirs[0]), len(ours)
    return max(0.0, stats.ks_2samp(theirs[0], ours).statistic - 1.8 * math.sqrt((n + m) / (n * m)))


def assert_drift_of_the_capture_sample(result) -> None:
    """The six baseline_drift_check violations of capture.jsonl against the reference baseline (threshold 0.1)."""
    baseline = json.loads((BASELINE / "data-quality-statistics.json").read_text(encoding="utf-8"))
    columns = capture_columns()
    expected = {f["name"]: robust_ks(f, columns[i]) for i, f in enumerate(baseline["features"])}
    assert set(result.drift) == set(expected)
    for name, distance in expected.items():
        assert result.drift[name] == pytest.approx(distance, abs=1e-12), name
    drift = [v for v in result.violations if v.constraint_check_type == "baseline_drift_check"]
    assert [v.feature_name for v in drift] == sorted(n for n, d in expected.items() if d > 0.1)
    assert len(drift) == 6  # every column of this sample drifted: 44 records far from the 100 of the baseline
    for violation in drift:
        assert violation.description == (f"Numerical distance: {result.drift[violation.feature_name]!r} exceeds "
                                          "numerical threshold: 0.1")


# ------------------------------------------------------------------ capture.jsonl against the data-quality baseline


def test_csv_sample_against_headerless_baseline_reports_drift_and_the_two_extra_columns(tmp_path):
    # capture.jsonl: 7 inputs + 1 prediction = 8 columns; the baseline (_c0.._c5, Fractional) has 6.
    # Before the analyzer ran the dry run, drift was not checked: the six drift violations are new.
    result = run_dry_run(
        rendered(tmp_path),
        CAPTURE / "capture.jsonl",
        constraints_path=BASELINE / "data-quality-constraints.json",
        statistics_path=BASELINE / "data-quality-statistics.json",
        out_dir=tmp_path / "out",
    )
    assert (result.records_read, result.records_parsed, result.rows, result.records_skipped) == (44, 44, 44, 0)
    assert result.failures == []
    assert [c.name for c in result.columns] == P[:8]
    assert result.column_matching == "by position"
    assert [c.baseline_name for c in result.columns] == ["_c0", "_c1", "_c2", "_c3", "_c4", "_c5", None, None]
    assert result.columns[0].types == {"Fractional": 44}
    assert result.columns[1].types == {"Integral": 44}  # Integral values conform to a Fractional baseline
    assert result.baseline.item_count == 100
    assert result.log_lines == 0
    assert_drift_of_the_capture_sample(result)
    extra = [
        {"feature_name": P[6], "constraint_check_type": "extra_column_check", "description": EXTRA.format(8, 6)},
        {"feature_name": P[7], "constraint_check_type": "extra_column_check", "description": EXTRA.format(8, 6)},
    ]
    document = result.violations_document()
    assert document["violations"][6:] == extra
    assert [v["constraint_check_type"] for v in document["violations"][:6]] == ["baseline_drift_check"] * 6
    assert result.violations_path == tmp_path / "out" / "constraint_violations.json"
    assert json.loads(result.violations_path.read_text(encoding="utf-8")) == document
    # the statistics a processing job would write beside it: the rows' profile, columns by the pre-processor's keys
    written = json.loads((tmp_path / "out" / "statistics.json").read_text(encoding="utf-8"))
    assert written["dataset"] == {"item_count": 44}
    assert [f["name"] for f in written["features"]] == P[:8]
    column = capture_columns()[1]
    assert written["features"][1]["numerical_statistics"]["mean"] == pytest.approx(sum(column) / 44, rel=1e-12)
    assert result.violations[6].detail == f"column '{P[6]}' produced by the pre-processor is not in the baseline " \
                                          "(columns matched by position)"
    assert result.ok is False


def test_violations_file_has_model_monitors_shape(tmp_path):
    # Same keys per violation as the SDK's real-looking sample, and check types spelled as in §6.3.
    assert CHECK_TYPES == ("data_type_check", "completeness_check", "baseline_drift_check", "missing_column_check",
                           "extra_column_check", "categorical_values_check")
    sample = json.loads((BASELINE / "sdk-test-constraint_violations.json").read_text(encoding="utf-8"))
    result = run_dry_run(rendered(tmp_path, {"prediction_position": "none"}), CAPTURE / "capture.jsonl",
                         constraints_path=BASELINE / "data-quality-constraints.json", out_dir=tmp_path)
    written = json.loads((tmp_path / "constraint_violations.json").read_text(encoding="utf-8"))
    assert set(written) == set(sample) == {"violations"}
    assert written["violations"], "7 inputs against 6 baseline columns: one extra column"
    for violation in written["violations"] + sample["violations"]:
        assert set(violation) == {"feature_name", "constraint_check_type", "description"}
        assert violation["constraint_check_type"] in CHECK_TYPES
    assert [(v.feature_name, v.constraint_check_type) for v in result.violations] == [(P[6], "extra_column_check")]


def test_no_violation_file_is_empty_list_and_result_ok(tmp_path):
    capture = write_capture(tmp_path / "c.jsonl", [("1,2,3,4,5", "0.5"), ("2,3,4,5,6", "0.25")])
    result = run_dry_run(rendered(tmp_path), capture, constraints_path=BASELINE / "data-quality-constraints.json",
                         out_dir=tmp_path / "o")
    assert result.violations == []
    assert (tmp_path / "o" / "constraint_violations.json").read_text(encoding="utf-8") == '{\n  "violations": []\n}\n'
    assert result.ok is True


def test_statistics_only_checks_columns_and_drift(tmp_path):
    # statistics.json carries the KLL sketches: the analyzer checks drift from it alone (new since the analyzer
    # runs the dry run), and the columns; types, completeness and domains need constraints.json.
    result = run_dry_run(rendered(tmp_path), CAPTURE / "capture.jsonl",
                         statistics_path=BASELINE / "data-quality-statistics.json")
    assert_drift_of_the_capture_sample(result)
    assert [(v.feature_name, v.constraint_check_type) for v in result.violations][6:] == [
        (P[6], "extra_column_check"), (P[7], "extra_column_check")]
    assert len(result.violations) == 8
    assert any("only statistics.json was given" in note for note in result.notes)


# ------------------------------------------------------------------ types, completeness, domains


def test_data_type_and_completeness_violations(tmp_path):
    # The docs record: prediction then 19 inputs; input 3 is 113.2, input 5 is 269.9, input 7 is empty.
    features = [{"name": f"_c{i}", "inferred_type": "Fractional" if i == 0 else "Integral", "completeness": 1.0}
                for i in range(20)]
    constraints = tmp_path / "constraints.json"
    constraints.write_text(json.dumps({"version": 0.0, "features": features,
                                       "monitoring_config": {"datatype_check_threshold": 1.0}}), encoding="utf-8")
    result = run_dry_run(rendered(tmp_path), CAPTURE / "docs-preprocessing-inference-record.jsonl",
                         constraints_path=constraints)
    # the analyzer's descriptions (Model Monitor's wording) in the file; the dry run's detail in the report
    assert result.violations == [
        Violation("_c3", "data_type_check", REQUIREMENT.format(0.0)),
        Violation("_c5", "data_type_check", REQUIREMENT.format(0.0)),
        Violation("_c7", "completeness_check", REQUIREMENT.format(0.0)),
    ]
    assert [v.detail for v in result.violations] == [
        "column 00000000000000000003 (baseline _c3) is Integral in the baseline; values seen: Fractional 1",
        "column 00000000000000000005 (baseline _c5) is Integral in the baseline; values seen: Fractional 1",
        "0 of 1 rows have a value in 00000000000000000007 (baseline _c7)",
    ]


def test_data_type_threshold_lets_a_share_of_mismatches_through(tmp_path):
    constraints = tmp_path / "constraints.json"
    constraints.write_text(json.dumps({"features": [{"name": "_c0", "inferred_type": "Integral"},
                                                    {"name": "_c1", "inferred_type": "Integral"}],
                                       "monitoring_config": {"datatype_check_threshold": 0.5}}), encoding="utf-8")
    capture = write_capture(tmp_path / "c.jsonl", [("1", "1"), ("2", "x"), ("3", "2.5"), ("4", "0")])
    result = run_dry_run(rendered(tmp_path), capture, constraints_path=constraints)
    assert result.violations == []  # _c0 (the prediction): 2 of 4 Integral = 0.5, not below 0.5
    constraints.write_text(constraints.read_text().replace("0.5", "0.6"), encoding="utf-8")
    result = run_dry_run(rendered(tmp_path), capture, constraints_path=constraints)
    assert [(v.feature_name, v.description[:46]) for v in result.violations] == [
        ("_c0", "Value: 0.5 does not meet the constraint requir")]


def test_named_columns_against_the_sdk_string_baseline(tmp_path):
    # sdk-test-constraints.json: two String columns whose domain is one value; its statistics.json
    # lists only the first: the dry run says so.
    domain = "preproc-not-YET-supported-for-csv-json"
    capture = write_capture(tmp_path / "c.jsonl", [(f"hello,{domain}", None), (f"bye,{domain}", None), ("hi,", None)])
    config = {"feature_names": ["message", "second_message"], "prediction_position": "none"}
    result = run_dry_run(rendered(tmp_path, config), capture, constraints_path=BASELINE / "sdk-test-constraints.json",
                         statistics_path=BASELINE / "sdk-test-statistics.json")
    assert result.column_matching == "by name"
    assert result.baseline.item_count == 418
    # categorical drift of message (new since the analyzer runs the dry run): none of our 3 values is the baseline's
    # one value (418 times), so the L-infinity distance is 1.0, less the Robust correction for 418 and 3 values,
    # which is larger: 0, not a violation
    assert result.drift == {"message": max(0.0, 1.0 - 1.8 * math.sqrt((418 + 3) / (418 * 3)))} == {"message": 0.0}
    assert result.violations == [
        Violation("message", "categorical_values_check", REQUIREMENT.format(0.0)),
        Violation("second_message", "completeness_check", REQUIREMENT.format(2 / 3)),
    ]
    assert [v.detail for v in result.violations] == [
        f"0 of 3 values of message are in the baseline domain ['{domain}']",
        "2 of 3 rows have a value in second_message",
    ]
    assert ("statistics.json and constraints.json list different columns; only in constraints.json: second_message: "
            "are they from the same baselining job?") in result.notes


def test_names_that_do_not_match_the_baseline_are_missing_and_extra(tmp_path):
    config = {"feature_names": ["a", "b", "c", "d", "e", "f", "g"]}
    result = run_dry_run(rendered(tmp_path, config), CAPTURE / "capture.jsonl",
                         constraints_path=BASELINE / "data-quality-constraints.json")
    assert [(v.feature_name, v.constraint_check_type) for v in result.violations] == (
        [(f"_c{i}", "missing_column_check") for i in range(6)]
        + [(name, "extra_column_check") for name in ["a", "b", "c", "d", "e", "f", "g", "prediction"]]
    )


def test_evaluate_constraints_disabled_reports_nothing(tmp_path):
    constraints = json.loads((BASELINE / "data-quality-constraints.json").read_text(encoding="utf-8"))
    constraints["monitoring_config"]["evaluate_constraints"] = "Disabled"
    path = tmp_path / "constraints.json"
    path.write_text(json.dumps(constraints), encoding="utf-8")
    result = run_dry_run(rendered(tmp_path), CAPTURE / "capture.jsonl", constraints_path=path)
    assert result.violations == []
    assert "constraints.json has evaluate_constraints: Disabled; the job would report no violation" in result.notes


def test_unpadded_numeric_keys_are_flagged(tmp_path):
    script = tmp_path / "mine.py"
    script.write_text("def preprocess_handler(inference_record):\n"
                      "    return {str(i): str(i) for i in range(11)}\n", encoding="utf-8")
    constraints = tmp_path / "constraints.json"
    constraints.write_text(json.dumps({"features": [{"name": f"_c{i}", "inferred_type": "Integral"} for i in range(11)]}))
    result = run_dry_run(script, CAPTURE / "capture.jsonl", constraints_path=constraints)
    assert result.column_matching == "by position"
    assert [c.name for c in result.columns][:4] == ["0", "1", "10", "2"]
    assert any("'10' sorts before '2'" in note for note in result.notes)


# ------------------------------------------------------------------ every capture sample at once


def test_the_whole_capture_folder(tmp_path):
    result = run_dry_run(rendered(tmp_path), CAPTURE)
    assert [f.name for f in result.files] == [
        "01d3c1a8-aa99-4149-9d5e-78bea047a788.jsonl", "28-32-105-b59d42b8-3dac-421a-a586-0c4effa143d2.jsonl",
        "actuals.jsonl", "capture.jsonl", "captured-data.jsonl", "docs-preprocessing-inference-record.jsonl"]
    # 1 + 2 + 44 + 44 + 2 + 1 records; the 45 ground-truth records are skipped, the 49 others parse.
    assert (result.records_read, result.records_parsed, result.rows, result.records_skipped) == (94, 49, 49, 45)
    (group,) = result.skipped.values()
    assert group.reason == ("record has no captureData.endpointInput (a ground-truth or batch transform file given as "
                            "endpoint capture?)")
    assert group.examples[0].endswith("01d3c1a8-aa99-4149-9d5e-78bea047a788.jsonl:1 (01d3c1a8-aa99-4149-9d5e-78bea047a788)")
    assert [c.name for c in result.columns] == P[:20]  # the docs record has the most columns
    assert (result.columns[0].present, result.columns[0].missing) == (49, 0)
    assert (result.columns[19].present, result.columns[19].missing) == (1, 48)
    assert result.mini_batches_truncated == 3  # one JSON Lines record and the two {"instances": [...]} records
    assert "45 record(s) are ground truth (groundTruthData), not endpoint capture: the data-quality job reads the " \
           "endpoint's Data Capture files" in result.notes
    assert result.log_lines == 10 + 1 + 1  # 10 skips, the "only counted" notice, the one mini-batch notice
    assert result.ok is True  # no baseline: nothing to violate, and records parsed


def test_ground_truth_only_is_not_ok(tmp_path):
    result = run_dry_run(rendered(tmp_path), [CAPTURE / "actuals.jsonl", CAPTURE / "01d3c1a8-aa99-4149-9d5e-78bea047a788.jsonl"])
    assert (result.records_read, result.records_parsed, result.records_skipped) == (45, 0, 45)
    assert "no record was parsed: the monitoring job would fail with no data" in result.notes
    assert result.ok is False
    assert format_report(result).endswith("Result: FAILED (no record parsed)")


def test_folder_is_searched_recursively_and_bad_lines_are_reported(tmp_path):
    hour = tmp_path / "capture" / "ep" / "AllTraffic" / "2026" / "11" / "24" / "09"
    hour.mkdir(parents=True)
    (hour / "00-00-000-a.jsonl").write_bytes((CAPTURE / "capture.jsonl").read_bytes())
    (hour / "notes.txt").write_text("not capture")
    (hour / "00-01-000-b.jsonl").write_bytes(b'\n{broken\n[1, 2]\n\xff\xfe\n')
    result = run_dry_run(rendered(tmp_path), tmp_path / "capture")
    assert [f.name for f in result.files] == ["00-00-000-a.jsonl", "00-01-000-b.jsonl"]
    assert (result.records_read, result.records_parsed, result.records_skipped) == (47, 44, 3)
    assert {reason: group.count for reason, group in result.skipped.items()} == {
        "line is not valid JSON (Expecting property name enclosed in double quotes)": 1,
        "line is not a JSON object (not a Data Capture record)": 1,
        "line is not UTF-8 text (not a Data Capture record)": 1,
    }
    assert result.skipped["line is not a JSON object (not a Data Capture record)"].examples == [
        f"{hour / '00-01-000-b.jsonl'}:3 (<no eventId>)"]


# ------------------------------------------------------------------ other pre-processors


def test_failures_of_a_pre_processor_are_reported_not_raised(tmp_path):
    script = tmp_path / "mine.py"
    script.write_text(
        "def preprocess_handler(inference_record):\n"  # the one-argument form
        "    data = inference_record.endpoint_input.data\n"
        "    if data.startswith('9,'):\n"
        "        raise ValueError('nine')\n"
        "    if data.startswith('0,'):\n"
        "        return {}\n"
        "    if data.startswith('1,'):\n"
        "        return {'a': [1, 2]}\n"
        "    if data.startswith('2'):\n"
        "        return None\n"
        "    return {'a': data}\n", encoding="utf-8")
    result = run_dry_run(script, CAPTURE / "capture.jsonl")
    messages = sorted({f.message for f in result.failures})
    assert messages == [
        "ValueError: column 'a' holds a list; the analyzer needs flat rows of scalars",
        "ValueError: nine",
        "ValueError: returned NoneType None; return one flat dict, or [] to drop the record",
        "ValueError: returned an empty dict {}, which the analyzer rejects; return [] to drop a record",
    ]
    # capture.jsonl inputs start with "9," 3 times, "0," 9 times, "1," 10 times and "2" 9 times:
    # 31 failures; the 13 others parse.
    assert (len(result.failures), result.records_parsed) == (31, 13)
    assert result.failures[0].where.endswith("capture.jsonl:1") and result.failures[0].event_id.endswith("96000")
    assert result.ok is False


def test_a_list_of_rows_is_counted_with_a_warning(tmp_path):
    result = run_dry_run(rendered(tmp_path, {"mini_batch": "all"}), CAPTURE / "captured-data.jsonl")
    assert (result.records_parsed, result.rows) == (2, 6)
    assert any("returned a list of rows" in note for note in result.notes)


def test_the_record_object_matches_the_documented_class():
    event = {"captureData": {"endpointInput": {"observedContentType": "text/csv", "mode": "INPUT", "data": "1", "encoding": "CSV"},
                             "batchTransformOutput": {"observedContentType": "text/csv", "mode": "OUTPUT", "data": "2",
                                                      "encoding": "CSV"}},
             "groundTruthData": {"data": "0", "encoding": "CSV"},
             "eventMetadata": {"eventId": "e", "inferenceTime": "t", "customAttributes": ["{\"test\": 1}"]},
             "eventVersion": "0"}
    record = CapturedData(event)
    assert (record.event_metadata.event_id, record.event_metadata.event_time) == ("e", "t")
    assert record.event_metadata.custom_attribute == ["{\"test\": 1}"]
    assert (record.endpoint_input.data, record.endpoint_input.encoding, record.endpoint_input.observedContentType,
            record.endpoint_input.mode) == ("1", "CSV", "text/csv", "INPUT")
    assert record.endpoint_output is None
    assert record.batch_transform_output.data == "2" and record.ground_truth.data == "0"
    assert record.event_version == "0" and record.event_dict is event and record.as_dict() is event


# The analyzer's reading (Deequ's patterns, github.com/awslabs/deequ DataType.scala: an optional sign and one optional
# space, then digits): before the analyzer ran the dry run, " -12 " counted as Integral and ".5" and "NaN" as
# Fractional; Deequ reads all three as String.
@pytest.mark.parametrize(
    ("value", "kind"),
    [("9", "Integral"), (" -12 ", "String"), ("- 12", "Integral"), (7, "Integral"), ("0.5", "Fractional"),
     ("1e-3", "Fractional"), (".5", "String"), (2.0, "Fractional"), ("NaN", "String"), ("abc", "String"),
     ("1.2.3", "String"), (True, "Boolean"), ("false", "Boolean"), ("", "String")],
)
def test_value_types(value, kind):
    assert value_type(value) == kind


# ------------------------------------------------------------------ errors the user can hit


def test_baseline_files_of_another_kind_are_refused_with_the_fix(tmp_path):
    pre = rendered(tmp_path)
    cases = [
        ("constraints_path", "model-quality-regression-constraints.json",
         "is a model-quality constraints.json (it has regression_constraints), not a data-quality one"),
        ("statistics_path", "model-quality-regression-statistics.json",
         "is a model-quality statistics.json (it has regression_metrics)"),
        ("statistics_path", "model-quality-regression-statistics-modelcard.json",
         "is a model-quality statistics.json (it has regression_metrics)"),
        ("statistics_path", "model-quality-binary-classification-statistics.json",
         "is a model-quality statistics.json (it has binary_classification_metrics)"),
        ("constraints_path", "clarify-bias-analysis.json",
         "is a SageMaker Clarify analysis (it has pre_training_bias_metrics), not a data-quality constraints.json"),
        ("constraints_path", "sdk-test-constraint_violations.json",
         "no 'features' list of named columns; expected the data-quality constraints.json of a baselining job"),
        ("constraints_path", "data-quality-statistics.json",
         "looks like a statistics.json (it has per-feature statistics); pass it as the statistics file"),
        ("statistics_path", "data-quality-constraints.json",
         "looks like a constraints.json (no per-feature *_statistics); pass it as the constraints file"),
    ]
    for argument, name, message in cases:
        with pytest.raises(DryRunError) as info:
            run_dry_run(pre, CAPTURE / "capture.jsonl", **{argument: BASELINE / name})
        assert str(info.value).startswith(f"{BASELINE / name}: ")
        assert message in str(info.value), name


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"capture_paths": "nowhere/x.jsonl"}, "nowhere/x.jsonl: no such capture file or folder; give a .jsonl file"),
        ({"preprocessor_path": "nowhere.py"}, "nowhere.py: no such pre-processor file"),
        ({"constraints_path": "nowhere.json"},
         "nowhere.json: no such file; download the baseline's constraints.json first"),
    ],
)
def test_missing_files_say_what_to_give(tmp_path, kwargs, message):
    arguments = {"preprocessor_path": rendered(tmp_path), "capture_paths": CAPTURE / "capture.jsonl", **kwargs}
    with pytest.raises(DryRunError) as info:
        run_dry_run(**arguments)
    assert str(info.value).startswith(message)


def test_empty_folder_and_broken_script(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DryRunError, match="empty: no \\*.jsonl file in this folder or below"):
        run_dry_run(rendered(tmp_path), tmp_path / "empty")
    broken = tmp_path / "broken.py"
    broken.write_text(render_preprocessor(SCRIPT.read_text(encoding="utf-8"), {"mini_batch": "explode"}))
    with pytest.raises(DryRunError) as info:
        run_dry_run(broken, CAPTURE / "capture.jsonl")
    assert "importing the pre-processor failed (ValueError: record_preprocessor CONFIG['mini_batch']='explode'" in str(info.value)
    assert str(info.value).endswith("the monitoring job would fail the same way")
    no_handler = tmp_path / "nohandler.py"
    no_handler.write_text("x = 1\n")
    with pytest.raises(DryRunError, match="defines no preprocess_handler"):
        run_dry_run(no_handler, CAPTURE / "capture.jsonl")


# ------------------------------------------------------------------ the report


def test_report_text(tmp_path):
    result = run_dry_run(rendered(tmp_path), CAPTURE / "capture.jsonl",
                         constraints_path=BASELINE / "data-quality-constraints.json",
                         statistics_path=BASELINE / "data-quality-statistics.json", out_dir=tmp_path / "out")
    report = format_report(result).splitlines()
    assert report[0] == f"Dry run of {result.preprocessor} over 1 file"
    assert "Records: 44 read, 44 parsed into 44 rows, 0 skipped, 0 failed" in report
    assert "Pre-processor log: 0 lines" in report
    assert "Columns (8, in the analyzer's sorted key order):" in report
    assert ("  00000000000000000001  present 44, missing 0; Integral 44; e.g. '9'  -> _c1 [Fractional]") in report
    assert "  00000000000000000007  present 44, missing 0; Integral 44; e.g. '0'  -> (not in baseline)" in report
    assert "Drift per baseline column (baseline_drift_check: distance, or chi-squared p-value):" in report
    assert f"  _c0  {result.drift['_c0']:.4f}" in report
    assert "Violations (8):" in report  # 6 drifted columns (checked since the analyzer runs the dry run), 2 extra
    assert (f"  extra_column_check       {P[7]}: {EXTRA.format(8, 6)} [dry run: column '{P[7]}' produced by the "
            "pre-processor is not in the baseline (columns matched by position)]") in report
    assert f"Wrote {tmp_path / 'out' / 'statistics.json'}" in report
    assert f"Wrote {tmp_path / 'out' / 'constraint_violations.json'}" in report
    assert report[-1] == "Result: FAILED (8 violations)"


# ------------------------------------------------------------------ the samples themselves


COVERED_CAPTURE = {
    "capture.jsonl", "actuals.jsonl", "captured-data.jsonl", "docs-preprocessing-inference-record.jsonl",
    "28-32-105-b59d42b8-3dac-421a-a586-0c4effa143d2.jsonl", "01d3c1a8-aa99-4149-9d5e-78bea047a788.jsonl",
}
COVERED_BASELINE = {
    "data-quality-constraints.json", "data-quality-statistics.json", "sdk-test-constraints.json",
    "sdk-test-statistics.json", "sdk-test-constraint_violations.json", "model-quality-regression-constraints.json",
    "model-quality-regression-statistics.json", "model-quality-regression-statistics-modelcard.json",
    "model-quality-binary-classification-statistics.json", "clarify-bias-analysis.json",
}


def test_every_sample_is_used_by_these_tests():
    assert {p.name for p in CAPTURE.iterdir()} - {"SOURCES.md"} == COVERED_CAPTURE
    assert {p.name for p in BASELINE.iterdir()} - {"SOURCES.md"} == COVERED_BASELINE


@pytest.mark.skipif(not SHARED.is_dir(), reason="no shared/reference beside the repository")
def test_the_copies_match_shared_reference():
    for folder in ("capture-samples", "baseline-samples"):
        shared = {p.name: p.read_bytes() for p in (SHARED / folder).iterdir() if p.is_file()}
        copied = {p.name: p.read_bytes() for p in (REFERENCE / folder).iterdir() if p.is_file()}
        assert copied == shared, folder


# ------------------------------------------------------------------ the same files as the processing job


@pytest.mark.parametrize("config", [{}, {"feature_names": ["a", "b", "c", "d", "e", "f", "g"]}])
def test_the_files_are_byte_identical_to_the_analyzers_check_on_the_same_capture(tmp_path, config):
    """`make dry-run` writes what `python scripts/analyzer check` (the processing job's code) writes."""
    from scripts.analyzer.cli import main as analyzer

    pre = rendered(tmp_path, config)
    baseline = {"statistics_path": BASELINE / "data-quality-statistics.json",
                "constraints_path": BASELINE / "data-quality-constraints.json"}
    run_dry_run(pre, CAPTURE / "capture.jsonl", out_dir=tmp_path / "dry", **baseline)
    assert analyzer(["check", "--capture", str(CAPTURE / "capture.jsonl"), "--preprocessor", str(pre),
                     "--statistics", str(baseline["statistics_path"]), "--constraints", str(baseline["constraints_path"]),
                     "--out", str(tmp_path / "job")]) == 0
    for name in ("statistics.json", "constraint_violations.json"):
        assert (tmp_path / "dry" / name).read_bytes() == (tmp_path / "job" / name).read_bytes(), name
    assert json.loads((tmp_path / "dry" / "constraint_violations.json").read_text())["violations"]


def test_a_constraints_option_the_analyzer_refuses_is_bad_input(tmp_path):
    constraints = json.loads((BASELINE / "data-quality-constraints.json").read_text(encoding="utf-8"))
    constraints["monitoring_config"]["distribution_constraints"]["comparison_method"] = "Fuzzy"
    path = tmp_path / "constraints.json"
    path.write_text(json.dumps(constraints), encoding="utf-8")
    with pytest.raises(DryRunError) as info:
        run_dry_run(rendered(tmp_path), CAPTURE / "capture.jsonl", constraints_path=path)
    assert str(info.value) == (f"{path}: comparison_method='Fuzzy': must be one of Simple, Robust; fix constraints.json "
                               "before the monitoring job reads it")
