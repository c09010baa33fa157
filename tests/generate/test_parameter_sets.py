"""Lint classes and value checks: cfn-lint sees one parameter file per class, every file is checked against
the template's parameter constraints, so a fleet's lint cost follows its stack kinds, not its endpoints."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import yaml

from mmtool.generate import parameter_sets
from mmtool.generate.lint import Linter, LintJob, _parameter_values, lint
from mmtool.generate.synth import synthesize
from mmtool.config.loader import params_from_data
from tests.conftest import REPO


def staging_data() -> dict:
    return yaml.safe_load((REPO / "params" / "staging.yaml").read_text())


def fleet_of(endpoints: dict) -> dict[str, tuple[dict, dict]]:
    """Synthesize staging with ``endpoints``; per stack kind: template, {parameter file: values for cfn-lint}."""
    data = staging_data()
    data["endpoints"] = endpoints
    synthesis = synthesize(params_from_data(data, "params/staging.yaml", {}, "staging", REPO), REPO)
    kinds: dict[str, tuple[dict, dict]] = {}
    for out in synthesis.stacks:
        template, files = kinds.setdefault(out.template_file, (out.template, {}))
        entries = [{"ParameterKey": k, "ParameterValue": v} for k, v in out.parameters.items()]
        files[out.parameters_file] = _parameter_values(entries, template)
    return kinds


def classes(kind: tuple[dict, dict]) -> list[list[str]]:
    template, files = kind
    names = list(files)
    return [[names[i] for i in members] for members in parameter_sets.lint_classes(template, list(files.values()))]


def test_copies_of_one_endpoint_lint_as_one_class_whatever_their_names():
    churn = staging_data()["endpoints"]["churn"]
    kinds = fleet_of({f"model-{i:02d}": copy.deepcopy(churn) for i in range(1, 26)})
    assert [len(c) for c in classes(kinds["monitoring.template.json"])] == [25]
    assert [len(c) for c in classes(kinds["endpoint.template.json"])] == [25]


def test_endpoints_that_build_different_resources_lint_apart():
    """staging's three endpoints run different monitors (the Enabled conditions differ), and a drift alarm on a
    feature is a condition too: each is linted by cfn-lint. A different instance count or schedule is not."""
    data = staging_data()["endpoints"]
    assert sorted(len(c) for c in classes(fleet_of(data)["monitoring.template.json"])) == [1, 1, 1]
    bigger, alarmed = copy.deepcopy(data["upsell"]), copy.deepcopy(data["upsell"])
    bigger["monitoring"]["data_quality"].update(instance_count=4, max_runtime_seconds=900, schedule="daily")
    alarmed["drift_alarms"] = [{"feature": "00000000000000000001", "threshold": 0.3}]
    found = classes(fleet_of({"upsell": data["upsell"], "bigger": bigger, "alarmed": alarmed})["monitoring.template.json"])
    assert sorted(sorted(c) for c in found) == [["alarmed-monitoring.parameters.json"],
                                               ["bigger-monitoring.parameters.json", "upsell-monitoring.parameters.json"]]


def test_the_representative_of_a_class_is_its_longest_file():
    """The worst case for length limits is what cfn-lint sees."""
    churn = staging_data()["endpoints"]["churn"]
    kinds = fleet_of({"a": copy.deepcopy(churn), "a-much-longer-key": copy.deepcopy(churn), "ab": copy.deepcopy(churn)})
    [members] = classes(kinds["monitoring.template.json"])
    assert members[0] == "a-much-longer-key-monitoring.parameters.json"


def test_cfn_lint_receives_one_parameter_set_per_class():
    """Real cfn-lint on a real 6-endpoint build (in-process): two classes reach the engine, and it is clean."""
    data = staging_data()
    endpoints = {f"churn-{i}": copy.deepcopy(data["endpoints"]["churn"]) for i in range(3)}
    endpoints.update({f"upsell-{i}": copy.deepcopy(data["endpoints"]["upsell"]) for i in range(3)})
    data["endpoints"] = endpoints
    synthesis = synthesize(params_from_data(data, "params/staging.yaml", {}, "staging", REPO), REPO)
    files = synthesis.files()
    jobs = [LintJob(Path(s.template_file), files[s.template_file], Path(s.parameters_file), files[s.parameters_file],
                    "eu-west-1") for s in synthesis.stacks if s.template_file == "monitoring.template.json"]
    seen: list[dict] = []

    class Recording(Linter):  # real cfn-lint, in this process; records what it is asked to lint
        def run(self, payloads):
            seen.extend(payloads)
            return super().run(payloads)

    assert len(jobs) == 6 and lint(jobs, linter=Recording()) == []
    [with_files] = [p for p in seen if p["parameter_sets"]]
    assert sorted(s["source"] for s in with_files["parameter_sets"]) == [
        "churn-0-monitoring.parameters.json", "upsell-0-monitoring.parameters.json"]


TEMPLATE = {
    "Parameters": {
        "Mode": {"Type": "String", "AllowedPattern": "^[a-z]+$", "Default": "a"},
        "Count": {"Type": "Number", "MinValue": 1, "MaxValue": 10, "Default": "1"},
        "Name": {"Type": "String", "AllowedPattern": "^[a-z-]+$", "MaxLength": 12},
        "Size": {"Type": "String", "AllowedValues": ["small", "large"], "Default": "small"},
        "Subnets": {"Type": "CommaDelimitedList", "AllowedPattern": "^subnet-[0-9a-f]+$", "Default": "subnet-0a"},
    },
    "Conditions": {"IsB": {"Fn::Equals": [{"Ref": "Mode"}, "b"]}},
    "Resources": {
        "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": {"Fn::Sub": "${Name}-${Size}-${Count}"}}},
        "Vpc": {"Type": "AWS::EC2::VPC", "Condition": "IsB", "Properties": {"CidrBlock": {"Fn::Sub": "${Mode}.0.0.0/16"}}},
    },
    "Outputs": {"Subnets": {"Value": {"Fn::Join": [",", {"Ref": "Subnets"}]}}},
}


def job(name: str, values: dict[str, str]) -> LintJob:
    entries = [{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()]
    return LintJob(Path("t.template.json"), json.dumps(TEMPLATE, indent=1).encode(), Path(name),
                   json.dumps(entries, indent=4).encode(), "eu-west-1")


def test_a_condition_only_one_file_turns_on_is_linted_with_that_file():
    """Negative control: the Vpc exists only where Mode=b and its CIDR is then invalid; cfn-lint must see b."""
    findings = lint([job("a.json", {"Mode": "a", "Name": "one-long"}), job("c.json", {"Mode": "c", "Name": "two-long"}),
                     job("b.json", {"Mode": "b", "Name": "b"})])  # b is the shortest: never a class's representative
    assert [f.rule for f in findings] == ["W1031"], findings
    assert lint([job("a.json", {"Mode": "a", "Name": "one"}), job("c.json", {"Mode": "c", "Name": "two"})]) == []


def test_every_file_is_checked_against_the_constraints_linted_by_cfn_lint_or_not():
    """The short file is not its class's representative, so only the value check can see its problems;
    each is one finding naming the file, the line of the parameter and what the template allows."""
    good = job("good.parameters.json", {"Mode": "a", "Name": "a-long-name", "Count": "5"})
    bad = job("bad.parameters.json", {"Mode": "a", "Name": "Bad", "Count": "0", "Subnets": "subnet-0a,sg-1",
                                      "Extra": "x"})
    findings = [f for f in lint([good, bad]) if f.file == "bad.parameters.json"]
    ours = {f.message.split(" (declared in")[0]: f.line for f in findings if f.rule == parameter_sets.RULE}
    assert ours == {
        "Name='Bad' does not match the AllowedPattern ^[a-z-]+$": 7,
        "Count='0' is below the MinValue 1": 11,
        "Subnets='subnet-0a,sg-1' does not match the AllowedPattern ^subnet-[0-9a-f]+$": 15,
        "Extra is not a parameter of the template; remove it or rebuild": 19,
    }, findings
    assert all(f.message.endswith("(declared in t.template.json)") for f in findings if f.rule == parameter_sets.RULE)


def test_value_checks_cover_lengths_allowed_values_numbers_required_and_the_4096_byte_limit():
    spec = {"Parameters": {**TEMPLATE["Parameters"], "Long": {"Type": "String", "Default": ""}}}
    entries = [{"ParameterKey": "Mode", "ParameterValue": "a"}, {"ParameterKey": "Count", "ParameterValue": "many"},
               {"ParameterKey": "Size", "ParameterValue": "huge"},
               {"ParameterKey": "Long", "ParameterValue": "x" * 4097}]
    messages = [p.render() for p in parameter_sets.check_values(spec, entries)]
    assert messages == [
        "Name is required (the template gives no Default) and missing",
        "Count='many' is not a number",
        "Size='huge' is not one of the AllowedValues ['small', 'large']",
        "Long is 4097 bytes; CloudFormation takes at most 4096 per value",
    ]
    too_long = [{"ParameterKey": "Name", "ParameterValue": "abcdefghijklm"}]
    assert [p.message for p in parameter_sets.check_values(TEMPLATE, too_long)] == [
        "='abcdefghijklm' is 13 characters, more than the MaxLength 12"]


def test_a_pseudo_parameter_in_a_condition_keeps_the_files_apart_by_value():
    template = {"Parameters": {"Zone": {"Type": "String", "AllowedPattern": "^[a-z0-9-]+$"}},
                "Conditions": {"Home": {"Fn::Equals": [{"Fn::Sub": "${AWS::Region}a"}, {"Ref": "Zone"}]}},
                "Resources": {}}
    sets = [{"Zone": "eu-west-1a"}, {"Zone": "eu-west-1b"}, {"Zone": "eu-west-1a"}]
    assert parameter_sets.lint_classes(template, sets) == [[0, 2], [1]]
