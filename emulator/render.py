"""JSON renderings of workspace objects, in the shapes the REST API returns."""

import copy
from typing import Any

from emulator.external_models import strip_plaintext_secrets
from emulator.state import ConfigVersion, Endpoint, PendingUpdate

# Stored entity fields that GET does not return.
HIDDEN_ENTITY_FIELDS = ("burst_scaling_enabled",)


def public_entity(entity: dict[str, Any]) -> dict[str, Any]:
    """Return a served entity as the API shows it: no plaintext secrets, no write-only fields."""
    out: dict[str, Any] = strip_plaintext_secrets(entity)
    for field in HIDDEN_ENTITY_FIELDS:
        out.pop(field, None)
    return out


def _entity_with_state(entity: dict[str, Any], config: ConfigVersion) -> dict[str, Any]:
    out = public_entity(entity)
    state = config.entity_states.get(entity["name"])
    if state is not None:
        out["state"] = {"deployment": state.deployment, "deployment_state_message": state.message}
    return out


def _served_model_view(entity: dict[str, Any]) -> dict[str, Any]:
    """Build the deprecated `served_models` mirror of a served entity."""
    hidden = ("entity_name", "entity_version", "external_model", "foundation_model")
    out = {k: v for k, v in entity.items() if k not in hidden}
    if "entity_name" in entity:
        out["model_name"] = entity["entity_name"]
    if "entity_version" in entity:
        out["model_version"] = entity["entity_version"]
    return out


def render_config(config: ConfigVersion) -> dict[str, Any]:
    entities = [_entity_with_state(e, config) for e in config.served_entities]
    out: dict[str, Any] = {
        "config_version": config.version,
        "served_entities": entities,
        "served_models": [_served_model_view(e) for e in entities if "external_model" not in e],
        "traffic_config": {"routes": [dict(r) for r in config.routes]},
    }
    if config.auto_capture_config is not None:
        out["auto_capture_config"] = copy.deepcopy(config.auto_capture_config)
    return out


def render_pending(pending: PendingUpdate) -> dict[str, Any]:
    out = render_config(pending.config)
    out["start_time"] = pending.start_ms
    return out


def render_state(endpoint: Endpoint) -> dict[str, Any]:
    return {"ready": endpoint.ready, "config_update": endpoint.config_update, "suspend": "NOT_SUSPENDED"}


def render_tags(endpoint: Endpoint) -> list[dict[str, Any]]:
    return [{"key": k} if v is None else {"key": k, "value": v} for k, v in sorted(endpoint.tags.items())]


def render_endpoint(endpoint: Endpoint, permission_level: str | None = None) -> dict[str, Any]:
    """`ServingEndpointDetailed`: the body of get, create and update responses."""
    out: dict[str, Any] = {
        "name": endpoint.name,
        "creator": endpoint.creator,
        "creation_timestamp": endpoint.creation_timestamp,
        "last_updated_timestamp": endpoint.last_updated_timestamp,
        "description": endpoint.description,
        "state": render_state(endpoint),
        "route_optimized": endpoint.route_optimized,
    }
    if endpoint.id is not None:
        out["id"] = endpoint.id
    if endpoint.config is not None:
        out["config"] = render_config(endpoint.config)
    if endpoint.pending is not None:
        out["pending_config"] = render_pending(endpoint.pending)
    if permission_level is not None:
        out["permission_level"] = permission_level
    if endpoint.tags:
        out["tags"] = render_tags(endpoint)
    detail_keys = (
        "task",
        "endpoint_type",
        "ai_gateway",
        "email_notifications",
        "telemetry_config",
        "budget_policy_id",
        "usage_policy_id",
    )
    for key in detail_keys:
        value = getattr(endpoint, key)
        if value is not None:
            out[key] = copy.deepcopy(value)
    return out


def render_endpoint_summary(endpoint: Endpoint) -> dict[str, Any]:
    """`ServingEndpoint`: one item of the list response."""
    out: dict[str, Any] = {
        "name": endpoint.name,
        "creator": endpoint.creator,
        "creation_timestamp": endpoint.creation_timestamp,
        "last_updated_timestamp": endpoint.last_updated_timestamp,
        "description": endpoint.description,
        "state": render_state(endpoint),
    }
    if endpoint.id is not None:
        out["id"] = endpoint.id
    if endpoint.config is not None:
        summary_keys = ("name", "entity_name", "entity_version", "external_model", "foundation_model")
        entities = [
            {k: v for k, v in public_entity(e).items() if k in summary_keys} for e in endpoint.config.served_entities
        ]
        out["config"] = {
            "served_entities": entities,
            "served_models": [_served_model_view(e) for e in entities if "external_model" not in e],
        }
    if endpoint.tags:
        out["tags"] = render_tags(endpoint)
    for key in ("task", "endpoint_type", "ai_gateway", "budget_policy_id", "usage_policy_id", "telemetry_config"):
        value = getattr(endpoint, key)
        if value is not None:
            out[key] = copy.deepcopy(value)
    return out
