"""`make catalog`: the catalog stack (lint, intent), publishing against moto, and the versioning rules.

moto 5.2.5 implements CreatePortfolio/CreateProduct/DescribeProduct/ListPortfolios, but no CloudFormation support
for AWS::ServiceCatalog::* (tests/handoff/catalog_moto.py adds it for Portfolio and CloudFormationProduct, and records the
associations and constraints) and none of the calls that manage versions and tag options (ListProvisioningArtifacts,
CreateProvisioningArtifact, UpdateProvisioningArtifact, ListTagOptions, CreateTagOption,
AssociateTagOptionWithResource; DescribePortfolio returns no TagOptions). Those go through botocore's Stubber here.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

import boto3
import pytest
import yaml
from botocore.stub import ANY, Stubber

from deployer.moto_server import FAKE_CREDENTIALS, MotoServer
from mmtool.errors import EXIT_FAILED, EXIT_INPUT
from mmtool.handoff import catalog
from mmtool.handoff.catalog import ProductTemplate, sync_versions
from mmtool.operate.awsenv import AwsError
from mmtool.generate.pipeline import build
from mmtool.generate.lint import LintJob, lint
from templates.catalog import LAUNCH_COVERAGE, product_logical_id
from tests.conftest import REPO, dev_params, write_params

PRINCIPALS = ["arn:aws:iam::111122223333:role/platform-team", "arn:aws:iam::111122223333:role/studio-execution"]


def catalog_template(paths, env="dev") -> dict:
    return json.loads((paths.build / env / "catalog.template.json").read_text())


# --- the template ---------------------------------------------------------------------------------


def test_catalog_stack_is_built_beside_the_others_but_never_deployed_by_make_deploy(built):
    folder = built.build / "dev"
    assert (folder / "catalog.template.json").exists()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert "catalog" not in [s["name"] for s in manifest["stacks"]]  # make deploy reads this one
    catalog_manifest = json.loads((folder / "catalog.manifest.json").read_text())
    assert [s["stack_name"] for s in catalog_manifest["stacks"]] == ["churn-dev-catalog"]
    assert catalog_manifest["stacks"][0]["capabilities"] == ["CAPABILITY_NAMED_IAM"]


def test_catalog_template_is_lint_clean_with_principals_and_studio_visibility(built):
    # the build lints it with the default settings (no principal, no Studio tag); here every option is on
    values = {"ProjectName": "churn", "EnvironmentName": "dev", "ProviderName": "ML platform",
              "ProductOwner": "ML platform", "StudioVisibility": "true", "PrincipalRoleArn1": PRINCIPALS[0],
              "PrincipalRoleArn10": PRINCIPALS[1],
              "ExistingLaunchRoleArn": ""}
    body = json.dumps([{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()]).encode()
    job = LintJob(Path("catalog.template.json"), (built.build / "dev" / "catalog.template.json").read_bytes(),
                  Path("options.parameters.json"), body, "eu-west-1")
    assert lint([job]) == []


def test_catalog_template_is_the_same_in_every_environment(built):
    # one reviewed artifact: what differs is the parameter file
    bodies = {(built.build / env / "catalog.template.json").read_bytes() for env in built.environments()}
    assert len(bodies) == 1


def test_products_carry_no_versions_in_the_template(built):
    # versions are the tool's (provisioning artifacts through the API): CloudFormation would own and replace them
    resources = catalog_template(built)["Resources"]
    products = {k: r for k, r in resources.items() if r["Type"] == "AWS::ServiceCatalog::CloudFormationProduct"}
    stacks = [e["name"] for e in json.loads((built.build / "dev" / "manifest.json").read_text())["stacks"]]
    assert sorted(products) == sorted(product_logical_id(s) for s in [*stacks, "endpoint-monitoring"])
    assert {"ProductFoundation", "ProductNetwork", "ProductEndpoint", "ProductMonitoring",
            "ProductEndpointMonitoring"} <= set(products)
    for product in products.values():
        assert "ProvisioningArtifactParameters" not in product["Properties"]


def test_launch_constraints_wait_for_the_product_in_the_portfolio(built):
    # CreateConstraint fails for a product not yet associated with the portfolio
    resources = catalog_template(built)["Resources"]
    for logical, resource in resources.items():
        if resource["Type"] == "AWS::ServiceCatalog::LaunchRoleConstraint":
            stack = logical.removeprefix("LaunchConstraint")
            assert resource["DependsOn"] == [f"Association{stack}"]


def test_launch_role_trusts_only_service_catalog_of_this_account(built):
    role = catalog_template(built)["Resources"]["LaunchRole"]["Properties"]
    (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "servicecatalog.amazonaws.com"}
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}


def test_launch_role_cloudformation_rights_only_on_service_catalog_stacks(built):
    policy = catalog_template(built)["Resources"]["LaunchRoleStacksPolicy"]["Properties"]["PolicyDocument"]
    (statement,) = policy["Statement"]
    assert statement["Resource"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:cloudformation:${AWS::Region}:${AWS::AccountId}:stack/SC-${AWS::AccountId}-pp-*"}]


def test_launch_role_wildcard_resources_only_in_the_unscoped_policy(built):
    resources = catalog_template(built)["Resources"]
    for logical in ("LaunchRoleStacksPolicy", "LaunchRoleResourcesPolicy"):
        for statement in resources[logical]["Properties"]["PolicyDocument"]["Statement"]:
            assert "*" not in statement["Resource"], (logical, statement["Sid"])
            assert not any("*" in a for a in statement["Action"])
    unscoped = resources["LaunchRoleUnscopedPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    reading = next(s for s in unscoped if s["Sid"] == "ReadServiceCatalogTemplateCopy")
    assert reading["Condition"] == {"StringEquals": {"s3:ExistingObjectTag/servicecatalog:provisioning": "true"}}


def test_every_resource_type_of_the_products_has_reviewed_launch_permissions(built):
    # a new resource type in a template needs the launch role's permissions reviewed first
    templates = catalog.product_templates(built.build / "dev")
    assert catalog.uncovered_resource_types(templates) == {}
    assert "AWS::SageMaker::MonitoringSchedule" in LAUNCH_COVERAGE


def test_publish_refuses_a_resource_type_without_launch_permissions(built, tmp_path):
    product = ProductTemplate("extra", tmp_path / "x", json.dumps(
        {"Resources": {"Table": {"Type": "AWS::DynamoDB::Table"}}}).encode())
    assert catalog.uncovered_resource_types([product]) == {"AWS::DynamoDB::Table": ["extra"]}


def test_params_catalog_roles_must_be_in_the_environment_account(scratch, capsys):
    from mmtool.cli import main

    data = dev_params()
    data["catalog"] = {"principal_role_arns": ["arn:aws:iam::999999999999:role/other"]}
    write_params(scratch, data)
    assert main(["validate", "--env", "dev"], paths=scratch) == 2
    err = capsys.readouterr().err
    assert "catalog.principal_role_arns[0]" in err and "999999999999" in err and "111122223333" in err


def test_catalog_parameters_carry_the_params_file_settings(scratch):
    data = dev_params()
    data["catalog"] = {"principal_role_arns": PRINCIPALS, "studio_visibility": True, "version_retention": 2}
    write_params(scratch, data)
    build(scratch, ["dev"], out=lambda *_: None)
    values = {p["ParameterKey"]: p["ParameterValue"]
              for p in json.loads((scratch.build / "dev" / "catalog.parameters.json").read_text())}
    assert values["PrincipalRoleArn1"] == PRINCIPALS[0] and values["PrincipalRoleArn2"] == PRINCIPALS[1]
    assert "PrincipalRoleArn3" not in values  # empty slot: its association's condition is false
    assert values["StudioVisibility"] == "true"
    assert values["ExistingLaunchRoleArn"] == ""


# --- versions (Stubber: moto has no provisioning-artifact calls) ------------------------------------


def _client():
    return boto3.client("servicecatalog", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")


def _artifact(n: int, sha: str, active: bool = True) -> dict:
    return {"Id": f"pa-{n}", "Name": f"v{n}-{sha[:12]}", "Description": f"sha256:{sha} x", "Type": "CLOUD_FORMATION_TEMPLATE",
            "CreatedTime": datetime(2026, 1, n, tzinfo=timezone.utc), "Active": active}


PRODUCT = ProductTemplate("monitoring", Path("monitoring.template.json"), b'{"Resources": {}}\n')
SHA = hashlib.sha256(b'{"Resources": {}}\n').hexdigest()
OLD = [("a" * 64), ("b" * 64), ("c" * 64), ("d" * 64)]


def test_a_changed_template_adds_a_version_and_deactivates_past_the_retention():
    sc = _client()
    with Stubber(sc) as stub:
        stub.add_response("list_provisioning_artifacts", {"ProvisioningArtifactDetails": [
            _artifact(1, OLD[0]), _artifact(2, OLD[1]), _artifact(3, OLD[2]), _artifact(4, OLD[3])]},
            {"ProductId": "prod-1"})
        stub.add_response("create_provisioning_artifact", {"ProvisioningArtifactDetail": {"Id": "pa-5"}}, {
            "ProductId": "prod-1",
            "Parameters": {"Name": f"v5-{SHA[:12]}", "Description": f"sha256:{SHA} monitoring.template.json, built from v9",
                           "Info": {"LoadTemplateFromURL": "https://b.s3.eu-west-1.amazonaws.com/k"},
                           "Type": "CLOUD_FORMATION_TEMPLATE", "DisableTemplateValidation": False},
            "IdempotencyToken": f"prod-1-{SHA[:40]}"})
        # retention 3: the new one and the two newest others stay; v2 and v1 are deactivated, newest first
        for old in ("pa-2", "pa-1"):
            stub.add_response("update_provisioning_artifact", {},
                              {"ProductId": "prod-1", "ProvisioningArtifactId": old, "Active": False})
        result = sync_versions(sc, "prod-1", PRODUCT, "https://b.s3.eu-west-1.amazonaws.com/k", 3, "v9")
        stub.assert_no_pending_responses()
    assert result.created and result.current == "pa-5" and result.deactivated == ("v2-bbbbbbbbbbbb", "v1-aaaaaaaaaaaa")


def test_an_unchanged_template_adds_no_version():
    sc = _client()
    with Stubber(sc) as stub:  # any call beyond this list fails the test
        stub.add_response("list_provisioning_artifacts", {"ProvisioningArtifactDetails": [
            _artifact(1, OLD[0], active=False), _artifact(2, SHA)]}, {"ProductId": "prod-1"})
        result = sync_versions(sc, "prod-1", PRODUCT, "https://unused", 3, "v9")
        stub.assert_no_pending_responses()
    assert not result.created and not result.reactivated and result.current == "pa-2" and result.deactivated == ()


def test_publishing_an_older_template_again_reactivates_its_version():
    sc = _client()
    with Stubber(sc) as stub:
        stub.add_response("list_provisioning_artifacts", {"ProvisioningArtifactDetails": [
            _artifact(1, SHA, active=False), _artifact(2, OLD[1]), _artifact(3, OLD[2])]}, {"ProductId": "prod-1"})
        stub.add_response("update_provisioning_artifact", {},
                          {"ProductId": "prod-1", "ProvisioningArtifactId": "pa-1", "Active": True})
        stub.add_response("update_provisioning_artifact", {},
                          {"ProductId": "prod-1", "ProvisioningArtifactId": "pa-2", "Active": False})
        result = sync_versions(sc, "prod-1", PRODUCT, "https://unused", 2, "v9")
        stub.assert_no_pending_responses()
    assert result.reactivated and result.current == "pa-1" and result.deactivated == ("v2-bbbbbbbbbbbb",)


def test_tag_options_reuse_the_accounts_and_skip_those_already_associated():
    sc = _client()
    with Stubber(sc) as stub:
        stub.add_response("describe_portfolio", {"PortfolioDetail": {"Id": "port-1"},
                                                 "TagOptions": [{"Key": "Environment", "Value": "dev", "Id": "tag-e"}]},
                          {"Id": "port-1"})
        stub.add_response("list_tag_options", {"TagOptionDetails": [{"Key": "Project", "Value": "churn", "Id": "tag-p"}]},
                          {"Filters": {"Key": "Project", "Value": "churn"}})
        stub.add_response("associate_tag_option_with_resource", {}, {"ResourceId": "port-1", "TagOptionId": "tag-p"})
        stub.add_response("list_tag_options", {"TagOptionDetails": []}, {"Filters": {"Key": "owner", "Value": "me"}})
        stub.add_response("create_tag_option", {"TagOptionDetail": {"Id": "tag-o"}}, {"Key": "owner", "Value": "me"})
        stub.add_response("associate_tag_option_with_resource", {}, {"ResourceId": "port-1", "TagOptionId": "tag-o"})
        added = catalog.sync_tag_options(sc, "port-1", {"Environment": "dev", "Project": "churn", "owner": "me",
                                                        "empty": ""})
        stub.assert_no_pending_responses()
    assert added == ["Project=churn", "owner=me"]


# --- failed AWS calls: the tool's error, AWS's words, where and what to do --------------------------------


def test_a_refused_version_names_the_product_keeps_awss_words_and_says_what_to_grant():
    sc = _client()
    denied = "User: arn:aws:iam::111122223333:user/ci is not authorized to perform: servicecatalog:CreateProvisioningArtifact"
    with Stubber(sc) as stub:
        stub.add_response("list_provisioning_artifacts", {"ProvisioningArtifactDetails": []}, {"ProductId": "prod-1"})
        stub.add_client_error("create_provisioning_artifact", service_error_code="AccessDeniedException",
                              service_message=denied, http_status_code=400)
        with pytest.raises(AwsError) as caught:
            sync_versions(sc, "prod-1", PRODUCT, "https://b.s3.eu-west-1.amazonaws.com/k", 3, "v9")
    what, fix = str(caught.value).split("\n")
    assert what == f"catalog: versions of product prod-1 (monitoring): AccessDeniedException: {denied}"
    assert fix.startswith("Next: the credentials need servicecatalog:CreateProvisioningArtifact and "
                          "UpdateProvisioningArtifact, and s3:GetObject (with kms:Decrypt) on https://b.s3.")
    assert caught.value.exit_code == EXIT_FAILED


def test_a_throttled_tag_option_call_says_so_and_to_run_again():
    sc = _client()
    with Stubber(sc) as stub:
        stub.add_response("describe_portfolio", {"PortfolioDetail": {"Id": "port-1"}}, {"Id": "port-1"})
        stub.add_client_error("list_tag_options", service_error_code="ThrottlingException", service_message="Rate exceeded",
                              http_status_code=400)
        with pytest.raises(AwsError) as caught:
            catalog.sync_tag_options(sc, "port-1", {"Project": "churn"})
    assert str(caught.value).startswith("catalog: tag option Project=churn on portfolio port-1 was throttled by AWS")
    assert "ThrottlingException: Rate exceeded" in str(caught.value) and "run the command again" in str(caught.value)


def test_a_forbidden_read_is_not_taken_for_a_missing_template():
    """Without s3:ListBucket, S3 answers 403 for a key that is not there: nothing is put, the fix is named."""
    s3 = boto3.client("s3", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(s3) as stub:  # a put_object would fail the test: no response is queued for it
        stub.add_client_error("get_object", service_error_code="AccessDenied", service_message="Access Denied",
                              http_status_code=403, expected_params={"Bucket": "b", "Key": PRODUCT.key})
        with pytest.raises(AwsError) as caught:
            catalog.upload_templates(s3, "b", None, [PRODUCT])
    what, fix = str(caught.value).split("\n")
    assert what == f"catalog: GetObject s3://b/{PRODUCT.key}: AccessDenied: Access Denied"
    assert "s3:ListBucket" in fix and "kms:Decrypt" in fix


def test_a_template_overwritten_in_place_is_written_again(aws, tmp_path):
    """An object is trusted by its content, not by its (content-addressed) name: other bytes under the key are
    replaced, the same bytes are left alone (moto's S3)."""
    s3 = boto3.client("s3", region_name="eu-west-1", endpoint_url=aws.url)
    s3.create_bucket(Bucket="overwritten", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3.put_object(Bucket="overwritten", Key=PRODUCT.key, Body=b"something else")
    assert catalog.upload_templates(s3, "overwritten", None, [PRODUCT]) == [f"replaced s3://overwritten/{PRODUCT.key}"]
    assert s3.get_object(Bucket="overwritten", Key=PRODUCT.key)["Body"].read() == PRODUCT.body
    assert catalog.upload_templates(s3, "overwritten", None, [PRODUCT]) == []


def test_uploading_without_credentials_is_a_one_line_input_error(server, monkeypatch, tmp_path):
    """botocore refuses to sign before anything is sent (NoCredentialsError): exit 2 and how to get credentials."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    s3 = boto3.session.Session().client("s3", region_name="eu-west-1", endpoint_url=server.url)
    with pytest.raises(AwsError) as caught:
        catalog.upload_templates(s3, "b", None, [PRODUCT])
    assert caught.value.exit_code == EXIT_INPUT
    assert str(caught.value).startswith(f"catalog: GetObject s3://b/{PRODUCT.key}: no usable AWS credentials")


def test_a_stack_that_is_not_there_has_no_outputs_and_another_failure_is_an_error(aws):
    from deployer.aws import make_clients

    clients = make_clients("eu-west-1", endpoint_url=aws.url)
    assert catalog.stack_outputs(clients.cloudformation, "churn-dev-foundation") is None  # moto's own answer
    cf = boto3.client("cloudformation", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(cf) as stub:
        stub.add_client_error("describe_stacks", service_error_code="AccessDenied", service_message="not authorized",
                              http_status_code=403)
        with pytest.raises(AwsError) as caught:
            catalog.stack_outputs(cf, "churn-dev-foundation")
    assert str(caught.value) == ("catalog: DescribeStacks churn-dev-foundation: AccessDenied: not authorized\n"
                                 "Next: the credentials need cloudformation:DescribeStacks; then run make catalog again")


# --- publishing against moto ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def server():
    with MotoServer(command=[sys.executable, "-m", "tests.handoff.catalog_moto"],
                    env={"PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}) as moto:
        yield moto


@pytest.fixture
def aws(monkeypatch, tmp_path, server):
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    server.reset()
    return server


def _stub_first_publish(stub: Stubber, portfolio: str, tags: dict, products: dict[str, str], templates) -> None:
    stub.add_response("describe_portfolio", {"PortfolioDetail": {"Id": portfolio}, "TagOptions": []}, {"Id": portfolio})
    for n, (key, value) in enumerate(sorted(tags.items())):
        stub.add_response("list_tag_options", {"TagOptionDetails": []}, {"Filters": {"Key": key, "Value": value}})
        stub.add_response("create_tag_option", {"TagOptionDetail": {"Id": f"tag-{n}"}}, {"Key": key, "Value": value})
        stub.add_response("associate_tag_option_with_resource", {}, {"ResourceId": portfolio, "TagOptionId": f"tag-{n}"})
    for product in templates:
        stub.add_response("list_provisioning_artifacts", {"ProvisioningArtifactDetails": []},
                          {"ProductId": products[product.stack]})
        stub.add_response("create_provisioning_artifact",
                          {"ProvisioningArtifactDetail": {"Id": f"pa-{product.stack}"}},
                          {"ProductId": products[product.stack], "Parameters": ANY, "IdempotencyToken": ANY})


def test_a_fleet_publishes_one_product_per_stack_kind(built):
    """staging's three endpoints share the endpoint and monitoring templates, so they share those products:
    one per stack kind, exactly the products the catalog template declares."""
    templates = catalog.product_templates(built.build / "staging")
    assert [t.stack for t in templates] == ["foundation", "network", "endpoint", "monitoring", "alarms",
                                            "endpoint-monitoring"]
    declared = json.loads((built.build / "staging" / "catalog.template.json").read_text())["Outputs"]
    assert all(f"{product_logical_id(t.stack)}Id" in declared for t in templates)


@pytest.mark.parametrize("env", ["dev", "staging"])
def test_publish_against_moto_creates_portfolio_and_products_and_a_second_run_adds_nothing(scratch, aws, env):
    from deployer import cli as engine
    from deployer.aws import make_clients

    data = dev_params() if env == "dev" else yaml.safe_load((REPO / "params" / "staging.yaml").read_text())
    data["catalog"] = {"principal_role_arns": [a.replace("111122223333", data["account_id"]) for a in PRINCIPALS],
                       "studio_visibility": True}
    data["deploy"] = {k: v for k, v in data.get("deploy", {}).items() if not k.endswith("role_arn")}
    write_params(scratch, data, env)
    build(scratch, [env], out=lambda *_: None)
    folder = scratch.build / env
    # the templates are published from the foundation stack's bucket: deploy that stack alone first
    manifest = json.loads((folder / "manifest.json").read_text())
    foundation_only = {**manifest, "stacks": manifest["stacks"][:1], "assets": [], "copies": []}
    (folder / "foundation-only.manifest.json").write_text(json.dumps(foundation_only))
    quiet = dict(yes=True, skip_account_check=True, endpoint_url=aws.url, poll_interval=0.05, show_outputs=False)
    assert engine.deploy(folder / "foundation-only.manifest.json", **quiet) == 0

    clients = make_clients("eu-west-1", endpoint_url=aws.url)
    deploys = []

    def engine_deploy(path):
        deploys.append(path.name)
        return engine.deploy(path, **quiet)

    templates = catalog.product_templates(folder)
    tags = manifest["tags"]
    lines: list[str] = []
    sc = _client()
    with Stubber(sc) as stub:
        # the Service Catalog calls moto lacks: portfolio and products come from moto through the stack
        outputs_after = {}

        def first(path):
            code = engine_deploy(path)
            outputs = catalog.stack_outputs(clients.cloudformation, f"churn-{env}-catalog")
            outputs_after.update(outputs)
            products = {p.stack: outputs[f"{product_logical_id(p.stack)}Id"] for p in templates}
            _stub_first_publish(stub, outputs["PortfolioId"], tags, products, templates)
            return code

        results = catalog.publish(folder, clients=clients, engine_deploy=first, version="v1", retention=3,
                                  servicecatalog=sc, out=lines.append)
        stub.assert_no_pending_responses()
    assert [r.created for r in results] == [True] * len(templates)

    # moto: the portfolio and one product per stack, named from project and environment
    moto_sc = boto3.client("servicecatalog", region_name="eu-west-1", endpoint_url=aws.url)
    portfolios = moto_sc.list_portfolios()["PortfolioDetails"]
    assert [p["DisplayName"] for p in portfolios] == [f"churn-{env}"]
    for product in templates:
        view = moto_sc.describe_product(Name=f"churn-{env}-{product.stack}")["ProductViewSummary"]
        assert view["Id"] == outputs_after[f"{product_logical_id(product.stack)}Id"]
    recorded = json.loads(urllib.request.urlopen(f"{aws.url}/_test/servicecatalog").read())
    assert sorted(p["PrincipalARN"] for p in recorded["AWS::ServiceCatalog::PortfolioPrincipalAssociation"]) == \
        data["catalog"]["principal_role_arns"]
    assert len(recorded["AWS::ServiceCatalog::LaunchRoleConstraint"]) == len(templates)
    assert all(c["RoleArn"].endswith(f":role/churn-{env}-catalog-launch")
               for c in recorded["AWS::ServiceCatalog::LaunchRoleConstraint"])
    studio = [p["Tags"] for p in recorded["AWS::ServiceCatalog::CloudFormationProduct"]]
    assert all({"Key": "sagemaker:studio-visibility", "Value": "true"} in tags_ for tags_ in studio)

    # the templates, under immutable content-addressed keys, SSE-KMS with the project key
    s3 = boto3.client("s3", region_name="eu-west-1", endpoint_url=aws.url)
    bucket = catalog.stack_outputs(clients.cloudformation, f"churn-{env}-foundation")["BucketName"]
    for product in templates:
        key = f"catalog-templates/{product.stack}/{hashlib.sha256(product.body).hexdigest()}.template.json"
        head = s3.head_object(Bucket=bucket, Key=key)
        assert head["ServerSideEncryption"] == "aws:kms"
    # with the processing engine on offer (staging), the analyzer package its launches run, SSE-KMS too
    analyzer = catalog.self_service_assets(folder)
    assert bool(analyzer) is (env == "staging")
    for asset in analyzer:
        assert s3.head_object(Bucket=bucket, Key=asset.key)["ServerSideEncryption"] == "aws:kms"
        assert s3.get_object(Bucket=bucket, Key=asset.key)["Body"].read() == asset.file.read_bytes()
    assert sum(line.startswith("uploaded s3://") for line in lines) == len(templates) + len(analyzer)

    # second run, nothing changed: no upload, no stack change, no version (Stubber refuses any other call)
    lines.clear()
    with Stubber(sc) as stub:
        stub.add_response("describe_portfolio", {"PortfolioDetail": {"Id": outputs_after["PortfolioId"]},
                                                 "TagOptions": [{"Key": k, "Value": v, "Id": f"tag-{k}"}
                                                                for k, v in tags.items()]},
                          {"Id": outputs_after["PortfolioId"]})
        for product in templates:
            sha = hashlib.sha256(product.body).hexdigest()
            stub.add_response("list_provisioning_artifacts", {"ProvisioningArtifactDetails": [{
                "Id": f"pa-{product.stack}", "Name": f"v1-{sha[:12]}", "Description": f"sha256:{sha} ...",
                "CreatedTime": datetime(2026, 1, 1, tzinfo=timezone.utc), "Active": True}]},
                {"ProductId": outputs_after[f"{product_logical_id(product.stack)}Id"]})
        results = catalog.publish(folder, clients=clients, engine_deploy=engine_deploy, version="v1", retention=3,
                                  servicecatalog=sc, out=lines.append)
        stub.assert_no_pending_responses()
    assert [r.created or r.reactivated for r in results] == [False] * len(templates)
    assert not any(line.startswith("uploaded") for line in lines)
    assert deploys == ["catalog.manifest.json", "catalog.manifest.json"]


def test_catalog_without_environment_is_a_usage_error(scratch, capsys):
    from mmtool.cli import main

    assert main(["catalog"], paths=scratch) == 2
    assert "catalog needs an environment" in capsys.readouterr().err


def test_catalog_for_one_endpoint_is_refused_with_the_reason_and_what_to_run(scratch, capsys):
    from mmtool.cli import main

    assert main(["catalog", "--env", "staging", "--endpoint", "fraud"], paths=scratch) == 2
    err = capsys.readouterr().err
    assert "one per stack kind, shared by every endpoint" in err and "make package ENV=staging ENDPOINT=fraud" in err
    assert not (scratch.build / "staging").exists()  # refused before anything was built
