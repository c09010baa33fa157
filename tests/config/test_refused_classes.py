"""Classes of bad input, beyond the examples in tests/bad_params/: checked over the whole code or every region."""

from __future__ import annotations

import re

import pytest
from botocore.loaders import create_loader

from mmtool.config.params import image_accounts, region_partition
from mmtool.config.schedule import ScheduleRejected, parse_schedule, run_hours
from tests.conftest import REPO

CONFIG = sorted((REPO / "mmtool" / "config").glob("*.py"))


def test_no_pattern_of_the_params_model_accepts_non_ascii_digits():
    r"""In Python's re and in pydantic's patterns (Rust regex) \d and \w match digits and letters of every script, and
    str.isdigit() takes superscripts: a full-width account id would reach the manifest. The one \w left is the tag
    check, where AWS itself allows letters and digits of any script."""
    allowed = {"params.py": 2}  # tag keys and tag values
    for path in CONFIG:
        code = "\n".join(line for line in path.read_text().splitlines() if not line.lstrip().startswith("#"))
        uses = len(re.findall(r"\\[dw]|\.isdigit\(|\.isdecimal\(|\.isnumeric\(", code))
        uses -= code.count("\\d and \\w")  # the comments inside strings that explain this rule
        assert uses <= allowed.get(path.name, 0), f"{path.name}: \\d, \\w or isdigit() in a pattern; use [0-9]"


@pytest.mark.parametrize("region", sorted({*image_accounts(), *image_accounts("clarify"), *image_accounts("sklearn")}))
def test_the_partition_of_every_supported_region_is_botocores(region):
    partitions = create_loader().load_data("endpoints")["partitions"]
    expected = next(p["partition"] for p in partitions
                    if region in p.get("regions", {}) or re.fullmatch(p["regionRegex"], region))
    assert region_partition(region) == expected
    from templates.common import partition  # the ARNs the build computes (the S3 gateway endpoint's read list)

    assert partition(region) == expected


@pytest.mark.parametrize("start", range(24))
@pytest.mark.parametrize("interval", range(2, 24))
def test_every_accepted_step_schedule_runs_exactly_every_interval_hours(start, interval):
    """The tool times runtimes, drift alarms and `make status` by the interval: every H/N it accepts must run every N
    hours, day after day (cron's hour step restarts at H each day), and every one it refuses says when it would run."""
    expression = f"cron(0 {start}/{interval} ? * * *)"
    runs = [day * 24 + hour for day in range(3) for hour in run_hours(start, interval)]
    gaps = {b - a for a, b in zip(runs, runs[1:])}
    try:
        schedule = parse_schedule(expression)
    except ScheduleRejected as exc:
        assert gaps != {interval}, f"{expression} runs every {interval} hours but was refused: {exc}"
        assert f"{run_hours(start, interval)[0]:02d}:00" in str(exc)
        parse_schedule(expression, evenly_spaced=False)  # what SageMaker accepts is still read (make status)
    else:
        assert gaps == {interval} and schedule.period_seconds == interval * 3600, expression
