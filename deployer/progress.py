"""Progress lines for steps that take a while, readable in a CI log (plain lines, no terminal needed).

A :class:`Step` prints nothing when it is quick. Once it has run for ``after`` seconds (default 1) it says what
it is doing, then again every ``every`` seconds (default 10) with the time so far, and when it ends, how long it
took:

    cfn-lint: 18 templates...
    cfn-lint: 18 templates: 10 s so far
    cfn-lint: 18 templates: done in 12.4 s

so a log never goes quiet for long, and every slow step shows its time. ``MMTOOL_PROGRESS_AFTER=0`` shows the
time of every step, quick ones included (the tests use it to see each step without depending on its speed). Used by ``make build`` (lint),
``make package`` and the plan that ``plan`` and ``deploy`` make (mmtool/generate, mmtool/handoff, deployer/plan.py,
deployer/deploy.py), and for the times of the apply summary (deployer/summary.py). Standard library only: the build imports it without loading boto3 or rich.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from types import TracebackType
from typing import Callable

AFTER = 1.0  # seconds: a step quicker than this prints nothing (MMTOOL_PROGRESS_AFTER overrides it)
EVERY = 10.0  # seconds between two "so far" lines of a long step


def to_stderr(line: str) -> None:
    """Where progress lines go: stderr, beside a command's results on stdout (a plan's JSON stays clean)."""
    print(line, file=sys.stderr, flush=True)


def duration_text(seconds: float) -> str:
    """0.4 s, 12.4 s, 2 min 05 s, 1 h 02 min."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    seconds = int(round(seconds))
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds // 60 % 60:02d} min"


class Step:
    """``with Step("cfn-lint: 18 templates", say): ...``; ``say`` prints one line (stderr, for commands whose
    stdout is a result). ``wait`` and ``clock`` are injectable so tests need not wait real time."""

    def __init__(self, what: str, say: Callable[[str], None], *, after: float | None = None, every: float = EVERY,
                 clock: Callable[[], float] = time.monotonic,
                 wait: Callable[[threading.Event, float], bool] | None = None) -> None:
        self.what = what
        self._say = say
        self._after = after if after is not None else float(os.environ.get("MMTOOL_PROGRESS_AFTER") or AFTER)
        self._every = every
        self._clock = clock
        self._wait = wait or (lambda event, seconds: event.wait(seconds))
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._announced = False
        self._start = 0.0
        self._thread: threading.Thread | None = None

    @property
    def elapsed(self) -> float:
        return self._clock() - self._start

    def __enter__(self) -> "Step":
        self._start = self._clock()
        self._thread = threading.Thread(target=self._watch, name=f"progress: {self.what}", daemon=True)
        self._thread.start()
        return self

    def _watch(self) -> None:
        if self._wait(self._done, self._after):
            return
        with self._lock:
            if self._done.is_set():
                return
            self._announced = True
            self._say(f"{self.what}...")
        while not self._wait(self._done, self._every):
            with self._lock:
                if self._done.is_set():
                    return
                self._say(f"{self.what}: {duration_text(self.elapsed)} so far")

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        with self._lock:
            self._done.set()
            elapsed = self.elapsed
            if self._announced or elapsed >= self._after:
                outcome = "done" if exc_type is None else "stopped"
                self._say(f"{self.what}: {outcome} in {duration_text(elapsed)}")
        if self._thread is not None:
            self._thread.join()
