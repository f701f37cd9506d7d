"""Build logs and server logs of served entities.

The text comes from `EndpointBehaviour.build_logs` / `.logs` when a scenario sets them, and is
otherwise generated from the entity's deployment state, so a failed build shows its failure message.
"""

from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from emulator.endpoints import require_endpoint
from emulator.errors import not_found
from emulator.permissions import require_level
from emulator.requests import principal_of, workspace_of
from emulator.state import ConfigVersion, Endpoint, EntityState, EntityUsage

PREFIX = "/api/2.0/serving-endpoints/{name}/served-models/{served_model_name}"
MAX_REQUEST_LINES = 200


def find_served_entity(
    endpoint: Endpoint, entity_name: str, *, prefer_pending: bool
) -> tuple[dict[str, Any], ConfigVersion]:
    """Return the entity named `entity_name` and the config (pending or active) it is looked up in."""
    pending = endpoint.pending.config if endpoint.pending else None
    ordered = (pending, endpoint.config) if prefer_pending else (endpoint.config, pending)
    configs = [c for c in ordered if c is not None]
    for config in configs:
        for entity in config.served_entities:
            if entity["name"] == entity_name:
                return entity, config
    valid = sorted({e["name"] for c in configs for e in c.served_entities})
    raise not_found(
        f"Served model '{entity_name}' does not exist in endpoint '{endpoint.name}'. "
        f"Served entities of this endpoint: {valid or 'none (the endpoint has no config)'}."
    )


def _timestamp(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _override(value: str | dict[str, str] | None, entity_name: str) -> str | None:
    if isinstance(value, dict):
        return value.get(entity_name)
    return value


def default_build_logs(entity: dict[str, Any], state: EntityState | None) -> str:
    """Return container build output that matches the entity's deployment state."""
    start = int(entity.get("creation_timestamp", 0))
    source = (
        entity.get("external_model", {}).get("name") or f"{entity.get('entity_name')} v{entity.get('entity_version')}"
    )
    lines = [
        f"{_timestamp(start)} Starting container build for served entity '{entity['name']}' ({source}).",
        f"{_timestamp(start + 2_000)} Resolving model dependencies from the model's requirements.",
        f"{_timestamp(start + 9_000)} Installing Python packages into the serving environment.",
    ]
    deployment = state.deployment if state is not None else "DEPLOYMENT_READY"
    if deployment == "DEPLOYMENT_FAILED":
        message = state.message if state is not None else ""
        lines.append(f"{_timestamp(start + 41_000)} ERROR: {message}")
        lines.append(f"{_timestamp(start + 41_500)} Container build failed.")
    elif deployment == "DEPLOYMENT_ABORTED":
        lines.append(f"{_timestamp(start + 20_000)} Build stopped: the config update was canceled.")
    elif deployment == "DEPLOYMENT_CREATING":
        lines.append(f"{_timestamp(start + 20_000)} Building the image layers...")
    else:
        lines.append(f"{_timestamp(start + 60_000)} Image built and pushed.")
        lines.append(f"{_timestamp(start + 61_000)} Container build succeeded.")
    return "\n".join(lines) + "\n"


def default_server_logs(entity: dict[str, Any], state: EntityState | None, usage: EntityUsage | None) -> str:
    """Return model server output: startup lines once the entity runs, then a line per recent request."""
    deployment = state.deployment if state is not None else "DEPLOYMENT_READY"
    if deployment not in ("DEPLOYMENT_READY", "DEPLOYMENT_RECOVERING"):
        return ""
    start = int(entity.get("creation_timestamp", 0)) + 90_000
    lines = [
        f"{_timestamp(start)} [INFO] Starting model server for served entity '{entity['name']}'.",
        f"{_timestamp(start + 1_000)} [INFO] Loading model.",
        f"{_timestamp(start + 6_000)} [INFO] Model loaded; listening on port 8080.",
    ]
    recent = list(usage.recent_request_ms)[-MAX_REQUEST_LINES:] if usage is not None else []
    lines.extend(f"{_timestamp(t)} [INFO] Handled POST /invocations" for t in recent)
    return "\n".join(lines) + "\n"


async def build_logs(request: Request) -> Response:
    workspace = workspace_of(request)
    with workspace.lock:
        endpoint = require_endpoint(workspace, request.path_params["name"])
        require_level(workspace, endpoint, principal_of(request), "CAN_VIEW")
        entity, config = find_served_entity(endpoint, request.path_params["served_model_name"], prefer_pending=True)
        text = _override(endpoint.behaviour.build_logs, entity["name"])
        if text is None:
            text = default_build_logs(entity, config.entity_states.get(entity["name"]))
        return JSONResponse({"logs": text})


async def server_logs(request: Request) -> Response:
    workspace = workspace_of(request)
    with workspace.lock:
        endpoint = require_endpoint(workspace, request.path_params["name"])
        require_level(workspace, endpoint, principal_of(request), "CAN_VIEW")
        entity, config = find_served_entity(endpoint, request.path_params["served_model_name"], prefer_pending=False)
        text = _override(endpoint.behaviour.logs, entity["name"])
        if text is None:
            state = config.entity_states.get(entity["name"])
            text = default_server_logs(entity, state, endpoint.usage.get(entity["name"]))
        return JSONResponse({"logs": text})


routes = [
    Route(f"{PREFIX}/build-logs", build_logs, methods=["GET"]),
    Route(f"{PREFIX}/logs", server_logs, methods=["GET"]),
]
