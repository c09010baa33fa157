"""One run at a time per environment (or per fleet endpoint): claims in Parameter Store, taken before anything
changes the account.

``deploy``, ``destroy``, ``make catalog``, ``make adopt``, ``make run-now`` and ``make baseline`` hold it for their
whole run; ``plan``, ``outputs``, ``drift`` and ``status`` only read and never take it.

How it works (no DynamoDB, no conditional delete: SSM has neither a conditional delete nor a compare-and-swap):

* A run **claims** by creating its own parameter, named by a random token:
  ``/<project>/<env>/deployer/locks/environment/<token>`` (a whole-environment run) or
  ``/<project>/<env>/deployer/locks/endpoints/<key>/<token>`` (a run on one fleet endpoint's stacks). The value is
  JSON: who (the caller's ARN from STS), host, pid, since (UTC), the command line, the operation, the token.
* It then lists every claim of the environment (GetParametersByPath on ``/<project>/<env>/deployer``, recursive).
  A whole-environment claim conflicts with every other claim; an endpoint's claim with the environment's claims
  and that endpoint's. The run goes on only when it sees **no conflicting claim**. Of two runs that claim at the
  same moment, the later lister always sees the earlier claim, so at most one goes on (this relies on Parameter
  Store answering a listing with the parameters created before it, which is how it behaves; see
  docs/deploying.md for what remains).
* **Fairness**: while a conflicting claim exists, the run whose claim is the oldest (LastModifiedDate, then name)
  keeps its claim and waits; every younger one gives its claim back and waits (with jitter). So two runs started
  together never both give up and retry in step for their whole ``--wait-for-lock``: the older one goes on as
  soon as the holder is gone, the younger one after it.
* **Release and unlock delete only names they own**: a run deletes its own claim (a name no other run can have);
  ``make unlock`` deletes exactly the claims it showed and asked about. A claim taken afterwards has another
  name and is never deleted by them.
* Locks of earlier versions (``/<project>/<env>/deployer/lock``, ``.../deployer/endpoint-locks/<key>``) still
  count as claims (a run of an older version, or a lock written by hand), and ``make unlock`` removes them after
  checking their token again (the only read-then-delete left).
* It is released at the end, on failure and on SIGINT, SIGTERM, SIGHUP or SIGQUIT, only **after every AWS call
  still in flight has returned** (deployer/stops.py). Only a run killed outright (``kill -9``, a lost CI runner)
  leaves its claim behind: ``make unlock ENV=e`` shows it and removes it after confirmation.
* Taking the lock again inside a run that holds it (the catalog publishing deploys the catalog stack through
  ``deploy``) is a no-op: the outer run keeps it.

Permissions: ``ssm:PutParameter`` and ``ssm:DeleteParameter`` on
``arn:aws:ssm:<region>:<account>:parameter/<project>/<env>/deployer/*``, ``ssm:GetParametersByPath`` on
``.../<project>/<env>/deployer``.
"""

from __future__ import annotations

import json
import os
import random
import shlex
import socket
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterator

from botocore.exceptions import ClientError

from .aws import AwsClients
from .errors import AWS_ERRORS, DeployError, EXIT_LOCKED, aws_error, error_code

CLAIMS = "deployer/locks"  # /<project>/<env>/deployer/locks/environment/<token>, .../locks/endpoints/<key>/<token>
LEGACY_LOCK = "deployer/lock"  # the environment lock of earlier versions
LEGACY_ENDPOINT_LOCKS = "deployer/endpoint-locks"  # an endpoint's lock of earlier versions
COMMAND_LIMIT = 1000  # characters of the command line kept in the lock (a standard parameter holds 4 KB)


class LockedError(DeployError):
    """Another run holds the environment's lock (now, or still after ``--wait-for-lock``)."""

    exit_code = EXIT_LOCKED


def root(project: str, environment: str) -> str:
    return f"/{project}/{environment}/deployer"


def claim_name(project: str, environment: str, endpoint: str | None, token: str) -> str:
    """The name of one run's claim: unique (a random token), so deleting it can never delete another run's."""
    if endpoint is not None:
        return f"{root(project, environment)}/locks/endpoints/{endpoint}/{token}"
    return f"{root(project, environment)}/locks/environment/{token}"


def legacy_name(project: str, environment: str, endpoint: str | None = None) -> str:
    """The single lock parameter of earlier versions (still honoured and removable by unlock)."""
    if endpoint is not None:
        return f"/{project}/{environment}/{LEGACY_ENDPOINT_LOCKS}/{endpoint}"
    return f"/{project}/{environment}/{LEGACY_LOCK}"


def command_line() -> str:
    """This process's command line, as a person would type it (``build.py deploy --env prod --yes``)."""
    program = sys.argv[0] if sys.argv and sys.argv[0] else "python"
    if os.path.basename(program) == "__main__.py":  # python -m package
        words = ["python", "-m", os.path.basename(os.path.dirname(program)), *sys.argv[1:]]
    else:
        words = [os.path.basename(program), *sys.argv[1:]]
    text = " ".join(shlex.quote(w) for w in words)
    return text if len(text) <= COMMAND_LIMIT else text[: COMMAND_LIMIT - 1] + "…"


@dataclass(frozen=True)
class Holder:
    """What the lock says about the run that holds it."""

    who: str
    host: str
    pid: int
    since: str  # ISO 8601, UTC
    command: str
    operation: str
    token: str

    @classmethod
    def mine(cls, who: str, operation: str) -> "Holder":
        now = datetime.now(timezone.utc).replace(microsecond=0)
        return cls(who=who, host=socket.gethostname(), pid=os.getpid(), since=now.isoformat(),
                   command=command_line(), operation=operation, token=uuid.uuid4().hex)

    def to_value(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_value(cls, text: str) -> "Holder":
        """Tolerant: a lock written by hand or by another tool is still shown (and can be removed)."""
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            return cls(who="(unknown: the lock's value is not this tool's JSON)", host="?", pid=0, since="?",
                       command=text[:200], operation="?", token="")
        pid = data.get("pid")
        return cls(
            who=str(data.get("who", "?")), host=str(data.get("host", "?")),
            pid=pid if isinstance(pid, int) else 0, since=str(data.get("since", "?")),
            command=str(data.get("command", "?")), operation=str(data.get("operation", "?")),
            token=str(data.get("token", "")),
        )

    def age(self, now: datetime | None = None) -> str:
        try:
            started = datetime.fromisoformat(self.since)
        except ValueError:
            return "age unknown"
        seconds = int(((now or datetime.now(timezone.utc)) - started).total_seconds())
        if seconds < 120:
            return f"{max(seconds, 0)} s ago"
        if seconds < 7200:
            return f"{seconds // 60} min ago"
        return f"{seconds // 3600} h {seconds % 3600 // 60} min ago"

    def gone(self) -> bool:
        """True when the holder ran on this host and its process no longer exists (a stale lock)."""
        if self.host != socket.gethostname() or self.pid <= 0 or self.pid == os.getpid():
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:  # it exists, as another user
            return False
        return False

    def describe(self) -> str:
        lines = [
            f"  held by {self.who} on host {self.host} (pid {self.pid}) since {self.since} ({self.age()})",
            f"  running: {self.operation}: {self.command}",
        ]
        if self.gone():
            lines.append(f"  process {self.pid} no longer runs on this host: the lock is stale (that run died).")
        return "\n".join(lines)


@dataclass(frozen=True)
class Claim:
    """One claim found in Parameter Store: whose (``holder``), for what (``endpoint``: None = the whole
    environment), when (``modified``), and whether it is an earlier version's single lock (``legacy``)."""

    name: str
    holder: Holder
    endpoint: str | None
    modified: datetime
    legacy: bool = False

    @property
    def order(self) -> tuple[datetime, str]:
        """First come, first served: older claims first, the name breaking ties (the same for every reader)."""
        return (self.modified, self.name)

    def conflicts_with(self, endpoint: str | None) -> bool:
        """Does this claim keep a run on ``endpoint`` (None: the whole environment) from going on?"""
        return endpoint is None or self.endpoint is None or self.endpoint == endpoint



def _classify(project: str, environment: str, name: str) -> tuple[str | None, bool] | None:
    """(endpoint or None, legacy) for a parameter that is a claim; None for anything else under the path."""
    base = root(project, environment)
    rest = name[len(base) + 1:] if name.startswith(base + "/") else None
    if rest is None:
        return None
    parts = rest.split("/")
    if parts == ["lock"]:
        return None, True
    if len(parts) == 2 and parts[0] == "endpoint-locks":
        return parts[1], True
    if len(parts) == 3 and parts[:2] == ["locks", "environment"]:
        return None, False
    if len(parts) == 4 and parts[:2] == ["locks", "endpoints"]:
        return parts[2], False
    return None


def claims(ssm: Any, project: str, environment: str) -> list[Claim]:
    """Every claim of the environment (new and earlier versions'), oldest first."""
    path = root(project, environment)
    action = f"read the locks under {path} (ssm:GetParametersByPath)"
    found: list[Claim] = []
    try:
        for page in ssm.get_paginator("get_parameters_by_path").paginate(Path=path, Recursive=True):
            for parameter in page.get("Parameters", []):
                kind = _classify(project, environment, parameter["Name"])
                if kind is None:
                    continue
                modified = parameter.get("LastModifiedDate") or datetime.now(timezone.utc)
                if modified.tzinfo is None:
                    modified = modified.replace(tzinfo=timezone.utc)
                found.append(Claim(parameter["Name"], Holder.from_value(parameter.get("Value", "")), kind[0],
                                   modified, legacy=kind[1]))
    except ClientError as exc:
        raise aws_error(exc, action=action, next_step="Nothing was changed. Next: the deploying principal needs "
                        f"ssm:GetParametersByPath on {path} (docs/deploying.md, 'Permissions').") from exc
    except AWS_ERRORS as exc:
        raise aws_error(exc, action=action) from exc
    return sorted(found, key=lambda c: c.order)


def _create(clients: AwsClients, name: str, holder: Holder, label: str) -> None:
    """PutParameter Overwrite=false of our own claim (a fresh name: it cannot exist)."""
    action = f"claim the lock {name} (ssm:PutParameter)"
    try:
        clients.ssm.put_parameter(
            Name=name, Value=holder.to_value(), Type="String", Overwrite=False,
            Description=f"mmtool: {label} is being changed by one run; the value says who. "
                        "Remove only with `make unlock`.",
        )
    except ClientError as exc:
        raise aws_error(
            exc, action=action,
            next_step="Nothing was changed. Next: the deploying principal needs ssm:PutParameter, ssm:DeleteParameter "
            f"and ssm:GetParametersByPath on {name.rsplit('/locks/', 1)[0]}/* (docs/deploying.md, 'Permissions').",
        ) from exc
    except AWS_ERRORS as exc:
        raise aws_error(exc, action=action, next_step="Nothing was changed. Next: run the command again.") from exc


def _delete_own(clients: AwsClients, name: str) -> bool:
    """Delete a claim by its own unique name; False when it was already gone (removed by `make unlock`)."""
    try:
        clients.ssm.delete_parameter(Name=name)
        return True
    except ClientError as exc:
        if error_code(exc) == "ParameterNotFound":
            return False
        raise aws_error(exc, action=f"delete the lock {name} (ssm:DeleteParameter)") from exc
    except AWS_ERRORS as exc:
        raise aws_error(exc, action=f"delete the lock {name} (ssm:DeleteParameter)") from exc


def _locked_message(label: str, holder: Holder | None, unlock_command: str, waited: float | None,
                    scope: str = "this environment") -> str:
    head = (f"{label} is locked: another run is changing {scope}"
            + (f" (waited {waited:g} s with --wait-for-lock)." if waited else "."))
    who = holder.describe() if holder else "  (the lock was released while it was read; run the command again)"
    return (
        f"{head}\n{who}\nNothing was changed.\n"
        "Next: let that run finish, or wait for it: run again with --wait-for-lock SECONDS "
        "(make ... ARGS=\"--wait-for-lock 900\"). If that run is dead (its process is gone, its CI job "
        f"cancelled), remove the lock: `{unlock_command}`."
    )


# Locks held by this process (key -> token): taking one again inside the same run is a no-op.
_HELD: dict[str, str] = {}
_HELD_LOCK = threading.Lock()


def _unlock_command_for(environment: str, endpoint: str | None) -> str:
    return f"make unlock ENV={environment}" + (f" ENDPOINT={endpoint}" if endpoint else "")


@contextmanager
def hold(
    clients: AwsClients,
    *,
    project: str,
    environment: str,
    who: str,
    operation: str,
    wait_seconds: float = 0.0,
    say: Callable[[str], None] = print,
    warn: Callable[[str], None] | None = None,
    unlock_command: str | None = None,
    poll_seconds: float = 2.0,
    endpoint: str | None = None,
    cancel: threading.Event | None = None,
) -> Iterator[Holder | None]:
    """Hold the environment's lock (or ``endpoint``'s) for the body; raise :class:`LockedError` when another run
    has a conflicting claim (see the module docstring). SIGINT, SIGTERM, SIGHUP and SIGQUIT stop the body cleanly:
    ``cancel`` (the run's cancel flag) is raised at once, and the claim is deleted only once every call in flight
    has returned (deployer/stops.py)."""
    from .stops import clean_stops

    key = f"{clients.endpoint_url or ''}|{clients.region}|{project}|{environment}|{endpoint or ''}"
    label = f"{project} {environment}" + (f" endpoint {endpoint}" if endpoint else "")
    unlock_command = unlock_command or _unlock_command_for(environment, endpoint)
    warn = warn or say
    with _HELD_LOCK:
        nested = key in _HELD
    if nested:
        with clean_stops(cancel, say=warn):
            yield None
        return
    mine = Holder.mine(who, operation)
    name = claim_name(project, environment, endpoint, mine.token)
    with clean_stops(cancel, say=warn) as stops:
        _acquire(clients, project, environment, endpoint, mine, name, label, unlock_command, wait_seconds, say,
                 poll_seconds)
        with _HELD_LOCK:
            _HELD[key] = mine.token
        try:
            yield mine
        finally:
            stops.no_more_interrupts()
            with _HELD_LOCK:
                _HELD.pop(key, None)
            stops.wait_for_calls_in_flight()
            release(clients, name, mine, warn=warn, unlock_command=unlock_command)


def _acquire(clients: AwsClients, project: str, environment: str, endpoint: str | None, mine: Holder, name: str,
             label: str, unlock_command: str, wait_seconds: float, say: Callable[[str], None],
             poll_seconds: float) -> None:
    """Claim, list, and go on only when no conflicting claim is there (the oldest claimant waits with its claim,
    younger ones give theirs back). On any way out but success, our claim is deleted."""
    started = time.monotonic()
    announced: str | None = None
    claimed = False
    try:
        while True:
            if not claimed:
                _create(clients, name, mine, label)
                claimed = True
            found = claims(clients.ssm, project, environment)
            others = [c for c in found if c.name != name and c.conflicts_with(endpoint)]
            if not others:
                break
            ours = next((c for c in found if c.name == name), None)
            first = others[0]
            if ours is None or first.order < ours.order:  # someone claimed before us: give ours back
                _delete_own(clients, name)
                claimed = False
            holder = first.holder
            if first.endpoint is None:
                scope = "this environment" if endpoint is None else "the whole environment"
            else:
                scope = f"endpoint {first.endpoint}" + (" of this environment" if endpoint is None else "")
            same = first.endpoint == endpoint
            command = unlock_command if same else _unlock_command_for(environment, first.endpoint)
            waited = time.monotonic() - started
            if waited >= wait_seconds:
                raise LockedError(_locked_message(label, holder, command, waited if wait_seconds else None, scope))
            if announced != holder.token:
                say(f"{label} is locked by another run; waiting up to {wait_seconds:g} s for it (--wait-for-lock):\n"
                    f"{holder.describe()}")
                announced = holder.token
            pause = poll_seconds * random.uniform(0.5, 1.5)  # jitter: two waiters never poll in step
            time.sleep(max(0.0, min(pause, wait_seconds - waited)))
    except BaseException:
        if claimed:
            try:
                _delete_own(clients, name)
            except DeployError:
                pass  # the original error says what happened; the claim is shown by the next run
        raise
    if announced is not None:
        say(f"{label}: lock taken after waiting {time.monotonic() - started:.0f} s")


def release(clients: AwsClients, name: str, mine: Holder, *, warn: Callable[[str], None], unlock_command: str) -> None:
    """Delete our own claim (a name only this run has); never raise (the run's own outcome is what matters)."""
    try:
        if not _delete_own(clients, name):
            warn(f"the lock {name} was already removed (by `make unlock`?) while this run held it")
    except DeployError as exc:
        first = str(exc).splitlines()[0]
        warn(f"could not release the lock {name}: {first}\n"
             f"The lock stays until removed: once the credentials work again, run `{unlock_command}`.")


def unlock(
    clients: AwsClients,
    *,
    project: str,
    environment: str,
    yes: bool,
    ask: Callable[[str], str],
    say: Callable[[str], None],
    endpoint: str | None = None,
) -> bool:
    """Remove the claims left behind for the environment (or ``endpoint``), after showing them and (unless ``yes``)
    asking. Deletes exactly the claims shown: a claim taken meanwhile has another name and stays. True when one
    was removed."""
    label = f"{project} {environment}" + (f" endpoint {endpoint}" if endpoint else "")
    found = claims(clients.ssm, project, environment)
    mine = [c for c in found if c.endpoint == endpoint]
    if not mine:
        say(f"{label} is not locked: nothing to remove.")
        if endpoint is None:
            for other in found:
                say(f"Endpoint {other.endpoint} is locked ({other.name}):\n{other.holder.describe()}\n"
                    f"To remove that one: make unlock ENV={environment} ENDPOINT={other.endpoint}")
        return False
    for claim in mine:
        say(f"{label} is locked ({claim.name}):\n{claim.holder.describe()}")
    if not all(c.holder.gone() for c in mine):
        say("If that run is still working, removing its lock lets a second run interleave with it.")
    if not yes:
        try:
            answer = ask("Remove this lock? Only 'yes' is accepted: ")
        except EOFError:
            raise DeployError("confirmation needed but there is no terminal to ask on. The lock was kept.\n"
                              "Next: pass --yes (make unlock ... AUTO_APPROVE=1).", exit_code=3) from None
        if answer.strip() != "yes":
            raise DeployError("Unlock cancelled: the answer was not 'yes'. The lock was kept.", exit_code=3)
    removed = 0
    for claim in mine:
        if claim.legacy:  # an earlier version's single lock: the one name every run used, so check it is the same
            now = {c.name: c for c in claims(clients.ssm, project, environment)}.get(claim.name)
            if now is None:
                continue
            if now.holder.token != claim.holder.token:
                raise DeployError(
                    f"{label}: the lock changed hands while you were asked (now {now.holder.who}, pid "
                    f"{now.holder.pid}, since {now.holder.since}); it was kept.\n"
                    f"Next: run `{_unlock_command_for(environment, endpoint)}` again to see the new holder.",
                    exit_code=3,
                )
        removed += _delete_own(clients, claim.name)
    if not removed:
        say(f"{label}: the lock was released meanwhile; nothing to remove.")
        return False
    say(f"{label}: lock removed.")
    return True


def hold_for(ctx: Any, who: str, operation: str) -> Any:
    """:func:`hold` for an engine command (``ctx`` is a :class:`deployer.context.Context`)."""
    m = ctx.manifest
    endpoint = ctx.options.endpoint  # a run on one fleet endpoint's stacks takes that endpoint's lock
    return hold(
        ctx.clients, project=m.project, environment=m.environment, who=who, operation=operation,
        wait_seconds=ctx.options.wait_for_lock, say=ctx.reporter.info, warn=ctx.reporter.warn,
        unlock_command=ctx.options.unlock_command or _unlock_command_for(m.environment, endpoint),
        endpoint=endpoint, cancel=ctx.cancel,
    )
