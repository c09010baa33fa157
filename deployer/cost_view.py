"""The cost of what the plan deploys: build/<env>/cost.json (written by the build, docs/cost.md) read as data,
each line matched to its stack's plan to say what the plan changes: a new stack adds its lines, an unchanged
stack keeps them; in a stack that changes, a line whose inputs (the stack parameters its figure is made of) stay
the same keeps its figure, and the others show the figure as built and the parameters that change (the deployed
figure is not known to the engine). Unpriced lines are listed and counted, never summed as $0.

The engine never imports mmtool: this reads JSON only, and a build without cost.json shows no cost section.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

COST_FILE = "cost.json"
NEW, SAME, CHANGED, OTHER = "new", "unchanged", "changed", ""


@dataclass(frozen=True)
class CostLine:
    group: str
    stack: str
    item: str
    quantity: str
    usd: Decimal | None
    unpriced: str
    in_total: bool
    inputs: tuple[str, ...] = ()  # the stack parameters the figure is made of (none: the whole stack counts)


@dataclass(frozen=True)
class CostFile:
    lines: list[CostLine]
    prices_file: str
    prices_as_of: str


def load(folder: Path) -> CostFile | None:
    path = folder / COST_FILE
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text())
        lines = []
        for body in data["lines"]:
            raw = body.get("monthly_usd")
            lines.append(CostLine(str(body["group"]), str(body.get("stack") or ""), str(body["item"]),
                                  str(body.get("quantity", "")), None if raw is None else Decimal(str(raw)),
                                  str(body.get("unpriced") or ""), bool(body.get("in_total", True)),
                                  tuple(str(k) for k in body.get("inputs") or ())))
        return CostFile(lines, str(data.get("prices_file", "")), str(data.get("prices_as_of", "")))
    except (OSError, ValueError, KeyError, TypeError, InvalidOperation):
        return None  # an unreadable estimate never stops a plan; `make cost` says what is wrong


def classify(cost: CostFile, actions: dict[str, tuple[str, dict[str, str]]]) -> list[tuple[CostLine, str, list[str]]]:
    """Each line of a stack the plan covers, with NEW / SAME / CHANGED and what changes.
    ``actions``: manifest stack name -> (plan action: create, update, none, ...; changed parameter key -> how it
    reads, "Key: old → new"). A line of a changed stack whose inputs (the parameters its figure is made of) all
    stay the same keeps its figure; one without inputs lists every parameter that changes. Lines of stacks
    outside the plan (another endpoint's, with --endpoint) are left out."""
    out = []
    for line in cost.lines:
        if line.stack and line.stack not in actions:
            continue
        action, changed = actions.get(line.stack, ("", {}))
        state = (NEW if action in ("create", "recreate") else SAME if action == "none"
                 else CHANGED if action else OTHER)
        what: list[str] = []
        if state == CHANGED:
            what = [changed[k] for k in line.inputs if k in changed] if line.inputs else list(changed.values())
            if line.inputs and not what:
                state = SAME
        out.append((line, state, what))
    return out


def _usd(value: Decimal) -> str:
    return f"${value:,.2f}"


def summary(rows: list[tuple[CostLine, str, list[str]]]) -> dict[str, Any]:
    counted = [(ln, s) for ln, s, _ in rows if ln.in_total]
    priced = [(ln, s) for ln, s in counted if ln.usd is not None]
    return {
        "total_usd": str(sum((ln.usd for ln, _ in priced), Decimal(0))),  # type: ignore[misc]
        "unpriced_lines": sum(1 for ln, _ in counted if ln.usd is None),
        "added_usd": str(sum((ln.usd for ln, s in priced if s == NEW), Decimal(0))),  # type: ignore[misc]
        "added_unpriced_lines": sum(1 for ln, s in counted if s == NEW and ln.usd is None),
        "changed_stacks": sorted({ln.stack for ln, s in counted if s == CHANGED}),
    }


def to_json(cost: CostFile, rows: list[tuple[CostLine, str, list[str]]]) -> dict[str, Any]:
    return {
        "prices_file": cost.prices_file,
        "prices_as_of": cost.prices_as_of,
        "lines": [{"group": ln.group, "stack": ln.stack, "item": ln.item, "quantity": ln.quantity,
                   "monthly_usd": None if ln.usd is None else str(ln.usd), "unpriced": ln.unpriced,
                   "in_total": ln.in_total, "change": state, "changed_parameters": changed}
                  for ln, state, changed in rows],
        **summary(rows),
    }


def render(cost: CostFile, rows: list[tuple[CostLine, str, list[str]]], *, new_environment: bool) -> list[str]:
    """Plain lines (no markup) for the plan."""
    out = [f"Cost, monthly estimate (prices {cost.prices_file}, newest {cost.prices_as_of}; "
           "`make cost ENV=<env>` shows each line's basis and price source)"]
    for line, state, changed in rows:
        figure = "UNPRICED" if line.usd is None else _usd(line.usd)
        tag = {NEW: " (new)", CHANGED: " (changed stack)", SAME: ""}.get(state, "")
        aside = "" if line.in_total else " [not in the total]"
        out.append(f"  {line.group}: {line.item}: {line.quantity} = {figure}{tag}{aside}")
        if line.usd is None and line.unpriced:
            out.append(f"      unpriced: {line.unpriced}")
        if changed:
            out.append(f"      changes: {'; '.join(changed)} (the deployed figure is not known)")
    s = summary(rows)
    unpriced = f" + {s['unpriced_lines']} unpriced line(s), not counted" if s["unpriced_lines"] else ""
    out.append(f"  total as built: {_usd(Decimal(s['total_usd']))} a month{unpriced}")
    if new_environment:
        out.append(f"  change: +{_usd(Decimal(s['added_usd']))} a month (a new environment: nothing deployed before)"
                   + (f", + {s['added_unpriced_lines']} unpriced line(s)" if s["added_unpriced_lines"] else ""))
    else:
        parts = [f"+{_usd(Decimal(s['added_usd']))} a month from new stacks"]
        if s["added_unpriced_lines"]:
            parts.append(f"+ {s['added_unpriced_lines']} unpriced line(s) from new stacks")
        if s["changed_stacks"]:
            parts.append(f"stacks that change: {', '.join(s['changed_stacks'])} (their deployed figure is not known)")
        out.append("  change: " + "; ".join(parts))
    return out
