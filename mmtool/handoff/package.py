"""`build.py package --env E` (`make package ENV=e`): the hand-off bundle `dist/<project>-<version>-<env>.zip`.

Everything a platform team needs to review and deploy with plain AWS tooling, nothing of ours to run:

  <project>-<version>-<env>/
    DEPLOY.md              the exact AWS CLI commands (v1 and v2), in dependency order, and how to check
    PARAMETERS.md          every template's Parameters (type, default, allowed values/pattern, description,
                           this environment's value), generated from the templates
    lint-report.txt        cfn-lint's output over each template with this environment's parameter file
    architecture.svg       stacks, resources, references inside a stack and SSM edges between stacks
    <stack>.template.json, <stack>.parameters.json, assets/..., manifest.json   as `make build` wrote them
    SHA256SUMS             sha256 of every other file (`sha256sum -c SHA256SUMS`)

Reproducible: the version comes from git (`git describe --tags --always --dirty`), nothing reads the clock,
and the zip has fixed timestamps (1980-01-01), permissions (0644) and order, so two packages of the same
commit are byte-identical.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import shlex
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deployer.progress import Step, to_stderr
from mmtool.config import layout
from mmtool.config.monitor_kinds import KINDS, PROCESSING
from mmtool.config.workspace import display_path, environments
from mmtool.errors import ToolError
from mmtool.handoff import existing_endpoints
from mmtool.operate.existing_endpoint import AdoptTarget
from mmtool.version import describe

TEMPLATE_BODY_LIMIT = 51_200  # bytes of --template-file above which `aws cloudformation deploy` needs --s3-bucket
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
CLI_TEMPLATES_PREFIX = layout.TEMPLATES.prefix


def git_version(root: Path) -> str:
    """The commit (`git describe --tags --always --dirty`, mmtool/version.py), reduced to [A-Za-z0-9._-] (a file
    name part)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", describe(root) or "").strip("-.") or "unversioned"


# --- the build being packaged -------------------------------------------------------------------


@dataclass
class Stack:
    name: str
    stack_name: str
    template_file: str
    parameters_file: str
    template: dict[str, Any]
    values: dict[str, str]  # the parameter file's values
    capabilities: list[str]
    size: int  # bytes of the template file
    endpoint: str | None = None  # the fleet endpoint's key; None for the environment's shared stacks

    def overrides(self) -> list[tuple[str, str]]:
        """Every declared parameter: the file's value, else the template Default (see DEPLOY.md: no stale values)."""
        result = []
        for key, declared in self.template.get("Parameters", {}).items():
            if key in self.values:
                result.append((key, self.values[key]))
            elif "Default" in declared:
                default = declared["Default"]
                result.append((key, ",".join(map(str, default)) if isinstance(default, list) else str(default)))
        return sorted(result)


@dataclass
class Build:
    folder: Path
    manifest: dict[str, Any]
    stacks: list[Stack]
    endpoint: str | None = None  # a bundle of one fleet endpoint's stacks (`make package ENDPOINT=key`)
    existing: list[AdoptTarget] = field(default_factory=list)  # the bundled `existing` endpoints

    @property
    def assets(self) -> list[dict[str, Any]]:
        """The manifest's assets this bundle uploads: all, or those of its one endpoint (assets/<key>/...)."""
        assets = self.manifest["assets"]
        if not self.endpoint:
            return assets
        # the analyzer package is shared (one content-hashed prefix); an endpoint on the processing engine needs it
        analyzer = {f"{s.values['AnalyzerPrefix']}/" for s in self.stacks if s.values.get("AnalyzerPrefix")}
        return [a for a in assets if a["file"].startswith(f"assets/{self.endpoint}/")
                or any(a["key"].startswith(prefix) for prefix in analyzer)]

    def processing_schedules(self) -> list[tuple[Stack, str]]:
        """(monitoring stack, EventBridge Scheduler schedule name) of every processing-engine monitor of the bundle,
        named as templates/processing_engine.py names them (docs/engine.md)."""
        project, env = self.manifest["project"], self.manifest["environment"]
        result = []
        for stack in self.stacks:
            key = stack.values.get("EndpointKey", "")
            for kind in KINDS:
                if PROCESSING in kind.engines and stack.values.get(f"{kind.stem}Processing") == "true":
                    name = f"{project}-{env}-{key}-{kind.code}-proc" if key else f"{project}-{env}-{kind.name}-processing"
                    result.append((stack, name))
        return result

    @property
    def region(self) -> str:
        return self.manifest["region"]

    def ssm_writers(self) -> dict[str, tuple[str, str]]:
        """Resolved SSM parameter name -> (stack, logical id of the AWS::SSM::Parameter that writes it)."""
        project, env = self.manifest["project"], self.manifest["environment"]
        writers = {}
        templates = {s["name"]: json.loads((self.folder / s["template"]).read_text()) for s in self.manifest["stacks"]}
        for stack, template in templates.items():  # every stack's, bundled or not (one endpoint's bundle reads upstream)
            for logical_id, resource in template.get("Resources", {}).items():
                if resource.get("Type") != "AWS::SSM::Parameter":
                    continue
                name = resource.get("Properties", {}).get("Name")
                text = name.get("Fn::Sub") if isinstance(name, dict) else name
                if isinstance(text, str):
                    resolved = text.replace("${ProjectName}", project).replace("${EnvironmentName}", env)
                    writers[resolved] = (stack, logical_id)
        return writers

    def output_ssm_name(self, stack: str, output: str) -> str:
        """The SSM name under which `stack` publishes `output` (templates.common.StackTemplate.publish)."""
        for name, (writer, logical_id) in self.ssm_writers().items():
            if writer == stack and logical_id == f"{output}Parameter":
                return name
        raise ToolError(f"internal error: {stack} writes no SSM parameter for its output {output}")


def load_build(folder: Path, endpoint: str | None = None, existing: list[AdoptTarget] | None = None) -> Build:
    """`folder`'s stacks, or with `endpoint` only that fleet endpoint's (the shared ones are then prerequisites)."""
    manifest = json.loads((folder / "manifest.json").read_text())
    stacks = []
    for entry in manifest["stacks"]:
        if endpoint is not None and entry.get("endpoint") != endpoint:
            continue
        values = {p["ParameterKey"]: p["ParameterValue"]
                  for p in json.loads((folder / entry["parameters"]).read_text())}
        stacks.append(Stack(entry["name"], entry["stack_name"], entry["template"], entry["parameters"],
                            json.loads((folder / entry["template"]).read_text()), values, entry["capabilities"],
                            (folder / entry["template"]).stat().st_size, entry.get("endpoint")))
    keys = {s.endpoint for s in stacks}
    return Build(folder, manifest, stacks, endpoint, [t for t in existing or [] if t.key in keys])


# --- DEPLOY.md ----------------------------------------------------------------------------------


def _q(value: str) -> str:
    return shlex.quote(value)


def _deploy_command(build: Build, stack: Stack, bucket_known: bool) -> str:
    lines = [f"aws cloudformation deploy --region {_q(build.region)} --stack-name {_q(stack.stack_name)} \\",
             f"  --template-file {_q(stack.template_file)} \\"]
    if stack.size > TEMPLATE_BODY_LIMIT:
        if not bucket_known:
            raise ToolError(f"{stack.template_file} is {stack.size} bytes, over the {TEMPLATE_BODY_LIMIT} bytes "
                            "`aws cloudformation deploy` sends inline, and it is deployed before the project bucket "
                            "exists; shrink the template")
        lines.append(f'  --s3-bucket "$BUCKET" --s3-prefix {CLI_TEMPLATES_PREFIX}/{stack.name} '
                     '--kms-key-id "$KMS_KEY_ARN" \\')
    if stack.capabilities:
        lines.append(f"  --capabilities {' '.join(stack.capabilities)} \\")
    lines.append("  --no-fail-on-empty-changeset \\")
    lines.append("  --parameter-overrides \\")
    lines += [f"    {_q(f'{k}={v}')} \\" for k, v in stack.overrides()]
    tags = sorted(build.manifest["tags"].items())
    for key, _ in tags:
        if "=" in key:
            raise ToolError(f"tag key {key!r} contains '=': `aws cloudformation deploy --tags Key=Value` cannot "
                            "express it; rename the tag in params")
    lines.append("  --tags \\")
    lines += [f"    {_q(f'{k}={v}')}" + (" \\" if i < len(tags) - 1 else "") for i, (k, v) in enumerate(tags)]
    return "\n".join(lines)


def deploy_markdown(build: Build, version: str) -> str:
    m = build.manifest
    bucket_stack = m["asset_bucket"]["stack"]
    bucket_name = build.output_ssm_name(bucket_stack, m["asset_bucket"]["output"])
    key_name = build.output_ssm_name(m["asset_kms_key"]["stack"], m["asset_kms_key"]["output"])
    account = f"account {m['account_id']}" if m.get("account_id") else "the target account"
    region = _q(build.region)
    parts = [
        f"# Deploying {m['project']} {m['environment']}{f', endpoint {build.endpoint}' if build.endpoint else ''} "
        f"({version})",
        "",
        f"Plain CloudFormation, deployed with the AWS CLI (version 1 or 2) into {account}, region {build.region}. "
        "Nothing of the tool that generated this bundle is needed. Run every `sh` block below **in order, in one "
        "shell session, from this folder** (the asset step sets `BUCKET` and `KMS_KEY_ARN`, used by later "
        "steps). Each command is safe to run again: a stack with nothing to change is left as it is.",
        "",
        "The stacks read each other's values from SSM Parameter Store (`/" + m["project"] + "/" + m["environment"]
        + "/<stack>/<key>`): each upstream stack writes them, each downstream template declares "
        "`AWS::SSM::Parameter::Value` Parameters whose values are those names, so nothing is copied by hand. "
        "Deploy in the order below.",
        "",
        "## Why the commands look like this",
        "",
        "* `--parameter-overrides Key=Value ...`: the one form both CLI versions accept. CLI v1's `deploy` does "
        "not read the CloudFormation parameter-file format (`[{\"ParameterKey\": ...}]`, the `<stack>.parameters.json` "
        "files here, which `create-stack --parameters file://...` and CLI v2 read); `Key=Value` items work in both.",
        "* Every parameter the template declares is passed, those the parameter file leaves out at their template "
        "Default: on an update `deploy` would otherwise keep each omitted parameter's previous value.",
        "* `--tags Key=Value ...`: the stack tags (CloudFormation propagates them); the same form in v1 and v2.",
        "* `--no-fail-on-empty-changeset`: a re-run with nothing to change succeeds (exit 0).",
        f"* Templates over {TEMPLATE_BODY_LIMIT:,} bytes cannot be sent inline: their command uploads them to the "
        f"project bucket (`--s3-bucket`, under `{CLI_TEMPLATES_PREFIX}/`, SSE-KMS with the project key).",
        "* `AWS_PAGER=\"\"`: CLI v2 would page `describe` output; v1 ignores it. `--region` is explicit everywhere.",
        "* Values are quoted for a POSIX shell (bash, zsh, sh).",
        "",
        "Permissions: the caller creates the stacks' IAM roles (`CAPABILITY_NAMED_IAM`), so it needs CloudFormation "
        "plus the permissions for every resource of the templates, `ssm:GetParameter(s)` on the project's "
        "parameters, and `s3:PutObject` / `kms:GenerateDataKey` for the uploads.",
        "",
        "## 0. Check the files",
        "",
        "```sh",
        'export AWS_PAGER=""',
        "sha256sum -c SHA256SUMS     # macOS: shasum -a 256 -c SHA256SUMS",
        "```",
    ]
    parts += _endpoints_overview(build)
    parts += _processing_engine(build)
    step = 1
    bundled = {s.name for s in build.stacks}
    bucket_known = bucket_stack not in bundled  # one endpoint's bundle: the shared stacks are deployed already
    if bucket_known:
        shared = [e for e in m["stacks"] if e["name"] not in bundled and e.get("endpoint") is None
                  and any(e["name"] in s_entry["depends_on"] for s_entry in m["stacks"] if s_entry["name"] in bundled)]
        parts += ["", f"## {step}. The shared stacks this endpoint needs", "",
                  "This bundle holds one endpoint's stacks. The environment's shared stacks ("
                  + ", ".join(f"`{e['stack_name']}`" for e in shared) + ") come from the environment's own bundle "
                  f"(`make package ENV={m['environment']}`) and must be deployed; each should print "
                  "`CREATE_COMPLETE` or `UPDATE_COMPLETE`:", "", "```sh"]
        parts += [f"aws cloudformation describe-stacks --region {region} --stack-name {_q(e['stack_name'])} "
                  "--query 'Stacks[0].[StackName, StackStatus]' --output text" for e in shared]
        parts.append("```")
        step += 1
        parts += _asset_step(build, step, bucket_stack, bucket_name, key_name)
        step += 1
    existing = {t.key: t for t in build.existing}
    for stack in build.stacks:
        depends = ", ".join(next(e for e in m["stacks"] if e["name"] == stack.name)["depends_on"]) or "none"
        target = existing.get(stack.endpoint) if stack.template_file == "monitoring.template.json" else None
        if target is not None:
            parts += ["", f"## {step}. Data Capture of `{target.endpoint_name}` (endpoint {target.key}, deployed by "
                      "someone else)", "",
                      f"Its monitors read its Data Capture: the endpoint must be InService and capture into "
                      f"`s3://$BUCKET/{target.capture_prefix}`. This stops the run with the reason when it does not; "
                      f"[{existing_endpoints.page_name(target)}]({existing_endpoints.page_name(target)}) turns it on "
                      "without downtime and has the snippets for the endpoint's owner.", "", "```sh",
                      *existing_endpoints.check_block(target, build.region), "```"]
            step += 1
        parts += ["", f"## {step}. Stack {stack.name} (`{stack.stack_name}`; needs: {depends})", "",
                  "```sh", _deploy_command(build, stack, bucket_known), "```"]
        step += 1
        if stack.name == bucket_stack:
            bucket_known = True
            parts += _asset_step(build, step, bucket_stack, bucket_name, key_name)
            step += 1
    names = " ".join(_q(s.stack_name) for s in build.stacks)
    parts += ["", "## Check", "", "Every stack should be `CREATE_COMPLETE` or `UPDATE_COMPLETE`, every asset "
              "present and encrypted with `aws:kms`:", "", "```sh",
              f"for stack in {names}; do",
              f"  echo \"$stack $(aws cloudformation describe-stacks --region {region} --stack-name \"$stack\" "
              "--query 'Stacks[0].StackStatus' --output text)\"",
              "done"]
    for asset in build.assets:
        parts.append(f'echo "{asset["file"]} $(aws s3api head-object --region {region} --bucket "$BUCKET" '
                     f'--key {_q(asset["key"])} --query ServerSideEncryption --output text)"')
    group = f"{m['project']}-{m['environment']}"
    for _, schedule in build.processing_schedules():
        parts.append(f"aws scheduler get-schedule --region {region} --group-name {_q(group)} --name {_q(schedule)} "
                     "--query '[Name, State, ScheduleExpression]' --output text")
    parts += ["```", "",
              "A failed stack: `aws cloudformation describe-stack-events --region " + build.region
              + " --stack-name <name>` shows the reason (the first `*_FAILED` event). Outputs: "
              "`aws cloudformation describe-stacks --stack-name <name> --query 'Stacks[0].Outputs'`.", ""]
    return "\n".join(parts)


def _asset_step(build: Build, step: int, bucket_stack: str, bucket_name: str, key_name: str) -> list[str]:
    region = _q(build.region)
    lines = ["", f"## {step}. Assets, and the bucket and key the next steps use", "",
             f"The {bucket_stack} stack wrote the project bucket and KMS key to SSM. The assets go under their "
             "content-hashed keys (the monitoring template names these keys), encrypted with the project key.", "",
             "```sh",
             f"BUCKET=$(aws ssm get-parameter --region {region} --name {_q(bucket_name)} "
             "--query Parameter.Value --output text)",
             f"KMS_KEY_ARN=$(aws ssm get-parameter --region {region} --name {_q(key_name)} "
             "--query Parameter.Value --output text)"]
    lines += [f'aws s3 cp {_q(asset["file"])} "s3://$BUCKET/{asset["key"]}" --region {region} '
              '--sse aws:kms --sse-kms-key-id "$KMS_KEY_ARN"' for asset in build.assets]
    return lines + ["```"]


def _processing_engine(build: Build) -> list[str]:
    """What an endpoint on the processing engine adds to the steps (docs/engine.md, docs/handoff.md)."""
    schedules = build.processing_schedules()
    if not schedules:
        return []
    m = build.manifest
    group = f"{m['project']}-{m['environment']}"
    analyzer = sorted({a["key"].split("/analyzer/")[0] for a in build.assets if "/analyzer/" in a["key"]})
    lines = ["", "## The processing engine", "",
             "These monitors run on the processing engine (EventBridge Scheduler starts a SageMaker Processing job "
             "that runs the project's analyzer; docs/engine.md of the project), not on SageMaker Model Monitor:", "",
             "| Endpoint stack | Schedule |", "| --- | --- |"]
    lines += [f"| `{stack.stack_name}` | `{name}` |" for stack, name in schedules]
    lines += ["",
              f"* The schedules live in the EventBridge Scheduler group `{group}`, which the foundation stack "
              f"(`{m['project']}-{m['environment']}-foundation`, parameter `ProcessingEngine=true`) creates: deploy it "
              "from this environment's build before the monitoring stacks.",
              "* The jobs run the analyzer package (`assets/analyzer/`, "
              + str(sum(1 for a in build.assets if "/analyzer/" in a["key"])) + " files) from "
              + (", ".join(f"`s3://$BUCKET/{prefix}/`" for prefix in analyzer) or "the bucket")
              + ": the asset step uploads it with the other assets; a job whose code is missing fails at its start.",
              "* The Check step reads each schedule (`aws scheduler get-schedule`: name, `ENABLED`, expression); "
              "the runs are processing jobs named `dq-<hash>-...` / `mq-<hash>-...` "
              "(the monitoring stack's output `ProcessingJobNamePrefixes`): "
              f"`aws sagemaker list-processing-jobs --region {_q(build.region)} --name-contains <prefix> "
              "--sort-by CreationTime --sort-order Descending`."]
    return lines


def _endpoints_overview(build: Build) -> list[str]:
    """A fleet's endpoints: which this bundle creates and which someone else deployed."""
    monitoring = [s for s in build.stacks if s.endpoint is not None and s.template_file == "monitoring.template.json"]
    if not monitoring:
        return []
    created = {s.endpoint for s in build.stacks if s.template_file == "endpoint.template.json"}
    existing = {t.key: t for t in build.existing}
    lines = ["", "## The endpoints", "", "| Endpoint | SageMaker endpoint | Deployed by | Stacks |", "| --- | --- | --- | --- |"]
    for stack in monitoring:
        key = stack.endpoint
        stacks = ", ".join(f"`{s.stack_name}`" for s in build.stacks if s.endpoint == key)
        who = "this bundle" if key in created else "someone else"
        if key in existing:
            page = existing_endpoints.page_name(existing[key])
            who += f": its Data Capture is checked first ([{page}]({page}))"
        lines.append(f"| {key} | `{stack.values.get('EndpointName', '')}` | {who} | {stacks} |")
    return lines + ["", "Each endpoint's stacks depend only on the shared ones, so they can be deployed in parallel "
                        "once those are complete."]


# --- PARAMETERS.md ------------------------------------------------------------------------------


def _cell(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text.replace("|", "\\|").replace("\n", " ")


def parameters_markdown(build: Build) -> str:
    m = build.manifest
    parts = [f"# Parameter reference ({m['project']} {m['environment']})", "",
             "Generated from the templates' own Parameters and `AWS::CloudFormation::Interface` metadata. "
             "The templates are the same in every environment; the last column is this environment's value "
             "(its `<stack>.parameters.json`; empty: the Default applies). `AWS::SSM::Parameter::Value` "
             "Parameters take the *name* of an SSM parameter that an upstream stack writes."]
    for stack in build.stacks:
        t = stack.template
        declared = t.get("Parameters", {})
        interface = t.get("Metadata", {}).get("AWS::CloudFormation::Interface", {})
        labels = {k: v.get("default", "") for k, v in interface.get("ParameterLabels", {}).items()}
        group_of = {p: g["Label"]["default"] for g in interface.get("ParameterGroups", []) for p in g["Parameters"]}
        ordered = [p for g in interface.get("ParameterGroups", []) for p in g["Parameters"] if p in declared]
        ordered += [p for p in declared if p not in ordered]
        parts += ["", f"## {stack.template_file}", "", _cell(t.get("Description", "")), "",
                  "| Parameter | Group / label | Type | Default | Allowed values / pattern | Description | "
                  f"Value in {m['environment']} |", "| --- | --- | --- | --- | --- | --- | --- |"]
        for name in ordered:
            p = declared[name]
            allowed = []
            if "AllowedValues" in p:
                allowed.append("one of " + ", ".join(f"`{v}`" for v in p["AllowedValues"]))
            if "AllowedPattern" in p:
                allowed.append(f"pattern `{p['AllowedPattern']}`")
            for key in ("MinValue", "MaxValue", "MinLength", "MaxLength"):
                if key in p:
                    allowed.append(f"{key} {p[key]}")
            default = f"`{p['Default']}`" if "Default" in p and p["Default"] != "" else \
                ("`\"\"`" if p.get("Default") == "" else "required")
            where = " / ".join(x for x in (group_of.get(name, ""), labels.get(name, "")) if x)
            value = stack.values.get(name, "")
            parts.append(f"| `{name}` | {_cell(where)} | `{p['Type']}` | {_cell(default)} | {_cell('; '.join(allowed))} "
                         f"| {_cell(p.get('Description', ''))} | {_cell(f'`{value}`' if value else '')} |")
    return "\n".join(parts) + "\n"


# --- lint report --------------------------------------------------------------------------------


def lint_report(build: Build) -> str:
    from mmtool.generate.lint import (
        CLI_DEFAULT_REGION,
        LINT_CONFIG,
        STANDALONE_NOTE,
        LintJob,
        cfn_lint_version,
        lint,
    )

    lines = [f"cfn-lint {cfn_lint_version()} over the templates of {build.manifest['project']} "
             f"{build.manifest['environment']} (region {build.region})",
             f"configuration: {json.dumps(LINT_CONFIG, sort_keys=True)} (every informational rule on); each template "
             "with this environment's parameter file (rule E2900 checks the values against the Parameters); "
             "SSM-typed parameters get a value of the shape the upstream stack writes (cfn-lint cannot resolve SSM); "
             f"and each template alone, without a parameter file, as `cfn-lint -c I <template>` runs it (regions "
             f"{', '.join(sorted({build.region, CLI_DEFAULT_REGION}))}; its findings end with{STANDALONE_NOTE})",
             ""]
    jobs = [LintJob(Path(s.template_file), (build.folder / s.template_file).read_bytes(), Path(s.parameters_file),
                    (build.folder / s.parameters_file).read_bytes(), build.region) for s in build.stacks]
    findings = lint(jobs)  # one cfn-lint run, no cache: the report is cfn-lint's own answer now
    total = len(findings)
    for stack in build.stacks:
        mine = [f for f in findings if Path(f.file).name == stack.template_file]
        lines.append(f"{stack.template_file} with {stack.parameters_file}: {len(mine)} finding(s)")
        lines += [f"  {f.render()}" for f in mine]
    lines += ["", f"total: {total} finding(s)"]
    return "\n".join(lines) + "\n"


# --- the bundle ---------------------------------------------------------------------------------


def bundle_files(build: Build, version: str) -> dict[str, bytes]:
    """Every file of the bundle (relative path -> bytes), SHA256SUMS included."""
    from mmtool.handoff import diagram

    files: dict[str, bytes] = {}
    files["manifest.json"] = (build.folder / "manifest.json").read_bytes()
    for stack in build.stacks:
        files[stack.template_file] = (build.folder / stack.template_file).read_bytes()
        files[stack.parameters_file] = (build.folder / stack.parameters_file).read_bytes()
    for asset in build.assets:
        files[asset["file"]] = (build.folder / asset["file"]).read_bytes()
    files["DEPLOY.md"] = deploy_markdown(build, version).encode()
    bucket_ssm = build.output_ssm_name(build.manifest["asset_bucket"]["stack"], build.manifest["asset_bucket"]["output"])
    key_ssm = build.output_ssm_name(build.manifest["asset_kms_key"]["stack"], build.manifest["asset_kms_key"]["output"])
    for target in build.existing:
        files[existing_endpoints.page_name(target)] = existing_endpoints.page(
            target, build.region, build.manifest["project"], build.manifest["environment"], bucket_ssm, key_ssm).encode()
    files["PARAMETERS.md"] = parameters_markdown(build).encode()
    files["lint-report.txt"] = lint_report(build).encode()
    writers = {name: f"{stack}/{logical}" for name, (stack, logical) in build.ssm_writers().items()}
    files["architecture.svg"] = diagram.render(
        [(s.name, s.stack_name, s.template, s.values) for s in build.stacks], writers).encode()
    files["SHA256SUMS"] = "".join(f"{hashlib.sha256(content).hexdigest()}  {name}\n"
                                  for name, content in sorted(files.items())).encode()
    return files


def write_zip(files: dict[str, bytes], top: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(f"{top}/{name}", date_time=ZIP_DATE)
            info.create_system = 3  # unix, so the permissions below are read
            info.external_attr = 0o100644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, files[name], compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return buffer.getvalue()


def package(paths, env: str, *, endpoint: str | None = None, out=print) -> Path:
    """The bundle of `env`, or with `endpoint` (`make package ENDPOINT=key`) of that fleet endpoint's stacks."""
    from mmtool.generate.pipeline import build
    from mmtool.config.workspace import validate
    from mmtool.operate.existing_endpoint import existing_targets
    from mmtool.operate.selection import select_endpoint

    params = validate(paths, environments(paths, env))[env]
    chosen = select_endpoint(params, endpoint, "package") if endpoint is not None else None
    key = chosen.key if chosen is not None and not chosen.legacy else None  # the single form's bundle is whole
    build(paths, [env], out=lambda line: print(line, file=sys.stderr))
    loaded = load_build(paths.build / env, key, existing_targets(params))
    version = git_version(paths.root)
    top = f"{loaded.manifest['project']}-{version}-{env}" + (f"-{key}" if key else "")
    with Step(f"{env}: the bundle's files (lint report, diagram, checksums)", to_stderr):
        files = bundle_files(loaded, version)
    target = paths.root / "dist" / f"{top}.zip"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(write_zip(files, top))
    out(f"{env}: {len(files)} files -> {display_path(target, paths)} (sha256 {hashlib.sha256(target.read_bytes()).hexdigest()[:16]}…)")
    return target
