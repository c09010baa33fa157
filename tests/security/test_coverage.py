"""checkov's coverage gate: a template checkov runs no check on is a finding, except one made only of nested
stacks (checkov has no check for AWS::CloudFormation::Stack; the nested template is scanned on its own)."""

from __future__ import annotations

import json

from mmtool.security.scanners import only_nested_stacks


def test_only_a_template_of_nested_stacks_is_exempt(tmp_path, built):
    nested = tmp_path / "nested.template.json"
    nested.write_text(json.dumps({"Resources": {"Child": {"Type": "AWS::CloudFormation::Stack",
                                                          "Properties": {"TemplateURL": "https://x/y.json"}}}}))
    assert only_nested_stacks(nested)
    mixed = tmp_path / "mixed.template.json"
    mixed.write_text(json.dumps({"Resources": {"Child": {"Type": "AWS::CloudFormation::Stack"},
                                               "Topic": {"Type": "AWS::SNS::Topic"}}}))
    empty = tmp_path / "empty.template.json"
    empty.write_text(json.dumps({"Resources": {}}))
    assert not only_nested_stacks(mixed) and not only_nested_stacks(empty)
    assert not only_nested_stacks(tmp_path / "missing.json")
    assert only_nested_stacks(built.build / "staging" / "endpoint-monitoring.template.json")
    assert not only_nested_stacks(built.build / "staging" / "monitoring.template.json")
