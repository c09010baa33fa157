"""Following one SageMaker processing job to its end: `make baseline`'s job (`mmtool.operate.baseline`) and
`make run-now ENGINE=processing`'s (`mmtool.operate.runnow_processing`) share this one follower."""

from __future__ import annotations

import time
from typing import Any, Callable

from mmtool.operate.awsenv import aws_errors, aws_failure, elapsed as _elapsed

#: DescribeProcessingJob's ProcessingJobStatus values after which nothing changes (`Stopping` is not one):
#: https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DescribeProcessingJob.html
TERMINAL = ("Completed", "Failed", "Stopped")


def follow_processing_job(sagemaker: Any, name: str, *, timeout: float, poll_seconds: float, console: Any,
                          timed_out: Callable[[str, float], Exception],
                          on_status: Callable[[str], None] | None = None,
                          clock: Callable[[], float] = time.monotonic,
                          sleep: Callable[[float], None] = time.sleep) -> tuple[dict[str, Any], float]:
    """Poll DescribeProcessingJob until the job ends: (its last description, the elapsed seconds). Each status change
    is printed on `console` with the elapsed time, and given to `on_status` (a spinner) at every poll. At `timeout`
    raises `timed_out(last status, elapsed)`; the job goes on in AWS (nothing here stops it)."""
    start, last = clock(), None
    while True:
        try:
            described = sagemaker.describe_processing_job(ProcessingJobName=name)
        except aws_errors() as exc:
            raise aws_failure(exc, f"describe the processing job {name} (sagemaker:DescribeProcessingJob)") from exc
        status = described.get("ProcessingJobStatus", "Unknown")
        elapsed = clock() - start
        if status != last:
            console.print(f"{_elapsed(elapsed)}  {name}: {status}", highlight=False)
            last = status
        if on_status is not None:
            on_status(status)
        if status in TERMINAL:
            return described, elapsed
        if elapsed >= timeout:
            raise timed_out(status, elapsed)
        sleep(min(poll_seconds, max(timeout - elapsed, 0.0)))
