"""What every command carries around: the manifest, the AWS clients, the reporter, the options, the
overall deadline (``--wait-timeout``) and the cancel flag raised by Ctrl-C."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from .aws import AwsClients
from .errors import Cancelled
from .manifest import Manifest
from .reporter import Reporter

DEFAULT_WAIT_TIMEOUT = 3600.0
#: Stacks worked on at the same time (``--max-parallel``): CloudFormation's own API limits, not our
#: threads, are what a larger number would run into (see docs/deploying.md, 'Fleets').
DEFAULT_MAX_PARALLEL = 4


@dataclass
class Options:
    yes: bool = False
    allow_replacement: bool = False
    continue_rollback: bool = False
    skip_account_check: bool = False
    disable_termination_protection: bool = False
    wait_timeout: float = DEFAULT_WAIT_TIMEOUT
    poll_min: float = 1.0  # first pause between two reads of a stack; grows to poll_max
    poll_max: float = 5.0
    resume_command: str | None = None  # printed after Ctrl-C or a timeout
    show_outputs: bool = True  # deploy ends with the outputs table
    wait_for_lock: float = 0.0  # seconds to wait for another run's environment lock (deployer/lock.py)
    unlock_command: str | None = None  # printed when a lock is in the way or could not be released
    max_parallel: int = DEFAULT_MAX_PARALLEL  # stacks in flight at once (deploy, destroy, plan's change sets)
    endpoint: str | None = None  # --endpoint KEY: only that endpoint's stacks (the manifest is already narrowed)
    save_plan: bool = False  # plan --out: keep the change sets, named for a saved plan (deployer/saved_plan.py)
    detailed_exitcode: bool = False  # plan --detailed-exitcode: exit 2 (EXIT_CHANGES) when the plan has changes


@dataclass
class Context:
    manifest: Manifest
    clients: AwsClients
    reporter: Reporter
    options: Options = field(default_factory=Options)
    ask: Callable[[str], str] = input
    cancel: threading.Event = field(default_factory=threading.Event)
    started: float = field(default_factory=time.monotonic)
    last_status: dict[str, str] = field(default_factory=dict)  # stack name -> last status seen

    @property
    def deadline(self) -> float:
        return self.started + self.options.wait_timeout

    def time_left(self) -> float:
        return self.deadline - time.monotonic()

    def pause(self, seconds: float) -> None:
        """Sleep, but wake up at once (and stop) when Ctrl-C or a failure elsewhere raised the cancel flag."""
        if self.cancel.wait(max(0.0, min(seconds, self.time_left()))):
            raise Cancelled()

    def command(self, verb: str = "deploy", endpoint: str | None = None) -> str:
        """The command a person runs next: ``options.resume_command`` (what the CLI was called as, without
        its --endpoint) or ``make <verb> ENV=<env>``, narrowed to ``endpoint`` the way that command spells it."""
        base = self.options.resume_command or f"make {verb} ENV={self.manifest.environment}"
        if endpoint:
            base += f" ENDPOINT={endpoint}" if base.startswith("make ") else f" --endpoint {endpoint}"
        return base

    def resume_command(self, verb: str = "deploy") -> str:
        """The command that continues this run: same verb, same --endpoint."""
        return self.command(verb, self.options.endpoint)

    def note_status(self, stack_name: str, status: str) -> None:
        self.last_status[stack_name] = status
