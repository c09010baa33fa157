"""The hand-off bundle's pages for endpoints another tool deployed (`existing:` entries of a fleet).

Their monitors need the endpoint's Data Capture on, Input and Output, into this environment's bucket under the
endpoint's prefix, encrypted with the project key. With this tool, `make adopt` turns it on; a platform team
with only the AWS CLI gets the same steps here: DEPLOY.md checks capture before the endpoint's monitoring stack
(and stops with the reason when it is not there), and `existing-endpoints/<key>.md` gives the no-downtime switch
(a copy of the live endpoint config plus DataCaptureConfig, then UpdateEndpoint retaining every variant property
except data capture, exactly what `make adopt` does) and the snippets the endpoint's owner adds to their own
template so their next deploy keeps capture on.
"""

from __future__ import annotations

import json
import shlex

from mmtool.operate.adopt import COPIED_FIELDS, capture_config, owner_snippets, writer_policy
from mmtool.operate.existing_endpoint import AdoptTarget, CaptureExpectations

FOLDER = "existing-endpoints"
BUCKET_PLACEHOLDER = "<BUCKET>"
KEY_PLACEHOLDER = "<KMS_KEY_ARN>"


def page_name(target: AdoptTarget) -> str:
    return f"{FOLDER}/{target.key}.md"


def check_block(target: AdoptTarget, region: str) -> list[str]:
    """Shell lines (after BUCKET is set) that print the endpoint's capture and fail unless it is what we read."""
    q = shlex.quote
    expected = f"InService true s3://$BUCKET/{target.capture_prefix}"
    return [
        f"CAPTURE=$(aws sagemaker describe-endpoint --region {q(region)} --endpoint-name {q(target.endpoint_name)} \\",
        "  --query '[EndpointStatus, to_string(DataCaptureConfig.EnableCapture), "
        "DataCaptureConfig.DestinationS3Uri || `none`]' --output text | tr '\\t' ' ')",
        f'echo "{target.endpoint_name}: $CAPTURE"',
        f'test "${{CAPTURE%/}}" = "{expected}" || {{ echo "{target.endpoint_name} must be {expected} before its '
        f'monitors can run: see {page_name(target)}"; false; }}',
    ]


def page(target: AdoptTarget, region: str, project: str, environment: str, bucket_ssm: str, key_ssm: str) -> str:
    q = shlex.quote
    placeholders = CaptureExpectations(BUCKET_PLACEHOLDER, target.capture_prefix.strip("/"), KEY_PLACEHOLDER,
                                       target.csv_content_types, target.json_content_types)
    capture = capture_config(target, placeholders)
    name = q(target.endpoint_name)
    parts = [
        f"# Data Capture for `{target.endpoint_name}` (`endpoints.{target.key}` of {project} {environment})",
        "",
        f"This endpoint is deployed by someone else; {project} {environment} only monitors it. Its monitors read "
        f"its Data Capture, so the endpoint must capture **Input and Output** into `s3://<bucket>/"
        f"{target.capture_prefix}` with the project key, where `<bucket>` and the key are the values below. "
        "DEPLOY.md checks it before the endpoint's monitoring stack.",
        "",
        "```sh",
        'export AWS_PAGER=""',
        f"BUCKET=$(aws ssm get-parameter --region {q(region)} --name {q(bucket_ssm)} --query Parameter.Value "
        "--output text)",
        f"KMS_KEY_ARN=$(aws ssm get-parameter --region {q(region)} --name {q(key_ssm)} --query Parameter.Value "
        "--output text)",
        f"aws sagemaker describe-endpoint --region {q(region)} --endpoint-name {name} --query DataCaptureConfig",
        "```",
        "",
        "## Turn it on without downtime",
        "",
        f"With the tool that made this bundle: `make adopt ENV={environment} ENDPOINT={target.key}` (it shows the "
        "plan and asks first). With the AWS CLI and python3, the same steps: a copy of the endpoint's current "
        "config with `DataCaptureConfig` added, then `update-endpoint` keeping every variant property except data "
        "capture, so the instances, weights and autoscaling stay as they are and traffic is served throughout.",
        "",
        "```sh",
        f"OLD=$(aws sagemaker describe-endpoint --region {q(region)} --endpoint-name {name} "
        "--query EndpointConfigName --output text)",
        'NEW="$(echo "${OLD%-capture-*}" | cut -c1-44)-capture-$(date +%s)"   # a new name, at most 63 characters',
        f'aws sagemaker describe-endpoint-config --region {q(region)} --endpoint-config-name "$OLD" --output json '
        "> old-config.json",
        'python3 - "$NEW" "$BUCKET" "$KMS_KEY_ARN" > new-config.json <<\'PY\'',
        "import json, sys",
        "new, bucket, key = sys.argv[1:]",
        'old = json.load(open("old-config.json"))',
        f"request = {{name: old[name] for name in {list(COPIED_FIELDS)!r} if old.get(name) is not None}}",
        'request["EndpointConfigName"] = new',
        f"capture = json.loads({json.dumps(capture, sort_keys=True)!r})",
        f'capture["DestinationS3Uri"] = capture["DestinationS3Uri"].replace("{BUCKET_PLACEHOLDER}", bucket)',
        'capture["KmsKeyId"] = key',
        'request["DataCaptureConfig"] = capture',
        "print(json.dumps(request))",
        "PY",
        f"aws sagemaker create-endpoint-config --region {q(region)} --cli-input-json file://new-config.json",
        f'aws sagemaker update-endpoint --region {q(region)} --endpoint-name {name} --endpoint-config-name "$NEW" \\',
        "  --retain-all-variant-properties --exclude-retained-variant-properties VariantPropertyType=DataCaptureConfig",
        f"aws sagemaker wait endpoint-in-service --region {q(region)} --endpoint-name {name}",
        "```",
        "",
        "If the update fails, the endpoint keeps serving with its old config; put it back explicitly with "
        f'`aws sagemaker update-endpoint --region {region} --endpoint-name {target.endpoint_name} '
        '--endpoint-config-name "$OLD" --retain-all-variant-properties`.',
        "",
        "## What the endpoint's owner adds to their own template",
        "",
        "Otherwise their next deploy turns capture off again. Replace `<BUCKET>` and `<KMS_KEY_ARN>` with the values "
        "above.",
    ]
    for tool, text in owner_snippets(capture).items():
        parts += ["", f"### {tool}", "", "```", text, "```"]
    parts += ["", "### IAM", "", "The role that writes the capture (the models' execution role) needs:", "", "```json",
              json.dumps(writer_policy(placeholders), indent=2), "```", ""]
    return "\n".join(parts)

