"""One run at a time per environment (or per fleet endpoint): a lock in Parameter Store, taken before anything
changes the account.

``deploy``, ``destroy`` and the Service Catalog publishing (``make catalog``) hold it for their whole run;
``plan``, ``outputs``, ``drift`` and ``status`` only read and never take it.

* The lock is the SSM parameter ``/<project>/<env>/deployer/lock`` (a plain String: it holds no secret,
  and the environment's KMS key may not exist yet). ``PutParameter`` with ``Overwrite=false`` either
  creates it or fails with ``ParameterAlreadyExists``: atomic, so two runs can never both get it.
* Its value is JSON: who (the caller's ARN from STS), host, pid, since (UTC), the command line, the
  operation and a random token. Only the run whose token is in the parameter deletes it.
* It is released at the end, on failure, on Ctrl-C and on SIGTERM (a CI job being cancelled): the
  handler turns SIGTERM into the same KeyboardInterrupt as Ctrl-C while the lock is held.
* A second run fails at once with who holds it and since when (exit 6), or with
  ``--wait-for-lock SECONDS`` waits for it, saying so.
* A run that died without releasing it (kill -9, a lost CI runner) leaves the lock behind:
  ``make unlock ENV=e`` shows the holder and removes it after confirmation (:func:`unlock`).
* Taking the lock again inside a run that holds it (the catalog publishing deploys the catalog stack
  through ``deploy``) is a no-op: the outer run keeps it.
* A run on one fleet endpoint's stacks (``--endpoint KEY``) takes ``/<project>/<env>/deployer/endpoint-locks/KEY``
  instead: runs on different endpoints go on side by side; a whole-environment run and an endpoint's run
  exclude each other (:func:`hold`).

Permissions: ``ssm:PutParameter``, ``ssm:GetParameter`` and ``ssm:DeleteParameter`` on
``arn:aws:ssm:<region>:<account>:parameter/<project>/<env>/deployer/lock``.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Iterator

from botocore.exceptions import ClientError

from .aws import AwsClients
from .errors import AWS_ERRORS, DeployError, EXIT_LOCKED, aws_error, error_code

LOCK_SUFFIX = "deployer/lock"
ENDPOINT_LOCKS = "deployer/endpoint-locks"  # one per fleet endpoint being changed alone (--endpoint KEY)
COMMAND_LIMIT = 1000  # characters of the command line kept in the lock (a standard parameter holds 4 KB)


class LockedError(DeployError):
    """Another run holds the environment's lock (now, or still after ``--wait-for-lock``)."""

    exit_code = EXIT_LOCKED


def parameter_name(project: str, environment: str, endpoint: str | None = None) -> str:
    """The environment's lock, or with ``endpoint`` that fleet endpoint's (``--endpoint KEY`` runs)."""
    if endpoint is not None:
        return f"{endpoint_locks_path(project, environment)}{endpoint}"
    return f"/{project}/{environment}/{LOCK_SUFFIX}"


def endpoint_locks_path(project: str, environment: str) -> str:
    return f"/{project}/{environment}/{ENDPOINT_LOCKS}/"


def conflicting(clients: AwsClients, project: str, environment: str,
                endpoint: str | None) -> tuple[str, Holder] | None:
    """The other lock that excludes a run holding ``parameter_name(project, environment, endpoint)``: for one
    endpoint's run the environment's lock; for a whole-environment run any endpoint's lock."""
    if endpoint is not None:
        name = parameter_name(project, environment)
        holder = read(clients, name)
        return (name, holder) if holder is not None else None
    path = endpoint_locks_path(project, environment)
    action = f"read the endpoint locks under {path} (ssm:GetParametersByPath)"
    try:
        for page in clients.ssm.get_paginator("get_parameters_by_path").paginate(Path=path, Recursive=False):
            for parameter in page.get("Parameters", []):
                return parameter["Name"], Holder.from_value(parameter["Value"])
    except ClientError as exc:
        raise aws_error(exc, action=action) from exc
    except AWS_ERRORS as exc:
        raise aws_error(exc, action=action) from exc
    return None


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


def read(clients: AwsClients, name: str) -> Holder | None:
    """The current holder, or None when the environment is not locked."""
    try:
        value = clients.ssm.get_parameter(Name=name)["Parameter"]["Value"]
    except ClientError as exc:
        if error_code(exc) == "ParameterNotFound":
            return None
        raise aws_error(exc, action=f"read the environment lock {name} (ssm:GetParameter)") from exc
    except AWS_ERRORS as exc:
        raise aws_error(exc, action=f"read the environment lock {name} (ssm:GetParameter)") from exc
    return Holder.from_value(value)


def _try_create(clients: AwsClients, name: str, holder: Holder, label: str) -> bool:
    """PutParameter Overwrite=false: True when this run now holds the lock, False when someone else does."""
    try:
        clients.ssm.put_parameter(
            Name=name, Value=holder.to_value(), Type="String", Overwrite=False,
            Description=f"mmtool: {label} is being changed by one run; the value says who. "
                        "Remove only with `make unlock`.",
        )
        return True
    except ClientError as exc:
        if error_code(exc) == "ParameterAlreadyExists":
            return False
        raise aws_error(
            exc, action=f"take the environment lock {name} (ssm:PutParameter)",
            next_step="Nothing was changed. Next: the deploying principal needs ssm:PutParameter, ssm:GetParameter "
            f"and ssm:DeleteParameter on the parameter {name} (docs/deploying.md, 'Permissions').",
        ) from exc
    except AWS_ERRORS as exc:
        raise aws_error(exc, action=f"take the environment lock {name} (ssm:PutParameter)",
                        next_step="Nothing was changed. Next: run the command again.") from exc


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


# Locks held by this process (name -> token): taking one again inside the same run is a no-op.
_HELD: dict[str, str] = {}
_HELD_LOCK = threading.Lock()


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """While the lock is held, SIGTERM (CI cancelling the job) unwinds like Ctrl-C, so the lock is released."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


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
) -> Iterator[Holder | None]:
    """Hold the environment's lock for the body; raise :class:`LockedError` when another run has it.

    With ``endpoint`` (a run on one fleet endpoint's stacks) the lock is that endpoint's: runs on different
    endpoints go on side by side, while a whole-environment run and an endpoint's run exclude each other. Each
    kind takes its own lock first and then looks for the other kind's, giving its own back when it finds one,
    so of two runs that start together at least one sees the other (both may back off; --wait-for-lock retries).
    """
    name = parameter_name(project, environment, endpoint)
    key = f"{clients.endpoint_url or ''}|{clients.region}|{name}"
    label = f"{project} {environment}" + (f" endpoint {endpoint}" if endpoint else "")
    unlock_command = unlock_command or f"make unlock ENV={environment}" + (f" ENDPOINT={endpoint}" if endpoint else "")
    warn = warn or say
    with _HELD_LOCK:
        nested = key in _HELD
    if nested:
        yield None
        return
    mine = Holder.mine(who, operation)
    started = time.monotonic()
    announced: str | None = None
    while True:
        scope, command = ("this environment" if endpoint is None else f"endpoint {endpoint}"), unlock_command
        if _try_create(clients, name, mine, label):
            other = conflicting(clients, project, environment, endpoint)
            if other is None:
                break
            _give_back(clients, name, mine)
            other_name, holder = other
            if endpoint is not None:  # the environment's lock is in the way
                scope, command = "the whole environment", f"make unlock ENV={environment}"
            else:  # an endpoint's
                held = other_name.rsplit("/", 1)[-1]
                scope, command = f"endpoint {held} of this environment", f"make unlock ENV={environment} ENDPOINT={held}"
        else:
            holder = read(clients, name)
            if holder is None:
                continue  # released between our PutParameter and our read: try again at once
        waited = time.monotonic() - started
        if waited >= wait_seconds:
            raise LockedError(_locked_message(label, holder, command, waited if wait_seconds else None, scope))
        if announced != holder.token:
            say(f"{label} is locked by another run; waiting up to {wait_seconds:g} s for it (--wait-for-lock):\n"
                f"{holder.describe()}")
            announced = holder.token
        time.sleep(max(0.0, min(poll_seconds, wait_seconds - waited)))
    if announced is not None:
        say(f"{label}: lock taken after waiting {time.monotonic() - started:.0f} s")
    with _HELD_LOCK:
        _HELD[key] = mine.token
    try:
        with _sigterm_as_interrupt():
            yield mine
    finally:
        with _HELD_LOCK:
            _HELD.pop(key, None)
        release(clients, name, mine, warn=warn, unlock_command=unlock_command)


def _give_back(clients: AwsClients, name: str, mine: Holder) -> None:
    """Delete our lock just taken, before the body ran (another kind of lock was found)."""
    try:
        current = read(clients, name)
        if current is not None and current.token == mine.token:
            clients.ssm.delete_parameter(Name=name)
    except ClientError as exc:
        if error_code(exc) != "ParameterNotFound":
            raise aws_error(exc, action=f"give back the lock {name} (ssm:DeleteParameter)") from exc


def release(clients: AwsClients, name: str, mine: Holder, *, warn: Callable[[str], None], unlock_command: str) -> None:
    """Delete the lock if it is still ours; never raise (the run's own outcome is what matters)."""
    try:
        current = read(clients, name)
        if current is None:
            warn(f"the environment lock {name} was already removed (by `make unlock`?) while this run held it")
            return
        if current.token != mine.token:
            warn(f"the environment lock {name} now belongs to another run ({current.who}, pid {current.pid}); "
                 "left in place")
            return
        clients.ssm.delete_parameter(Name=name)
    except (DeployError, *AWS_ERRORS) as exc:
        first = str(exc).splitlines()[0]
        warn(f"could not release the environment lock {name}: {first}\n"
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
    """Remove a lock left behind, after showing it and (unless ``yes``) asking. True when one was removed."""
    name = parameter_name(project, environment, endpoint)
    label = f"{project} {environment}" + (f" endpoint {endpoint}" if endpoint else "")
    holder = read(clients, name)
    if holder is None:
        say(f"{label} is not locked ({name} does not exist): nothing to remove.")
        if endpoint is None:
            other = conflicting(clients, project, environment, None)
            if other is not None:
                key = other[0].rsplit("/", 1)[-1]
                say(f"Endpoint {key} is locked ({other[0]}):\n{other[1].describe()}\n"
                    f"To remove that one: make unlock ENV={environment} ENDPOINT={key}")
        return False
    say(f"{label} is locked ({name}):\n{holder.describe()}")
    if not holder.gone():
        say("If that run is still working, removing its lock lets a second run interleave with it.")
    if not yes:
        try:
            answer = ask("Remove this lock? Only 'yes' is accepted: ")
        except EOFError:
            raise DeployError("confirmation needed but there is no terminal to ask on. The lock was kept.\n"
                              "Next: pass --yes (make unlock ... AUTO_APPROVE=1).", exit_code=3) from None
        if answer.strip() != "yes":
            raise DeployError("Unlock cancelled: the answer was not 'yes'. The lock was kept.", exit_code=3)
    again = read(clients, name)
    if again is None:
        say(f"{label}: the lock was released meanwhile; nothing to remove.")
        return False
    if again.token != holder.token:
        raise DeployError(
            f"{label}: the lock changed hands while you were asked (now {again.who}, pid {again.pid}, since "
            f"{again.since}); it was kept.\nNext: run `make unlock ENV={environment}"
            + (f" ENDPOINT={endpoint}" if endpoint else "") + "` again to see the new holder.",
            exit_code=3,
        )
    try:
        clients.ssm.delete_parameter(Name=name)
    except ClientError as exc:
        if error_code(exc) != "ParameterNotFound":
            raise aws_error(exc, action=f"remove the environment lock {name} (ssm:DeleteParameter)") from exc
    except AWS_ERRORS as exc:
        raise aws_error(exc, action=f"remove the environment lock {name} (ssm:DeleteParameter)") from exc
    say(f"{label}: lock removed.")
    return True


def hold_for(ctx: Any, who: str, operation: str) -> Any:
    """:func:`hold` for an engine command (``ctx`` is a :class:`deployer.context.Context`)."""
    m = ctx.manifest
    endpoint = ctx.options.endpoint  # a run on one fleet endpoint's stacks takes that endpoint's lock
    return hold(
        ctx.clients, project=m.project, environment=m.environment, who=who, operation=operation,
        wait_seconds=ctx.options.wait_for_lock, say=ctx.reporter.info, warn=ctx.reporter.warn,
        unlock_command=ctx.options.unlock_command
        or f"make unlock ENV={m.environment}" + (f" ENDPOINT={endpoint}" if endpoint else ""),
        endpoint=endpoint,
    )
