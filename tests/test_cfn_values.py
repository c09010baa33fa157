"""tests/cfn_values.py's Resolver: the product's evaluator (deployer.intrinsics), strict: what it cannot know raises."""

from __future__ import annotations

import pytest

from tests.cfn_values import Resolver

TEMPLATE = {
    "Parameters": {"Env": {"Type": "String"}, "Names": {"Type": "CommaDelimitedList"}},
    "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]}},
    "Resources": {
        "Role": {"Type": "AWS::IAM::Role", "Properties": {}},
        "Topic": {"Type": "AWS::SNS::Topic", "Condition": "IsProd", "Properties": {}},
        "Job": {"Type": "X", "Properties": {
            "Name": {"Fn::Sub": "${Env}-job-${AWS::Region}"},
            "Role": {"Fn::GetAtt": ["Role", "Arn"]},
            "Second": {"Fn::Select": [1, {"Ref": "Names"}]},
            "Url": {"Fn::Join": [".", ["s3", {"Ref": "AWS::URLSuffix"}]]},
            "Optional": {"Fn::If": ["IsProd", "yes", {"Ref": "AWS::NoValue"}]},
        }},
    },
}


def test_values_conditions_and_attributes_resolve():
    resolver = Resolver(TEMPLATE, {"Env": "dev", "Names": "a,b"}, "cn-north-1", "111122223333",
                        attributes={"Role.Arn": "arn:aws-cn:iam::111122223333:role/r"})
    assert resolver.properties("Job") == {"Name": "dev-job-cn-north-1", "Role": "arn:aws-cn:iam::111122223333:role/r",
                                          "Second": "b", "Url": "s3.amazonaws.com.cn"}
    assert resolver.properties("Topic") is None and resolver.condition("IsProd") is False


@pytest.mark.parametrize("node", [{"Ref": "Nothing"}, {"Fn::ImportValue": "x"}, {"Fn::Sub": "${Role.Arn}"},
                                  {"Ref": "AWS::StackName"}])
def test_what_the_values_do_not_say_raises(node):
    resolver = Resolver(TEMPLATE, {"Env": "dev", "Names": "a"}, "eu-west-1", "111122223333")
    with pytest.raises(ValueError, match="not known"):
        resolver.resolve({"Key": node})
