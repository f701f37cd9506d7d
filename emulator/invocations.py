"""Data-plane routes: endpoint and served-model invocations, and the OpenAI-compatible routes.

A request goes through these steps under the workspace lock: find the endpoint (404), check
CAN_QUERY (403), check that it is READY (503), pick the served entity (traffic split or the
served-models path), apply the AI gateway limits (429), validate the body for the entity's task
(400), apply the guardrails and build the response. The optional query delay and the streamed body
run outside the lock. Errors use Databricks error bodies on every route, including the OpenAI ones.
"""

import copy
import time
from dataclasses import dataclass, field
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from emulator import gateway
from emulator.errors import ApiError, not_found
from emulator.model_inputs import check_rows, model_rows, model_version_of, predict, signature_of
from emulator.permissions import require_level
from emulator.query_formats import TASK_KINDS, TaskKind, check_fields, invalid, parse_llm_request
from emulator.requests import json_body, principal_of, workspace_of
from emulator.responders import LlmAnswer, generate, render_answer
from emulator.state import Endpoint, EndpointBehaviour, Principal, Workspace
from emulator.streaming import build_chunks, sse_events

SERVED_MODEL_HEADER = "served-model-name"
STREAMED_KINDS: tuple[TaskKind, ...] = ("chat", "completions")


@dataclass
class Invocation:
    """A planned response from one served entity: a JSON body, or an LLM answer to stream."""

    workspace: Workspace
    endpoint: Endpoint
    entity_name: str
    principal: Principal
    behaviour: EndpointBehaviour
    started: float
    body: Any = None
    stream: LlmAnswer | None = None
    limits: list[gateway.AppliedLimit] = field(default_factory=list)


def serving_endpoint(workspace: Workspace, name: str, principal: Principal) -> Endpoint:
    """Return the endpoint if it exists, the caller may query it and it is READY."""
    endpoint = workspace.get_endpoint(name)
    if endpoint is None:
        raise not_found(f"Endpoint with name '{name}' does not exist.")
    require_level(workspace, endpoint, principal, "CAN_QUERY")
    if endpoint.config is None:
        raise ApiError(
            503,
            "TEMPORARILY_UNAVAILABLE",
            f"Endpoint '{name}' is not ready: it has no served config yet (config update "
            f"{endpoint.config_update}). Wait until state.ready is READY, then retry.",
        )
    waiting = {n: s.deployment for n, s in endpoint.config.entity_states.items() if s.deployment != "DEPLOYMENT_READY"}
    if waiting:
        raise ApiError(
            503,
            "TEMPORARILY_UNAVAILABLE",
            f"Endpoint '{name}' is not ready: served entities not ready: {waiting}. "
            "Wait until state.ready is READY, then retry.",
        )
    return endpoint


def target_entity(endpoint: Endpoint, served_model: str | None) -> dict[str, Any]:
    """Return the served entity that handles the request: the named one, or the next one of the traffic split."""
    assert endpoint.config is not None
    entities = {entity["name"]: entity for entity in endpoint.config.served_entities}
    if served_model is not None:
        if served_model not in entities:
            raise not_found(
                f"Served model '{served_model}' does not exist in endpoint '{endpoint.name}'. "
                f"Served entities: {sorted(entities)}."
            )
        return entities[served_model]
    routes = [
        (str(r.get("served_entity_name") or r.get("served_model_name")), int(r.get("traffic_percentage", 0)))
        for r in endpoint.config.routes
    ]
    if not any(weight > 0 for _, weight in routes):
        return endpoint.config.served_entities[0]
    return entities[endpoint.data_plane.pick_route(endpoint.config.version, routes)]


def entity_task(workspace: Workspace, endpoint: Endpoint, entity: dict[str, Any]) -> str | None:
    """Return the task that sets the request format: the endpoint's, the external model's or the model version's."""
    if endpoint.task:
        return endpoint.task
    external = entity.get("external_model")
    if isinstance(external, dict) and external.get("task"):
        return str(external["task"])
    version = model_version_of(workspace, entity)
    return version.task if version is not None else None


def plan_invocation(
    invocation: Invocation, entity: dict[str, Any], body: dict[str, Any], route_kinds: tuple[TaskKind, ...] | None
) -> None:
    """Fill `invocation` with the response to `body`, or raise the error the endpoint returns."""
    workspace, endpoint = invocation.workspace, invocation.endpoint
    now_ms = workspace.clock.now_ms()
    gateway.check_workspace_qps(endpoint, now_ms)
    invocation.limits = gateway.admit(endpoint, invocation.principal, now_ms)
    task = entity_task(workspace, endpoint, entity)
    kind: TaskKind = TASK_KINDS.get(task, "custom") if task else "custom"
    if route_kinds is not None and kind not in route_kinds:
        raise invalid(
            f"Bad request: endpoint '{endpoint.name}' serves {task or 'a custom model'}, but this route needs "
            f"an endpoint with task {[t for t, k in TASK_KINDS.items() if k in route_kinds]}."
        )
    if kind == "custom":
        invocation.body = _predictions(workspace, entity, body, task)
        gateway.record_usage(endpoint, invocation.principal, 0, 0)
    else:
        _plan_llm_answer(invocation, body, kind, task, now_ms)
    if invocation.behaviour.response is not None:
        invocation.body = copy.deepcopy(invocation.behaviour.response)
        invocation.stream = None


def _predictions(workspace: Workspace, entity: dict[str, Any], body: dict[str, Any], task: str | None) -> Any:
    check_fields(body, "custom", task)
    signature = signature_of(workspace, entity)
    rows = model_rows(body, signature)
    if signature is not None:
        check_rows(rows, signature)
    return {"predictions": predict(rows, signature.output_type if signature else None)}


def _plan_llm_answer(
    invocation: Invocation, body: dict[str, Any], kind: TaskKind, task: str | None, now_ms: int
) -> None:
    endpoint = invocation.endpoint
    request = parse_llm_request(body, kind, task)
    if request.stream and kind not in STREAMED_KINDS:
        # NOTE: agent endpoints do stream on Databricks; the emulator only streams chat and completions.
        raise invalid(f"Bad request: the emulator does not stream responses of task {task}. Send 'stream': false.")
    gateway.screen_input(endpoint, request)
    answer = generate(request, invocation.entity_name, now_ms // 1000)
    gateway.screen_output(endpoint, answer)
    if request.stream:
        invocation.stream = answer
        return
    invocation.body = render_answer(answer)
    gateway.charge_tokens(endpoint, invocation.limits, now_ms, answer.prompt_tokens + answer.completion_tokens)
    gateway.record_usage(endpoint, invocation.principal, answer.prompt_tokens, answer.completion_tokens)


def _record_request(invocation: Invocation, status: int) -> None:
    latency_ms = (time.monotonic() - invocation.started) * 1000
    with invocation.workspace.lock:
        now_ms = invocation.workspace.clock.now_ms()
        invocation.endpoint.usage_of(invocation.entity_name).record(status, latency_ms, now_ms)


async def invoke(
    request: Request,
    name: str,
    body: dict[str, Any],
    *,
    served_model: str | None = None,
    route_kinds: tuple[TaskKind, ...] | None = None,
) -> Response:
    """Handle one scoring request for endpoint `name` (see the module docstring for the steps)."""
    workspace = workspace_of(request)
    principal = principal_of(request)
    with workspace.lock:
        endpoint = serving_endpoint(workspace, name, principal)
        entity = target_entity(endpoint, served_model)
        invocation = Invocation(
            workspace, endpoint, entity["name"], principal, endpoint.behaviour, started=time.monotonic()
        )
        try:
            plan_invocation(invocation, entity, body, route_kinds)
        except ApiError as exc:
            _record_request(invocation, exc.status)
            raise
    if invocation.behaviour.query_delay_seconds > 0:
        await anyio.sleep(invocation.behaviour.query_delay_seconds)
    headers = {SERVED_MODEL_HEADER: invocation.entity_name}
    if invocation.stream is not None:
        events = sse_events(build_chunks(invocation.stream), invocation.behaviour, _stream_ender(invocation))
        return StreamingResponse(events, media_type="text/event-stream", headers=headers)
    _record_request(invocation, 200)
    return JSONResponse(invocation.body, headers=headers)


def _stream_ender(invocation: Invocation) -> Any:
    """Build the callback that records a finished stream: rate-limit tokens, usage tracking and counters."""
    answer = invocation.stream
    assert answer is not None

    def on_end(completion_tokens: int) -> None:
        endpoint, principal = invocation.endpoint, invocation.principal
        with invocation.workspace.lock:
            now_ms = invocation.workspace.clock.now_ms()
            gateway.charge_tokens(endpoint, invocation.limits, now_ms, answer.prompt_tokens + completion_tokens)
            gateway.record_usage(endpoint, principal, answer.prompt_tokens, completion_tokens)
        _record_request(invocation, 200)

    return on_end


async def invoke_endpoint(request: Request) -> Response:
    return await invoke(request, request.path_params["name"], await json_body(request))


async def invoke_served_model(request: Request) -> Response:
    body = await json_body(request)
    return await invoke(request, request.path_params["name"], body, served_model=request.path_params["served_model"])


def openai_route(kind: TaskKind) -> Any:
    """Build the handler of an OpenAI-compatible route: `model` names the endpoint, the rest is the body."""

    async def handler(request: Request) -> Response:
        body = await json_body(request)
        name = body.pop("model", None)
        if not isinstance(name, str) or not name:
            raise invalid(f"Bad request: 'model' is required and must be a serving endpoint name, got {name!r}.")
        return await invoke(request, name, body, route_kinds=(kind,))

    return handler


routes: list[BaseRoute] = [
    Route("/serving-endpoints/chat/completions", openai_route("chat"), methods=["POST"]),
    Route("/serving-endpoints/completions", openai_route("completions"), methods=["POST"]),
    Route("/serving-endpoints/embeddings", openai_route("embeddings"), methods=["POST"]),
    Route("/serving-endpoints/{name}/invocations", invoke_endpoint, methods=["POST"]),
    Route("/serving-endpoints/{name}/served-models/{served_model}/invocations", invoke_served_model, methods=["POST"]),
]
