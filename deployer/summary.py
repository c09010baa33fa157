"""The apply summary that ends a deploy: per stack what was added, changed, replaced and removed, and how long
it took; then the whole run:

    churn-dev-foundation: deployed  12 added, 0 changed, 0 replaced, 0 removed  3.1 s
    churn-dev-network: unchanged  0.4 s
    Applied: 12 added, 0 changed, 0 replaced, 0 removed to 1 of 2 stacks in 3.6 s.

The counts are the plan's (``Plan.counts``, the rule behind ``Plan: N to add ...``) for the stacks whose change
was applied; the times are those of each stack's work in this run (deployer/graph.py) and of the apply in all.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from .graph import Outcome
from .progress import duration_text

if TYPE_CHECKING:
    from .plan import Plan, StackPlan

#: Plan.counts() key -> the word of the summary (Terraform's "Apply complete! Resources: 1 added, ...").
WORDS = (("add", "added"), ("change", "changed"), ("replace", "replaced"), ("destroy", "removed"))


def applied(outcome: Outcome | None) -> bool:
    return outcome is not None and outcome.ok and bool(outcome.value.changed)


def counts_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{counts[key]} {word}" for key, word in WORDS)


def stack_counts(plan: "Plan", sp: "StackPlan") -> dict[str, int]:
    return replace(plan, stacks=[sp], assets_missing=[]).counts()


def stack_detail(plan: "Plan", sp: "StackPlan", outcome: Outcome | None) -> str:
    """What follows ``<stack>: deployed`` in the summary: its counts when its change was applied, its time."""
    parts = [counts_text(stack_counts(plan, sp))] if applied(outcome) else []
    if outcome is not None and outcome.seconds is not None:
        parts.append(duration_text(outcome.seconds))
    return "".join(f"  {part}" for part in parts)


def total_line(plan: "Plan", outcomes: dict[str, Outcome], seconds: float) -> str:
    changed = [sp for sp in plan.stacks if applied(outcomes.get(sp.spec.name))]
    totals = {key: sum(stack_counts(plan, sp)[key] for sp in changed) for key, _ in WORDS}
    return (f"Applied: {counts_text(totals)} to {len(changed)} of {len(plan.stacks)} stacks "
            f"in {duration_text(seconds)}.")
