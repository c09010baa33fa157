"""What `make plan` says under each stack besides its changes: settings the build derived from the params file,
and settings that read better in words than as a parameter value.

The build writes them into build/<env>/manifest.json (`stacks[].notes`); the deploy engine prints each one as a
`note:` line under its stack (and in `--json`), whether or not the stack changes. Pure: params in, lines out.
"""

from __future__ import annotations

from mmtool.build.clarify import bias_groups_in_words
from mmtool.config.params import Params

ISOLATION_DERIVED = (
    "model network isolation: off, derived from monitoring.model_explainability.enabled: Clarify's explainability "
    "job calls a shadow endpoint made from this model, and AWS requires isolation off on the model as well as on "
    "the job (docs/security.md, 'Network isolation')"
)
ISOLATION_CHOSEN = "model network isolation: off (endpoint.network_isolation: false)"


def stack_notes(params: Params) -> dict[str, list[str]]:
    """Stack name -> its note lines; stacks without notes are left out."""
    notes: dict[str, list[str]] = {}
    if not params.model_network_isolation:
        notes["endpoint"] = [ISOLATION_DERIVED if params.endpoint.network_isolation is None else ISOLATION_CHOSEN]
    groups = bias_groups_in_words(params)
    if groups:
        notes["monitoring"] = groups
    return notes
