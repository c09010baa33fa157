"""The requests the SageMaker Python SDK sends for an environment's monitors, as JSON on stdout.

Run by tests/test_sdk_fidelity.py with the SDK's own interpreter (.tools/sagemaker-sdk/bin/python, installed by
`make sdk-tools` from requirements-sdk.txt; the SDK's pins clash with ours, so it never runs in .venv):

    .tools/sagemaker-sdk/bin/python tests/sdk_requests.py < context.json

stdin: {"params_file", "endpoint", "regions", "bucket", "role_arn", "reports_prefix", "ground_truth_prefix",
"kms_key_arn", "subnets", "security_group", "endpoint_name", "model_name", "preprocessor_uri",
"shadow_endpoint_prefix"}: where the params file is, which fleet endpoint (its key under endpoints:; absent for the
single-endpoint form), the layout of that endpoint's names and prefixes, and the values that exist only once
deployed (our templates read them from SSM). The monitor settings themselves are read here from the params file,
as someone configuring the SDK by hand from the same file would (a fleet endpoint's monitoring is defaults.monitoring
with the endpoint's own merged in: mappings key by key, the endpoint wins, lists and scalars replaced whole), with
the SDK's own helpers (CronExpressionGenerator, EndpointInput, BiasConfig, SHAPConfig, ModelConfig).

stdout: {"images": {region: {"model-monitor", "clarify"}}, "monitors": {"data_quality" | "model_quality" |
"model_bias" | "model_explainability": {"definition": <Create*JobDefinition params>, "schedule":
<CreateMonitoringSchedule params>, "analysis_config": <the uploaded analysis_config.json, Clarify only>,
"analysis_config_key": <its S3 key>}}}.

No network: every SageMaker and S3 call is answered by botocore's Stubber (the request is recorded from the
stubbed client's parameters), and opening any socket raises.
"""

from __future__ import annotations

import json
import os
import socket
import sys


def _no_network(*_args, **_kwargs):
    raise RuntimeError("tests/sdk_requests.py must not reach the network (a call was not stubbed)")


socket.socket.connect = _no_network  # type: ignore[method-assign]
socket.create_connection = _no_network  # type: ignore[assignment]
os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")  # the 2.x deprecation banner, on every import

import boto3  # noqa: E402
import yaml  # noqa: E402
from botocore.stub import Stubber  # noqa: E402
from sagemaker import image_uris  # noqa: E402
from sagemaker.clarify import BiasConfig, ModelConfig, SHAPConfig  # noqa: E402
from sagemaker.model_monitor import (  # noqa: E402
    BiasAnalysisConfig,
    Constraints,
    CronExpressionGenerator,
    DefaultModelMonitor,
    EndpointInput,
    ExplainabilityAnalysisConfig,
    ModelBiasMonitor,
    ModelExplainabilityMonitor,
    ModelQualityMonitor,
    Statistics,
)
from sagemaker.network import NetworkConfig  # noqa: E402
from sagemaker.session import Session  # noqa: E402

sys.excepthook = sys.__excepthook__  # the SDK installs rich tracebacks on stdout, where our JSON goes

ENDPOINT_PATH = "/opt/ml/processing/input/endpoint"  # the SDK's documented default destination
NO_TELEMETRY = {"SchemaVersion": "1.0", "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}}}


def cron(schedule: str) -> str:
    """The params file's schedule words, through the SDK's own generator."""
    words = {"hourly": CronExpressionGenerator.hourly(), "daily": CronExpressionGenerator.daily()}
    if schedule in words:
        return words[schedule]
    if schedule.startswith("every ") and schedule.endswith(" hours"):
        return CronExpressionGenerator.daily_every_x_hours(int(schedule.split()[1]))
    return schedule


class Recorder:
    """A Session whose SageMaker and S3 clients are stubbed; every request they were asked to send is kept."""

    def __init__(self, region: str, bucket: str):
        boto = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region)
        self.sagemaker = boto.client("sagemaker")
        self.session = Session(boto_session=boto, sagemaker_client=self.sagemaker, default_bucket=bucket,
                               sagemaker_config=NO_TELEMETRY)
        self.s3 = self.session.s3_resource.meta.client
        self.calls: list[tuple[str, dict]] = []
        self.stubs = [Stubber(self.sagemaker), Stubber(self.s3)]
        for client in (self.sagemaker, self.s3):
            client.meta.events.register("provide-client-params.*.*", self._record)
        for stub in self.stubs:
            stub.activate()

    def _record(self, params, model, **_):
        self.calls.append((model.name, json.loads(json.dumps(params, default=_bytes))))

    def expect(self, definition_method: str, clarify: bool) -> None:
        sagemaker, s3 = self.stubs
        if clarify:
            s3.add_response("put_object", {"ETag": '"0"'})
        arn = "arn:aws:sagemaker:eu-west-1:000000000000:"
        sagemaker.add_response(definition_method, {"JobDefinitionArn": arn + "job-definition/x"})
        sagemaker.add_response("create_monitoring_schedule", {"MonitoringScheduleArn": arn + "monitoring-schedule/x"})

    def take(self) -> dict:
        for stub in self.stubs:
            stub.assert_no_pending_responses()
        calls, self.calls = self.calls, []
        out: dict = {}
        for name, params in calls:
            if name == "PutObject":
                out["analysis_config"] = json.loads(params["Body"])
                out["analysis_config_key"] = params["Key"]
            elif name == "CreateMonitoringSchedule":
                out["schedule"] = params
            else:
                out["definition"] = params
        return out


def merge(defaults, override):
    """The params file's one merge rule (docs/fleet.md): mappings merge key by key, the endpoint's value wins;
    lists and scalars are replaced whole."""
    if isinstance(defaults, dict) and isinstance(override, dict):
        return {**defaults, **{k: merge(defaults[k], v) if k in defaults else v for k, v in override.items()}}
    return override


def monitoring_of(params: dict, endpoint: str | None) -> dict:
    if endpoint is None:
        return params["monitoring"]
    defaults = (params.get("defaults") or {}).get("monitoring") or {}
    return merge(defaults, params["endpoints"][endpoint].get("monitoring") or {})


def _bytes(value):
    return value.decode() if isinstance(value, bytes) else str(value)


def main() -> int:
    context = json.load(sys.stdin)
    with open(context["params_file"], encoding="utf-8") as handle:
        params = yaml.safe_load(handle)
    region, bucket = params["region"], context["bucket"]
    monitoring = monitoring_of(params, context.get("endpoint"))
    features = monitoring["clarify"]["features"]
    recorder = Recorder(region, bucket)
    key, role = context["kms_key_arn"], context["role_arn"]
    reports = context["reports_prefix"]
    ground_truth = f"s3://{bucket}/{context['ground_truth_prefix']}"

    def network(isolated: bool) -> NetworkConfig:
        return NetworkConfig(enable_network_isolation=isolated, encrypt_inter_container_traffic=True,
                             security_group_ids=[context["security_group"]], subnets=list(context["subnets"]))

    def common(monitor: dict, isolated: bool = True) -> dict:
        return dict(role=role, instance_count=monitor.get("instance_count", 1),
                    instance_type=monitor.get("instance_type", "ml.m5.xlarge"),
                    volume_size_in_gb=monitor.get("volume_size_gb", 30), volume_kms_key=key, output_kms_key=key,
                    max_runtime_in_seconds=monitor.get("max_runtime_seconds"), sagemaker_session=recorder.session,
                    network_config=network(isolated))

    def predictions_input(monitor: dict) -> EndpointInput:
        """Model quality and bias: where the prediction is in the response, and which hours a run merges."""
        offsets = monitor.get("time_offsets") or {}
        return EndpointInput(context["endpoint_name"], ENDPOINT_PATH,
                             start_time_offset=offsets.get("start"), end_time_offset=offsets.get("end"),
                             probability_attribute=monitor.get("probability_attribute"),
                             probability_threshold_attribute=monitor.get("probability_threshold"),
                             inference_attribute=monitor.get("inference_attribute"))

    out: dict = {"images": {r: {"model-monitor": image_uris.retrieve("model-monitor", r),
                                "clarify": _clarify_image(r)} for r in context["regions"]},
                 "monitors": {}}

    dq = monitoring["data_quality"]
    recorder.expect("create_data_quality_job_definition", clarify=False)
    DefaultModelMonitor(**common(dq)).create_monitoring_schedule(
        endpoint_input=EndpointInput(context["endpoint_name"], ENDPOINT_PATH),
        record_preprocessor_script=context["preprocessor_uri"],
        output_s3_uri=f"s3://{bucket}/{reports}/data-quality",
        statistics=Statistics(body_dict={}, statistics_file_s3_uri=dq["baseline"]["statistics"]),
        constraints=Constraints(body_dict={}, constraints_file_s3_uri=dq["baseline"]["constraints"]),
        schedule_cron_expression=cron(dq["schedule"]),
        enable_cloudwatch_metrics=dq.get("publish_cloudwatch_metrics", True),
    )
    out["monitors"]["data_quality"] = recorder.take()

    mq = monitoring["model_quality"]
    recorder.expect("create_model_quality_job_definition", clarify=False)
    ModelQualityMonitor(**common(mq)).create_monitoring_schedule(
        endpoint_input=predictions_input(mq),
        ground_truth_input=ground_truth,
        problem_type=mq["problem_type"],
        output_s3_uri=f"s3://{bucket}/{reports}/model-quality",
        constraints=Constraints(body_dict={}, constraints_file_s3_uri=mq["baseline_constraints"]),
        schedule_cron_expression=cron(mq["schedule"]),
        enable_cloudwatch_metrics=mq.get("publish_cloudwatch_metrics", True),
    )
    out["monitors"]["model_quality"] = recorder.take()

    bias = monitoring["model_bias"]
    facet = bias["facets"][0]  # BiasConfig takes one facet name (or a list); staging has one
    recorder.expect("create_model_bias_job_definition", clarify=True)
    ModelBiasMonitor(**common(bias)).create_monitoring_schedule(
        endpoint_input=predictions_input(bias),
        ground_truth_input=ground_truth,
        analysis_config=BiasAnalysisConfig(
            BiasConfig(label_values_or_threshold=bias["label_values_or_threshold"], facet_name=facet["name"],
                       facet_values_or_threshold=facet.get("value_or_threshold"), group_name=bias.get("group_variable")),
            headers=[*features, bias["label"]], label=bias["label"]),
        output_s3_uri=f"s3://{bucket}/{reports}/model-bias",
        schedule_cron_expression=cron(bias["schedule"]),
        enable_cloudwatch_metrics=bias.get("publish_cloudwatch_metrics", True),
    )
    out["monitors"]["model_bias"] = recorder.take()

    explain = monitoring["model_explainability"]
    shap = explain["shap"]
    recorder.expect("create_model_explainability_job_definition", clarify=True)
    # Network isolation off on the job: Clarify calls the shadow endpoint (AWS, Clarify jobs in a VPC).
    ModelExplainabilityMonitor(**common(explain, isolated=False)).create_monitoring_schedule(
        endpoint_input=EndpointInput(context["endpoint_name"], ENDPOINT_PATH,
                                     probability_attribute=explain.get("probability_attribute")),
        analysis_config=ExplainabilityAnalysisConfig(
            SHAPConfig(baseline=shap["baseline"], num_samples=shap.get("num_samples"),
                       agg_method=shap.get("agg_method", "mean_abs"), use_logit=shap.get("use_logit", False),
                       save_local_shap_values=False),
            ModelConfig(model_name=context["model_name"], instance_type=explain.get("shadow_instance_type"),
                        instance_count=explain.get("shadow_instance_count", 1), content_type="text/csv",
                        accept_type="text/csv", endpoint_name_prefix=context["shadow_endpoint_prefix"]),
            headers=features),
        output_s3_uri=f"s3://{bucket}/{reports}/model-explainability",
        schedule_cron_expression=cron(explain["schedule"]),
        enable_cloudwatch_metrics=explain.get("publish_cloudwatch_metrics", True),
    )
    out["monitors"]["model_explainability"] = recorder.take()

    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    return 0


def _clarify_image(region: str) -> str | None:
    try:
        return image_uris.retrieve("clarify", region)
    except ValueError:  # not every region has a Clarify image (the SageMaker SDK's sagemaker/image_uri_config/model-monitor.json and clarify.json)
        return None


if __name__ == "__main__":
    sys.exit(main())
