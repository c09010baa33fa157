"""`build.py dry-run` (mmtool.operate.capture_download): the CLI around mmtool.operate.dryrun, as a user runs it.

Local capture end to end through `mmtool.cli.main` (a real build of the scratch environment first), S3
capture prefixes and S3 baselines against the moto server. Expected counts and violations are written
out by hand from tests/data/reference/capture-samples/capture.jsonl (44 CSV records, 7 inputs + 1
prediction) and baseline-samples/data-quality-*.json (6 Fractional columns _c0.._c5, 100 rows); the drift of
each column is scipy's KS statistic less the Robust correction (test_dryrun.robust_ks).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mmtool.operate.awsenv import safe_relative_path
from mmtool.generate.pipeline import build
from mmtool.cli import main
from mmtool.config.workspace import Paths

from .. import lint_cache
from .conftest import BUCKET, REGION, REPO, client, no_credentials
from .conftest import scratch as scratch_folder
from .test_dryrun import EXTRA, capture_columns, robust_ks

SAMPLES = REPO / "tests" / "data" / "reference"
CAPTURE = SAMPLES / "capture-samples" / "capture.jsonl"
CONSTRAINTS = SAMPLES / "baseline-samples" / "data-quality-constraints.json"
STATISTICS = SAMPLES / "baseline-samples" / "data-quality-statistics.json"

RECORDS_44 = "Records: 44 read, 44 parsed into 44 rows, 0 skipped, 0 failed"
EXPECTED_EXTRA = [
    {"feature_name": "00000000000000000006", "constraint_check_type": "extra_column_check", "description": EXTRA.format(8, 6)},
    {"feature_name": "00000000000000000007", "constraint_check_type": "extra_column_check", "description": EXTRA.format(8, 6)},
]


@pytest.fixture(scope="module", autouse=True)
def _dev_lint_cache(tmp_path_factory):
    """dev built and linted once for this file; each test's own build starts from its clean lint results
    (tests/lint_cache.py): every test still builds dev first, as a user's dry run does."""
    global _CACHE
    _CACHE = lint_cache.warm(scratch_folder(tmp_path_factory.mktemp("lint-cache")), ["dev"])
    yield
    _CACHE = None


_CACHE = None


def scratch(tmp: Path, **dev_changes: Any) -> Paths:
    """tests/operate/conftest.scratch, with the clean lint results of this file's first build of dev."""
    return lint_cache.reuse(_CACHE, scratch_folder(tmp, **dev_changes))


def assert_expected_violations(document: dict) -> None:
    """capture.jsonl against the reference baseline, as the analyzer checks it: every one of the six baseline
    columns drifted (before the analyzer ran the dry run, drift was not checked), and the two extra columns."""
    violations = document["violations"]
    assert violations[6:] == EXPECTED_EXTRA
    baseline = json.loads(STATISTICS.read_text())
    columns = capture_columns()
    assert [v["feature_name"] for v in violations[:6]] == [f["name"] for f in baseline["features"]]
    for violation, (index, feature) in zip(violations[:6], enumerate(baseline["features"])):
        assert violation["constraint_check_type"] == "baseline_drift_check"
        distance = float(violation["description"].split()[2])
        assert distance == pytest.approx(robust_ks(feature, columns[index]), abs=1e-12)
        assert violation["description"] == f"Numerical distance: {distance!r} exceeds numerical threshold: 0.1"


def run(argv: list[str], paths, capsys) -> tuple[int, str, str]:
    code = main(argv, paths)
    out, err = capsys.readouterr()
    return code, out, err


def capture_folder(tmp_path: Path) -> Path:
    """capture.jsonl split over two hours of Data Capture's folder layout (20 + 24 records)."""
    lines = CAPTURE.read_text().splitlines(keepends=True)
    lines[-1] = lines[-1] if lines[-1].endswith("\n") else lines[-1] + "\n"
    root = tmp_path / "capture" / "churn-dev" / "AllTraffic" / "2026" / "11" / "24"
    (root / "09").mkdir(parents=True)
    (root / "10").mkdir(parents=True)
    (root / "09" / "12-00-000-a.jsonl").write_text("".join(lines[:20]))
    (root / "10" / "05-00-000-b.jsonl").write_text("".join(lines[20:]))
    (root / "10" / "notes.txt").write_text("not capture data\n")
    return tmp_path / "capture"


# ------------------------------------------------------------------ local capture


def test_local_folder_with_a_local_baseline_reports_writes_violations_and_exits_1(tmp_path, capsys):
    paths = scratch(tmp_path / "repo")
    folder = capture_folder(tmp_path)
    code, out, err = run(["dry-run", "--env", "dev", "--capture", str(folder),
                          "--constraints", str(CONSTRAINTS), "--statistics", str(STATISTICS)], paths, capsys)
    assert code == 1
    assert "over 2 files" in out  # the two .jsonl files, not notes.txt
    assert RECORDS_44 in out
    assert "Violations (8):" in out and "Result: FAILED (8 violations)" in out
    written = paths.build / "dev" / "dry-run" / "constraint_violations.json"
    assert_expected_violations(json.loads(written.read_text()))
    assert json.loads((written.parent / "statistics.json").read_text())["dataset"] == {"item_count": 44}
    assert f"Wrote {written}" in out
    # the pre-processor that ran is the one the build rendered for dev
    assert f"Dry run of {paths.build / 'dev' / 'assets' / 'record_preprocessor.py'}" in out
    assert "dev: 5 stacks" in err  # built first (messages on stderr, the report on stdout)


def test_a_clean_run_without_baseline_exits_0_and_writes_an_empty_violations_file(tmp_path, capsys):
    paths = scratch(tmp_path / "repo")
    code, out, _ = run(["dry-run", "--env", "dev", "--capture", str(CAPTURE), "--out", str(tmp_path / "out")],
                       paths, capsys)
    assert code == 0
    assert RECORDS_44 in out and "Result: OK" in out
    assert json.loads((tmp_path / "out" / "constraint_violations.json").read_text()) == {"violations": []}


def test_the_dry_run_output_does_not_make_the_build_stale(tmp_path, capsys):
    # build/<env>/dry-run/ is written by the dry run, not the build: a later build is still up to date
    # (no relint) and leaves the report where it is.
    paths = scratch(tmp_path / "repo")
    assert run(["dry-run", "--env", "dev", "--capture", str(CAPTURE)], paths, capsys)[0] == 0
    messages: list[str] = []
    build(paths, ["dev"], out=messages.append)
    assert messages == ["dev: up to date -> build/dev/"]
    assert (paths.build / "dev" / "dry-run" / "constraint_violations.json").exists()
    code, _, err = run(["dry-run", "--env", "dev", "--capture", str(CAPTURE)], paths, capsys)
    assert code == 0 and "up to date" in err


def test_bad_input_exits_2(tmp_path, capsys):
    paths = scratch(tmp_path / "repo")
    for argv, message in (
        (["dry-run", "--capture", str(CAPTURE)], "--env is required"),
        (["dry-run", "--env", "dev", "--capture", str(tmp_path / "nothing")], "no such capture file or folder"),
        (["dry-run", "--env", "dev", "--capture", str(CAPTURE), "--constraints", str(tmp_path / "c.json")],
         "no such file"),
        (["dry-run", "--env", "dev", "--capture", str(CAPTURE), "--constraints", str(STATISTICS)], "statistics"),
        (["dry-run", "--env", "dev", "--capture", "s3://"], "no bucket name"),
        (["dry-run", "--env", "dev", "--capture", str(CAPTURE), "--max-files", "0"], "must be at least 1"),
    ):
        code, _, err = run(argv, paths, capsys)
        assert (code, message in err) == (2, True), (argv, err)
        assert "Traceback" not in err


def test_an_environment_without_pre_processor_is_refused(tmp_path, capsys):
    paths = scratch(tmp_path / "repo", **{"monitoring.data_quality.record_preprocessor": None})
    code, _, err = run(["dry-run", "--env", "dev", "--capture", str(CAPTURE)], paths, capsys)
    assert code == 2
    assert "monitoring.data_quality.record_preprocessor is null" in err


# ------------------------------------------------------------------ S3, against the moto server


def put_capture(server, keys: list[str]) -> None:
    s3 = client("s3", server)
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    for key in keys:
        s3.put_object(Bucket=BUCKET, Key=key, Body=CAPTURE.read_bytes())


HOUR = "datacapture/churn-dev/AllTraffic/2026/11/24/09"


def test_an_s3_prefix_is_downloaded_then_run(aws, tmp_path, capsys):
    put_capture(aws, [f"{HOUR}/12-00-000-a.jsonl", f"{HOUR}/summary.csv", "datacapture/other/2026/x.jsonl"])
    paths = scratch(tmp_path / "repo")
    prefix = f"s3://{BUCKET}/datacapture/churn-dev/AllTraffic/2026/11/24/"
    code, out, err = run(["dry-run", "--env", "dev", "--capture", prefix], paths, capsys)
    assert code == 0, err
    assert f"downloaded 1 .jsonl object(s), {CAPTURE.stat().st_size:,} bytes, from {prefix}" in err
    assert RECORDS_44 in out
    [downloaded] = [line.strip() for line in out.splitlines() if "mmtool-capture-" in line]
    assert downloaded.endswith(f"/{BUCKET}/{HOUR}/12-00-000-a.jsonl")
    assert not Path(downloaded).exists(), "the temporary folder is removed after the run"


def test_an_s3_prefix_with_more_objects_than_the_cap_says_so(aws, tmp_path, capsys):
    put_capture(aws, [f"{HOUR}/12-00-000-a.jsonl", f"{HOUR}/13-00-000-b.jsonl", f"{HOUR}/14-00-000-c.jsonl"])
    paths = scratch(tmp_path / "repo")
    code, out, err = run(["dry-run", "--env", "dev", "--capture", f"s3://{BUCKET}/{HOUR}/", "--max-files", "2"],
                         paths, capsys)
    assert code == 0
    assert "downloaded 2 .jsonl object(s)" in err
    assert "stopped at 2 objects" in err and "narrow the prefix" in err
    assert "Records: 88 read" in out
    assert "14-00-000-c.jsonl" not in out  # the first two in key order


def test_an_empty_s3_prefix_exits_2(aws, tmp_path, capsys):
    put_capture(aws, [f"{HOUR}/summary.csv"])
    paths = scratch(tmp_path / "repo")
    code, _, err = run(["dry-run", "--env", "dev", "--capture", f"s3://{BUCKET}/{HOUR}/"], paths, capsys)
    assert code == 2
    assert "no .jsonl object under this prefix" in err


def test_the_baseline_params_names_is_downloaded_when_credentials_exist(aws, tmp_path, capsys):
    put_capture(aws, [])
    s3 = client("s3", aws)
    s3.upload_file(str(CONSTRAINTS), BUCKET, "baselines/job-1/constraints.json")
    s3.upload_file(str(STATISTICS), BUCKET, "baselines/job-1/statistics.json")
    paths = scratch(tmp_path / "repo", **{"monitoring.data_quality.baseline": {
        "constraints": f"s3://{BUCKET}/baselines/job-1/constraints.json",
        "statistics": f"s3://{BUCKET}/baselines/job-1/statistics.json"}})
    code, out, err = run(["dry-run", "--env", "dev", "--capture", str(CAPTURE)], paths, capsys)
    assert code == 1
    folder = paths.build / "dev" / "dry-run" / "baseline"
    assert (folder / "constraints.json").read_bytes() == CONSTRAINTS.read_bytes()
    assert (folder / "statistics.json").read_bytes() == STATISTICS.read_bytes()
    assert "baseline: downloaded" in err
    assert_expected_violations(json.loads((paths.build / "dev" / "dry-run" / "constraint_violations.json").read_text()))


def test_a_missing_baseline_object_is_an_error_with_the_fix(aws, tmp_path, capsys):
    put_capture(aws, [])
    paths = scratch(tmp_path / "repo", **{"monitoring.data_quality.baseline": {
        "constraints": f"s3://{BUCKET}/baselines/gone/constraints.json",
        "statistics": f"s3://{BUCKET}/baselines/gone/statistics.json"}})
    code, _, err = run(["dry-run", "--env", "dev", "--capture", str(CAPTURE)], paths, capsys)
    assert code == 1
    assert f"download the baseline s3://{BUCKET}/baselines/gone/constraints.json named in params/dev.yaml" in err
    assert "pass local copies with CONSTRAINTS=... STATISTICS=..." in err


def test_without_credentials_an_s3_capture_is_a_clear_error(monkeypatch, tmp_path, capsys):
    no_credentials(monkeypatch)
    paths = scratch(tmp_path / "repo")
    code, _, err = run(["dry-run", "--env", "dev", "--capture", f"s3://{BUCKET}/{HOUR}/"], paths, capsys)
    assert code == 2
    assert "no usable AWS credentials" in err and "AWS_PROFILE" in err
    assert "Traceback" not in err


def test_without_credentials_a_params_baseline_is_skipped_and_said_so(monkeypatch, tmp_path, capsys):
    no_credentials(monkeypatch)
    paths = scratch(tmp_path / "repo", **{"monitoring.data_quality.baseline": {
        "constraints": f"s3://{BUCKET}/baselines/job-1/constraints.json",
        "statistics": f"s3://{BUCKET}/baselines/job-1/statistics.json"}})
    code, out, err = run(["dry-run", "--env", "dev", "--capture", str(CAPTURE)], paths, capsys)
    assert code == 0
    assert "no AWS credentials were found, so the columns are NOT checked against it" in err
    assert "Baseline:" not in out


def test_s3_keys_cannot_escape_the_download_folder():
    assert safe_relative_path("datacapture/ep/AllTraffic/x.jsonl").as_posix() == "datacapture/ep/AllTraffic/x.jsonl"
    assert safe_relative_path("a//b/./c.jsonl").as_posix() == "a/b/c.jsonl"
    assert safe_relative_path("/abs.jsonl").as_posix() == "abs.jsonl"
    assert safe_relative_path("datacapture/../../etc/x.jsonl") is None
    assert safe_relative_path("") is None


def test_the_make_targets_require_env_and_quote_paths(tmp_path):
    for target, extra in (("baseline", "DATASET=x.csv"), ("dry-run", "CAPTURE=x")):
        done = subprocess.run(["make", "-n", "-C", str(REPO), target, extra, "ENV="], capture_output=True, text=True)
        assert done.returncode == 2
        assert "ENV is required" in done.stderr
    from tests.test_makefile import _make  # real make, the tool replaced by a recorder of its arguments

    argv = _make(tmp_path, "dry-run", ENV="dev", CAPTURE="cap dir", CONSTRAINTS="c.json")
    assert argv == ["build.py", "dry-run", "--env", "dev", "--capture", "cap dir", "--constraints", "c.json"]


def test_registering_the_commands_loads_no_numpy():
    """The analyzer's numpy modules load when a dry run, a local baseline or compare-engines runs, not for every
    command (the CLI builds every verb's parser)."""
    probe = "import sys, mmtool.cli; mmtool.cli._parser(); print(sorted({'numpy', 'pandas'} & set(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
