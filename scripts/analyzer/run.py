"""The analyses, from inputs to the files in the output folder (shared by the CLI and the processing job)."""

import csv
import json
import os

from . import constraints as dq
from . import model_quality as mq
from .capture import CapturedData, RowSource
from .errors import InputError, NoDataError
from .metrics import data_quality_metrics, model_quality_metrics, publish, violations_metric
from .profile import BLOCK_VALUES, DatasetProfile

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


def dataset_files(path):
    """A CSV file, or every .csv file under a folder (a ProcessingInput of a prefix), in name order."""
    if os.path.isdir(path):
        found = sorted(os.path.join(folder, name) for folder, _dirs, names in os.walk(path)
                       for name in names if name.lower().endswith(".csv"))
        if not found:
            raise InputError("%s: no .csv file in this folder or below" % path)
        return found
    if not os.path.isfile(path):
        raise InputError("%s: no such dataset file" % path)
    return [path]


def _csv_chunks(path, header):
    """Blocks of a CSV file as {column name: list of str or None} (headerless: `_c0`, `_c1`, ...)."""
    import pandas as pd

    try:
        with open(path, newline="", encoding="utf-8") as stream:
            width = len(next(csv.reader(stream), [])) or 1
        reader = pd.read_csv(path, header=0 if header else None, dtype=str, keep_default_na=False,
                             na_filter=False, chunksize=max(64, BLOCK_VALUES // width))
        for chunk in reader:
            names = [str(n) for n in chunk.columns] if header else ["_c%d" % i for i in range(len(chunk.columns))]
            columns = {}
            for name, original in zip(names, chunk.columns):
                values = chunk[original].tolist()
                if "" in values:  # an empty CSV field is a missing value (Spark's CSV reader: null)
                    values = [v if v != "" else None for v in values]
                columns[name] = values
            yield columns, len(chunk)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError("%s: not a readable CSV file (%s)" % (path, str(exc).splitlines()[0]))


def read_csv_profile(path, header=False):
    """Profile a CSV dataset: a file or a folder of CSV files (headerless: `_c0`, `_c1`, ...)."""
    profile = DatasetProfile()
    for file in dataset_files(path):
        for columns, rows in _csv_chunks(file, header):
            profile.add_columns(columns, rows)
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


def baseline_model_quality(dataset, out, problem_type, label, prediction, probability=None, header=True,
                           probability_threshold=0.5):
    """Model-quality statistics.json and suggested constraints.json of a labelled CSV dataset.

    `label`, `prediction`, `probability`: column names (with a header) or `_c<i>` names. Binary without a
    prediction column: the label is probability >= probability_threshold.
    """
    if problem_type not in mq.PROBLEM_TYPES:
        raise InputError("problem_type=%r: must be one of %s" % (problem_type, ", ".join(mq.PROBLEM_TYPES)))
    wanted = [c for c in (label, prediction, probability) if c]
    merger = mq.Merger(problem_type)
    for file in dataset_files(dataset):
        for columns, rows in _csv_chunks(file, header):
            missing = [c for c in wanted if c not in columns]
            if missing:
                raise InputError("%s: no column %s (columns: %s)" % (file, ", ".join(missing), ", ".join(columns)))
            probabilities = columns[probability] if probability else [None] * rows
            predictions = columns[prediction] if prediction else None
            for i in range(rows):
                score = mq.to_float(probabilities[i]) if probability else None
                if predictions is not None:
                    predicted = predictions[i]
                elif score is not None:
                    predicted = 1 if score >= probability_threshold else 0
                else:
                    raise InputError("%s: give a prediction column, or a probability column (binary)" % file)
                merger.pairs.append((columns[label][i], predicted, score))
    metrics = merger.metrics()
    statistics = mq.statistics(problem_type, metrics, len(merger.pairs))
    suggested = mq.suggest(problem_type, metrics)
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
