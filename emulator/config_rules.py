"""Validation and normalisation of endpoint config input, as the serving API applies it."""

import re
from typing import Any

from emulator.errors import bad_request

NAME_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,63}$")
ENTITY_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_-]+$")
MAX_SERVED_ENTITIES = 15


def validate_endpoint_name(name: Any, *, system: bool = False) -> str:
    if not isinstance(name, str) or not name:
        raise bad_request("Endpoint name is required.")
    if not NAME_PATTERN.match(name):
        raise bad_request(f"Invalid endpoint name '{name}': use 1-63 characters from letters, digits, '-' and '_'.")
    if name.startswith("databricks-") and not system:
        raise bad_request(f"Invalid endpoint name '{name}': the prefix 'databricks-' is reserved.")
    return name


def default_entity_name(entity: dict[str, Any]) -> str:
    """Derive a served entity name the way the API does when the caller gives none."""
    external = entity.get("external_model")
    if isinstance(external, dict):
        return str(external.get("name", "")).replace(".", "-").replace(":", "-")
    model = str(entity.get("entity_name", "")).split(".")[-1]
    version = entity.get("entity_version")
    return f"{model}-{version}" if version not in (None, "") else model


def coerce_int(value: Any, field: str) -> int:
    """Accept proto3-JSON integers given as strings, as the real API does on input."""
    if isinstance(value, bool):
        raise bad_request(f"Field '{field}' must be an integer, got {value!r}.")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    raise bad_request(f"Field '{field}' must be an integer, got {value!r}.")


def coerce_bool(value: Any, field: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise bad_request(f"Field '{field}' must be a boolean, got {value!r}.")


ENTITY_INPUT_FIELDS = {
    "name",
    "entity_name",
    "entity_version",
    "external_model",
    "workload_size",
    "workload_type",
    "scale_to_zero_enabled",
    "min_provisioned_concurrency",
    "max_provisioned_concurrency",
    "min_provisioned_throughput",
    "max_provisioned_throughput",
    "provisioned_model_units",
    "burst_scaling_enabled",
    "environment_vars",
    "instance_profile_arn",
}
COMPUTE_FIELDS = (
    "workload_size",
    "workload_type",
    "scale_to_zero_enabled",
    "min_provisioned_throughput",
    "max_provisioned_throughput",
)


def normalise_entity(raw: Any, index: int, creator: str, now_ms: int) -> dict[str, Any]:
    """Turn one `served_entities[]` input item into its stored output shape."""
    where = f"served_entities[{index}]"
    if not isinstance(raw, dict):
        raise bad_request(f"'{where}' must be an object.")
    unknown = sorted(set(raw) - ENTITY_INPUT_FIELDS)
    if unknown:
        raise bad_request(f"Unknown field(s) {unknown} in '{where}'.")
    entity: dict[str, Any] = dict(raw)
    if "external_model" in entity:
        present = [f for f in COMPUTE_FIELDS if f in entity]
        if present:
            raise bad_request(
                f"'{where}' has an external_model and compute field(s) {present}; "
                "provisioned compute is not supported for external model endpoints."
            )
    else:
        if not entity.get("entity_name"):
            raise bad_request(f"'{where}.entity_name' is required unless 'external_model' is set.")
        if "entity_version" in entity:
            entity["entity_version"] = str(entity["entity_version"])
        if "scale_to_zero_enabled" in entity:
            entity["scale_to_zero_enabled"] = coerce_bool(
                entity["scale_to_zero_enabled"], f"{where}.scale_to_zero_enabled"
            )
        has_concurrency = "min_provisioned_concurrency" in entity or "max_provisioned_concurrency" in entity
        if "workload_size" in entity and has_concurrency:
            raise bad_request(f"'{where}': workload_size and min/max_provisioned_concurrency are mutually exclusive.")
        if not has_concurrency and "provisioned_model_units" not in entity:
            entity.setdefault("workload_size", "Small")
        entity.setdefault("workload_type", "CPU")
    name = entity.get("name") or default_entity_name(entity)
    if not ENTITY_NAME_PATTERN.match(name):
        raise bad_request(f"Invalid served entity name '{name}' in '{where}': use letters, digits, '-' and '_'.")
    entity["name"] = name
    entity["creator"] = creator
    entity["creation_timestamp"] = now_ms
    return entity


def normalise_routes(raw_traffic: Any, entity_names: list[str]) -> list[dict[str, Any]]:
    """Validate `traffic_config.routes`; default to 100 % when there is one entity."""
    if raw_traffic is None:
        if len(entity_names) == 1:
            name = entity_names[0]
            return [{"served_model_name": name, "served_entity_name": name, "traffic_percentage": 100}]
        if not entity_names:
            return []
        raise bad_request("traffic_config is required when the endpoint serves more than one entity.")
    if not isinstance(raw_traffic, dict) or not isinstance(raw_traffic.get("routes"), list):
        raise bad_request("traffic_config.routes must be a list.")
    routes: list[dict[str, Any]] = []
    total = 0
    seen: set[str] = set()
    for i, raw in enumerate(raw_traffic["routes"]):
        where = f"traffic_config.routes[{i}]"
        if not isinstance(raw, dict):
            raise bad_request(f"'{where}' must be an object.")
        target = raw.get("served_entity_name") or raw.get("served_model_name")
        if not target:
            raise bad_request(f"'{where}' needs served_entity_name or served_model_name.")
        if target not in entity_names:
            raise bad_request(
                f"'{where}' routes traffic to '{target}', which is not a served entity of this config "
                f"(served entities: {entity_names})."
            )
        if target in seen:
            raise bad_request(f"'{where}' routes to '{target}' a second time.")
        seen.add(target)
        percentage = coerce_int(raw.get("traffic_percentage"), f"{where}.traffic_percentage")
        if not 0 <= percentage <= 100:
            raise bad_request(f"'{where}.traffic_percentage' must be between 0 and 100, got {percentage}.")
        total += percentage
        routes.append({"served_model_name": target, "served_entity_name": target, "traffic_percentage": percentage})
    if routes and total != 100:
        raise bad_request(f"Traffic percentages must sum to 100, got {total}.")
    return routes
