"""update_config: change the served entities or the traffic split of an existing endpoint.

The tool reads the endpoint once, rejects the call while another config update is in progress,
and builds the PUT body from input fields only: the state, creator, timestamps and
foundation_model fields that get returns are never sent back. A request that matches the
current config sends no PUT, so the config version does not grow. swap_model_version reuses the
helpers here to read the current config and compare it with a new one.
"""

import logging
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp_types import ToolAnnotations
from pydantic import BaseModel, Field, WithJsonSchema

from tools.api.errors import ApiError, NotFound, ResourceConflict
from tools.api.models import ServingEndpoint
from tools.audit import audited
from tools.context import ToolDeps, deps_of
from tools.endpoints import EndpointName
from tools.errors import InvalidArgument, failure, from_api_error, tool_errors
from tools.lifecycle import ENTITIES_HELP
from tools.output import ECHO_HINT, ECHO_TRUNCATION_HELP, Truncation, fit_result
from tools.redaction import redact
from tools.rules import (
    ENTITY_FIELDS,
    check_endpoint_name,
    derive_entity_name,
    filled_in_notes,
    is_provisioned_throughput,
    normalise_routes,
    normalise_served_entities,
)
from tools.summaries import EndpointSummary, summarise_endpoint

logger = logging.getLogger(__name__)

TOOL = "update_config"
UPDATE = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=False)
# tools.rules checks served_entities, not the argument model (as in create_endpoint), because a failed
# argument check prints part of the value, and a served entity may carry a plaintext credential.
ServedEntitiesUpdate = Annotated[
    Any,
    WithJsonSchema({"type": "array", "items": {"type": "object", "additionalProperties": True}}),
    Field(description=f"The complete new list; omitted: keep the current one. {ENTITIES_HELP}"),
]
ROUTES_HELP = (
    "[{served_entity_name, traffic_percentage}], one per entity, integers summing to 100. Omitted: the current "
    "split when it names the same entities, 100 % for one entity."
)
CONCURRENCY_FIELDS = ("min_provisioned_concurrency", "max_provisioned_concurrency")
# The fields of a ConfigDiff, which repeat served entity names and so grow with the request.
DIFF_PARTS = ("diff.added", "diff.removed", "diff.changed", "diff.traffic_before", "diff.traffic_after")
# The parts of an update_config result that `fit_result` may cut to fit the result cap.
RESULT_PARTS = ("request.body", *DIFF_PARTS, "notes", "next_steps")


class PlannedRequest(BaseModel):
    method: str
    path: str
    body: dict[str, Any] = Field(description="credentials and environment variable values are shown as <redacted>")


class ConfigDiff(BaseModel):
    added: list[str] = Field(default_factory=list, description="served entities the new config adds")
    removed: list[str] = Field(default_factory=list, description="served entities the new config drops")
    changed: dict[str, list[str]] = Field(default_factory=dict, description="served entity -> fields that change")
    traffic_before: dict[str, int] = Field(default_factory=dict)
    traffic_after: dict[str, int] = Field(default_factory=dict)

    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.changed) and self.traffic_before == self.traffic_after


class UpdateConfigResult(BaseModel):
    status: Literal["UPDATING", "NO_CHANGE", "DRY_RUN"]
    name: str
    request: PlannedRequest | None = Field(None, description="the PUT sent, or for a dry run the PUT not sent")
    diff: ConfigDiff
    notes: list[str] = Field(default_factory=list, description="defaults filled in and values converted")
    endpoint: EndpointSummary
    next_steps: list[str] = Field(default_factory=list)
    truncation: Truncation | None = Field(None, description=ECHO_TRUNCATION_HELP)


def register(server: MCPServer) -> None:
    @server.tool(annotations=UPDATE)
    @tool_errors
    async def update_config(
        name: EndpointName,
        ctx: Context,
        served_entities: ServedEntitiesUpdate = None,
        traffic_routes: Annotated[list[dict[str, Any]] | dict[str, Any] | None, Field(description=ROUTES_HELP)] = None,
        dry_run: Annotated[bool, Field(description="read the endpoint and return the PUT without sending it")] = False,
    ) -> UpdateConfigResult:
        """Replace an endpoint's served entities and/or traffic split. The old config serves until the new one is
        ready; then call wait_until_ready. Tags and AI Gateway are separate APIs."""
        deps = deps_of(ctx)
        with audited(deps, TOOL, name):
            result = await _update_config(deps, name, served_entities, traffic_routes, dry_run)
        return fit_result(result, deps.settings.max_result_chars, ECHO_HINT, RESULT_PARTS)


async def _update_config(
    deps: ToolDeps, name: str, served_entities: Any, traffic_routes: Any, dry_run: bool
) -> UpdateConfigResult:
    check_endpoint_name(name)
    deps.policy.check_mutation(TOOL, name)
    if served_entities is None and traffic_routes is None:
        raise InvalidArgument(
            "served_entities",
            None,
            "and traffic_routes are both missing",
            "Give served_entities, traffic_routes or both.",
        )
    requested = normalise_served_entities(served_entities) if served_entities is not None else None
    notes: list[str] = []
    if requested is not None:
        # Check everything that needs no current config before the first request.
        if traffic_routes is not None:
            normalise_routes(traffic_routes, requested)
        deps.policy.check_compute(TOOL, requested)
        notes = filled_in_notes(served_entities, requested)

    endpoint, current = await read_endpoint(deps, name)
    reject_in_progress(endpoint, TOOL)
    if requested is None and not current.entities:
        raise failure(
            "NO_CONFIG",
            f"Endpoint {name!r} has no active config to keep, so traffic_routes alone cannot be applied.",
            next_step="Pass served_entities as well.",
        )
    if endpoint.config_update in ("UPDATE_FAILED", "UPDATE_CANCELED"):
        notes.append(f"The previous update ended in {endpoint.config_update}; this update replaces it.")
    if requested is None:
        notes.extend(carried_over_notes(current.entities))
    entities = requested if requested is not None else current.entities
    routes = plan_routes(traffic_routes, entities, current.routes, notes)
    body = {"served_entities": entities, "traffic_config": {"routes": routes}}
    diff = diff_configs(current, entities, routes)
    request = PlannedRequest(method="PUT", path=deps.serving.config_path(name), body=redact(body))

    if diff.is_empty():
        deps.audit.record(TOOL, name, "no_change", {})
        return UpdateConfigResult(
            status="NO_CHANGE",
            name=name,
            diff=diff,
            notes=[*notes, "The request equals the current config, so no PUT was sent."],
            endpoint=summarise_endpoint(endpoint),
        )
    if dry_run:
        deps.audit.record(TOOL, name, "dry_run", {"body": body})
        return UpdateConfigResult(
            status="DRY_RUN", name=name, request=request, diff=diff, notes=notes, endpoint=summarise_endpoint(endpoint)
        )

    updated = await send_config_update(deps, name, body, TOOL)
    config_version = updated.pending_config.config_version if updated.pending_config else None
    deps.audit.record(TOOL, name, "updating", {"config_version": config_version, "body": body})
    return UpdateConfigResult(
        status="UPDATING",
        name=name,
        request=request,
        diff=diff,
        notes=notes,
        endpoint=summarise_endpoint(updated),
        next_steps=updating_next_steps(name, diff),
    )


# Reading the current config --------------------------------------------------------------------


class CurrentConfig:
    """The active config of an endpoint as get returns it, converted to the input shape of an update."""

    def __init__(self, entities: list[dict[str, Any]], routes: dict[str, int]) -> None:
        self.entities = entities
        self.routes = routes

    @classmethod
    def read(cls, endpoint: Mapping[str, Any]) -> "CurrentConfig":
        config = endpoint.get("config") or {}
        entities = [input_entity(raw) for raw in config.get("served_entities") or []]
        routes: dict[str, int] = {}
        for route in (config.get("traffic_config") or {}).get("routes") or []:
            target = route.get("served_entity_name") or route.get("served_model_name")
            if target:
                routes[str(target)] = int(route.get("traffic_percentage") or 0)
        return cls(entities, routes)


async def read_endpoint(deps: ToolDeps, name: str) -> tuple[ServingEndpoint, "CurrentConfig"]:
    """Get the endpoint (one GET) and its active config in input shape."""
    try:
        raw = await deps.serving.get_endpoint_raw(name)
    except NotFound as exc:
        raise from_api_error(exc, next_step="Check the name with list_endpoints.") from exc
    return ServingEndpoint.model_validate(raw), CurrentConfig.read(raw)


def input_entity(served: Mapping[str, Any]) -> dict[str, Any]:
    """Convert a served entity read by get to the input shape, dropping every output-only field.

    External model entities keep `name` and `external_model` only. A registered model entity always
    carries `scale_to_zero_enabled`, which get returns.
    """
    if served.get("external_model"):
        return {"name": served["name"], "external_model": dict(served["external_model"])}
    entity = {key: value for key, value in served.items() if key in ENTITY_FIELDS and value is not None}
    entity.setdefault("scale_to_zero_enabled", not is_provisioned_throughput(entity))
    return entity


def carried_over_notes(entities: list[dict[str, Any]]) -> list[str]:
    """Warn about settings that get does not return, so a config rebuilt from get cannot keep them."""
    notes: list[str] = []
    for entity in entities:
        name = derive_entity_name(entity)
        if "external_model" in entity:
            notes.append(
                f"{name}: sent with the external_model that get returns; a credential first given as "
                "*_plaintext is not returned, so pass served_entities with it if the provider needs it."
            )
        elif is_provisioned_throughput(entity):
            notes.append(f"{name}: get does not return burst_scaling_enabled, so the API default (true) applies.")
    return notes


def reject_in_progress(endpoint: ServingEndpoint, tool: str) -> None:
    """Raise UPDATE_IN_PROGRESS while a config update runs, because the API accepts one at a time."""
    if endpoint.config_update != "IN_PROGRESS":
        return
    pending = endpoint.pending_config
    version = pending.config_version if pending else None
    entities = [e.name for e in pending.served_entities] if pending else []
    raise failure(
        "UPDATE_IN_PROGRESS",
        f"Endpoint {endpoint.name!r} is deploying config version {version} (served entities {entities}), and the "
        "API accepts one config update at a time. Nothing was sent.",
        next_step=wait_then_retry(endpoint.name, tool),
    )


def wait_then_retry(name: str, tool: str) -> str:
    return f"Call wait_until_ready(name={name!r}) until it returns READY or FAILED, then call {tool} again."


# Building and comparing the new config ---------------------------------------------------------


def plan_routes(
    raw_routes: Any, entities: list[dict[str, Any]], current_routes: dict[str, int], notes: list[str]
) -> list[dict[str, Any]]:
    """Check the requested routes, or fill them in when omitted and note what was filled in."""
    names = [derive_entity_name(e) for e in entities]
    if raw_routes is None and len(names) == 1:
        if current_routes != {names[0]: 100}:
            notes.append(f"traffic_routes was not given, so 100 % goes to {names[0]}.")
        return [{"served_entity_name": names[0], "traffic_percentage": 100}]
    if raw_routes is None and set(current_routes) == set(names):
        notes.append("traffic_routes was not given, so the current traffic split is kept.")
        return [{"served_entity_name": n, "traffic_percentage": current_routes[n]} for n in names]
    routes = normalise_routes(raw_routes, entities)
    # normalise_routes returns None only for omitted routes and one entity, handled above.
    assert routes is not None
    return routes


def diff_configs(current: CurrentConfig, entities: list[dict[str, Any]], routes: list[dict[str, Any]]) -> ConfigDiff:
    before = {derive_entity_name(e): e for e in current.entities}
    after = {derive_entity_name(e): e for e in entities}
    changed: dict[str, list[str]] = {}
    for name in after:
        fields = changed_fields(after[name], before[name]) if name in before else []
        if fields:
            changed[name] = fields
    return ConfigDiff(
        added=[name for name in after if name not in before],
        removed=[name for name in before if name not in after],
        changed=changed,
        traffic_before=dict(current.routes),
        traffic_after={r["served_entity_name"]: r["traffic_percentage"] for r in routes},
    )


def changed_fields(requested: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """List the input fields whose effective values differ.

    A field left out counts as the value the API stores for it: workload_type CPU, workload_size
    Small (without a concurrency range or provisioned throughput) and burst_scaling_enabled true.
    get never returns burst_scaling_enabled, so a current value of false reads as true.
    """
    keys = (set(requested) | set(current)) - {"name"}
    return sorted(key for key in keys if _effective(requested, key) != _effective(current, key))


def _effective(entity: Mapping[str, Any], key: str) -> Any:
    if key in entity:
        return str(entity[key]) if key == "entity_version" else entity[key]
    if "external_model" in entity:
        return None
    if key == "burst_scaling_enabled":
        return True
    if is_provisioned_throughput(entity):
        return None
    if key == "workload_size" and not any(field in entity for field in CONCURRENCY_FIELDS):
        return "Small"
    return "CPU" if key == "workload_type" else None


# Sending ---------------------------------------------------------------------------------------


async def send_config_update(deps: ToolDeps, name: str, body: dict[str, Any], tool: str) -> ServingEndpoint:
    """PUT the config, turning API errors into tool errors that keep the API's code and message."""
    try:
        return await deps.serving.update_config(name, body)
    except ResourceConflict as exc:
        raise from_api_error(exc, next_step=wait_then_retry(name, tool)) from exc
    except NotFound as exc:
        next_step = "Check entity_name and entity_version: each model version must be registered in Unity Catalog."
        raise from_api_error(exc, next_step=next_step) from exc
    except ApiError as exc:
        if exc.status == 400:
            raise from_api_error(
                exc, next_step="Fix the field the message names; dry_run=true shows the body."
            ) from exc
        raise


def updating_next_steps(name: str, diff: ConfigDiff) -> list[str]:
    steps = [
        f"Call wait_until_ready(name={name!r}) until READY. The old config keeps serving traffic until the new "
        "one is ready."
    ]
    new_entities = [*diff.added, *diff.changed]
    if new_entities:
        steps.append(f"If it fails, read get_logs(name={name!r}, kind='build', served_entity=<one of {new_entities}>).")
    return steps
