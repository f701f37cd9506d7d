"""get_logs: build and runtime logs of a served entity, tail first, with error lines pulled out.

The logs APIs take a served entity name, which the tool resolves from the endpoint's
current or pending config. Logs of a real endpoint can run to megabytes, and the cause of
a failure (a PERMISSION_DENIED from a dependency, a Python traceback) often sits far above
the tail, so lines that look like errors are returned separately in `error_lines`.
"""

import re
from typing import Annotated, Literal

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp_types import ToolAnnotations
from pydantic import BaseModel, Field

from tools.api.errors import NotFound
from tools.api.models import ServingEndpoint
from tools.context import ToolDeps, deps_of
from tools.endpoints import EndpointName
from tools.errors import InvalidArgument, failure, from_api_error, tool_errors
from tools.grep import GREP_BUDGET_SECONDS, MAX_GREP_CHARS, GrepOutcome, compile_grep, grep_lines
from tools.output import Truncation, json_size, tail_text
from tools.rules import check_endpoint_name

READ_ONLY = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)
ERROR_PATTERN = re.compile(
    r"\bERROR\b|Exception|Traceback|PERMISSION_DENIED|\bfailed\b|\b[A-Z]\w*Error\b|\bFATAL\b|\bCRITICAL\b"
)
# Max distinct error lines returned. When there are more, the first and last halves are kept.
MAX_ERROR_LINES = 40
MAX_ERROR_LINE_CHARS = 500
DIGITS = re.compile(r"\d+")
MAX_TAIL_LINES = 5_000
# Characters of the result reserved for the fields other than the log text.
RESULT_OVERHEAD_CHARS = 2_000


class ErrorLine(BaseModel):
    line_number: int = Field(description="1-based line number of the first occurrence in the whole log")
    text: str
    count: int = Field(1, description="occurrences of this line, counting lines that differ only in digits")


class LogsResult(BaseModel):
    endpoint: str
    served_entity: str
    kind: Literal["build", "runtime"]
    total_lines: int
    returned_lines: int
    logs: str = Field(description="the last lines (after grep, when given)")
    error_lines: list[ErrorLine] = Field(description="lines of the whole log that look like errors")
    error_line_count: int = Field(description="error lines in the whole log, repeats included")
    grep: str | None = None
    notes: list[str] = Field(default_factory=list)
    truncation: Truncation | None = None


def register(server: MCPServer) -> None:
    @server.tool(annotations=READ_ONLY)
    @tool_errors
    async def get_logs(
        name: EndpointName,
        ctx: Context,
        kind: Annotated[
            Literal["build", "runtime"], Field(description="build: container build; runtime: model server")
        ] = "runtime",
        served_entity: Annotated[str | None, Field(description="needed when the endpoint serves several")] = None,
        tail_lines: Annotated[int, Field(ge=1, le=MAX_TAIL_LINES, description="last lines to return")] = 200,
        grep: Annotated[
            str | None,
            Field(max_length=MAX_GREP_CHARS, description="case-insensitive regex; keep only matching lines"),
        ] = None,
    ) -> LogsResult:
        """Get the build or runtime logs of a served entity: the last lines, plus the lines anywhere in the log
        that look like errors (ERROR, Exception, Traceback, PERMISSION_DENIED, failed). Pull logs before
        deleting an endpoint, because they are removed with it."""
        deps = deps_of(ctx)
        pattern = compile_grep(grep) if grep is not None else None
        endpoint = await _endpoint(deps, check_endpoint_name(name))
        entity = resolve_served_entity(endpoint, served_entity)
        if kind == "build":
            text = await deps.serving.build_logs(name, entity)
        else:
            text = await deps.serving.logs(name, entity)
        lines = text.splitlines()
        grepped = await grep_lines(lines, pattern) if pattern is not None else None
        return _result(deps, name, entity, kind, lines, tail_lines, grep, grepped)


async def _endpoint(deps: ToolDeps, name: str) -> ServingEndpoint:
    try:
        return await deps.serving.get_endpoint(name)
    except NotFound as exc:
        raise from_api_error(
            exc,
            next_step="The endpoint is not found; logs are removed with the endpoint, so they cannot be read. "
            "Check the name with list_endpoints.",
        ) from exc


def resolve_served_entity(endpoint: ServingEndpoint, requested: str | None) -> str:
    """Return the served entity to read logs of: `requested`, or the endpoint's only entity."""
    choices = _entity_choices(endpoint)
    if requested is not None:
        if requested not in choices:
            raise InvalidArgument(
                "served_entity",
                requested,
                f"endpoint {endpoint.name!r} has no served entity of that name",
                f"Use one of: {_choice_text(choices)}.",
            )
        return requested
    if not choices:
        raise failure(
            "NO_SERVED_ENTITY",
            f"Endpoint {endpoint.name!r} has no served entities, so it has no logs.",
            next_step="Add a config with update_config, or check the endpoint with get_endpoint.",
        )
    if len(choices) > 1:
        raise failure(
            "SERVED_ENTITY_REQUIRED",
            f"Endpoint {endpoint.name!r} serves {len(choices)} entities: {_choice_text(choices)}.",
            next_step="Call get_logs again with served_entity set to one of them.",
            choices=list(choices),
        )
    return next(iter(choices))


def _entity_choices(endpoint: ServingEndpoint) -> dict[str, str]:
    """Served entity name -> where it is (current or pending config) and its deployment state."""
    choices: dict[str, str] = {}
    for label, config in (("current", endpoint.config), ("pending", endpoint.pending_config)):
        for entity in config.served_entities if config else []:
            if not entity.name:
                continue
            state = entity.state.deployment if entity.state and entity.state.deployment else "unknown state"
            where = f"{label} config, {state}"
            choices[entity.name] = f"{choices[entity.name]}; {where}" if entity.name in choices else where
    return choices


def _choice_text(choices: dict[str, str]) -> str:
    return ", ".join(f"{name} ({where})" for name, where in choices.items()) or "none"


def _result(
    deps: ToolDeps,
    name: str,
    entity: str,
    kind: Literal["build", "runtime"],
    lines: list[str],
    tail_lines: int,
    grep: str | None,
    grepped: GrepOutcome | None,
) -> LogsResult:
    errors, distinct_count, error_count = error_lines(lines)
    selected = grepped.lines if grepped is not None else lines
    tail = selected[-tail_lines:]
    notes = []
    if not lines:
        notes.append(f"The {kind} log is empty: the entity has not started this stage yet, or wrote nothing.")
    elif grepped is not None and not selected:
        notes.append(f"No line matches grep={grep!r}.")
    if grepped is not None and grepped.timed_out:
        notes.append(
            f"grep stopped after {grepped.scanned} of {len(lines)} lines because it ran longer than "
            f"{GREP_BUDGET_SECONDS:g}s, so later matches are missing. Use a simpler pattern or plain text."
        )
    if distinct_count > len(errors):
        notes.append(
            f"error_lines shows the first and last {len(errors) // 2} of {distinct_count} distinct error lines; "
            "pass grep to see the others."
        )
    budget = deps.settings.max_result_chars - RESULT_OVERHEAD_CHARS - json_size([e.model_dump() for e in errors], 1)
    logs, truncation = _tail_within("\n".join(tail), max(budget, 1_000))
    return LogsResult(
        endpoint=name,
        served_entity=entity,
        kind=kind,
        total_lines=len(lines),
        returned_lines=logs.count("\n") + 1 if logs else 0,
        logs=logs,
        error_lines=errors,
        error_line_count=error_count,
        grep=grep,
        notes=notes,
        truncation=truncation,
    )


def _tail_within(text: str, max_chars: int) -> tuple[str, Truncation | None]:
    """Keep the tail of `text` whose JSON string form (newlines and quotes escaped) fits `max_chars`."""
    hint = "Lower tail_lines or pass grep to narrow the lines."
    budget = max_chars
    while True:
        kept, truncation = tail_text(text, budget, hint)
        excess = json_size(kept) - max_chars
        if excess <= 0:
            return kept, truncation
        if budget <= 1:
            return "", Truncation(total_chars=len(text), returned_chars=0, hint=hint)
        # Escaping can double the size (a log of quotes and backslashes), so subtracting the excess
        # alone could drop the budget to zero or below; halving at most keeps it positive.
        budget = max(budget - excess, budget // 2)


def error_lines(lines: list[str]) -> tuple[list[ErrorLine], int, int]:
    """Find the lines that look like errors.

    Returns the distinct lines in order of first occurrence (the first and last halves when
    there are more than MAX_ERROR_LINES), the number of distinct lines, and the number with
    repeats. Lines that differ only in their digits (timestamps, ids) count as one.
    """
    found: dict[str, ErrorLine] = {}
    count = 0
    for number, line in enumerate(lines, start=1):
        if not ERROR_PATTERN.search(line):
            continue
        count += 1
        text = line.strip()[:MAX_ERROR_LINE_CHARS]
        key = DIGITS.sub("#", text)
        if key in found:
            found[key].count += 1
        else:
            found[key] = ErrorLine(line_number=number, text=text)
    distinct = list(found.values())
    if len(distinct) > MAX_ERROR_LINES:
        half = MAX_ERROR_LINES // 2
        return distinct[:half] + distinct[-half:], len(distinct), count
    return distinct, len(distinct), count
