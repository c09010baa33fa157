"""The analyses, from inputs to the files in the output folder (shared by the CLI and the processing job)."""

import json
import os

from . import constraints as dq
from . import model_quality as mq
from .capture import CapturedData, RowSource
from .errors import InputError, NoDataError
from .metrics import data_quality_metrics, model_quality_metrics, publish, violations_metric
from .profile import BLOCK_ROWS, DatasetProfile

STATISTICS = "statistics.json"
CONSTRAINTS = "constraints.json"
VIOLATIONS = "constraint_violations.json"


def write_json(folder, name, document):
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, name)
    with open(path, "w", encoding="utf-8") as stream:
        json.dump(document, stream, indent=2, allow_nan=False)
        stream.write("\n")
    return path


# ---------------------------------------------------------------- data quality


def read_csv_profile(path, header=False):
    """Profile a CSV dataset (headerless: columns `_c0`, `_c1`, ... as Model Monitor names them)."""
    import pandas as pd

    if not os.path.isfile(path):
        raise InputError("%s: no such dataset file" % path)
    profile = DatasetProfile()
    try:
        reader = pd.read_csv(path, header=0 if header else None, dtype=str, keep_default_na=False,
                             na_filter=False, chunksize=BLOCK_ROWS, skipinitialspace=False)
        for chunk in reader:
            if not header:
                chunk.columns = ["_c%d" % i for i in range(len(chunk.columns))]
            columns = {}
            for name in chunk.columns:
                values = chunk[name].tolist()
                if "" in values:  # an empty CSV field is a missing value (Spark's CSV reader: null)
                    values = [v if v != "" else None for v in values]
                columns[str(name)] = values
            profile.add_columns(columns, len(chunk))
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError("%s: not a readable CSV file (%s)" % (path, str(exc).splitlines()[0]))
    if not profile.rows:
        raise InputError("%s: the dataset has no data rows" % path)
    return profile


def baseline(dataset, out, header=False):
    """statistics.json and constraints.json of a CSV dataset; returns (statistics, constraints)."""
    profile = read_csv_profile(dataset, header)
    statistics = profile.statistics()
    overflow = {name for name, column in profile.columns.items() if column.categories_overflow}
    suggested = dq.suggest(statistics, overflow)
    write_json(out, STATISTICS, statistics)
    write_json(out, CONSTRAINTS, suggested)
    return statistics, suggested


def profile_events(events, rows):
    """Profile captured events (an iterable of ((file, line), event dict)) through a RowSource."""
    profile = DatasetProfile()
    records = 0
    add = profile.add
    for where, event in events:
        records += 1
        for row in rows.rows(CapturedData(event), where):
            add(row)
    profile.flush()
    return profile, records


class DataQualityResult:
    def __init__(self, statistics, violations, drift, records, profile, mapping, emit_metrics):
        self.statistics = statistics
        self.violations = violations
        self.drift = drift
        self.records = records
        self.profile = profile
        self.mapping = mapping
        self.emit_metrics = emit_metrics


def check_data_quality(events, out, statistics_path=None, constraints_path=None, preprocessor=None, logger=None):
    """Profile the events, check them against the baseline, write statistics.json and the violations."""
    baseline_statistics = dq.load_statistics(statistics_path) if statistics_path else None
    baseline_constraints = dq.load_constraints(constraints_path) if constraints_path else None
    rows = RowSource(preprocessor, logger)
    profile, records = profile_events(events, rows)
    if not profile.rows:
        raise NoDataError("no record in the window became a row (%d records read, %d dropped by the "
                          "pre-processor): the run has no data" % (records, rows.dropped))
    statistics = profile.statistics()
    violations, drift = [], {}
    mapping = {}
    emit = True
    if baseline_constraints is not None or baseline_statistics is not None:
        violations, drift = dq.check(profile, baseline_constraints, baseline_statistics,
                                     constraints_path or statistics_path)
        names = [f["name"] for f in (baseline_constraints or baseline_statistics)["features"]]
        mapping = dq.match_columns(sorted(profile.columns), names)
        if baseline_constraints is not None:
            emit = dq.Settings(baseline_constraints.get("monitoring_config") or {}, constraints_path).emit_metrics
    write_json(out, STATISTICS, statistics)
    write_json(out, VIOLATIONS, {"violations": violations})
    return DataQualityResult(statistics, violations, drift, records, profile, mapping, emit)


def publish_data_quality(result, publisher, namespace, dims, timestamp):
    items = data_quality_metrics(result.profile, result.drift, result.mapping) if result.emit_metrics else []
    items.append(violations_metric(len(result.violations)))
    return publish(publisher, namespace, items, dims, timestamp)


# ---------------------------------------------------------------- model quality


def check_model_quality(capture_events, ground_truth_events, out, problem_type, constraints_path=None,
                        inference_attribute=None, probability_attribute=None, probability_threshold=0.5):
    """Join, compute the metrics, check them; writes statistics.json and constraint_violations.json."""
    constraints = dq.read_json(constraints_path, "constraints.json") if constraints_path else None
    merger = mq.Merger(problem_type, inference_attribute, probability_attribute, probability_threshold)
    for _where, event in capture_events:
        merger.add_capture(CapturedData(event))
    for _where, event in ground_truth_events:
        merger.add_ground_truth(CapturedData(event))
    metrics = merger.metrics()
    statistics = mq.statistics(problem_type, metrics, len(merger.pairs))
    violations = mq.check(problem_type, metrics, constraints, constraints_path) if constraints is not None else []
    write_json(out, STATISTICS, statistics)
    write_json(out, VIOLATIONS, {"violations": violations})
    return statistics, violations


def publish_model_quality(statistics, violations, problem_type, publisher, namespace, dims, timestamp):
    items = model_quality_metrics(statistics[mq.PROBLEM_TYPES[problem_type] + "_metrics"])
    items.append(violations_metric(len(violations)))
    return publish(publisher, namespace, items, dims, timestamp)
