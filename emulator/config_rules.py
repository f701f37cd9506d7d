"""Field-level checks the serving API applies to request bodies: names, types, routes, unknown fields.

Input follows the proto3 JSON mapping, so integers and booleans given as strings ("90", "false")
are accepted and converted. Output always uses real JSON numbers and booleans.
"""

import re
from collections.abc import Iterable, Mapping
from typing import Any

from emulator.errors import bad_request

NAME_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,63}$")
ENTITY_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_-]+$")
SYSTEM_PREFIX = "databricks-"
# Range of proto3 int64 fields, which the JSON mapping also accepts as decimal strings.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
DECIMAL_PATTERN = re.compile(r"-?[0-9]{1,19}")

# Output-only fields of endpoints, configs and served entities; a request that echoes one back is rejected.
READ_ONLY_FIELDS = (
    "id",
    "state",
    "creator",
    "creation_timestamp",
    "last_updated_timestamp",
    "permission_level",
    "pending_config",
    "endpoint_type",
    "config_version",
    "start_time",
    "foundation_model",
)
# Top-level fields that belong to a separate API, with the call that sets each.
SEPARATE_API_FIELDS = {
    "tags": "PATCH /api/2.0/serving-endpoints/{name}/tags",
    "ai_gateway": "PUT /api/2.0/serving-endpoints/{name}/ai-gateway",
    "rate_limits": "PUT /api/2.0/serving-endpoints/{name}/ai-gateway (rate_limits)",
    "email_notifications": "PATCH /api/2.0/serving-endpoints/{name}/notifications",
    "telemetry_config": "PATCH /api/2.0/serving-endpoints/{name}/telemetry-config",
}


def validate_endpoint_name(name: Any, *, system: bool = False) -> str:
    if not isinstance(name, str) or not name:
        raise bad_request("Field 'name' is required: give the endpoint a name of 1-63 letters, digits, '-' or '_'.")
    if not NAME_PATTERN.match(name):
        raise bad_request(f"Invalid endpoint name '{name}': use 1-63 characters from letters, digits, '-' and '_'.")
    if name.startswith(SYSTEM_PREFIX) and not system:
        raise bad_request(
            f"Invalid endpoint name '{name}': the prefix '{SYSTEM_PREFIX}' is reserved for endpoints that "
            "Databricks manages. Choose a name without it."
        )
    return name


def reject_unexpected_fields(body: Mapping[str, Any], allowed: Iterable[str], where: str) -> None:
    """Reject read-only and unknown keys of `body`, naming them and the accepted fields."""
    allowed_set = set(allowed)
    read_only = sorted(k for k in body if k in READ_ONLY_FIELDS and k not in allowed_set)
    if read_only:
        raise bad_request(
            f"Field(s) {read_only} in {where} are read-only: the server sets them. "
            "Remove them from the request and send input fields only."
        )
    unknown = sorted(set(body) - allowed_set)
    if not unknown:
        return
    hints = [f"set '{k}' with {SEPARATE_API_FIELDS[k]}" for k in unknown if k in SEPARATE_API_FIELDS]
    message = f"Unknown field(s) {unknown} in {where}. Accepted fields: {sorted(allowed_set)}."
    if hints:
        message += " " + "; ".join(hints) + "."
    raise bad_request(message)


def require_object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise bad_request(f"'{where}' must be a JSON object, got {type(value).__name__}.")
    return value


def require_list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise bad_request(f"'{where}' must be a JSON array, got {type(value).__name__}.")
    return value


def require_string(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise bad_request(f"'{where}' must be a non-empty string, got {value!r}.")
    return value


def parse_decimal(text: str) -> int | None:
    """Return the 64-bit integer that `text` spells in ASCII decimal digits, or None.

    The length check comes first, so int() never receives a string past its 4300-digit limit.
    """
    stripped = text.strip()
    if not DECIMAL_PATTERN.fullmatch(stripped):
        return None
    value = int(stripped)
    return value if INT64_MIN <= value <= INT64_MAX else None


def short_repr(value: Any, limit: int = 80) -> str:
    """Return repr(value), cut to `limit` characters, for error messages about huge values."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def coerce_int(value: Any, field: str) -> int:
    """Return `value` as a 64-bit int, accepting proto3-JSON integers given as strings."""
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value if INT64_MIN <= value <= INT64_MAX else None
    elif isinstance(value, str):
        number = parse_decimal(value)
    if number is None:
        raise bad_request(f"Field '{field}' must be a 64-bit integer, got {short_repr(value)}.")
    return number


def coerce_bool(value: Any, field: str) -> bool:
    """Return `value` as a bool, accepting the strings "true" and "false" in any case."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise bad_request(f"Field '{field}' must be a boolean (true or false), got {value!r}.")


def coerce_fraction(value: Any, field: str) -> float:
    """Return `value` as a float between 0.0 and 1.0, accepting numeric strings."""
    try:
        number = float(value) if not isinstance(value, bool) else None
    except (TypeError, ValueError):
        number = None
    if number is None or not 0.0 <= number <= 1.0:
        raise bad_request(f"Field '{field}' must be a number between 0.0 and 1.0, got {value!r}.")
    return number


def default_entity_name(entity: Mapping[str, Any]) -> str:
    """Derive a served entity name the way the API does when the caller gives none.

    External models use the upstream model name with '.' and ':' replaced by '-'; registry and
    Unity Catalog models use the last component of the model name, '-', and the version.
    """
    external = entity.get("external_model")
    if isinstance(external, dict):
        return str(external.get("name", "")).replace(".", "-").replace(":", "-")
    model = str(entity.get("entity_name", "")).split(".")[-1]
    version = entity.get("entity_version")
    return f"{model}-{version}" if version not in (None, "") else model


def normalise_routes(raw_traffic: Any, entity_names: list[str]) -> list[dict[str, Any]]:
    """Validate `traffic_config.routes`; default to one 100 % route when there is one entity."""
    if raw_traffic is None:
        if len(entity_names) == 1:
            return [_route(entity_names[0], 100)]
        raise bad_request(
            f"Field 'traffic_config' is required when the config serves more than one entity ({entity_names}): "
            "give one route per served entity with traffic percentages that sum to 100."
        )

    traffic = require_object(raw_traffic, "traffic_config")
    reject_unexpected_fields(traffic, ("routes",), "'traffic_config'")
    raw_routes = require_list(traffic.get("routes"), "traffic_config.routes")
    if not raw_routes:
        raise bad_request(
            "Field 'traffic_config.routes' is empty: give one route per served entity with traffic percentages "
            "that sum to 100."
        )
    routes: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_routes):
        where = f"traffic_config.routes[{index}]"
        route = require_object(raw, where)
        reject_unexpected_fields(route, ("served_entity_name", "served_model_name", "traffic_percentage"), f"'{where}'")
        target = _route_target(route, where, entity_names)
        if target in seen:
            raise bad_request(f"'{where}' routes to '{target}' a second time; give each served entity one route.")
        seen.add(target)
        if "traffic_percentage" not in route:
            raise bad_request(f"Field '{where}.traffic_percentage' is required (an integer from 0 to 100).")
        percentage = coerce_int(route["traffic_percentage"], f"{where}.traffic_percentage")
        if not 0 <= percentage <= 100:
            raise bad_request(f"Field '{where}.traffic_percentage' must be between 0 and 100, got {percentage}.")
        routes.append(_route(target, percentage))

    total = sum(r["traffic_percentage"] for r in routes)
    if total != 100:
        shares = ", ".join(f"{r['served_entity_name']}={r['traffic_percentage']}" for r in routes)
        raise bad_request(f"Traffic percentages must sum to 100, got {total} ({shares}).")
    return routes


def _route_target(route: dict[str, Any], where: str, entity_names: list[str]) -> str:
    entity_name = route.get("served_entity_name")
    model_name = route.get("served_model_name")
    if entity_name and model_name and entity_name != model_name:
        raise bad_request(
            f"'{where}' names two different targets: served_entity_name '{entity_name}' and served_model_name "
            f"'{model_name}'. Give one of them."
        )
    target = entity_name or model_name
    if not target:
        raise bad_request(f"'{where}' needs 'served_entity_name' (or the older 'served_model_name').")
    if target not in entity_names:
        raise bad_request(
            f"'{where}' routes traffic to '{target}', which is not a served entity of this config. "
            f"Served entities: {entity_names}."
        )
    return str(target)


def _route(name: str, percentage: int) -> dict[str, Any]:
    return {"served_model_name": name, "served_entity_name": name, "traffic_percentage": percentage}
