"""Run the benchmarks: `python -m benchmarks [name ...]` (all modules of the package by default)."""

from __future__ import annotations

import importlib
import pkgutil
import sys

import benchmarks


def available() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(benchmarks.__path__) if not m.name.startswith("_"))


def main(argv: list[str]) -> int:
    names = available()
    selected = argv or names
    unknown = [name for name in selected if name not in names]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(names)}", file=sys.stderr)
        return 2
    missed = []
    for name in selected:
        module = importlib.import_module(f"benchmarks.{name}")
        print(f"== benchmarks.{name}")
        if module.run() is False:
            missed.append(name)
    if missed:
        print(f"target missed: {', '.join(missed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
