"""The lint cache (mmtool.generate.lint.LintCache): a rebuild after a one-value edit asks cfn-lint only for what
that edit can change, and never skips what it can change. Real cfn-lint, in this process; a recording linter
shows what it was asked to lint."""

from __future__ import annotations

import json
from pathlib import Path

from mmtool.generate.lint import Linter, LintJob, lint
from tests.generate.test_parameter_sets import TEMPLATE


def job(values: dict[str, str], name: str = "a.json", template: dict = TEMPLATE) -> LintJob:
    entries = [{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()]
    return LintJob(Path("t.template.json"), json.dumps(template, indent=1).encode(), Path(name),
                   json.dumps(entries, indent=4).encode(), "eu-west-1")


class Recording(Linter):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[dict] = []

    def run(self, payloads):
        self.seen.extend(payloads)
        return super().run(payloads)


def asked(jobs: list[LintJob], cache: Path) -> tuple[list, list[str]]:
    """(findings, what cfn-lint was asked: 'standalone' or the sources of the parameter-file pass)."""
    linter = Recording()
    findings = lint(jobs, cache_dir=cache, linter=linter)
    return findings, sorted("standalone" if not p["parameter_sets"] else
                            ",".join(s["source"] for s in p["parameter_sets"]) for p in linter.seen)


BASE = {"Mode": "a", "Name": "churn-dev", "Count": "5", "Size": "small"}


def test_a_value_edit_within_its_class_and_no_longer_lints_nothing(tmp_path):
    assert asked([job(BASE)], tmp_path) == ([], ["a.json", "standalone"])
    assert asked([job(BASE)], tmp_path) == ([], [])  # unchanged
    # Name and Count are constrained (pattern, range): same class; no value longer than one linted clean
    assert asked([job(dict(BASE, Name="churn-stg", Count="7"))], tmp_path) == ([], [])


def test_a_longer_value_is_linted_again_but_not_the_standalone_pass(tmp_path):
    asked([job(BASE)], tmp_path)
    assert asked([job(dict(BASE, Name="churn-devel"))], tmp_path) == ([], ["a.json"])


def test_a_value_that_changes_the_class_is_linted(tmp_path):
    asked([job(BASE)], tmp_path)
    # Size has AllowedValues and Mode turns a Condition: each is part of the class
    assert asked([job(dict(BASE, Size="large"))], tmp_path) == ([], ["a.json"])
    findings, seen = asked([job(dict(BASE, Mode="b"))], tmp_path)
    assert seen == ["a.json"] and [f.rule for f in findings] == ["W1031"]  # the Vpc's CIDR "b.0.0.0/16"


def test_findings_are_never_cached(tmp_path):
    asked([job(BASE)], tmp_path)
    bad = job(dict(BASE, Mode="b"))
    for _ in range(2):
        findings, seen = asked([bad], tmp_path)
        assert [f.rule for f in findings] == ["W1031"] and seen == ["a.json"]


def test_a_changed_template_is_linted_in_both_passes(tmp_path):
    asked([job(BASE)], tmp_path)
    changed = json.loads(json.dumps(TEMPLATE))
    changed["Resources"]["Topic"]["Properties"]["DisplayName"] = "changed"
    assert asked([job(BASE, template=changed)], tmp_path) == ([], ["a.json", "standalone"])


def test_value_checks_run_even_when_cfn_lint_is_skipped(tmp_path):
    asked([job(BASE)], tmp_path)
    findings, seen = asked([job(dict(BASE, Count="0"))], tmp_path)  # below MinValue: same class, same length
    assert seen == [] and [f.message.split(" (")[0] for f in findings] == ["Count='0' is below the MinValue 1"]


def test_a_file_added_to_a_linted_class_is_covered_when_no_value_is_longer(tmp_path):
    asked([job(BASE, "a.json")], tmp_path)
    assert asked([job(BASE, "a.json"), job(dict(BASE, Name="upsell"), "b.json")], tmp_path) == ([], [])
    assert asked([job(BASE, "a.json"), job(dict(BASE, Name="upsell-stage"), "b.json")], tmp_path) == (
        [], ["b.json"])


# An alarm whose period is a number cfn-lint checks only as a number, and whose threshold is also part of a string.
ALARM = {
    "Parameters": {
        "Period": {"Type": "Number", "MinValue": 60, "MaxValue": 86400, "Default": "3600"},
        "Threshold": {"Type": "Number", "MinValue": 0, "Default": "0.1"},
    },
    "Resources": {
        "Alarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {
            "AlarmDescription": {"Fn::Sub": "drift above ${Threshold}"},
            "ComparisonOperator": "GreaterThanThreshold", "EvaluationPeriods": 1, "MetricName": "drift",
            "Namespace": "Example", "Period": {"Ref": "Period"}, "Statistic": "Maximum",
            "Threshold": {"Ref": "Threshold"}}},
    },
}


def test_a_longer_number_checked_only_as_a_number_is_not_linted_again(tmp_path):
    base = {"Period": "3600", "Threshold": "0.15"}
    assert asked([job(base, template=ALARM)], tmp_path) == ([], ["a.json", "standalone"])
    assert asked([job(dict(base, Period="86400"), template=ALARM)], tmp_path) == ([], [])  # hourly -> daily
    # the threshold is part of the alarm's description too: a longer one is linted, one as long is not
    assert asked([job(dict(base, Threshold="0.25"), template=ALARM)], tmp_path) == ([], [])
    assert asked([job(dict(base, Threshold="0.155"), template=ALARM)], tmp_path) == ([], ["a.json"])


def test_length_blind_only_for_numbers_fed_whole_into_numeric_properties():
    from mmtool.generate.parameter_sets import length_blind

    assert length_blind(ALARM, "eu-west-1") == {"Period"}
    def variant(period_use, kind="Number", **extra):
        template = json.loads(json.dumps(ALARM))
        template["Parameters"]["Period"]["Type"] = kind
        template["Resources"]["Alarm"]["Properties"]["Period"] = period_use
        template.update(extra)
        return "Period" in length_blind(template, "eu-west-1")

    assert variant({"Fn::If": ["IsOn", {"Ref": "Period"}, 60]})  # either branch is the property's value
    assert not variant({"Ref": "Period"}, kind="String")
    assert not variant({"Fn::Sub": ["${P}", {"P": {"Ref": "Period"}}]})  # part of a string
    assert not variant({"Fn::Select": [0, [{"Ref": "Period"}]]})  # inside another function
    assert not variant({"Ref": "Period"}, Outputs={"P": {"Value": {"Ref": "Period"}}})  # an Output is a string
    assert not variant({"Ref": "Period"}, Outputs={"P": {"Value": {"Fn::Sub": "${Period}s"}}})
    # a string property: the alarm's name (its length is limited)
    template = json.loads(json.dumps(ALARM))
    template["Resources"]["Alarm"]["Properties"]["AlarmName"] = {"Ref": "Period"}
    assert length_blind(template, "eu-west-1") == set()
    # nested properties are followed through the schema: a processing job's volume size is a number
    job_definition = {"Parameters": {"Size": {"Type": "Number", "MinValue": 1, "MaxValue": 16384}},
                      "Resources": {"Job": {"Type": "AWS::SageMaker::DataQualityJobDefinition", "Properties": {
                          "JobResources": {"ClusterConfig": {"VolumeSizeInGB": {"Ref": "Size"}}}}}}}
    assert length_blind(job_definition, "eu-west-1") == {"Size"}
    job_definition["Resources"]["Job"]["Properties"]["JobResources"]["ClusterConfig"]["Unknown"] = {"Ref": "Size"}
    assert length_blind(job_definition, "eu-west-1") == set()
