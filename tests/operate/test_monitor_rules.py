"""The failure-mode rules (mmtool.operate.rules) and the schedule arithmetic they use (mmtool.operate.facts).

Pure functions over hand-built facts: no AWS, no moto, no Stubber. Each known failure mode of docs/operating.md
that the tool explains has a test that makes its rule fire and one that shows it stays quiet when the
facts do not support it. Expected texts and times are written out by hand.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from mmtool.operate import rules
from mmtool.operate.facts import (
    CaptureFacts,
    CaptureHour,
    EndpointFacts,
    ExecutionFacts,
    Facts,
    JobDefinitionFacts,
    ScheduleFacts,
    Violation,
    ViolationsFacts,
    analysis_window,
    expected_next_run,
    files_between,
    first_slot_after,
    missed_slot,
    run_hours,
)

UTC = timezone.utc
NOW = datetime(2026, 11, 24, 10, 25, tzinfo=UTC)
ROLE = "arn:aws:iam::123456789012:role/churn-dev-monitoring"
PREFIX = "s3://churn-dev-bucket-1x2y3z/datacapture/churn-dev/AllTraffic/"


def at(hour: int, minute: int = 0, day: int = 24) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def capture(files_per_hour: dict[int, int], hours: int = 24) -> CaptureFacts:
    """Hour folders of the last `hours` hours before NOW (10:00 included), with the given counts by hour of day."""
    top = at(10)
    listed = []
    for index in range(hours):
        hour = top - timedelta(hours=index)
        count = files_per_hour.get(hour.hour, 0) if hour.day == 24 else 0
        listed.append(CaptureHour(hour, count, hour + timedelta(minutes=58) if count else None))
    return CaptureFacts("AllTraffic", PREFIX, listed)


def endpoint(**changes) -> EndpointFacts:
    values = dict(name="churn-dev", name_source="ssm", found=True, status="InService",
                  config_name="churn-dev-EndpointConfig-1a2b3c", capture_enabled=True, capture_status="Started",
                  sampling_percentage=100, destination="s3://churn-dev-bucket-1x2y3z/datacapture", variants=["AllTraffic"])
    values.update(changes)
    return EndpointFacts(**values)


def definition(**changes) -> JobDefinitionFacts:
    values = dict(name="churn-dev-dq-4f9a1c", environment={"publish_cloudwatch_metrics": "Enabled"}, max_runtime_seconds=1800,
                  role_arn=ROLE, output_uri="s3://churn-dev-bucket-1x2y3z/reports/data-quality", input_kind="endpoint",
                  endpoint_name="churn-dev")
    values.update(changes)
    return JobDefinitionFacts(**values)


def run(scheduled: datetime, status: str = "Completed", reason: str | None = None, job: str | None = "job-1") -> ExecutionFacts:
    return ExecutionFacts(scheduled, status, scheduled + timedelta(minutes=4), scheduled + timedelta(minutes=13), job, reason)


def schedule(**changes) -> ScheduleFacts:
    values = dict(name="churn-dev-data-quality", status="Scheduled", monitoring_type="DataQuality",
                  expression="cron(0 * ? * * *)", created=at(9, 0, day=23), endpoint_name="churn-dev",
                  job_definition=definition(), executions=[run(at(10)), run(at(9))])
    values.update(changes)
    return ScheduleFacts(**values)


def facts(schedules: list[ScheduleFacts] | None = None, captures: list[CaptureFacts] | None = None, **changes) -> Facts:
    return Facts("churn", "dev", "eu-west-1", NOW, 24, changes.pop("endpoint", endpoint()),
                 [capture({10: 3, 9: 4, 8: 2})] if captures is None else captures,
                 [schedule()] if schedules is None else schedules, "churn-dev-bucket-1x2y3z")


# ------------------------------------------------------------------ schedule arithmetic


@pytest.mark.parametrize("expression, hours", [
    ("cron(0 * ? * * *)", set(range(24))),
    ("cron(0 5 ? * * *)", {5}),
    ("cron(0 0/6 ? * * *)", {0, 6, 12, 18}),
    ("cron(0 17/12 ? * * *)", {17}),  # 17, then 29: the next day's 17
    ("NOW", None),
    ("Hourly: cron(0 * ? * * *)", None),
])
def test_run_hours_of_each_accepted_cadence(expression, hours):
    assert run_hours(expression) == hours


def test_first_slot_is_strictly_after_and_at_the_top_of_a_matching_hour():
    assert first_slot_after("cron(0 * ? * * *)", at(10, 25)) == at(11)
    assert first_slot_after("cron(0 * ? * * *)", at(10)) == at(11)
    assert first_slot_after("cron(0 0/6 ? * * *)", at(10, 25)) == at(12)
    assert first_slot_after("cron(0 5 ? * * *)", at(10, 25)) == at(5, day=25)


def test_next_run_after_the_last_execution():
    assert expected_next_run(schedule(), NOW) == at(11)


def test_the_current_hour_is_still_expected_within_its_20_minute_start_delay():
    late = schedule(executions=[run(at(9))])
    assert expected_next_run(late, at(10, 5)) == at(10)
    assert expected_next_run(late, at(10, 25)) == at(11)  # 10:00 passed its start delay: a missed slot


def test_a_new_schedule_first_runs_at_the_next_slot_after_its_creation():
    new = schedule(created=at(10, 3), executions=[])
    assert expected_next_run(new, at(10, 5)) == at(11)
    daily = schedule(created=at(10, 3), executions=[], expression="cron(0 0/6 ? * * *)")
    assert expected_next_run(daily, at(10, 5)) == at(12)


def test_no_next_run_for_one_time_failed_and_stopped_schedules():
    assert expected_next_run(schedule(expression="NOW"), NOW) is None
    assert expected_next_run(schedule(status="Failed"), NOW) is None
    assert expected_next_run(schedule(status="Stopped"), NOW) is None


def test_a_missed_slot_counts_only_after_the_start_delay_and_a_grace_of_10_minutes():
    last_nine = schedule(executions=[run(at(9))])
    assert missed_slot(last_nine, at(10, 29)) is None
    assert missed_slot(last_nine, at(10, 31)) == at(10)
    assert missed_slot(schedule(created=at(8, 30), executions=[]), NOW) == at(9)
    assert missed_slot(schedule(), NOW) is None


def test_analysis_window_default_is_the_period_before_the_scheduled_time():
    assert analysis_window(schedule(), run(at(10))) == (at(9), at(10))
    daily = schedule(expression="cron(0 5 ? * * *)")
    assert analysis_window(daily, run(at(5))) == (at(5, day=23), at(5))


def test_analysis_window_with_offsets():
    offsets = schedule(window_start="-PT3H", window_end="-PT1H")
    assert analysis_window(offsets, run(at(10))) == (at(7), at(9))
    one_time = schedule(expression="NOW", window_start="-PT1H", window_end="-PT0H")
    assert analysis_window(one_time, run(at(10, 25))) == (at(9, 25), at(10, 25))


def test_the_inputs_own_offsets_choose_the_window_of_model_quality_and_bias():
    quality = schedule(monitoring_type="ModelQuality", window_start="-PT1H", window_end="-PT0H",
                       job_definition=definition(start_offset="-P8D", end_offset="-P1D"))
    assert analysis_window(quality, run(at(10))) == (at(10, day=16), at(10, day=23))


def test_files_between_counts_the_hour_folders_overlapping_the_window():
    listed = [capture({10: 3, 9: 4, 8: 2}, hours=6)]
    assert files_between(listed, at(9), at(10)) == 4
    assert files_between(listed, at(8, 30), at(10, 25)) == 2 + 4 + 3
    assert files_between(listed, at(2), at(4)) is None  # older than the listing
    assert files_between([CaptureFacts("AllTraffic", PREFIX, [], error="AccessDenied")], at(9), at(10)) is None


@pytest.mark.parametrize("status, reason, kind", [
    ("Failed", "AlgorithmError: Job inputs had no data", "no-data"),
    ("Failed", "ClientError: No S3 objects found under S3 URL \"s3://b/datacapture//churn-dev/AllTraffic/2026/11/24/09\"", "no-data"),
    ("Failed", "ClientError: Access Denied for s3://b/datacapture (s3:ListBucket)", "access"),
    ("Failed", "AccessDenied: User is not authorized to perform kms:Decrypt", "access"),
    ("Stopped", "Job exceeded MaxRuntimeInSeconds", "runtime"),
    ("Stopped", None, "runtime"),
    ("Failed", "AlgorithmError: See job logs for more information", "other"),
    ("Failed", None, "other"),
])
def test_failure_reasons_are_classified(status, reason, kind):
    assert rules.failure_kind(status, reason) == kind


# ------------------------------------------------------------------ environment rules


def test_healthy_environment_has_no_finding():
    assert rules.explain(facts()) == []


def test_endpoint_missing_when_its_stack_is_not_deployed():
    finding = rules.endpoint_missing(facts(endpoint=endpoint(found=False, name_source="derived", status=None)))
    assert finding.rule == "endpoint-missing" and finding.severity == "error"
    assert finding.problem == ("endpoint churn-dev not found: the SSM parameter endpoint-name is missing, so the endpoint "
                               "stack is not deployed")
    assert finding.fix == "Deploy it: `make deploy ENV=dev` (the endpoint stack), then send it traffic."
    assert rules.endpoint_missing(facts()) is None


@pytest.mark.parametrize("status, severity", [("Failed", "error"), ("OutOfService", "error"), ("Updating", "warning"),
                                              ("Creating", "warning")])
def test_endpoint_not_in_service(status, severity):
    finding = rules.endpoint_not_in_service(facts(endpoint=endpoint(status=status, failure_reason="image not found")))
    assert (finding.rule, finding.severity) == ("endpoint-not-in-service", severity)
    assert finding.problem == f"endpoint churn-dev is {status} (image not found), not InService"
    assert rules.endpoint_not_in_service(facts()) is None


@pytest.mark.parametrize("changes, state", [
    ({"capture_enabled": False}, "EnableCapture is false in its endpoint config"),
    ({"sampling_percentage": 0}, "InitialSamplingPercentage is 0"),
    ({"capture_status": "Stopped"}, "CaptureStatus is Stopped"),
    ({"capture_enabled": None}, "its endpoint config churn-dev-EndpointConfig-1a2b3c has no DataCaptureConfig"),
])
def test_capture_disabled_or_sampling_zero(changes, state):
    finding = rules.capture_disabled(facts(endpoint=endpoint(**changes)))
    assert (finding.rule, finding.severity) == ("capture-disabled", "error")
    assert finding.problem == f"Data Capture of endpoint churn-dev records nothing: {state}"
    assert rules.capture_disabled(facts()) is None


def test_a_deleted_endpoint_config_is_not_mistaken_for_capture_off():
    # the endpoint keeps running with a deleted config; what it reports is all there is
    assert rules.capture_disabled(facts(endpoint=endpoint(config_found=False, capture_enabled=None))) is None


def test_trailing_slash_in_the_live_capture_destination():
    finding = rules.capture_trailing_slash(facts(endpoint=endpoint(destination="s3://churn-dev-bucket-1x2y3z/datacapture/")))
    assert (finding.rule, finding.severity) == ("capture-trailing-slash", "error")
    assert finding.problem == "the capture destination s3://churn-dev-bucket-1x2y3z/datacapture/ ends with '/'"
    assert "s3://churn-dev-bucket-1x2y3z/datacapture//churn-dev/ (a '//' key)" in finding.why
    assert rules.capture_trailing_slash(facts()) is None


def test_no_recent_capture_files():
    finding = rules.no_recent_capture(facts(captures=[capture({})]))
    assert (finding.rule, finding.severity) == ("no-recent-capture", "warning")
    assert finding.problem == f"no Data Capture files in the last 24 h under {PREFIX}"
    assert rules.no_recent_capture(facts()) is None
    # capture switched off is explained by capture-disabled instead
    assert rules.no_recent_capture(facts(captures=[capture({})], endpoint=endpoint(capture_enabled=False))) is None


def test_no_schedules_at_all():
    finding = rules.no_schedules(facts(schedules=[]))
    assert (finding.rule, finding.severity) == ("no-schedules", "warning")
    assert finding.problem == "no monitoring schedule for endpoint churn-dev or named churn-dev-…"
    assert rules.no_schedules(facts()) is None


# ------------------------------------------------------------------ schedule rules


def test_schedule_failed_because_of_the_documentation_label():
    failed = schedule(status="Failed", expression="Hourly: cron(0 * ? * * *)", failure_reason="Internal error", executions=[])
    finding = rules.schedule_failed(failed, facts([failed]))
    assert (finding.rule, finding.severity) == ("schedule-failed", "error")
    assert finding.problem == "schedule churn-dev-data-quality is Failed: Internal error"
    assert finding.why.startswith("Its ScheduleExpression is 'Hourly: cron(0 * ? * * *)': the 'Hourly:' style label")
    assert finding.fix == ("Use only cron(0 * ? * * *); in params write `schedule: hourly` (or the bare cron) and run "
                           "`make deploy ENV=dev`.")


def test_schedule_failed_for_another_reason_keeps_aws_words():
    failed = schedule(status="Failed", failure_reason="Endpoint churn-dev does not exist", executions=[])
    finding = rules.schedule_failed(failed, facts([failed]))
    assert finding.problem == "schedule churn-dev-data-quality is Failed: Endpoint churn-dev does not exist"
    assert finding.why.startswith("SageMaker could not set the schedule up")
    assert rules.schedule_failed(schedule(), facts()) is None


def test_schedule_stopped():
    stopped = schedule(status="Stopped")
    finding = rules.schedule_stopped(stopped, facts([stopped]))
    assert (finding.rule, finding.severity) == ("schedule-stopped", "warning")
    assert finding.fix == ("Start it again: aws sagemaker start-monitoring-schedule --monitoring-schedule-name "
                           "churn-dev-data-quality --region eu-west-1")
    assert rules.schedule_stopped(schedule(), facts()) is None


def test_job_definition_missing():
    orphan = schedule(job_definition=JobDefinitionFacts(name="churn-dev-dq-0000aa", found=False))
    finding = rules.job_definition_missing(orphan, facts([orphan]))
    assert (finding.rule, finding.severity) == ("job-definition-missing", "error")
    assert finding.problem == "schedule churn-dev-data-quality runs job definition churn-dev-dq-0000aa, which does not exist"
    assert rules.job_definition_missing(schedule(), facts()) is None


def test_no_executions_yet_right_after_create_says_when_the_first_one_comes():
    new = schedule(created=at(10, 3), executions=[])
    finding = rules.no_executions_yet(new, facts([new]))
    assert (finding.rule, finding.severity) == ("no-executions-yet", "info")
    assert finding.problem == "schedule churn-dev-data-quality has no executions yet"
    assert finding.fix == ("Expect the first execution at 2026-11-24 11:00 UTC (+0-20 min); for a result now run "
                           "`make run-now ENV=dev`.")
    assert rules.no_executions_yet(schedule(), facts()) is None


def test_a_new_schedule_that_missed_its_first_slot_is_overdue_not_just_new():
    stale = schedule(created=at(8, 30), executions=[])
    assert rules.no_executions_yet(stale, facts([stale])) is None
    finding = rules.run_overdue(stale, facts([stale]))
    assert (finding.rule, finding.severity) == ("run-overdue", "warning")
    assert finding.problem == ("schedule churn-dev-data-quality should have started the run of 2026-11-24 09:00 UTC by "
                               "2026-11-24 09:20 UTC; it has no executions at all")


def test_run_overdue_after_the_last_execution():
    late = schedule(executions=[run(at(8)), run(at(7))])
    finding = rules.run_overdue(late, facts([late]))
    assert finding.problem == ("schedule churn-dev-data-quality should have started the run of 2026-11-24 09:00 UTC by "
                               "2026-11-24 09:20 UTC; its last execution was scheduled at 2026-11-24 08:00 UTC")
    assert rules.run_overdue(schedule(), facts()) is None


def test_no_data_in_the_analysed_hour_with_the_files_listed_for_it():
    failed = schedule(executions=[run(at(10), "Failed", "AlgorithmError: Job inputs had no data"), run(at(9))])
    finding = rules.no_data_in_window(failed, facts([failed], captures=[capture({10: 3, 8: 2})]))
    assert (finding.rule, finding.severity) == ("no-data-in-window", "error")
    assert finding.problem == ("the run of 2026-11-24 10:00 UTC failed with no input data (AlgorithmError: Job inputs had "
                               "no data); it analysed 2026-11-24 09:00 UTC to 2026-11-24 10:00 UTC: 0 file(s) listed now")
    assert finding.why.startswith("No capture files existed in the hours it analysed")


def test_no_data_with_a_double_slash_url_points_at_the_trailing_slash():
    reason = 'ClientError: No S3 objects found under S3 URL "s3://b/datacapture//churn-dev/AllTraffic/2026/11/24/09"'
    failed = schedule(executions=[run(at(10), "Failed", reason)])
    finding = rules.no_data_in_window(failed, facts([failed]))
    assert finding.why == ("The URL in the reason contains '//': the capture destination ends with a slash, so the files "
                           "are elsewhere (see capture-trailing-slash).")


def test_an_old_no_data_failure_is_history_when_the_newest_run_completed():
    recovered = schedule(executions=[run(at(10)), run(at(9), "Failed", "Job inputs had no data")])
    assert rules.no_data_in_window(recovered, facts([recovered])) is None


def test_role_permission_errors():
    denied = schedule(executions=[run(at(10), "Failed", "ClientError: Access Denied (s3:ListBucket on datacapture/)")])
    finding = rules.access_denied(denied, facts([denied]))
    assert (finding.rule, finding.severity) == ("access-denied", "error")
    assert finding.why.startswith(f"The job runs as {ROLE}, which needs s3:ListBucket")
    assert rules.access_denied(schedule(), facts()) is None


QUOTA_REASON = ("ResourceLimitExceeded: The account-level service limit 'ml.m5.xlarge for processing job usage' is 0 "
                "Instances, with current utilization of 0 Instances and a request delta of 1 Instances. Please use AWS "
                "Service Quotas to request an increase for this quota.")
OOM_REASON = "AlgorithmError: See job logs for more information"
OOM_LOG = ["2026-11-24 10:07:12 ERROR Main: java.lang.OutOfMemoryError: Java heap space",
           "2026-11-24 10:07:12 INFO  Main: Completed: Job failed"]


def test_a_processing_quota_of_zero_names_the_quota_and_the_command_to_raise_it():
    failed = schedule(monitoring_type="ModelQuality", executions=[run(at(10), "Failed", QUOTA_REASON, job=None)])
    finding = rules.processing_quota(failed, facts([failed]))
    assert (finding.rule, finding.severity) == ("processing-quota", "error")
    assert finding.problem.startswith("the run of 2026-11-24 10:00 UTC could not start its processing job: the account's "
                                      "Service Quotas limit 'ml.m5.xlarge for processing job usage' in eu-west-1 is too low")
    assert ("aws service-quotas list-service-quotas --service-code sagemaker --region eu-west-1 --query "
            "\"Quotas[?QuotaName=='ml.m5.xlarge for processing job usage'].QuotaCode\"") in finding.fix
    assert ("aws service-quotas request-service-quota-increase --service-code sagemaker --quota-code <that code> "
            "--desired-value 1 --region eu-west-1") in finding.fix
    assert "monitoring.model_quality.instance_type" in finding.fix
    assert "pre-processor" not in finding.fix
    assert [f.rule for f in rules.explain(facts([failed])) if f.subject == failed.name] == ["processing-quota"]
    assert rules.processing_quota(schedule(), facts()) is None
    assert rules.failure_kind("Failed", QUOTA_REASON) == "quota"


def test_an_analyzer_out_of_memory_suggests_a_larger_instance_not_the_pre_processor():
    from mmtool.operate.facts import FailureDetails

    failed = schedule(executions=[run(at(10), "Failed", OOM_REASON)])
    failed = replace(failed, failure=FailureDetails(at(10), "Failed", "job-1", OOM_REASON, None, OOM_LOG))
    finding = rules.out_of_memory(failed, facts([failed]))
    assert (finding.rule, finding.severity) == ("out-of-memory", "error")
    assert finding.problem == ("the run of 2026-11-24 10:00 UTC ran out of memory: 2026-11-24 10:07:12 ERROR Main: "
                               "java.lang.OutOfMemoryError: Java heap space")
    assert finding.fix.startswith("Set monitoring.data_quality.instance_type to a larger instance type with more memory")
    assert [f.rule for f in rules.explain(facts([failed])) if f.subject == failed.name] == ["out-of-memory"]
    # the same reason without the log lines is not taken for it: the generic rule speaks
    plain = schedule(executions=[run(at(10), "Failed", OOM_REASON)])
    assert rules.out_of_memory(plain, facts([plain])) is None
    assert rules.execution_failed(plain, facts([plain])) is not None
    # a log of another execution than the newest failed one does not count
    other = replace(failed, failure=FailureDetails(at(9), "Failed", "job-0", OOM_REASON, None, OOM_LOG))
    assert rules.out_of_memory(other, facts([other])) is None


@pytest.mark.parametrize("reason, exit_message", [
    ("AlgorithmError: exit code 137", None),
    ("ClientError: Please ensure the instance has enough memory: Cannot allocate memory", None),
    ("AlgorithmError: See job logs for more information", "MemoryError: Unable to allocate 3.2 GiB for an array"),
    ("InternalServerError: the container exited with code 137 (OOMKilled)", None),
])
def test_out_of_memory_patterns(reason, exit_message):
    assert rules.failure_kind("Failed", reason, exit_message) == "memory"


def test_max_runtime_exceeded_with_and_without_a_reason():
    stopped = schedule(executions=[run(at(10), "Stopped", "Job exceeded MaxRuntimeInSeconds of 1800")])
    finding = rules.max_runtime_exceeded(stopped, facts([stopped]))
    assert (finding.rule, finding.severity) == ("max-runtime-exceeded", "error")
    assert finding.problem == ("the run of 2026-11-24 10:00 UTC hit its maximum runtime (MaxRuntimeInSeconds 1800): "
                               "Job exceeded MaxRuntimeInSeconds of 1800")
    silent = schedule(executions=[run(at(10), "Stopped")])
    assert rules.max_runtime_exceeded(silent, facts([silent])).problem == (
        "the run of 2026-11-24 10:00 UTC was Stopped without a reason; unless someone stopped it, it reached "
        "MaxRuntimeInSeconds 1800")
    assert rules.max_runtime_exceeded(schedule(), facts()) is None


def test_other_failures_are_reported_with_their_reason_and_only_once():
    odd = schedule(executions=[run(at(10), "Failed", "AlgorithmError: See job logs for more information")])
    found = rules.explain(facts([odd]))
    assert [f.rule for f in found] == ["execution-failed"]
    assert found[0].problem == ("the run of 2026-11-24 10:00 UTC failed: AlgorithmError: See job logs for more "
                                "information")


def test_an_execution_still_running_does_not_hide_the_last_finished_one():
    running = schedule(executions=[run(at(10), "InProgress"), run(at(9), "Failed", "Job inputs had no data")])
    assert rules.no_data_in_window(running, facts([running])) is not None


def test_violations_name_the_features():
    flagged = schedule(executions=[run(at(10), "CompletedWithViolations")], violations=ViolationsFacts(
        at(10), "s3://b/reports/x/constraint_violations.json", 3,
        [Violation("_c2", "baseline_drift_check", "d"), Violation("_c0", "data_type_check", "t"),
         Violation("_c2", "completeness_check", "c")]))
    finding = rules.violations(flagged, facts([flagged]))
    assert (finding.rule, finding.severity) == ("violations", "warning")
    assert finding.problem == "the run of 2026-11-24 10:00 UTC found 3 violation(s) (_c0, _c2)"
    assert rules.violations(schedule(), facts()) is None


def test_missing_publish_cloudwatch_metrics():
    bare = schedule(job_definition=definition(environment=None))
    finding = rules.metrics_not_published(bare, facts([bare]))
    assert (finding.rule, finding.severity) == ("metrics-not-published", "warning")
    assert finding.problem == "job definition churn-dev-dq-4f9a1c has no publish_cloudwatch_metrics in its Environment"
    disabled = schedule(job_definition=definition(environment={"publish_cloudwatch_metrics": "Disabled"}))
    assert rules.metrics_not_published(disabled, facts([disabled])).severity == "info"
    assert rules.metrics_not_published(schedule(), facts()) is None
    # bias and explainability definitions are not checked (hashicorp/terraform-provider-aws#36047 is about data/model quality metrics)
    bias = schedule(monitoring_type="ModelBias", job_definition=definition(environment=None))
    assert rules.metrics_not_published(bias, facts([bias])) is None


def test_runtime_longer_than_the_period_or_half_an_hour_for_hourly_model_quality():
    quality = schedule(monitoring_type="ModelQuality", job_definition=definition(max_runtime_seconds=3600))
    finding = rules.runtime_over_period(quality, facts([quality]))
    assert (finding.rule, finding.severity) == ("runtime-over-period", "warning")
    assert finding.problem == ("MaxRuntimeInSeconds 3600 of churn-dev-dq-4f9a1c is longer than 1800 s allowed for a 1 h "
                               "schedule")
    assert rules.runtime_over_period(schedule(job_definition=definition(max_runtime_seconds=3600)), facts()) is None
    every_two = schedule(expression="cron(0 0/2 ? * * *)", job_definition=definition(max_runtime_seconds=9000))
    assert rules.runtime_over_period(every_two, facts([every_two])).problem == (
        "MaxRuntimeInSeconds 9000 of churn-dev-dq-4f9a1c is longer than 2 h allowed for a 2 h schedule")


def test_a_one_time_schedule_left_by_run_now():
    left = schedule(name="churn-dev-data-quality-now-20261124100000", expression="NOW", window_start="-PT1H",
                    window_end="-PT0H", executions=[run(at(10))])
    finding = rules.leftover_one_time_schedule(left, facts([left]))
    assert (finding.rule, finding.severity) == ("leftover-one-time-schedule", "info")
    assert finding.fix == ("Delete it: aws sagemaker delete-monitoring-schedule --monitoring-schedule-name "
                           "churn-dev-data-quality-now-20261124100000 --region eu-west-1")
    assert rules.leftover_one_time_schedule(schedule(), facts()) is None


def test_run_now_check_needs_a_file_written_inside_the_window():
    window = (at(9, 25), at(10, 25))
    assert rules.no_capture_for_run(facts(captures=[capture({10: 1})]), *window) is None
    assert rules.no_capture_for_run(facts(captures=[capture({9: 1})]), *window) is None  # written 09:58
    finding = rules.no_capture_for_run(facts(captures=[capture({7: 5})]), *window)
    assert (finding.rule, finding.severity) == ("no-data-in-window", "error")
    assert finding.problem == (f"no Data Capture file written between 2026-11-24 09:25 UTC and 2026-11-24 10:25 UTC under "
                               f"{PREFIX}; the newest hour folder with files is 2026/11/24/07")
    early = CaptureFacts("AllTraffic", PREFIX, [CaptureHour(at(10), 0), CaptureHour(at(9), 2, at(9, 10))])
    assert rules.no_capture_for_run(facts(captures=[early]), *window) is not None  # 09:10 is before the window


def test_findings_are_sorted_errors_first():
    broken = schedule(job_definition=definition(environment=None),
                      executions=[run(at(10), "Failed", "Job inputs had no data")])
    found = rules.explain(facts([broken], endpoint=endpoint(destination="s3://b/datacapture/")))
    assert [(f.severity, f.rule) for f in found] == [
        ("error", "capture-trailing-slash"), ("error", "no-data-in-window"), ("warning", "metrics-not-published")]


# ------------------------------------------------------------------ the commands a fix names


def failing_findings(environment_facts: Facts) -> list[rules.Finding]:
    """One finding of every rule whose fix names a `make` command, each made to fire by hand-built facts."""
    f = environment_facts

    def with_schedule(s: ScheduleFacts) -> Facts:
        return replace(f, schedules=[s])

    def schedule_finding(rule, s: ScheduleFacts) -> rules.Finding:
        return rule(s, with_schedule(s))

    found = [
        rules.endpoint_missing(replace(f, endpoint=endpoint(found=False, name_source="derived", status=None))),
        rules.endpoint_not_in_service(replace(f, endpoint=endpoint(status="Failed"))),
        rules.capture_disabled(replace(f, endpoint=endpoint(capture_enabled=False))),
        rules.capture_trailing_slash(replace(f, endpoint=endpoint(destination="s3://b/datacapture/"))),
        rules.no_recent_capture(replace(f, captures=[capture({})])),
        rules.no_schedules(replace(f, schedules=[])),
        schedule_finding(rules.schedule_failed, schedule(status="Failed", expression="Hourly: cron(0 * ? * * *)")),
        schedule_finding(rules.schedule_failed, schedule(status="Failed", expression="rate(1 hour)")),
        schedule_finding(rules.schedule_failed, schedule(status="Failed", failure_reason="gone")),
        schedule_finding(rules.job_definition_missing,
                         schedule(job_definition=JobDefinitionFacts(name="churn-dev-dq-0000aa", found=False))),
        schedule_finding(rules.no_executions_yet, schedule(created=at(10, 3), executions=[])),
        schedule_finding(rules.no_data_in_window, schedule(executions=[run(at(10), "Failed", "Job inputs had no data")])),
        schedule_finding(rules.access_denied, schedule(executions=[run(at(10), "Failed", "Access Denied")])),
        schedule_finding(rules.processing_quota, schedule(executions=[run(at(10), "Failed", QUOTA_REASON)])),
        schedule_finding(rules.out_of_memory, schedule(executions=[run(at(10), "Failed", "AlgorithmError: exit code 137")])),
        schedule_finding(rules.max_runtime_exceeded, schedule(executions=[run(at(10), "Stopped")])),
        schedule_finding(rules.execution_failed, schedule(executions=[run(at(10), "Failed", "AlgorithmError: x")])),
        schedule_finding(rules.violations, schedule(executions=[run(at(10), "CompletedWithViolations")])),
        schedule_finding(rules.metrics_not_published, schedule(job_definition=definition(environment=None))),
        schedule_finding(rules.metrics_not_published,
                         schedule(job_definition=definition(environment={"publish_cloudwatch_metrics": "Disabled"}))),
        schedule_finding(rules.runtime_over_period, schedule(job_definition=definition(max_runtime_seconds=9000))),
    ]
    assert all(found)
    return found


COMMAND = re.compile(r"make (deploy|run-now|baseline|dry-run|status) ENV=dev( ENDPOINT=\S+?)?(?=[`\s])")


def test_every_fix_of_a_fleet_endpoint_names_its_endpoint_and_the_single_form_names_none():
    single = failing_findings(facts())
    fleet = failing_findings(replace(facts(), key="churn", scope="churn-dev-churn"))
    single_commands = [COMMAND.findall(f.fix) for f in single]
    fleet_commands = [COMMAND.findall(f.fix) for f in fleet]
    assert all(single_commands) and all(fleet_commands)  # every one of these fixes names a command
    assert {verb for found in single_commands for verb, _ in found} == {"deploy", "run-now", "baseline", "dry-run",
                                                                        "status"}
    assert all(endpoint == "" for found in single_commands for _, endpoint in found)
    assert fleet_commands == [[(verb, " ENDPOINT=churn") for verb, _ in found] for found in single_commands]
    # the whole text is otherwise the same: only the commands and the params fields changed (the fleet's
    # fields are spelt as its file spells them)
    def unfleet(text: str) -> str:
        return text.replace(" ENDPOINT=churn", "").replace("endpoints.churn.create.", "endpoint.") \
            .replace("endpoints.churn.monitoring.", "monitoring.")

    assert [unfleet(f.fix) for f in fleet] == [f.fix for f in single]
    single_spelling = re.compile(r"(?<![\w.])(?:monitoring|endpoint)\.(?=[a-z<*])")  # not after "endpoints.churn."
    assert [f.fix for f in fleet if single_spelling.search(f.fix)] == []
    assert any(single_spelling.search(f.fix) for f in single)
    assert any("endpoints.churn.monitoring.<monitor>.schedule" in f.fix for f in fleet)
    assert any("endpoints.churn.create.data_capture.sampling_percentage" in f.fix for f in fleet)


def test_a_fleet_endpoints_fix_is_a_command_to_paste():
    fleet = replace(facts(), key="upsell", scope="churn-dev-upsell")
    failed = schedule(executions=[run(at(10), "Failed", "AlgorithmError: x")])
    assert rules.execution_failed(failed, replace(fleet, schedules=[failed])).fix == (
        "Read the log lines below; check the pre-processor against captured data with "
        "`make dry-run ENV=dev ENDPOINT=upsell CAPTURE=s3://…`.")
    stopped = schedule(executions=[run(at(10), "Stopped")])
    assert rules.max_runtime_exceeded(stopped, replace(fleet, schedules=[stopped])).fix.endswith(
        "or sample less traffic; then `make deploy ENV=dev ENDPOINT=upsell`.")
    assert rules.max_runtime_exceeded(stopped, facts([stopped])).fix.endswith(
        "or sample less traffic; then `make deploy ENV=dev`.")
