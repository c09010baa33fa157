"""The cost of what the plan deploys: build/<env>/cost.json (written by the build, docs/cost.md) read as data,
each line matched to its stack's plan to say what the plan changes: a new stack adds its lines, an unchanged
stack keeps them; in a stack that changes, a line whose inputs (the stack parameters its figure is made of) stay
the same keeps its figure, one whose changed inputs are all proportional (instance count, runtime, volume size)
shows the deployed figure worked out from the built one, and the others show the figure as built and what
changes (the engine does not know the prices, so a changed instance type or schedule leaves it unknown). Unpriced lines are listed and counted, never summed as $0.

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
    proportional: tuple[str, ...] = ()  # those of them the figure is proportional to


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
                                  tuple(str(k) for k in body.get("inputs") or ()),
                                  tuple(str(k) for k in body.get("proportional") or ())))
        return CostFile(lines, str(data.get("prices_file", "")), str(data.get("prices_as_of", "")))
    except (OSError, ValueError, KeyError, TypeError, InvalidOperation):
        return None  # an unreadable estimate never stops a plan; `make cost` says what is wrong


@dataclass(frozen=True)
class ParamChange:
    old: str | None
    new: str | None
    text: str  # how the plan prints it: Key: "old" → "new"


@dataclass(frozen=True)
class Row:
    line: CostLine
    state: str  # NEW, SAME, CHANGED, OTHER
    changes: list[str]  # CHANGED: the changes the line is made of (or every change of its stack)
    deployed: Decimal | None = None  # CHANGED: the deployed figure, when it follows from the built one


def _rescaled(line: CostLine, hits: dict[str, ParamChange]) -> Decimal | None:
    """The deployed figure of a line whose changed inputs are all ones it is proportional to: figure x old/new."""
    if line.usd is None or not hits or not set(hits) <= set(line.proportional):
        return None
    figure = line.usd
    for change in hits.values():
        try:
            old, new = Decimal(str(change.old)), Decimal(str(change.new))
        except (InvalidOperation, ValueError):
            return None
        if new == 0:
            return None
        figure = figure * old / new
    return figure.quantize(Decimal("0.01"))


def classify(cost: CostFile, actions: dict[str, tuple[str, dict[str, ParamChange]]]) -> list[Row]:
    """Each line of a stack the plan covers, with NEW / SAME / CHANGED and what changes.
    ``actions``: manifest stack name -> (plan action: create, update, none, ...; changed parameter key -> its
    change). In a changed stack a line whose inputs (the parameters its figure is made of) all stay the same
    keeps its figure; one whose changed inputs are all proportional ones has its deployed figure worked out
    (figure x old / new); one without inputs lists every parameter that changes. Lines of stacks outside the
    plan (another endpoint's, with --endpoint) are left out."""
    out = []
    for line in cost.lines:
        if line.stack and line.stack not in actions:
            continue
        action, changed = actions.get(line.stack, ("", {}))
        state = (NEW if action in ("create", "recreate") else SAME if action == "none"
                 else CHANGED if action else OTHER)
        if state != CHANGED:
            out.append(Row(line, state, []))
            continue
        hits = {k: changed[k] for k in line.inputs if k in changed} if line.inputs else dict(changed)
        if line.inputs and not hits:
            out.append(Row(line, SAME, []))
            continue
        deployed = _rescaled(line, hits) if line.inputs else None
        out.append(Row(line, CHANGED, [c.text for c in hits.values()], deployed))
    return out


def _usd(value: Decimal) -> str:
    return f"{'-' if value < 0 else ''}${abs(value):,.2f}"


def _signed(value: Decimal) -> str:
    return ("+" if value >= 0 else "") + _usd(value)


def summary(rows: list[Row]) -> dict[str, Any]:
    counted = [r for r in rows if r.line.in_total]
    priced = [r for r in counted if r.line.usd is not None]
    changed = [r for r in counted if r.state == CHANGED]
    known = [r for r in changed if r.deployed is not None]
    return {
        "total_usd": str(sum((r.line.usd for r in priced), Decimal(0))),  # type: ignore[misc]
        "unpriced_lines": sum(1 for r in counted if r.line.usd is None),
        "added_usd": str(sum((r.line.usd for r in priced if r.state == NEW), Decimal(0))),  # type: ignore[misc]
        "added_unpriced_lines": sum(1 for r in counted if r.state == NEW and r.line.usd is None),
        "changed_usd": str(sum((r.line.usd - r.deployed for r in known), Decimal(0))),  # type: ignore[operator]
        "changed_unknown": sorted({f"{r.line.stack}: {r.line.item}" for r in changed if r.deployed is None}),
    }


def to_json(cost: CostFile, rows: list[Row]) -> dict[str, Any]:
    return {
        "prices_file": cost.prices_file,
        "prices_as_of": cost.prices_as_of,
        "lines": [{"group": r.line.group, "stack": r.line.stack, "item": r.line.item, "quantity": r.line.quantity,
                   "monthly_usd": None if r.line.usd is None else str(r.line.usd), "unpriced": r.line.unpriced,
                   "in_total": r.line.in_total, "change": r.state, "changed_parameters": r.changes,
                   "deployed_usd": None if r.deployed is None else str(r.deployed)}
                  for r in rows],
        **summary(rows),
    }


def render(cost: CostFile, rows: list[Row], *, new_environment: bool) -> list[str]:
    """Plain lines (no markup) for the plan."""
    out = [f"Cost, monthly estimate (prices {cost.prices_file}, newest {cost.prices_as_of}; "
           "`make cost ENV=<env>` shows each line's basis and price source)"]
    for r in rows:
        line = r.line
        figure = "UNPRICED" if line.usd is None else _usd(line.usd)
        if r.state == CHANGED and r.deployed is not None:
            tag = f" (was {_usd(r.deployed)})"
        else:
            tag = {NEW: " (new)", CHANGED: " (changed stack)", SAME: ""}.get(r.state, "")
        aside = "" if line.in_total else " [not in the total]"
        out.append(f"  {line.group}: {line.item}: {line.quantity} = {figure}{tag}{aside}")
        if line.usd is None and line.unpriced:
            out.append(f"      unpriced: {line.unpriced}")
        if r.changes:
            known = "" if r.deployed is not None else " (the deployed figure is not known)"
            out.append(f"      changes: {'; '.join(r.changes)}{known}")
    s = summary(rows)
    unpriced = f" + {s['unpriced_lines']} unpriced line(s), not counted" if s["unpriced_lines"] else ""
    out.append(f"  total as built: {_usd(Decimal(s['total_usd']))} a month{unpriced}")
    if new_environment:
        out.append(f"  change: +{_usd(Decimal(s['added_usd']))} a month (a new environment: nothing deployed before)"
                   + (f", + {s['added_unpriced_lines']} unpriced line(s)" if s["added_unpriced_lines"] else ""))
    else:
        parts = [f"{_signed(Decimal(s['added_usd']))} a month from new stacks"]
        if s["added_unpriced_lines"]:
            parts.append(f"+ {s['added_unpriced_lines']} unpriced line(s) from new stacks")
        if Decimal(s["changed_usd"]) or any(r.deployed is not None for r in rows):
            parts.append(f"{_signed(Decimal(s['changed_usd']))} a month from changed lines")
        if s["changed_unknown"]:
            parts.append(f"not known for {len(s['changed_unknown'])} changed line(s) (their deployed figure is not "
                         "known)")
        out.append("  change: " + "; ".join(parts))
    return out
