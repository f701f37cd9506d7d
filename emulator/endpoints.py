"""Control-plane routes under /api/2.0/serving-endpoints."""

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from emulator.config_rules import MAX_SERVED_ENTITIES, normalise_entity, normalise_routes, validate_endpoint_name
from emulator.errors import ApiError, bad_request, conflict, not_found
from emulator.render import render_endpoint, render_endpoint_summary
from emulator.requests import json_body, principal_of, workspace_of
from emulator.state import (
    ConfigVersion,
    Endpoint,
    EntityState,
    PendingUpdate,
    Principal,
    Workspace,
    new_endpoint_id,
)


def require_endpoint(workspace: Workspace, name: str) -> Endpoint:
    endpoint = workspace.get_endpoint(name)
    if endpoint is None:
        raise not_found(f"Endpoint with name '{name}' does not exist.")
    return endpoint


def build_config(workspace: Workspace, body: dict[str, Any], creator: str, version: int) -> ConfigVersion:
    if "served_entities" in body and "served_models" in body:
        raise bad_request("Specify either served_entities or served_models, not both.")
    raw_entities = body.get("served_entities")
    if raw_entities is None and "served_models" in body:
        raw_entities = [_served_model_to_entity(m) for m in body["served_models"] or []]
    if not isinstance(raw_entities, list) or not raw_entities:
        raise bad_request("At least one served entity is required in 'served_entities'.")
    if len(raw_entities) > MAX_SERVED_ENTITIES:
        raise bad_request(f"An endpoint serves at most {MAX_SERVED_ENTITIES} entities, got {len(raw_entities)}.")
    now = workspace.clock.now_ms()
    entities = [normalise_entity(raw, i, creator, now) for i, raw in enumerate(raw_entities)]
    names = [e["name"] for e in entities]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise bad_request(f"Served entity names must be unique within the endpoint, duplicated: {duplicates}.")
    routes = normalise_routes(body.get("traffic_config"), names)
    return ConfigVersion(
        version=version, served_entities=entities, routes=routes, auto_capture_config=body.get("auto_capture_config")
    )


def _served_model_to_entity(model: Any) -> Any:
    if not isinstance(model, dict):
        return model
    entity = {k: v for k, v in model.items() if k not in ("model_name", "model_version")}
    if "model_name" in model:
        entity["entity_name"] = model["model_name"]
    if "model_version" in model:
        entity["entity_version"] = model["model_version"]
    return entity


def start_update(workspace: Workspace, endpoint: Endpoint, config: ConfigVersion) -> None:
    now = workspace.clock.now_ms()
    behaviour = endpoint.behaviour
    for entity in config.served_entities:
        config.entity_states[entity["name"]] = EntityState(
            "DEPLOYMENT_CREATING", "Creating resources for served entity."
        )
    endpoint.pending = PendingUpdate(
        config=config,
        start_ms=now,
        done_at_ms=now + int(behaviour.deploy_seconds * 1000),
        outcome=behaviour.next_update_outcome,
        failure_message=behaviour.next_update_message,
    )
    behaviour.next_update_outcome = "ready"
    behaviour.next_update_message = ""
    endpoint.last_updated_timestamp = now


async def create_endpoint(request: Request) -> Response:
    workspace = workspace_of(request)
    principal = principal_of(request)
    body = await json_body(request)
    name = validate_endpoint_name(body.get("name"))
    with workspace.lock:
        if name in workspace.endpoints:
            raise ApiError(409, "RESOURCE_ALREADY_EXISTS", f"Endpoint with name '{name}' already exists.")
        now = workspace.clock.now_ms()
        endpoint = Endpoint(
            name=name,
            id=new_endpoint_id(),
            creator=principal.name,
            creation_timestamp=now,
            last_updated_timestamp=now,
            description=str(body.get("description") or ""),
            route_optimized=bool(body.get("route_optimized", False)),
            budget_policy_id=body.get("budget_policy_id"),
            ai_gateway=body.get("ai_gateway"),
            email_notifications=body.get("email_notifications"),
            telemetry_config=body.get("telemetry_config"),
            tags={t["key"]: t.get("value") for t in body.get("tags") or []},
        )
        endpoint.acl[f"{principal_key(principal)}"] = "CAN_MANAGE"
        raw_config = body.get("config")
        config = build_config(workspace, raw_config, principal.name, 1) if raw_config else None
        workspace.endpoints[name] = endpoint
        if config is not None:
            start_update(workspace, endpoint, config)
        return JSONResponse(render_endpoint(endpoint, "CAN_MANAGE"))


def principal_key(principal: Principal) -> str:
    kind = "service_principal_name" if principal.kind == "service_principal" else "user_name"
    return f"{kind}:{principal.name}"


async def get_endpoint(request: Request) -> Response:
    workspace = workspace_of(request)
    with workspace.lock:
        endpoint = require_endpoint(workspace, request.path_params["name"])
        return JSONResponse(render_endpoint(endpoint, "CAN_MANAGE"))


async def list_endpoints(request: Request) -> Response:
    workspace = workspace_of(request)
    with workspace.lock:
        items = []
        for endpoint in workspace.endpoints.values():
            workspace.settle(endpoint)
            items.append(render_endpoint_summary(endpoint))
        return JSONResponse({"endpoints": items})


async def delete_endpoint(request: Request) -> Response:
    workspace = workspace_of(request)
    name = request.path_params["name"]
    with workspace.lock:
        require_endpoint(workspace, name)
        del workspace.endpoints[name]
        return JSONResponse({})


async def update_config(request: Request) -> Response:
    workspace = workspace_of(request)
    principal = principal_of(request)
    body = await json_body(request)
    name = request.path_params["name"]
    with workspace.lock:
        endpoint = require_endpoint(workspace, name)
        if endpoint.config_update == "IN_PROGRESS":
            raise conflict(
                f"Endpoint '{name}' is currently updating. Wait for the update to complete before updating its config."
            )
        version = (
            max(
                endpoint.config.version if endpoint.config else 0,
                endpoint.pending.config.version if endpoint.pending else 0,
            )
            + 1
        )
        config = build_config(workspace, body, principal.name, version)
        start_update(workspace, endpoint, config)
        return JSONResponse(render_endpoint(endpoint, "CAN_MANAGE"))


routes = [
    Route("/api/2.0/serving-endpoints", create_endpoint, methods=["POST"]),
    Route("/api/2.0/serving-endpoints", list_endpoints, methods=["GET"]),
    Route("/api/2.0/serving-endpoints/{name}", get_endpoint, methods=["GET"]),
    Route("/api/2.0/serving-endpoints/{name}", delete_endpoint, methods=["DELETE"]),
    Route("/api/2.0/serving-endpoints/{name}/config", update_config, methods=["PUT"]),
]
