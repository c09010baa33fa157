"""The estimate as text (`make cost`) and as build/<env>/cost.json, which the build writes and the deploy
engine's plan renders (deployer/cost_view.py reads the JSON: the engine never imports mmtool)."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from mmtool import json_text
from mmtool.cost.estimate import Estimate, Line

COST_FILE = "cost.json"


def money(line: Line) -> str:
    return "UNPRICED" if line.monthly_usd is None else f"${line.monthly_usd:,.2f}"


def render(estimate: Estimate, *, verbose: bool = True) -> list[str]:
    out = [f"Monthly estimate for {estimate.environment} ({estimate.region}); prices from {estimate.prices_file} "
           f"(newest {estimate.prices_as_of}); a month is 730 hours"]
    group = None
    for line in estimate.lines:
        if line.group != group:
            group = line.group
            out.append(group)
        note = "" if line.in_total else "  (not in the total)"
        out.append(f"  {line.item}: {line.quantity} = {money(line)}{note}")
        if line.monthly_usd is None and line.unpriced:
            out.append(f"      unpriced: {line.unpriced}")
        if verbose and line.basis:
            out.append(f"      basis: {line.basis}")
        if verbose:
            for price in line.prices:
                out.append(f"      price: {price}")
    unpriced = estimate.unpriced
    tail = (f" + {len(unpriced)} unpriced line(s), not counted (never as $0)" if unpriced else "")
    out.append(f"Total: ${estimate.total_usd:,.2f} a month{tail}")
    return out


def file_bytes(estimate: Estimate, keys: Mapping[str, Collection[str]]) -> bytes:
    """The contents of build/<env>/cost.json: the estimate with each line's inputs narrowed to the parameters its
    stack's parameter file has (`keys`: the parameters of each stack's file, by the stack's manifest name; a
    template that names them otherwise leaves the plan comparing the stack as a whole)."""
    body = estimate.to_json()
    for line in body["lines"]:
        has = keys.get(line["stack"], ())
        line["inputs"] = [key for key in line["inputs"] if key in has]
        line["proportional"] = [key for key in line["proportional"] if key in has]
    return json_text.dumps(body)
