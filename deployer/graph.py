"""Run one job per stack in dependency order, independent stacks at the same time (a bounded pool of
threads: ``--max-parallel``), and turn Ctrl-C into exit 130 with the stacks still in progress and the
command that resumes.

A stack starts once all its prerequisites succeeded and a slot is free; among the stacks that are ready,
the one listed first in ``names`` starts first (deploy passes the manifest's order, destroy its reverse),
so a fleet's stacks start in a predictable order. A failed prerequisite skips its dependents and nothing
else: stacks that do not depend on the failed one carry on."""

from __future__ import annotations

import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Callable, Iterable, TypeVar

from .context import Context
from .errors import Cancelled, DeployError, Interrupted
from .status import in_progress


def interrupted(ctx: Context, verb: str, labels: list[str] | None = None) -> Interrupted:
    """Ctrl-C: stop waiting (workers see the cancel flag), cancel nothing, say where things stand."""
    ctx.cancel.set()
    if labels is None:  # not inside run_graph: the stacks last seen working
        labels = [label for label, status in ctx.last_status.items() if in_progress(status)]
    from .stops import signal_name

    stop = signal_name()
    lines = [f"Interrupted{f' ({stop})' if stop else ''}. Nothing was cancelled: CloudFormation carries on with what "
             "it started; no new operation was started after the interrupt, and the lock is released once every AWS "
             "call in flight has returned."]
    lines += [f"  {label}: {ctx.last_status.get(label, 'status not read yet')}" for label in labels]
    lines.append(f"Resume: {ctx.resume_command(verb)}" + ("  (it waits for the stacks above, then continues)" if labels else ""))
    return Interrupted("\n".join(lines))


T = TypeVar("T")
R = TypeVar("R")


def each(ctx: Context, func: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """``[func(item) for item in items]`` on at most ``--max-parallel`` threads (reads and change sets of
    independent stacks: plan, drift); results in the order of ``items``, the first error raised."""
    items = list(items)
    if len(items) <= 1:
        return [func(item) for item in items]
    with ThreadPoolExecutor(max_workers=max(1, min(ctx.options.max_parallel, len(items))), thread_name_prefix="stack") as pool:
        return list(pool.map(func, items))


@dataclass
class Outcome:
    ok: bool
    value: Any = None
    error: BaseException | None = None
    skipped_because: str | None = None
    cancelled: bool = False
    seconds: float | None = None  # how long the job ran (the apply summary's time per stack)


def run_graph(
    ctx: Context,
    names: list[str],
    prerequisites: dict[str, list[str]],
    work: Callable[[str], Any],
    *,
    labels: dict[str, str],
    verb: str,
    outcomes: dict[str, Outcome] | None = None,
    limit: int | None = None,
) -> dict[str, Outcome]:
    """``work(name)`` runs once every prerequisite succeeded; a failed prerequisite skips its dependents.
    At most ``limit`` jobs (default ``--max-parallel``) run at once. Every prerequisite must be one of
    ``names`` (callers drop the ones outside a narrowed run).

    ``outcomes`` (filled as jobs finish, before their dependents start) lets a job read how its
    prerequisites went."""
    outcomes = {} if outcomes is None else outcomes
    limit = max(1, ctx.options.max_parallel if limit is None else limit)
    pending = list(names)
    running: dict[Future[Any], str] = {}
    started: dict[str, float] = {}
    pool = ThreadPoolExecutor(max_workers=max(1, min(limit, len(names))), thread_name_prefix="stack")
    try:
        while pending or running:
            for name in list(pending):
                pre = prerequisites.get(name, [])
                broken = [p for p in pre if p in outcomes and not outcomes[p].ok]
                if broken:
                    outcomes[name] = Outcome(ok=False, skipped_because=", ".join(labels[p] for p in broken))
                    pending.remove(name)
                elif len(running) < limit and all(p in outcomes for p in pre):
                    started[name] = time.monotonic()
                    running[pool.submit(work, name)] = name
                    pending.remove(name)
            if not running:
                if pending:  # cannot happen with a validated manifest; never spin
                    for name in pending:
                        outcomes[name] = Outcome(ok=False, skipped_because="unresolvable dependencies")
                    pending.clear()
                continue
            done, _ = wait(list(running), timeout=0.2, return_when=FIRST_COMPLETED)
            for future in done:
                name = running.pop(future)
                seconds = time.monotonic() - started[name]
                try:
                    outcomes[name] = Outcome(ok=True, value=future.result(), seconds=seconds)
                except Cancelled:
                    outcomes[name] = Outcome(ok=False, cancelled=True, seconds=seconds)
                except DeployError as exc:
                    outcomes[name] = Outcome(ok=False, error=exc, seconds=seconds)
                except Exception as exc:  # a bug: stop the others, re-raised below for --debug
                    ctx.cancel.set()
                    outcomes[name] = Outcome(ok=False, error=exc, seconds=seconds)
    except KeyboardInterrupt:
        pool.shutdown(wait=False, cancel_futures=True)
        raise interrupted(ctx, verb, [labels[name] for name in running.values()]) from None
    pool.shutdown(wait=True)
    for outcome in outcomes.values():
        if outcome.error is not None and not isinstance(outcome.error, DeployError):
            raise outcome.error
    return outcomes
