"""Synthesize one environment: templates, parameter files, assets and the manifest, as bytes in memory.

One template per stack kind (foundation, network, endpoint, monitoring, alarms), identical for every endpoint and
environment; one parameter file per stack. A fleet endpoint `<key>` has the stacks `<key>-endpoint` (only when we
create the endpoint) and `<key>-monitoring`, whose parameter files `<key>-endpoint.parameters.json` and
`<key>-monitoring.parameters.json` go with `endpoint.template.json` and `monitoring.template.json`. The
single-endpoint form keeps today's names (`endpoint`, `monitoring`).

Nothing here touches the network or AWS; writing to disk is a separate step so that a failure
anywhere leaves `build/` untouched. The same input gives byte-identical output.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import ModuleType
from typing import Any

from mmtool import json_text
from mmtool.generate import clarify
from mmtool.generate.assets import MARKER, render_preprocessor
from mmtool.generate.notes import stack_notes
from mmtool.config import layout
from mmtool.config.monitor_kinds import KINDS, settings
from mmtool.config.params import FleetEndpoint, Params, PreprocessorSettings
from mmtool.errors import ToolError
from templates import alarms, foundation, monitoring, network
from templates import endpoint as templates_endpoint
from templates.common import Inputs, StackTemplate
from templates.endpoint import MODEL_IDENTITY_UPSTREAM, model_name
from templates.monitoring import config_asset
from templates.processing_engine import ANALYZER_ASSET

MANIFEST_FORMAT = 1
SCHEMA_REGION = "us-east-1"  # create-only properties are the same in every region; one region keeps the build stable
ASSETS_PREFIX = layout.ASSETS.prefix
RESERVED_TAGS = ("Project", "Environment", "ManagedBy")


def dump_json(data: Any) -> bytes:
    return json_text.dumps(data, ensure_ascii=False)


@dataclass
class StackOutput:
    name: str  # unique in the manifest: foundation, <key>-monitoring, ...
    stack_name: str
    template: dict[str, Any]
    parameters: dict[str, str]
    depends_on: tuple[str, ...]
    protected_resources: tuple[str, ...]
    kind: str = ""  # the template module (templates/<kind>.py); empty: same as name
    endpoint: str | None = None  # the fleet endpoint's key; None for the environment's shared stacks
    notes: tuple[str, ...] = ()  # shown by `make plan` under the stack (mmtool/generate/notes.py)
    guarded_resources: dict[str, str] = field(default_factory=dict)  # logical id -> why (deployer/manifest.py)

    @property
    def template_file(self) -> str:
        return f"{self.kind or self.name}.template.json"

    @property
    def parameters_file(self) -> str:
        return f"{self.name}.parameters.json"

    def parameter_file_body(self) -> list[dict[str, str]]:
        return [{"ParameterKey": k, "ParameterValue": v} for k, v in sorted(self.parameters.items())]


@dataclass
class Synthesis:
    """Everything `build/<env>/` will hold, keyed by path relative to that folder."""

    params: Params
    stacks: list[StackOutput]
    assets: dict[str, bytes] = field(default_factory=dict)  # relative file -> content
    asset_keys: dict[str, str] = field(default_factory=dict)  # relative file -> bucket key
    # the analyzer package's bucket prefix where the environment has the processing engine (Params.has_processing_engine)
    analyzer_prefix: str = ""
    # each stack kind's (template dict, StackTemplate), built once per environment (monitoring_values_for reuses it)
    kinds: dict[str, tuple[dict[str, Any], StackTemplate]] = field(default_factory=dict, repr=False, compare=False)
    # each script's source and whether it has the MARKER line, read once per environment, and each rendering of it
    # per settings: a fleet's endpoints load the same scripts, mostly with the same settings
    sources: dict[str, tuple[str, bool]] = field(default_factory=dict, repr=False, compare=False)
    rendered: dict[tuple[str, str], bytes] = field(default_factory=dict, repr=False, compare=False)
    hashed: dict[int, str] = field(default_factory=dict, repr=False, compare=False)  # id(asset bytes) -> sha256

    def sha256(self, content: bytes) -> str:
        """The SHA-256 (hex) of an asset's bytes, computed once per bytes object: a fleet's endpoints mostly share a
        script's rendering (one object, kept alive by `assets`)."""
        if id(content) not in self.hashed:
            self.hashed[id(content)] = hashlib.sha256(content).hexdigest()
        return self.hashed[id(content)]

    def files(self) -> dict[str, bytes]:
        out: dict[str, bytes] = {}
        dumped: dict[str, object] = {}  # template file -> the template dict it was dumped from
        for stack in self.stacks:
            if dumped.get(stack.template_file) is stack.template:  # a stack kind's stacks share one dict: dumped
                template = out[stack.template_file]
            else:
                template = dump_json(stack.template)
                dumped[stack.template_file] = stack.template
            if out.setdefault(stack.template_file, template) != template:  # pragma: no cover - a template bug
                raise ToolError(f"internal error: two {stack.kind} stacks of {self.params.environment} built different "
                                "templates; a template may depend on the environment, never on an endpoint")
            out[stack.parameters_file] = dump_json(stack.parameter_file_body())
        out.update(self.assets)
        return out

    def manifest(self) -> dict[str, Any]:
        p = self.params
        return {
            "format_version": MANIFEST_FORMAT,
            "project": p.project,
            "environment": p.environment,
            "region": p.region,
            "account_id": p.account_id,
            "tags": stack_tags(p),
            "deploy": p.deploy.model_dump(),
            "stacks": [
                {
                    "name": s.name,
                    "endpoint": s.endpoint,
                    "stack_name": s.stack_name,
                    "template": s.template_file,
                    "parameters": s.parameters_file,
                    "depends_on": list(s.depends_on),
                    "protected_resources": list(s.protected_resources),
                    **({"guarded_resources": dict(s.guarded_resources)} if s.guarded_resources else {}),
                    "capabilities": ["CAPABILITY_NAMED_IAM"] if _has_iam(s.template) else [],
                    **({"notes": list(s.notes)} if s.notes else {}),
                }
                for s in self.stacks
            ],
            "assets": [
                {"file": f, "key": self.asset_keys[f], "sha256": self.sha256(c)}
                for f, c in sorted(self.assets.items())
            ],
            "asset_bucket": {"stack": "foundation", "output": "BucketName"},
            "asset_kms_key": {"stack": "foundation", "output": "KmsKeyArn"},
            **({"copies": copies} if (copies := baseline_copy_entries(p)) else {}),
        }


def baseline_copy_entries(params: Params) -> list[dict[str, Any]]:
    """The baselines named in params, as the deploy engine copies them into the project bucket before the stacks
    that read them (mmtool/config/baselines.py says why copies; deployer/uploads.py makes them)."""
    from mmtool.config.baselines import baseline_copies

    return [{"field": c.field, "source": c.source, "key": c.key,
             "endpoint": c.field.split(".")[1] if c.field.startswith("endpoints.") else None}
            for c in baseline_copies(params)]


def stack_tags(params: Params) -> dict[str, str]:
    return {"Project": params.project, "Environment": params.environment, "ManagedBy": "model-monitor-deployer",
            **params.tags}


def _has_iam(template: dict[str, Any]) -> bool:
    return any(r.get("Type", "").startswith("AWS::IAM::") for r in template.get("Resources", {}).values())


def synthesize(params: Params, repo_root: Path) -> Synthesis:
    synthesis = Synthesis(params, [])
    if params.has_processing_engine:  # its endpoints' jobs and the catalog product's launches load it
        synthesis.analyzer_prefix = _analyzer_assets(params, repo_root, synthesis)
    cache: dict[str, tuple[dict[str, Any], StackTemplate]] = {}  # one template per stack kind, built once
    shared = {name: _stack(module, params, Inputs(params), cache)
              for name, module in (("foundation", foundation), ("network", network))}
    synthesis.stacks += shared.values()
    for fleet_endpoint in params.fleet():
        synthesis.stacks += _endpoint_stacks(params, fleet_endpoint, repo_root, synthesis, shared["network"], cache)
    synthesis.stacks.append(_stack(alarms, params, Inputs(params), cache))
    synthesis.kinds = {kind: built for kind, built in cache.items() if isinstance(kind, str)}
    return synthesis


def _endpoint_stacks(params: Params, endpoint: FleetEndpoint, root: Path, synthesis: Synthesis,
                     network_stack: StackOutput, cache: dict) -> list[StackOutput]:
    """The stacks of one fleet endpoint: its endpoint (only when we create it) and its monitoring."""
    stacks = []
    asset_keys = _assets(params, endpoint, root, synthesis)
    if endpoint.monitoring.runs_processing:
        asset_keys[ANALYZER_ASSET] = synthesis.analyzer_prefix
    model = ""
    depends = ["foundation", "network"]
    if endpoint.create:
        upstream = {k: network_stack.parameters.get(k, "") for k in MODEL_IDENTITY_UPSTREAM}
        if not endpoint.legacy:  # two fleet endpoints serving one model still get two model names
            upstream["EndpointKey"] = endpoint.key
        created = _stack(templates_endpoint, params, Inputs(params, endpoint, identity=upstream), cache,
                         endpoint=endpoint)
        stacks.append(created)
        depends.append(created.name)
        # The Clarify configurations name the endpoint's model, whose name the endpoint stack's revision fixes.
        model = model_name(params.prefix, created.parameters)
    elif endpoint.existing and endpoint.existing.model_name:
        # Someone else's model, named in the params file (make plan checks the endpoint serves it).
        model = endpoint.existing.model_name
    asset_keys.update(_clarify_assets(params, endpoint, synthesis, model))
    stacks.append(_stack(monitoring, params, Inputs(params, endpoint, asset_keys, model), cache,
                         endpoint=endpoint, depends_on=tuple(depends)))
    notes = stack_notes(params, endpoint)
    for stack in stacks:
        stack.notes = tuple(notes.get(stack.kind, ()))
    return stacks


def monitoring_values_for(params: Params, endpoint: FleetEndpoint, synthesis: Synthesis | None = None) -> dict[str, str]:
    """A monitoring stack's parameter values for `endpoint`, with no assets (the Service Catalog endpoint-monitoring
    product fills a stand-in endpoint's values in; mmtool.generate.catalog_synth). With the environment's
    `synthesis`, its monitoring template is reused instead of built and serialized again; nothing read from the
    shared stacks is counted either way."""
    cache = {monitoring.STACK: synthesis.kinds[monitoring.STACK]} if synthesis and monitoring.STACK in synthesis.kinds else {}
    return _stack(monitoring, params, Inputs(params, endpoint), cache, endpoint=endpoint).parameters


def finished_template(built: StackTemplate) -> dict[str, Any]:
    """`built` finished, as plain JSON data: what `json.loads(built.finish().to_json())` gives, with troposphere's
    to_dict computed once (finish() computes it; to_json would compute it again)."""
    built.finish()
    return json.loads(json.dumps(built.as_dict(), sort_keys=True))


def _add_asset(synthesis: Synthesis, endpoint: FleetEndpoint, file_name: str, content: bytes, folder: str = "") -> str:
    """Keep `content` as build/<env>/assets/[<key>/][<folder>/]<file_name> (the key for a fleet endpoint, none
    for the single-endpoint form), uploaded as monitoring-assets/<hash>/<file_name>."""
    parts = ([] if endpoint.legacy else [endpoint.key]) + ([folder] if folder else []) + [file_name]
    relative = "assets/" + "/".join(parts)
    synthesis.assets[relative] = content
    digest = synthesis.sha256(content)
    synthesis.asset_keys[relative] = f"{ASSETS_PREFIX}/{digest[:20]}/{file_name}"
    return synthesis.asset_keys[relative]


def _clarify_assets(params: Params, endpoint: FleetEndpoint, synthesis: Synthesis, model: str) -> dict[str, str]:
    """The Clarify analysis configurations of the endpoint's enabled Clarify monitors, as content-hashed assets.

    Each object is named analysis_config.json, as the SageMaker SDK and AWS's samples name it; the hashed prefix
    tells them apart in the bucket, a folder per monitor in build/<env>/assets/ (under the endpoint's key in a
    fleet: assets/<key>/model-bias/analysis_config.json)."""
    return {config_asset(kind): _add_asset(synthesis, endpoint, clarify.CONFIG_FILE,
                                           clarify.render(clarify.ANALYSES[kind.analysis](params, endpoint, model)),
                                           folder=kind.name)
            for kind in KINDS if kind.analysis and settings(endpoint.monitoring, kind).enabled}


ANALYZER = "scripts/analyzer"  # the processing engine's analyzer package (docs/engine.md)


def _analyzer_assets(params: Params, root: Path, synthesis: Synthesis) -> str:
    """The analyzer package, every file under one content-hashed prefix (the job's code input downloads the prefix):
    build/<env>/assets/analyzer/<file>, uploaded as monitoring-assets/<hash>/analyzer/<file>. Returns the prefix."""
    folder = root / ANALYZER
    files = sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                   and p.suffix != ".pyc") if folder.is_dir() else []
    if not files:
        raise ToolError(f"params/{params.environment}.yaml: the environment has the processing engine (an endpoint's "
                        f"monitoring.engine, or catalog.offer_processing_engine), whose jobs load the analyzer from "
                        f"{ANALYZER}/, and there is none; restore it (docs/engine.md)")
    contents = {p.relative_to(folder).as_posix(): p.read_bytes() for p in files}
    for relative, content in contents.items():
        synthesis.assets[f"assets/analyzer/{relative}"] = content
    digest = hashlib.sha256(json.dumps({k: synthesis.sha256(v) for k, v in contents.items()},
                                       sort_keys=True).encode()).hexdigest()
    prefix = f"{ASSETS_PREFIX}/{digest[:20]}"
    for relative in contents:
        synthesis.asset_keys[f"assets/analyzer/{relative}"] = f"{prefix}/analyzer/{relative}"
    return prefix


def _assets(params: Params, endpoint: FleetEndpoint, root: Path, synthesis: Synthesis) -> dict[str, str]:
    """Render the scripts the endpoint's jobs load and give each a content-hashed key. Returns path -> key."""
    dq = endpoint.monitoring.data_quality
    keys: dict[str, str] = {}
    for script, config in ((dq.record_preprocessor, dq.preprocessor.model_dump()), (dq.post_analytics_processor, None)):
        if not script:
            continue
        if script not in synthesis.sources:
            text = (root / script).read_text(encoding="utf-8")
            synthesis.sources[script] = text, any(line.startswith(MARKER) for line in text.splitlines())
        source, marked = synthesis.sources[script]
        if config is not None and not marked and dq.preprocessor != PreprocessorSettings():
            at = "" if endpoint.legacy else f"endpoints.{endpoint.key}."
            raise ToolError(
                f"params/{params.environment}.yaml: {at}monitoring.data_quality.preprocessor is set but {script} has "
                f"no '{MARKER}...' line to receive it; remove the settings or add the line (see "
                "scripts/record_preprocessor.py)"
            )
        settings = json.dumps(config, sort_keys=True) if config is not None and marked else None
        rendering = (script, settings or "")
        if rendering not in synthesis.rendered:  # the script with these settings, or as it is
            body = render_preprocessor(source, config, source_name=script) if settings else source
            synthesis.rendered[rendering] = body.encode()
        keys[script] = _add_asset(synthesis, endpoint, PurePosixPath(script).name, synthesis.rendered[rendering])
    return keys


def _stack(module: ModuleType, params: Params, inputs: Inputs, cache: dict, *,
           endpoint: FleetEndpoint | None = None, depends_on: tuple[str, ...] | None = None) -> StackOutput:
    """One stack: the kind's template (built once per environment) and this stack's parameter values, computed by
    the value each Parameter was declared with (templates/common.py `StackTemplate.param`)."""
    if module.STACK not in cache:
        built = module.build(params)
        cache[module.STACK] = (finished_template(built), built)
    template, built = cache[module.STACK]
    if ("imported", module.STACK) not in cache:  # the same for every endpoint: it reads the shared stacks
        cache[("imported", module.STACK)] = _imported(built, cache)
    imported = cache[("imported", module.STACK)]
    values = built.parameter_file(dataclasses.replace(inputs, imported=imported))
    if endpoint is None:  # an environment's stack: others may read what it publishes
        cache[("published", module.STACK)] = (built, values, imported)
    _check_parameters(module.STACK, template, values)
    return StackOutput(
        name=endpoint.manifest_name(module.STACK) if endpoint else module.STACK,
        stack_name=endpoint.stack_name(params, module.STACK) if endpoint else f"{params.prefix}-{module.STACK}",
        template=template,
        parameters=values,
        depends_on=depends_on if depends_on is not None else tuple(module.DEPENDS_ON),
        protected_resources=tuple(module.PROTECTED_RESOURCES),
        guarded_resources=dict(getattr(module, "GUARDED_RESOURCES", {})),
        kind=module.STACK,
        endpoint=endpoint.key if endpoint else None,
    )


def _imported(built: StackTemplate, cache: dict) -> dict[str, str]:
    """For each value of another stack this stack reads through SSM, a digest of what that value is made from
    (StackTemplate.published_digest): a job definition's revision counts it, so its name changes when the value
    does, even though the SSM parameter's name (the only thing in this stack's parameter file) stays the same."""
    digests = {}
    for item in built.imports:
        if ("published", item.stack) in cache:
            upstream, values, imported = cache[("published", item.stack)]
            digests[item.parameter] = upstream.published_digest(item.key, values, imported, create_only)
    return digests


@functools.lru_cache(maxsize=None)
def create_only(resource_type: str) -> frozenset[str]:
    """The top-level properties whose change replaces a resource of this type: `createOnlyProperties` of its
    CloudFormation resource schema, from the copy cfn-lint ships (the same one it lints our templates with; read
    without importing cfn-lint, mmtool/generate/schemas.py)."""
    from mmtool.generate.schemas import resource_schema

    schema = resource_schema(resource_type, SCHEMA_REGION)
    return frozenset(path.split("/")[2] for path in schema.get("createOnlyProperties", []))


def _check_parameters(stack: str, template: dict[str, Any], values: dict[str, str]) -> None:
    declared = template.get("Parameters", {})
    unknown = sorted(set(values) - set(declared))
    missing = sorted(n for n, p in declared.items() if "Default" not in p and n not in values)
    if unknown or missing:
        raise ToolError(
            f"internal error in templates/{stack}.py: parameter values and template disagree "
            f"(values for undeclared parameters: {unknown or 'none'}; required parameters without a value: "
            f"{missing or 'none'})"
        )
