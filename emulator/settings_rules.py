"""Validation of endpoint settings that live outside the served config.

Covers tags, email notifications, telemetry, the AI Gateway and legacy rate limits. Create requests
and the dedicated PATCH/PUT routes share these checks.
"""

import re
import secrets
from typing import Any

from emulator.config_rules import (
    coerce_bool,
    coerce_fraction,
    coerce_int,
    reject_unexpected_fields,
    require_list,
    require_object,
    require_string,
)
from emulator.errors import bad_request

AI_GATEWAY_FIELDS = (
    "usage_tracking_config",
    "inference_table_config",
    "rate_limits",
    "guardrails",
    "fallback_config",
)
RATE_LIMIT_KEYS = ("endpoint", "user", "user_group", "service_principal")
LEGACY_RATE_LIMIT_KEYS = ("endpoint", "user")
PII_BEHAVIORS = ("NONE", "BLOCK", "MASK")
TELEMETRY_FEATURES = (
    "TELEMETRY_FEATURE_INFERENCE_TABLE",
    "TELEMETRY_FEATURE_LOGS",
    "TELEMETRY_FEATURE_METRICS",
    "TELEMETRY_FEATURE_TRACES",
)
TELEMETRY_TABLES = ("logs_table", "metrics_table", "traces_table", "annotations_table")
THREE_LEVEL_NAME = re.compile(r"^[^.\s]+\.[^.\s]+\.[^.\s]+$")
MAX_TAG_KEY_LENGTH = 255
MAX_TAG_VALUE_LENGTH = 1000


def tags_from_list(raw: Any, where: str) -> dict[str, str | None]:
    """Validate an `EndpointTag[]` list and return it as key -> value (None when no value)."""
    tags: dict[str, str | None] = {}
    for index, item in enumerate(require_list(raw, where)):
        item_where = f"{where}[{index}]"
        tag = require_object(item, item_where)
        reject_unexpected_fields(tag, ("key", "value"), f"'{item_where}'")
        key = require_string(tag.get("key"), f"{item_where}.key")
        if len(key) > MAX_TAG_KEY_LENGTH:
            raise bad_request(f"Tag key in '{item_where}.key' is longer than {MAX_TAG_KEY_LENGTH} characters.")
        value = tag.get("value")
        if value is not None and not isinstance(value, str):
            raise bad_request(f"Field '{item_where}.value' must be a string, got {value!r}.")
        if value is not None and len(value) > MAX_TAG_VALUE_LENGTH:
            raise bad_request(f"Tag value in '{item_where}.value' is longer than {MAX_TAG_VALUE_LENGTH} characters.")
        tags[key] = value
    return tags


def email_notifications(raw: Any, where: str) -> dict[str, Any]:
    config = require_object(raw, where)
    reject_unexpected_fields(config, ("on_update_success", "on_update_failure"), f"'{where}'")
    out: dict[str, Any] = {}
    for field, value in config.items():
        addresses = require_list(value, f"{where}.{field}")
        bad = [a for a in addresses if not isinstance(a, str) or "@" not in a]
        if bad:
            raise bad_request(f"Field '{where}.{field}' must list email addresses; invalid: {bad}.")
        out[field] = list(addresses)
    return out


def telemetry_config(raw: Any, where: str) -> dict[str, Any]:
    config = dict(require_object(raw, where))
    allowed = ("enabled_telemetry_features", "inference_table_config", "table_names", "telemetry_profile_id")
    reject_unexpected_fields(config, allowed, f"'{where}'")
    if "enabled_telemetry_features" in config:
        features = require_list(config["enabled_telemetry_features"], f"{where}.enabled_telemetry_features")
        unknown = [f for f in features if f not in TELEMETRY_FEATURES]
        if unknown:
            raise bad_request(
                f"Unknown value(s) {unknown} in '{where}.enabled_telemetry_features'. "
                f"Accepted values: {list(TELEMETRY_FEATURES)}."
            )
    if "table_names" in config:
        tables = require_object(config["table_names"], f"{where}.table_names")
        reject_unexpected_fields(tables, TELEMETRY_TABLES, f"'{where}.table_names'")
        for field, name in tables.items():
            if not isinstance(name, str) or not THREE_LEVEL_NAME.match(name):
                raise bad_request(
                    f"Field '{where}.table_names.{field}' must be a three-level name catalog.schema.table, "
                    f"got {name!r}."
                )
        config.setdefault("telemetry_profile_id", secrets.token_hex(16))
    if "inference_table_config" in config:
        config["inference_table_config"] = _telemetry_inference_table(config, where)
    return config


def _telemetry_inference_table(config: dict[str, Any], where: str) -> dict[str, Any]:
    table_where = f"{where}.inference_table_config"
    table = dict(require_object(config["inference_table_config"], table_where))
    reject_unexpected_fields(table, ("name", "sampling_fraction"), f"'{table_where}'")
    if "sampling_fraction" in table:
        table["sampling_fraction"] = coerce_fraction(table["sampling_fraction"], f"{table_where}.sampling_fraction")
    logs_table = (config.get("table_names") or {}).get("logs_table")
    if "name" not in table and logs_table:
        table["name"] = f"{logs_table}_payload"
    return table


def ai_gateway(raw: dict[str, Any], endpoint_name: str, current: dict[str, Any] | None) -> dict[str, Any]:
    """Validate an AiGatewayConfig and return what to store; an empty result clears the gateway."""
    reject_unexpected_fields(raw, AI_GATEWAY_FIELDS, "the AI Gateway config")
    out: dict[str, Any] = {}
    if raw.get("usage_tracking_config") is not None:
        out["usage_tracking_config"] = _enabled_flag(raw["usage_tracking_config"], "usage_tracking_config")
    if raw.get("fallback_config") is not None:
        fallback = require_object(raw["fallback_config"], "fallback_config")
        if "enabled" not in fallback:
            raise bad_request("Field 'fallback_config.enabled' is required (true or false).")
        out["fallback_config"] = _enabled_flag(fallback, "fallback_config")
    if raw.get("inference_table_config") is not None:
        previous = (current or {}).get("inference_table_config")
        out["inference_table_config"] = _gateway_inference_table(raw["inference_table_config"], endpoint_name, previous)
    if raw.get("rate_limits") is not None:
        items = require_list(raw["rate_limits"], "rate_limits")
        out["rate_limits"] = [_gateway_rate_limit(item, f"rate_limits[{i}]") for i, item in enumerate(items)]
    if raw.get("guardrails") is not None:
        out["guardrails"] = _guardrails(raw["guardrails"])
    return out


def _enabled_flag(raw: Any, where: str) -> dict[str, Any]:
    config = require_object(raw, where)
    reject_unexpected_fields(config, ("enabled",), f"'{where}'")
    return {"enabled": coerce_bool(config.get("enabled", False), f"{where}.enabled")}


def _gateway_inference_table(raw: Any, endpoint_name: str, previous: dict[str, Any] | None) -> dict[str, Any]:
    where = "inference_table_config"
    table = dict(require_object(raw, where))
    reject_unexpected_fields(table, ("catalog_name", "schema_name", "table_name_prefix", "enabled"), f"'{where}'")
    table["enabled"] = coerce_bool(table.get("enabled", False), f"{where}.enabled")
    if table["enabled"]:
        require_string(table.get("catalog_name"), f"{where}.catalog_name")
        require_string(table.get("schema_name"), f"{where}.schema_name")
        require_string(table.setdefault("table_name_prefix", endpoint_name), f"{where}.table_name_prefix")
    if previous and previous.get("enabled") and table["enabled"]:
        names = ("catalog_name", "schema_name", "table_name_prefix")
        changed = [n for n in names if previous.get(n) != table.get(n)]
        if changed:
            raise bad_request(
                f"Cannot change {changed} of an enabled inference table. Disable the inference table first "
                "(enabled: false), then enable it with the new names."
            )
    return table


def _gateway_rate_limit(raw: Any, where: str) -> dict[str, Any]:
    limit = dict(require_object(raw, where))
    reject_unexpected_fields(limit, ("calls", "tokens", "key", "principal", "renewal_period"), f"'{where}'")
    if limit.get("renewal_period") != "minute":
        raise bad_request(f"Field '{where}.renewal_period' must be 'minute', got {limit.get('renewal_period')!r}.")
    if "calls" not in limit and "tokens" not in limit:
        raise bad_request(f"'{where}' needs 'calls' or 'tokens' (a per-minute limit).")
    for field in ("calls", "tokens"):
        if field in limit:
            limit[field] = coerce_int(limit[field], f"{where}.{field}")
            if limit[field] < 0:
                raise bad_request(f"Field '{where}.{field}' must be >= 0, got {limit[field]}.")
    key = limit.setdefault("key", "endpoint")
    if key not in RATE_LIMIT_KEYS:
        raise bad_request(f"Field '{where}.key' must be one of {list(RATE_LIMIT_KEYS)}, got {key!r}.")
    if "principal" in limit:
        if key == "endpoint":
            raise bad_request(f"'{where}.principal' applies only to the keys user, user_group and service_principal.")
        require_string(limit["principal"], f"{where}.principal")
    return limit


def _guardrails(raw: Any) -> dict[str, Any]:
    guardrails = require_object(raw, "guardrails")
    reject_unexpected_fields(guardrails, ("input", "output"), "'guardrails'")
    out: dict[str, Any] = {}
    for side, value in guardrails.items():
        where = f"guardrails.{side}"
        params = dict(require_object(value, where))
        reject_unexpected_fields(params, ("safety", "pii", "invalid_keywords", "valid_topics"), f"'{where}'")
        if "safety" in params:
            params["safety"] = coerce_bool(params["safety"], f"{where}.safety")
        if "pii" in params:
            pii = require_object(params["pii"], f"{where}.pii")
            reject_unexpected_fields(pii, ("behavior",), f"'{where}.pii'")
            if pii.get("behavior") not in PII_BEHAVIORS:
                raise bad_request(
                    f"Field '{where}.pii.behavior' must be one of {list(PII_BEHAVIORS)}, got {pii.get('behavior')!r}."
                )
        for field in ("invalid_keywords", "valid_topics"):
            if field in params:
                words = require_list(params[field], f"{where}.{field}")
                if not all(isinstance(w, str) for w in words):
                    raise bad_request(f"Field '{where}.{field}' must be a list of strings.")
        out[side] = params
    return out


def legacy_rate_limits(raw: Any) -> list[dict[str, Any]]:
    """Validate the deprecated endpoint-level `rate_limits` list."""
    out: list[dict[str, Any]] = []
    for index, item in enumerate(require_list(raw, "rate_limits")):
        where = f"rate_limits[{index}]"
        limit = dict(require_object(item, where))
        reject_unexpected_fields(limit, ("calls", "key", "renewal_period"), f"'{where}'")
        if "calls" not in limit:
            raise bad_request(f"Field '{where}.calls' is required (calls per minute).")
        limit["calls"] = coerce_int(limit["calls"], f"{where}.calls")
        if limit.get("renewal_period") != "minute":
            raise bad_request(f"Field '{where}.renewal_period' must be 'minute', got {limit.get('renewal_period')!r}.")
        key = limit.setdefault("key", "endpoint")
        if key not in LEGACY_RATE_LIMIT_KEYS:
            raise bad_request(f"Field '{where}.key' must be one of {list(LEGACY_RATE_LIMIT_KEYS)}, got {key!r}.")
        out.append(limit)
    return out
