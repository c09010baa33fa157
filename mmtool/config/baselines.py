"""Baselines named in params are used from copies under the project bucket's `baselines/` prefix.

Why copies (issue 16, part 2): staging and prod name baselines in another bucket (`churn-baselines-*`).
The monitoring jobs download their inputs with the monitoring role through the S3 gateway endpoint, and
the download may list the prefix first; the bucket's KMS key is unknown to us, so the role could not be
granted `kms:Decrypt` on it even with `s3:ListBucket` on that bucket. A copy under
`s3://<project bucket>/baselines/imported/` is encrypted with the project key and lies under a prefix the
role may already list and read, so the role and the endpoint policy need nothing outside the project
bucket for baselines (the endpoint keeps only the model artifact as an outside object).

* `copy_key(uri, prefix)` is the copy's bucket key, a pure function of the source URI and the endpoint's
  baselines prefix (`baselines/imported/<sha256(uri)[:16]>/<file name>` in the single-endpoint form,
  `baselines/<key>/imported/...` for fleet endpoint `<key>`, under the prefix only that endpoint's role
  reads), so the build (no AWS) can put it in the monitoring stack's parameters: the job definitions read
  `s3://${BucketName}/<copy key>`. Two fleet endpoints naming one baseline each get their own copy.
* The build lists the copies in the manifest (`copies`: field, source, key, endpoint) and the deploy engine makes
  them as assets (deployer/uploads.py): right after the bucket's stack and before any stack that reads them
  (CopyObject, SSE-KMS with the project key, the run's own credentials, profile and endpoint URL: the deploying
  principal needs `s3:GetObject` on the source and `kms:Decrypt` on its key). Each run compares the copy's
  content with its source's (SHA-256) and copies again when they differ: a baseline rewritten at the same URI is
  picked up by the next deploy, a copy changed in place is put back.
* `make plan` lists each copy it would make under the assets, and warns for each source it cannot read, with
  AWS's reason, before anything is deployed.

No boto3 at import time: it arrives through the clients the callers pass. Which baselines a monitor reads is its
params model's `baseline_uris()`, for every kind of the table (mmtool/config/monitor_kinds.py).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mmtool.config import layout
from mmtool.config.monitor_kinds import KINDS, settings

if TYPE_CHECKING:
    from mmtool.config.params import Params

BASELINES_PREFIX = layout.BASELINES.prefix  # the environment's monitoring role reads and lists it
IMPORTED = "imported"
IMPORTED_PREFIX = f"{BASELINES_PREFIX}/{IMPORTED}"  # the single-endpoint form's copies


def copy_key(uri: str, prefix: str = BASELINES_PREFIX) -> str:
    """s3://bucket/path/constraints.json -> <prefix>/imported/<16 hex of sha256(uri)>/constraints.json, where
    `prefix` is the endpoint's baselines prefix (FleetEndpoint.baselines_prefix: baselines, or baselines/<key>)."""
    digest = hashlib.sha256(uri.encode("utf-8")).hexdigest()[:16]
    return f"{prefix}/{IMPORTED}/{digest}/{uri.rsplit('/', 1)[-1]}"


@dataclass(frozen=True)
class BaselineCopy:
    field: str  # where params names it, e.g. monitoring.data_quality.baseline.constraints
    source: str  # s3://bucket/key
    key: str  # key of the copy in the project bucket (the engine's manifest model, deployer/manifest.py, copies it)


def baseline_copies(params: Params) -> list[BaselineCopy]:
    """Every baseline object the enabled monitors of every fleet endpoint use, in params order (each copy once:
    one per source and endpoint)."""
    copies = []
    seen: set[str] = set()
    for endpoint in params.fleet():
        at = "" if endpoint.legacy else f"endpoints.{endpoint.key}."
        named = [(f"{at}monitoring.{kind.key}.{field}", uri) for kind in KINDS
                 for field, uri in settings(endpoint.monitoring, kind).baseline_uris()]
        for field, uri in named:
            key = copy_key(uri, endpoint.baselines_prefix(params))
            if key not in seen:
                seen.add(key)
                copies.append(BaselineCopy(field, uri, key))
    return copies
