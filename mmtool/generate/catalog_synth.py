"""The catalog stack of one environment, synthesized with every build (so cfn-lint and the security gates see it).

`build/<env>/catalog.template.json` and `catalog.parameters.json` sit beside the other stacks' files, and
`build/<env>/catalog.manifest.json` is a deploy-engine manifest holding only the catalog stack: `make
deploy` reads `manifest.json` and never deploys the catalog; `make catalog` hands this one to the engine.
Pure: no AWS, no clock; the same params give byte-identical files.
"""

from __future__ import annotations

import json
from typing import Any

from mmtool.generate.synth import MANIFEST_FORMAT, StackOutput, Synthesis, dump_json, finished_template, stack_tags
from mmtool.config.params import Params
from mmtool.errors import ToolError
from templates.common import Inputs

TEMPLATE_FILE = "catalog.template.json"
PARAMETERS_FILE = "catalog.parameters.json"
MANIFEST_FILE = "catalog.manifest.json"


def synthesize_catalog(params: Params) -> StackOutput:
    from templates import catalog

    built = catalog.build(params)
    template = finished_template(built)
    values = built.parameter_file(Inputs(params))
    declared = template["Parameters"]
    unknown = sorted(set(values) - set(declared))
    missing = sorted(n for n, p in declared.items() if "Default" not in p and n not in values)
    if unknown or missing:
        raise ToolError(f"internal error in templates/catalog.py: parameter values and template disagree "
                        f"(undeclared: {unknown or 'none'}; without a value: {missing or 'none'})")
    return StackOutput(
        name=catalog.STACK,
        stack_name=f"{params.prefix}-{catalog.STACK}",
        template=template,
        parameters=values,
        depends_on=tuple(catalog.DEPENDS_ON),
        protected_resources=tuple(catalog.PROTECTED_RESOURCES),
    )


def synthesize_self_service(params: Params, monitoring_template: bytes, analyzer: str = "",
                            synthesis: Synthesis | None = None) -> StackOutput:
    """The endpoint-monitoring product (templates/endpoint_monitoring.py): a nested stack of `monitoring_template`,
    the bytes `make catalog` uploads, with the monitoring values of a stand-in endpoint of this environment;
    `analyzer`: the analyzer package's prefix (`analyzer_prefix`), when the environment offers the processing engine;
    `synthesis`, the environment's, lends its monitoring template instead of building it again."""
    import hashlib

    from mmtool.generate.synth import monitoring_values_for
    from mmtool.config.params import ExistingEndpoint, FleetEndpoint, MonitoringSettings
    from templates import endpoint_monitoring as product

    stand_in = FleetEndpoint(product.SENTINEL_KEY, False, None, ExistingEndpoint(endpoint_name=product.SENTINEL_ENDPOINT),
                             MonitoringSettings())
    child = json.loads(monitoring_template)
    values = monitoring_values_for(params, stand_in, synthesis)
    template = finished_template(product.build(params, values, child, hashlib.sha256(monitoring_template).hexdigest(),
                                               analyzer))
    return StackOutput(name=product.STACK, stack_name=f"{params.prefix}-{product.STACK}", template=template,
                       parameters=dict(EXAMPLE_LAUNCH), depends_on=(), protected_resources=())


# What cfn-lint lints the product with (and docs/handoff.md shows): a launch with the Defaults and these choices.
EXAMPLE_LAUNCH = {"EndpointName": "my-endpoint", "MonitorName": "my-model"}


def files(stack: StackOutput) -> dict[str, bytes]:
    """The template and parameter file, written with the other stacks' (before lint)."""
    return {stack.template_file: dump_json(stack.template), stack.parameters_file: dump_json(stack.parameter_file_body())}


def manifest(params: Params, stack: StackOutput) -> dict[str, Any]:
    """A deploy-engine manifest (format 1) with the catalog stack alone, written after lint like manifest.json."""
    return {
        "format_version": MANIFEST_FORMAT,
        "project": params.project,
        "environment": params.environment,
        "region": params.region,
        "account_id": params.account_id,
        "tags": stack_tags(params),
        "deploy": params.deploy.model_dump(),
        "stacks": [{
            "name": stack.name,
            "stack_name": stack.stack_name,
            "template": stack.template_file,
            "parameters": stack.parameters_file,
            "depends_on": [],
            "protected_resources": list(stack.protected_resources),
            "capabilities": ["CAPABILITY_NAMED_IAM"],
        }],
        "assets": [],
    }


def manifest_bytes(params: Params, stack: StackOutput) -> bytes:
    return dump_json(manifest(params, stack))
