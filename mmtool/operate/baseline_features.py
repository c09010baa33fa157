"""How many features each endpoint's data-quality baseline has: `make cost ARGS=--read-baselines` reads the
baseline's statistics.json (Model Monitor's format: a `features` list) so the estimate can price the
per-feature custom metrics (mmtool/cost/estimate.py). Needs `s3:GetObject` on the baseline (and
`kms:Decrypt` on its key), as `make plan`'s baseline check does; a baseline that cannot be read leaves its
line unpriced, with a warning naming the object and AWS's reason.
"""

from __future__ import annotations

import json
from typing import Any, Callable

from deployer.aws_errors import error_code, error_message
from mmtool.config.params import Params


def baseline_feature_counts(params: Params, s3: Any, warn: Callable[[str], None]) -> dict[str, int]:
    """Endpoint key -> the number of features in its data-quality baseline statistics; endpoints without a
    baseline (or whose baseline cannot be read) are left out."""
    from botocore.exceptions import BotoCoreError, ClientError

    counts: dict[str, int] = {}
    for endpoint in params.fleet():
        dq = endpoint.monitoring.data_quality
        if not dq.enabled or dq.baseline is None:
            continue
        uri = dq.baseline.statistics
        bucket, key = uri[len("s3://"):].split("/", 1)
        try:
            body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            features = json.loads(body)["features"]
            if not isinstance(features, list):
                raise TypeError("features is not a list")
            counts[endpoint.key] = len(features)
        except ClientError as exc:
            warn(f"{uri}: cannot read the baseline statistics ({error_code(exc) or '?'}: {error_message(exc)}); "
                 "its custom-metric line stays unpriced")
        except BotoCoreError as exc:
            warn(f"{uri}: cannot read the baseline statistics ({exc}); its custom-metric line stays unpriced")
        except (ValueError, KeyError, TypeError) as exc:
            warn(f"{uri}: not Model Monitor statistics ({exc}); its custom-metric line stays unpriced")
    return counts
