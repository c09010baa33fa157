"""The SageMaker Clarify analysis configurations of the model-bias and model-explainability monitors.

Clarify jobs read their analysis from the JSON file at the job definition's `ConfigUri`. The build generates
it from the params file (a pure function: same params, same bytes) and uploads it as an asset under a
content-hashed key, like the record pre-processor, so a changed analysis changes the key, the job
definition's revision and therefore its name.

Keys follow AWS's "Parameters to Monitor Bias Drift" and "Parameters to Monitor Attribution Drift" pages
and the SageMaker SDK (`BiasAnalysisConfig`, `ExplainabilityAnalysisConfig`, `ModelConfig`):

  bias            headers (features, then the label: the label header is last), label,
                  label_values_or_threshold, facet [{name_or_index, value_or_threshold}], group_variable.
                  No predictor: bias monitoring reads the captured predictions, it calls no endpoint.
  explainability  headers (features only), methods.shap {baseline, num_samples, agg_method, use_logit,
                  save_local_shap_values}, predictor {model_name, instance_type, initial_instance_count,
                  content_type, accept_type, endpoint_name_prefix}. The predictor is the endpoint's model
                  (a created endpoint's deterministic name from the endpoint stack; an existing endpoint's
                  `existing.model_name`, which `make plan` checks against the endpoint); Clarify creates a
                  shadow endpoint from it for each run, named with our prefix so IAM can be scoped to it.

Only CSV endpoints are supported (content and accept type text/csv).
"""

from __future__ import annotations

import json
from typing import Any, Callable

from mmtool import json_text
from mmtool.config.params import FleetEndpoint, Params

CSV = "text/csv"
CONFIG_FILE = "analysis_config.json"  # the object name the SDK and AWS's samples give Clarify's configuration


def bias_config(params: Params, endpoint: FleetEndpoint, model_name: str = "") -> dict[str, Any]:
    """The model-bias analysis (it calls no model: `model_name` is unused)."""
    bias = endpoint.monitoring.model_bias
    features = endpoint.monitoring.clarify_features or []
    config: dict[str, Any] = {
        "headers": [*features, bias.label],
        "label": bias.label,
        "label_values_or_threshold": list(bias.label_values_or_threshold),
        "facet": [
            {"name_or_index": facet.name, **({"value_or_threshold": list(facet.value_or_threshold)}
                                              if facet.value_or_threshold is not None else {})}
            for facet in bias.facets
        ],
    }
    if bias.group_variable is not None:
        config["group_variable"] = bias.group_variable
    return config


def _value(value: Any) -> str:
    return json.dumps(value) if isinstance(value, str) else str(value)


def group_in_words(name: str, values: list[Any] | None) -> str:
    """A facet's sensitive group as Clarify reads it: one number is an exclusive lower bound ("age > 64"),
    values are members ("gender in {"F"}"), none is one group per value."""
    if values is None:
        return f"each value of {name} in turn"
    if len(values) == 1 and isinstance(values[0], (int, float)) and not isinstance(values[0], bool):
        return f"{name} > {_value(values[0])} (exclusive threshold of a continuous facet)"
    return f"{name} in {{{', '.join(_value(v) for v in values)}}}"


def bias_groups_in_words(endpoint: FleetEndpoint) -> list[str]:
    """One line per facet of the endpoint's model-bias monitor, e.g. 'sensitive group: age > 64 (...)'; empty
    when off."""
    bias = endpoint.monitoring.model_bias
    if not bias.enabled:
        return []
    return [f"model bias: sensitive group {group_in_words(f.name, f.value_or_threshold)}" for f in bias.facets]


def shadow_endpoint_prefix(params: Params, endpoint: FleetEndpoint) -> str:
    """<project>-<env>-clarify, or <project>-<env>-<key>-clarify for a fleet endpoint (templates/monitoring.py
    lets the endpoint's role create, call and delete only endpoints with this prefix)."""
    return endpoint.shadow_endpoint_prefix(params)


def explainability_config(params: Params, endpoint: FleetEndpoint, model_name: str) -> dict[str, Any]:
    explain = endpoint.monitoring.model_explainability
    return {
        "headers": list(endpoint.monitoring.clarify_features or []),
        "methods": {
            "shap": {
                "baseline": [list(row) for row in explain.shap.baseline or []],
                "num_samples": explain.shap.num_samples,
                "agg_method": explain.shap.agg_method,
                "use_logit": explain.shap.use_logit,
                "save_local_shap_values": False,
            }
        },
        "predictor": {
            "model_name": model_name,
            "instance_type": explain.shadow_instance_type,
            "initial_instance_count": explain.shadow_instance_count,
            "content_type": CSV,
            "accept_type": CSV,
            "endpoint_name_prefix": shadow_endpoint_prefix(params, endpoint),
        },
    }


# A Clarify kind's analysis configuration, by its entry's `analysis` (mmtool/config/monitor_kinds.py): a function of
# the params, the endpoint and its model's name. A new Clarify kind of an existing analysis needs nothing here.
ANALYSES: dict[str, Callable[[Params, FleetEndpoint, str], dict[str, Any]]] = {
    "bias": bias_config,
    "explainability": explainability_config,
}


def render(config: dict[str, Any]) -> bytes:
    """Deterministic bytes: sorted keys, two-space indent, trailing newline."""
    return json_text.dumps(config)
