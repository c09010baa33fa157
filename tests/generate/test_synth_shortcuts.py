"""The synthesis shortcuts of docs/performance.md give what the long way gives.

- `create_only` reads cfn-lint's bundled resource schemas directly (importing cfn-lint costs the build about a
  second): the answer equals cfn-lint's schema manager's for every resource type the generated templates use.
- `finished_template` serializes a template once: it equals `json.loads(finish().to_json())`, key order included.
- the endpoint-monitoring product reuses the environment's monitoring template: the product equals the one built
  without it.
"""

from __future__ import annotations

import json

import pytest
from cfnlint.schema.manager import PROVIDER_SCHEMA_MANAGER

from mmtool.config.workspace import Paths, validate
from mmtool.generate import catalog_synth
from mmtool.generate.schemas import bundled_schema
from mmtool.generate.synth import SCHEMA_REGION, create_only, finished_template, synthesize
from templates import monitoring
from tests.conftest import REPO


@pytest.fixture(scope="module")
def syntheses():
    paths = Paths(REPO)
    return {env: synthesize(params, REPO) for env, params in validate(paths, paths.environments()).items()}


def test_create_only_reads_the_schema_cfn_lint_reads(syntheses):
    types = {resource["Type"] for synthesis in syntheses.values() for stack in synthesis.stacks
             for resource in stack.template["Resources"].values()}
    assert len(types) > 15
    for resource_type in sorted(types):
        assert bundled_schema(resource_type, SCHEMA_REGION) is not None, resource_type  # the fast path is the one taken here
        schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(SCHEMA_REGION, resource_type).schema
        expected = frozenset(path.split("/")[2] for path in schema.get("createOnlyProperties", []))
        assert create_only(resource_type) == expected, resource_type
        for region in ("eu-west-1", "us-east-1"):
            assert bundled_schema(resource_type, region) == PROVIDER_SCHEMA_MANAGER.get_resource_schema(
                region, resource_type).schema, (resource_type, region)
    assert "BucketName" in create_only("AWS::S3::Bucket")  # the comparison can tell a miss


def test_an_unknown_resource_type_falls_back_to_cfn_lint():
    assert bundled_schema("AWS::Nothing::Here", SCHEMA_REGION) is None


def test_finished_template_equals_the_long_way():
    params = validate(Paths(REPO), ["staging"])["staging"]
    short = finished_template(monitoring.build(params))
    long = json.loads(monitoring.build(params).finish().to_json())
    assert short == long and list(short) == list(long)
    assert json.dumps(short, indent=2) == json.dumps(long, indent=2)  # the same key order at every level


def test_the_product_built_with_the_environments_template_equals_the_one_built_alone(syntheses):
    for synthesis in syntheses.values():
        files = synthesis.files()
        analyzer = synthesis.analyzer_prefix
        shared = catalog_synth.synthesize_self_service(synthesis.params, files["monitoring.template.json"], analyzer,
                                                       synthesis=synthesis)
        alone = catalog_synth.synthesize_self_service(synthesis.params, files["monitoring.template.json"], analyzer)
        assert catalog_synth.files(shared) == catalog_synth.files(alone)
