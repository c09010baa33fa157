"""Which fleet endpoints an operate command acts on (`--endpoint KEY`, Makefile `ENDPOINT=key`).

* `status` acts on every endpoint, or on the one named;
* `run-now`, `baseline` and `dry-run` act on one endpoint: the one named, which a fleet of more than one
  endpoint must name; a fleet of one (the single-endpoint form included) defaults to its only endpoint.

Unknown keys and a missing key are bad input (exit 2), with the known keys listed.
"""

from __future__ import annotations

from typing import Any

from mmtool.errors import UsageError


def _unknown(params: Any, key: str) -> UsageError:
    where = f"params/{params.environment}.yaml"
    if not params.is_fleet:
        return UsageError(f"--endpoint {key}: {where} monitors one endpoint (no endpoints: section); leave ENDPOINT= "
                          "out")
    known = ", ".join(e.key for e in params.fleet())
    return UsageError(f"--endpoint {key}: {where} has no endpoint {key!r} (endpoints: {known}); fix ENDPOINT=")


def select_endpoints(params: Any, key: str | None) -> list[Any]:
    """Every endpoint of the environment, or the one named `key` (the single-endpoint form's key is `default`)."""
    fleet = params.fleet()
    if key is None:
        return fleet
    chosen = [e for e in fleet if e.key == key]
    if not chosen:
        raise _unknown(params, key)
    return chosen


def select_endpoint(params: Any, key: str | None, command: str) -> Any:
    """The one endpoint `command` acts on: `key`, or the only endpoint of the environment."""
    fleet = params.fleet()
    if key is None:
        if len(fleet) == 1:
            return fleet[0]
        keys = ", ".join(e.key for e in fleet)
        raise UsageError(f"{command}: params/{params.environment}.yaml is a fleet of {len(fleet)} endpoints ({keys}): "
                         f"say which one, e.g. `make {command} ENV={params.environment} ENDPOINT={fleet[0].key}` "
                         f"(--endpoint {fleet[0].key})")
    return select_endpoints(params, key)[0]
