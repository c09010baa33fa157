"""The record pre-processor (scripts/record_preprocessor.py), its rendering, and the post-analytics script.

The pre-processor runs inside AWS's analyzer container, so these tests call it the way the container
does: `preprocess_handler(inference_record, logger)` with records shaped like AWS's documented
`CapturedData` class (`DocRecord` below copies its attribute names, and nothing more). Every capture
sample in tests/data/reference/capture-samples/ is used; expected values are written out by hand.
No public capture sample has encoding BASE64 (capture-samples/SOURCES.md), so those records are
built here.
"""

from __future__ import annotations

import ast
import base64
import importlib.util
import itertools
import json
import logging
import re
import sys
from pathlib import Path

import pytest

from mmtool.generate.assets import AssetError, config_literal, render_preprocessor

ROOT = Path(__file__).resolve().parents[1]
CAPTURE = ROOT / "tests" / "data" / "reference" / "capture-samples"
BASELINE = ROOT / "tests" / "data" / "reference" / "baseline-samples"
SCRIPT = ROOT / "scripts" / "record_preprocessor.py"
POST = ROOT / "scripts" / "post_analytics.py"

P = [str(i).zfill(20) for i in range(32)]  # positional keys, as in AWS's documented example
_counter = itertools.count()


# ------------------------------------------------------------------ the container's record shape


class DocEventData:
    def __init__(self, d):
        self.encoding = d.get("encoding")
        self.data = d.get("data")
        self.observedContentType = d.get("observedContentType")
        self.mode = d.get("mode")


class DocEventMetadata:
    def __init__(self, d):
        self.event_id = d.get("eventId")
        self.event_time = d.get("inferenceTime")
        self.custom_attribute = d.get("customAttributes")


class DocRecord:
    """Only the attributes of AWS's documented CapturedData (no batch_transform_output, no ground_truth)."""

    def __init__(self, event_dict):
        self.event_dict = event_dict
        self.event_metadata = None
        self.endpoint_input = None
        self.endpoint_output = None
        self.event_version = event_dict.get("eventVersion")
        if "eventMetadata" in event_dict:
            self.event_metadata = DocEventMetadata(event_dict["eventMetadata"])
        capture = event_dict.get("captureData", {})
        if "endpointInput" in capture:
            self.endpoint_input = DocEventData(capture["endpointInput"])
        if "endpointOutput" in capture:
            self.endpoint_output = DocEventData(capture["endpointOutput"])


def sample(name: str) -> list[DocRecord]:
    lines = (CAPTURE / name).read_text(encoding="utf-8").splitlines()
    return [DocRecord(json.loads(line)) for line in lines if line.strip()]


def record(input_data, output_data="0.5", *, in_type="text/csv", out_type="text/csv",
           in_enc="CSV", out_enc="CSV", event_id="ev-1") -> DocRecord:
    capture = {"endpointInput": {"observedContentType": in_type, "mode": "INPUT", "data": input_data, "encoding": in_enc}}
    if output_data is not None:
        capture["endpointOutput"] = {"observedContentType": out_type, "mode": "OUTPUT", "data": output_data,
                                     "encoding": out_enc}
    return DocRecord({"captureData": capture, "eventMetadata": {"eventId": event_id}, "eventVersion": "0"})


def b64(text: str, encoding: str = "utf-8") -> str:
    return base64.b64encode(text.encode(encoding)).decode("ascii")


class ListHandler(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, rec):
        self.messages.append(rec.getMessage())


@pytest.fixture
def log():
    logger = logging.getLogger(f"test.preprocessor.{next(_counter)}")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    handler = ListHandler()
    logger.addHandler(handler)
    logger.messages = handler.messages  # type: ignore[attr-defined]
    return logger


def load(tmp_path: Path, config: dict | None = None, source: str | None = None):
    """Render the script as the build does and import it as the analyzer does (a fresh module)."""
    rendered = render_preprocessor(source if source is not None else SCRIPT.read_text(encoding="utf-8"), config or {})
    path = tmp_path / f"record_preprocessor_{next(_counter)}.py"
    path.write_text(rendered, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def pre(tmp_path):
    return load(tmp_path)


# ------------------------------------------------------------------ CSV samples


def test_csv_capture_sample_first_and_last_records_by_hand(pre, log):
    records = sample("capture.jsonl")
    assert len(records) == 44  # the last line has no trailing newline
    assert pre.preprocess_handler(records[0], log) == {
        P[0]: "0.302709460258", P[1]: "9", P[2]: "45", P[3]: "45", P[4]: "42", P[5]: "7", P[6]: "5", P[7]: "0",
    }
    assert pre.preprocess_handler(records[-1], log) == {
        P[0]: "0.704846322536", P[1]: "0", P[2]: "0", P[3]: "7", P[4]: "47", P[5]: "2", P[6]: "48", P[7]: "18",
    }


def test_csv_capture_sample_every_record_is_prediction_then_inputs_and_nothing_is_logged(pre, log):
    # inferenceTime is the placeholder "{%s}" in this sample: the handler must not need it.
    for rec in sample("capture.jsonl"):
        row = pre.preprocess_handler(rec, log)
        expected_values = [rec.endpoint_output.data] + rec.endpoint_input.data.split(",")
        assert list(row) == P[:8]
        assert list(row.values()) == expected_values
    assert log.messages == []  # successful records are never logged


def test_docs_record_charset_suffix_and_empty_field_becomes_missing(pre, log):
    (rec,) = sample("docs-preprocessing-inference-record.jsonl")
    assert rec.endpoint_output.observedContentType == "text/csv; charset=utf-8"
    values = ["0.01076381653547287", "132", "25", "113.2", "96", "269.9", "107", None,
              "0", "0", "0", "0", "0", "0", "1", "0", "1", "0", "0", "1"]
    assert pre.preprocess_handler(rec, log) == dict(zip(P, values))


def test_prediction_last_and_none(tmp_path, log):
    (rec,) = sample("docs-preprocessing-inference-record.jsonl")
    inputs = ["132", "25", "113.2", "96", "269.9", "107", None, "0", "0", "0", "0", "0", "0", "1", "0", "1", "0", "0", "1"]
    last = load(tmp_path, {"prediction_position": "last"}).preprocess_handler(rec, log)
    assert last == dict(zip(P, inputs + ["0.01076381653547287"]))
    none = load(tmp_path, {"prediction_position": "none"}).preprocess_handler(rec, log)
    assert none == dict(zip(P, inputs))


def test_prediction_none_does_not_need_an_output(tmp_path, log):
    pre = load(tmp_path, {"prediction_position": "none"})
    assert pre.preprocess_handler(record("1,2", None), log) == {P[0]: "1", P[1]: "2"}


def test_feature_names_and_prediction_names(tmp_path, log):
    config = {"feature_names": ["f1", "f2", "f3", "f4", "f5", "f6", "f7"], "prediction_names": ["score"]}
    pre = load(tmp_path, config)
    row = pre.preprocess_handler(sample("capture.jsonl")[0], log)
    assert row == {"score": "0.302709460258", "f1": "9", "f2": "45", "f3": "45", "f4": "42", "f5": "7", "f6": "5",
                   "f7": "0"}
    assert list(row) == ["score", "f1", "f2", "f3", "f4", "f5", "f6", "f7"]


def test_feature_names_default_prediction_name_and_last_position(tmp_path, log):
    pre = load(tmp_path, {"feature_names": ["a", "b"], "prediction_position": "last"})
    assert pre.preprocess_handler(record("1,2", "0.7"), log) == {"a": "1", "b": "2", "prediction": "0.7"}


def test_feature_names_with_a_different_number_of_values_drops_the_record(tmp_path, log):
    pre = load(tmp_path, {"feature_names": ["f1", "f2", "f3", "f4", "f5", "f6"]})
    rec = sample("capture.jsonl")[0]
    assert pre.preprocess_handler(rec, log) == []
    assert pre.LAST_SKIP_REASON == "endpointInput has 7 values but feature_names lists 6"
    assert log.messages == [
        "record_preprocessor: skipped record 74b0dd56-e7c8-368e-94b1-14a138a96000: "
        "endpointInput has 7 values but feature_names lists 6"
    ]


def test_params_model_defaults_render_to_positional_keys(tmp_path, log):
    # What the params model dumps when the user sets nothing: prediction_names is a list even though
    # feature_names is unset; positional keys must still be used for every column.
    config = {"feature_names": None, "prediction_names": ["prediction"], "prediction_position": "first",
              "mini_batch": None, "max_logged_skips": None}
    pre = load(tmp_path, config)
    assert pre.preprocess_handler(record("1,2", "0.7"), log) == {P[0]: "0.7", P[1]: "1", P[2]: "2"}


def test_quoted_csv_field_with_a_comma(pre, log):
    assert pre.preprocess_handler(record('"a,b",2', "0.1"), log) == {P[0]: "0.1", P[1]: "a,b", P[2]: "2"}


def test_csv_trailing_newline_is_one_row(pre, log):
    assert pre.preprocess_handler(record("1,2\n", "0.1\n"), log) == {P[0]: "0.1", P[1]: "1", P[2]: "2"}


# ------------------------------------------------------------------ JSON samples


def test_jsonlines_sample_single_record_sixteen_columns_sort_in_order(pre, log):
    first, _ = sample("28-32-105-b59d42b8-3dac-421a-a586-0c4effa143d2.jsonl")
    row = pre.preprocess_handler(first, log)
    values = [1, 0.989977359771728, 28, 2, 133937, 9, 13, 2, 0, 0, 4, 1, 15024, 0, 55, 37]
    assert row == dict(zip(P, values))
    assert list(row) == sorted(row)  # the analyzer sorts keys: with 16 columns, '10' must not precede '2'
    assert log.messages == []


def test_jsonlines_mini_batch_keeps_the_first_row_and_logs_once(pre, log):
    _, batch = sample("28-32-105-b59d42b8-3dac-421a-a586-0c4effa143d2.jsonl")
    values = [1, 0.989977359771728, 28, 2, 133937, 9, 13, 2, 0, 0, 4, 1, 15024, 0, 55, 37]
    for _ in range(3):
        assert pre.preprocess_handler(batch, log) == dict(zip(P, values))
    assert pre.MINI_BATCHES_TRUNCATED == 3
    assert log.messages == [
        "record_preprocessor: record 74e40c99-2d94-4a6d-a21e-f0222769012e is a mini-batch of 2 rows; keeping only "
        "the first row of each mini-batch (mini_batch='first'); later ones are not logged"
    ]


def test_jsonlines_mini_batch_all_and_skip(tmp_path, log):
    _, batch = sample("28-32-105-b59d42b8-3dac-421a-a586-0c4effa143d2.jsonl")
    rows = load(tmp_path, {"mini_batch": "all"}).preprocess_handler(batch, log)
    assert rows == [
        dict(zip(P, [1, 0.989977359771728, 28, 2, 133937, 9, 13, 2, 0, 0, 4, 1, 15024, 0, 55, 37])),
        dict(zip(P, [1, 0.504138827323913, 43, 2, 72338, 12, 14, 2, 12, 0, 1, 1, 0, 0, 40, 37])),
    ]
    skipping = load(tmp_path, {"mini_batch": "skip"})
    assert skipping.preprocess_handler(batch, log) == []
    assert skipping.LAST_SKIP_REASON == "mini-batch of 2 rows dropped (mini_batch='skip')"


def test_json_sample_instances_and_multiline_predictions(pre, log):
    # {"instances": [1.0, 2.0, 5.0]} is three one-value instances (TensorFlow Serving row format);
    # the output body spans several lines: {"predictions": [3.5, 4.0, 5.5]} pretty-printed.
    first, second = sample("captured-data.jsonl")
    assert "\n" in first.endpoint_output.data
    assert pre.preprocess_handler(first, log) == {P[0]: 3.5, P[1]: 1.0}
    assert pre.preprocess_handler(second, log) == {P[0]: 3.5, P[1]: 1.0}


def test_json_sample_mini_batch_all(tmp_path, log):
    first, _ = sample("captured-data.jsonl")
    rows = load(tmp_path, {"mini_batch": "all"}).preprocess_handler(first, log)
    assert rows == [{P[0]: 3.5, P[1]: 1.0}, {P[0]: 4.0, P[1]: 2.0}, {P[0]: 5.5, P[1]: 5.0}]


def test_json_object_flattened_in_document_order_with_null_missing(pre, log):
    rec = record('{"b": 1, "a": {"x": [2, 3], "y": null}, "c": "s"}', '[0.25]',
                 in_type="application/json", out_type="application/json", in_enc="JSON", out_enc="JSON")
    assert pre.preprocess_handler(rec, log) == {P[0]: 0.25, P[1]: 1, P[2]: 2, P[3]: 3, P[4]: None, P[5]: "s"}


def test_json_charset_suffix_and_pretty_printed_document_labelled_jsonlines(pre, log):
    rec = record('{\n  "features": [1, 2]\n}', '{"score": 0.5}', in_type="application/jsonlines; charset=utf-8",
                 out_type="application/json; charset=UTF-8", in_enc="JSON", out_enc="JSON")
    assert pre.preprocess_handler(rec, log) == {P[0]: 0.5, P[1]: 1, P[2]: 2}


def test_json_lines_labelled_as_json_are_read_as_lines(pre, log):
    rec = record('{"f": [1, 2]}\n{"f": [3, 4]}', '{"p": 1}\n{"p": 0}', in_type="application/json",
                 out_type="application/json", in_enc="JSON", out_enc="JSON")
    assert pre.preprocess_handler(rec, log) == {P[0]: 1, P[1]: 1, P[2]: 2}


# ------------------------------------------------------------------ BASE64 (no public sample: built here)


def test_base64_csv_with_charset_suffix(pre, log):
    # Synthetic: no public capture sample has encoding BASE64 (capture-samples/SOURCES.md).
    rec = record(b64("1.5,abc,\n"), b64("0.9"), in_type="text/csv; charset=utf-8", in_enc="BASE64", out_enc="BASE64")
    assert pre.preprocess_handler(rec, log) == {P[0]: "0.9", P[1]: "1.5", P[2]: "abc", P[3]: None}


def test_base64_json_and_jsonlines(pre, log):
    # Synthetic: no public capture sample has encoding BASE64 (capture-samples/SOURCES.md).
    rec = record(b64('{"instances": [[1, 2.5, "x"]]}'), b64('{"predictions": [0.25]}'), in_type="application/json",
                 out_type="application/json", in_enc="BASE64", out_enc="BASE64")
    assert pre.preprocess_handler(rec, log) == {P[0]: 0.25, P[1]: 1, P[2]: 2.5, P[3]: "x"}
    rec = record(b64('{"features": [7, 8]}\n'), b64('{"predicted_label": 1, "score": 0.75}\n'),
                 in_type="application/jsonlines", out_type="application/x-jsonlines", in_enc="BASE64", out_enc="BASE64")
    assert pre.preprocess_handler(rec, log) == {P[0]: 1, P[1]: 0.75, P[2]: 7, P[3]: 8}


def test_base64_uses_the_declared_charset(pre, log):
    # Synthetic: no public capture sample has encoding BASE64 (capture-samples/SOURCES.md).
    latin1 = b64("café,1", "latin-1")
    rec = record(latin1, b64("0"), in_type="text/csv; charset=ISO-8859-1", in_enc="BASE64", out_enc="BASE64")
    assert pre.preprocess_handler(rec, log) == {P[0]: "0", P[1]: "café", P[2]: "1"}
    rec = record(latin1, b64("0"), in_type="text/csv", in_enc="BASE64", out_enc="BASE64", event_id="ev-latin")
    assert pre.preprocess_handler(rec, log) == []
    assert pre.LAST_SKIP_REASON.startswith("endpointInput: BASE64 payload is not valid utf-8 text")
    assert log.messages[0].startswith("record_preprocessor: skipped record ev-latin: endpointInput: BASE64 payload")


@pytest.mark.parametrize(
    ("rec", "reason"),
    [
        (record("@@not base64@@", "0", in_enc="BASE64"), "endpointInput: data is not valid BASE64"),
        (record(b64("x"), "0", in_type="application/x-npy", in_enc="BASE64"),
         "endpointInput: BASE64 payload with content type 'application/x-npy', which is neither CSV nor JSON"),
        (record(b64("1"), "0", in_type="text/csv; charset=klingon", in_enc="BASE64"),
         "endpointInput: unknown charset 'klingon' in content type 'text/csv; charset=klingon'"),
    ],
    ids=["invalid-base64", "unsupported-content-type", "unknown-charset"],
)
def test_base64_problems_drop_the_record(pre, log, rec, reason):
    # Synthetic: no public capture sample has encoding BASE64 (capture-samples/SOURCES.md).
    assert pre.preprocess_handler(rec, log) == []
    assert pre.LAST_SKIP_REASON.startswith(reason)


# ------------------------------------------------------------------ records that cannot be used


@pytest.mark.parametrize("name", ["actuals.jsonl", "01d3c1a8-aa99-4149-9d5e-78bea047a788.jsonl"])
def test_ground_truth_files_are_dropped_with_a_reason(pre, log, name):
    records = sample(name)
    assert len(records) == {"actuals.jsonl": 44, "01d3c1a8-aa99-4149-9d5e-78bea047a788.jsonl": 1}[name]
    assert [pre.preprocess_handler(rec, log) for rec in records] == [[]] * len(records)
    assert pre.LAST_SKIP_REASON == (
        "record has no captureData.endpointInput (a ground-truth or batch transform file given as endpoint capture?)"
    )
    assert log.messages[0].startswith("record_preprocessor: skipped record " + records[0].event_metadata.event_id)


@pytest.mark.parametrize(
    ("rec", "reason"),
    [
        (record("{not json", "0", in_type="application/json", in_enc="JSON"), "endpointInput: body is not valid JSON"),
        (record('{"a": 1}\n{broken', "0", in_type="application/jsonlines", in_enc="JSON"),
         "endpointInput: line 2 of the body is not valid JSON"),
        (record("1,2", "0", in_enc="XML"), "endpointInput: unknown encoding 'XML' (expected CSV, JSON or BASE64)"),
        (record("1,2", None), "record has no captureData.endpointOutput"),
        (record("1,2\n3,4", "0.5"), "endpointInput has 2 rows but endpointOutput has 1"),
        (record(None, "0.5"), "endpointInput has no data"),
        (record("", "0.5"), "endpointInput is empty"),
        (record('{"features": []}', "0.5", in_type="application/json", in_enc="JSON"),
         "endpointInput row has no values"),
    ],
    ids=["bad-json", "bad-json-line", "unknown-encoding", "no-output", "row-count", "no-data", "empty", "no-values"],
)
def test_malformed_records_are_dropped_never_raised(pre, log, rec, reason):
    assert pre.preprocess_handler(rec, log) == []
    assert pre.LAST_SKIP_REASON.startswith(reason)
    assert len(log.messages) == 1 and "ev-1" in log.messages[0]


def test_an_object_without_the_documented_attributes_is_dropped_not_raised(pre, log):
    assert pre.preprocess_handler(object(), log) == []
    assert pre.LAST_SKIP_REASON.startswith("unexpected AttributeError")
    assert log.messages == [f"record_preprocessor: skipped record <no eventId>: {pre.LAST_SKIP_REASON}"]


def test_skip_logging_is_bounded(tmp_path, log):
    pre = load(tmp_path, {"max_logged_skips": 5})
    for i in range(100):
        assert pre.preprocess_handler(record("{", "0", in_type="application/json", in_enc="JSON", event_id=f"e{i}"), log) == []
    # 5 individual lines, 1 "only counted from now on", then totals at 10 and 100.
    assert len(log.messages) == 8
    assert [m.split(":")[1].strip() for m in log.messages[:5]] == ["skipped record e0", "skipped record e1",
                                                                   "skipped record e2", "skipped record e3",
                                                                   "skipped record e4"]
    assert log.messages[5] == ("record_preprocessor: 5 records skipped; further skips are only counted "
                               "(a total is logged at 10, then every power of ten)")
    assert log.messages[6].startswith("record_preprocessor: 10 records skipped so far (latest: record e9: ")
    assert log.messages[7].startswith("record_preprocessor: 100 records skipped so far (latest: record e99: ")


def test_default_skip_logging_budget(pre, log):
    for i in range(1000):
        pre.preprocess_handler(record("1", None, event_id=f"e{i}"), log)
    assert len(log.messages) == 10 + 1 + 2  # 10 lines, the notice, totals at 100 and 1000


def test_without_a_logger_the_module_logger_is_used(pre):
    handler = ListHandler()
    module_logger = logging.getLogger("record_preprocessor")
    module_logger.addHandler(handler)
    try:
        assert pre.preprocess_handler(record("1", None)) == []
    finally:
        module_logger.removeHandler(handler)
    assert handler.messages == [
        "record_preprocessor: skipped record ev-1: record has no captureData.endpointOutput (capture only the input? "
        "then set prediction_position: none)"
    ]


# ------------------------------------------------------------------ configuration


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"colour": "red"}, "unknown key(s) colour"),
        ({"prediction_position": "middle"}, "CONFIG['prediction_position']='middle': must be one of"),
        ({"mini_batch": "explode"}, "CONFIG['mini_batch']='explode'"),
        ({"max_logged_skips": -1}, "CONFIG['max_logged_skips']=-1: must be an integer >= 0"),
        ({"feature_names": []}, "CONFIG['feature_names']=[]: must be a non-empty list"),
        ({"feature_names": ["a", "a"]}, "names must be unique"),
        ({"feature_names": ["a", "prediction"]}, "clashes with feature_names on ['prediction']"),
    ],
)
def test_invalid_config_fails_at_import_with_the_key_named(tmp_path, config, message):
    with pytest.raises(ValueError) as info:
        load(tmp_path, config)
    assert message in str(info.value)


# ------------------------------------------------------------------ rendering (mmtool.generate.assets)


def test_render_replaces_exactly_the_config_line():
    source = SCRIPT.read_text(encoding="utf-8")
    rendered = render_preprocessor(source, {"prediction_position": "last", "feature_names": ["a", "b"]})
    before, after = source.splitlines(), rendered.splitlines()
    changed = [(b, a) for b, a in zip(before, after) if b != a]
    assert len(before) == len(after)
    assert changed == [("CONFIG = {}", "CONFIG = {'feature_names': ['a', 'b'], 'prediction_position': 'last'}")]


def test_render_is_deterministic_whatever_the_key_order():
    source = "x = 1\nCONFIG = {}\n"
    one = render_preprocessor(source, {"b": [1, 2.5], "a": {"z": None, "y": True}})
    two = render_preprocessor(source, {"a": {"y": True, "z": None}, "b": [1, 2.5]})
    assert one == two == "x = 1\nCONFIG = {'a': {'y': True, 'z': None}, 'b': [1, 2.5]}\n"


def test_render_keeps_crlf_line_endings():
    assert render_preprocessor("a = 1\r\nCONFIG = {}\r\nb = 2\r\n", {"k": "v"}) == "a = 1\r\nCONFIG = {'k': 'v'}\r\nb = 2\r\n"


def test_render_ignores_indented_mentions():
    assert render_preprocessor('"""\n    CONFIG = {} here\n"""\nCONFIG = {}\n', {}) == '"""\n    CONFIG = {} here\n"""\nCONFIG = {}\n'


def test_render_without_marker_says_what_to_add():
    with pytest.raises(AssetError, match=r"my\.py: no line starts with 'CONFIG = '.*'CONFIG = \{\}'"):
        render_preprocessor("x = 1\n", {}, source_name="my.py")


def test_render_with_two_markers_names_the_lines():
    with pytest.raises(AssetError, match=r"my\.py: 2 lines start with 'CONFIG = ' \(lines 1, 3\)"):
        render_preprocessor("CONFIG = {}\nx = 1\nCONFIG = {}\n", {}, source_name="my.py")


def test_render_refuses_a_multiline_config():
    with pytest.raises(AssetError, match=r"my\.py:2: 'CONFIG = \{' is not a complete literal on one line"):
        render_preprocessor("x = 1\nCONFIG = {\n}\n", {}, source_name="my.py")


def test_render_refuses_a_script_that_does_not_compile():
    with pytest.raises(AssetError, match=r"^s\.py: rendered script does not compile: '\(' was never closed"):
        render_preprocessor("CONFIG = {}\nx = (\n", {"k": "v"}, source_name="s.py")
    assert render_preprocessor("CONFIG = {}\nx = ()\n", {"k": "v"}, source_name="s.py") == "CONFIG = {'k': 'v'}\nx = ()\n"


def test_a_fleet_renders_each_script_once_per_settings(monkeypatch):
    """25 endpoints, most with the same pre-processor settings: the build renders (and compiles) the script once per
    distinct settings, and every endpoint's asset is that rendering."""
    from mmtool.config.loader import params_from_data
    from mmtool.generate import synth
    from tests.fleet_data import fleet_data

    rendered = []
    real = synth.render_preprocessor
    monkeypatch.setattr(synth, "render_preprocessor", lambda *a, **k: rendered.append(a[1]) or real(*a, **k))
    params = params_from_data(fleet_data(25), "params/staging.yaml", None, "staging", ROOT)
    synthesis = synth.synthesize(params, ROOT)
    settings = {json.dumps(e.monitoring.data_quality.preprocessor.model_dump(), sort_keys=True) for e in params.fleet()}
    assert sorted(json.dumps(c, sort_keys=True) for c in rendered) == sorted(settings)
    rendered_assets = {k: v for k, v in synthesis.assets.items() if k.endswith("/record_preprocessor.py")}
    assert len(rendered_assets) == 25 and len({id(v) for v in rendered_assets.values()}) == len(settings)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"a": {1, 2}}, "settings.a={1, 2}: set is not JSON-compatible"),
        ({"a": (1, 2)}, "settings.a=(1, 2): tuple is not JSON-compatible"),
        ({"a": float("nan")}, "settings.a=nan: not a JSON number"),
        ({"a": {3: "x"}}, "settings.a: key 3 is not a string"),
        ({"a": [1, float("inf")]}, "settings.a[1]=inf: not a JSON number"),
    ],
)
def test_render_refuses_non_json_values(config, message):
    with pytest.raises(AssetError, match=re.escape(f"s.py {message}")):
        render_preprocessor("CONFIG = {}\n", config, source_name="s.py")


def test_config_literal_round_trips():
    config = {"feature_names": ["a", "b"], "prediction_names": None, "max_logged_skips": 3, "x": 0.5, "y": False}
    literal = config_literal(config)
    assert ast.literal_eval(literal) == config
    assert literal == "{'feature_names': ['a', 'b'], 'max_logged_skips': 3, 'prediction_names': None, 'x': 0.5, 'y': False}"


# ------------------------------------------------------------------ runs in AWS's container


@pytest.mark.parametrize("path", [SCRIPT, POST], ids=lambda p: p.name)
def test_scripts_are_python38_standard_library_only_without_annotations(path):
    # The container's Python version is not documented: keep to 3.8 grammar, the standard library,
    # and no annotations (`X | Y` in an annotation fails at import before 3.10).
    tree = ast.parse(path.read_text(encoding="utf-8"), feature_version=(3, 8))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "no relative imports: the script is loaded on its own"
            imported.add(node.module.split(".")[0])
        assert not isinstance(node, (ast.AnnAssign, ast.Match if hasattr(ast, "Match") else ())), ast.dump(node)[:80]
        if isinstance(node, ast.FunctionDef):
            assert node.returns is None and all(a.annotation is None for a in node.args.args), node.name
    assert imported and imported <= set(sys.stdlib_module_names), imported - set(sys.stdlib_module_names)


# ------------------------------------------------------------------ post-analytics processor


@pytest.fixture
def post(tmp_path):
    spec = importlib.util.spec_from_file_location(f"post_analytics_{next(_counter)}", POST)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_post_analytics_summarises_the_violations_file(post, tmp_path, monkeypatch, capsys):
    (tmp_path / "constraint_violations.json").write_bytes((BASELINE / "sdk-test-constraint_violations.json").read_bytes())
    monkeypatch.setenv("output_path", str(tmp_path))
    monkeypatch.setenv("sagemaker_monitoring_schedule_name", "churn-prod-dq")
    monkeypatch.setenv("start_time", "2026-11-24T09:00:00Z")
    monkeypatch.setenv("end_time", "2026-11-24T10:00:00Z")
    assert post.postprocess_handler() is None
    assert capsys.readouterr().out == (
        "post-analytics: schedule churn-prod-dq, window 2026-11-24T09:00:00Z..2026-11-24T10:00:00Z: 7 violation(s): "
        "data_type_check 5 (fare_amount, total_amount, tolls_amount, extra, tip_amount); "
        "categorical_values_check 1 (store_and_fwd_flag); completeness_check 1 (congestion_surcharge)\n"
    )


def test_post_analytics_other_cases(post, tmp_path):
    assert post.summarize(str(tmp_path)) == f"no constraint_violations.json in {tmp_path} (no baseline constraints configured?)"
    (tmp_path / "constraints_violations.json").write_text('{"violations": []}')
    assert post.summarize(str(tmp_path)) == f"no violations ({tmp_path / 'constraints_violations.json'})"
    many = {"violations": [{"feature_name": f"c{i}", "constraint_check_type": "missing_column_check"} for i in range(7)]}
    (tmp_path / "constraint_violations.json").write_text(json.dumps(many))
    assert post.summarize(str(tmp_path)) == "7 violation(s): missing_column_check 7 (c0, c1, c2, c3, c4, +2 more)"
    (tmp_path / "constraint_violations.json").write_text("{broken")
    assert post.summarize(str(tmp_path)).startswith(f"cannot read {tmp_path / 'constraint_violations.json'}: ")


def test_post_analytics_never_raises(post, monkeypatch, capsys):
    monkeypatch.setattr(post, "summarize", lambda path: 1 / 0)
    post.postprocess_handler()
    assert capsys.readouterr().out == "post-analytics: summary failed: ZeroDivisionError: division by zero\n"
