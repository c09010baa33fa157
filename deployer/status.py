"""CloudFormation stack states, grouped the way the engine acts on them."""

from __future__ import annotations

#: Stable states an update can start from.
UPDATABLE = frozenset(
    {
        "CREATE_COMPLETE",
        "UPDATE_COMPLETE",
        "UPDATE_ROLLBACK_COMPLETE",
        "IMPORT_COMPLETE",
        "IMPORT_ROLLBACK_COMPLETE",
        "UPDATE_FAILED",  # only reachable with DisableRollback; an update may follow
    }
)
#: A create or update that finished well.
SUCCEEDED = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"})
#: Stable states that need a person (or an explicit flag) before anything else can happen.
NEEDS_ACTION = frozenset(
    {
        "ROLLBACK_COMPLETE",  # the first create failed: delete and create again
        "UPDATE_ROLLBACK_FAILED",  # continue the rollback first
        "ROLLBACK_FAILED",
        "DELETE_FAILED",
        "CREATE_FAILED",
        "IMPORT_ROLLBACK_FAILED",
    }
)
#: A leftover from a change set for a new stack that was never executed; the stack has no resources.
REVIEW = "REVIEW_IN_PROGRESS"


def in_progress(status: str) -> bool:
    """CloudFormation is still working (REVIEW_IN_PROGRESS is not work: it never ends by itself)."""
    return status.endswith("_IN_PROGRESS") and status != REVIEW


def failed(status: str) -> bool:
    return not in_progress(status) and status not in SUCCEEDED and status != "DELETE_COMPLETE"
