"""Tools that create and delete endpoints.

Both run every local check (policy, config rules, cost guard, confirmation) before the one
request they send, so a rejected call changes nothing. Create returns as soon as the API accepts
the config; waiting is a separate call (wait_until_ready) that fits a client's time limit.
"""

import logging
from typing import Annotated, Any, Literal

from mcp.server import MCPServer
from mcp.server.mcpserver import Context, Resolve
from mcp_types import ToolAnnotations
from pydantic import BaseModel, Field, WithJsonSchema

from tools.api.errors import ApiError, DatabricksError, NotFound, ResourceConflict
from tools.audit import audited
from tools.confirm import ConfirmationOutcome, confirmation_resolver, settle_confirmation
from tools.context import ToolDeps, deps_of
from tools.errors import ToolFailure, failure, from_api_error, tool_errors
from tools.output import ECHO_HINT, Truncation, fit_result
from tools.redaction import redact
from tools.rules import (
    coerce_bool,
    filled_in_notes,
    normalise_ai_gateway,
    normalise_routes,
    normalise_served_entities,
    normalise_tags,
    validate_endpoint_name,
)
from tools.summaries import EndpointSummary, summarise_endpoint

logger = logging.getLogger(__name__)

CREATE = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=False)
DELETE = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=False)
LOGS_NOTE = "Build and server logs are deleted with the endpoint; read them with get_logs first if you need them."
DELETE_QUESTION = (
    "Delete the serving endpoint '{name}'? This cannot be undone, and its logs are deleted with it. "
    "Type the endpoint name to confirm."
)

ENTITIES_HELP = (
    "Served entities. Registered model: {entity_name: 'catalog.schema.model', entity_version: '3', "
    "workload_size: 'Small', scale_to_zero_enabled: true}. External model: {name, external_model: "
    "{provider, name, task, <provider>_config}} with no compute fields."
)
# Served entities are validated by tools.rules, not by the tool's argument model: a failed argument
# check prints part of the value, and a served entity may carry a plaintext credential. The schema
# that clients see stays an array of objects.
ServedEntitiesArgument = Annotated[
    Any,
    WithJsonSchema({"type": "array", "items": {"type": "object", "additionalProperties": True}}),
    Field(description=ENTITIES_HELP),
]
ROUTES_HELP = (
    "Traffic routes [{served_entity_name, traffic_percentage}], one per entity, summing to 100. "
    "An unnamed entity is called <last part of model name>-<version>, e.g. turbine_failure-3. "
    "Optional for a single entity."
)


class CreateResult(BaseModel):
    status: Literal["CREATED", "DRY_RUN"]
    name: str
    request_body: dict[str, Any] = Field(
        description="the JSON body sent to POST /api/2.0/serving-endpoints (for a dry run: the body that would be "
        "sent); credentials and environment variable values are shown as <redacted>"
    )
    checks: list[str] = Field(default_factory=list, description="for a dry run: the local checks that passed")
    notes: list[str] = Field(default_factory=list, description="defaults filled in and values converted")
    endpoint: EndpointSummary | None = None
    next_steps: list[str] = Field(default_factory=list)
    truncation: Truncation | None = Field(None, description="set when request_body is shown cut; the body is whole")


class DeleteResult(BaseModel):
    status: Literal["DELETED", "DRY_RUN"]
    name: str
    confirmed_by: str = Field(description="confirm_name, form or dry_run")
    endpoint: EndpointSummary | None = Field(None, description="for a dry run: the endpoint that would be deleted")
    note: str = LOGS_NOTE


_confirm_delete = confirmation_resolver("delete_endpoint", DELETE_QUESTION)


def register(server: MCPServer) -> None:
    @server.tool(annotations=CREATE)
    @tool_errors
    async def create_endpoint(
        name: Annotated[str, Field(description="New endpoint name: 1-63 letters, digits, - or _")],
        served_entities: ServedEntitiesArgument,
        ctx: Context,
        traffic_routes: Annotated[list[dict[str, Any]] | None, Field(description=ROUTES_HELP)] = None,
        tags: Annotated[
            list[dict[str, Any]] | dict[str, Any] | None, Field(description="[{key, value}] or {key: value}")
        ] = None,
        ai_gateway: Annotated[dict[str, Any] | None, Field(description="AI Gateway config")] = None,
        description: str | None = None,
        route_optimized: bool | None = None,
        dry_run: Annotated[bool, Field(description="check and return the request body without sending it")] = False,
    ) -> CreateResult:
        """Create a serving endpoint. Returns at once; then call wait_until_ready before querying."""
        deps = deps_of(ctx)
        with audited(deps, "create_endpoint", name):
            validate_endpoint_name(name)
            deps.policy.check_mutation("create_endpoint", name)
            body = build_create_body(
                name, served_entities, traffic_routes, tags, ai_gateway, description, route_optimized
            )
            deps.policy.check_compute("create_endpoint", body["config"]["served_entities"])
            notes = filled_in_notes(served_entities, body["config"]["served_entities"])
            if dry_run:
                checks = create_checks(deps)
                result = CreateResult(status="DRY_RUN", name=name, request_body={}, checks=checks, notes=notes)
                return with_request_body(result, body, deps.settings.max_result_chars)
            endpoint = await _send_create(deps, name, body)
        deps.audit.record("create_endpoint", name, "created", {"id": endpoint.id, "body": body})
        config = endpoint.pending_config or endpoint.config
        entity_names = [e.name for e in config.served_entities] if config else []
        result = CreateResult(
            status="CREATED",
            name=name,
            request_body={},
            notes=notes,
            endpoint=endpoint,
            next_steps=[
                f"Call wait_until_ready(name={name!r}) until its status is READY; do not query before that.",
                f"If it fails, read get_logs(name={name!r}, kind='build', served_entity=<one of {entity_names}>).",
            ],
        )
        return with_request_body(result, body, deps.settings.max_result_chars)

    @server.tool(annotations=DELETE)
    @tool_errors
    async def delete_endpoint(
        name: Annotated[str, Field(min_length=1, max_length=63, description="Endpoint to delete")],
        ctx: Context,
        confirmation: Annotated[ConfirmationOutcome, Resolve(_confirm_delete)],
        confirm_name: Annotated[
            str | None, Field(description="the endpoint name again, as the user confirmed it")
        ] = None,
        dry_run: Annotated[bool, Field(description="show what would be deleted without deleting")] = False,
    ) -> DeleteResult:
        """Delete a serving endpoint and its logs. Needs confirm_name equal to name, or the user's confirmation."""
        deps = deps_of(ctx)
        confirmed = settle_confirmation(confirmation, name)
        if not confirmed.confirmed:
            deps.audit.record("delete_endpoint", name, "not_confirmed", {"reason": confirmed.reason})
            if confirmed.declined:
                next_step = "The user said no: do not delete unless they ask again."
            else:
                next_step = f"Ask the user, then call again with confirm_name={name!r}."
            raise failure("NOT_CONFIRMED", f"Not deleted: {confirmed.reason}.", next_step=next_step)
        if dry_run:
            endpoint = await deps.serving.get_endpoint(name)
            return DeleteResult(
                status="DRY_RUN", name=name, confirmed_by="dry_run", endpoint=summarise_endpoint(endpoint)
            )
        try:
            await deps.serving.delete_endpoint(name)
        except DatabricksError as exc:
            deps.audit.record("delete_endpoint", name, "failed", {"error": str(exc)})
            if isinstance(exc, NotFound):
                raise from_api_error(exc, next_step="Check the name with list_endpoints.") from exc
            raise
        deps.audit.record("delete_endpoint", name, "deleted", {"confirmed_by": confirmed.method})
        logger.info("Deleted serving endpoint %s (confirmed by %s)", name, confirmed.method)
        return DeleteResult(status="DELETED", name=name, confirmed_by=confirmed.method)


def build_create_body(
    name: str,
    served_entities: Any,
    traffic_routes: Any,
    tags: Any,
    ai_gateway: Any,
    description: str | None,
    route_optimized: Any,
) -> dict[str, Any]:
    """Check every argument of create_endpoint and assemble the POST body."""
    entities = normalise_served_entities(served_entities)
    config: dict[str, Any] = {"served_entities": entities}
    routes = normalise_routes(traffic_routes, entities)
    if routes is not None:
        config["traffic_config"] = {"routes": routes}
    body: dict[str, Any] = {"name": name, "config": config}
    if tags is not None:
        body["tags"] = normalise_tags(tags)
    if ai_gateway is not None:
        body["ai_gateway"] = normalise_ai_gateway(ai_gateway)
    if description is not None:
        body["description"] = description
    if route_optimized is not None:
        body["route_optimized"] = coerce_bool(route_optimized, "route_optimized")
    return body


def with_request_body(result: CreateResult, body: dict[str, Any], max_chars: int) -> CreateResult:
    """Set `result.request_body` to `body` with credentials hidden, cut by whole items to fit `max_chars`.

    Only the echo is cut: a long description or thousands of tags are sent whole.
    """
    result.request_body = redact(body)
    return fit_result(result, max_chars, ECHO_HINT, ["request_body"])


def create_checks(deps: ToolDeps) -> list[str]:
    return [
        "endpoint name: 1-63 letters, digits, - or _, no databricks- prefix",
        "served entities: shape, versions as strings, scale_to_zero_enabled explicit on model entities, "
        "no compute fields on external models",
        "traffic routes: each names a served entity, integer percentages summing to 100",
        *(f"policy: {line}" for line in deps.policy.describe_checks()),
    ]


async def _send_create(deps: ToolDeps, name: str, body: dict[str, Any]) -> EndpointSummary:
    try:
        endpoint = await deps.serving.create_endpoint(body)
    except ResourceConflict as exc:
        raise await _already_exists(deps, name, exc) from exc
    except ApiError as exc:
        raise from_api_error(exc, next_step=_create_next_step(exc)) from exc
    return summarise_endpoint(endpoint)


async def _already_exists(deps: ToolDeps, name: str, exc: ApiError) -> ToolFailure:
    """Describe the existing endpoint (one GET) so the model can decide to update it instead."""
    next_step = (
        f"Endpoint {name!r} already exists and was not changed. To change what it serves, call "
        f"update_config(name={name!r}, served_entities=[...]) or swap_model_version; for a new endpoint, "
        "pick another name."
    )
    existing: dict[str, Any] | None = None
    try:
        summary = summarise_endpoint(await deps.serving.get_endpoint(name))
        existing = summary.model_dump(include={"ready", "config_update", "config"}, mode="json")
    except DatabricksError:
        logger.warning("Could not read the existing endpoint %s after a create conflict", name, exc_info=True)
    return from_api_error(exc, next_step=next_step, existing_endpoint=existing)


def _create_next_step(exc: ApiError) -> str | None:
    if isinstance(exc, NotFound):
        return "Check entity_name and entity_version: the model version must be registered in Unity Catalog."
    if exc.status == 400:
        return "Fix the field named in the message and call create_endpoint again (dry_run=true checks locally)."
    return None


# Kept under its old name for the modules that import it from here.
redact_secrets = redact
