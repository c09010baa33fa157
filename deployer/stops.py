"""Clean stops while a run holds the lock: SIGINT (Ctrl-C), SIGTERM (a cancelled CI job), SIGHUP (a closed terminal
or SSH session) and SIGQUIT (Ctrl-\\) all end a run the same way.

* The first signal raises the run's cancel flag at once (every worker thread stops waiting at its next pause) and
  turns into ``KeyboardInterrupt`` in the main thread, which unwinds into the "Interrupted" message: the stacks
  CloudFormation is still working on, and the command that resumes.
* **No new operation starts after it.** From the moment the signal is seen, every call that would change the
  account (CreateChangeSet, ExecuteChangeSet, DeleteStack, PutObject, DeleteNetworkInterface, UpdateEndpoint, ...:
  :func:`changes_account`) is refused before it is sent, in whichever thread it is made (a botocore ``before-call``
  hook on every client the engine makes: :func:`guard`). Reads still answer, and change sets this run made and
  never executed are still deleted (DeleteChangeSet: cleaning up, not a stack operation), as is the lock.
* **The lock is released last**: only after every worker thread has returned from the call it was in
  (:meth:`Stops.wait_for_calls_in_flight`). A second signal while waiting does not cut that short; it says what
  is still being waited for. Only ``kill -9`` ends the process without it (the lock then stays: ``make unlock``).

docs/deploying.md, "Clean stops".
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from .errors import Cancelled

#: The signals that stop a run cleanly (those this platform has).
SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT") if hasattr(signal, name))

#: Operation name prefixes that change the account (botocore operation names, every service the engine uses).
_CHANGING = ("Create", "Execute", "Delete", "Update", "Put", "Copy", "Set", "Continue", "Start", "Stop", "Tag",
             "Untag", "Add", "Remove", "Import", "Enable", "Disable", "Modify", "Attach", "Detach", "Associate",
             "Disassociate", "Schedule", "Cancel", "Rollback", "Signal", "Restore", "Register", "Deregister",
             "Invoke", "Send", "Publish")
#: Allowed while stopping: cleaning up what this run made (an unexecuted change set, run-now's one-time schedule)
#: and releasing the lock.
_CLEANUP = {("cloudformation", "DeleteChangeSet"), ("ssm", "DeleteParameter"), ("sagemaker", "DeleteMonitoringSchedule")}


def changes_account(service: str, operation: str) -> bool:
    return operation.startswith(_CHANGING) and (service, operation) not in _CLEANUP


@dataclass
class _State:
    depth: int = 0
    stopping: bool = False
    signal_name: str | None = None
    raise_allowed: bool = True
    raised: bool = False
    events: list[threading.Event] = field(default_factory=list)
    say: Callable[[str], None] = print
    previous: dict[int, Any] = field(default_factory=dict)


_STATE = _State()
_STATE_LOCK = threading.Lock()


def stopping() -> bool:
    """True from the first signal until the run that held the lock has ended."""
    return _STATE.stopping


def signal_name() -> str | None:
    return _STATE.signal_name


def guard(client: Any) -> None:
    """Refuse, before it is sent, any call of ``client`` that changes the account once a stop signal was seen.
    Registered by :meth:`deployer.aws.AwsClients.client` on every client it makes."""
    service = client.meta.service_model.service_name

    def refuse(model: Any, **_: Any) -> None:
        if _STATE.stopping and changes_account(service, model.name):
            raise Cancelled(f"{model.name}: not started, the run is stopping ({_STATE.signal_name})")

    client.meta.events.register("before-call", refuse, unique_id="mmtool-clean-stop")


def _handler(signum: int, frame: Any) -> None:
    name = signal.Signals(signum).name
    with _STATE_LOCK:
        first = not _STATE.stopping
        _STATE.stopping = True
        _STATE.signal_name = _STATE.signal_name or name
        for event in _STATE.events:
            event.set()
        raise_now = _STATE.raise_allowed and not _STATE.raised
        if raise_now:
            _STATE.raised = True
    if raise_now:
        raise KeyboardInterrupt(name)
    if not first or not _STATE.raise_allowed:
        busy = _busy_threads()
        _STATE.say(f"{name}: already stopping; waiting for {len(busy)} AWS call(s) in flight to return before the "
                   "lock is released (kill -9 would leave the lock behind)")


def _busy_threads() -> list[threading.Thread]:
    """The engine's worker threads (``stack_N``) still alive, other than the caller."""
    me = threading.current_thread()
    return [t for t in threading.enumerate() if t is not me and t.name.startswith("stack") and t.is_alive()]


class Stops:
    """What :func:`clean_stops` hands to the lock: when raising is allowed, and the wait before release."""

    def __init__(self, say: Callable[[str], None]) -> None:
        self.say = say

    @staticmethod
    def no_more_interrupts() -> None:
        """From here on (releasing the lock) a signal only prints: nothing may cut the release short."""
        with _STATE_LOCK:
            _STATE.raise_allowed = False

    def wait_for_calls_in_flight(self) -> None:
        """Block until every worker thread has returned (their calls answered); signals now only print."""
        self.no_more_interrupts()
        busy = _busy_threads()
        if busy and _STATE.stopping:
            self.say(f"waiting for {len(busy)} AWS call(s) in flight to return before releasing the lock")
        while busy:
            for thread in busy:
                thread.join(0.2)
            busy = _busy_threads()


@contextmanager
def clean_stops(cancel: threading.Event | None, *, say: Callable[[str], None]) -> Iterator[Stops]:
    """Install the stop handlers for the run (the outermost holder installs them; a nested one only adds its cancel
    flag, raised at once by a signal)."""
    main = threading.current_thread() is threading.main_thread()
    with _STATE_LOCK:
        outermost = _STATE.depth == 0
        _STATE.depth += 1
        if cancel is not None:
            _STATE.events.append(cancel)
            if _STATE.stopping:
                cancel.set()
        if outermost:
            _STATE.stopping, _STATE.signal_name, _STATE.raised, _STATE.raise_allowed = False, None, False, True
            _STATE.say = say
    if outermost and main:
        for signum in SIGNALS:
            _STATE.previous[signum] = signal.signal(signum, _handler)
    try:
        yield Stops(say)
    finally:
        with _STATE_LOCK:
            _STATE.depth -= 1
            if cancel is not None and cancel in _STATE.events:
                _STATE.events.remove(cancel)
            last = _STATE.depth == 0
        if last:
            if main:
                for signum, previous in _STATE.previous.items():
                    signal.signal(signum, previous)
                _STATE.previous.clear()
            with _STATE_LOCK:
                _STATE.stopping, _STATE.raise_allowed = False, True
