"""The analyzer's command line: exit codes, one-line errors, and that it runs as a folder without mmtool."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from scripts.analyzer import cli

from .conftest import BASELINE, CAPTURE, REPO

ANALYZER = REPO / "scripts" / "analyzer"


def run_cli(args, capsys):
    code = cli.main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_baseline_writes_statistics_and_constraints(tmp_path, capsys):
    dataset = tmp_path / "train.csv"
    frame = pd.DataFrame({"f0": [0.5, 0.25, None, 1.0], "f1": [3, 4, 5, 6], "f2": ["a", "b", "a", "a"]})
    frame.to_csv(dataset, index=False)
    code, out, err = run_cli(["baseline", "--dataset", dataset, "--header", "--out", tmp_path / "b"], capsys)
    assert (code, err) == (0, "")
    statistics = json.loads((tmp_path / "b" / "statistics.json").read_text())
    suggested = json.loads((tmp_path / "b" / "constraints.json").read_text())
    f0 = statistics["features"][0]
    assert f0["numerical_statistics"]["common"] == {"num_present": 3, "num_missing": 1}
    assert f0["numerical_statistics"]["mean"] == pytest.approx(frame["f0"].mean())
    assert [f["inferred_type"] for f in suggested["features"]] == ["Fractional", "Integral", "String"]
    code, _, err = run_cli(["baseline", "--dataset", dataset, "--out", tmp_path / "c"], capsys)
    headerless = json.loads((tmp_path / "c" / "statistics.json").read_text())
    assert [f["name"] for f in headerless["features"]] == ["_c0", "_c1", "_c2"]
    assert headerless["dataset"]["item_count"] == 5  # the header line is a row of strings now
    assert headerless["features"][1]["inferred_type"] == "String"


def test_check_with_violations_is_a_result_not_an_error(tmp_path, capsys):
    code, out, err = run_cli(["check", "--capture", CAPTURE / "capture.jsonl",
                              "--statistics", BASELINE / "data-quality-statistics.json",
                              "--constraints", BASELINE / "data-quality-constraints.json",
                              "--preprocessor", REPO / "scripts" / "record_preprocessor.py", "--out", tmp_path], capsys)
    violations = json.loads((tmp_path / "constraint_violations.json").read_text())["violations"]
    assert code == 0 and err == "" and violations
    assert "%d violation(s)" % len(violations) in out
    assert (tmp_path / "statistics.json").is_file()


@pytest.mark.parametrize("args, message", [
    (["check", "--capture", "/no/such/dir", "--statistics", BASELINE / "data-quality-statistics.json"],
     "/no/such/dir: no such capture file or folder"),
    (["check", "--capture", CAPTURE / "capture.jsonl", "--statistics", BASELINE / "data-quality-constraints.json"],
     "this is a constraints.json; pass it as --constraints"),
    (["check", "--capture", CAPTURE / "capture.jsonl"], "give --statistics and/or --constraints"),
    (["check", "--capture", BASELINE / "data-quality-constraints.json", "--statistics",
      BASELINE / "data-quality-statistics.json"], "data-quality-constraints.json:1: not a JSON line"),
    (["check", "--capture", CAPTURE / "capture.jsonl", "--statistics", BASELINE / "data-quality-statistics.json",
      "--preprocessor", "/no/pre.py"], "/no/pre.py: no such pre-processor file"),
    (["check", "--capture", CAPTURE / "capture.jsonl", "--statistics", BASELINE / "data-quality-statistics.json",
      "--start", "yesterday", "--end", "2026-01-01T00:00:00Z"], "--start='yesterday': not an ISO-8601 time"),
    (["baseline", "--dataset", "/no/train.csv", "--out", "/tmp/x"], "/no/train.csv: no such dataset file"),
    (["baseline", "--out", "/tmp/x"], "the following arguments are required: --dataset"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
])
def test_bad_input_is_exit_2_with_one_line(args, message, tmp_path, capsys):
    code, out, err = run_cli(args + (["--out", tmp_path] if args[0] == "check" else []), capsys)
    assert code == 2
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_an_empty_window_is_no_data_exit_1(tmp_path, capsys):
    code, _, err = run_cli(["check", "--capture", CAPTURE / "captured-data.jsonl", "--statistics",
                            BASELINE / "data-quality-statistics.json", "--start", "2030-01-01T00:00:00Z",
                            "--end", "2030-01-01T01:00:00Z", "--out", tmp_path], capsys)
    assert code == 1 and "no data" in err


def test_it_runs_as_a_folder_without_mmtool_on_the_path(tmp_path):
    """`python scripts/analyzer ...` from anywhere, as the processing job runs it (-I: no user site, no
    current folder, no PYTHONPATH, so nothing of the repository is importable but the folder itself)."""
    probe = tmp_path / "probe.py"
    probe.write_text("import runpy, sys\nsys.argv = [sys.argv[1]] + sys.argv[2:]\n"
                     "try:\n    runpy.run_path(sys.argv[0], run_name='__main__')\n"
                     "finally:\n    assert not any(m.startswith(('mmtool', 'deployer', 'templates')) for m in sys.modules)\n")
    result = subprocess.run([sys.executable, "-I", str(probe), str(ANALYZER), "check", "--capture",
                             str(CAPTURE / "capture.jsonl"), "--statistics", str(BASELINE / "data-quality-statistics.json"),
                             "--out", str(tmp_path / "o")], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "o" / "constraint_violations.json").is_file()


def test_the_package_imports_only_the_standard_library_numpy_pandas_and_boto3():
    allowed = set(sys.stdlib_module_names) | {"numpy", "pandas", "boto3"}
    for path in sorted(ANALYZER.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module]
            else:
                continue
            for name in names:
                assert name.split(".")[0] in allowed, f"{path.name} imports {name}"


def test_a_pre_processor_that_raises_is_bad_input_named_by_file_and_line(tmp_path, capsys):
    broken = tmp_path / "broken.py"
    broken.write_text("def preprocess_handler(inference_record, logger):\n    raise KeyError('features')\n")
    code, _, err = run_cli(["check", "--capture", CAPTURE / "capture.jsonl", "--statistics",
                            BASELINE / "data-quality-statistics.json", "--preprocessor", broken, "--out", tmp_path],
                           capsys)
    assert code == 2
    assert "capture.jsonl:1: the pre-processor raised KeyError: 'features'" in err


@pytest.mark.parametrize("path", sorted(ANALYZER.glob("*.py")), ids=lambda p: p.name)
def test_the_package_keeps_to_python_38_grammar_without_annotations(path):
    """The scikit-learn image's Python is 3.8 or later depending on the version the engine pins."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), feature_version=(3, 8))):
        assert not isinstance(node, ast.AnnAssign), path.name
        if isinstance(node, ast.FunctionDef):
            assert node.returns is None and all(a.annotation is None for a in node.args.args), node.name


def test_the_packed_zip_application_runs_alone_and_is_byte_identical_when_rebuilt(tmp_path, capsys):
    first, second = tmp_path / "a" / "analyzer.pyz", tmp_path / "b" / "analyzer.pyz"
    assert run_cli(["pack", "--out", first], capsys)[0] == 0
    assert run_cli(["pack", "--out", second], capsys)[0] == 0
    assert first.read_bytes() == second.read_bytes()
    result = subprocess.run([sys.executable, "-I", str(first), "check", "--capture", str(CAPTURE / "capture.jsonl"),
                             "--statistics", str(BASELINE / "data-quality-statistics.json"), "--out",
                             str(tmp_path / "o")], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "o" / "constraint_violations.json").read_text())["violations"]
    result = subprocess.run([sys.executable, "-I", str(first), "check", "--capture", "/nowhere", "--statistics",
                             "x", "--out", str(tmp_path / "o")], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and result.stderr.count("\n") == 1
