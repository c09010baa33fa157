"""Records per second per core of the processing engine's analyzer, and its memory as records grow.

The whole data-quality path of one scheduled run, in one process as the job runs it: JSON lines of the
CSV capture sample (44 records, replicated) parsed, turned into `inference_record` objects, passed
through the record pre-processor (scripts/record_preprocessor.py, default settings), profiled (types,
statistics, KLL sketches, categories), checked against Model Monitor's reference baseline (drift from
its KLL sketches), and the two output files written. Throughput is records per CPU-second of this
process (`time.process_time`), so a machine busy with other work does not understate it; best of
`REPEATS` passes. Target: at least 100,000 records/s per core.

Memory: the peak Python allocation (tracemalloc) of a run over N and over 4N records (N above one
block of 8,192 rows of 8 columns, the most the analyzer holds at once): streaming means the second is about the
first (sketches and capped tables, not lists of values).

`python -m benchmarks analyzer` (`make bench ARGS=analyzer`); `COPIES` / `REPEATS` size it.
"""

from __future__ import annotations

import os
import tempfile
import time
import tracemalloc
from pathlib import Path

from scripts.analyzer import capture, run as analyzer_run

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "tests" / "data" / "reference" / "capture-samples" / "capture.jsonl"
BASELINE = ROOT / "tests" / "data" / "reference" / "baseline-samples"
PREPROCESSOR = ROOT / "scripts" / "record_preprocessor.py"
TARGET = 100_000
COPIES = int(os.environ.get("ANALYZER_BENCH_COPIES", "1000"))  # 44 records x 1000 = 44,000 per pass
REPEATS = int(os.environ.get("ANALYZER_BENCH_REPEATS", "3"))
MEMORY_COPIES = 250  # 11,000 records: more than one block


def _lines(copies: int) -> list[bytes]:
    return SAMPLE.read_bytes().splitlines() * copies


def _check(lines, out: str) -> analyzer_run.DataQualityResult:
    return analyzer_run.check_data_quality(
        capture.read_lines(lines, "bench"), out, str(BASELINE / "data-quality-statistics.json"),
        str(BASELINE / "data-quality-constraints.json"), str(PREPROCESSOR))


def throughput(copies: int = COPIES, repeats: int = REPEATS) -> float:
    lines = _lines(copies)
    best = float("inf")
    with tempfile.TemporaryDirectory() as out:
        for _ in range(repeats):
            start = time.process_time()
            result = _check(lines, out)
            best = min(best, time.process_time() - start)
    assert result.profile.rows == len(lines)
    return len(lines) / best


def peak_memory(copies: int) -> int:
    """Peak bytes allocated while analysing `copies` x 44 records streamed from a generator."""
    sample = SAMPLE.read_bytes().splitlines()

    def lines():
        for _ in range(copies):
            yield from sample

    with tempfile.TemporaryDirectory() as out:
        tracemalloc.start()
        _check(lines(), out)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


def run() -> bool:
    rate = throughput()
    small, large = peak_memory(MEMORY_COPIES), peak_memory(4 * MEMORY_COPIES)
    print(f"analyzer, data quality (CSV capture sample, {44 * COPIES:,} records, best of {REPEATS} passes)")
    print(f"  throughput:  {rate:>12,.0f} records per CPU-second (target >= {TARGET:,}): "
          f"{'met' if rate >= TARGET else 'MISSED'}")
    print(f"  peak memory: {small / 2**20:.1f} MiB for {44 * MEMORY_COPIES:,} records, "
          f"{large / 2**20:.1f} MiB for {44 * 4 * MEMORY_COPIES:,} ({large / small:.2f}x for 4x the records)")
    return rate >= TARGET
