"""Data Capture files in, rows out: the hourly layout, the record pre-processor contract, ground truth.

Data Capture writes `<destination>/<endpoint>/<variant>/yyyy/mm/dd/hh/<MM-SS-mmm>-<uuid>.jsonl`, the
hour being the UTC hour of the inference
(https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-data-capture-endpoint.html). A window
[start, end) is read from the hour folders it overlaps, and records whose `eventMetadata.inferenceTime`
falls outside it are left out, so an hourly run sees exactly its hour.

The record pre-processor is called as Model Monitor calls it
(https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-pre-and-post-processing.html):
`preprocess_handler(inference_record)` or `preprocess_handler(inference_record, logger)`, with
`inference_record` shaped like AWS's documented `CapturedData` (`endpoint_input`, `endpoint_output`,
`batch_transform_output`, `ground_truth`, `event_metadata`, `event_version`, `event_dict`, `as_dict()`);
it returns one flat dict (one row), a list of such dicts, or `[]` to drop the record. The same file
therefore works under both engines (docs/monitoring-code.md). Without a pre-processor, a record
becomes the values of its output then its input (CSV split on commas; JSON flattened), named `_c0`,
`_c1`, ... like the columns of a headerless CSV baseline.
"""

import datetime as dt
import importlib.util
import inspect
import itertools
import json
import logging
import os
import re

from .errors import InputError

# ---------------------------------------------------------------- AWS's documented record classes


class EventData:
    __slots__ = ("encoding", "data", "observedContentType", "mode")

    def __init__(self, data_dict):
        self.encoding = data_dict.get("encoding")
        self.data = data_dict.get("data")
        self.observedContentType = data_dict.get("observedContentType")
        self.mode = data_dict.get("mode")

    def as_dict(self):
        return {"encoding": self.encoding, "data": self.data, "observedContentType": self.observedContentType}


class EventMetadata:
    __slots__ = ("event_id", "event_time", "inference_id", "custom_attribute")

    def __init__(self, metadata):
        self.event_id = metadata.get("eventId")
        self.event_time = metadata.get("inferenceTime")
        self.inference_id = metadata.get("inferenceId")
        self.custom_attribute = metadata.get("customAttributes")


class CapturedData:
    """One captured record as the handler sees it (`inference_record`)."""

    __slots__ = ("event_dict", "event_metadata", "endpoint_input", "endpoint_output",
                 "batch_transform_output", "ground_truth", "event_version")

    def __init__(self, event_dict):
        self.event_dict = event_dict
        metadata = event_dict.get("eventMetadata")
        self.event_metadata = EventMetadata(metadata) if isinstance(metadata, dict) else None
        self.event_version = event_dict.get("eventVersion")
        self.endpoint_input = self.endpoint_output = self.batch_transform_output = None
        capture = event_dict.get("captureData")
        if isinstance(capture, dict):
            part = capture.get("endpointInput")
            self.endpoint_input = EventData(part) if isinstance(part, dict) else None
            part = capture.get("endpointOutput")
            self.endpoint_output = EventData(part) if isinstance(part, dict) else None
            part = capture.get("batchTransformOutput")
            self.batch_transform_output = EventData(part) if isinstance(part, dict) else None
        truth = event_dict.get("groundTruthData")
        self.ground_truth = EventData(truth) if isinstance(truth, dict) else None

    def as_dict(self):
        return self.event_dict


# ---------------------------------------------------------------- the pre-processor

_load_counter = itertools.count()


def load_preprocessor(path):
    """(handler, takes_logger) of the pre-processor file; InputError when it cannot be used."""
    if not os.path.isfile(path):
        raise InputError("%s: no such pre-processor file" % path)
    spec = importlib.util.spec_from_file_location("_analyzer_preprocessor_%d" % next(_load_counter), path)
    if spec is None or spec.loader is None:
        raise InputError("%s: cannot be loaded as a Python module; the pre-processor must be a .py file" % path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # noqa: BLE001 - the user's import error, in one line
        raise InputError("%s: importing the pre-processor failed (%s: %s)" % (path, type(exc).__name__, exc))
    handler = getattr(module, "preprocess_handler", None)
    if not callable(handler):
        raise InputError("%s: defines no preprocess_handler(inference_record, logger) function" % path)
    try:
        parameters = list(inspect.signature(handler).parameters.values())
        positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        takes_logger = len(positional) >= 2 or any(p.kind == p.VAR_POSITIONAL for p in parameters)
    except (TypeError, ValueError):
        takes_logger = True
    return handler, takes_logger


def _flatten(value, out):
    if isinstance(value, dict):
        value = value.values()
    for item in value:
        if isinstance(item, (dict, list)):
            _flatten(item, out)
        else:
            out.append(item)


def _values(event):
    if event is None or not isinstance(event.data, str):
        return []
    text = event.data
    if event.encoding == "BASE64":
        import base64

        text = base64.b64decode(text).decode("utf-8")
    if event.encoding == "CSV" or "csv" in str(event.observedContentType).lower():
        return [v if v != "" else None for v in text.strip().split("\n")[0].split(",")]
    document = json.loads(text)
    if isinstance(document, (dict, list)):
        out = []
        _flatten(document, out)
        return out
    return [document]


def default_rows(record):
    """Rows of a record without a pre-processor: output values then input values as _c0, _c1, ..."""
    output = record.endpoint_output if record.endpoint_output is not None else record.batch_transform_output
    values = _values(output) + _values(record.endpoint_input)
    return [{"_c%d" % i: value for i, value in enumerate(values)}] if values else []


class RowSource:
    """Turns captured records into rows: the user's pre-processor, or `default_rows`."""

    def __init__(self, preprocessor=None, logger=None):
        self.logger = logger or logging.getLogger("analyzer.preprocessor")
        if preprocessor:
            self.handler, self.takes_logger = load_preprocessor(preprocessor)
        else:
            self.handler, self.takes_logger = None, False
        self.dropped = 0

    def rows(self, record, where):
        """`where` is (file, line number): formatted only into an error."""
        if self.handler is None:
            try:
                rows = default_rows(record)
            except (ValueError, UnicodeDecodeError):
                rows = []
        else:
            try:
                rows = self.handler(record, self.logger) if self.takes_logger else self.handler(record)
            except Exception as exc:  # noqa: BLE001 - Model Monitor's job fails on it too
                raise InputError("%s:%d: the pre-processor raised %s: %s" % (where + (type(exc).__name__, exc)))
        if isinstance(rows, dict):
            if not rows:
                raise InputError("%s:%d: the pre-processor returned {}; return [] to drop a record" % where)
            return (rows,)
        if isinstance(rows, list) and all(isinstance(row, dict) for row in rows):
            if not rows:
                self.dropped += 1
            return rows
        raise InputError("%s:%d: the pre-processor returned %s; return one flat dict, or [] to drop the record"
                         % (where + (type(rows).__name__,)))


# ---------------------------------------------------------------- windows and files

_HOUR_PATH = re.compile(r"(?:^|/)(\d{4})/(\d{2})/(\d{2})/(\d{2})/[^/]+$")


def parse_time(text, what="time"):
    """An ISO-8601 UTC time (`2026-11-24T10:00:00Z`, with or without seconds or zone)."""
    value = str(text).strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise InputError("%s=%r: not an ISO-8601 time such as 2026-11-24T10:00:00Z" % (what, text))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return parsed.astimezone(dt.timezone.utc)


_DURATION = re.compile(r"^([+-])?P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")


def parse_offset(text, what="offset"):
    """An ISO-8601 duration with an optional sign (`-PT1H`, `-P1D`, `PT0H`) as a timedelta."""
    match = _DURATION.match(str(text).strip())
    if not match or str(text).strip() in ("P", "-P", "+P", "PT", "-PT", "+PT"):
        raise InputError("%s=%r: not an ISO-8601 duration such as -PT1H or -P1D" % (what, text))
    sign, days, hours, minutes, seconds = match.groups()
    delta = dt.timedelta(days=int(days or 0), hours=int(hours or 0), minutes=int(minutes or 0),
                         seconds=int(seconds or 0))
    return -delta if sign == "-" else delta


def hours_of(start, end):
    """The UTC hours [start, end) touches, as datetimes at the top of the hour."""
    hour = start.replace(minute=0, second=0, microsecond=0)
    while hour < end:
        yield hour
        hour += dt.timedelta(hours=1)


def hour_of_path(path):
    """The capture hour of a `.../yyyy/mm/dd/hh/<file>` path, or None outside that layout."""
    match = _HOUR_PATH.search(path.replace(os.sep, "/"))
    if not match:
        return None
    try:
        return dt.datetime(*(int(g) for g in match.groups()), tzinfo=dt.timezone.utc)
    except ValueError:
        return None


def local_files(paths, window=None):
    """The .jsonl files of the given files/folders (folders searched recursively), in path order.

    With a window, files in the hourly layout outside the window's hours are left out.
    """
    if isinstance(paths, str):
        paths = [paths]
    found = []
    for path in paths:
        if os.path.isdir(path):
            for folder, _dirs, names in os.walk(path):
                found.extend(os.path.join(folder, n) for n in names if n.endswith(".jsonl"))
        elif os.path.isfile(path):
            found.append(path)
        else:
            raise InputError("%s: no such capture file or folder" % path)
    found = sorted(set(found))
    if window is not None:
        hours = set(hours_of(*window))
        found = [f for f in found if hour_of_path(f) is None or hour_of_path(f) in hours]
    return found


def in_window(event, window):
    """False only for a record whose inferenceTime is known and outside [start, end)."""
    if window is None:
        return True
    metadata = event.get("eventMetadata")
    stamp = metadata.get("inferenceTime") if isinstance(metadata, dict) else None
    if not isinstance(stamp, str):
        return True
    try:
        moment = parse_time(stamp)
    except InputError:
        return True
    return window[0] <= moment < window[1]


_DECODE = json.JSONDecoder().raw_decode


def read_lines(lines, where, window=None):
    """((where, line number), event dict) of each JSON line; InputError on a line that is not a JSON object."""
    number = 0
    for line in lines:
        number += 1
        try:
            text = (line.decode("utf-8") if isinstance(line, bytes) else line).strip()
            if not text:
                continue
            event, end = _DECODE(text)  # json.loads without its two whitespace scans
            if end != len(text):
                raise ValueError("extra data after the JSON object at column %d" % (end + 1))
        except ValueError as exc:  # UnicodeDecodeError included
            raise InputError("%s:%d: not a JSON line (%s); Data Capture files hold one JSON object per line"
                             % (where, number, exc))
        if not isinstance(event, dict):
            raise InputError("%s:%d: not a JSON object; expected a Data Capture record" % (where, number))
        if window is None or in_window(event, window):
            yield (where, number), event


def local_events(files, window=None):
    for path in files:
        with open(path, "rb") as stream:  # bytes: a file that is not UTF-8 is reported at its line
            for item in read_lines(stream, path, window):
                yield item


# ---------------------------------------------------------------- S3 (the processing job)


def split_s3_uri(uri):
    bucket, _, prefix = str(uri)[5:].partition("/")
    if not str(uri).startswith("s3://") or not bucket:
        raise InputError("%r: not an s3://bucket/prefix URI" % (uri,))
    return bucket, prefix.strip("/")


def s3_hour_keys(client, uri, window, hourly_under_variants=True):
    """Keys of the window's hour folders under `uri`.

    Data Capture: `uri` is `<destination>/<endpoint>`; each variant folder below holds yyyy/mm/dd/hh.
    Ground truth: `uri` holds yyyy/mm/dd/hh directly (hourly_under_variants=False).
    """
    bucket, prefix = split_s3_uri(uri)
    base = prefix + "/" if prefix else ""
    paginator = client.get_paginator("list_objects_v2")
    if hourly_under_variants:
        roots = []
        for page in paginator.paginate(Bucket=bucket, Prefix=base, Delimiter="/"):
            roots.extend(p["Prefix"] for p in page.get("CommonPrefixes", []))
        if roots and all(re.match(r"\d{4}/\Z", root[len(base):]) for root in roots):
            roots = [base]  # the URI names one variant's folder: its children are years
    else:
        roots = [base]
    keys = []
    for root in sorted(roots):
        for hour in hours_of(*window):
            hour_prefix = "%s%s/" % (root, hour.strftime("%Y/%m/%d/%H"))
            for page in paginator.paginate(Bucket=bucket, Prefix=hour_prefix):
                keys.extend(o["Key"] for o in page.get("Contents", []) if o["Key"].endswith(".jsonl"))
    return bucket, sorted(keys)


def s3_events(client, bucket, keys, window=None):
    for key in keys:
        body = client.get_object(Bucket=bucket, Key=key)["Body"]
        for item in read_lines(body.iter_lines(), "s3://%s/%s" % (bucket, key), window):
            yield item
