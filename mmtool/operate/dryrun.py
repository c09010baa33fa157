"""Run a record pre-processor over local Data Capture files, then the processing engine's analyzer over its rows.

A monitoring job that cannot parse its captured records fails (or reports nonsense) only after it
has been scheduled, run for minutes and billed. This module loads the pre-processor the job would
load, feeds it `inference_record` objects (the analyzer's `CapturedData`, shaped like AWS's documented
class) built from each JSON line of the capture files, and reports:

* records read, parsed and skipped (with the reasons), and pre-processor failures, per record;
* the columns the records became, in the analyzer's (sorted) order, with their value types;
* against a local baseline, exactly what the processing engine's analyzer (`scripts/analyzer`, the code
  the processing job runs; docs/engine.md) reports for these rows: every data-quality check Model
  Monitor makes, baseline drift over the KLL sketches included, written as `statistics.json` and
  `constraint_violations.json` in Model Monitor's formats.

Unlike the job, the dry run goes on past a record the job would fail on (a line that is not JSON, a
pre-processor that raises or returns something else than flat rows): it reports each one and checks
the rows of the others.

Library only: the CLI (`make dry-run`) parses arguments, prints `format_report(result)` and exits
non-zero unless `result.ok`.
"""

from __future__ import annotations

import importlib.util
import inspect
import itertools
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Union

from mmtool.errors import EXIT_INPUT, ToolError
from scripts.analyzer.capture import CapturedData  # standard library only, like the analyzer's errors
from scripts.analyzer.errors import InputError as AnalyzerInputError

if TYPE_CHECKING:  # the analyzer's numpy modules load when a dry run runs, not when the CLI registers it
    from scripts.analyzer.profile import DatasetProfile

PathLike = Union[str, Path]

CHECK_TYPES = (
    "data_type_check",
    "completeness_check",
    "baseline_drift_check",
    "missing_column_check",
    "extra_column_check",
    "categorical_values_check",
)
MAX_EXAMPLES = 3

# The record object the pre-processor gets is the analyzer's (scripts/analyzer/capture.py): the handler is called
# exactly as the processing job calls it. `CapturedData` stays importable from here (benchmarks/preprocessor.py).
__all__ = ["CapturedData", "DryRunError", "DryRunResult", "format_report", "load_preprocessor", "run_dry_run",
           "value_type"]


class DryRunError(ToolError):
    """The dry run cannot start: a file is missing, unreadable or of the wrong kind."""

    exit_code = EXIT_INPUT


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
    """One entry of the analyzer's constraint_violations.json; `detail` is the dry run's explanation (report only)."""

    feature_name: str
    constraint_check_type: str
    description: str
    detail: str | None = field(default=None, compare=False)

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
    types: dict[str, int] = field(default_factory=dict)  # Integral/Fractional/String/Boolean -> count (Deequ's)
    example: str | None = None  # the first value seen
    inferred_type: str = "Unknown"  # the analyzer's column type (statistics.json's inferred_type)
    baseline_name: str | None = None  # the baseline column it was matched to
    baseline_type: str | None = None


@dataclass
class BaselineFeature:
    name: str
    inferred_type: str | None


@dataclass
class Baseline:
    features: list[BaselineFeature]
    constraints_path: Path | None
    statistics_path: Path | None
    constraints: dict | None = field(default=None, repr=False)  # the documents, as the analyzer reads them
    statistics: dict | None = field(default=None, repr=False)
    evaluate: bool = True
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
    drift: dict[str, float] = field(default_factory=dict)  # baseline feature -> the analyzer's drift figure
    statistics: dict | None = field(default=None, repr=False)  # the analyzer's statistics.json of the rows
    notes: list[str] = field(default_factory=list)
    log_lines: int = 0
    log_sample: list[str] = field(default_factory=list)
    mini_batches_truncated: int | None = None
    violations_path: Path | None = None
    statistics_path: Path | None = None

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
        from scripts.analyzer import constraints as analyzer_checks

        # defaults of monitoring_config when constraints.json leaves a key out: the analyzer's (docs/engine.md)
        _threshold(config, "datatype_check_threshold", analyzer_checks.DEFAULT_DATATYPE_CHECK_THRESHOLD, constraints_path)
        _threshold(config, "domain_content_threshold", analyzer_checks.DEFAULT_DOMAIN_CONTENT_THRESHOLD, constraints_path)
        try:  # the analyzer's reading of the options: a value it refuses fails the job, so it fails here first
            settings = analyzer_checks.Settings(config, str(constraints_path))
            for raw in constraints["features"]:
                settings.for_feature(raw)
        except AnalyzerInputError as exc:
            raise DryRunError(f"{exc}; fix constraints.json before the monitoring job reads it") from None
        baseline = Baseline(
            features=[BaselineFeature(raw["name"], raw.get("inferred_type")) for raw in constraints["features"]],
            constraints_path=constraints_path,
            statistics_path=statistics_path,
            constraints=constraints,
            statistics=statistics,
            evaluate=settings.evaluate,
        )
    else:
        baseline = Baseline(
            features=[BaselineFeature(f["name"], f.get("inferred_type")) for f in statistics["features"]],
            constraints_path=None,
            statistics_path=statistics_path,
            statistics=statistics,
        )
    if statistics is not None:
        baseline.statistics_names = [f["name"] for f in statistics["features"]]
        dataset = statistics.get("dataset")
        if isinstance(dataset, dict) and isinstance(dataset.get("item_count"), (int, float)):
            baseline.item_count = int(dataset["item_count"])
    return baseline


# ------------------------------------------------------------------ value types


def value_type(value: object) -> str:
    """Integral, Fractional, String or Boolean: the analyzer's reading of one value (Deequ's patterns)."""
    from scripts.analyzer.profile import value_kind

    return value_kind(value)


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
    """Run the pre-processor over the capture files, profile its rows and check them against the baseline
    with the processing engine's analyzer.

    `capture_paths`: a .jsonl file, a folder (searched recursively for *.jsonl) or a list of them.
    `out_dir`: when given, the analyzer's `statistics.json` (when a row was parsed) and
    `constraint_violations.json` (also when it is empty) are written there.
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
    from scripts.analyzer.profile import DatasetProfile
    from scripts.analyzer.run import STATISTICS, VIOLATIONS, write_json

    profile = DatasetProfile()
    examples: dict[str, str] = {}  # column -> the first value seen
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
                        profile.add(row)
                        for key, value in row.items():
                            if value is not None and key not in examples:
                                examples[key] = repr(value)
    finally:
        logger.removeHandler(capture)

    if result.rows:
        result.statistics = profile.statistics()  # flushes the last block
    result.columns = [_summary(name, profile.columns[name], result.rows, examples.get(name))
                      for name in sorted(profile.columns)]  # the analyzer sorts keys
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
            "this (docs/monitoring-code.md): confirm it with a one-off monitoring job before relying on it"
        )
    if ground_truth_records:
        result.notes.append(
            f"{ground_truth_records} record(s) are ground truth (groundTruthData), not endpoint capture: "
            "the data-quality job reads the endpoint's Data Capture files"
        )
    if result.records_read and not result.records_parsed:
        result.notes.append("no record was parsed: the monitoring job would fail with no data")
    if baseline is not None:
        _check(result, baseline, profile)
    if out_dir is not None:  # the analyzer's writer: the files a processing job writes to the reports prefix
        if result.statistics is not None:
            result.statistics_path = Path(write_json(str(out_dir), STATISTICS, result.statistics))
        result.violations_path = Path(write_json(str(out_dir), VIOLATIONS, result.violations_document()))
    return result


def _summary(name: str, column, rows: int, example: str | None) -> ColumnSummary:
    """One column as the analyzer profiled it (scripts/analyzer/profile.py ColumnProfile)."""
    return ColumnSummary(name, present=column.present, missing=rows - column.present,
                         types={kind: count for kind, count in column.kinds.items() if count},
                         example=example, inferred_type=column.inferred_type)


# ------------------------------------------------------------------ checks



def _check(result: DryRunResult, baseline: Baseline, profile: DatasetProfile) -> None:
    """The analyzer's checks (scripts/analyzer/constraints.py `check`) over the profiled rows, and notes on them."""
    from scripts.analyzer import constraints as analyzer_checks

    produced = [column.name for column in result.columns]
    names = [feature.name for feature in baseline.features]
    mapping = analyzer_checks.match_columns(produced, names)
    matching = "by position" if any(key != target for key, target in mapping.items()) else "by name"
    result.column_matching = matching
    types = {feature.name: feature.inferred_type for feature in baseline.features}
    for column in result.columns:
        column.baseline_name = mapping.get(column.name)
        if column.baseline_name is not None:
            column.baseline_type = types.get(column.baseline_name)

    _notes_on_order(result, produced, names, mapping, matching)

    if baseline.constraints_path is None:
        result.notes.append(
            "only statistics.json was given: missing and extra columns and drift are checked; data types, "
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
    if baseline.statistics is None:
        result.notes.append("no statistics.json was given: baseline_drift_check needs the baseline's KLL sketches")
    if not result.rows:
        return  # the job fails with no data: nothing is checked
    where = str(baseline.constraints_path or baseline.statistics_path)
    try:
        violations, result.drift = analyzer_checks.check(profile, baseline.constraints, baseline.statistics, where)
    except AnalyzerInputError as exc:
        raise DryRunError(f"{exc}; the monitoring job would fail the same way") from None
    by_baseline = {target: key for key, target in mapping.items()}
    result.violations = [
        Violation(v["feature_name"], v["constraint_check_type"], v["description"],
                  _detail(v, by_baseline, profile, baseline, matching)) for v in violations
    ]
    if any(v.constraint_check_type in ("missing_column_check", "extra_column_check") for v in result.violations):
        result.notes.append(
            f"columns were matched {matching}: a missing or extra column usually means the pre-processor's "
            "feature_names / prediction_position do not match the baseline's columns"
        )


def _detail(violation: dict, by_baseline: dict[str, str], profile: DatasetProfile, baseline: Baseline,
            matching: str) -> str:
    """What the dry run saw behind one violation: the column, its values, the baseline's figure."""
    name, check = violation["feature_name"], violation["constraint_check_type"]
    if check == "extra_column_check":
        return f"column {name!r} produced by the pre-processor is not in the baseline (columns matched {matching})"
    if check == "missing_column_check":
        return f"baseline column {name!r} is not in the pre-processed rows (columns matched {matching})"
    key = by_baseline.get(name, name)
    shown = key if key == name else f"{key} (baseline {name})"
    column = profile.columns[key]
    if check == "data_type_check":
        found = ", ".join(f"{kind} {count}" for kind, count in sorted(column.kinds.items()) if count)
        expected = next((f.inferred_type for f in baseline.features if f.name == name), None)
        return f"column {shown} is {expected} in the baseline; values seen: {found}"
    if check == "completeness_check":
        return f"{column.present} of {profile.rows} rows have a value in {shown}"
    if check == "categorical_values_check":
        feature = next(f for f in (baseline.constraints or {}).get("features", []) if f["name"] == name)
        domain = {str(value) for value in feature["string_constraints"]["domains"]}
        inside = sum(count for value, count in column.categories.items() if value in domain)
        return f"{inside} of {column.present} values of {shown} are in the baseline domain {sorted(domain)[:5]}"
    return f"column {shown}, {column.present} values"


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
            "(docs/monitoring-code.md)"
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
            example = column.example
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
        lines.append("  checked by the processing engine's analyzer (scripts/analyzer), as a processing job would")
        if result.drift:
            lines.append("Drift per baseline column (baseline_drift_check: distance, or chi-squared p-value):")
            width = max(len(name) for name in result.drift)
            for name, figure in sorted(result.drift.items()):
                lines.append(f"  {name:<{width}}  {figure:.4f}")
    for note in result.notes:
        lines.append(f"Note: {note}")
    if result.violations:
        lines.append(f"Violations ({len(result.violations)}):")
        for violation in result.violations:
            detail = f" [dry run: {violation.detail}]" if violation.detail else ""
            lines.append(f"  {violation.constraint_check_type:<24} {violation.feature_name}: "
                         f"{violation.description.rstrip()}{detail}")
    elif baseline is not None:
        lines.append("Violations: none")
    if result.statistics_path is not None:
        lines.append(f"Wrote {result.statistics_path}")
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
