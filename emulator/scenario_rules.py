"""Type checks for the items of a scenario document (see emulator.scenario).

Every field is checked before anything is stored, so a wrong type fails the scenario with a
message naming the item and field, instead of failing a later API request with a 500. Endpoint
settings that the REST API also sets (tags, AI Gateway, rate limits, notifications, telemetry)
go through the same rules as the API routes.
"""

import math
from collections.abc import Mapping
from typing import Any

from emulator import settings_rules
from emulator.behaviour_rules import MAX_SECONDS
from emulator.config_rules import parse_decimal, require_object
from emulator.entity_rules import WORKLOAD_TYPES
from emulator.permissions import ENDPOINT_ID_PATTERN

CLOUDS = ("aws", "azure", "gcp")
PRINCIPAL_KINDS = ("user", "service_principal")
ENDPOINT_TYPES = ("CUSTOM_MODEL", "EXTERNAL_MODEL", "FOUNDATION_MODEL_API")
DEPLOYMENT_STATES = (
    "DEPLOYMENT_CREATING",
    "DEPLOYMENT_RECOVERING",
    "DEPLOYMENT_READY",
    "DEPLOYMENT_FAILED",
    "DEPLOYMENT_ABORTED",
)
USAGE_COUNTS = ("request_count", "request_4xx_count", "request_5xx_count")


class ScenarioError(ValueError):
    """A scenario file that cannot be applied. The message names the item."""


def _type_name(value: Any) -> str:
    return type(value).__name__


def items(data: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
    """Return the list `data[key]` (empty when absent or null), checking that every item is a mapping."""
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ScenarioError(f"'{key}' must be a list of mappings, got {_type_name(value)}.")
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            raise ScenarioError(f"'{key}[{index}]' must be a mapping, got {_type_name(item)}.")
    return value


def mapping(value: Any, where: str) -> dict[str, Any]:
    """Return `value` as a mapping. Null counts as an empty one."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ScenarioError(f"'{where}' must be a mapping, got {_type_name(value)}.")
    return value


def _text(item: Mapping[str, Any], key: str, where: str, *, nullable: bool = True) -> None:
    value = item.get(key)
    if value is None and nullable:
        return
    if not isinstance(value, str):
        raise ScenarioError(f"'{where}.{key}' must be a string, got {_type_name(value)}.")


def _choice(item: Mapping[str, Any], key: str, where: str, choices: tuple[str, ...]) -> None:
    value = item.get(key)
    if value is not None and (not isinstance(value, str) or value not in choices):
        raise ScenarioError(f"'{where}.{key}' must be one of {list(choices)}, got {value!r}.")


def _flag(item: Mapping[str, Any], key: str, where: str) -> None:
    value = item.get(key)
    if value is not None and not isinstance(value, bool):
        raise ScenarioError(f"'{where}.{key}' must be true or false, got {value!r}.")


def count(value: Any, where: str, *, minimum: int = 0) -> int:
    """Return `value` as an int64 of at least `minimum`, accepting decimal strings."""
    number = parse_decimal(str(value)) if isinstance(value, int | str) and not isinstance(value, bool) else None
    if number is None or number < minimum:
        raise ScenarioError(f"'{where}' must be an integer >= {minimum}, got {value!r}.")
    return number


def seconds(value: Any, where: str) -> float:
    """Return `value` as a number of seconds from 0 to MAX_SECONDS."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= MAX_SECONDS:
        raise ScenarioError(f"'{where}' must be a number of seconds from 0 to {MAX_SECONDS:g}, got {value!r}.")
    return float(value)


def check_workspace(settings: Mapping[str, Any]) -> None:
    for key in ("host_name", "account_id"):
        _text(settings, key, "workspace")
    workspace_id = settings.get("workspace_id")
    if workspace_id is not None and (isinstance(workspace_id, bool) or not isinstance(workspace_id, str | int)):
        raise ScenarioError(f"'workspace.workspace_id' must be a string or an integer, got {workspace_id!r}.")
    _choice(settings, "cloud", "workspace", CLOUDS)
    types = settings.get("workload_types")
    if types is not None and (not isinstance(types, list) or not all(t in WORKLOAD_TYPES for t in types)):
        raise ScenarioError(f"'workspace.workload_types' must be a list of values from {list(WORKLOAD_TYPES)}.")


def check_principal(item: Mapping[str, Any], where: str) -> None:
    name = item.get("name")
    if name is None:
        raise ScenarioError(f"missing field 'name' in {where}: give the user name or service principal id.")
    if not isinstance(name, str) or not name:
        raise ScenarioError(f"'{where}.name' must be a non-empty string, got {name!r}.")
    _choice(item, "kind", where, PRINCIPAL_KINDS)
    for key in ("display_name", "token", "client_secret"):
        _text(item, key, where)
    groups = item.get("groups")
    if groups is not None and (not isinstance(groups, list) or not all(isinstance(g, str) for g in groups)):
        raise ScenarioError(f"'{where}.groups' must be a list of group names, got {groups!r}.")


def check_model(item: Mapping[str, Any], where: str) -> None:
    name = item.get("name")
    if name is None:
        raise ScenarioError(f"missing field 'name' in {where}: give a three-level name <catalog>.<schema>.<model>.")
    if not isinstance(name, str) or len(name.split(".")) != 3 or not all(name.split(".")):
        raise ScenarioError(f"'{where}.name' must be a three-level name <catalog>.<schema>.<model>, got {name!r}.")
    for key in ("comment", "owner"):
        _text(item, key, where)
    versions = items(item, "versions")
    numbers = set()
    for index, version in enumerate(versions):
        version_where = f"{where}.versions[{index}]"
        numbers.add(count(version.get("version"), f"{version_where}.version", minimum=1))
        for key in ("status", "task"):
            _text(version, key, version_where)
        mapping(version.get("signature"), f"{version_where}.signature")
    for alias, number in mapping(item.get("aliases"), f"{where}.aliases").items():
        if count(number, f"{where}.aliases.{alias}", minimum=1) not in numbers:
            raise ScenarioError(f"'{where}.aliases.{alias}' points to version {number}, which the model does not have.")


def check_endpoint(item: Mapping[str, Any], where: str) -> None:
    """Check the fields of an endpoint item that the scenario stores as they are."""
    for key in ("creator", "description", "budget_policy_id", "usage_policy_id", "task"):
        _text(item, key, where)
    for key in ("system", "route_optimized"):
        _flag(item, key, where)
    _choice(item, "endpoint_type", where, ENDPOINT_TYPES)
    endpoint_id = item.get("id")
    if endpoint_id is not None and (not isinstance(endpoint_id, str) or not ENDPOINT_ID_PATTERN.fullmatch(endpoint_id)):
        raise ScenarioError(f"'{where}.id' must be 32 lowercase hex characters, got {endpoint_id!r}.")
    for key in ("config", "pending", "entity_extra", "behaviour"):
        mapping(item.get(key), f"{where}.{key}")
    for entity_name, extra in mapping(item.get("entity_extra"), f"{where}.entity_extra").items():
        mapping(extra, f"{where}.entity_extra.{entity_name}")
    if item.get("config_version") is not None:
        count(item["config_version"], f"{where}.config_version", minimum=1)
    if item.get("warmup_seconds_left") is not None:
        seconds(item["warmup_seconds_left"], f"{where}.warmup_seconds_left")
    check_entity_states(item.get("entity_states"), f"{where}.entity_states")


def check_entity_states(raw: Any, where: str) -> None:
    for entity_name, value in mapping(raw, where).items():
        state = {"deployment": value} if isinstance(value, str) else mapping(value, f"{where}.{entity_name}")
        _choice(state, "deployment", f"{where}.{entity_name}", DEPLOYMENT_STATES)
        if "deployment" not in state:
            raise ScenarioError(f"'{where}.{entity_name}.deployment' is required: one of {list(DEPLOYMENT_STATES)}.")
        _text(state, "message", f"{where}.{entity_name}")


def endpoint_settings(item: Mapping[str, Any], name: str) -> dict[str, Any]:
    """Validate the settings an endpoint item shares with the REST API and return them in stored form."""
    settings: dict[str, Any] = {"tags": settings_rules.tags_from_list(item.get("tags") or [], "tags")}
    if item.get("ai_gateway") is not None:
        gateway = require_object(item["ai_gateway"], "ai_gateway")
        settings["ai_gateway"] = settings_rules.ai_gateway(gateway, name, None) or None
    if item.get("rate_limits") is not None:
        settings["rate_limits"] = settings_rules.legacy_rate_limits(item["rate_limits"])
    if item.get("email_notifications") is not None:
        raw = item["email_notifications"]
        settings["email_notifications"] = settings_rules.email_notifications(raw, "email_notifications")
    if item.get("telemetry_config") is not None:
        settings["telemetry_config"] = settings_rules.telemetry_config(item["telemetry_config"], "telemetry_config")
    return settings


def usage_spec(spec: Any, where: str) -> tuple[list[int], list[float]]:
    """Return the request, 4xx and 5xx counts and the latencies of one entity's past traffic."""
    usage = mapping(spec, where)
    counts = [count(usage.get(key, 0), f"{where}.{key}") for key in USAGE_COUNTS]
    latencies = usage.get("latencies_ms") or [usage.get("latency_ms", 50.0)]
    valid = isinstance(latencies, list) and all(
        isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) and v >= 0 for v in latencies
    )
    if not valid or ("latencies_ms" in usage and not usage["latencies_ms"]):
        raise ScenarioError(f"'{where}.latencies_ms' must be a non-empty list of milliseconds >= 0, got {latencies!r}.")
    return counts, [float(v) for v in latencies]
