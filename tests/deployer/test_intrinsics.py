"""The plan's evaluator of template JSON (deployer/intrinsics.py): the values the build knows are resolved,
what exists only after deploy stays a readable placeholder, and a Condition on such a value is undecided.
The expected values are worked out by hand from CloudFormation's intrinsic-function reference."""

from __future__ import annotations

from deployer.intrinsics import Evaluator, Unknown, render

TEMPLATE = {
    "Parameters": {
        "Env": {"Type": "String"},
        "Zones": {"Type": "CommaDelimitedList", "Default": "a,b"},
        "Bucket": {"Type": "AWS::SSM::Parameter::Value<String>"},
        "Extra": {"Type": "String", "Default": ""},
    },
    "Mappings": {"Images": {"eu-west-1": {"Account": "468650794304"}}},
    "Conditions": {
        "IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
        "HasExtra": {"Fn::Not": [{"Fn::Equals": [{"Ref": "Extra"}, ""]}]},
        "ProdOrExtra": {"Fn::Or": [{"Condition": "IsProd"}, {"Condition": "HasExtra"}]},
        "BucketIsX": {"Fn::Equals": [{"Ref": "Bucket"}, "x"]},
        "FalseAndUnknown": {"Fn::And": [{"Condition": "HasExtra"}, {"Condition": "BucketIsX"}]},
    },
    "Resources": {
        "Always": {"Type": "AWS::SSM::Parameter", "Properties": {
            "Name": {"Fn::Sub": "/${AWS::StackName}/${Env}"},
            "Value": {"Fn::Sub": ["s3://${Bucket}/${Zone}/${Role.Arn}", {"Zone": {"Fn::Select": [1, {"Ref": "Zones"}]}}]},
            "Image": {"Fn::Sub": ["${Account}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}/x",
                                  {"Account": {"Fn::FindInMap": ["Images", {"Ref": "AWS::Region"}, "Account"]}}]},
            "Tier": {"Fn::If": ["IsProd", "gold", {"Ref": "AWS::NoValue"}]},
            "Key": {"Fn::GetAtt": ["Key", "Arn"]},
            "Joined": {"Fn::Join": ["-", [{"Ref": "Env"}, {"Ref": "Key"}]]},
            "Parts": {"Fn::Split": [",", "p,q"]},
        }},
        "OnlyProd": {"Type": "AWS::SSM::Parameter", "Condition": "IsProd", "Properties": {}},
        "ProdOrExtra": {"Type": "AWS::SSM::Parameter", "Condition": "ProdOrExtra", "Properties": {}},
        "Undecided": {"Type": "AWS::SSM::Parameter", "Condition": "BucketIsX", "Properties": {}},
        "Decided": {"Type": "AWS::SSM::Parameter", "Condition": "FalseAndUnknown", "Properties": {}},
    },
}


def evaluator(env: str, **values: str) -> Evaluator:
    return Evaluator(TEMPLATE, {"Env": env, **values}, region="eu-west-1", account="123456789012",
                     stack_name="churn-dev-app", unknown={"Bucket"})


def test_conditions_with_the_build_values_and_undecided_ones():
    dev, prod = evaluator("dev"), evaluator("prod")
    assert [dev.created(r) for r in TEMPLATE["Resources"]] == [True, False, False, None, False]
    assert [prod.created(r) for r in TEMPLATE["Resources"]] == [True, True, True, None, False]
    assert evaluator("dev", Extra="y").created("ProdOrExtra") is True


def test_properties_resolve_known_values_and_keep_unknown_ones_readable():
    dev = evaluator("dev").properties("Always")

    assert dev["Name"] == "/churn-dev-app/dev"
    assert isinstance(dev["Value"], Unknown) and dev["Value"].render() == "s3://${Bucket}/b/${Role.Arn}"
    assert dev["Image"] == "468650794304.dkr.ecr.eu-west-1.amazonaws.com/x"
    assert "Tier" not in dev  # AWS::NoValue removes the property
    assert evaluator("prod").properties("Always")["Tier"] == "gold"
    assert render(dev["Key"]) == "(known after deploy)"
    assert isinstance(dev["Joined"], Unknown)  # a Join over a resource's id is known after deploy
    assert dev["Parts"] == ["p", "q"]


def test_a_region_of_another_partition_gets_its_partition_and_suffix():
    ev = Evaluator({"Resources": {}}, {}, region="cn-north-1", account=None, stack_name="s")
    assert (ev.ref("AWS::Partition"), ev.ref("AWS::URLSuffix")) == ("aws-cn", "amazonaws.com.cn")
    assert isinstance(ev.ref("AWS::AccountId"), Unknown)
