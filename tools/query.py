"""query_endpoint: send the request body the endpoint's task needs, and summarise the response.

The tool reads the endpoint first (one GET) so it can reject a query to an endpoint that
is not READY, list the chat Foundation Model endpoints when the name does not exist, and
shape the body from the endpoint's `task` (see tools.query_body).
"""

import logging
from dataclasses import dataclass
from typing import Annotated, Any

import anyio
from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp_types import ToolAnnotations
from pydantic import BaseModel, Field

from tools.api.errors import ApiError, DatabricksError, NotFound, RequestTimeout
from tools.api.models import ServingEndpoint
from tools.context import ToolDeps, ToolSettings, deps_of
from tools.endpoints import EndpointName
from tools.errors import InvalidArgument, ToolFailure, failure, from_api_error, tool_errors
from tools.foundation import CHAT_TASK, first_names, foundation_endpoints, group_by_task
from tools.output import Truncation, fit_json, head_text, json_size
from tools.query_body import QueryInputs, ShapedBody, TaskKind, build_body, task_kind
from tools.query_response import ResponseSummary, shorten_embeddings, summarise_response
from tools.rules import check_endpoint_name
from tools.streaming import StreamStatus, assembled_response, collect_stream

logger = logging.getLogger(__name__)

LOGGED_FIELDS = 20

# Querying may call an external model provider and is billed per request or token.
QUERY = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=True)
STREAMING_KINDS: frozenset[TaskKind] = frozenset({"chat", "agent_chat", "responses", "completions"})
# Characters of the result reserved for the fields other than `response`.
RESULT_OVERHEAD_CHARS = 4_000
# Share of the query timeout that 429 and 503 retries may use, so the last rate-limit error
# reaches the caller before the timeout cuts the call off.
RETRY_SHARE = 0.8


class QueryResult(BaseModel):
    endpoint: str
    task: str | None
    served_model_name: str | None = Field(None, description="served entity that handled the request")
    request_id: str | None = None
    summary: ResponseSummary
    response: Any = Field(description="response JSON as returned; over the size cap, cut by whole items")
    stream: StreamStatus | None = Field(None, description="set when stream=true: whether the stream ended cleanly")
    sent_fields: list[str] = Field(description="top-level fields of the request body that was sent")
    timeout_seconds: float
    notes: list[str] = Field(default_factory=list, description="repairs made to the arguments, and other remarks")
    truncation: Truncation | None = None


@dataclass
class QueryResponse:
    """A decoded response body, with the served entity, request id and stream status of the exchange."""

    body: Any
    served_model_name: str | None = None
    request_id: str | None = None
    stream: StreamStatus | None = None


def register(server: MCPServer) -> None:
    @server.tool(annotations=QUERY)
    @tool_errors
    async def query_endpoint(
        name: EndpointName,
        ctx: Context,
        messages: Annotated[list[dict[str, Any]] | None, Field(description="chat: [{role, content}]")] = None,
        prompt: Annotated[
            str | list[str] | None, Field(description="completions; a chat endpoint gets it as one user message")
        ] = None,
        input: Annotated[str | list[str] | None, Field(description="embeddings: text or list of texts")] = None,
        dataframe_records: Annotated[
            list[dict[str, Any]] | None, Field(description="custom model: row objects")
        ] = None,
        dataframe_split: Annotated[dict[str, Any] | None, Field(description="custom model: {columns, data}")] = None,
        instances: Annotated[list[Any] | None, Field(description="custom model: tensor rows")] = None,
        inputs: Annotated[
            Any, Field(description="custom model: tensor input (list or object of named tensors)")
        ] = None,
        params: Annotated[dict[str, Any] | None, Field(description="custom model: MLflow inference params")] = None,
        max_tokens: Annotated[int | None, Field(ge=1)] = None,
        temperature: Annotated[float | None, Field(ge=0, le=2)] = None,
        stream: bool = False,
        served_entity: Annotated[
            str | None, Field(description="query this served entity, bypassing the traffic split")
        ] = None,
        extra: Annotated[
            dict[str, Any] | list[Any] | None,
            Field(description="more top-level body fields, e.g. {'tools': [...], 'top_p': 0.9}"),
        ] = None,
        include_embeddings: Annotated[bool, Field(description="return whole embedding vectors")] = False,
        timeout_seconds: Annotated[float | None, Field(gt=0, description="client-side timeout in seconds")] = None,
    ) -> QueryResult:
        """Query a READY serving endpoint. The body is shaped from the endpoint task: chat takes messages
        (or prompt), embeddings take input, completions take prompt, custom models take exactly one of
        dataframe_split, dataframe_records, instances or inputs (see get_open_api). May cost money."""
        deps = deps_of(ctx)
        check_endpoint_name(name)
        # One deadline covers reading the endpoint and the query itself.
        timeout, timeout_note = effective_timeout(timeout_seconds, deps.settings)
        deadline = anyio.current_time() + timeout
        endpoint = await _ready_endpoint_by(deps, name, deadline, timeout)
        entity = _check_served_entity(endpoint, served_entity)

        kind = task_kind(endpoint.task)
        if stream and kind not in STREAMING_KINDS:
            raise InvalidArgument(
                "stream", True, f"{endpoint.task or 'custom model'} endpoints do not stream", "Call with stream=false."
            )
        shaped = build_body(
            kind,
            QueryInputs(
                messages=messages,
                prompt=prompt,
                input=input,
                dataframe_records=dataframe_records,
                dataframe_split=dataframe_split,
                instances=instances,
                inputs=inputs,
                params=params,
                max_tokens=max_tokens,
                temperature=temperature,
                stream=stream,
                extra=extra,
            ),
        )
        notes = [*shaped.notes, *([timeout_note] if timeout_note else [])]

        fields = sorted(shaped.body)
        # The field list is caller input, so the log line shows at most LOGGED_FIELDS of them.
        shown = fields[:LOGGED_FIELDS] + (
            [f"... {len(fields) - LOGGED_FIELDS} more"] if len(fields) > LOGGED_FIELDS else []
        )
        logger.info("Querying %s (task %s) with fields %s", name, endpoint.task, shown)
        if stream:
            query_response = await _stream_query(deps, endpoint, entity, shaped, deadline, timeout)
        else:
            query_response = await _invoke(deps, endpoint, entity, shaped, deadline, timeout)

        # Summarise before shortening embedding vectors, so the summary reports their real dimension.
        summary = summarise_response(query_response.body)
        if not include_embeddings:
            query_response.body, embedding_note = shorten_embeddings(query_response.body)
            notes.extend([embedding_note] if embedding_note else [])
        return _result(deps, endpoint, shaped, timeout, notes, query_response, summary)


def effective_timeout(requested: float | None, settings: ToolSettings) -> tuple[float, str | None]:
    """Return the query timeout in seconds (the requested one or the default, at most the tool's wait budget)
    and a note when the requested one was capped."""
    timeout = requested if requested is not None else settings.query_timeout_seconds
    limit = settings.wait_budget_seconds
    if timeout <= limit:
        return timeout, None
    note = (
        f"timeout_seconds={timeout:g} was capped at {limit:g}s so the tool returns before MCP clients "
        "give up on the call."
    )
    return limit, note


async def _ready_endpoint_by(deps: ToolDeps, name: str, deadline: float, timeout: float) -> ServingEndpoint:
    """Read the endpoint with `_ready_endpoint`, failing with CLIENT_TIMEOUT when `deadline` passes first."""
    try:
        with anyio.fail_at(deadline):
            return await _ready_endpoint(deps, name, retry_budget_seconds=timeout * RETRY_SHARE)
    except TimeoutError as exc:
        raise failure(
            "CLIENT_TIMEOUT",
            f"Reading endpoint {name!r} took longer than the query timeout of {timeout:g}s, so no query was sent.",
            retryable=True,
            next_step="Retry, with a larger timeout_seconds if this repeats.",
        ) from exc


async def _ready_endpoint(deps: ToolDeps, name: str, retry_budget_seconds: float | None = None) -> ServingEndpoint:
    try:
        endpoint = await deps.serving.get_endpoint(name, retry_budget_seconds=retry_budget_seconds)
    except NotFound as exc:
        available = await _chat_foundation_endpoints(deps)
        raise from_api_error(
            exc,
            next_step="Check the name with list_endpoints, or query one of available_chat_endpoints.",
            available_chat_endpoints=available,
        ) from exc
    if endpoint.ready != "READY":
        raise failure(
            "ENDPOINT_NOT_READY",
            f"Endpoint {name!r} is not ready to query: {_state_text(endpoint)}.",
            next_step=f"Call wait_until_ready(name={name!r}) and query once it reports ready.",
            ready=endpoint.ready,
            config_update=endpoint.config_update,
        )
    return endpoint


def _state_text(endpoint: ServingEndpoint) -> str:
    parts = [f"ready={endpoint.ready}", f"config_update={endpoint.config_update}"]
    config = endpoint.pending_config or endpoint.config
    for entity in config.served_entities if config else []:
        if entity.state and entity.state.deployment:
            parts.append(f"{entity.name}={entity.state.deployment}")
    return ", ".join(parts)


async def _chat_foundation_endpoints(deps: ToolDeps) -> list[str]:
    """Return the first names of the chat Foundation Model endpoints in the live endpoint list."""
    try:
        endpoints = await deps.serving.list_endpoints()
    except DatabricksError as exc:
        logger.warning("Could not list endpoints to suggest chat endpoints: %s", exc)
        return []
    return first_names(group_by_task(foundation_endpoints(endpoints))).get(CHAT_TASK, [])


def _check_served_entity(endpoint: ServingEndpoint, served_entity: str | None) -> str | None:
    if served_entity is None:
        return None
    choices = [entity.name for entity in (endpoint.config.served_entities if endpoint.config else []) if entity.name]
    if served_entity not in choices:
        raise InvalidArgument(
            "served_entity",
            served_entity,
            f"endpoint {endpoint.name!r} serves no entity of that name",
            f"Use one of {choices}, or leave served_entity unset to follow the traffic split.",
        )
    return served_entity


async def _invoke(
    deps: ToolDeps, endpoint: ServingEndpoint, entity: str | None, shaped: ShapedBody, deadline: float, timeout: float
) -> QueryResponse:
    """Send the query, which must end by `deadline`; `timeout` is the whole call's limit, for messages."""
    remaining = max(deadline - anyio.current_time(), 0.001)
    try:
        with anyio.fail_at(deadline):
            response = await deps.serving.query_with_headers(
                endpoint.name,
                shaped.body,
                served_model=entity,
                timeout=remaining,
                retry_budget_seconds=remaining * RETRY_SHARE,
            )
    except (TimeoutError, RequestTimeout) as exc:
        raise _client_timeout(endpoint.name, timeout) from exc
    except ApiError as exc:
        raise _query_error(exc, endpoint) from exc
    return QueryResponse(
        body=response.body, served_model_name=response.served_model_name, request_id=response.request_id
    )


async def _stream_query(
    deps: ToolDeps, endpoint: ServingEndpoint, entity: str | None, shaped: ShapedBody, deadline: float, timeout: float
) -> QueryResponse:
    remaining = max(deadline - anyio.current_time(), 0.001)
    events = deps.serving.stream_query(endpoint.name, shaped.body, served_model=entity, timeout=remaining)
    try:
        outcome = await collect_stream(events, timeout, deadline=deadline)
    except RequestTimeout as exc:
        raise _client_timeout(endpoint.name, timeout) from exc
    except ApiError as exc:
        raise _query_error(exc, endpoint) from exc
    body = assembled_response(outcome, completions=task_kind(endpoint.task) == "completions")
    return QueryResponse(body=body, stream=outcome.status())


def _result(
    deps: ToolDeps,
    endpoint: ServingEndpoint,
    shaped: ShapedBody,
    timeout: float,
    notes: list[str],
    query_response: QueryResponse,
    summary: ResponseSummary,
) -> QueryResult:
    max_chars = deps.settings.max_result_chars
    if summary.text is not None and len(summary.text) > max_chars // 3:
        summary.text, _ = head_text(summary.text, max_chars // 3, "")
        notes.append(f"summary.text shows the first {len(summary.text)} characters; response has more of it.")
    if query_response.stream is not None and not query_response.stream.complete:
        notes.append(f"The stream is incomplete: {query_response.stream.error}. The text received so far is returned.")
    used = RESULT_OVERHEAD_CHARS + json_size(summary.model_dump(), 1) + json_size(notes, 1)
    hint = "Ask for fewer rows or items, or query a smaller input; cut lists keep their first items."
    response, truncation = fit_json(query_response.body, max(max_chars - used, 1_000), hint, path="response", depth=1)
    return QueryResult(
        endpoint=endpoint.name,
        task=endpoint.task,
        served_model_name=query_response.served_model_name,
        request_id=query_response.request_id,
        summary=summary,
        response=response,
        stream=query_response.stream,
        sent_fields=sorted(shaped.body),
        timeout_seconds=timeout,
        notes=notes,
        truncation=truncation,
    )


def _client_timeout(name: str, timeout: float) -> ToolFailure:
    return failure(
        "CLIENT_TIMEOUT",
        f"The client side timed out after {timeout:g}s waiting for {name!r}; the endpoint may still be working "
        "on the request.",
        retryable=True,
        next_step="Retry with a larger timeout_seconds, a smaller request (fewer rows, lower max_tokens), "
        "or stream=true to see partial output.",
    )


def _query_error(exc: ApiError, endpoint: ServingEndpoint) -> ToolFailure:
    if exc.status == 504:
        return from_api_error(
            exc, next_step="The server side timed out. Send a smaller request, or raise the model's own time limit."
        )
    if exc.status == 400:
        return from_api_error(
            exc,
            next_step=f"Fix the request body; get_open_api(name={endpoint.name!r}) shows the accepted input formats.",
        )
    return from_api_error(exc)
