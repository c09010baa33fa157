"""The monthly estimate of one environment: pure functions from the validated params, the resource counts of
its built templates (mmtool/cost/counts.py) and a price table (mmtool/cost/prices.py).

Every line says what it counts and on what basis; a line without a price (or without a known quantity) is
*unpriced*: its figure is None, it is listed, and totals say how many such lines they leave out. Nothing
unpriced is ever summed as $0. What is counted (docs/cost.md has the reasoning):

* per endpoint and monitor: runs a month from the schedule (mmtool/config/schedule.py; a month is 730 hours),
  billed hours per run at most the stopping condition (``max_runtime_seconds``: there is no basis for an
  expected figure before the monitor has run), the Processing instance price x instance count, the ML
  storage volume in GB-months for the hours it exists. A Model Monitor execution runs as a processing job
  (DescribeMonitoringSchedule's MonitoringExecutionSummary.ProcessingJobArn), so both engines are priced at
  the Processing instance rate; where an endpoint could use either engine both are shown side by side and
  only the one(s) it runs count in the total;
* per endpoint: the per-feature CloudWatch metrics a data-quality run publishes when
  ``publish_cloudwatch_metrics`` is on (at most ``METRICS_PER_FEATURE`` per feature, the names
  scripts/analyzer/metrics.py lists after AWS's page); the feature count is known from the baseline's
  statistics.json when `make cost --read-baselines` read it, or from ``preprocessor.feature_names``,
  otherwise the line is unpriced;
* per environment: interface VPC endpoints x availability zones x 730 hours (when the build creates them),
  KMS keys, CloudWatch alarms and dashboards, as many as the built templates create with this environment's
  parameter values; capture and report storage only with a traffic figure, which params do not have.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from mmtool.config.monitor_kinds import ENGINES, KINDS, MODEL_MONITOR, MonitorKind, settings
from mmtool.config.params import FleetEndpoint, Params
from mmtool.config.schedule import parse_schedule
from mmtool.cost.prices import PriceTable

HOURS_PER_MONTH = Decimal(730)
# feature_data (numerical features), feature_non_null, feature_null, feature_completeness,
# feature_estimated_unique_values, feature_{fractional,integral,string,boolean,unknown}_counts,
# feature_baseline_drift (with a baseline): https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-interpreting-cloudwatch.html
METRICS_PER_FEATURE = 11


@dataclass(frozen=True)
class ResourceCounts:
    """What the built templates create with the environment's parameter values (mmtool/cost/counts.py)."""

    interface_endpoints: int
    interface_endpoint_zones: int  # summed over the endpoints: each is billed in every zone it has a subnet in
    kms_keys: int
    alarms: int
    dashboards: int
    undecided: int = 0  # resources of these types whose Condition is decided only at deploy
    stacks: dict[str, str] = field(default_factory=dict)  # resource kind -> manifest stack holding it


@dataclass(frozen=True)
class Line:
    group: str  # "endpoint <key>" or "environment"
    stack: str  # the manifest stack whose resources incur it ("" when no one stack does)
    item: str
    quantity: str  # the formula, in words and figures
    monthly_usd: Decimal | None  # None: unpriced
    unpriced: str = ""  # why there is no figure
    basis: str = ""
    prices: tuple[str, ...] = ()  # the prices used: "<usd>/<unit> (<source>, <date>)"
    in_total: bool = True  # False: shown for comparison (the other engine, a one-off run)
    # The stack's CloudFormation parameters the quantity is made of: the plan says the figure is unchanged when
    # none of them changes (deployer/cost_view.py). The build keeps only those the stack really has.
    inputs: tuple[str, ...] = ()
    # Those inputs the figure is proportional to: the plan works out the deployed figure from the built one when
    # only these changed (figure x old / new for each).
    proportional: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        # the fields one level deep (every value is a scalar or a tuple of strings): asdict's deep copy of each
        # value, then `fields()` on each line, took most of cost.json's time for a 200-endpoint fleet's 2,206 lines
        body = dict(self.__dict__)  # exactly the fields: a dataclass without slots keeps them there, and only them
        body["monthly_usd"] = None if self.monthly_usd is None else str(self.monthly_usd)
        body["prices"] = list(self.prices)
        body["inputs"] = list(self.inputs)
        body["proportional"] = list(self.proportional)
        return body


@dataclass(frozen=True)
class Estimate:
    environment: str
    region: str
    lines: tuple[Line, ...]
    prices_file: str
    prices_as_of: str

    @property
    def total_usd(self) -> Decimal:
        """The sum of the priced lines that count; see :attr:`unpriced` for what it leaves out."""
        return sum((ln.monthly_usd for ln in self.lines if ln.in_total and ln.monthly_usd is not None), Decimal(0))

    @property
    def unpriced(self) -> list[Line]:
        return [ln for ln in self.lines if ln.in_total and ln.monthly_usd is None]

    def to_json(self) -> dict[str, Any]:
        return {
            "format_version": 1,
            "currency": "USD",
            "environment": self.environment,
            "region": self.region,
            "prices_file": self.prices_file,
            "prices_as_of": self.prices_as_of,
            "hours_per_month": str(HOURS_PER_MONTH),
            "lines": [ln.to_json() for ln in self.lines],
            "total_usd": str(self.total_usd),
            "unpriced_lines": len(self.unpriced),
        }


def cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _figure(value: Decimal) -> str:
    text = f"{value.normalize():f}"
    return text


def engine_of(endpoint: FleetEndpoint) -> str:
    """monitoring.engine of the endpoint (issue 20); the default engine where params do not have the field."""
    return str(getattr(endpoint.monitoring, "engine", MODEL_MONITOR) or MODEL_MONITOR)


def _price_text(price) -> str:
    return f"${_figure(price.usd)}/{price.unit} ({price.cite})"


def monitor_lines(params: Params, endpoint: FleetEndpoint, table: PriceTable) -> list[Line]:
    """The compute and volume of every enabled monitor of one endpoint, under each engine it could use."""
    group = f"endpoint {endpoint.key}"
    stack = endpoint.manifest_name("monitoring")
    chosen = engine_of(endpoint)
    running = set(ENGINES) if chosen == "both" else {chosen}
    lines: list[Line] = []
    for kind in KINDS:  # the engines each kind can run on (mmtool/config/monitor_kinds.py)
        monitor = settings(endpoint.monitoring, kind)
        if not monitor.enabled:
            continue
        for engine in kind.engines:
            lines.extend(_runs(params, monitor, kind.label.lower(), engine, group, stack, table,
                               counted=engine in running or len(kind.engines) == 1, inputs=monitor_inputs(kind)))
        if hasattr(monitor, "shadow_instance_type"):  # Clarify's explainability shadow endpoint
            lines.append(Line(group, stack, "model explainability shadow endpoint",
                              f"{monitor.shadow_instance_count} {monitor.shadow_instance_type} while a run lasts", None,
                              "SageMaker hosting instances are not in the snapshot's keys",
                              "SageMaker Clarify serves the model on a shadow endpoint during each run"))
    return lines


def monitor_inputs(kind: MonitorKind) -> tuple[str, ...]:
    """The monitoring stack's parameters a monitor's runs and volume are made of (templates/monitoring.py names
    them <Stem>InstanceType, ...): data_quality -> DataQualityInstanceType, ..."""
    return tuple(f"{kind.stem}{field}" for field in ("ScheduleExpression", "InstanceType", "InstanceCount",
                                                   "MaxRuntimeSeconds", "VolumeSizeGb"))


def _runs(params: Params, monitor, label: str, engine: str, group: str, stack: str, table: PriceTable,
          *, counted: bool, inputs: tuple[str, ...] = ()) -> list[Line]:
    schedule = parse_schedule(monitor.schedule)
    # runs scale with the instance count and the runtime; the volume with its size too
    by_run = tuple(k for k in inputs if k.endswith(("InstanceCount", "MaxRuntimeSeconds")))
    by_volume = by_run + tuple(k for k in inputs if k.endswith("VolumeSizeGb"))
    hours = Decimal(monitor.max_runtime_seconds) / Decimal(3600)
    count = monitor.instance_count
    if schedule.one_time:
        runs, runs_text = Decimal(1), "1 run (one-off schedule: now, not monthly)"
    else:
        runs = HOURS_PER_MONTH * Decimal(3600) / Decimal(schedule.period_seconds)
        runs_text = f"{_figure(cents(runs))} runs ({monitor.schedule})"
    in_total = counted and not schedule.one_time
    side = "" if counted else ", not deployed: for comparison"
    basis = (f"at most {monitor.max_runtime_seconds} s a run (the stopping condition; no expected figure before the "
             "monitor has run), billed as Processing instance-hours")
    compute = table.find("sagemaker.processing.instance-hour", params.region, monitor.instance_type)
    quantity = f"{runs_text} x {_figure(hours)} h x {count} {monitor.instance_type}"
    item = f"{label} runs [{engine}{side}]"
    if compute is None:
        run_line = Line(group, stack, item, quantity, None,
                        f"no Processing price for {monitor.instance_type} in {params.region} in the snapshot",
                        basis, (), in_total, inputs, by_run)
    else:
        run_line = Line(group, stack, item, quantity, cents(runs * hours * count * compute.usd), "", basis,
                        (_price_text(compute),), in_total, inputs, by_run)
    gb_months = Decimal(monitor.volume_size_gb) * count * runs * hours / HOURS_PER_MONTH
    storage = table.find("sagemaker.processing.storage-gb-month", params.region)
    v_item = f"{label} volume [{engine}{side}]"
    v_quantity = f"{monitor.volume_size_gb} GB x {count} for {_figure(cents(runs * hours))} h = {_figure(cents(gb_months))} GB-month"
    if storage is None:
        volume = Line(group, stack, v_item, v_quantity, None,
                      f"no ML storage price in {params.region} in the snapshot", "the volume exists while a run does",
                      (), in_total, inputs, by_volume)
    else:
        volume = Line(group, stack, v_item, v_quantity, cents(gb_months * storage.usd), "",
                      "the volume exists while a run does", (_price_text(storage),), in_total, inputs, by_volume)
    return [run_line, volume]


def metric_lines(params: Params, endpoint: FleetEndpoint, table: PriceTable,
                 baseline_features: int | None = None) -> list[Line]:
    group = f"endpoint {endpoint.key}"
    stack = endpoint.manifest_name("monitoring")
    dq = endpoint.monitoring.data_quality
    lines: list[Line] = []
    metric = table.find("cloudwatch.metric-month", params.region)
    if dq.enabled and dq.publish_cloudwatch_metrics:
        names = dq.preprocessor.feature_names
        features = baseline_features if baseline_features is not None else (len(names) if names else None)
        counted_from = ("the baseline's statistics.json" if baseline_features is not None
                        else "monitoring.data_quality.preprocessor.feature_names")
        basis = (f"at most {METRICS_PER_FEATURE} metrics per feature (Model Monitor's per-feature data-quality "
                 f"metrics), each a custom metric; the first price tier; features counted from {counted_from}")
        if features is None:
            lines.append(Line(group, stack, "data-quality custom metrics", "features x "
                              f"{METRICS_PER_FEATURE}", None, "the feature count is not known (set monitoring."
                              "data_quality.preprocessor.feature_names, or `make cost ARGS=--read-baselines` with a "
                              "baseline)", basis))
        else:
            n = features * METRICS_PER_FEATURE
            quantity = f"{features} features x {METRICS_PER_FEATURE} = {n} metrics"
            if metric is None:
                lines.append(Line(group, stack, "data-quality custom metrics", quantity, None,
                                  f"no CloudWatch metric price in {params.region} in the snapshot", basis))
            else:
                lines.append(Line(group, stack, "data-quality custom metrics", quantity, cents(n * metric.usd), "",
                                  basis, (_price_text(metric),)))
    mq = endpoint.monitoring.model_quality
    if mq.enabled and mq.publish_cloudwatch_metrics:
        lines.append(Line(group, stack, "model-quality custom metrics", "metrics of the problem type", None,
                          "how many metrics a model-quality run publishes depends on the problem type and is not "
                          "counted yet", "one custom metric per scalar metric"))
    return lines


def environment_lines(params: Params, counts: ResourceCounts | None, table: PriceTable) -> list[Line]:
    group = "environment"
    region = params.region
    where = counts.stacks if counts else {}
    lines: list[Line] = []

    def priced(key: str, item: str, quantity_text: str, quantity: Decimal | None, stack: str, basis: str,
               dimension: str = "") -> None:
        price = table.find(key, region, dimension)
        if quantity is None:
            lines.append(Line(group, stack, item, quantity_text, None, "not counted: build the environment first",
                              basis))
        elif quantity == 0:
            return
        elif price is None:
            lines.append(Line(group, stack, item, quantity_text, None,
                              f"no {key} price in {region} in the snapshot", basis))
        else:
            lines.append(Line(group, stack, item, quantity_text, cents(quantity * price.usd), "", basis,
                              (_price_text(price),)))

    if counts is None:
        endpoints_q = None
        endpoints_text = "interface endpoints x zones x 730 h"
    else:
        endpoints_q = Decimal(counts.interface_endpoint_zones) * HOURS_PER_MONTH
        endpoints_text = (f"{counts.interface_endpoints} endpoints in {counts.interface_endpoint_zones} "
                          f"endpoint-zones x {HOURS_PER_MONTH} h")
    priced("vpc.interface-endpoint.az-hour", "interface VPC endpoints", endpoints_text, endpoints_q,
           where.get("interface_endpoints", "network"), "billed per endpoint per zone per hour; data processed "
           "through them is not counted (no traffic figure)")
    keys = None if counts is None else Decimal(counts.kms_keys)
    priced("kms.key-month", "KMS keys", f"{counts.kms_keys if counts else '?'} key(s)", keys,
           where.get("kms_keys", "foundation"), "a customer-managed key per month; requests and rotated key "
           "versions are not counted")
    alarms = None if counts is None else Decimal(counts.alarms)
    priced("cloudwatch.alarm-month", "CloudWatch alarms", f"{counts.alarms if counts else '?'} alarm(s)", alarms,
           where.get("alarms", "alarms"), "standard-resolution alarms on one metric each; the account's free tier "
           "is not subtracted")
    dashboards = None if counts is None else Decimal(counts.dashboards)
    priced("cloudwatch.dashboard-month", "CloudWatch dashboards", f"{counts.dashboards if counts else '?'} dashboard(s)",
           dashboards, where.get("dashboards", "alarms"), "per dashboard a month; the account's free tier is not "
           "subtracted")
    storage_basis = "S3 Standard GB-months from traffic x sampling x retention"
    lines.append(Line(group, "foundation", "capture storage",
                      f"traffic x {_sampling(params)} % sampled x {params.storage.capture_retention_days} days", None,
                      "no traffic figure: params do not say how many requests the endpoints serve", storage_basis))
    lines.append(Line(group, "foundation", "report storage", f"reports x {params.storage.report_retention_days} days",
                      None, "no figure for the size of the reports before the monitors have run", storage_basis))
    if counts is not None and counts.undecided:
        lines.append(Line(group, "", "resources decided at deploy", f"{counts.undecided} resources", None,
                          "their Condition depends on a value known only at deploy", ""))
    return lines


def _sampling(params: Params) -> str:
    values = sorted({e.data_capture.sampling_percentage for e in params.fleet()})
    return "/".join(str(v) for v in values)


def estimate(params: Params, table: PriceTable, counts: ResourceCounts | None,
             baseline_features: dict[str, int] | None = None) -> Estimate:
    """``baseline_features``: endpoint key -> features in its data-quality baseline, when read
    (mmtool/operate/baseline_features.py)."""
    lines: list[Line] = []
    for endpoint in params.fleet():
        lines.extend(monitor_lines(params, endpoint, table))
        lines.extend(metric_lines(params, endpoint, table, (baseline_features or {}).get(endpoint.key)))
    lines.extend(environment_lines(params, counts, table))
    return Estimate(params.environment, params.region, tuple(lines), table.path, table.newest_date)
