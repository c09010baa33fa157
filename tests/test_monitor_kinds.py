"""One table of monitor kinds (mmtool/config/monitor_kinds.py): adding a kind is its entry there and its params model.

* No list of kinds anywhere else: a guard reads every Python file of the tool and fails on a collection literal
  (tuple, list, set, dict) that names two or more kinds by their key, name, MonitoringType, short code, namespace,
  or their objects, outside the table, the params model and the short allow-list below (each with its reason).
* A fake fifth kind added to the table and the params model (in a fresh interpreter, before anything else reads
  them) shows up in the monitoring template (job definition, schedule, parameters, merged ground-truth policy, the
  processing engine's request and engine comparison dashboard built from its own parameters), the
  dashboard, the name limits, the baseline copies, `make run-now`'s choices, the quotas, the
  security checks, the cost estimate and the generated table in docs/monitors.md, with no other file changed.
* What the table and the params model both say about a kind agrees.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mmtool.config import monitor_kinds
from mmtool.config.monitor_kinds import CLARIFY, KINDS, PROCESSING, MonitorKind
from mmtool.config.params import MonitoringSettings
from mmtool.generate.clarify import ANALYSES

ROOT = Path(__file__).resolve().parent.parent
SCANNED = ("mmtool", "templates", "deployer", "scripts")
# Where a list of kinds may stay, and why.
ALLOWED = {
    "mmtool/config/monitor_kinds.py": "the table itself",
    "mmtool/config/params": "the params model: a section per kind (the second of the two files of a kind)",
    # The deploy engine imports nothing of mmtool (tests/test_layout.py): these are AWS's own resource types
    # (tests/deployer/test_moto_gaps.py checks moto_server's table against cfn-lint's provider schemas).
    "deployer/account_refusals.py": "AWS's Model Monitor resource types; the engine imports no mmtool",
    "deployer/moto_server.py": "AWS's create-only job definition types for the moto server; imports no mmtool",
    # The analyzer runs inside the processing job, in AWS, without the tool (docs/engine.md).
    "scripts": "the processing engine's analyzer and the job scripts run in AWS without the tool",
}
KIND_OBJECTS = {name: value for name, value in vars(monitor_kinds).items() if isinstance(value, MonitorKind)}


def kinds_named(text: str, kinds: tuple[MonitorKind, ...] = KINDS) -> set[str]:
    """The kinds a string names: equal to a short code, or containing a key, name, MonitoringType or namespace."""
    return {kind.key for kind in kinds
            if text in (kind.code, kind.one_time_code)
            or any(part in text for part in (kind.key, kind.name, kind.stem, kind.namespace))}


def _named_by(node: ast.AST) -> set[str]:
    found: set[str] = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            found |= kinds_named(sub.value)
        elif isinstance(sub, ast.Attribute):  # sagemaker.CreateDataQualityJobDefinition, monitoring.model_bias
            found |= kinds_named(sub.attr)
        elif isinstance(sub, ast.Name) and sub.id in KIND_OBJECTS:  # (DATA_QUALITY, MODEL_QUALITY)
            found.add(KIND_OBJECTS[sub.id].key)
    return found


def lists_of_kinds(source: str) -> list[tuple[int, list[str]]]:
    """(line, kinds) of each collection literal whose elements name two kinds or more."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            elements = node.elts
        elif isinstance(node, ast.Dict):
            elements = [key for key in node.keys if key is not None] + node.values
        else:
            continue
        named = set().union(*map(_named_by, elements)) if elements else set()
        if len(named) >= 2:
            found.append((node.lineno, sorted(named)))
    return found


def _allowed(relative: str) -> bool:
    return any(relative == path or relative.startswith(path + "/") for path in ALLOWED)


def test_no_list_of_monitor_kinds_outside_the_table_and_the_params_model():
    offenders = []
    for top in SCANNED:
        for path in sorted((ROOT / top).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if not _allowed(relative):
                offenders += [f"{relative}:{line}: {', '.join(kinds)}"
                              for line, kinds in lists_of_kinds(path.read_text(encoding="utf-8"))]
    assert offenders == [], ("a list of monitor kinds outside mmtool/config/monitor_kinds.py: derive it from KINDS "
                             "(or add a field to MonitorKind):\n" + "\n".join(offenders))


@pytest.mark.parametrize("source, expected", [
    # what the guard exists to refuse: the lists that stood in baselines.py, catalog.py, estimate.py, quotas.py
    ('KEYS = ("model_quality", "model_bias", "model_explainability")', ["model_bias", "model_explainability",
                                                                        "model_quality"]),
    ('TYPES = ["AWS::SageMaker::DataQualityJobDefinition", "AWS::SageMaker::ModelBiasJobDefinition"]',
     ["data_quality", "model_bias"]),
    ("A = [sagemaker.CreateDataQualityJobDefinition, sagemaker.CreateModelQualityJobDefinition]",
     ["data_quality", "model_quality"]),
    ('LABELS = {"data_quality": "data quality", "model_quality": "model quality"}', ["data_quality", "model_quality"]),
    ('CODES = ("dq", "mq")', ["data_quality", "model_quality"]),
    ("BOTH = (DATA_QUALITY, MODEL_BIAS)", ["data_quality", "model_bias"]),
    ('W = [("DataQuality", widget(x)), ("ModelQuality", widget(y))]', ["data_quality", "model_quality"]),
])
def test_the_guard_finds_a_list_of_kinds(source, expected):
    assert [kinds for _, kinds in lists_of_kinds(source)][:1] == [expected]


@pytest.mark.parametrize("source", [
    "NAMES = tuple(kind.name for kind in KINDS)",  # derived from the table
    'dq = endpoint.monitoring.data_quality; FIELD = ("monitoring", "data_quality", "instance_type")',  # one kind
    'X = ("dq-proc", "mq")',  # a code is a kind's only when it is the whole string
])
def test_the_guard_lets_one_kind_and_derived_lists_pass(source):
    assert lists_of_kinds(source) == []


def test_the_table_and_the_params_model_agree():
    """The facts both hold about a kind: its section, which engines can run it (the processing engine does not use
    Clarify), whether a one-off run is allowed, its name."""
    sections = [name for name, _ in MonitoringSettings().monitors()]
    assert sections == [kind.key for kind in KINDS]
    for kind in KINDS:
        assert MonitoringSettings.model_fields[kind.key].annotation is kind.model
        assert kind.model.NEEDS_CLARIFY == (kind.image == CLARIFY) == (PROCESSING not in kind.engines), kind.key
        assert kind.model.ONE_OFF == kind.one_time_runs, kind.key
        assert kind.model.KIND == kind.name, kind.key  # how the params model's messages name it
        # a Clarify kind's analysis configuration is one the build writes (mmtool/generate/clarify.py)
        assert (kind.analysis in ANALYSES) == (kind.image == CLARIFY), kind.key
        # the processing engine's part of a kind it runs, naming fields its params model has
        assert (kind.processing is not None) == (PROCESSING in kind.engines), kind.key
        if kind.processing:
            fields = [kind.processing.window] + [f.field for f in kind.processing.files]
            assert all(f.split(".")[0] in kind.model.model_fields for f in fields), kind.key


# A fifth kind, added to the table and the params model before anything else reads them, as a new kind would be: a
# params model (here a model-quality one under its own section) and an entry of an existing job family. AWS has no
# such job definition type, so troposphere gets one (ModelQuality's, renamed) for the monitoring template; the
# catalog's awacs actions, which would rightly refuse it at import, are not asked. It runs on both engines: the
# processing engine's request is built from its entry (its own Parameters, not model quality's).
FAKE_KIND = textwrap.dedent("""
    import dataclasses, sys
    from pydantic import BaseModel
    from pydantic.fields import FieldInfo
    from mmtool.config import monitor_kinds as mk
    from mmtool.config.params import environment, fleet, monitoring as pm
    from troposphere import sagemaker as types

    class DriftScoreMonitor(pm.ModelQualityMonitor):
        KIND = "drift-score"

    settings = pm.MonitoringSettings
    settings.__annotations__["drift_score"] = DriftScoreMonitor
    settings.__pydantic_fields__["drift_score"] = FieldInfo(annotation=DriftScoreMonitor,
                                                            default_factory=DriftScoreMonitor, description="fake")
    for module in (pm, fleet, environment):  # the models that hold MonitoringSettings, inner first
        for model in vars(module).values():
            if isinstance(model, type) and issubclass(model, BaseModel) and model.__module__ == module.__name__:
                model.model_rebuild(force=True)
    fake = dataclasses.replace(
        mk.MODEL_QUALITY, key="drift_score", stem="DriftScore", name="drift-score", code="ds", one_time_code="ds",
        label="Drift score", namespace="aws/sagemaker/Endpoints/drift-score-metrics", model=DriftScoreMonitor,
        engines=(mk.MODEL_MONITOR, mk.PROCESSING),
        widgets=(mk.Widget("Drift score per feature", "drift_score", "Maximum", 24),),
        overview=mk.Widget("Drift scores (max)", "drift_score", "Maximum"))
    mk.KINDS = mk.KINDS + (fake,)
    mk.BY_NAME[fake.name] = fake
    mk.BY_STEM[fake.stem] = fake
    for name in [n for n in dir(types) if n.startswith("ModelQuality")]:  # its property types: ModelQuality's
        setattr(types, name.replace("ModelQuality", "DriftScore"), getattr(types, name))
    types.DriftScoreJobDefinition = type("DriftScoreJobDefinition", (types.ModelQualityJobDefinition,), {
        "resource_type": "AWS::SageMaker::DriftScoreJobDefinition",
        "props": {k.replace("ModelQuality", "DriftScore"): v
                  for k, v in types.ModelQualityJobDefinition.props.items()}})
""")

PROBE = textwrap.dedent("""
    import json
    from pathlib import Path
    from mmtool.config import name_limits, reference
    from mmtool.config.baselines import baseline_copies
    from mmtool.config.loader import load_params
    from mmtool.cost.estimate import monitor_inputs
    from mmtool.operate import facts, quotas
    from mmtool.security import checks
    from templates import alarms, monitoring
    from templates.common import Inputs
    params = load_params(Path(sys.argv[1]), Path.cwd())
    template = alarms.build(params).template.to_dict()
    body = json.dumps(template["Resources"]["Dashboard"])
    monitors = monitoring.build(params)
    resources = monitors.template.to_dict()["Resources"]
    values = monitors.parameter_file(Inputs(params, params.fleet()[0], {}, "model"))
    print(json.dumps({
        "dashboard": [title in body for title in ("Drift score per feature", "Drift scores (max)")],
        "flag": "DriftScoreEnabled" in template["Parameters"] and "DriftScore" in template["Conditions"],
        "docs": "| drift-score | `monitoring.drift_score` | `DriftScore` | `ds` |" in reference.render_kinds(),
        "schedule_names": sorted(c.name for c in name_limits.composed_names(params)
                                 if c.name.endswith(("-ds", "-drift-score")) or "-ds-" in c.name),
        "run_now": facts.MONITORS.get("drift-score"),
        "status": "DriftScore" in facts.MONITORING_TYPES,
        "quotas": "drift_score" in quotas.ENGINE_MONITORS,
        "job": resources["DriftScoreJobDefinition"]["Type"],
        "job_name": json.dumps(resources["DriftScoreJobDefinition"]["Properties"]["JobDefinitionName"]),
        "schedule": json.dumps(resources["DriftScoreSchedule"]["Properties"]["MonitoringScheduleName"]),
        "merge": "drift-score/merge/*" in json.dumps(resources["MergedGroundTruthReadPolicy"]),
        "values": {k: v for k, v in values.items() if k.startswith("DriftScore")},
        "security": "AWS::SageMaker::DriftScoreJobDefinition" in checks.JOB_DEFINITION_TYPES,
        "estimate_inputs": list(monitor_inputs(fake)),
        "settings": type(mk.settings(params.fleet()[0].monitoring, fake)).__name__,
        "baselines": [c.field for c in baseline_copies(params)],
        "request": json.dumps(resources["DriftScoreProcessingSchedule"]["Properties"]["Target"]["Input"]),
        "comparison": json.dumps(resources["EngineComparisonDashboard"]["Properties"]["DashboardBody"]),
        "endpoint_dashboard": resources["EndpointDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"],
    }))
""")


def test_a_new_kind_in_the_table_reaches_every_reader(tmp_path):
    params_file = tmp_path / "dev.yaml"
    params_file.write_text((ROOT / "params" / "dev.yaml").read_text() + (  # monitoring: is its last section
        "  drift_score:\n"
        "    enabled: true\n"
        "    schedule: daily\n"
        "    problem_type: Regression\n"
        "    inference_attribute: '0'\n"
        "    baseline_constraints: s3://other-bucket/drift/constraints.json\n"))
    done = subprocess.run([sys.executable, "-c", FAKE_KIND + PROBE, str(params_file)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["dashboard"] == [True, True]
    assert seen["flag"] and seen["docs"] and seen["security"] and seen["merge"] and seen["status"]
    assert seen["quotas"]  # it runs on the processing engine too (its engines)
    assert seen["job"] == "AWS::SageMaker::DriftScoreJobDefinition"
    assert "ds-${DriftScoreRevision}" in seen["job_name"] and "-drift-score" in seen["schedule"]
    assert seen["values"]["DriftScoreEnabled"] == "true" and seen["values"]["DriftScoreProblemType"] == "Regression"
    assert seen["run_now"] == "DriftScore"
    assert seen["schedule_names"] == ["churn-dev-drift-score", "churn-dev-ds-000000000000"]
    assert seen["estimate_inputs"][0] == "DriftScoreScheduleExpression"
    assert seen["settings"] == "DriftScoreMonitor"
    assert seen["baselines"] == ["monitoring.drift_score.baseline_constraints"]
    # The processing engine's request reads the kind's own settings and files, by its entry's `processing`
    request = seen["request"]
    for part in ('"analysis_type\\":\\"DRIFT_SCORE\\"', "${DriftScoreProblemType}", "${DriftScoreInferenceAttribute}",
                 "${DriftScoreProcessingConstraints}", "${DriftScoreBaselineConstraintsKey}", "DriftScoreHasBaseline",
                 "${GroundTruthPrefix}", "drift-score-metrics", "${DriftScoreProcessingWindowStart}"):
        assert part in request, part
    assert "ModelQuality" not in request
    assert seen["values"]["DriftScoreProcessing"] == "false"  # dev runs Model Monitor
    assert seen["values"]["DriftScoreProcessingConstraints"] == (
        "/opt/ml/processing/baseline/constraints/constraints.json")
    assert seen["values"]["DriftScoreProcessingWindowStart"] == "-P1D"  # daily, no time_offsets
    assert "Drift score, processing engine: metrics" in seen["comparison"]
    # a fleet endpoint's own dashboard: the kind's graph of its own (it has an overview graph), by its schedule
    graphs = {w["properties"]["title"]: str(w["properties"]["metrics"][0][0])
              for w in json.loads(seen["endpoint_dashboard"])["widgets"] if w["type"] == "metric"}
    assert "MonitoringSchedule=\"${ProjectName}-${EnvironmentName}-${EndpointKey}-ds\" drift_score" in (
        graphs["Drift score per feature"])
