"""The memoizations of mmtool.generate.lint_speedups change no finding: templates with findings (Conditions that
turn resources on, values resolved from parameter sets into Fn::Sub and properties, two regions, and PLANTED's
findings of every kind the speedups touch) are linted by the real cfn-lint with and without them, and every
finding must be the same."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from mmtool.generate import lint_speedups
from mmtool.generate.lint import LintJob, _Engine, _parameter_values, _payload, _standalone_payload
from mmtool.generate.synth import synthesize
from mmtool.config.loader import params_from_data
from tests.generate.test_parameter_sets import TEMPLATE
from tests.conftest import REPO


def staging_monitoring_jobs() -> list[LintJob]:
    """staging's monitoring template with its three parameter files, and two copies of churn's with values
    cfn-lint finds invalid where they are resolved into properties (a count of 0, a 300-character tag)."""
    data = yaml.safe_load((REPO / "params" / "staging.yaml").read_text())
    synthesis = synthesize(params_from_data(data, "params/staging.yaml", {}, "staging", REPO), REPO)
    files = synthesis.files()
    stacks = [s for s in synthesis.stacks if s.template_file == "monitoring.template.json"]
    jobs = [LintJob(Path(s.template_file), files[s.template_file], Path(s.parameters_file),
                    files[s.parameters_file], "eu-west-1") for s in stacks]
    churn = json.loads(files[stacks[0].parameters_file])
    for name, changes in {"bad-count.json": {"DataQualityInstanceCount": "0", "ModelBiasEnabled": "false"},
                          "bad-tag.json": {"TagOwner": "x" * 300, "DataQualityVolumeSizeGb": "0"}}.items():
        entries = [dict(e, ParameterValue=changes.get(e["ParameterKey"], e["ParameterValue"])) for e in churn]
        jobs.append(LintJob(jobs[0].template_path, jobs[0].template, Path(name), json.dumps(entries).encode(),
                            "eu-west-1"))
    return jobs


def small_jobs() -> list[LintJob]:
    template = json.dumps(TEMPLATE).encode()
    return [LintJob(Path("t.json"), template, Path(f"{mode}.json"),
                    json.dumps([{"ParameterKey": "Mode", "ParameterValue": mode},
                                {"ParameterKey": "Name", "ParameterValue": "n"}]).encode(), "eu-west-1")
            for mode in "abc"]


# Findings of most kinds the speedups touch, each planted on purpose: Fn::Sub references to nothing (E1019, E6101),
# Fn::If branches that their resource's or Output's Condition makes unreachable (W1028), a Condition on the region,
# a bad enum value (E3030), values out of range in Fn::If branches (E3034), and, from the bad parameter file, a
# value outside AllowedValues (E2900) and values resolved by Ref into properties out of range or enum (W1030).
PLANTED = {
    "Parameters": {
        "Env": {"Type": "String", "AllowedValues": ["dev", "prod"], "Default": "dev"},
        "Name": {"Type": "String", "AllowedPattern": "^[a-z-]+$", "Default": "name"},
        "Delay": {"Type": "Number", "Default": "5"},
        "Retention": {"Type": "Number", "Default": "7"},
        "Storage": {"Type": "String", "Default": "STANDARD"},
    },
    "Conditions": {
        "IsDev": {"Fn::Equals": [{"Ref": "Env"}, "dev"]},
        "IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
        "IsEu": {"Fn::Equals": [{"Ref": "AWS::Region"}, "eu-west-1"]},
        "DevInEu": {"Fn::And": [{"Condition": "IsDev"}, {"Condition": "IsEu"}]},
    },
    "Resources": {
        "Bucket": {"Type": "AWS::S3::Bucket", "Condition": "IsProd", "Properties": {
            "BucketName": {"Fn::If": ["IsDev", "dev-bucket", {"Fn::Sub": "${Name}-prod"}]},
            "AccessControl": "Bogus",
            "LifecycleConfiguration": {"Rules": [{"Status": "Enabled", "Transitions": [
                {"StorageClass": {"Ref": "Storage"}, "TransitionInDays": 30}]}]}}},
        "Topic": {"Type": "AWS::SNS::Topic", "Properties": {
            "TopicName": {"Fn::Sub": "${Missing}-${Env}-${AWS::Region}"},
            "DisplayName": {"Fn::Sub": ["${Queue.Nope} ${X}", {"X": {"Ref": "Name"}}]}}},
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {
            "DelaySeconds": {"Ref": "Delay"},
            "QueueName": {"Fn::If": ["DevInEu", {"Fn::Sub": "${Name}-${Env}-${AWS::AccountId}"},
                                     {"Ref": "AWS::NoValue"}]},
            "MessageRetentionPeriod": {"Fn::If": ["IsDev", 30, 2000000]}}},
        "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {
            "RetentionInDays": {"Ref": "Retention"},
            "LogGroupName": {"Fn::Sub": "/x/${Name}/${Env}/${Delay}/${Retention}/${Storage}/${AWS::StackName}"}}},
    },
    "Outputs": {
        "Arn": {"Condition": "IsDev", "Value": {"Fn::If": ["IsProd", {"Fn::GetAtt": ["Bucket", "Arn"]}, "none"]}},
        "Name": {"Value": {"Fn::Sub": "${Topic.TopicName}-${Nothing}"}},
    },
}
PLANTED_RULES = {"E1019", "E6101", "W1028", "E3030", "E3034", "E2900", "W1030"}


def planted_jobs() -> list[LintJob]:
    """PLANTED with a good parameter file and a bad one (a value outside AllowedValues, values out of range)."""
    template = json.dumps(PLANTED, indent=1).encode()
    files = {"good.json": {"Env": "dev", "Name": "abc", "Delay": "5", "Retention": "7", "Storage": "GLACIER"},
             "bad.json": {"Env": "qa", "Name": "Bad Name", "Delay": "5000", "Retention": "8", "Storage": "BOGUS"}}
    return [LintJob(Path("planted.json"), template, Path(name),
                    json.dumps([{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()]).encode(),
                    "eu-west-1")
            for name, values in files.items()]


@pytest.fixture
def without_speedups():
    """Run the test body's first part without the memoizations, then put back what was there."""
    was_installed = bool(lint_speedups._installed)
    engine = _Engine()  # installs them (it is how every build loads cfn-lint)
    assert lint_speedups._installed, "lint_speedups did not install for the pinned cfn-lint"
    yield engine
    if not was_installed and lint_speedups._installed:
        lint_speedups._installed[0]()


@pytest.mark.parametrize("jobs", [small_jobs, planted_jobs, staging_monitoring_jobs])
def test_findings_are_the_same_with_and_without_the_memoizations(without_speedups, jobs):
    engine, group = without_speedups, jobs()
    template = json.loads(group[0].template)
    every_file = dict(_payload(group), parameter_sets=[  # each file, not one per lint class: the bad ones too
        {"source": str(job.parameters_path), "values": _parameter_values(json.loads(job.parameters), template)}
        for job in group])
    payloads = [every_file, _standalone_payload(group)]
    lint_speedups._installed[0]()  # removed: cfn-lint as shipped
    plain = [engine.run(p) for p in payloads]
    lint_speedups.install()
    memoized = [engine.run(p) for p in payloads]
    assert memoized == plain
    assert plain[0], "the negative control found nothing: the comparison would prove nothing"
    if jobs is planted_jobs:  # every planted kind is really found (the standalone pass: in two regions)
        assert {f["rule"] for f in plain[0]} >= PLANTED_RULES, plain[0]
        assert {f["rule"] for f in plain[1]} >= PLANTED_RULES - {"E2900"}, plain[1]


def test_every_real_template_lints_the_same_with_and_without_them(without_speedups, built):
    """The real output (dev's templates, each with its parameter file and alone in two regions: what the build
    lints; the monitoring template is compared above). Both ways find nothing; a shortcut that made cfn-lint
    report something it does not would show here."""
    engine, folder = without_speedups, built.build / "dev"
    payloads = []
    for template in sorted(folder.glob("*.template.json")):
        if template.name == "monitoring.template.json":
            continue
        parameters = folder / template.name.replace(".template.json", ".parameters.json")
        group = [LintJob(template, template.read_bytes(), parameters, parameters.read_bytes(), "eu-west-1")]
        payloads += [_payload(group), _standalone_payload(group)]
    assert len(payloads) >= 10
    lint_speedups._installed[0]()
    plain = [engine.run(p) for p in payloads]
    lint_speedups.install()
    assert [engine.run(p) for p in payloads] == plain == [[]] * len(payloads)


def test_the_remembered_satisfiability_answers_as_sympy_does(without_speedups):
    """The answers' truth and `is False` (all cfn-lint's callers look at) for CNFs without clauses, with a free
    variable, unsatisfiable and satisfiable ones, each asked twice (the second answer is the remembered one)."""
    import cfnlint.context.conditions._conditions as module
    from sympy import Not, Or, Symbol
    from sympy.assumptions.cnf import EncodedCNF
    from sympy.logic.inference import satisfiable

    assert module.satisfiable is not satisfiable, "the memo is not installed"
    a, b = Symbol("a"), Symbol("b")
    cases = [EncodedCNF(), EncodedCNF([], {b: 1})]
    for props in ([a, Not(a)], [Or(a, b), Not(a)], [Or(a, Not(a))], [a], [Or(a, b), Not(a), Not(b)]):
        cnf = EncodedCNF()
        for prop in props:
            cnf.add_prop(prop)
        cases.append(cnf)
    answers = []
    for cnf in cases + cases:
        remembered, sympys = module.satisfiable(cnf.copy()), satisfiable(cnf.copy())
        assert (remembered is False, bool(remembered)) == (sympys is False, bool(sympys)), cnf.data
        answers.append((remembered is False, bool(remembered)))
    assert answers[:7] == [(False, False), (False, True), (True, False), (False, True), (False, True),
                           (False, True), (True, False)]
