"""The bucket layout (mmtool/config/layout.py) is closed: no configured prefix may meet another area's prefix, the
templates' lifecycle rules and S3 grants are the layout's, and every copy of a fixed prefix is the layout's."""

from __future__ import annotations

import json
import re

import pytest

from mmtool.config import layout
from mmtool.config.loader import load_params
from mmtool.errors import ParamsError
from tests.cfn_values import Resolver
from tests.conftest import REPO, dev_params, write_params

CONFIGURED = [area for area in layout.AREAS if area.configurable]
SNAPSHOTS = REPO / "tests" / "snapshots"


def _refused(scratch, storage: dict) -> ParamsError:
    data = dev_params()
    data["storage"] = {**data.get("storage", {}), **storage}
    path = write_params(scratch, data)
    with pytest.raises(ParamsError) as caught:
        load_params(path, scratch.root)
    return caught.value


def _variants(prefix: str) -> list[tuple[str, str]]:
    """Values that meet `prefix` (a one-segment fixed prefix): the same, one inside it, the same in another case."""
    return [(prefix, "is"), (f"{prefix}/x", "lies inside"), (prefix.upper(), "differs only in case from")]


@pytest.mark.parametrize("area", CONFIGURED, ids=[a.field for a in CONFIGURED])
@pytest.mark.parametrize("other", [a for a in layout.AREAS if not a.configurable],
                         ids=[a.prefix for a in layout.AREAS if not a.configurable])
def test_a_configured_prefix_never_meets_a_fixed_one(scratch, area, other):
    for value, how in _variants(other.prefix):
        error = _refused(scratch, {area.field: value})
        [problem] = error.problems
        assert problem.field == f"storage.{area.field}", error
        assert f"{how} the fixed prefix {other.prefix!r}" in problem.message, problem.message


def test_a_prefix_containing_another_is_refused(scratch):
    error = _refused(scratch, {"capture_prefix": "shared/capture", "batch_capture_prefix": "shared"})
    [problem] = error.problems
    assert problem.field == "storage.batch_capture_prefix"
    assert "contains storage.capture_prefix 'shared/capture'" in problem.message


@pytest.mark.parametrize("first,second", [(a, b) for i, a in enumerate(CONFIGURED) for b in CONFIGURED[i + 1:]],
                         ids=lambda a: a.field)
def test_two_configured_prefixes_never_meet(scratch, first, second):
    for value, how in (("shared", "is"), ("shared/deeper", "lies inside")):
        error = _refused(scratch, {first.field: "shared", second.field: value})
        [problem] = error.problems
        assert problem.field == f"storage.{second.field}", error  # reported once, at the later field
        assert f"{how} storage.{first.field} 'shared'" in problem.message


@pytest.mark.parametrize("value,fragment", [
    ("a/../baselines", "'.' and '..' are not folder names"),
    ("./capture", "'.' and '..' are not folder names"),
    ("x" * (layout.MAX_PREFIX_BYTES + 1), f"use at most {layout.MAX_PREFIX_BYTES}"),
])
def test_prefix_forms_that_reach_elsewhere_or_past_s3_key_limit(scratch, value, fragment):
    error = _refused(scratch, {"capture_prefix": value})
    assert error.problems[0].field == "storage.capture_prefix" and fragment in error.problems[0].message


def test_the_prefix_limit_follows_from_sagemakers_uri_limits():
    """botocore's SageMaker model, an independent copy of the API's limits: the capture destination, ground truth and
    monitoring output URIs hold s3://<bucket>/<prefix>/<key>; the longest accepted prefix fits them exactly."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("sagemaker")
    config = model.operation_model("CreateEndpointConfig").input_shape.members["DataCaptureConfig"]
    job = model.operation_model("CreateModelQualityJobDefinition").input_shape
    limits = {config.members["DestinationS3Uri"].metadata["max"],
              job.members["ModelQualityJobInput"].members["GroundTruthS3Input"].members["S3Uri"].metadata["max"],
              job.members["ModelQualityJobOutputConfig"].members["MonitoringOutputs"].member.members["S3Output"]
              .members["S3Uri"].metadata["max"]}
    assert limits == {layout.MAX_PREFIX_URI}
    longest = f"s3://{'b' * 63}/{'p' * layout.MAX_PREFIX_BYTES}/{'k' * 20}"
    assert len(longest) == layout.MAX_PREFIX_URI


def test_distinct_prefixes_that_only_look_alike_are_accepted(scratch):
    data = dev_params()
    data["storage"] = {"capture_prefix": "reports-capture", "batch_capture_prefix": "capture/batch",
                       "ground_truth_prefix": "baselines-labels"}
    load_params(write_params(scratch, data), scratch.root)


def test_the_fixed_prefixes_are_distinct_and_none_meets_another():
    prefixes = [a.prefix for a in layout.AREAS]
    assert layout.overlap_problem({}) is None  # the defaults
    for i, one in enumerate(prefixes):
        for other in prefixes[i + 1:]:
            assert one != other and not other.startswith(one + "/") and not one.startswith(other + "/")


def test_every_copy_of_a_fixed_prefix_is_the_layouts():
    from deployer import uploads
    from mmtool.generate import synth
    from mmtool.config import baselines
    from mmtool.handoff import catalog, package
    from templates import endpoint_monitoring, foundation

    assert uploads.TEMPLATES_PREFIX == package.CLI_TEMPLATES_PREFIX == layout.TEMPLATES.prefix
    assert catalog.TEMPLATES_PREFIX == layout.CATALOG_TEMPLATES.prefix
    assert endpoint_monitoring.MONITORING_TEMPLATES_PREFIX.startswith(layout.CATALOG_TEMPLATES.prefix + "/")
    assert synth.ASSETS_PREFIX == foundation.ASSETS_PREFIX == layout.ASSETS.prefix
    assert baselines.BASELINES_PREFIX == foundation.BASELINES_PREFIX == layout.BASELINES.prefix


def test_lifecycle_rules_expire_exactly_the_layouts_expiring_areas():
    template = json.loads((SNAPSHOTS / "foundation.template.json").read_text())
    rules = template["Resources"]["Bucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    by_prefix = {json.dumps(r["Prefix"]): r["ExpirationInDays"]["Ref"] for r in rules if "Prefix" in r}
    expected = {json.dumps({"Fn::Sub": f"${{{a.parameter}}}/"} if a.configurable else f"{a.prefix}/"): a.retention
                for a in layout.expiring()}
    assert by_prefix == expected
    # nothing else expires: ground truth and baselines are kept
    assert not {layout.GROUND_TRUTH.prefix, layout.BASELINES.prefix} & {a.prefix for a in layout.expiring()}


# --- who may write where: read from the generated templates of every environment ---------------------------

# The template's principals, by resource, as the layout names them.
# ProcessingJobRole: the processing engine's job role (templates/processing_engine.py), a monitoring job like the others
WRITERS = {"MonitoringRole": layout.JOBS, "ExecutionRole": layout.JOBS, "ProcessingJobRole": layout.JOBS,
           "EndpointRole": layout.ENDPOINT}
S3_WRITES = {"s3:PutObject", "s3:AbortMultipartUpload", "s3:DeleteObject", "s3:DeleteObjectVersion",
             "s3:PutObjectAcl", "s3:RestoreObject", "s3:ReplicateObject", "s3:PutObjectTagging"}
BUCKET = "the-project-bucket"


def _stacks():
    for env_folder in sorted(p for p in SNAPSHOTS.iterdir() if p.is_dir()):
        manifest = json.loads((env_folder / "manifest.json").read_text())
        for stack in manifest["stacks"]:
            template = json.loads((SNAPSHOTS / stack["template"]).read_text())
            values = json.loads((env_folder / stack["parameters"]).read_text())
            values = {v["ParameterKey"]: v["ParameterValue"] for v in values} if isinstance(values, list) else values
            yield f"{env_folder.name}/{stack['name']}", template, {**values, "BucketName": BUCKET}, manifest


def _area_of(key: str, values: dict) -> layout.Area | None:
    """The area an object key (or key pattern) lies in, from the prefixes this stack's values give the areas."""
    for area in layout.AREAS:
        prefixes = {area.prefix}
        if area.parameter and values.get(area.parameter):
            prefixes.add(values[area.parameter])
        if any(key.startswith(p + "/") for p in prefixes):
            return area
    return None


def _grants(statements):
    for statement in statements if isinstance(statements, list) else [statements]:
        actions = statement.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        resources = statement.get("Resource", [])
        yield statement, set(actions), [resources] if isinstance(resources, str) else resources


def test_every_s3_write_a_role_is_granted_is_one_the_layout_gives_it():
    checked = 0
    for where, template, values, manifest in _stacks():
        region = manifest["region"]
        attributes = {"Bucket.Arn": f"arn:aws:s3:::{BUCKET}"}
        resolver = Resolver(template, values, region, "111122223333", attributes)
        resolver.values.update(attributes)  # "${Bucket.Arn}" inside a Fn::Sub
        resolver.values.update({lid: lid for lid in template["Resources"]})  # Ref of a resource: its logical id
        for logical_id, resource in template["Resources"].items():
            if resource["Type"] not in ("AWS::IAM::Role", "AWS::IAM::Policy"):
                continue
            properties = resolver.properties(logical_id)
            if properties is None:
                continue
            owner = logical_id if resource["Type"] == "AWS::IAM::Role" else None
            documents = [p["PolicyDocument"] for p in properties.get("Policies", [])]
            if resource["Type"] == "AWS::IAM::Policy":
                documents = [properties["PolicyDocument"]]
                [role] = properties["Roles"]  # a logical id, or the foundation stack's shared role by name
                owner = "MonitoringRole" if role == f"{values['ProjectName']}-{values['EnvironmentName']}-monitoring" \
                    else role
            for document in documents:
                for statement, actions, resources in _grants(document["Statement"]):
                    if statement["Effect"] != "Allow" or not actions & S3_WRITES:
                        continue
                    assert owner in WRITERS, f"{where}: {logical_id} writes to S3 and the layout has no role for it"
                    for arn in resources:
                        assert arn.startswith(f"arn:aws:s3:::{BUCKET}/"), f"{where}: {logical_id} writes {arn}"
                        key = arn.removeprefix(f"arn:aws:s3:::{BUCKET}/")
                        area = _area_of(key, values)
                        assert area is not None, f"{where}: {logical_id} writes {key}, in no area of the layout"
                        assert WRITERS[owner] in area.writers, \
                            f"{where}: {logical_id} ({WRITERS[owner]}) writes {key} in {area.name}; writers: {area.writers}"
                        checked += 1
    assert checked >= 6  # foundation's role, each environment's endpoint and monitoring roles


def test_the_bucket_policy_lets_log_delivery_write_only_its_area():
    template = json.loads((SNAPSHOTS / "foundation.template.json").read_text())
    statements = template["Resources"]["BucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    writes = [s for s in statements if s["Effect"] == "Allow" and "s3:PutObject" in s["Action"]]
    assert [s["Principal"] for s in writes] == [{"Service": "delivery.logs.amazonaws.com"}]
    [resource] = writes[0]["Resource"]
    assert resource["Fn::Sub"].startswith(f"${{Bucket.Arn}}/{layout.FLOW_LOGS.prefix}/")
    assert layout.writable_by(layout.LOG_DELIVERY) == [layout.FLOW_LOGS]


def test_no_prefix_or_prefix_pattern_is_retyped_outside_the_layout():
    """The bucket's prefixes and the prefix pattern are typed once, in mmtool/config/layout.py; the deploy engine's
    TEMPLATES_PREFIX is the one deliberate copy (it never imports mmtool), held equal above."""
    literal = re.compile(r"""["'](%s)["'/]""" % "|".join(re.escape(a.prefix) for a in layout.AREAS))
    allowed = {REPO / "mmtool" / "config" / "layout.py", REPO / "deployer" / "uploads.py"}
    # the same word, not a bucket prefix: a local folder under dist/ (make baseline LOCAL=1)
    not_prefixes = {("mmtool/operate/analyzer_baseline.py", 'LOCAL_FOLDER = "baselines"')}
    found = []
    for folder in ("mmtool", "templates", "deployer"):
        for path in sorted((REPO / folder).rglob("*.py")):
            if path in allowed:
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                code = line.split("#", 1)[0]
                if any(str(path.relative_to(REPO)) == f and text in code for f, text in not_prefixes):
                    continue
                if literal.search(code) or layout.PREFIX_PATTERN[1:-1] in code:
                    found.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert not found, "use mmtool.config.layout instead:\n" + "\n".join(found)
