"""Routes that change endpoint settings outside the served config.

Tags, email notifications, telemetry, the AI Gateway and the deprecated endpoint rate limits
each have their own call. None of them starts a config update.
"""

import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from emulator import settings_rules
from emulator.config_rules import reject_unexpected_fields, require_list, require_string
from emulator.configs import require_not_updating
from emulator.endpoints import check_telemetry_supported, require_endpoint, require_user_endpoint
from emulator.errors import bad_request
from emulator.permissions import require_level
from emulator.render import render_endpoint, render_tags
from emulator.requests import json_body, principal_of, workspace_of
from emulator.state import Endpoint

logger = logging.getLogger(__name__)

PREFIX = "/api/2.0/serving-endpoints/{name}"


async def patch_tags(request: Request) -> Response:
    workspace = workspace_of(request)
    body = await json_body(request)
    reject_unexpected_fields(body, ("add_tags", "delete_tags"), "the tags request body")
    added = settings_rules.tags_from_list(body.get("add_tags") or [], "add_tags")
    deleted = [
        require_string(k, f"delete_tags[{i}]")
        for i, k in enumerate(require_list(body.get("delete_tags") or [], "delete_tags"))
    ]
    with workspace.lock:
        endpoint = require_endpoint(workspace, request.path_params["name"])
        require_user_endpoint(endpoint, "tags")
        require_level(workspace, endpoint, principal_of(request), "CAN_MANAGE")
        endpoint.tags.update(added)
        for key in deleted:
            endpoint.tags.pop(key, None)
        return JSONResponse({"tags": render_tags(endpoint)})


async def patch_notifications(request: Request) -> Response:
    workspace = workspace_of(request)
    body = await json_body(request)
    reject_unexpected_fields(body, ("email_notifications",), "the notifications request body")
    raw = body.get("email_notifications")
    notifications = settings_rules.email_notifications(raw, "email_notifications") if raw is not None else None
    with workspace.lock:
        endpoint = require_endpoint(workspace, request.path_params["name"])
        require_user_endpoint(endpoint, "notifications")
        require_level(workspace, endpoint, principal_of(request), "CAN_MANAGE")
        endpoint.email_notifications = notifications
        out: dict[str, Any] = {"name": endpoint.name}
        if notifications is not None:
            out["email_notifications"] = notifications
        return JSONResponse(out)


async def patch_telemetry_config(request: Request) -> Response:
    workspace = workspace_of(request)
    body = await json_body(request)
    reject_unexpected_fields(body, ("telemetry_config",), "the telemetry request body")
    raw = body.get("telemetry_config")
    config = settings_rules.telemetry_config(raw, "telemetry_config") if raw is not None else None
    with workspace.lock:
        endpoint = require_endpoint(workspace, request.path_params["name"])
        require_user_endpoint(endpoint, "telemetry configuration")
        level = require_level(workspace, endpoint, principal_of(request), "CAN_MANAGE")
        served = endpoint.config or (endpoint.pending.config if endpoint.pending else None)
        check_telemetry_supported(endpoint.name, endpoint.endpoint_type if served is not None else None)
        require_not_updating(endpoint, "telemetry configuration")
        endpoint.telemetry_config = config
        endpoint.last_updated_timestamp = workspace.clock.now_ms()
        return JSONResponse(render_endpoint(endpoint, level))


async def put_ai_gateway(request: Request) -> Response:
    workspace = workspace_of(request)
    body = await json_body(request)
    name = request.path_params["name"]
    with workspace.lock:
        endpoint = require_endpoint(workspace, name)
        require_level(workspace, endpoint, principal_of(request), "CAN_MANAGE")
        gateway = settings_rules.ai_gateway(body, endpoint.name, endpoint.ai_gateway)
        _check_gateway_for_task(endpoint, gateway)
        # Full replacement: fields left out are removed, and an empty body clears the gateway.
        endpoint.ai_gateway = gateway or None
        endpoint.last_updated_timestamp = workspace.clock.now_ms()
        return JSONResponse(gateway)


def _check_gateway_for_task(endpoint: Endpoint, gateway: dict[str, Any]) -> None:
    """Agent endpoints support only inference tables and usage tracking in the AI Gateway."""
    if not (endpoint.task or "").startswith("agent/"):
        return
    unsupported = sorted(k for k in gateway if k not in ("inference_table_config", "usage_tracking_config"))
    if unsupported:
        raise bad_request(
            f"AI Gateway field(s) {unsupported} are not supported for agent endpoint '{endpoint.name}' "
            f"(task {endpoint.task}). Agent endpoints support inference tables and usage tracking only."
        )


async def put_rate_limits(request: Request) -> Response:
    workspace = workspace_of(request)
    body = await json_body(request)
    reject_unexpected_fields(body, ("rate_limits",), "the rate limits request body")
    limits = settings_rules.legacy_rate_limits(body.get("rate_limits") or [])
    with workspace.lock:
        endpoint = require_endpoint(workspace, request.path_params["name"])
        require_level(workspace, endpoint, principal_of(request), "CAN_MANAGE")
        if endpoint.system:
            # Databricks-managed endpoints accept the deprecated call but keep no limits.
            logger.info("Ignoring legacy rate limits for managed endpoint %s", endpoint.name)
        else:
            endpoint.rate_limits = limits
        return JSONResponse({"rate_limits": limits})


routes = [
    Route(f"{PREFIX}/tags", patch_tags, methods=["PATCH"]),
    Route(f"{PREFIX}/notifications", patch_notifications, methods=["PATCH"]),
    Route(f"{PREFIX}/telemetry-config", patch_telemetry_config, methods=["PATCH"]),
    Route(f"{PREFIX}/ai-gateway", put_ai_gateway, methods=["PUT"]),
    Route(f"{PREFIX}/rate-limits", put_rate_limits, methods=["PUT"]),
]
