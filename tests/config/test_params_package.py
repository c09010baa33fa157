"""The params model as a package by section (mmtool/config/params/): what the rest of the code imports from
`mmtool.config.params` is all there, and every monitor is one job model extended."""

from __future__ import annotations

import importlib
import re

import pytest

from mmtool.config import params
from mmtool.config.params import (
    DataQualityMonitor,
    ModelBiasMonitor,
    ModelExplainabilityMonitor,
    ModelQualityMonitor,
    MonitorJob,
)
from tests.conftest import REPO

IMPORT = re.compile(r"^\s*from mmtool\.config\.params import (?:\(([^)]*)\)|([^\n(]+))", re.MULTILINE)


def test_every_name_the_code_imports_from_the_package_is_there():
    names = set()
    for path in [*REPO.glob("mmtool/**/*.py"), *REPO.glob("templates/*.py"), *REPO.glob("tests/**/*.py"),
                 *REPO.glob("scripts/*.py"), *REPO.glob("benchmarks/**/*.py")]:
        for match in IMPORT.finditer(path.read_text()):
            names |= {n.strip().split(" as ")[0] for n in (match.group(1) or match.group(2)).split(",") if n.strip()}
    names.discard("")
    assert len(names) > 10
    missing = sorted(n for n in names if not hasattr(params, n.split("#")[0].strip().split()[0]))
    assert not missing, missing


def test_each_section_module_is_small_and_imports_no_sibling_that_imports_it():
    for path in sorted((REPO / "mmtool" / "config" / "params").glob("*.py")):
        assert len(path.read_text().splitlines()) <= 900, path.name
        importlib.import_module(f"mmtool.config.params.{path.stem}" if path.stem != "__init__" else "mmtool.config.params")


@pytest.mark.parametrize("monitor", [DataQualityMonitor, ModelQualityMonitor, ModelBiasMonitor,
                                     ModelExplainabilityMonitor])
def test_every_monitor_is_the_one_job_model_extended(monitor):
    assert issubclass(monitor, MonitorJob)
    for name, field in MonitorJob.model_fields.items():
        mine = monitor.model_fields[name]
        assert mine.annotation == field.annotation and mine.metadata == field.metadata, (monitor.__name__, name)


def test_only_data_quality_runs_one_off_and_only_ground_truth_monitors_halve_the_hour():
    assert DataQualityMonitor(schedule="now", analysis_window={"start": "-PT2H", "end": "-PT0H"})
    with pytest.raises(ValueError, match="one-off"):
        ModelQualityMonitor(schedule="now")
    # explainability merges no ground truth: an hour's runtime is the period's limit, nothing about a merge job
    with pytest.raises(ValueError) as caught:
        ModelExplainabilityMonitor(schedule="hourly", max_runtime_seconds=3601)
    assert "longer than the schedule period" in str(caught.value) and "merge" not in str(caught.value)
    with pytest.raises(ValueError, match="ground-truth merge job"):
        ModelQualityMonitor(schedule="hourly", max_runtime_seconds=1801)
