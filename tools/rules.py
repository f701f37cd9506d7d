"""Local checks of endpoint config input, applied before any request is sent.

Each public function returns its input in the exact shape the REST API takes, or raises
`InvalidArgument` naming the field, the value and the fix. The functions accept what MCP
clients send in practice: JSON text in place of an object or array, numbers given as
strings ("90"), booleans given as "true"/"false", and the older `model_name` /
`model_version` / `served_model_name` field names. None of them does I/O.
"""

import json
import re
from collections.abc import Mapping
from typing import Any

from tools.errors import InvalidArgument

ENDPOINT_NAME_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,63}")
SERVED_ENTITY_NAME_PATTERN = re.compile(r"[A-Za-z0-9_-]+")
RESERVED_PREFIX = "databricks-"
# NOTE: unconfirmed limit. The databricks-sdk docstring gives 10, and SDK users report that the service accepts 15.
MAX_SERVED_ENTITIES = 15

WORKLOAD_TYPES = (
    "CPU",
    "CPU_MEDIUM",
    "CPU_LARGE",
    "GPU_SMALL",
    "GPU_MEDIUM",
    "GPU_LARGE",
    "GPU_XLARGE",
    "GPU_XLARGE_8",
    "MULTIGPU_MEDIUM",
)
GPU_WORKLOAD_TYPES = frozenset(t for t in WORKLOAD_TYPES if "GPU" in t)

# External model provider -> the one config object that provider takes (databricks-sdk 0.167 enums).
EXTERNAL_PROVIDER_CONFIGS = {
    "ai21labs": "ai21labs_config",
    "amazon-bedrock": "amazon_bedrock_config",
    "anthropic": "anthropic_config",
    "cohere": "cohere_config",
    "custom": "custom_provider_config",
    "databricks-model-serving": "databricks_model_serving_config",
    "google-cloud-vertex-ai": "google_cloud_vertex_ai_config",
    "openai": "openai_config",
    "palm": "palm_config",
}

INTEGER_ENTITY_FIELDS = (
    "min_provisioned_concurrency",
    "max_provisioned_concurrency",
    "min_provisioned_throughput",
    "max_provisioned_throughput",
    "provisioned_model_units",
)
BOOLEAN_ENTITY_FIELDS = ("scale_to_zero_enabled", "burst_scaling_enabled")
ENTITY_FIELDS = frozenset(
    {
        "name",
        "entity_name",
        "entity_version",
        "external_model",
        "workload_size",
        "workload_type",
        "environment_vars",
        "instance_profile_arn",
        *INTEGER_ENTITY_FIELDS,
        *BOOLEAN_ENTITY_FIELDS,
    }
)
# Older `served_models` field names -> their `served_entities` names.
LEGACY_ENTITY_FIELDS = {"model_name": "entity_name", "model_version": "entity_version"}
EXTERNAL_ENTITY_FIELDS = frozenset({"name", "external_model"})
ROUTE_FIELDS = frozenset({"served_entity_name", "served_model_name", "traffic_percentage"})
AI_GATEWAY_FIELDS = frozenset(
    {"usage_tracking_config", "inference_table_config", "rate_limits", "guardrails", "fallback_config"}
)
RATE_LIMIT_KEYS = ("endpoint", "user", "user_group", "service_principal")


# Argument coercion -------------------------------------------------------------------------


def parse_json_text(value: Any, field: str) -> Any:
    """Decode `value` when it is JSON text; return any other value unchanged."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if not text.startswith(("{", "[")):
        return value
    try:
        return json.loads(text)
    except ValueError as exc:
        raise InvalidArgument(field, value, f"is not valid JSON ({exc})", "Pass a JSON object or array.") from exc
    except RecursionError as exc:
        raise InvalidArgument(field, value, "is nested too deeply to decode", "Pass a flatter JSON value.") from exc


def as_object(value: Any, field: str) -> dict[str, Any]:
    decoded = parse_json_text(value, field)
    if not isinstance(decoded, dict):
        raise InvalidArgument(field, value, f"must be an object, got {type(decoded).__name__}", "Pass a JSON object.")
    return decoded


def as_list(value: Any, field: str) -> list[Any]:
    decoded = parse_json_text(value, field)
    if not isinstance(decoded, list):
        raise InvalidArgument(field, value, f"must be an array, got {type(decoded).__name__}", "Pass a JSON array.")
    return decoded


def coerce_int(value: Any, field: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return `value` as an int, accepting integral floats and numeric strings ("90")."""
    number: int | None = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        number = int(value)
    if number is None:
        raise InvalidArgument(field, value, "must be an integer", "Pass a whole number such as 100.")
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        bounds = f"from {minimum} to {maximum}" if maximum is not None else f"of at least {minimum}"
        raise InvalidArgument(field, value, "is out of range", f"Pass an integer {bounds}.")
    return number


def coerce_bool(value: Any, field: str) -> bool:
    """Return `value` as a bool, accepting the strings "true" and "false" in any case."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise InvalidArgument(field, value, "must be a boolean", "Pass true or false.")


# Endpoint and served entities ----------------------------------------------------------------


def validate_endpoint_name(name: Any) -> str:
    """Check a name for a new endpoint: 1-63 letters, digits, '-' or '_', not `databricks-...`."""
    if not isinstance(name, str) or not ENDPOINT_NAME_PATTERN.fullmatch(name):
        raise InvalidArgument(
            "name", name, "is not a valid endpoint name", "Use 1-63 characters from letters, digits, '-' and '_'."
        )
    if name.startswith(RESERVED_PREFIX):
        raise InvalidArgument(
            "name",
            name,
            f"starts with the prefix {RESERVED_PREFIX!r}, which Databricks reserves for its own endpoints",
            "Choose a name without that prefix.",
        )
    return name


def check_endpoint_name(name: str, field: str = "name") -> str:
    """Check the name of an existing endpoint before it goes into a REST path.

    Outside the name alphabet a name cannot exist, and `.` or `..` would turn into dot
    segments that move the request to another path.
    """
    if not ENDPOINT_NAME_PATTERN.fullmatch(name):
        raise InvalidArgument(
            field,
            name,
            "is not a serving endpoint name",
            "Endpoint names are 1-63 letters, digits, '-' and '_'; list_endpoints shows the exact names.",
        )
    return name


def derive_entity_name(entity: Mapping[str, Any]) -> str:
    """Return the served entity name the API uses: the given `name`, else one derived from the model.

    An external model gets its upstream model name with '.' and ':' replaced by '-'. A registered
    model gets the last component of its name, '-', and the version: `main.default.turbine_failure`
    version 3 becomes `turbine_failure-3`.
    """
    if entity.get("name"):
        return str(entity["name"])
    external = entity.get("external_model")
    if isinstance(external, Mapping):
        return str(external.get("name", "")).replace(".", "-").replace(":", "-")
    model = str(entity.get("entity_name", "")).split(".")[-1]
    version = entity.get("entity_version")
    return f"{model}-{version}" if version not in (None, "") else model


def normalise_served_entities(raw: Any, field: str = "served_entities") -> list[dict[str, Any]]:
    """Check the served entity list of a create or update-config request and return its wire form."""
    items = as_list(raw, field)
    if not items:
        raise InvalidArgument(field, raw, "is empty", "Give at least one served entity.")
    if len(items) > MAX_SERVED_ENTITIES:
        raise InvalidArgument(
            field, f"{len(items)} entities", f"has more than {MAX_SERVED_ENTITIES} entities", "Split the endpoint."
        )
    entities = [normalise_served_entity(item, f"{field}[{i}]") for i, item in enumerate(items)]
    _check_unique_names(entities, field)
    _check_entity_kinds(entities, field)
    return entities


def normalise_served_entity(raw: Any, field: str) -> dict[str, Any]:
    """Check one served entity and return it in the shape the API takes.

    External model entities are sent with `name` and `external_model` only, because the API
    rejects compute fields on them. Registered model entities always carry
    `scale_to_zero_enabled`, because the API rejects an update whose entity lacks it. The
    default is true, or false for provisioned throughput, and an explicit false is kept.
    """
    entity = _rename_legacy_fields(as_object(raw, field), field)
    unknown = sorted(set(entity) - ENTITY_FIELDS)
    if unknown:
        raise InvalidArgument(
            field, unknown, "contains unknown fields", f"Use only these fields: {', '.join(sorted(ENTITY_FIELDS))}."
        )
    if "name" in entity:
        _check_entity_name(entity["name"], f"{field}.name")
    if "external_model" in entity:
        return _external_entity(entity, field)
    return _model_entity(entity, field)


def _rename_legacy_fields(entity: dict[str, Any], field: str) -> dict[str, Any]:
    renamed = dict(entity)
    for legacy, current in LEGACY_ENTITY_FIELDS.items():
        if legacy not in renamed:
            continue
        value = renamed.pop(legacy)
        if current in renamed and str(renamed[current]) != str(value):
            raise InvalidArgument(
                f"{field}.{legacy}",
                value,
                f"conflicts with {current}={renamed[current]!r}",
                f"Give only {current}; {legacy} is its older name.",
            )
        renamed.setdefault(current, value)
    return renamed


def _check_entity_name(name: Any, field: str) -> None:
    if not isinstance(name, str) or not SERVED_ENTITY_NAME_PATTERN.fullmatch(name):
        raise InvalidArgument(
            field, name, "is not a valid served entity name", "Use letters, digits, '-' and '_', or omit it."
        )


def _external_entity(entity: dict[str, Any], field: str) -> dict[str, Any]:
    extra = sorted(set(entity) - EXTERNAL_ENTITY_FIELDS)
    if extra:
        raise InvalidArgument(
            field,
            extra,
            "sets fields that an external_model entity does not take",
            "Remove them: an external model entity has only 'name' and 'external_model'; "
            "the provider runs the compute.",
        )

    external = as_object(entity["external_model"], f"{field}.external_model")
    where = f"{field}.external_model"
    for required in ("provider", "name", "task"):
        if not isinstance(external.get(required), str) or not external[required]:
            raise InvalidArgument(
                f"{where}.{required}", external.get(required), "is missing", f"Set {required} to a non-empty string."
            )

    provider = external["provider"]
    config_key = EXTERNAL_PROVIDER_CONFIGS.get(provider)
    if config_key is None:
        raise InvalidArgument(
            f"{where}.provider", provider, "is not a known provider", f"Use one of {sorted(EXTERNAL_PROVIDER_CONFIGS)}."
        )
    other_configs = sorted(k for k in external if k.endswith("_config") and k != config_key)
    if other_configs:
        raise InvalidArgument(
            where, other_configs, "has config objects of other providers", f"Provider {provider!r} takes {config_key}."
        )
    if config_key not in external:
        raise InvalidArgument(
            f"{where}.{config_key}",
            None,
            "is missing",
            f"Give {config_key} with the credentials, preferably as a secret reference {{{{secrets/<scope>/<key>}}}}.",
        )
    external[config_key] = as_object(external[config_key], f"{where}.{config_key}")

    result: dict[str, Any] = {"external_model": external}
    if "name" in entity:
        result = {"name": entity["name"], **result}
    return result


def _model_entity(entity: dict[str, Any], field: str) -> dict[str, Any]:
    result = dict(entity)
    result["entity_name"] = _check_model_name(entity.get("entity_name"), f"{field}.entity_name")
    result["entity_version"] = _check_version(entity.get("entity_version"), f"{field}.entity_version")
    for key in INTEGER_ENTITY_FIELDS:
        if key in result:
            result[key] = coerce_int(result[key], f"{field}.{key}", minimum=0)
    for key in BOOLEAN_ENTITY_FIELDS:
        if key in result:
            result[key] = coerce_bool(result[key], f"{field}.{key}")
    if "workload_type" in result:
        result["workload_type"] = _check_workload_type(result["workload_type"], f"{field}.workload_type")
    if "workload_size" in result and not (isinstance(result["workload_size"], str) and result["workload_size"]):
        raise InvalidArgument(
            f"{field}.workload_size", result["workload_size"], "must be a size name", "Use Small, Medium or Large."
        )
    has_concurrency = "min_provisioned_concurrency" in result or "max_provisioned_concurrency" in result
    if "workload_size" in result and has_concurrency:
        raise InvalidArgument(
            f"{field}.workload_size",
            result["workload_size"],
            "is set together with min/max_provisioned_concurrency",
            "Give either workload_size or the concurrency range, not both.",
        )
    if "environment_vars" in result:
        result["environment_vars"] = _check_environment(result["environment_vars"], f"{field}.environment_vars")
    result.setdefault("scale_to_zero_enabled", not is_provisioned_throughput(result))
    return result


def _check_model_name(name: Any, field: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidArgument(
            field, name, "is missing", "Give the Unity Catalog model as catalog.schema.model, or set external_model."
        )
    parts = name.strip().split(".")
    # One component is a legacy workspace-registry model; Unity Catalog names have three.
    if len(parts) not in (1, 3) or not all(parts):
        raise InvalidArgument(
            field, name, "is not a three-level Unity Catalog name", "Use catalog.schema.model, e.g. main.default.model."
        )
    return name.strip()


def _check_version(version: Any, field: str) -> str:
    # NOTE: Feature Spec entities have no version; this check rejects them.
    if isinstance(version, int) and not isinstance(version, bool) and version > 0:
        return str(version)
    if isinstance(version, str) and re.fullmatch(r"\s*[1-9]\d*\s*", version):
        return version.strip()
    raise InvalidArgument(
        field,
        version,
        "must be a model version number",
        'Give the registered version as a string such as "3"; aliases like @prod are resolved with '
        "the Unity Catalog alias API, not by the endpoint.",
    )


def _check_workload_type(value: Any, field: str) -> str:
    text = value.strip().upper() if isinstance(value, str) else value
    if text not in WORKLOAD_TYPES:
        raise InvalidArgument(field, value, "is not a workload type", f"Use one of {', '.join(WORKLOAD_TYPES)}.")
    return str(text)


def _check_environment(value: Any, field: str) -> dict[str, str]:
    variables = as_object(value, field)
    for key, item in variables.items():
        if not isinstance(item, str | int | float) or isinstance(item, bool):
            raise InvalidArgument(
                f"{field}.{key}", item, "must be a string", "Give a string or a {{secrets/<scope>/<key>}} reference."
            )
    return {str(k): str(v) for k, v in variables.items()}


def is_provisioned_throughput(entity: Mapping[str, Any]) -> bool:
    """Tell whether a served entity reserves provisioned throughput (model units or tokens/s)."""
    return bool(entity.get("provisioned_model_units")) or bool(entity.get("max_provisioned_throughput"))


def _check_unique_names(entities: list[dict[str, Any]], field: str) -> None:
    names = [derive_entity_name(e) for e in entities]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise InvalidArgument(
            field,
            duplicates,
            "gives two served entities the same name",
            "Give each entity a distinct 'name' (names default to <model>-<version>).",
        )


def _check_entity_kinds(entities: list[dict[str, Any]], field: str) -> None:
    """Reject mixes the API rejects: external with registered models, and external models of two tasks."""
    external = [e for e in entities if "external_model" in e]
    if external and len(external) != len(entities):
        raise InvalidArgument(
            field,
            [derive_entity_name(e) for e in entities],
            "mixes external models with registered models",
            "Serve them from separate endpoints.",
        )
    tasks = sorted({str(e["external_model"]["task"]) for e in external})
    if len(tasks) > 1:
        raise InvalidArgument(field, tasks, "mixes external models of different tasks", "Serve one task per endpoint.")
    foundation = [e for e in entities if str(e.get("entity_name", "")).startswith("system.ai.")]
    if foundation and len(foundation) != len(entities):
        raise InvalidArgument(
            field,
            [derive_entity_name(e) for e in entities],
            "mixes system.ai Foundation Models with custom models",
            "Serve them from separate endpoints.",
        )


def filled_in_notes(raw: Any, entities: list[dict[str, Any]], field: str = "served_entities") -> list[str]:
    """Describe each default that `normalise_served_entities` filled in and each field it renamed or converted.

    `raw` is the argument as the caller gave it, and `entities` is what normalise_served_entities returned for it.
    """
    notes: list[str] = []
    items = as_list(raw, field)
    for i, (item, entity) in enumerate(zip(items, entities, strict=True)):
        original = as_object(item, f"{field}[{i}]")
        where = f"{field}[{i}] ({derive_entity_name(entity)})"
        for legacy, current in LEGACY_ENTITY_FIELDS.items():
            if legacy in original:
                notes.append(f"{where}: {legacy} was sent as {current}, its served_entities name.")
        version = original.get("entity_version", original.get("model_version"))
        if "entity_version" in entity and not isinstance(version, str):
            notes.append(f"{where}: entity_version {version!r} was sent as the string {entity['entity_version']!r}.")
        if "scale_to_zero_enabled" in entity and "scale_to_zero_enabled" not in original:
            value = str(entity["scale_to_zero_enabled"]).lower()
            notes.append(
                f"{where}: scale_to_zero_enabled was not given, so the default {value} was sent "
                "(config updates are rejected without it)."
            )
    return notes


# Traffic ---------------------------------------------------------------------------------------


def normalise_routes(
    raw: Any, entities: list[dict[str, Any]], field: str = "traffic_routes"
) -> list[dict[str, Any]] | None:
    """Check traffic routes against the served entities and return the `traffic_config.routes` list.

    A route names its target by `served_entity_name` or the older `served_model_name`. The target
    must be an entity's name, given or derived. No routes for a single entity returns None,
    because the API then routes 100 % to that entity itself.
    """
    names = [derive_entity_name(e) for e in entities]
    if raw is None:
        if len(names) == 1:
            return None
        raise InvalidArgument(
            field,
            None,
            f"is required when the endpoint serves {len(names)} entities",
            f"Give one route per entity with percentages that sum to 100, entities: {names}.",
        )
    decoded = parse_json_text(raw, field)
    if isinstance(decoded, dict) and "routes" in decoded:
        decoded = decoded["routes"]
    items = as_list(decoded, field)
    routes = [_normalise_route(item, f"{field}[{i}]", entities, names) for i, item in enumerate(items)]
    targets = [r["served_entity_name"] for r in routes]
    repeated = sorted({t for t in targets if targets.count(t) > 1})
    if repeated:
        raise InvalidArgument(field, repeated, "routes to an entity twice", "Give each served entity one route.")
    missing = [n for n in names if n not in targets]
    if missing:
        raise InvalidArgument(
            field,
            missing,
            "has no route for these served entities",
            "Add a route for each, with traffic_percentage 0 for an entity that gets no traffic.",
        )
    total = sum(r["traffic_percentage"] for r in routes)
    if total != 100:
        shares = ", ".join(f"{r['served_entity_name']}={r['traffic_percentage']}" for r in routes)
        raise InvalidArgument(field, shares, f"sums to {total}", "Make the traffic percentages sum to 100.")
    return routes


def _normalise_route(raw: Any, field: str, entities: list[dict[str, Any]], names: list[str]) -> dict[str, Any]:
    route = as_object(raw, field)
    unknown = sorted(set(route) - ROUTE_FIELDS)
    if unknown:
        raise InvalidArgument(
            field, unknown, "contains unknown fields", "Use served_entity_name and traffic_percentage."
        )
    entity_name = route.get("served_entity_name")
    model_name = route.get("served_model_name")
    if entity_name and model_name and entity_name != model_name:
        raise InvalidArgument(
            field,
            route,
            "names two different targets",
            "Give served_entity_name only (served_model_name is its older name).",
        )
    target = entity_name or model_name
    if not target:
        raise InvalidArgument(f"{field}.served_entity_name", None, "is missing", f"Name one of {names}.")
    if target not in names:
        raise InvalidArgument(
            f"{field}.served_entity_name", target, "is not a served entity of this config", _route_fix(target, entities)
        )
    if "traffic_percentage" not in route:
        raise InvalidArgument(f"{field}.traffic_percentage", None, "is missing", "Give an integer from 0 to 100.")
    percentage = coerce_int(route["traffic_percentage"], f"{field}.traffic_percentage", minimum=0, maximum=100)
    return {"served_entity_name": str(target), "traffic_percentage": percentage}


def _route_fix(target: str, entities: list[dict[str, Any]]) -> str:
    names = [derive_entity_name(e) for e in entities]
    for entity, name in zip(entities, names, strict=True):
        model = str(entity.get("entity_name", ""))
        if target in (model, model.split(".")[-1]):
            return f"Routes name the served entity, not the model: use {name!r}."
    return f"Use one of {names} (an unnamed entity is called <last part of the model name>-<version>)."


# Tags and AI Gateway ---------------------------------------------------------------------------


def normalise_tags(raw: Any, field: str = "tags") -> list[dict[str, str]]:
    """Return tags as the API's `[{key, value}]` list, accepting that list or a `{key: value}` object."""
    decoded = parse_json_text(raw, field)
    if isinstance(decoded, dict):
        pairs = [{"key": k, "value": v} for k, v in decoded.items()]
    else:
        pairs = [as_object(item, f"{field}[{i}]") for i, item in enumerate(as_list(decoded, field))]
    tags: list[dict[str, str]] = []
    for i, pair in enumerate(pairs):
        key = pair.get("key")
        if not isinstance(key, str) or not key:
            raise InvalidArgument(f"{field}[{i}].key", key, "is missing", "Give each tag a non-empty key.")
        unknown = sorted(set(pair) - {"key", "value"})
        if unknown:
            raise InvalidArgument(f"{field}[{i}]", unknown, "contains unknown fields", "Give only key and value.")
        tag = {"key": key}
        if pair.get("value") is not None:
            tag["value"] = str(pair["value"])
        tags.append(tag)
    keys = [t["key"] for t in tags]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        raise InvalidArgument(field, repeated, "repeats tag keys", "Give each key once.")
    return tags


def normalise_ai_gateway(raw: Any, field: str = "ai_gateway") -> dict[str, Any]:
    """Check the top level of an AI Gateway config and the shape of its rate limits."""
    gateway = as_object(raw, field)
    unknown = sorted(set(gateway) - AI_GATEWAY_FIELDS)
    if unknown:
        raise InvalidArgument(
            field, unknown, "contains unknown fields", f"Use only {', '.join(sorted(AI_GATEWAY_FIELDS))}."
        )
    result = {key: parse_json_text(value, f"{field}.{key}") for key, value in gateway.items()}
    if "rate_limits" in result:
        items = as_list(result["rate_limits"], f"{field}.rate_limits")
        result["rate_limits"] = [_rate_limit(item, f"{field}.rate_limits[{i}]") for i, item in enumerate(items)]
    return result


def _rate_limit(raw: Any, field: str) -> dict[str, Any]:
    limit = as_object(raw, field)
    for key in ("calls", "tokens"):
        if key in limit:
            limit[key] = coerce_int(limit[key], f"{field}.{key}", minimum=0)
    if "calls" not in limit and "tokens" not in limit:
        raise InvalidArgument(field, limit, "sets neither calls nor tokens", "Give calls and/or tokens per minute.")
    if limit.setdefault("renewal_period", "minute") != "minute":
        raise InvalidArgument(f"{field}.renewal_period", limit["renewal_period"], "is not supported", "Use 'minute'.")
    if "key" in limit and limit["key"] not in RATE_LIMIT_KEYS:
        raise InvalidArgument(f"{field}.key", limit["key"], "is not a rate limit key", f"Use one of {RATE_LIMIT_KEYS}.")
    return limit
