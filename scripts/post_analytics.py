"""Post-analytics processor for SageMaker Model Monitor data-quality jobs (optional).

The analyzer calls ``postprocess_handler()`` with no arguments once, after a successful analysis
(https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-pre-and-post-processing.html); there is no return contract. This one prints a single line that
summarises the violations the job found, so the job's CloudWatch log says at a glance what
``constraint_violations.json`` holds without downloading it from S3:

    post-analytics: schedule churn-prod-data-quality, window 2026-11-24T09:00:00Z..10:00:00Z:
    3 violation(s): data_type_check 2 (fare_amount, tip_amount), completeness_check 1 (...)

It reads the report from the job's output folder: the ``output_path`` environment variable that
SageMaker sets for monitoring jobs (container contract), falling back to the SDK's default
``/opt/ml/processing/output``. The file is named ``constraint_violations.json`` (the SDK's name);
``constraints_violations.json`` (one AWS page's spelling) is read too. Standard library only,
Python 3.8 syntax; it never raises, so it cannot turn a finished analysis into a failed job.
"""

import json
import os

DEFAULT_OUTPUT_PATH = "/opt/ml/processing/output"
FILE_NAMES = ("constraint_violations.json", "constraints_violations.json")
MAX_FEATURES_SHOWN = 5


def summarize(output_path):
    """Return the one-line summary of the violations file under ``output_path``."""
    for name in FILE_NAMES:
        path = os.path.join(output_path, name)
        if os.path.isfile(path):
            break
    else:
        return "no constraint_violations.json in %s (no baseline constraints configured?)" % output_path
    try:
        with open(path, encoding="utf-8") as stream:
            violations = json.load(stream).get("violations") or []
    except (OSError, ValueError, AttributeError) as exc:
        return "cannot read %s: %s" % (path, exc)
    if not violations:
        return "no violations (%s)" % path
    by_check = {}
    for violation in violations:
        if not isinstance(violation, dict):
            continue
        check = str(violation.get("constraint_check_type", "unknown_check"))
        by_check.setdefault(check, []).append(str(violation.get("feature_name", "?")))
    parts = []
    for check in sorted(by_check, key=lambda c: (-len(by_check[c]), c)):
        features = by_check[check]
        shown = ", ".join(features[:MAX_FEATURES_SHOWN])
        if len(features) > MAX_FEATURES_SHOWN:
            shown += ", +%d more" % (len(features) - MAX_FEATURES_SHOWN)
        parts.append("%s %d (%s)" % (check, len(features), shown))
    return "%d violation(s): %s" % (len(violations), "; ".join(parts))


def postprocess_handler():
    try:
        environ = os.environ
        context = []
        if environ.get("sagemaker_monitoring_schedule_name"):
            context.append("schedule %s" % environ["sagemaker_monitoring_schedule_name"])
        if environ.get("start_time") or environ.get("end_time"):
            context.append("window %s..%s" % (environ.get("start_time", "?"), environ.get("end_time", "?")))
        summary = summarize(environ.get("output_path") or DEFAULT_OUTPUT_PATH)
        prefix = "post-analytics: " + (", ".join(context) + ": " if context else "")
        print(prefix + summary, flush=True)
    except Exception as exc:  # noqa: BLE001 - a summary must never fail the job
        print("post-analytics: summary failed: %s: %s" % (type(exc).__name__, exc), flush=True)
