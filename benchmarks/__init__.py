"""Benchmarks: `python -m benchmarks` (or `make bench`) runs every module in this package.

Contract for a benchmark module `benchmarks/<name>.py`: define `run() -> bool` that prints its
figures and returns False when its target is missed (the run then exits non-zero). Modules whose
name starts with "_" are helpers and are not run.
"""
