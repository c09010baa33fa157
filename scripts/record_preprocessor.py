"""Record pre-processor for SageMaker Model Monitor data-quality jobs.

This file runs inside AWS's Model Monitor analyzer container, which calls
``preprocess_handler(inference_record, logger)`` once per captured record
(https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-pre-and-post-processing.html). It therefore uses the Python standard library
only and Python 3.8 syntax.

What it does with one captured record
-------------------------------------
1. Decodes ``endpointInput`` and (unless ``prediction_position`` is "none")
   ``endpointOutput``: encoding ``CSV`` or ``JSON`` is text already; ``BASE64``
   is decoded with the charset of the observed content type (UTF-8 when none).
   The content type decides the parser: ``text/csv`` -> CSV; ``application/json``
   -> one JSON document (it may span several lines); ``application/jsonlines``
   (and x-jsonlines, jsonl, ndjson) -> one JSON document per line. A charset
   suffix such as ``text/csv; charset=utf-8`` is accepted everywhere.
2. Turns each body into rows of values. CSV: one row per line, values kept as
   the strings the client sent (as in AWS's own example), an empty field becomes
   ``None`` (a missing value, kept out of the metrics). JSON: a document of the
   form ``{"instances": [...]}`` or ``{"predictions": [...]}`` (the TensorFlow
   Serving row format) or a list of lists/objects holds one row per element;
   any other document is one row. A row's values are its scalars in document
   order, nested objects and arrays flattened depth-first.
3. Joins the output row and the input row in the order the baseline dataset has
   them and returns ONE flat dict. Its keys sort lexicographically in column
   order, because the analyzer sorts keys (section 8, #4):

   * positional keys by default: ``str(i).zfill(20)``, exactly the keys of AWS's
     documented example, so a baseline built by following the AWS docs matches,
     and 20 digits never run out;
   * the configured names otherwise (``feature_names`` / ``prediction_names``).

Records that cannot be used are dropped by returning ``[]`` (the documented
way to drop a record) and never raise: one bad record must not fail an hourly
job. The first ``max_logged_skips`` drops are logged one line each with the
record's eventId and the reason; after that only a running count is logged at
100, 1000, 10000, ... drops. Successful records are never logged.

Mini-batches (one request carrying several newline-joined rows) cannot be
returned as several rows in any documented way (returning a list of dicts is
not in the AWS docs; section 5.1). ``mini_batch`` decides: "first" (default)
keeps the first row of the batch and logs the first occurrence once; "skip"
drops the whole record; "all" returns a list with one dict per row, which is
UNVERIFIED: try it with a one-off monitoring job before relying on it.

Configuration
-------------
The build replaces the single module-level ``CONFIG`` line below with the
values from ``params/<env>.yaml`` (a ``repr()`` of a dict with sorted keys).
Absent keys and keys set to ``None`` take the default:

  feature_names        list of str | None. None (default): positional keys for
                       every column. A list: one name per input value, in
                       order; a record with another number of values is dropped.
  prediction_names     list of str | None. Names of the output values, used only
                       with feature_names (default then: ["prediction"]); ignored
                       when feature_names is None.
  prediction_position  "first" (default; AWS's example and the SageMaker SDK's
                       baseline default ``output_columns_position: START``),
                       "last", or "none" (the output is not used at all).
  mini_batch           "first" (default), "skip" or "all" (see above).
  max_logged_skips     int >= 0, default 10: dropped records logged one by one.

Module attributes read by ``mmtool.dryrun`` (not by the container):
``LAST_SKIP_REASON`` (reason of the last drop) and ``MINI_BATCHES_TRUNCATED``.
"""

import base64
import binascii
import codecs
import csv
import io
import json
import logging

CONFIG = {}

LAST_SKIP_REASON = None
MINI_BATCHES_TRUNCATED = 0

_DEFAULTS = {
    "feature_names": None,
    "prediction_names": None,
    "prediction_position": "first",
    "mini_batch": "first",
    "max_logged_skips": 10,
}
_POSITIONS = ("first", "last", "none")
_MINI_BATCH_MODES = ("first", "skip", "all")

_CSV = "csv"
_JSON = "json"
_JSONLINES = "jsonlines"
_MEDIA_KINDS = {
    "text/csv": _CSV,
    "application/csv": _CSV,
    "text/x-csv": _CSV,
    "application/json": _JSON,
    "text/json": _JSON,
    "application/jsonlines": _JSONLINES,
    "application/x-jsonlines": _JSONLINES,
    "application/jsonl": _JSONLINES,
    "application/x-ndjson": _JSONLINES,
    "application/ndjson": _JSONLINES,
}
# A JSON document made of exactly one of these keys holding a list is a batch of rows.
_BATCH_KEYS = ("instances", "predictions")


def _config_error(key, value, expected):
    return ValueError(
        "record_preprocessor CONFIG[%r]=%r: %s; fix the pre-processor settings in "
        "params/<env>.yaml and rebuild" % (key, value, expected)
    )


def _names(config, key):
    value = config.get(key)
    if value is None:
        return None
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(name, str) and name for name in value)
    ):
        raise _config_error(key, value, "must be a non-empty list of non-empty strings")
    if len(set(value)) != len(value):
        raise _config_error(key, value, "names must be unique")
    return list(value)


def _load_config(config):
    """Validate CONFIG and return the settings the handler uses."""
    if not isinstance(config, dict):
        raise ValueError("record_preprocessor CONFIG must be a dict, got %r" % (config,))
    unknown = sorted(set(config) - set(_DEFAULTS))
    if unknown:
        raise ValueError(
            "record_preprocessor CONFIG has unknown key(s) %s; known keys: %s"
            % (", ".join(unknown), ", ".join(sorted(_DEFAULTS)))
        )
    merged = dict(_DEFAULTS)
    merged.update((k, v) for k, v in config.items() if v is not None)
    position = merged["prediction_position"]
    if position not in _POSITIONS:
        raise _config_error("prediction_position", position, "must be one of %s" % (_POSITIONS,))
    mini_batch = merged["mini_batch"]
    if mini_batch not in _MINI_BATCH_MODES:
        raise _config_error("mini_batch", mini_batch, "must be one of %s" % (_MINI_BATCH_MODES,))
    max_logged = merged["max_logged_skips"]
    if isinstance(max_logged, bool) or not isinstance(max_logged, int) or max_logged < 0:
        raise _config_error("max_logged_skips", max_logged, "must be an integer >= 0")
    features = _names(merged, "feature_names")
    predictions = _names(merged, "prediction_names")
    if features is None:
        predictions = None  # positional keys for every column: names are not used
    elif position != "none":
        if predictions is None:
            predictions = ["prediction"]
        clash = sorted(set(features) & set(predictions))
        if clash:
            raise _config_error(
                "prediction_names", predictions, "clashes with feature_names on %s" % clash
            )
    if position == "none":
        predictions = None
    if features is None:
        names = None
    elif position == "first":
        names = predictions + features
    elif position == "last":
        names = features + predictions
    else:
        names = list(features)
    return {
        "position": position,
        "mini_batch": mini_batch,
        "max_logged": max_logged,
        "features": features,
        "predictions": predictions,
        "names": names,
    }


_SETTINGS = _load_config(CONFIG)
_POSITION = _SETTINGS["position"]
_USE_OUTPUT = _POSITION != "none"
_PREDICTION_FIRST = _POSITION == "first"
_MINI_BATCH = _SETTINGS["mini_batch"]
_MAX_LOGGED = _SETTINGS["max_logged"]
_NAMES = _SETTINGS["names"]
_N_FEATURES = len(_SETTINGS["features"]) if _SETTINGS["features"] is not None else None
_N_PREDICTIONS = len(_SETTINGS["predictions"]) if _SETTINGS["predictions"] is not None else None

# Positional keys, computed once and grown on demand.
_KEYS = [str(i).zfill(20) for i in range(64)]

_LOG = logging.getLogger("record_preprocessor")
_skip_count = 0
_next_count_report = 1
while _next_count_report <= _MAX_LOGGED:
    _next_count_report *= 10


class _Skip(Exception):
    """Raised inside the handler for a record that cannot be used."""


# ---------------------------------------------------------------- decoding

_FORMAT_CACHE = {}


def _resolve_format(encoding, content_type):
    """Return (kind, is_base64, charset) or (None, reason, None)."""
    media = ""
    charset = "utf-8"
    if content_type:
        parts = str(content_type).split(";")
        media = parts[0].strip().lower()
        for param in parts[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "charset" and value.strip():
                charset = value.strip().strip('"').strip("'").lower()
    media_kind = _MEDIA_KINDS.get(media)
    if media_kind is None and media.endswith("+json"):
        media_kind = _JSON
    enc = str(encoding).upper() if encoding is not None else ""
    if enc == "CSV":
        return (_CSV, False, charset)
    if enc == "JSON":
        return (_JSONLINES if media_kind == _JSONLINES else _JSON, False, charset)
    if enc == "BASE64":
        if media_kind is None:
            return (
                None,
                "BASE64 payload with content type %r, which is neither CSV nor JSON"
                % (content_type,),
                None,
            )
        try:
            codecs.lookup(charset)
        except LookupError:
            return (None, "unknown charset %r in content type %r" % (charset, content_type), None)
        return (media_kind, True, charset)
    return (None, "unknown encoding %r (expected CSV, JSON or BASE64)" % (encoding,), None)


def _format(encoding, content_type):
    key = (encoding, content_type)
    fmt = _FORMAT_CACHE.get(key)
    if fmt is None:
        fmt = _resolve_format(encoding, content_type)
        if len(_FORMAT_CACHE) < 256:
            _FORMAT_CACHE[key] = fmt
    return fmt


def _decode_base64(data, charset, where):
    try:
        raw = base64.b64decode(data.replace("\n", "").replace("\r", ""), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _Skip("%s: data is not valid BASE64 (%s)" % (where, exc))
    try:
        text = raw.decode(charset)
    except UnicodeDecodeError as exc:
        raise _Skip("%s: BASE64 payload is not valid %s text (%s)" % (where, charset, exc))
    return text.lstrip("\ufeff")


def _csv_values(values):
    if "" in values:
        return [value if value != "" else None for value in values]
    return values


def _csv_rows(text):
    if '"' not in text:
        if "\n" not in text and "\r" not in text:
            return [_csv_values(text.split(","))]
        return [_csv_values(line.split(",")) for line in text.splitlines() if line]
    return [_csv_values(row) for row in csv.reader(io.StringIO(text)) if row]


def _flatten_into(value, out):
    for item in value.values() if isinstance(value, dict) else value:
        if isinstance(item, (dict, list)):
            _flatten_into(item, out)
        else:
            out.append(item)


def _flatten(value):
    if isinstance(value, (dict, list)):
        out = []
        _flatten_into(value, out)
        return out
    return [value]


def _document_rows(doc):
    if isinstance(doc, dict) and len(doc) == 1:
        key, value = next(iter(doc.items()))
        if key in _BATCH_KEYS and isinstance(value, list):
            return [_flatten(item) for item in value]
    elif isinstance(doc, list) and doc and all(isinstance(item, (dict, list)) for item in doc):
        return [_flatten(item) for item in doc]
    return [_flatten(doc)]


def _json_lines(text, where):
    docs = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                docs.append(json.loads(line))
            except ValueError as exc:
                raise _Skip("%s: line %d of the body is not valid JSON (%s)" % (where, number, exc))
    return docs


def _json_rows(text, kind, where):
    if kind == _JSONLINES:
        try:
            docs = _json_lines(text, where)
        except _Skip as line_error:
            try:  # a pretty-printed document labelled as JSON Lines
                docs = [json.loads(text)]
            except ValueError:
                raise line_error
    else:
        try:
            docs = [json.loads(text)]
        except ValueError as exc:
            if "\n" not in text.strip():
                raise _Skip("%s: body is not valid JSON (%s)" % (where, exc))
            docs = _json_lines(text, where)  # JSON Lines labelled as JSON
    rows = []
    for doc in docs:
        rows.extend(_document_rows(doc))
    return rows


def _rows(event, where):
    fmt = _FORMAT_CACHE.get((event.encoding, event.observedContentType))
    if fmt is None:
        fmt = _format(event.encoding, event.observedContentType)
    kind, base64_encoded, charset = fmt
    if kind is None:
        raise _Skip("%s: %s" % (where, base64_encoded))
    data = event.data
    if not isinstance(data, str):
        raise _Skip("%s has no data" % where if data is None else "%s data is not text" % where)
    if base64_encoded:
        data = _decode_base64(data, charset, where)
    if not data:
        raise _Skip("%s is empty" % where)
    if kind == _CSV:
        if '"' in data or "\n" in data or "\r" in data:
            rows = _csv_rows(data)
        else:  # the common case, inlined: one unquoted row
            values = data.split(",")
            rows = [_csv_values(values) if "" in values else values]
    else:
        rows = _json_rows(data, kind, where)
    if not rows:
        raise _Skip("%s is empty" % where)
    return rows


# ---------------------------------------------------------------- output


def _row_dict(inputs, outputs):
    if not inputs:
        raise _Skip("endpointInput row has no values")
    if _NAMES is not None:
        if len(inputs) != _N_FEATURES:
            raise _Skip(
                "endpointInput has %d values but feature_names lists %d"
                % (len(inputs), _N_FEATURES)
            )
        if outputs is not None and len(outputs) != _N_PREDICTIONS:
            raise _Skip(
                "endpointOutput has %d values but prediction_names lists %d"
                % (len(outputs), _N_PREDICTIONS)
            )
        keys = _NAMES
    else:
        keys = _KEYS
    if outputs is None:
        values = inputs
    elif not outputs:
        raise _Skip("endpointOutput row has no values")
    elif _PREDICTION_FIRST:
        values = outputs + inputs
    else:
        values = inputs + outputs
    if len(values) > len(keys):  # positional keys only: grow the cache
        _KEYS.extend(str(i).zfill(20) for i in range(len(_KEYS), len(values)))
    return dict(zip(keys, values))


def _event_id(record):
    metadata = getattr(record, "event_metadata", None)
    event_id = getattr(metadata, "event_id", None)
    return event_id if event_id else "<no eventId>"


def _skip(logger, record, reason):
    """Count a dropped record, log it if still within the budget, return []."""
    global LAST_SKIP_REASON, _skip_count, _next_count_report
    LAST_SKIP_REASON = reason
    _skip_count += 1
    count = _skip_count
    log = logger if logger is not None else _LOG
    if count <= _MAX_LOGGED:
        log.warning("record_preprocessor: skipped record %s: %s", _event_id(record), reason)
        if count == _MAX_LOGGED:
            log.warning(
                "record_preprocessor: %d records skipped; further skips are only counted "
                "(a total is logged at %d, then every power of ten)",
                count,
                _next_count_report,
            )
    elif count == _next_count_report:
        _next_count_report *= 10
        log.warning(
            "record_preprocessor: %d records skipped so far (latest: record %s: %s)",
            count,
            _event_id(record),
            reason,
        )
    return []


def _mini_batch_rows(logger, record, in_rows, out_rows):
    global MINI_BATCHES_TRUNCATED
    count = len(in_rows)
    if _MINI_BATCH == "skip":
        raise _Skip("mini-batch of %d rows dropped (mini_batch='skip')" % count)
    if _MINI_BATCH == "all":
        if out_rows is None:
            return [_row_dict(row, None) for row in in_rows]
        return [_row_dict(row, out) for row, out in zip(in_rows, out_rows)]
    MINI_BATCHES_TRUNCATED += 1
    if MINI_BATCHES_TRUNCATED == 1:
        (logger if logger is not None else _LOG).warning(
            "record_preprocessor: record %s is a mini-batch of %d rows; keeping only the "
            "first row of each mini-batch (mini_batch='first'); later ones are not logged",
            _event_id(record),
            count,
        )
    return _row_dict(in_rows[0], out_rows[0] if out_rows is not None else None)


def preprocess_handler(inference_record, logger=None):
    """Return one flat dict for the record, or [] to drop it (never raises)."""
    try:
        endpoint_input = inference_record.endpoint_input
        if endpoint_input is None:
            raise _Skip(
                "record has no captureData.endpointInput (a ground-truth or batch "
                "transform file given as endpoint capture?)"
            )
        in_rows = _rows(endpoint_input, "endpointInput")
        out_rows = None
        if _USE_OUTPUT:
            endpoint_output = inference_record.endpoint_output
            if endpoint_output is None:
                endpoint_output = getattr(inference_record, "batch_transform_output", None)
            if endpoint_output is None:
                raise _Skip(
                    "record has no captureData.endpointOutput (capture only the input? "
                    "then set prediction_position: none)"
                )
            out_rows = _rows(endpoint_output, "endpointOutput")
            if len(out_rows) != len(in_rows):
                raise _Skip(
                    "endpointInput has %d rows but endpointOutput has %d"
                    % (len(in_rows), len(out_rows))
                )
        if len(in_rows) != 1:
            return _mini_batch_rows(logger, inference_record, in_rows, out_rows)
        return _row_dict(in_rows[0], out_rows[0] if out_rows is not None else None)
    except _Skip as exc:
        return _skip(logger, inference_record, str(exc))
    except Exception as exc:  # noqa: BLE001 - one bad record must never fail the job
        return _skip(
            logger, inference_record, "unexpected %s: %s" % (type(exc).__name__, exc)
        )
