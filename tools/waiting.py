"""wait_until_ready: poll an endpoint until it is fully ready, within a time budget.

An endpoint is ready only when all of these hold: `state.ready == READY`,
`state.config_update == NOT_UPDATING`, no `pending_config`, and every served entity of
`config` is DEPLOYMENT_READY. `state.ready` alone stays READY during a version swap, and
`config_update` alone turns NOT_UPDATING while new entities are still starting.

Each call returns within the budget (min of `timeout_seconds` and the server's
`wait_budget_seconds`) plus POLL_GRACE_SECONDS, so it fits the tool-call limits of MCP
clients. Slow or retried polls count against the budget too. When the budget runs out the
status is IN_PROGRESS and the model calls again; nothing is cancelled or deleted.
"""

import logging
from dataclasses import dataclass
from typing import Annotated, Literal

import anyio
from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp_types import ToolAnnotations
from pydantic import BaseModel, Field

from tools.api.errors import NotFound
from tools.api.models import EndpointConfig, ServingEndpoint
from tools.context import ToolDeps, deps_of
from tools.errors import failure, tool_errors
from tools.rules import check_endpoint_name
from tools.summaries import state_message

logger = logging.getLogger(__name__)

READ_ONLY = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)
WaitStatus = Literal["READY", "FAILED", "IN_PROGRESS", "NOT_FOUND"]
FAILED_UPDATES = frozenset({"UPDATE_FAILED", "UPDATE_CANCELED"})
# Seconds a poll may run past the call's deadline, so the last poll of a call still gets its response.
POLL_GRACE_SECONDS = 1.0
# Deployment states that no longer change on their own once no update is in progress.
STOPPED_DEPLOYMENTS = frozenset({"DEPLOYMENT_ABORTED", "DEPLOYMENT_STOPPED"})


class EntityStatus(BaseModel):
    name: str | None
    deployment: str | None
    message: str | None = None


class WaitResult(BaseModel):
    status: WaitStatus
    name: str
    message: str
    ready: str | None = None
    config_update: str | None = None
    entities: list[EntityStatus] = Field(default_factory=list, description="served entities of the current config")
    pending_entities: list[EntityStatus] = Field(
        default_factory=list, description="served entities of the config being deployed"
    )
    previous_config_serving: bool | None = Field(
        None, description="for FAILED: whether the config from before the failed update still serves traffic"
    )
    elapsed_seconds: float
    polls: int
    next_step: str | None = None


@dataclass(frozen=True)
class Verdict:
    status: WaitStatus
    message: str
    failed_entity: str | None = None
    previous_config_serving: bool | None = None


def register(server: MCPServer) -> None:
    @server.tool(annotations=READ_ONLY)
    @tool_errors
    async def wait_until_ready(
        name: Annotated[str, Field(min_length=1, max_length=63, description="Serving endpoint name")],
        ctx: Context,
        timeout_seconds: Annotated[
            float | None, Field(gt=0, description="max seconds for this call; capped by the server's wait budget")
        ] = None,
    ) -> WaitResult:
        """Wait until an endpoint is fully ready or has failed. Returns IN_PROGRESS at the time limit: call again."""
        deps = deps_of(ctx)
        check_endpoint_name(name)
        budget = deps.settings.wait_budget_seconds
        if timeout_seconds is not None:
            budget = min(timeout_seconds, budget)
        start = anyio.current_time()
        deadline = start + budget
        interval = deps.settings.poll_initial_seconds
        polls = 0
        last_progress = -1.0
        last: ServingEndpoint | None = None
        try:
            while True:
                try:
                    endpoint = await _poll(deps, name, deadline)
                except NotFound:
                    return _not_found(name, anyio.current_time() - start, polls + 1)
                elapsed = anyio.current_time() - start
                if endpoint is None:
                    return _no_response(name, last, elapsed, polls, budget)
                polls += 1
                last = endpoint
                verdict = assess(endpoint)
                last_progress = max(min(elapsed, budget), last_progress + 0.001)
                await ctx.report_progress(last_progress, budget, f"poll {polls}: {describe_states(endpoint)}")
                remaining = deadline - anyio.current_time()
                if verdict.status != "IN_PROGRESS" or remaining <= 0:
                    return _result(name, endpoint, verdict, elapsed, polls)
                await anyio.sleep(min(interval, remaining))
                interval = min(interval * 2, deps.settings.poll_max_seconds)
        except anyio.get_cancelled_exc_class():
            logger.info("wait_until_ready for %s cancelled after %d polls", name, polls)
            raise


async def _poll(deps: ToolDeps, name: str, deadline: float) -> ServingEndpoint | None:
    """GET the endpoint, or return None when no response arrives by `deadline` plus POLL_GRACE_SECONDS.

    Retries of 429 and 503 responses stop at the deadline, so the last such error still reaches the caller.
    """
    remaining = max(deadline - anyio.current_time(), 0.0)
    with anyio.move_on_after(remaining + POLL_GRACE_SECONDS):
        return await deps.serving.get_endpoint(name, retry_budget_seconds=remaining)
    logger.warning("wait_until_ready for %s: GET got no response within the time budget", name)
    return None


def _no_response(name: str, last: ServingEndpoint | None, elapsed: float, polls: int, budget: float) -> WaitResult:
    """Report the last state seen when a poll gets no response in time, or fail when no poll got one."""
    if last is None:
        raise failure(
            "CLIENT_TIMEOUT",
            f"The workspace sent no response to GET for endpoint {name!r} within the {budget:g}s wait budget.",
            retryable=True,
            next_step=f"Call wait_until_ready(name={name!r}) again; if it keeps timing out, check the workspace.",
        )
    result = _result(name, last, assess(last), elapsed, polls)
    result.message += " The last poll got no response within the time budget, so this is the state before it."
    return result


def assess(endpoint: ServingEndpoint) -> Verdict:
    """Classify an endpoint's current state as READY, FAILED or IN_PROGRESS."""
    config, pending = endpoint.config, endpoint.pending_config
    failure = _failure(endpoint)
    if failure is not None:
        return failure
    if config is None and pending is None and endpoint.config_update == "NOT_UPDATING":
        return Verdict("FAILED", "The endpoint has no config, so it will not become ready on its own.")
    stopped = _first_in(config, STOPPED_DEPLOYMENTS)
    if endpoint.config_update == "NOT_UPDATING" and stopped is not None:
        return Verdict("FAILED", f"Served entity {stopped[0]} is {stopped[2]} and will not become ready on its own.")
    entities_ready = config is not None and all(
        e.state is not None and e.state.deployment == "DEPLOYMENT_READY" for e in config.served_entities
    )
    if endpoint.ready == "READY" and endpoint.config_update == "NOT_UPDATING" and pending is None and entities_ready:
        return Verdict("READY", "The endpoint is ready: every served entity is deployed and no update is running.")
    return Verdict("IN_PROGRESS", f"Not ready yet: {describe_states(endpoint)}.")


def _failure(endpoint: ServingEndpoint) -> Verdict | None:
    """Return a FAILED verdict for a failed or cancelled update, or a DEPLOYMENT_FAILED entity."""
    failed_entity = _first_failed(endpoint.pending_config) or _first_failed(endpoint.config)
    update_failed = endpoint.config_update in FAILED_UPDATES
    if not update_failed and failed_entity is None:
        return None
    entity = failed_entity or _first_not_ready(endpoint.pending_config)
    if update_failed:
        message = f"The config update ended in {endpoint.config_update}"
    else:
        message = "A served entity is DEPLOYMENT_FAILED"
    if entity is not None:
        message += f" (served entity {entity[0]})"
        if entity[1]:
            message += f": {state_message(entity[1].rstrip('.'))}"
    serving_before = endpoint.ready == "READY" and endpoint.config is not None
    return Verdict("FAILED", message + ".", entity[0] if entity else None, serving_before)


def describe_states(endpoint: ServingEndpoint) -> str:
    """Format the readiness signals as one line, e.g. `ready=READY config_update=IN_PROGRESS ...`."""
    parts = [f"ready={endpoint.ready}", f"config_update={endpoint.config_update}"]
    for label, config in (("serving", endpoint.config), ("pending", endpoint.pending_config)):
        if config is not None and config.served_entities:
            states = ", ".join(f"{e.name}={e.state.deployment if e.state else None}" for e in config.served_entities)
            parts.append(f"{label}: {states}")
    return " ".join(parts)


def _first_failed(config: EndpointConfig | None) -> tuple[str, str] | None:
    found = _first_in(config, frozenset({"DEPLOYMENT_FAILED"}))
    return (found[0], found[1]) if found else None


def _first_not_ready(config: EndpointConfig | None) -> tuple[str, str] | None:
    for entity in config.served_entities if config else []:
        if entity.state is not None and entity.state.deployment != "DEPLOYMENT_READY":
            return str(entity.name), entity.state.deployment_state_message or ""
    return None


def _first_in(config: EndpointConfig | None, deployments: frozenset[str]) -> tuple[str, str, str] | None:
    for entity in config.served_entities if config else []:
        if entity.state is not None and entity.state.deployment in deployments:
            return str(entity.name), entity.state.deployment_state_message or "", str(entity.state.deployment)
    return None


def _result(name: str, endpoint: ServingEndpoint, verdict: Verdict, elapsed: float, polls: int) -> WaitResult:
    message, next_step = verdict.message, None
    if verdict.status == "FAILED":
        if verdict.previous_config_serving:
            version = endpoint.config.config_version if endpoint.config else None
            message += f" The previous config (version {version}) is still serving traffic."
        if verdict.failed_entity:
            next_step = (
                f"Read get_logs(name={name!r}, kind='build', served_entity={verdict.failed_entity!r}) "
                "for the cause, then fix the config with update_config."
            )
    elif verdict.status == "IN_PROGRESS":
        message = f"Still deploying after {elapsed:.0f} s: {describe_states(endpoint)}."
        next_step = (
            f"Call wait_until_ready(name={name!r}) again. Deployments often take several minutes, "
            "GPU and provisioned throughput models 30 minutes or more."
        )
    return WaitResult(
        status=verdict.status,
        name=name,
        message=message,
        ready=endpoint.ready,
        config_update=endpoint.config_update,
        entities=_entity_statuses(endpoint.config),
        pending_entities=_entity_statuses(endpoint.pending_config),
        previous_config_serving=verdict.previous_config_serving if verdict.status == "FAILED" else None,
        elapsed_seconds=round(elapsed, 3),
        polls=polls,
        next_step=next_step,
    )


def _entity_statuses(config: EndpointConfig | None) -> list[EntityStatus]:
    return [
        EntityStatus(
            name=e.name,
            deployment=e.state.deployment if e.state else None,
            message=state_message(e.state.deployment_state_message if e.state else None),
        )
        for e in (config.served_entities if config else [])
    ]


def _not_found(name: str, elapsed: float, polls: int) -> WaitResult:
    return WaitResult(
        status="NOT_FOUND",
        name=name,
        message=f"No serving endpoint named {name!r} exists.",
        elapsed_seconds=round(elapsed, 3),
        polls=polls,
        next_step="Check the name with list_endpoints.",
    )
