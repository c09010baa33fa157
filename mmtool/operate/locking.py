"""The deploy lock (deployer/lock.py) for the commands here that change the account: `make adopt` (updates an
endpoint), `make run-now` (creates and deletes a one-time schedule) and `make baseline` (runs a processing job that
writes the baselines). Each takes the lock of the endpoint it acts on (or the environment's when it names none),
so it never interleaves with a deploy or destroy of the same stacks; the lock's messages and exit code (6) are the
deploy engine's. docs/deploying.md, "One run at a time".
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Iterator

from mmtool.operate.awsenv import aws_failure

if TYPE_CHECKING:
    from mmtool.config.params import Params


@contextmanager
def holding(params: Params, clients: Any, operation: str, endpoint: str | None = None) -> Iterator[None]:
    """Hold the lock for the body; a held lock is the engine's `LockedError` (exit code 6), which reaches the CLI's
    boundary as it is."""
    from deployer.errors import AWS_ERRORS
    from deployer.lock import hold

    try:
        who = clients.sts.get_caller_identity()["Arn"]
    except AWS_ERRORS as exc:
        raise aws_failure(exc, "sts:GetCallerIdentity") from exc
    lock_clients = SimpleNamespace(ssm=clients.ssm, region=params.region,
                                   endpoint_url=getattr(clients.ssm.meta, "endpoint_url", None))
    say = lambda line: print(line, file=sys.stderr)  # noqa: E731
    with hold(lock_clients, project=params.project, environment=params.environment, who=who, operation=operation,
              endpoint=endpoint, say=say,
              unlock_command=f"make unlock ENV={params.environment}" + (f" ENDPOINT={endpoint}" if endpoint else "")):
        yield
