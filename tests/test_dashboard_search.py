"""The dashboards' SEARCH expressions find every metric our jobs publish, and no other environment's.

moto does not evaluate CloudWatch's SEARCH, so this test implements the documented syntax
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/search-expression-syntax.html) in a small matcher,
checks the matcher against the page's own examples, and then evaluates the expressions of the built dashboards
(the single-endpoint dashboard, a fleet's overview, a fleet endpoint's own dashboard, resolved with the
environment's parameter values) against:

* Model Monitor's metrics of each kind of the table: its namespace, the dimensions the SageMaker pages name
  (Endpoint and MonitoringSchedule, with the extra dimension sets the docs and the SDK disagree on), names of the
  documented forms (https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-interpreting-cloudwatch.html,
  https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-model-quality-metrics.html,
  https://docs.aws.amazon.com/sagemaker/latest/dg/clarify-model-monitor-bias-drift-cw.html), on the schedules and
  endpoints the monitoring stacks create;
* the processing engine analyzer's metrics, made by scripts/analyzer/metrics.py itself, with the namespace and the
  `MonitoringSchedule` its schedules' requests pass (templates/processing_engine.py);
* the EventBridge rules' TriggeredRules metrics (namespace AWS/Events, dimension RuleName);
* the same metrics of other environments (another environment of the project, another project).

What the page leaves open, the matcher takes as stated here: a metric schema `{Namespace, Dim, ...}` matches the
metrics of that namespace whose dimension names are exactly those (as the page's InstanceId/InstanceType examples
aggregate); a partial term with non-alphanumeric characters, such as the dashboards' `MetricName=feature_baseline_drift`,
is its tokens in a row (the page's network-errors example).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from mmtool.config.loader import load_params
from mmtool.config.monitor_kinds import BY_STEM, DATA_QUALITY, KINDS, MODEL_BIAS, MODEL_EXPLAINABILITY, MODEL_QUALITY
from mmtool.generate.synth import synthesize
from scripts.analyzer import metrics as analyzer_metrics
from scripts.analyzer.profile import DatasetProfile
from tests.cfn_values import Resolver
from tests.conftest import REPO

# --- the matcher ------------------------------------------------------------------------------------
# An oracle of its own, written from the page (mmtool/config/names.py's search_tokens is the product's copy of the
# tokenization, for validation; this one is kept apart on purpose).

_WORD = re.compile(r"[A-Za-z0-9]+")  # non-alphanumeric characters are delimiters
# Camel case and digits start tokens: CustomCount1 -> Custom, Count, 1; SDBFailure -> SDB, Failure.
_SUBTOKEN = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")


def _subtokens(text: str) -> list[str]:
    return [sub for word in _WORD.findall(text) for sub in _SUBTOKEN.findall(word)]


def partial_match(term: str, text: str) -> bool:
    """The page's partial match: a single token of the term matches a token of the text, case-insensitively (or the
    text's whole token, its alphanumerics lowercased); a composite token (several tokens of one word of the term,
    as in CustomCount or Count1) must appear consecutively in the text with the same case; words the term
    separates with non-alphanumeric characters are consecutive tokens too (network-errors finds Network-Errors-2)."""
    words = _WORD.findall(term)
    if not words:
        return False
    wanted = [(sub, len(_SUBTOKEN.findall(word)) > 1) for word in words for sub in _SUBTOKEN.findall(word)]
    have = _subtokens(text)
    if len(words) == 1 and "".join(words).lower() == "".join(_WORD.findall(text)).lower():
        return True
    for start in range(len(have) - len(wanted) + 1):
        if all(have[start + i] == sub if case_sensitive else have[start + i].lower() == sub.lower()
               for i, (sub, case_sensitive) in enumerate(wanted)):
            return True
    return False


@dataclass(frozen=True)
class Metric:
    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...]

    def fields(self, designator: str | None) -> list[str]:
        """What a term looks at: one property with a designator, else every name and value of the metric."""
        dims = dict(self.dimensions)
        if designator == "MetricName":
            return [self.name]
        if designator == "Namespace":
            return [self.namespace]
        if designator is not None:
            return [dims[designator]] if designator in dims else []
        return [self.namespace, self.name, *dims, *dims.values()]


@dataclass
class Search:
    expression: str
    namespace: str | None = None
    schema: tuple[str, ...] | None = None
    term: object = None
    stat: str = ""
    tokens: list = field(default_factory=list)

    def matches(self, metric: Metric) -> bool:
        if self.namespace is not None and metric.namespace != self.namespace:
            return False
        if self.schema and sorted(self.schema) != sorted(name for name, _ in metric.dimensions):
            return False
        return self.term is None or _evaluate(self.term, metric)


_LEX = re.compile(r'\s*(?:(\()|(\))|("(?:[^"\\]|\\.)*")|([A-Za-z0-9_.:/-]+)=("(?:[^"\\]|\\.)*"|[^\s()"]+)|([^\s()]+))')


def parse_search(expression: str) -> Search:
    """SEARCH(' {Namespace, Dim, ...} SearchTerm', 'Statistic', Period), the page's grammar."""
    found = re.fullmatch(r"SEARCH\('(.*)',\s*'([^']+)'(?:,\s*\d+)?\)", expression.strip(), re.S)
    assert found, f"not a SEARCH expression: {expression}"
    query, stat = found[1].strip(), found[2]
    search = Search(expression, stat=stat)
    if query.startswith("{"):
        schema, query = query[1:].split("}", 1)
        names = [part.strip().strip('"') for part in schema.split(",")]
        search.namespace, search.schema = names[0], tuple(names[1:])
        query = query.lstrip().removeprefix(",")
    tokens, at = [], 0
    while query[at:].strip():
        lexed = _LEX.match(query, at)
        assert lexed, f"cannot read {query[at:]!r} in {expression}"
        at = lexed.end()
        opening, closing, exact, designator, value, word = lexed.groups()
        if opening or closing:
            tokens.append(opening or closing)
        elif word in ("AND", "OR", "NOT"):
            tokens.append(word)
        elif exact:
            tokens.append(("exact", None, _unquote(exact)))
        elif designator:
            quoted = value.startswith('"')
            tokens.append(("exact" if quoted else "partial", designator, _unquote(value) if quoted else value))
        else:
            tokens.append(("partial", None, word))
    search.tokens = tokens
    search.term, rest = _parse_or(tokens) if tokens else (None, [])
    assert not rest, f"unread {rest} in {expression}"
    return search


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text[1:-1])  # the page's escapes: \" \\ \( \)


def _parse_or(tokens):
    left, tokens = _parse_and(tokens)
    while tokens and tokens[0] == "OR":
        right, tokens = _parse_and(tokens[1:])
        left = ("or", left, right)
    return left, tokens


def _parse_and(tokens):
    left, tokens = _parse_not(tokens)
    while tokens and tokens[0] not in ("OR", ")"):  # AND, or nothing between two terms (an implicit AND)
        right, tokens = _parse_not(tokens[1:] if tokens[0] == "AND" else tokens)
        left = ("and", left, right)
    return left, tokens


def _parse_not(tokens):
    if tokens[0] == "NOT":
        inner, tokens = _parse_not(tokens[1:])
        return ("not", inner), tokens
    if tokens[0] == "(":
        inner, tokens = _parse_or(tokens[1:])
        assert tokens and tokens[0] == ")", "unbalanced parentheses"
        return inner, tokens[1:]
    return tokens[0], tokens[1:]


def _evaluate(node, metric: Metric) -> bool:
    kind = node[0]
    if kind == "or":
        return _evaluate(node[1], metric) or _evaluate(node[2], metric)
    if kind == "and":
        return _evaluate(node[1], metric) and _evaluate(node[2], metric)
    if kind == "not":
        return not _evaluate(node[1], metric)
    _, designator, value = node
    texts = metric.fields(designator)
    if kind == "exact":
        return value in texts
    return any(partial_match(value, text) for text in texts)


def _metric(namespace: str, name: str, **dimensions: str) -> Metric:
    return Metric(namespace, name, tuple(sorted(dimensions.items())))


# The page's own examples.
CUSTOM = _metric("MyNamespace", "CustomCount1", Service="api")


@pytest.mark.parametrize("term, found", [
    ("count", True), ("Count", True), ("COUNT", True), ("couNT", False),
    ("CustomCount", True), ("Count1", True), ("customcount", False), ("count1", False),
    ('"CustomCount1"', True), ('"customcount1"', False), ('"Custom"', False),
    ('MetricName="CustomCount1"', True), ('Service="CustomCount1"', False),
])
def test_the_matcher_follows_the_pages_partial_and_exact_matches(term, found):
    assert parse_search(f"SEARCH(' {{MyNamespace}}, {term} ', 'Maximum', 120)").matches(CUSTOM) is found


@pytest.mark.parametrize("name", ["Network-Errors-2", "NetworkErrors2"])
@pytest.mark.parametrize("term", ["network/errors", "network+errors", "network-errors", "Network_Errors"])
def test_non_alphanumeric_characters_of_a_term_make_a_composite_token(term, name):
    assert partial_match(term, name)
    assert not partial_match(term, "Network-Warnings-2")


def test_the_matcher_follows_the_pages_boolean_examples():
    ec2 = [_metric("AWS/EC2", "CPUUtilization", InstanceId=i) for i in ("i-1234567890123456", "i-0000000000000001")]
    search = parse_search("SEARCH(' {AWS/EC2,InstanceId} MetricName=\"CPUUtilization\" NOT i-1234567890123456 ', "
                          "'Average', 300)")
    assert [search.matches(m) for m in ec2] == [False, True]
    ops = [_metric("AWS/EC2", "DiskReadOps", InstanceId="i-1"), _metric("AWS/EBS", "VolumeReadOps", VolumeId="v-1"),
           _metric("AWS/RDS", "ReadIOPS", DBInstanceIdentifier="db")]
    for expression in ("SEARCH(' (EC2 OR EBS) AND MetricName=ReadOps ', 'Maximum', 120)",
                       "SEARCH(' (EC2 OR EBS) MetricName=ReadOps ', 'Maximum', 120)"):
        assert [parse_search(expression).matches(m) for m in ops] == [True, True, False]
    lambdas = [_metric("AWS/Lambda", "Errors", FunctionName="other"),
               _metric("AWS/Lambda", "Invocations", FunctionName="ProjectA-ingest"),
               _metric("AWS/Lambda", "Invocations", FunctionName="other"),
               _metric("AWS/Lambda", "Errors", FunctionName="x", Resource="x")]  # another dimension set
    nested = parse_search("SEARCH(' {AWS/Lambda,FunctionName} MetricName=\"Errors\" OR (MetricName=\"Invocations\" "
                          "AND (ProjectA OR ProjectB)) ', 'Average', 600)")
    assert [nested.matches(m) for m in lambdas] == [True, True, False, False]


# --- what our dashboards search, and what our jobs publish ------------------------------------------

ACCOUNT = "111122223333"
FEATURE_NAMES = ["age", "plan"]


def _resolver(stack, params, flags: dict[str, str] | None = None) -> Resolver:
    resolver = Resolver(stack.template, {**stack.parameters, **(flags or {})}, params.region, ACCOUNT)
    resolver.values.update({logical_id: logical_id for logical_id in stack.template["Resources"]})
    return resolver


def _searches(body: str) -> list[tuple[str, Search]]:
    """(widget title, search) of every SEARCH of a dashboard body."""
    return [(widget["properties"]["title"], parse_search(metric[0]["expression"]))
            for widget in json.loads(body)["widgets"] if widget["type"] == "metric"
            for metric in widget["properties"]["metrics"] if isinstance(metric[0], dict)]


def _model_monitor_metrics(kind, endpoint: str, schedule: str) -> list[Metric]:
    """A kind's metrics as Model Monitor publishes them, with each dimension set the pages name."""
    base = {"Endpoint": endpoint, "MonitoringSchedule": schedule}
    if kind is DATA_QUALITY:
        names = [f"feature_{what}_{feature}" for feature in FEATURE_NAMES
                 for what in ("baseline_drift", "completeness", "data", "null", "non_null")]
        return [_metric(kind.namespace, n, **base) for n in names] + [
            _metric(kind.namespace, n, **base, Feature=n.rsplit("_", 1)[1]) for n in names]  # the SDK's dashboard's
    if kind is MODEL_QUALITY:
        return [_metric(kind.namespace, n, **base) for n in ("accuracy", "f1", "auc", "precision")]
    if kind is MODEL_BIAS:
        return [_metric(kind.namespace, f"bias_metric_{short}", **base, BiasStage="post_training", Label="churn",
                        LabelValue="1", Facet="age", FacetValue="65") for short in ("CI", "DPPL")]
    assert kind is MODEL_EXPLAINABILITY
    return [_metric(kind.namespace, f"feature_{feature}", **base, ExplainabilityMethod="KernelShap", Label="label0",
                    ValueType="GlobalShapValues") for feature in FEATURE_NAMES]


def _analyzer_metrics(namespace: str, analysis: str, endpoint: str, schedule: str) -> list[Metric]:
    """What scripts/analyzer publishes: its own metric functions on a small profile and metrics."""
    if analysis == "DATA_QUALITY":
        profile = DatasetProfile()
        profile.add_columns({"age": ["42", "7"], "plan": ["a", "b"]}, 2)
        profile.flush()
        items = analyzer_metrics.data_quality_metrics(profile, {"age": 0.3, "plan": 0.1})
    else:
        items = analyzer_metrics.model_quality_metrics({"accuracy": {"value": 0.9}, "f1": {"value": 0.8}})
    items.append(analyzer_metrics.violations_metric(0))
    dims = tuple(sorted((d["Name"], d["Value"]) for d in analyzer_metrics.dimensions(endpoint, schedule)))
    return [Metric(namespace, item["MetricName"], dims) for item in items]


@dataclass
class Published:
    """One endpoint's metrics: per (engine, kind) and its rules'."""

    by_kind: dict[tuple[str, str], list[Metric]] = field(default_factory=dict)
    rules: list[Metric] = field(default_factory=list)

    def all(self) -> list[Metric]:
        return [m for metrics in self.by_kind.values() for m in metrics] + self.rules


def published(stacks, params) -> dict[str, Published]:
    """Endpoint key (or "default") -> what its monitoring stack's schedules and rules publish."""
    found: dict[str, Published] = {}
    for stack in stacks:
        if stack.kind not in ("monitoring", "alarms"):
            continue
        resolver = _resolver(stack, params)
        endpoint = resolver.values.get("EndpointName") or ""
        mine = found.setdefault(stack.endpoint or "default", Published())
        for logical_id, resource in stack.template["Resources"].items():
            properties = resolver.properties(logical_id)
            if properties is None:
                continue
            if resource["Type"] == "AWS::SageMaker::MonitoringSchedule":
                kind = BY_STEM[properties["MonitoringScheduleConfig"]["MonitoringType"]]
                mine.by_kind[("model-monitor", kind.key)] = _model_monitor_metrics(
                    kind, endpoint, properties["MonitoringScheduleName"])
            elif resource["Type"] == "AWS::Scheduler::Schedule":
                environment = json.loads(properties["Target"]["Input"])["Environment"]
                kind = next(k for k in KINDS if k.key.upper() == environment["analysis_type"])
                mine.by_kind[("processing", kind.key)] = _analyzer_metrics(
                    environment["metrics_namespace"], environment["analysis_type"],
                    environment["sagemaker_endpoint_name"], environment["sagemaker_monitoring_schedule_name"])
            elif resource["Type"] == "AWS::Events::Rule" and "Name" in properties:
                mine.rules.append(_metric("AWS/Events", "TriggeredRules", RuleName=properties["Name"]))
    return found


def _elsewhere(metrics: list[Metric], ours: str, theirs: str) -> list[Metric]:
    """The same metrics in another environment: every name that starts `<project>-<env>` renamed."""
    def rename(value: str) -> str:
        return theirs + value[len(ours):] if value.startswith(ours + "-") else value
    return [Metric(m.namespace, m.name, tuple((k, rename(v)) for k, v in m.dimensions)) for m in metrics]


def _build(env: str):
    params = load_params(REPO / "params" / f"{env}.yaml", REPO)
    return params, synthesize(params, REPO).stacks


# Other environments whose names do not hold ours as consecutive tokens: another environment of the project, another
# project, a name that extends ours with letters (one token: "stagingx" is not "staging").
OTHERS = ("churn-qa", "churn-stagingx", "churn-prodx", "fraud-prod", "fraud-staging", "churnx-prod", "churnx-staging")


def _drift_metric(metric: Metric) -> bool:
    return metric.name.startswith("feature_baseline_drift_")


def test_the_single_endpoint_dashboard_finds_each_kinds_metrics_and_no_one_elses():
    params, stacks = _build("prod")
    alarms = next(s for s in stacks if s.kind == "alarms")
    flags = {f"{kind.stem}Enabled": "true" for kind in KINDS}  # every kind's graphs, whatever prod enables
    body = _resolver(alarms, params, flags).properties("Dashboard")["DashboardBody"]
    searches = _searches(body)
    prefix = f"{params.project}-{params.environment}"
    # Model Monitor's metrics of every kind on the single-endpoint form's schedules <project>-<env>-<name>
    ours = {kind.key: _model_monitor_metrics(kind, "churn-prod-endpoint", f"{prefix}-{kind.name}") for kind in KINDS}
    expected = {  # each graph's metrics, from the kind's metric names
        "Data quality: baseline drift per feature (max)": [m for m in ours["data_quality"] if _drift_metric(m)],
        "Data quality: completeness per feature": [m for m in ours["data_quality"]
                                                   if m.name.startswith("feature_completeness_")],
        "Model quality metrics": ours["model_quality"],
        "Model bias metrics (post-training)": ours["model_bias"],
        "Feature attribution (global SHAP)": ours["model_explainability"],
    }
    assert sorted(title for title, _ in searches) == sorted(expected)
    everything = [m for metrics in ours.values() for m in metrics]
    for title, search in searches:
        assert [m for m in everything if search.matches(m)] == expected[title], title
        for other in OTHERS + (f"{prefix}2", f"old-{prefix}"):  # exact schedule names: not even look-alikes
            assert not any(search.matches(m) for m in _elsewhere(everything, prefix, other)), (title, other)
    # the processing engine alone publishes under Model Monitor's schedule names (templates/processing_engine.py)
    processing = _analyzer_metrics(DATA_QUALITY.namespace, "DATA_QUALITY", "e", f"{prefix}-{DATA_QUALITY.name}")
    drift = dict(searches)["Data quality: baseline drift per feature (max)"]
    assert [m.name for m in processing if drift.matches(m)] == [m.name for m in processing if _drift_metric(m)]


@pytest.fixture(scope="module")
def fleet():
    params, stacks = _build("staging")
    assert params.is_fleet and any(e.monitoring.engine == "both" for e in params.fleet())
    return params, stacks, published(stacks, params)


def test_the_fleet_overview_finds_every_endpoints_metrics_of_both_engines(fleet):
    params, stacks, metrics = fleet
    alarms = next(s for s in stacks if s.kind == "alarms")
    searches = dict(_searches(_resolver(alarms, params).properties("Dashboard")["DashboardBody"]))
    assert sorted(searches) == ["Data drift (max)", "Model quality, bias, attribution",
                                "Runs: failed or stopped, with violations"]
    kinds_seen = {kind for endpoint in metrics.values() for (_, kind) in endpoint.by_kind}
    engines_seen = {engine for endpoint in metrics.values() for (engine, _) in endpoint.by_kind}
    assert kinds_seen == {kind.key for kind in KINDS} and engines_seen == {"model-monitor", "processing"}
    everything = [m for endpoint in metrics.values() for m in endpoint.all()]
    drift = [m for m in everything if m.namespace == DATA_QUALITY.namespace and _drift_metric(m)]
    model = [m for m in everything if m.namespace in {k.namespace for k in KINDS if k.overview is None}]
    rules = [m for m in everything if m.namespace == "AWS/Events"]
    assert drift and model and rules
    assert [m for m in everything if searches["Data drift (max)"].matches(m)] == drift
    assert [m for m in everything if searches["Model quality, bias, attribution"].matches(m)] == model
    assert [m for m in everything if searches["Runs: failed or stopped, with violations"].matches(m)] == rules
    prefix = f"{params.project}-{params.environment}"
    for other in OTHERS:
        theirs = _elsewhere(everything, prefix, other)
        assert [(title, m) for title, s in searches.items() for m in theirs if s.matches(m)] == [], other


def test_the_fleet_overview_matches_an_environment_whose_name_extends_ours(fleet):
    """The documented limit (docs/fleet.md): the overview finds `<project>-<env>` as consecutive name tokens, so
    `churn-staging2` (digits start a token) and `old-churn-staging` show up on churn-staging's overview; validation
    refuses such a neighbour in the same params folder (tests/config/test_names.py). If this fails, the search
    became exact: update docs/fleet.md and mmtool/config/names.py."""
    params, _, metrics = fleet
    stacks = fleet[1]
    alarms = next(s for s in stacks if s.kind == "alarms")
    drift = dict(_searches(_resolver(alarms, params).properties("Dashboard")["DashboardBody"]))["Data drift (max)"]
    prefix = f"{params.project}-{params.environment}"
    everything = [m for endpoint in metrics.values() for m in endpoint.all()]
    for other in (f"{prefix}2", f"old-{prefix}"):
        assert any(drift.matches(m) for m in _elsewhere(everything, prefix, other)), other


def test_a_fleet_endpoints_dashboard_finds_its_metrics_only(fleet):
    params, stacks, metrics = fleet
    prefix = f"{params.project}-{params.environment}"
    everything = [m for endpoint in metrics.values() for m in endpoint.all()]
    checked = 0
    for stack in stacks:
        if stack.kind != "monitoring":
            continue
        searches = dict(_searches(_resolver(stack, params).properties("EndpointDashboard")["DashboardBody"]))
        mine = metrics[stack.endpoint]
        model_monitor = {kind: ms for (engine, kind), ms in mine.by_kind.items() if engine == "model-monitor"}
        expected_drift = [m for m in model_monitor.get(DATA_QUALITY.key, []) if _drift_metric(m)]
        expected_model = [m for kind, ms in model_monitor.items() if kind != DATA_QUALITY.key for m in ms]
        # Under engine both, the processing engine's series carry its own schedule name (kept apart from Model
        # Monitor's); alone, Model Monitor's name, so these graphs show them.
        alone = {kind: ms for (engine, kind), ms in mine.by_kind.items()
                 if engine == "processing" and ("model-monitor", kind) not in mine.by_kind}
        expected_drift += [m for m in alone.get(DATA_QUALITY.key, []) if _drift_metric(m)]
        expected_model += [m for kind, ms in alone.items() if kind != DATA_QUALITY.key for m in ms]
        drift = [m for m in everything if searches["Data quality: baseline drift per feature (max)"].matches(m)]
        model = [m for m in everything if searches["Model quality, bias and attribution"].matches(m)]
        assert drift == expected_drift and model == expected_model, stack.endpoint
        for other in OTHERS:
            theirs = _elsewhere(everything, prefix, other)
            assert not any(s.matches(m) for s in searches.values() for m in theirs), (stack.endpoint, other)
        checked += 1
    assert checked == len(params.fleet())


def test_the_engine_comparison_dashboard_shows_each_engines_series_on_its_own_side(fleet):
    """engine: both (staging's upsell): the left graph finds exactly Model Monitor's drift series, the right one exactly
    the analyzer's, and neither anything of another environment (templates/processing_engine.py)."""
    params, stacks, metrics = fleet
    prefix = f"{params.project}-{params.environment}"
    everything = [m for endpoint in metrics.values() for m in endpoint.all()]
    both = [s for s in stacks if s.kind == "monitoring"
            and next(e for e in params.fleet() if e.key == s.endpoint).monitoring.engine == "both"]
    assert both
    for stack in both:
        resolver = _resolver(stack, params)
        board = resolver.properties("EngineComparisonDashboard")
        searches = dict(_searches(board["DashboardBody"]))
        mine = metrics[stack.endpoint].by_kind
        for engine, side in (("model-monitor", "Model Monitor"), ("processing", "processing engine")):
            found = [m for m in everything if searches[f"Data quality, {side}: baseline drift per feature (max)"].matches(m)]
            assert found == [m for m in mine[(engine, DATA_QUALITY.key)] if _drift_metric(m)], (stack.endpoint, engine)
        for other in OTHERS:
            theirs = _elsewhere(everything, prefix, other)
            assert not any(s.matches(m) for s in searches.values() for m in theirs), (stack.endpoint, other)
