"""Audit records for mutating tools: every call ends as done, rejected or failed in the log."""

from collections.abc import Iterator
from contextlib import contextmanager

from tools.api.errors import DatabricksError
from tools.context import ToolDeps
from tools.errors import InvalidArgument, ToolFailure, to_tool_failure

# Local error codes raised after a write was sent, which the audit log records as failed, not rejected.
AFTER_WRITE_ERRORS = frozenset({"SWAP_INCOMPLETE", "GRANT_NOT_IN_EFFECT"})


@contextmanager
def audited(deps: ToolDeps, tool: str, target: str) -> Iterator[None]:
    """Record a failed call in the audit log, then re-raise.

    The outcome is `failed` when the API returned an error or a write was already sent, and
    `rejected` when a local check stopped the call.
    """
    try:
        yield
    except (ToolFailure, InvalidArgument, DatabricksError) as exc:
        envelope = to_tool_failure(exc).envelope
        sent = "http_status" in envelope or envelope.get("error_code") in AFTER_WRITE_ERRORS
        outcome = "failed" if isinstance(exc, DatabricksError) or sent else "rejected"
        detail = {"error_code": envelope.get("error_code"), "message": envelope.get("message")}
        deps.audit.record(tool, target, outcome, detail)
        raise
