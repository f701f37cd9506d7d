"""Provisioned throughput (PT) endpoint routes: create, and replace the PT config.

A PT entity names a Unity Catalog model, either a Foundation Model under `system.ai` or a
registered model. It reserves a positive number of `provisioned_model_units` and never scales to zero.
"""

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from emulator.config_rules import (
    coerce_int,
    reject_unexpected_fields,
    require_list,
    require_object,
    validate_endpoint_name,
)
from emulator.configs import ConfigRequest, build_config, next_config_version, require_not_updating, start_update
from emulator.endpoints import apply_create_settings, optional_string, require_endpoint, require_user_endpoint
from emulator.errors import ApiError, bad_request
from emulator.permissions import principal_key, require_level
from emulator.render import render_endpoint
from emulator.requests import json_body, principal_of, workspace_of
from emulator.state import ConfigVersion, Endpoint, Workspace, new_endpoint_id

PT_CREATE_FIELDS = ("name", "config", "ai_gateway", "budget_policy_id", "email_notifications", "tags")
PT_ENTITY_FIELDS = (
    "name",
    "entity_name",
    "entity_version",
    "provisioned_model_units",
    "burst_scaling_enabled",
    "pt_term",
)
COMMITMENT_TERMS = (
    "COMMITMENT_TERM_1_HOUR",
    "COMMITMENT_TERM_12_HOURS",
    "COMMITMENT_TERM_1_DAY",
    "COMMITMENT_TERM_1_WEEK",
    "COMMITMENT_TERM_1_MONTH",
    "COMMITMENT_TERM_3_MONTHS",
    "COMMITMENT_TERM_6_MONTHS",
    "COMMITMENT_TERM_1_YEAR",
)


def build_pt_config(workspace: Workspace, raw: Any, request: ConfigRequest, version: int) -> ConfigVersion:
    """Validate a PtEndpointCoreConfig and return the config it describes."""
    body = require_object(raw, "config")
    reject_unexpected_fields(body, ("served_entities", "traffic_config"), "'config'")
    raw_entities = require_list(body.get("served_entities"), "config.served_entities")
    terms: list[str | None] = []
    entities: list[dict[str, Any]] = []
    for index, item in enumerate(raw_entities):
        where = f"served_entities[{index}]"
        entity = dict(require_object(item, where))
        reject_unexpected_fields(entity, PT_ENTITY_FIELDS, f"'{where}'")
        if "entity_name" not in entity:
            raise bad_request(f"Field '{where}.entity_name' is required (a Unity Catalog model name).")
        if "provisioned_model_units" not in entity:
            raise bad_request(f"Field '{where}.provisioned_model_units' is required (a positive integer).")
        entity["provisioned_model_units"] = coerce_int(
            entity["provisioned_model_units"], f"{where}.provisioned_model_units"
        )
        term = entity.pop("pt_term", None)
        if term is not None and term not in COMMITMENT_TERMS:
            raise bad_request(f"Field '{where}.pt_term' must be one of {list(COMMITMENT_TERMS)}, got {term!r}.")
        terms.append(term)
        entities.append(entity)
    config = build_config(
        workspace, {"served_entities": entities, "traffic_config": body.get("traffic_config")}, request, version
    )
    for entity, term in zip(config.served_entities, terms, strict=True):
        if term is not None:
            entity["pt_term"] = term
    return config


async def create_pt_endpoint(request: Request) -> Response:
    workspace = workspace_of(request)
    principal = principal_of(request)
    body = await json_body(request)
    reject_unexpected_fields(body, PT_CREATE_FIELDS, "the provisioned throughput create request body")
    name = validate_endpoint_name(body.get("name"))
    if body.get("config") is None:
        raise bad_request("Field 'config' is required: give served_entities with provisioned_model_units.")
    with workspace.lock:
        if name in workspace.endpoints:
            raise ApiError(409, "RESOURCE_ALREADY_EXISTS", f"Endpoint with name '{name}' already exists.")
        config = build_pt_config(workspace, body["config"], ConfigRequest(name, principal.name), 1)
        now = workspace.clock.now_ms()
        endpoint = Endpoint(
            name=name,
            id=new_endpoint_id(),
            creator=principal.name,
            creation_timestamp=now,
            last_updated_timestamp=now,
            budget_policy_id=optional_string(body, "budget_policy_id"),
        )
        apply_create_settings(endpoint, body)
        endpoint.acl[principal_key(principal)] = "CAN_MANAGE"
        start_update(workspace, endpoint, config)
        workspace.endpoints[name] = endpoint
        return JSONResponse(render_endpoint(endpoint, "CAN_MANAGE"))


async def update_pt_config(request: Request) -> Response:
    workspace = workspace_of(request)
    principal = principal_of(request)
    body = await json_body(request)
    reject_unexpected_fields(body, ("config",), "the provisioned throughput config update body")
    if body.get("config") is None:
        raise bad_request("Field 'config' is required: give served_entities with provisioned_model_units.")
    name = request.path_params["name"]
    with workspace.lock:
        endpoint = require_endpoint(workspace, name)
        require_user_endpoint(endpoint, "config")
        require_level(workspace, endpoint, principal, "CAN_MANAGE")
        current = endpoint.config or (endpoint.pending.config if endpoint.pending else None)
        if current is not None and any("provisioned_model_units" not in e for e in current.served_entities):
            raise bad_request(
                f"Endpoint '{name}' is not a provisioned throughput endpoint. "
                f"Use PUT /api/2.0/serving-endpoints/{name}/config to change its config."
            )
        require_not_updating(endpoint, "config")
        config_request = ConfigRequest(name, principal.name, is_update=True)
        config = build_pt_config(workspace, body["config"], config_request, next_config_version(endpoint))
        start_update(workspace, endpoint, config)
        return JSONResponse(render_endpoint(endpoint, "CAN_MANAGE"))


routes = [
    Route("/api/2.0/serving-endpoints/pt", create_pt_endpoint, methods=["POST"]),
    Route("/api/2.0/serving-endpoints/pt/{name}/config", update_pt_config, methods=["PUT"]),
]
