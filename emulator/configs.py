"""Build endpoint configs from request bodies and start the config updates that deploy them."""

from dataclasses import dataclass
from typing import Any

from emulator.config_rules import (
    coerce_bool,
    normalise_routes,
    parse_decimal,
    reject_unexpected_fields,
    require_list,
    require_object,
    require_string,
)
from emulator.entity_rules import ENTITY_INPUT_FIELDS, EntityRules, entity_kind, normalise_entity
from emulator.errors import bad_request, conflict
from emulator.state import ConfigVersion, Endpoint, EntityState, PendingUpdate, Workspace

MAX_SERVED_ENTITIES = 15
CONFIG_INPUT_FIELDS = ("served_entities", "served_models", "traffic_config", "auto_capture_config")
# The deprecated served_models items: served entity fields, with model_name/model_version for the entity.
SERVED_MODEL_INPUT_FIELDS = (
    "name",
    "model_name",
    "model_version",
    *(f for f in ENTITY_INPUT_FIELDS if f not in ("name", "entity_name", "entity_version", "external_model")),
)
ENDPOINT_TYPES = {"external": "EXTERNAL_MODEL", "foundation": "FOUNDATION_MODEL_API", "custom": "CUSTOM_MODEL"}
CREATING_MESSAGE = "Creating resources for served entity."


@dataclass(frozen=True)
class ConfigRequest:
    """Creator and context of a config request, which decide the checks that apply."""

    endpoint_name: str
    creator: str
    # True for PUT .../config, False for the config inside a create request.
    is_update: bool = False
    # Databricks-managed endpoints (seeded by scenarios) skip checks meant for user endpoints.
    system: bool = False


def build_config(workspace: Workspace, body: dict[str, Any], request: ConfigRequest, version: int) -> ConfigVersion:
    """Validate an EndpointCoreConfigInput body and return the config it describes (not yet deployed)."""
    allowed = CONFIG_INPUT_FIELDS if request.is_update else (*CONFIG_INPUT_FIELDS, "name")
    where = "the config update body" if request.is_update else "'config'"
    reject_unexpected_fields(body, allowed, where)
    raw_entities = _raw_entities(body)
    rules = EntityRules(
        workspace=workspace,
        creator=request.creator,
        now_ms=workspace.clock.now_ms(),
        require_scale_to_zero=request.is_update,
        system=request.system,
    )
    field = "served_entities" if "served_entities" in body else "served_models"
    entities = [normalise_entity(raw, f"{field}[{i}]", rules) for i, raw in enumerate(raw_entities)]
    _check_entity_set(entities)
    routes = normalise_routes(body.get("traffic_config"), [e["name"] for e in entities])
    auto_capture = _auto_capture(body.get("auto_capture_config"), request.endpoint_name)
    return ConfigVersion(version=version, served_entities=entities, routes=routes, auto_capture_config=auto_capture)


def _raw_entities(body: dict[str, Any]) -> list[Any]:
    if "served_entities" in body and "served_models" in body:
        raise bad_request("Specify either served_entities or served_models, not both.")
    if "served_models" in body:
        models = require_list(body["served_models"], "served_models")
        raw_entities = [_served_model_to_entity(m, f"served_models[{i}]") for i, m in enumerate(models)]
    else:
        raw_entities = require_list(body.get("served_entities", []), "served_entities")
    if not raw_entities:
        raise bad_request("At least one served entity is required in 'served_entities'.")
    if len(raw_entities) > MAX_SERVED_ENTITIES:
        raise bad_request(
            f"An endpoint serves at most {MAX_SERVED_ENTITIES} entities, got {len(raw_entities)} in 'served_entities'."
        )
    return raw_entities


def _served_model_to_entity(raw: Any, where: str) -> dict[str, Any]:
    """Map a deprecated `served_models[]` item onto the served entity input shape."""
    model = require_object(raw, where)
    reject_unexpected_fields(model, SERVED_MODEL_INPUT_FIELDS, f"'{where}'")
    for field in ("model_name", "model_version", "scale_to_zero_enabled"):
        if field not in model:
            raise bad_request(f"Field '{where}.{field}' is required in served_models.")
    entity = {k: v for k, v in model.items() if k not in ("model_name", "model_version")}
    entity["entity_name"] = model["model_name"]
    entity["entity_version"] = model["model_version"]
    return entity


def _check_entity_set(entities: list[dict[str, Any]]) -> None:
    names = [e["name"] for e in entities]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise bad_request(
            f"Served entity names must be unique within the endpoint, duplicated: {duplicates}. "
            "Give each entity an explicit 'name'."
        )
    kinds = {entity_kind(e) for e in entities}
    if "external" in kinds and len(kinds) > 1:
        raise bad_request(
            "External model entities cannot be mixed with custom or Foundation Model entities in one endpoint."
        )
    if kinds == {"foundation", "custom"}:
        raise bad_request("Foundation Model (system.ai) entities cannot be mixed with custom model entities.")
    tasks = sorted({e["external_model"]["task"] for e in entities if "external_model" in e})
    if len(tasks) > 1:
        raise bad_request(f"All external models of an endpoint must share one task, got {tasks}.")


def _auto_capture(raw: Any, endpoint_name: str) -> dict[str, Any] | None:
    if raw is None:
        return None
    where = "auto_capture_config"
    config = dict(require_object(raw, where))
    reject_unexpected_fields(config, ("catalog_name", "schema_name", "table_name_prefix", "enabled"), f"'{where}'")
    enabled = coerce_bool(config.get("enabled", True), f"{where}.enabled")
    config["enabled"] = enabled
    if enabled:
        require_string(config.get("catalog_name"), f"{where}.catalog_name")
        require_string(config.get("schema_name"), f"{where}.schema_name")
    prefix = require_string(config.setdefault("table_name_prefix", endpoint_name), f"{where}.table_name_prefix")
    status = "READY" if enabled else "DISABLED"
    config["state"] = {"payload_table": {"name": f"{prefix}_payload", "status": status}}
    return config


def endpoint_kind(config: ConfigVersion) -> str:
    """Return the endpoint_type of an endpoint serving `config`."""
    kinds = {entity_kind(e) for e in config.served_entities}
    for kind in ("external", "foundation"):
        if kind in kinds:
            return ENDPOINT_TYPES[kind]
    return ENDPOINT_TYPES["custom"]


def check_conversion(endpoint: Endpoint, config: ConfigVersion) -> None:
    """Reject an update that turns an external model endpoint into another kind, or the reverse."""
    current = endpoint.config or (endpoint.pending.config if endpoint.pending else None)
    if current is None:
        return
    was_external = endpoint_kind(current) == "EXTERNAL_MODEL"
    is_external = endpoint_kind(config) == "EXTERNAL_MODEL"
    if was_external != is_external:
        raise bad_request(
            f"Endpoint '{endpoint.name}' cannot be converted between external model and non-external model "
            "serving. Create a new endpoint instead."
        )


def derive_task(workspace: Workspace, config: ConfigVersion) -> str | None:
    """Return the endpoint task: the external models' task, else the first registered version's task."""
    for entity in config.served_entities:
        if "external_model" in entity:
            task: str = entity["external_model"]["task"]
            return task
    for entity in config.served_entities:
        model = workspace.models.get(str(entity.get("entity_name")))
        number = parse_decimal(str(entity.get("entity_version", "")))
        if model is not None and number is not None and number in model.versions:
            model_task = model.versions[number].task
            if model_task:
                return model_task
    return None


def next_config_version(endpoint: Endpoint) -> int:
    current = endpoint.config.version if endpoint.config else 0
    pending = endpoint.pending.config.version if endpoint.pending else 0
    return max(current, pending) + 1


def require_not_updating(endpoint: Endpoint, setting: str) -> None:
    """Raise 409 RESOURCE_CONFLICT while a config update of `endpoint` is in progress."""
    if endpoint.config_update == "IN_PROGRESS":
        raise conflict(
            f"Endpoint '{endpoint.name}' is currently updating. Wait for the update to complete before "
            f"updating its {setting}."
        )


def start_update(workspace: Workspace, endpoint: Endpoint, config: ConfigVersion) -> None:
    """Make `config` the pending config, which deploys after `behaviour.deploy_seconds` of virtual time."""
    now = workspace.clock.now_ms()
    behaviour = endpoint.behaviour
    _keep_unchanged_entity_origin(endpoint.config, config)
    config.entity_states = {
        entity["name"]: EntityState("DEPLOYMENT_CREATING", CREATING_MESSAGE) for entity in config.served_entities
    }
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
    endpoint.endpoint_type = endpoint_kind(config)
    endpoint.task = derive_task(workspace, config) or endpoint.task
    workspace.settle(endpoint)


def _keep_unchanged_entity_origin(current: ConfigVersion | None, new: ConfigVersion) -> None:
    """Entities carried over unchanged keep the creator and creation time of their first deployment."""
    if current is None:
        return
    ignored = ("creator", "creation_timestamp")
    for entity in new.served_entities:
        for old in current.served_entities:
            same = {k: v for k, v in entity.items() if k not in ignored} == {
                k: v for k, v in old.items() if k not in ignored
            }
            if same:
                entity["creator"] = old["creator"]
                entity["creation_timestamp"] = old["creation_timestamp"]
