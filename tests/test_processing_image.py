"""The processing engine's image: the SageMaker scikit-learn image of the stack's region, from the account table pinned
in mmtool/config/data/sklearn-image-accounts.json (the SageMaker Python SDK's image_uri_config/sklearn.json, version
1.2-1). The SDK's own `image_uris.retrieve` is the oracle: it runs in the SDK's virtualenv (tests/test_sdk_fidelity.py)."""

from __future__ import annotations

import json
import subprocess

import pytest

from mmtool.config.params import image_accounts
from tests.conftest import REPO
from tests.test_sdk_fidelity import SDK_PYTHON

SKLEARN_VERSION = "1.2-1"  # a second copy on purpose: the oracle's input (templates/processing_engine.py pins it)


def test_the_pinned_table_gives_the_image_the_sdk_retrieves_in_every_region():
    if not SDK_PYTHON.exists():
        pytest.fail(f"the SageMaker SDK is not installed ({SDK_PYTHON.relative_to(REPO)}): `make sdk-tools`", pytrace=False)
    regions = sorted(image_accounts("sklearn"))
    probe = ("import json, sys; from sagemaker import image_uris; print(json.dumps({r: image_uris.retrieve("
             f"'sklearn', r, version={SKLEARN_VERSION!r}, instance_type='ml.m5.xlarge', image_scope='training') "
             "for r in json.load(sys.stdin)}))")
    result = subprocess.run([str(SDK_PYTHON), "-c", probe], input=json.dumps(regions), capture_output=True, text=True,
                            timeout=120, check=True)
    sdk = json.loads(result.stdout.strip().splitlines()[-1])
    for region, account in image_accounts("sklearn").items():
        # the DNS suffix is the template's ${AWS::URLSuffix}; the rest must match exactly
        host, path = sdk[region].split("/", 1)
        assert (host.split(".")[:4], path) == ([account, "dkr", "ecr", region], "sagemaker-scikit-learn:1.2-1-cpu-py3")


def test_every_region_with_a_model_monitor_image_has_a_scikit_learn_image():
    """The processing engine must run wherever Model Monitor runs (params accept the regions of both tables, a region
    of the scikit-learn table alone for `engine: processing` only)."""
    assert set(image_accounts()) <= set(image_accounts("sklearn"))
