"""Control-plane routes that create, read, list, delete and reconfigure serving endpoints."""

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from emulator import settings_rules
from emulator.config_rules import coerce_bool, reject_unexpected_fields, require_object, validate_endpoint_name
from emulator.configs import (
    ConfigRequest,
    build_config,
    check_conversion,
    endpoint_kind,
    next_config_version,
    require_not_updating,
    start_update,
)
from emulator.errors import ApiError, bad_request, not_found
from emulator.permissions import can_view, principal_key, require_level
from emulator.render import render_endpoint, render_endpoint_summary
from emulator.requests import json_body, principal_of, workspace_of
from emulator.state import Endpoint, Principal, Workspace, new_endpoint_id

CREATE_FIELDS = (
    "name",
    "config",
    "ai_gateway",
    "budget_policy_id",
    "description",
    "email_notifications",
    "rate_limits",
    "route_optimized",
    "tags",
    "telemetry_config",
    "usage_policy_id",
)


def require_endpoint(workspace: Workspace, name: str) -> Endpoint:
    endpoint = workspace.get_endpoint(name)
    if endpoint is None:
        raise not_found(f"Endpoint with name '{name}' does not exist.")
    return endpoint


def require_user_endpoint(endpoint: Endpoint, setting: str) -> None:
    """Raise 403 PERMISSION_DENIED for Databricks-managed endpoints, whose `setting` users cannot change."""
    if endpoint.system:
        raise ApiError(
            403,
            "PERMISSION_DENIED",
            f"Endpoint '{endpoint.name}' is managed by Databricks, so its {setting} cannot be changed.",
        )


def check_telemetry_supported(endpoint_name: str, endpoint_type: str | None) -> None:
    """Reject telemetry on endpoints that serve no custom model (external models, or no config yet)."""
    if endpoint_type in ("CUSTOM_MODEL", "FOUNDATION_MODEL_API"):
        return
    label = "EXTERNAL_MODELS" if endpoint_type == "EXTERNAL_MODEL" else "NO_CONFIG"
    raise bad_request(
        f"Telemetry configuration is not supported for endpoint type '{label}' (endpoint '{endpoint_name}'). "
        "Only endpoints that serve a custom model or Foundation Model support telemetry."
    )


async def create_endpoint(request: Request) -> Response:
    workspace = workspace_of(request)
    principal = principal_of(request)
    body = await json_body(request)
    reject_unexpected_fields(body, CREATE_FIELDS, "the create request body")
    name = validate_endpoint_name(body.get("name"))
    with workspace.lock:
        if name in workspace.endpoints:
            raise ApiError(
                409,
                "RESOURCE_ALREADY_EXISTS",
                f"Endpoint with name '{name}' already exists. Use PUT /api/2.0/serving-endpoints/{name}/config "
                "to change its served entities.",
            )
        endpoint = new_endpoint(workspace, body, name, principal)
        workspace.endpoints[name] = endpoint
        return JSONResponse(render_endpoint(endpoint, "CAN_MANAGE"))


def new_endpoint(workspace: Workspace, body: dict[str, Any], name: str, principal: Principal) -> Endpoint:
    """Validate a create body completely, then return the endpoint with its first update started."""
    config = None
    if body.get("config") is not None:
        raw_config = require_object(body["config"], "config")
        config = build_config(workspace, raw_config, ConfigRequest(name, principal.name), 1)
    description = optional_string(body, "description")
    now = workspace.clock.now_ms()
    endpoint = Endpoint(
        name=name,
        id=new_endpoint_id(),
        creator=principal.name,
        creation_timestamp=now,
        last_updated_timestamp=now,
        description=description or "",
        route_optimized=coerce_bool(body.get("route_optimized", False), "route_optimized"),
        budget_policy_id=optional_string(body, "budget_policy_id"),
        usage_policy_id=optional_string(body, "usage_policy_id"),
    )
    if body.get("telemetry_config") is not None:
        check_telemetry_supported(name, endpoint_kind(config) if config is not None else None)
    apply_create_settings(endpoint, body)
    endpoint.acl[principal_key(principal)] = "CAN_MANAGE"
    if config is not None:
        start_update(workspace, endpoint, config)
    return endpoint


def optional_string(body: dict[str, Any], field: str) -> str | None:
    """Return `body[field]` when it is a string, None when it is absent or null, else raise 400."""
    value = body.get(field)
    if value is not None and not isinstance(value, str):
        raise bad_request(f"Field '{field}' must be a string, got {value!r}.")
    return value


def apply_create_settings(endpoint: Endpoint, body: dict[str, Any]) -> None:
    """Set tags, gateway, notifications, telemetry and legacy rate limits given at creation."""
    if body.get("tags") is not None:
        endpoint.tags = settings_rules.tags_from_list(body["tags"], "tags")
    if body.get("ai_gateway") is not None:
        gateway = require_object(body["ai_gateway"], "ai_gateway")
        endpoint.ai_gateway = settings_rules.ai_gateway(gateway, endpoint.name, None) or None
    if body.get("email_notifications") is not None:
        endpoint.email_notifications = settings_rules.email_notifications(
            body["email_notifications"], "email_notifications"
        )
    if body.get("telemetry_config") is not None:
        endpoint.telemetry_config = settings_rules.telemetry_config(body["telemetry_config"], "telemetry_config")
    if body.get("rate_limits") is not None:
        endpoint.rate_limits = settings_rules.legacy_rate_limits(body["rate_limits"])


async def get_endpoint(request: Request) -> Response:
    workspace = workspace_of(request)
    with workspace.lock:
        endpoint = require_endpoint(workspace, request.path_params["name"])
        level = require_level(workspace, endpoint, principal_of(request), "CAN_VIEW")
        return JSONResponse(render_endpoint(endpoint, level))


async def list_endpoints(request: Request) -> Response:
    workspace = workspace_of(request)
    with workspace.lock:
        items = []
        principal = principal_of(request)
        for endpoint in workspace.endpoints.values():
            if not can_view(workspace, endpoint, principal):
                continue
            workspace.settle(endpoint)
            items.append(render_endpoint_summary(endpoint))
        return JSONResponse({"endpoints": items})


async def delete_endpoint(request: Request) -> Response:
    workspace = workspace_of(request)
    name = request.path_params["name"]
    with workspace.lock:
        endpoint = require_endpoint(workspace, name)
        if endpoint.system:
            raise ApiError(
                403, "PERMISSION_DENIED", f"Endpoint '{name}' is managed by Databricks and cannot be deleted."
            )
        require_level(workspace, endpoint, principal_of(request), "CAN_MANAGE")
        del workspace.endpoints[name]
        return JSONResponse({})


async def update_config(request: Request) -> Response:
    workspace = workspace_of(request)
    principal = principal_of(request)
    body = await json_body(request)
    name = request.path_params["name"]
    with workspace.lock:
        endpoint = require_endpoint(workspace, name)
        require_user_endpoint(endpoint, "config")
        require_level(workspace, endpoint, principal, "CAN_MANAGE")
        require_not_updating(endpoint, "config")
        request_context = ConfigRequest(name, principal.name, is_update=True)
        config = build_config(workspace, body, request_context, next_config_version(endpoint))
        check_conversion(endpoint, config)
        start_update(workspace, endpoint, config)
        return JSONResponse(render_endpoint(endpoint, "CAN_MANAGE"))


routes = [
    Route("/api/2.0/serving-endpoints", create_endpoint, methods=["POST"]),
    Route("/api/2.0/serving-endpoints", list_endpoints, methods=["GET"]),
    Route("/api/2.0/serving-endpoints/{name}", get_endpoint, methods=["GET"]),
    Route("/api/2.0/serving-endpoints/{name}", delete_endpoint, methods=["DELETE"]),
    Route("/api/2.0/serving-endpoints/{name}/config", update_config, methods=["PUT"]),
]
