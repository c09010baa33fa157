"""Act only on what is ours: a stack is this environment's when its tags say so, never because of its name.

Stack names are composed ``<project>-<env>-<kind>`` or, for a fleet endpoint, ``<project>-<env>-<key>-<kind>``,
so two environments can compose the same name (``project: churn-ta, environment: ab`` and ``project: churn,
environment: ta`` with an endpoint key ``ab`` both give ``churn-ta-ab-endpoint``). Renaming would replace every
deployed stack (and its bucket), so names are kept and ownership is proven instead: every stack the engine creates
carries the manifest's tags, among them ``Project`` and ``Environment`` (reserved: params cannot set them), and
every command that changes or deletes a stack (plan's change sets, deploy, destroy, an endpoint run's asset
upload into the shared bucket) first checks those two tags against the manifest. A stack whose tags name another
environment, or that carries none, is refused with the reason before anything is changed, and never touched.

Within one params folder, validation refuses two environments whose names could meet at all
(mmtool/config/names.py), so the refusal here is the last line, for environments defined elsewhere.
See docs/deploying.md, "Ownership".
"""

from __future__ import annotations

from typing import Any, Iterable

from .context import Context
from .errors import RefusedError

#: The stack tags that say which environment a stack belongs to (the build always writes both).
OWNER_TAGS = ("Project", "Environment")


def expected(ctx: Context) -> dict[str, str]:
    return {"Project": ctx.manifest.project, "Environment": ctx.manifest.environment}


def stranger_reason(ctx: Context, stack: dict[str, Any]) -> str | None:
    """Why ``stack`` (a DescribeStacks entry) is not this environment's, or None when its tags prove it is."""
    tags = {t.get("Key"): t.get("Value") for t in stack.get("Tags", []) or []}
    want = expected(ctx)
    seen = {key: tags.get(key) for key in OWNER_TAGS}
    if seen == want:
        return None
    ours = ", ".join(f"{k}={v}" for k, v in want.items())
    if all(v is None for v in seen.values()):
        return f"it carries no {' or '.join(OWNER_TAGS)} tag, so nothing proves it is {ours}'s (made by hand or by another tool?)"
    theirs = ", ".join(f"{k}={v if v is not None else '(none)'}" for k, v in seen.items())
    return f"its tags say {theirs}: it belongs to another environment, not to {ours}"


def refuse_strangers(ctx: Context, described: Iterable[tuple[str, dict[str, Any] | None]], *, verb: str) -> None:
    """Raise :class:`RefusedError` (exit 3, nothing changed) when any described stack is not this environment's.

    ``described`` pairs a stack name with its DescribeStacks entry (None: it does not exist, nothing to prove)."""
    problems = []
    for label, stack in described:
        if stack is None:
            continue
        reason = stranger_reason(ctx, stack)
        if reason is not None:
            problems.append(f"  {label}: {reason}")
    if not problems:
        return
    m = ctx.manifest
    raise RefusedError(
        f"{verb} refused: {len(problems)} stack(s) with this environment's names are not {m.project} "
        f"{m.environment}'s:\n" + "\n".join(problems) + "\n"
        "They were not touched, and nothing was changed. Stack names are composed <project>-<env>[-<key>]-<kind>, "
        "so another environment (another project name, environment name or endpoint key) can compose the same ones.\n"
        f"Next: give this environment names no other can meet (change `project` or `environment` in "
        f"params/{m.environment}.yaml, then rebuild), or if a stack really is this environment's, put back its tags "
        f"({', '.join(f'{k}={v}' for k, v in expected(ctx).items())}); docs/deploying.md, 'Ownership'."
    )
