"""`build.py catalog --env E` (`make catalog ENV=e`): publish the stack templates as AWS Service Catalog products.

Steps, each safe to repeat:
1. build the environment (templates, and the catalog stack `templates/catalog.py`, linted);
2. upload every product template to the project bucket (the foundation stack's, SSE-KMS with the project
   key) under `catalog-templates/<stack>/<sha256>.template.json`: content-addressed, written when missing or
   when the object there holds other content (checked by its SHA-256, never trusted by its name); and, when the endpoint-monitoring product offers the processing engine, the analyzer package
   its launches run (under the content-hashed prefix its template names; `make deploy` uploads it as well);
3. deploy the catalog stack (portfolio, a product per stack, launch role and launch-role constraints,
   principal associations) through the deploy engine, with its plan and confirmation;
4. tag options: every stack tag (Project, Environment, ManagedBy and the params file's tags) as a
   TagOption associated with the portfolio, reused when the account already has it (they are unique per
   account and region, so they cannot belong to one environment's stack);
5. versions: per product, a provisioning artifact per distinct template content. The sha256 is written in
   the artifact's description; a template whose sha256 already has an artifact adds nothing (an
   inactive one is reactivated: a rollback); the current version and the `catalog.version_retention` - 1
   newest others stay active, older ones are deactivated and never deleted.

The Service Catalog calls of steps 4 and 5 are plain functions taking a client (tested with Stubber:
moto 5.2.5 implements none of them). A failed AWS call becomes the tool's `AwsError`
(mmtool.operate.awsenv.aws_failure: AWS's code and message kept, read by deployer/aws_errors.py; the engine's exit
codes and advice for credentials, throttling and unreachable endpoints) naming what the call was on and what to do.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from mmtool.config import layout
from mmtool.errors import ToolError
from mmtool.operate.awsenv import aws_errors, aws_failure

TEMPLATES_PREFIX = layout.CATALOG_TEMPLATES.prefix
ARTIFACT_TYPE = "CLOUD_FORMATION_TEMPLATE"
SHA_IN_DESCRIPTION = re.compile(r"sha256:([0-9a-f]{64})")


# --- what gets published ------------------------------------------------------------------------


@dataclass(frozen=True)
class ProductTemplate:
    stack: str
    file: Path
    body: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()

    @property
    def key(self) -> str:
        return f"{TEMPLATES_PREFIX}/{self.stack}/{self.sha256}.template.json"


TEMPLATE_SUFFIX = ".template.json"


def product_templates(build_dir: Path) -> list[ProductTemplate]:
    """One per stack kind (template file) that `manifest.json` lists, in deploy order: a fleet's endpoints share
    the endpoint and monitoring templates, so they share those products (`<project>-<env>-monitoring`)."""
    from templates import endpoint_monitoring

    manifest = json.loads((build_dir / "manifest.json").read_text())
    files = list(dict.fromkeys(s["template"] for s in manifest["stacks"]))
    files.append(endpoint_monitoring.STACK + TEMPLATE_SUFFIX)  # the self-service product, built beside them
    return [ProductTemplate(name.removesuffix(TEMPLATE_SUFFIX), build_dir / name, (build_dir / name).read_bytes())
            for name in files]


def uncovered_resource_types(templates: list[ProductTemplate]) -> dict[str, list[str]]:
    """Resource types the catalog's launch role has no reviewed permissions for: type -> stacks."""
    from templates.catalog import LAUNCH_COVERAGE

    missing: dict[str, list[str]] = {}
    for product in templates:
        for resource in json.loads(product.body).get("Resources", {}).values():
            if resource["Type"] not in LAUNCH_COVERAGE:
                missing.setdefault(resource["Type"], [])
                if product.stack not in missing[resource["Type"]]:
                    missing[resource["Type"]].append(product.stack)
    return dict(sorted(missing.items()))


@dataclass(frozen=True)
class Asset:
    """A file a product's launches read from the project bucket (the endpoint-monitoring product's analyzer)."""

    file: Path
    key: str


def self_service_assets(build_dir: Path) -> list[Asset]:
    """The analyzer package the endpoint-monitoring product's processing-engine launches run: the files of
    manifest.json's assets under the prefix its template passes the nested stack (`AnalyzerPrefix`); none when the
    product offers Model Monitor only."""
    from templates import endpoint_monitoring

    product = json.loads((build_dir / f"{endpoint_monitoring.STACK}{TEMPLATE_SUFFIX}").read_text())
    prefix = product["Resources"]["Monitoring"]["Properties"]["Parameters"].get("AnalyzerPrefix", "")
    if not prefix:
        return []
    listed = json.loads((build_dir / "manifest.json").read_text())["assets"]
    assets = [Asset(build_dir / a["file"], a["key"]) for a in listed if a["key"].startswith(f"{prefix}/")]
    if not assets:
        raise ToolError(f"internal error: {build_dir}/{endpoint_monitoring.STACK}{TEMPLATE_SUFFIX} names the analyzer "
                        f"package {prefix}/, which {build_dir}/manifest.json does not list; rebuild (make build)")
    return assets


# --- step 2: templates (and the analyzer) in the bucket ---------------------------------------------


def _stored_sha256(s3: Any, bucket: str, key: str) -> str | None:
    """The SHA-256 of what S3 holds under `key`, None when nothing: an object is trusted by its content, not its name."""
    from deployer.aws_errors import S3_NOT_FOUND, error_code

    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"]
        try:
            return hashlib.sha256(body.read()).hexdigest()
        finally:
            body.close()
    except aws_errors() as exc:
        if error_code(exc) in S3_NOT_FOUND:
            return None
        raise aws_failure(exc, f"catalog: GetObject s3://{bucket}/{key}", "Next: the credentials need s3:GetObject "
                          "and s3:ListBucket on the bucket (without ListBucket, S3 answers 403 for a missing key) and "
                          "kms:Decrypt on its key; then run make catalog again") from exc


def _ensure(s3: Any, bucket: str, kms_key: str | None, key: str, body: bytes, content_type: str) -> str | None:
    """Make `key` hold `body`: None when it already does, "uploaded" when it was missing, "replaced" when it held other
    content (a content-addressed key overwritten in place)."""
    found = _stored_sha256(s3, bucket, key)
    if found == hashlib.sha256(body).hexdigest():
        return None
    request: dict[str, Any] = {"Bucket": bucket, "Key": key, "Body": body, "ContentType": content_type}
    if kms_key:
        request.update(ServerSideEncryption="aws:kms", SSEKMSKeyId=kms_key)
    try:
        s3.put_object(**request)
    except aws_errors() as exc:
        on_key = f" and kms:GenerateDataKey on {kms_key}" if kms_key else ""
        raise aws_failure(exc, f"catalog: PutObject s3://{bucket}/{key}", f"Next: the credentials need s3:PutObject "
                          f"on the bucket{on_key}; then run make catalog again (what was uploaded is kept)") from exc
    return "uploaded" if found is None else "replaced"


def upload_templates(s3: Any, bucket: str, kms_key: str | None, templates: list[ProductTemplate]) -> list[str]:
    """Make each template's content-addressed key hold it. Returns "uploaded <key>" / "replaced <key>" per write."""
    return [f"{outcome} s3://{bucket}/{product.key}" for product in templates
            if (outcome := _ensure(s3, bucket, kms_key, product.key, product.body, "application/json"))]


def upload_assets(s3: Any, bucket: str, kms_key: str | None, assets: list[Asset]) -> list[str]:
    """Make each asset's content-hashed key hold it. Returns "uploaded <key>" / "replaced <key>" per write."""
    return [f"{outcome} s3://{bucket}/{asset.key}" for asset in assets
            if (outcome := _ensure(s3, bucket, kms_key, asset.key, asset.file.read_bytes(), "application/octet-stream"))]


def template_url(bucket: str, region: str, key: str) -> str:
    return f"https://{bucket}.s3.{region}.amazonaws.com/{key}"


# --- step 4: tag options ------------------------------------------------------------------------


def sync_tag_options(sc: Any, portfolio_id: str, tags: dict[str, str]) -> list[str]:
    """Associate a TagOption per (key, value) with the portfolio; reuse the account's, create missing ones.

    Returns "key=value" of each newly associated option. Empty values are skipped (a TagOption value
    needs at least one character).
    """
    fix = ("Next: the credentials need servicecatalog:DescribePortfolio, ListTagOptions, CreateTagOption and "
           "AssociateTagOptionWithResource; then run make catalog again (what is associated is kept)")
    try:
        associated = {(o["Key"], o["Value"]) for o in sc.describe_portfolio(Id=portfolio_id).get("TagOptions", [])}
    except aws_errors() as exc:
        raise aws_failure(exc, f"catalog: DescribePortfolio {portfolio_id}", fix) from exc
    added = []
    for key, value in sorted(tags.items()):
        if not value or (key, value) in associated:
            continue
        try:
            found = sc.list_tag_options(Filters={"Key": key, "Value": value}).get("TagOptionDetails", [])
            matches = [o for o in found if o["Key"] == key and o["Value"] == value]
            if matches:
                option_id = matches[0]["Id"]
            else:
                option_id = sc.create_tag_option(Key=key, Value=value)["TagOptionDetail"]["Id"]
            sc.associate_tag_option_with_resource(ResourceId=portfolio_id, TagOptionId=option_id)
        except aws_errors() as exc:
            raise aws_failure(exc, f"catalog: tag option {key}={value} on portfolio {portfolio_id}", fix) from exc
        added.append(f"{key}={value}")
    return added


# --- step 5: versions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Artifact:
    id: str
    name: str
    active: bool
    created: datetime
    sha256: str | None


@dataclass(frozen=True)
class VersionResult:
    stack: str
    current: str  # artifact id of this template's version
    name: str
    created: bool
    reactivated: bool
    deactivated: tuple[str, ...]

    def render(self) -> str:
        what = "new version" if self.created else "reactivated version" if self.reactivated else "unchanged, version"
        tail = f"; deactivated {', '.join(self.deactivated)}" if self.deactivated else ""
        return f"{self.stack}: {what} {self.name}{tail}"


def list_artifacts(sc: Any, product_id: str) -> list[Artifact]:
    try:
        details = sc.list_provisioning_artifacts(ProductId=product_id).get("ProvisioningArtifactDetails", [])
    except aws_errors() as exc:
        raise aws_failure(exc, f"catalog: ListProvisioningArtifacts {product_id}", "Next: the credentials need "
                          "servicecatalog:ListProvisioningArtifacts; then run make catalog again") from exc
    artifacts = []
    for d in details:
        match = SHA_IN_DESCRIPTION.search(d.get("Description") or "")
        artifacts.append(Artifact(d["Id"], d.get("Name", ""), bool(d.get("Active", True)), d["CreatedTime"],
                                  match.group(1) if match else None))
    return artifacts


def sync_versions(sc: Any, product_id: str, product: ProductTemplate, url: str, retention: int,
                  built_from: str) -> VersionResult:
    """Make `product`'s template the current version of the product; keep `retention` versions active."""
    if retention < 1:
        raise ValueError("retention must be at least 1")
    artifacts = list_artifacts(sc, product_id)
    same = [a for a in artifacts if a.sha256 == product.sha256]
    created = reactivated = False
    try:
        if same:
            current = max(same, key=lambda a: a.created)
            if not current.active:
                sc.update_provisioning_artifact(ProductId=product_id, ProvisioningArtifactId=current.id, Active=True)
                reactivated = True
            current_id, current_name = current.id, current.name
        else:
            current_name = f"v{len(artifacts) + 1}-{product.sha256[:12]}"
            response = sc.create_provisioning_artifact(
                ProductId=product_id,
                Parameters={
                    "Name": current_name,
                    "Description": f"sha256:{product.sha256} {product.stack}.template.json, built from {built_from}",
                    "Info": {"LoadTemplateFromURL": url},
                    "Type": ARTIFACT_TYPE,
                    "DisableTemplateValidation": False,
                },
                # the same request again (a retry, a second run after a failure) creates nothing new
                IdempotencyToken=f"{product_id}-{product.sha256[:40]}"[:128],
            )
            current_id = response["ProvisioningArtifactDetail"]["Id"]
            created = True
        others = sorted((a for a in artifacts if a.id != current_id), key=lambda a: a.created, reverse=True)
        keep = {a.id for a in others[: retention - 1]}
        deactivated = []
        for artifact in others:
            if artifact.active and artifact.id not in keep:
                sc.update_provisioning_artifact(ProductId=product_id, ProvisioningArtifactId=artifact.id, Active=False)
                deactivated.append(artifact.name)
    except aws_errors() as exc:
        raise aws_failure(exc, f"catalog: versions of product {product_id} ({product.stack})",
                          "Next: the credentials need servicecatalog:CreateProvisioningArtifact and "
                          f"UpdateProvisioningArtifact, and s3:GetObject (with kms:Decrypt) on {url}; then run make "
                          "catalog again (a version already created is not created twice)") from exc
    return VersionResult(product.stack, current_id, current_name, created, reactivated, tuple(deactivated))


# --- the command --------------------------------------------------------------------------------


def stack_outputs(cloudformation: Any, stack_name: str) -> dict[str, str] | None:
    """The stack's outputs; None when there is no such stack."""
    from deployer.errors import is_not_found

    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except aws_errors() as exc:
        if is_not_found(exc):
            return None
        raise aws_failure(exc, f"catalog: DescribeStacks {stack_name}", "Next: the credentials need "
                          "cloudformation:DescribeStacks; then run make catalog again") from exc
    return {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", []) or []}


def publish(build_dir: Path, *, clients: Any, engine_deploy: Callable[[Path], int], version: str, retention: int,
            servicecatalog: Any = None, out: Callable[[str], None] = print) -> list[VersionResult]:
    """Steps 2-5 for an environment already built into `build_dir`. `engine_deploy` deploys a manifest."""
    from templates.catalog import product_logical_id

    manifest = json.loads((build_dir / "manifest.json").read_text())
    catalog_manifest = json.loads((build_dir / "catalog.manifest.json").read_text())
    params_values = {p["ParameterKey"]: p["ParameterValue"]
                     for p in json.loads((build_dir / "catalog.parameters.json").read_text())}
    templates = product_templates(build_dir)
    uncovered = uncovered_resource_types(templates)
    if uncovered and not params_values.get("ExistingLaunchRoleArn"):
        listed = "; ".join(f"{t} ({', '.join(s)})" for t, s in uncovered.items())
        raise ToolError(f"catalog: the launch role has no reviewed permissions for {listed}. Next: add them to "
                        "LAUNCH_COVERAGE and the launch role's policies in templates/catalog.py, or set "
                        "catalog.launch_role_arn to a role of your own")

    bucket_ref, key_ref = manifest["asset_bucket"], manifest.get("asset_kms_key")
    upstream = next(s for s in manifest["stacks"] if s["name"] == bucket_ref["stack"])
    outputs = stack_outputs(clients.cloudformation, upstream["stack_name"]) or {}
    bucket = outputs.get(bucket_ref["output"])
    if not bucket:
        raise ToolError(f"catalog: stack {upstream['stack_name']} (output {bucket_ref['output']}) is not deployed; the "
                        f"templates are published from its bucket. Next: make deploy ENV={manifest['environment']}")
    kms_key = outputs.get(key_ref["output"]) if key_ref else None
    for line in [*upload_templates(clients.s3, bucket, kms_key, templates),
                 *upload_assets(clients.s3, bucket, kms_key, self_service_assets(build_dir))]:
        out(line)

    if engine_deploy(build_dir / "catalog.manifest.json") != 0:
        raise ToolError(f"catalog: the catalog stack was not deployed; nothing was published. Next: make catalog "
                        f"ENV={manifest['environment']}")
    catalog_stack = catalog_manifest["stacks"][0]["stack_name"]
    catalog_outputs = stack_outputs(clients.cloudformation, catalog_stack) or {}
    sc = servicecatalog or clients.client("servicecatalog")
    portfolio = catalog_outputs.get("PortfolioId")
    if not portfolio:
        raise ToolError(f"catalog: stack {catalog_stack} has no PortfolioId output; run `make catalog` again")
    for option in sync_tag_options(sc, portfolio, manifest["tags"]):
        out(f"tag option {option} associated with portfolio {portfolio}")
    results = []
    for product in templates:
        product_id = catalog_outputs.get(f"{product_logical_id(product.stack)}Id")
        if not product_id:
            raise ToolError(f"catalog: stack {catalog_stack} has no output {product_logical_id(product.stack)}Id (the "
                            f"{product.stack} product); run make catalog ENV={manifest['environment']} again")
        result = sync_versions(sc, product_id, product, template_url(bucket, clients.region, product.key),
                               retention, version)
        out(result.render())
        results.append(result)
    return results
