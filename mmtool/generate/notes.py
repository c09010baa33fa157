"""What `make plan` says under each stack besides its changes: settings the build derived from the params file,
and settings that read better in words than as a parameter value.

The build writes them into build/<env>/manifest.json (`stacks[].notes`); the deploy engine prints each one as a
`note:` line under its stack (and in `--json`), whether or not the stack changes. Pure: params in, lines out.
"""

from __future__ import annotations

from mmtool.generate.clarify import bias_groups_in_words
from mmtool.config.params import FleetEndpoint, Params

ISOLATION_DERIVED = (
    "model network isolation: off, derived from {at}monitoring.model_explainability.enabled: Clarify's explainability "
    "job calls a shadow endpoint made from this model, and AWS requires isolation off on the model as well as on "
    "the job (docs/security.md, 'Network isolation')"
)
ISOLATION_CHOSEN = "model network isolation: off ({field}: false)"
EXISTING_MODEL = (
    "model explainability: Clarify's shadow endpoints are made from model {model} "
    "(endpoints.{key}.existing.model_name), which another tool deployed; the plan checks that endpoint {endpoint} "
    "serves it and that it runs without network isolation"
)


def stack_notes(params: Params, endpoint: FleetEndpoint) -> dict[str, list[str]]:
    """One fleet endpoint's stack kind (endpoint, monitoring) -> its note lines; kinds without notes are left
    out. The synthesis puts them under that endpoint's stacks (endpoint/monitoring, or <key>-endpoint/...)."""
    notes: dict[str, list[str]] = {}
    if endpoint.create is not None and not endpoint.model_network_isolation:
        at = "" if endpoint.legacy else f"endpoints.{endpoint.key}."
        field = "endpoint.network_isolation" if endpoint.legacy else f"{at}create.network_isolation"
        notes["endpoint"] = [ISOLATION_DERIVED.format(at=at) if endpoint.create.network_isolation is None
                             else ISOLATION_CHOSEN.format(field=field)]
    monitoring = list(bias_groups_in_words(endpoint))
    if endpoint.existing is not None and endpoint.monitoring.model_explainability.enabled:
        monitoring.append(EXISTING_MODEL.format(model=endpoint.existing.model_name, key=endpoint.key,
                                                endpoint=endpoint.existing.endpoint_name))
    if monitoring:
        notes["monitoring"] = monitoring
    return notes
