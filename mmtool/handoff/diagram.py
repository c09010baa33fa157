"""The architecture diagram of a bundle: an SVG drawn from the templates themselves, byte-identical on every run.

One column per stack in deploy order. In each column: the Parameters fed from SSM (the values other stacks
publish), then the resources. Edges:
  solid, on the column's right     a Ref, Fn::GetAtt or ${...} in Fn::Sub from one node to another
  dashed, on the column's right    DependsOn
  blue, between columns            an SSM parameter an upstream stack writes, read by a downstream Parameter

No graphviz: its layout output varies with its version, and a fresh machine would need it installed. This
layout is a plain function of the templates (sorted, integer coordinates, no clock).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

COLUMN_WIDTH = 290
COLUMN_GAP = 150
ROW = 30
BOX_HEIGHT = 22
TOP = 70
MARGIN = 20


@dataclass(frozen=True)
class Node:
    stack: str
    logical_id: str
    label: str  # second line: the type, or "from SSM"
    kind: str  # resource | input
    x: int
    y: int

    @property
    def key(self) -> tuple[str, str]:
        return (self.stack, self.logical_id)


def references(value: Any) -> list[tuple[str, str]]:
    """(target, kind) for every Ref, GetAtt and Sub variable in a resource body (kind: ref)."""
    found: list[tuple[str, str]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, item in node.items():
                if key == "Ref" and isinstance(item, str):
                    found.append((item, "ref"))
                elif key == "Fn::GetAtt":
                    target = item[0] if isinstance(item, list) else str(item).split(".")[0]
                    found.append((target, "ref"))
                elif key == "Fn::Sub":
                    text, local = (item[0], item[1]) if isinstance(item, list) else (item, {})
                    for name in re.findall(r"\$\{([A-Za-z0-9:]+)(?:\.[A-Za-z0-9.]+)?\}", text):
                        if name not in local:
                            found.append((name, "ref"))
                    if isinstance(item, list):
                        walk(item[1])
                else:
                    walk(item)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(value)
    return found


def _short_type(resource_type: str) -> str:
    return resource_type.removeprefix("AWS::")


def render(stacks: list[tuple[str, str, dict[str, Any], dict[str, str]]], ssm_names: dict[str, str]) -> str:
    """stacks: (short name, stack name, template, parameter values) in deploy order.

    ssm_names: resolved SSM parameter name -> "<stack>/<logical id>" of the resource that writes it.
    """
    nodes: dict[tuple[str, str], Node] = {}
    columns: list[tuple[int, str, str, int]] = []
    edges: list[tuple[Node, Node, str]] = []
    height = TOP
    for index, (short, stack_name, template, values) in enumerate(stacks):
        x = MARGIN + index * (COLUMN_WIDTH + COLUMN_GAP)
        y = TOP + 10
        declared = template.get("Parameters", {})
        inputs = [n for n in declared if declared[n].get("Type", "").startswith("AWS::SSM::Parameter::Value")]
        for name in inputs:
            nodes[(short, name)] = Node(short, name, "from SSM " + values.get(name, ""), "input", x, y)
            y += ROW
        if inputs:
            y += 10
        for logical_id, resource in template.get("Resources", {}).items():
            nodes[(short, logical_id)] = Node(short, logical_id, _short_type(resource.get("Type", "?")), "resource", x, y)
            y += ROW
        columns.append((x, short, stack_name, y))
        height = max(height, y + MARGIN)
        for logical_id, resource in template.get("Resources", {}).items():
            source = nodes[(short, logical_id)]
            seen: set[tuple[str, str]] = set()
            for target, kind in references({k: v for k, v in resource.items() if k != "DependsOn"}):
                if (short, target) in nodes and target != logical_id and (target, kind) not in seen:
                    seen.add((target, kind))
                    edges.append((nodes[(short, target)], source, kind))
            depends = resource.get("DependsOn", [])
            for target in [depends] if isinstance(depends, str) else depends:
                if (short, target) in nodes:
                    edges.append((nodes[(short, target)], source, "depends"))
    for short, _, template, values in stacks:
        for name, declared in template.get("Parameters", {}).items():
            writer = ssm_names.get(values.get(name, "")) if declared.get("Type", "").startswith("AWS::SSM") else None
            if writer:
                upstream, logical_id = writer.split("/", 1)
                if (upstream, logical_id) in nodes:
                    edges.append((nodes[(upstream, logical_id)], nodes[(short, name)], "ssm"))
    width = MARGIN * 2 + len(stacks) * COLUMN_WIDTH + (len(stacks) - 1) * COLUMN_GAP
    return _svg(width, height, columns, list(nodes.values()), edges)


def _svg(width: int, height: int, columns, nodes: list[Node], edges) -> str:
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 40}" '
        f'viewBox="0 0 {width} {height + 40}" font-family="Helvetica, Arial, sans-serif" font-size="11">',
        "<title>Stacks, resources and the references between them</title>",
        '<rect width="100%" height="100%" fill="#ffffff"/>',
        '<defs><marker id="arrow" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="6" markerHeight="6" '
        'orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#555555"/></marker>'
        '<marker id="arrow-ssm" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="6" markerHeight="6" '
        'orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#1f6feb"/></marker></defs>',
    ]
    for x, short, stack_name, bottom in columns:
        out.append(f'<rect x="{x - 8}" y="{TOP - 40}" width="{COLUMN_WIDTH + 16}" height="{bottom - TOP + 48}" '
                   'rx="8" fill="#f6f8fa" stroke="#8c959f"/>')
        out.append(f'<text x="{x}" y="{TOP - 22}" font-size="14" font-weight="bold">{escape(short)}</text>')
        out.append(f'<text x="{x}" y="{TOP - 8}" fill="#57606a">stack {escape(stack_name)}</text>')
    for node in nodes:
        fill, stroke = ("#ddf4ff", "#1f6feb") if node.kind == "input" else ("#ffffff", "#57606a")
        out.append(f'<rect x="{node.x}" y="{node.y}" width="{COLUMN_WIDTH - 50}" height="{BOX_HEIGHT}" rx="3" '
                   f'fill="{fill}" stroke="{stroke}"/>')
        label = f"{node.logical_id}  ({node.label})"
        if len(label) > 52:
            label = label[:51] + "…"
        out.append(f'<text x="{node.x + 5}" y="{node.y + 15}">{escape(label)}</text>')
    for index, (source, target, kind) in enumerate(edges):
        out.append(_edge(source, target, kind, index))
    legend_y = height + 20
    out.append(f'<text x="{MARGIN}" y="{legend_y}" fill="#57606a">solid grey: Ref / Fn::GetAtt / Fn::Sub inside a '
               'stack; dashed grey: DependsOn; blue: an SSM parameter written by one stack and read by a Parameter '
               'of another (from SSM)</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _edge(source: Node, target: Node, kind: str, index: int) -> str:
    box = COLUMN_WIDTH - 50
    if kind == "ssm":
        x1, y1 = source.x + box, source.y + BOX_HEIGHT // 2
        x2, y2 = target.x, target.y + BOX_HEIGHT // 2
        bend = max(40, (x2 - x1) // 3)
        return (f'<path d="M{x1},{y1} C{x1 + bend},{y1} {x2 - bend},{y2} {x2},{y2}" fill="none" stroke="#1f6feb" '
                'stroke-opacity="0.6" marker-end="url(#arrow-ssm)"/>')
    x = source.x + box
    y1, y2 = source.y + BOX_HEIGHT // 2, target.y + BOX_HEIGHT // 2
    reach = 10 + min(40, abs(y2 - y1) // 12) + (index % 4) * 2
    dash = ' stroke-dasharray="4,3"' if kind == "depends" else ""
    return (f'<path d="M{x},{y1} C{x + reach},{y1} {x + reach},{y2} {x},{y2}" fill="none" stroke="#555555" '
            f'stroke-opacity="0.55"{dash} marker-end="url(#arrow)"/>')
