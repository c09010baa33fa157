"""Run a record pre-processor over local Data Capture files, as a data-quality monitoring job would.

A monitoring job that cannot parse its captured records fails (or reports nonsense) only after it
has been scheduled, run for minutes and billed. This module loads the pre-processor the job would
load, feeds it `inference_record` objects built like the analyzer's (AWS's `CapturedData` class,
MODEL-MONITOR.md §5.1) from each JSON line of the capture files, and reports:

* records read, parsed and skipped (with the reasons), and pre-processor failures;
* the columns the records became, in the analyzer's (sorted) order, with their value types;
* what can be checked against a local baseline without the analyzer: missing and extra columns,
  data types (`inferred_type` Integral/Fractional/String), completeness and categorical domains,
  written as `constraint_violations.json` in Model Monitor's format (§6.3).

Not checked locally: `baseline_drift_check` (it needs the analyzer's KLL distance computation).

Library only: the CLI (`make dry-run`) parses arguments, prints `format_report(result)` and exits
non-zero unless `result.ok`.
"""

from __future__ import annotations

import importlib.util
import inspect
import itertools
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Union

from mmtool.errors import EXIT_BAD_INPUT, ToolError

PathLike = Union[str, Path]

CHECK_TYPES = (
    "data_type_check",
    "completeness_check",
    "baseline_drift_check",
    "missing_column_check",
    "extra_column_check",
    "categorical_values_check",
)
# Defaults of monitoring_config when constraints.json leaves a key out (MODEL-MONITOR.md §6.2).
DEFAULT_DATATYPE_CHECK_THRESHOLD = 0.1
DEFAULT_DOMAIN_CONTENT_THRESHOLD = 0.1
MAX_EXAMPLES = 3
MAX_DISTINCT_VALUES = 50_000  # per column, for the categorical domain check


class DryRunError(ToolError):
    """The dry run cannot start: a file is missing, unreadable or of the wrong kind."""

    exit_code = EXIT_BAD_INPUT


# ------------------------------------------------------------------ the container's record classes
# Attribute names as in AWS's documented `CapturedData` (MODEL-MONITOR.md §5.1). One deliberate
# difference: AWS's printed snippet fills `custom_attribute` from `observedContentType`, an evident
# typo (its own constant names `customAttributes`); this reads `customAttributes`.


class EventData:
    def __init__(self, data_dict: dict):
        self.encoding = data_dict.get("encoding")
        self.data = data_dict.get("data")
        self.observedContentType = data_dict.get("observedContentType")
        self.mode = data_dict.get("mode")

    def as_dict(self) -> dict:
        return {"encoding": self.encoding, "data": self.data, "observedContentType": self.observedContentType}


class EventMetadata:
    def __init__(self, metadata: dict):
        self.event_id = metadata.get("eventId")
        self.event_time = metadata.get("inferenceTime")
        self.custom_attribute = metadata.get("customAttributes")


class CapturedData:
    """One captured record, shaped like the `inference_record` the analyzer passes to the handler."""

    def __init__(self, event_dict: dict):
        self.event_dict = event_dict
        self.event_metadata = None
        self.endpoint_input = None
        self.endpoint_output = None
        self.batch_transform_output = None
        self.ground_truth = None
        self.event_version = event_dict.get("eventVersion")
        metadata = event_dict.get("eventMetadata")
        if isinstance(metadata, dict):
            self.event_metadata = EventMetadata(metadata)
        capture = event_dict.get("captureData")
        if isinstance(capture, dict):
            if isinstance(capture.get("endpointInput"), dict):
                self.endpoint_input = EventData(capture["endpointInput"])
            if isinstance(capture.get("endpointOutput"), dict):
                self.endpoint_output = EventData(capture["endpointOutput"])
            if isinstance(capture.get("batchTransformOutput"), dict):
                self.batch_transform_output = EventData(capture["batchTransformOutput"])
        if isinstance(event_dict.get("groundTruthData"), dict):
            self.ground_truth = EventData(event_dict["groundTruthData"])

    def as_dict(self) -> dict:
        return self.event_dict


# ------------------------------------------------------------------ result objects


@dataclass
class SkipGroup:
    reason: str
    count: int = 0
    examples: list[str] = field(default_factory=list)  # "file:line (eventId)"


@dataclass
class Failure:
    where: str
    event_id: str
    message: str


@dataclass
class Violation:
    feature_name: str
    constraint_check_type: str
    description: str

    def as_dict(self) -> dict:
        return {
            "feature_name": self.feature_name,
            "constraint_check_type": self.constraint_check_type,
            "description": self.description,
        }


@dataclass
class ColumnSummary:
    name: str  # the key the pre-processor returned
    present: int = 0  # non-null values
    missing: int = 0  # rows where the key was absent or None
    types: dict[str, int] = field(default_factory=dict)  # Integral/Fractional/String/Boolean -> count
    examples: dict[str, str] = field(default_factory=dict)  # first value seen of each type
    values: dict[str, int] = field(default_factory=dict, repr=False)  # str(value) -> count, capped
    baseline_name: str | None = None  # the baseline column it was matched to
    baseline_type: str | None = None

    @property
    def inferred_type(self) -> str:
        kinds = set(self.types)
        if not kinds:
            return "Unknown"
        if kinds == {"Integral"}:
            return "Integral"
        if kinds <= {"Integral", "Fractional"}:
            return "Fractional"
        return "String"


@dataclass
class BaselineFeature:
    name: str
    inferred_type: str | None
    completeness: float | None = None
    domains: list[str] | None = None
    evaluate: bool = True
    datatype_threshold: float | None = None
    domain_threshold: float | None = None


@dataclass
class Baseline:
    features: list[BaselineFeature]
    constraints_path: Path | None
    statistics_path: Path | None
    evaluate: bool = True
    datatype_threshold: float = DEFAULT_DATATYPE_CHECK_THRESHOLD
    domain_threshold: float = DEFAULT_DOMAIN_CONTENT_THRESHOLD
    item_count: int | None = None
    statistics_names: list[str] | None = None


@dataclass
class DryRunResult:
    preprocessor: Path
    files: list[Path]
    records_read: int = 0
    records_parsed: int = 0
    rows: int = 0
    skipped: dict[str, SkipGroup] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    columns: list[ColumnSummary] = field(default_factory=list)
    baseline: Baseline | None = None
    column_matching: str | None = None  # "by name" or "by position"
    violations: list[Violation] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    log_lines: int = 0
    log_sample: list[str] = field(default_factory=list)
    mini_batches_truncated: int | None = None
    violations_path: Path | None = None

    @property
    def records_skipped(self) -> int:
        return sum(group.count for group in self.skipped.values())

    @property
    def ok(self) -> bool:
        """True when the job would parse records and report no violation: the CLI's exit status."""
        return not self.violations and not self.failures and self.records_parsed > 0

    def violations_document(self) -> dict:
        return {"violations": [violation.as_dict() for violation in self.violations]}


# ------------------------------------------------------------------ loading


class _CaptureHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


_load_counter = itertools.count()


def load_preprocessor(path: PathLike):
    """Import the pre-processor file as the analyzer does (a fresh module each call; no sys.path edits)."""
    path = Path(path)
    if not path.is_file():
        raise DryRunError(
            f"{path}: no such pre-processor file; give the rendered script the build wrote, "
            "or scripts/record_preprocessor.py for its default settings"
        )
    spec = importlib.util.spec_from_file_location(f"_mmtool_dryrun_preprocessor_{next(_load_counter)}", path)
    if spec is None or spec.loader is None:
        raise DryRunError(f"{path}: cannot be loaded as a Python module; the pre-processor must be a .py file")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # noqa: BLE001 - any import error is the user's to see
        raise DryRunError(
            f"{path}: importing the pre-processor failed ({type(exc).__name__}: {exc}); "
            "the monitoring job would fail the same way"
        ) from exc
    if not callable(getattr(module, "preprocess_handler", None)):
        raise DryRunError(f"{path}: defines no preprocess_handler(inference_record, logger) function")
    return module


def _takes_logger(handler) -> bool:
    try:
        parameters = list(inspect.signature(handler).parameters.values())
    except (TypeError, ValueError):
        return True
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 2 or any(p.kind == p.VAR_POSITIONAL for p in parameters)


def capture_files(paths: PathLike | Iterable[PathLike]) -> list[Path]:
    """The .jsonl files to read: each path is a file, or a folder searched recursively for *.jsonl."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*.jsonl") if p.is_file())
            if not found:
                raise DryRunError(
                    f"{path}: no *.jsonl file in this folder or below; Data Capture writes "
                    "<endpoint>/<variant>/yyyy/mm/dd/hh/*.jsonl: point at that tree or at one file"
                )
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise DryRunError(f"{path}: no such capture file or folder; give a .jsonl file or a folder of them")
    if not files:
        raise DryRunError("no capture file given; pass a .jsonl file or a folder of them")
    unique: dict[Path, None] = {}
    for file in files:
        unique.setdefault(file, None)
    return list(unique)


def _read_json(path: PathLike, what: str) -> tuple[Path, dict]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DryRunError(
            f"{path}: no such file; download the baseline's {what} first "
            f"(aws s3 cp <baseline uri>/{what} {path})"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DryRunError(f"{path}: cannot read the {what} ({exc})") from None
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise DryRunError(f"{path}: not valid JSON ({exc}); expected the {what} of a baselining job") from None
    if not isinstance(document, dict):
        raise DryRunError(f"{path}: expected a JSON object (the {what} of a baselining job)")
    return path, document


def _refuse_other_kinds(path: Path, document: dict, what: str) -> None:
    keys = set(document)
    clarify = sorted(k for k in keys if k.endswith("_bias_metrics") or k in ("explanations", "analysis_config"))
    if clarify:
        raise DryRunError(
            f"{path}: this is a SageMaker Clarify analysis (it has {', '.join(clarify)}), not a data-quality "
            f"{what}; pass the {what} written by the data-quality baselining job"
        )
    model_quality = sorted(k for k in keys if k.endswith("_constraints") or k.endswith("_metrics"))
    if model_quality:
        raise DryRunError(
            f"{path}: this is a model-quality {what} (it has {', '.join(model_quality)}), not a data-quality one; "
            f"the dry run checks the columns the pre-processor produces, so pass the data-quality {what}"
        )
    features = document.get("features")
    if not isinstance(features, list) or not all(isinstance(f, dict) and isinstance(f.get("name"), str) for f in features):
        raise DryRunError(
            f"{path}: no 'features' list of named columns; expected the data-quality {what} of a baselining job"
        )


def _threshold(config: dict, key: str, default: float, path: Path) -> float:
    value = config.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise DryRunError(f"{path}: monitoring_config.{key}={value!r}: must be a number from 0 to 1")
    return float(value)


def _enabled(value: object) -> bool:
    return not (isinstance(value, str) and value.lower() == "disabled")


def load_baseline(constraints_path: PathLike | None = None, statistics_path: PathLike | None = None) -> Baseline | None:
    """Read the baseline's constraints.json and/or statistics.json; None when neither is given."""
    if constraints_path is None and statistics_path is None:
        return None
    statistics = None
    if statistics_path is not None:
        statistics_path, statistics = _read_json(statistics_path, "statistics.json")
        _refuse_other_kinds(statistics_path, statistics, "statistics.json")
        if "monitoring_config" in statistics or not any(
            k.endswith("_statistics") for f in statistics["features"] for k in f
        ):
            raise DryRunError(
                f"{statistics_path}: this looks like a constraints.json (no per-feature *_statistics); "
                "pass it as the constraints file"
            )
    if constraints_path is not None:
        constraints_path, constraints = _read_json(constraints_path, "constraints.json")
        _refuse_other_kinds(constraints_path, constraints, "constraints.json")
        if "dataset" in constraints or any(k.endswith("_statistics") for f in constraints["features"] for k in f):
            raise DryRunError(
                f"{constraints_path}: this looks like a statistics.json (it has per-feature statistics); "
                "pass it as the statistics file"
            )
        config = constraints.get("monitoring_config") or {}
        if not isinstance(config, dict):
            raise DryRunError(f"{constraints_path}: monitoring_config must be an object")
        baseline = Baseline(
            features=[],
            constraints_path=constraints_path,
            statistics_path=statistics_path,
            evaluate=_enabled(config.get("evaluate_constraints", "Enabled")),
            datatype_threshold=_threshold(config, "datatype_check_threshold", DEFAULT_DATATYPE_CHECK_THRESHOLD, constraints_path),
            domain_threshold=_threshold(config, "domain_content_threshold", DEFAULT_DOMAIN_CONTENT_THRESHOLD, constraints_path),
        )
        for raw in constraints["features"]:
            strings = raw.get("string_constraints") if isinstance(raw.get("string_constraints"), dict) else {}
            overrides: dict = {}
            for candidate in (raw.get("monitoringConfigOverrides"), raw.get("monitoring_config_overrides"),
                              strings.get("monitoring_config_overrides"), strings.get("monitoringConfigOverrides")):
                if isinstance(candidate, dict):
                    overrides.update(candidate)
            completeness = raw.get("completeness")
            domains = strings.get("domains")
            baseline.features.append(
                BaselineFeature(
                    name=raw["name"],
                    inferred_type=raw.get("inferred_type"),
                    completeness=float(completeness) if isinstance(completeness, (int, float)) else None,
                    domains=[str(d) for d in domains] if isinstance(domains, list) and domains else None,
                    evaluate=_enabled(overrides.get("evaluate_constraints", "Enabled")),
                    datatype_threshold=_threshold(overrides, "datatype_check_threshold", baseline.datatype_threshold, constraints_path),
                    domain_threshold=_threshold(overrides, "domain_content_threshold", baseline.domain_threshold, constraints_path),
                )
            )
    else:
        baseline = Baseline(
            features=[BaselineFeature(name=f["name"], inferred_type=f.get("inferred_type")) for f in statistics["features"]],
            constraints_path=None,
            statistics_path=statistics_path,
        )
    if statistics is not None:
        baseline.statistics_names = [f["name"] for f in statistics["features"]]
        dataset = statistics.get("dataset")
        if isinstance(dataset, dict) and isinstance(dataset.get("item_count"), (int, float)):
            baseline.item_count = int(dataset["item_count"])
    return baseline


# ------------------------------------------------------------------ value types

_INTEGRAL = re.compile(r"\s*[+-]?\d+\s*")
_FRACTIONAL = re.compile(r"\s*[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?\s*|\s*[+-]?(nan|inf|infinity)\s*", re.IGNORECASE)


def value_type(value: object) -> str:
    """Integral, Fractional, String or Boolean, as the analyzer's type inference sees a value."""
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        return "Integral"
    if isinstance(value, float):
        return "Fractional"
    text = str(value)
    if _INTEGRAL.fullmatch(text):
        return "Integral"
    if _FRACTIONAL.fullmatch(text):
        return "Fractional"
    if text.strip().lower() in ("true", "false"):
        return "Boolean"
    return "String"


# A value conforms to the baseline type when the analyzer would count it as that type. Integral
# values are accepted in a Fractional column and anything in a String column, so the dry run only
# reports mismatches that are mismatches under any reading of the type check.
_CONFORMS = {
    "Integral": {"Integral"},
    "Fractional": {"Integral", "Fractional"},
    "String": {"Integral", "Fractional", "String", "Boolean"},
}


# ------------------------------------------------------------------ running


def _scalar(value: object) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def _rows_from(returned: object) -> list[dict]:
    """The rows the analyzer would get from one handler return value; ValueError if it would fail."""
    if isinstance(returned, dict):
        rows = [returned]
    elif isinstance(returned, list):
        if not all(isinstance(row, dict) for row in returned):
            raise ValueError("returned a list that is not made of dicts; return one flat dict, or [] to drop the record")
        rows = returned
    else:
        raise ValueError(
            f"returned {type(returned).__name__} {returned!r:.60}; return one flat dict, or [] to drop the record"
        )
    for row in rows:
        if not row:
            raise ValueError("returned an empty dict {}, which the analyzer rejects; return [] to drop a record")
        for key, value in row.items():
            if not isinstance(key, str):
                raise ValueError(f"returned a non-string key {key!r}; column names must be strings")
            if not _scalar(value):
                raise ValueError(
                    f"column {key!r} holds a {type(value).__name__}; the analyzer needs flat rows of scalars"
                )
    return rows


def _event_id(record: CapturedData) -> str:
    metadata = record.event_metadata
    return str(metadata.event_id) if metadata is not None and metadata.event_id else "<no eventId>"


def run_dry_run(
    preprocessor_path: PathLike,
    capture_paths: PathLike | Iterable[PathLike],
    constraints_path: PathLike | None = None,
    statistics_path: PathLike | None = None,
    out_dir: PathLike | None = None,
) -> DryRunResult:
    """Run the pre-processor over the capture files and check the columns against the baseline.

    `capture_paths`: a .jsonl file, a folder (searched recursively for *.jsonl) or a list of them.
    `out_dir`: when given, `constraint_violations.json` is written there (also when it is empty).
    Raises DryRunError when a file is missing or of the wrong kind; problems inside the capture data
    are reported in the result, never raised.
    """
    baseline = load_baseline(constraints_path, statistics_path)  # fail fast on a wrong baseline file
    files = capture_files(capture_paths)
    module = load_preprocessor(preprocessor_path)
    handler = module.preprocess_handler
    pass_logger = _takes_logger(handler)

    capture = _CaptureHandler()
    logger = logging.getLogger(f"mmtool.operate.dryrun.preprocessor.{module.__name__}")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    logger.addHandler(capture)

    result = DryRunResult(preprocessor=Path(preprocessor_path), files=files, baseline=baseline)
    columns: dict[str, ColumnSummary] = {}
    list_rows_seen = False
    ground_truth_records = 0

    def skip(reason: str, where: str, event_id: str) -> None:
        group = result.skipped.setdefault(reason, SkipGroup(reason))
        group.count += 1
        if len(group.examples) < MAX_EXAMPLES:
            group.examples.append(f"{where} ({event_id})")

    try:
        for file in files:
            with file.open("rb") as stream:
                for number, raw_line in enumerate(stream, 1):
                    if not raw_line.strip():
                        continue
                    result.records_read += 1
                    where = f"{file}:{number}"
                    try:
                        event = json.loads(raw_line.decode("utf-8"))
                    except UnicodeDecodeError:
                        skip("line is not UTF-8 text (not a Data Capture record)", where, "<no eventId>")
                        continue
                    except ValueError as exc:
                        skip(f"line is not valid JSON ({exc.msg})", where, "<no eventId>")
                        continue
                    if not isinstance(event, dict):
                        skip("line is not a JSON object (not a Data Capture record)", where, "<no eventId>")
                        continue
                    record = CapturedData(event)
                    if record.ground_truth is not None and record.endpoint_input is None:
                        ground_truth_records += 1
                    event_id = _event_id(record)
                    if hasattr(module, "LAST_SKIP_REASON"):
                        module.LAST_SKIP_REASON = None
                    logged_before = len(capture.records)
                    try:
                        returned = handler(record, logger) if pass_logger else handler(record)
                        rows = _rows_from(returned)
                    except Exception as exc:  # noqa: BLE001 - reported, as the job would fail on it
                        result.failures.append(Failure(where, event_id, f"{type(exc).__name__}: {exc}"))
                        continue
                    if not rows:
                        reason = getattr(module, "LAST_SKIP_REASON", None)
                        if not reason and len(capture.records) > logged_before:
                            reason = capture.records[logged_before].getMessage()
                        skip(reason or "the pre-processor returned [] (record dropped)", where, event_id)
                        continue
                    if isinstance(returned, list):
                        list_rows_seen = True
                    result.records_parsed += 1
                    for row in rows:
                        result.rows += 1
                        for key, value in row.items():
                            column = columns.get(key)
                            if column is None:
                                column = columns[key] = ColumnSummary(key)
                            if value is None:
                                continue
                            column.present += 1
                            kind = value_type(value)
                            column.types[kind] = column.types.get(kind, 0) + 1
                            column.examples.setdefault(kind, repr(value))
                            text = value if isinstance(value, str) else str(value)
                            if text in column.values:
                                column.values[text] += 1
                            elif len(column.values) < MAX_DISTINCT_VALUES:
                                column.values[text] = 1
    finally:
        logger.removeHandler(capture)

    for column in columns.values():
        column.missing = result.rows - column.present
    result.columns = [columns[key] for key in sorted(columns)]  # the analyzer sorts keys
    result.log_lines = len(capture.records)
    result.log_sample = [f"{r.levelname} {r.getMessage()}" for r in capture.records[:5]]
    truncated = getattr(module, "MINI_BATCHES_TRUNCATED", None)
    if isinstance(truncated, int):
        result.mini_batches_truncated = truncated
        if truncated:
            result.notes.append(
                f"{truncated} mini-batch record(s) were reduced to their first row (mini_batch: first)"
            )
    if list_rows_seen:
        result.notes.append(
            "the pre-processor returned a list of rows for some records; the AWS docs do not document "
            "this (MODEL-MONITOR.md §5.1): confirm it with a one-off monitoring job before relying on it"
        )
    if ground_truth_records:
        result.notes.append(
            f"{ground_truth_records} record(s) are ground truth (groundTruthData), not endpoint capture: "
            "the data-quality job reads the endpoint's Data Capture files"
        )
    if result.records_read and not result.records_parsed:
        result.notes.append("no record was parsed: the monitoring job would fail with no data")
    if baseline is not None:
        _check(result, baseline)
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        result.violations_path = out / "constraint_violations.json"
        result.violations_path.write_text(json.dumps(result.violations_document(), indent=2) + "\n", encoding="utf-8")
    return result


# ------------------------------------------------------------------ checks

_HEADERLESS = re.compile(r"_c(\d+)")


def _match_columns(produced: list[str], names: list[str]) -> tuple[dict[str, str], str]:
    """Map produced keys (sorted) to baseline names: by name, or by position for a headerless CSV baseline.

    A headerless CSV baseline names its columns _c0, _c1, ...; AWS's own pre-processor example
    returns zero-padded positions and is run against such baselines, so when no name matches and
    the baseline is headerless, the i-th key in sorted order is taken as the i-th column.
    """
    if set(produced) & set(names) or not produced:
        return {key: key for key in produced if key in names}, "by name"
    headerless = [m.group(1) for m in map(_HEADERLESS.fullmatch, names) if m]
    if len(headerless) == len(names) and [int(i) for i in headerless] == list(range(len(names))) and all(
        key.isdigit() for key in produced
    ):
        return dict(zip(produced, names)), "by position"
    return {}, "by name"


def _fraction(value: float) -> str:
    return repr(float(value))


def _check(result: DryRunResult, baseline: Baseline) -> None:
    produced = [column.name for column in result.columns]
    names = [feature.name for feature in baseline.features]
    mapping, matching = _match_columns(produced, names)
    result.column_matching = matching
    by_baseline = {target: key for key, target in mapping.items()}
    columns = {column.name: column for column in result.columns}
    for key, target in mapping.items():
        columns[key].baseline_name = target

    _notes_on_order(result, produced, names, mapping, matching)

    if baseline.constraints_path is None:
        result.notes.append(
            "only statistics.json was given: missing and extra columns are checked; data types, "
            "completeness and domains need the baseline's constraints.json"
        )
    elif not baseline.evaluate:
        result.notes.append("constraints.json has evaluate_constraints: Disabled; the job would report no violation")
        return
    if baseline.statistics_names is not None and baseline.constraints_path is not None:
        stat_names = set(baseline.statistics_names)
        only_constraints = sorted(set(names) - stat_names)
        only_statistics = sorted(stat_names - set(names))
        if only_constraints or only_statistics:
            result.notes.append(
                "statistics.json and constraints.json list different columns"
                + (f"; only in constraints.json: {', '.join(only_constraints)}" if only_constraints else "")
                + (f"; only in statistics.json: {', '.join(only_statistics)}" if only_statistics else "")
                + ": are they from the same baselining job?"
            )
    if not result.rows:
        return

    types = {feature.name: feature.inferred_type for feature in baseline.features}
    for column in result.columns:
        if column.baseline_name is not None:
            column.baseline_type = types.get(column.baseline_name)

    violations: list[Violation] = []
    for feature in baseline.features:
        if feature.name not in by_baseline and feature.evaluate:
            violations.append(Violation(
                feature.name, "missing_column_check",
                f"Baseline column {feature.name!r} is missing from the pre-processed data "
                f"(dry run, columns matched {matching}); check feature_names / prediction_position",
            ))
    for key in produced:
        if key not in mapping:
            violations.append(Violation(
                key, "extra_column_check",
                f"Column {key!r} produced by the pre-processor is not in the baseline "
                f"(dry run, columns matched {matching}); check feature_names / prediction_position",
            ))
    if baseline.constraints_path is None:
        result.violations = violations
        return

    for feature in baseline.features:
        key = by_baseline.get(feature.name)
        if key is None or not feature.evaluate:
            continue
        column = columns[key]
        shown = key if key == feature.name else f"{key} (baseline {feature.name})"
        allowed = _CONFORMS.get(feature.inferred_type or "")
        if allowed is not None and column.present:
            conforming = sum(count for kind, count in column.types.items() if kind in allowed)
            ratio = conforming / column.present
            if ratio < feature.datatype_threshold:
                found = ", ".join(f"{kind} {count}" for kind, count in sorted(column.types.items()))
                violations.append(Violation(
                    feature.name, "data_type_check",
                    f"Value: {_fraction(ratio)} does not meet the constraint requirement! (dry run: column "
                    f"{shown} is {feature.inferred_type} in the baseline; values seen: {found}; "
                    f"datatype_check_threshold {feature.datatype_threshold})",
                ))
        if feature.completeness is not None:
            observed = column.present / result.rows
            if observed < feature.completeness - 1e-9:
                violations.append(Violation(
                    feature.name, "completeness_check",
                    f"Value: {_fraction(observed)} does not meet the constraint requirement! (dry run: "
                    f"{column.present} of {result.rows} rows have a value in {shown}; baseline completeness "
                    f"{feature.completeness})",
                ))
        if feature.domains and column.present:
            domain = set(feature.domains)
            inside = sum(count for value, count in column.values.items() if value in domain)
            ratio = inside / column.present
            if ratio < feature.domain_threshold:
                violations.append(Violation(
                    feature.name, "categorical_values_check",
                    f"Value: {_fraction(ratio)} does not meet the constraint requirement! (dry run: "
                    f"{inside} of {column.present} values of {shown} are in the baseline domain "
                    f"{sorted(domain)[:5]}; domain_content_threshold {feature.domain_threshold})",
                ))
    result.violations = violations


def _notes_on_order(result: DryRunResult, produced: list[str], names: list[str], mapping: dict[str, str], matching: str) -> None:
    if matching == "by position":
        widths = {len(key) for key in produced}
        result.notes.append(
            "no column name matches the headerless baseline (_c0, _c1, ...): the i-th key in sorted order "
            "is compared with _c<i>, as AWS's zero-padded pre-processor example is"
        )
        if len(widths) > 1:
            result.notes.append(
                "the numeric keys have different widths, so their sorted order is not their numeric order "
                "(e.g. '10' sorts before '2'): zero-pad them"
            )
        return
    matched = [key for key in produced if key in mapping]
    baseline_order = [name for name in names if name in set(matched)]
    if matched != baseline_order:
        result.notes.append(
            "the analyzer sorts keys, and the matched column names sort in a different order than the "
            "baseline lists them; harmless if the analyzer matches columns by name, wrong if by position "
            "(MODEL-MONITOR.md §8 #4)"
        )


def _fmt_count(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def format_report(result: DryRunResult) -> str:
    """A plain-text report of the dry run for the terminal."""
    lines = [f"Dry run of {result.preprocessor} over {_fmt_count(len(result.files), 'file')}"]
    for file in result.files[:10]:
        lines.append(f"  {file}")
    if len(result.files) > 10:
        lines.append(f"  ... and {len(result.files) - 10} more")
    lines.append(
        f"Records: {result.records_read} read, {result.records_parsed} parsed into "
        f"{_fmt_count(result.rows, 'row')}, {result.records_skipped} skipped, {len(result.failures)} failed"
    )
    if result.skipped:
        lines.append("Skipped:")
        for group in sorted(result.skipped.values(), key=lambda g: (-g.count, g.reason)):
            lines.append(f"  {group.count:>6}  {group.reason}")
            for example in group.examples:
                lines.append(f"          e.g. {example}")
    if result.failures:
        lines.append("Pre-processor failures (the monitoring job would fail on these):")
        for failure in result.failures[:10]:
            lines.append(f"  {failure.where} ({failure.event_id}): {failure.message}")
        if len(result.failures) > 10:
            lines.append(f"  ... and {len(result.failures) - 10} more")
    lines.append(f"Pre-processor log: {_fmt_count(result.log_lines, 'line')}")
    for sample in result.log_sample:
        lines.append(f"  {sample}")
    if result.columns:
        lines.append(f"Columns ({len(result.columns)}, in the analyzer's sorted key order):")
        width = max(len(c.name) for c in result.columns)
        show_baseline = result.baseline is not None
        for column in result.columns:
            types = ", ".join(f"{kind} {count}" for kind, count in sorted(column.types.items())) or "no values"
            example = next(iter(column.examples.values()), None)
            target = ""
            if show_baseline:
                target = f"  -> {column.baseline_name}" if column.baseline_name else "  -> (not in baseline)"
                if column.baseline_type:
                    target += f" [{column.baseline_type}]"
            lines.append(
                f"  {column.name:<{width}}  present {column.present}, missing {column.missing}; "
                f"{types}{'; e.g. ' + example if example else ''}{target}"
            )
    baseline = result.baseline
    if baseline is not None:
        sources = []
        if baseline.constraints_path is not None:
            sources.append(f"constraints {baseline.constraints_path}")
        if baseline.statistics_path is not None:
            items = f" ({baseline.item_count} baseline rows)" if baseline.item_count is not None else ""
            sources.append(f"statistics {baseline.statistics_path}{items}")
        lines.append(f"Baseline: {'; '.join(sources)}; {len(baseline.features)} columns, matched {result.column_matching}")
        lines.append("  not checked locally: baseline_drift_check (needs the analyzer's distribution distances)")
    for note in result.notes:
        lines.append(f"Note: {note}")
    if result.violations:
        lines.append(f"Violations ({len(result.violations)}):")
        for violation in result.violations:
            lines.append(f"  {violation.constraint_check_type:<24} {violation.feature_name}: {violation.description}")
    elif baseline is not None:
        lines.append("Violations: none")
    if result.violations_path is not None:
        lines.append(f"Wrote {result.violations_path}")
    if result.ok:
        lines.append("Result: OK")
    else:
        reasons = []
        if result.violations:
            reasons.append(_fmt_count(len(result.violations), "violation"))
        if result.failures:
            reasons.append(_fmt_count(len(result.failures), "failed record"))
        if not result.records_parsed:
            reasons.append("no record parsed")
        lines.append(f"Result: FAILED ({', '.join(reasons)})")
    return "\n".join(lines)
