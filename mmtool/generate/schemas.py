"""CloudFormation resource schemas (https://docs.aws.amazon.com/cloudformation-cli/latest/userguide/
resource-type-schema.html) as cfn-lint ships them: the copy it lints our templates with.

Read from cfn-lint's data files directly, without importing cfn-lint: any module of it runs its package's
__init__, which loads all of cfn-lint and sympy (about a second), and the build's own process needs only a few
schemas (the lint process imports cfn-lint on another core anyway). cfn-lint 1.x keeps
data/schemas/providers/<region>.json (resource type -> file hash; us-east-1's where a region has none) and
data/schemas/resources/<hash>.json. A newer downloaded copy (`cfn-lint --update-specs`, in the user's cache
folder) takes precedence in cfn-lint; when one exists, or the files are not where they should be, cfn-lint's own
schema manager is asked instead. tests/generate/test_synth_shortcuts.py checks both give the same schema.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import sys
from pathlib import Path
from typing import Any


@functools.lru_cache(maxsize=None)
def resource_schema(resource_type: str, region: str) -> dict[str, Any]:
    schema = bundled_schema(resource_type, region)
    if schema is None:
        from cfnlint.schema.manager import PROVIDER_SCHEMA_MANAGER

        schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(region, resource_type).schema
    return schema


def bundled_schema(resource_type: str, region: str) -> dict[str, Any] | None:
    """The schema file cfn-lint's manager would read for `resource_type` in `region`; None when it would read
    another (a downloaded copy) or the type is unknown."""
    if sys.platform != "linux":  # the cache folder is elsewhere there (cfnlint.helpers.get_cache_dir)
        return None
    spec = importlib.util.find_spec("cfnlint")  # locates the package without running its __init__
    cache = Path(os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache"))) / "aws" / "cfn-lint" / "schemas"
    if spec is None or not spec.submodule_search_locations or any((cache / "providers").glob("*.json")):
        return None
    data = Path(list(spec.submodule_search_locations)[0]) / "data" / "schemas"
    try:
        providers = data / "providers" / f"{region}.json"
        hashes = _read(providers if providers.exists() else data / "providers" / "us-east-1.json")
        return json.loads((data / "resources" / f"{hashes[resource_type]}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError):
        return None


@functools.lru_cache(maxsize=None)
def _read(path: Path) -> dict[str, str]:
    return json.loads(path.read_text(encoding="utf-8"))


def property_types(resource_type: str, region: str, path: tuple[str | None, ...]) -> frozenset[str]:
    """The JSON types the schema of a resource type allows at a property path (keys from the top-level property
    down, None for an array's item; each `$ref` followed); empty when the schema does not say (unknown type,
    a key under patternProperties, a oneOf/anyOf choice)."""
    try:
        schema = resource_schema(resource_type, region)
    except Exception:  # noqa: BLE001 - cfn-lint's ResourceNotFoundError and the like: unknown, so no types
        return frozenset()
    spec: Any = schema
    for key in path:
        spec = _resolved(schema, spec)
        spec = spec.get("items") if key is None else spec.get("properties", {}).get(key)
        if not isinstance(spec, dict):
            return frozenset()
    spec = _resolved(schema, spec)
    if any(choice in spec for choice in ("oneOf", "anyOf", "allOf", "$ref")):
        return frozenset()
    kind = spec.get("type", [])
    return frozenset([kind] if isinstance(kind, str) else kind)


def _resolved(schema: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    for _ in range(20):
        ref = spec.get("$ref")
        if not isinstance(ref, str) or not ref.startswith("#/definitions/"):
            return spec
        spec = schema.get("definitions", {}).get(ref.split("/")[-1], {})
    return spec
