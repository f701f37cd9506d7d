"""Turning failures into tool errors the model can read and act on.

Every tool error reaches the client as an `isError` result whose text starts with one
readable line and ends with a JSON envelope: HTTP status, Databricks `error_code`,
message, request id, whether a retry may help, and the suggested next call.
"""

import functools
import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, ParamSpec, TypeVar

import anyio
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError

from tools.api.errors import ApiError, ConfigurationError, DatabricksError, TransportError
from tools.output import cut_text
from tools.redaction import redact_field_value

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
# Seconds one tool call may run beyond the server's wait budget before it is cut off.
CALL_GRACE_SECONDS = 2.0
# Max characters of each message, fix and next step in an error. A workspace error message can
# carry a whole traceback or echo a large request, and the text appears twice in the result.
MAX_MESSAGE_CHARS = 2_000


class InvalidArgument(ValueError):
    """A tool argument breaks a serving rule; raised before any request is sent.

    The message shows the value with its credentials hidden (see tools.redaction), because
    the message reaches the model and the server log.
    """

    def __init__(self, field: str, value: Any, problem: str, fix: str) -> None:
        self.field = field
        self.value = value
        self.problem = problem
        self.fix = fix
        super().__init__(f"Invalid {field}={_short(redact_field_value(field, value))}: {problem}. {fix}")


class ToolFailure(ToolError):
    """A tool error carrying the structured envelope in its text."""

    def __init__(self, summary: str, envelope: dict[str, Any]) -> None:
        self.summary = summary
        self.envelope = envelope
        super().__init__(f"{summary}\n{json.dumps({'error': envelope}, sort_keys=True)}")


def failure(
    error_code: str,
    message: str,
    *,
    next_step: str | None = None,
    http_status: int | None = None,
    retryable: bool = False,
    **extra: Any,
) -> ToolFailure:
    """Build a ToolFailure for a condition the tool detected itself."""
    message = cut_text(message, MAX_MESSAGE_CHARS)
    next_step = cut_text(next_step, MAX_MESSAGE_CHARS) if next_step else None
    envelope: dict[str, Any] = {"error_code": error_code, "message": message, "retryable": retryable}
    if http_status is not None:
        envelope["http_status"] = http_status
    if next_step:
        envelope["next_step"] = next_step
    envelope.update({k: v for k, v in extra.items() if v is not None})
    summary = f"{error_code}: {message}" + (f" Next: {next_step}" if next_step else "")
    return ToolFailure(summary, envelope)


def from_api_error(exc: ApiError, next_step: str | None = None, **extra: Any) -> ToolFailure:
    """Wrap a Databricks API error, keeping its status, code, message and request id."""
    return _api_failure(f"{exc.error_code} (HTTP {exc.status})", exc, next_step or default_next_step(exc), extra)


def _api_failure(head: str, exc: ApiError, next_step: str | None, extra: dict[str, Any]) -> ToolFailure:
    message = cut_text(exc.message, MAX_MESSAGE_CHARS)
    envelope: dict[str, Any] = {
        "http_status": exc.status,
        "error_code": exc.error_code,
        "message": message,
        "retryable": exc.status in RETRYABLE_STATUSES,
    }
    if exc.request_id:
        envelope["request_id"] = exc.request_id
    if exc.retry_after_seconds is not None:
        envelope["retry_after_seconds"] = exc.retry_after_seconds
    if next_step:
        envelope["next_step"] = next_step
    envelope.update({k: v for k, v in extra.items() if v is not None})
    summary = f"{head}: {message}" + (f" Next: {next_step}" if next_step else "")
    return ToolFailure(summary, envelope)


def to_tool_failure(exc: Exception) -> ToolFailure:
    """Map any expected failure to a ToolFailure; unexpected ones are re-raised by the caller."""
    if isinstance(exc, ToolFailure):
        return exc
    if isinstance(exc, InvalidArgument):
        return failure("INVALID_ARGUMENT", str(exc), field=exc.field, fix=cut_text(exc.fix, MAX_MESSAGE_CHARS))
    if isinstance(exc, ApiError):
        return from_api_error(exc)
    if isinstance(exc, ConfigurationError):
        return failure("CONFIGURATION_ERROR", str(exc), next_step="Fix the workspace host or credentials, then retry.")
    if isinstance(exc, TransportError):
        return failure("TRANSPORT_ERROR", str(exc), retryable=True, next_step="Check the network, then retry.")
    if isinstance(exc, DatabricksError):
        return failure("DATABRICKS_ERROR", str(exc))
    raise TypeError(f"not an expected tool failure: {exc!r}")


def default_next_step(exc: ApiError) -> str | None:
    if exc.status == 429:
        return "Wait for the retry delay, lower the request rate, or use a provisioned throughput endpoint."
    if exc.status in (401,):
        return "Refresh the Databricks credentials (databricks auth login) and retry."
    if exc.status == 403:
        return "Ask an endpoint owner for the needed permission (CAN_QUERY to query, CAN_MANAGE to change)."
    return None


def tool_errors(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Decorate a tool so expected failures become `isError` results with the envelope.

    A tool that takes a Context also runs under the server's time limit for one call (see
    `call_budget_seconds`), so a slow or retrying workspace cannot hold it past MCP clients' limits.
    """

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        budget = call_budget_seconds(kwargs.values())
        try:
            if budget is None:
                return await fn(*args, **kwargs)
            with anyio.move_on_after(budget):
                return await fn(*args, **kwargs)
        except (ToolFailure, InvalidArgument, DatabricksError) as exc:
            raise to_tool_failure(exc) from exc
        logger.warning("%s ran out of its %gs call budget", fn.__name__, budget)
        raise _out_of_time(fn.__name__, budget)

    return wrapper


def call_budget_seconds(arguments: Iterable[object]) -> float | None:
    """Return the time limit of one tool call: the server's wait budget plus CALL_GRACE_SECONDS.

    The wait budget is read from the Context among `arguments`; without one there is no limit.
    wait_until_ready and query_endpoint keep their own, shorter deadlines inside it.
    """
    for argument in arguments:
        if isinstance(argument, Context):
            settings = argument.request_context.lifespan_context.settings
            return float(settings.wait_budget_seconds) + CALL_GRACE_SECONDS
    return None


def _out_of_time(tool: str, budget: float) -> ToolFailure:
    return failure(
        "CLIENT_TIMEOUT",
        f"{tool} did not finish within the server's time limit of {budget:g}s for one call; "
        "the workspace answered too slowly.",
        retryable=True,
        next_step="If this call changes the workspace, check the endpoint with get_endpoint before calling "
        "again, because the change may have been applied. Otherwise retry.",
    )


def _short(value: Any, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
