"""Scenario files (JSON or YAML) that build a workspace: principals, models, endpoints.

The seeded default workspace is itself the scenario `scenarios/default.yaml`.
"""

import json
from pathlib import Path
from typing import Any

import yaml

from emulator.clock import Clock
from emulator.config_rules import validate_endpoint_name
from emulator.endpoints import build_config
from emulator.state import (
    SANDBOX_USER,
    Endpoint,
    EndpointBehaviour,
    EntityState,
    ModelVersion,
    Principal,
    RegisteredModel,
    Workspace,
    new_endpoint_id,
)

DEFAULT_SCENARIO = Path(__file__).with_name("scenarios") / "default.yaml"


class ScenarioError(ValueError):
    """A scenario file that cannot be applied; the message names the item."""


def read_scenario(path: str | Path) -> dict[str, Any]:
    text = Path(path).read_text(encoding="utf-8")
    data = json.loads(text) if str(path).endswith(".json") else yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ScenarioError(f"Scenario {str(path)!r} must contain a mapping at the top level.")
    return data


def apply_scenario(workspace: Workspace, data: dict[str, Any]) -> Workspace:
    """Add the principals, models and endpoints of `data` to `workspace`."""
    settings = data.get("workspace") or {}
    workspace.host_name = settings.get("host_name", workspace.host_name)
    workspace.workspace_id = str(settings.get("workspace_id", workspace.workspace_id))
    workspace.cloud = settings.get("cloud", workspace.cloud)
    for item in data.get("principals") or []:
        principal = Principal(
            name=item["name"],
            kind=item.get("kind", "user"),
            display_name=item.get("display_name", ""),
            groups=set(item.get("groups") or []),
        )
        workspace.tokens[item["token"]] = principal
    for item in data.get("models") or []:
        _add_model(workspace, item)
    for item in data.get("endpoints") or []:
        try:
            _add_endpoint(workspace, item)
        except Exception as exc:
            raise ScenarioError(f"Scenario endpoint {item.get('name')!r} is invalid: {exc}") from exc
    return workspace


def _add_model(workspace: Workspace, item: dict[str, Any]) -> None:
    model = RegisteredModel(full_name=item["name"], comment=item.get("comment", ""))
    for raw in item.get("versions") or []:
        version = ModelVersion(
            version=int(raw["version"]),
            status=raw.get("status", "READY"),
            signature=raw.get("signature"),
            task=raw.get("task"),
            created_ms=workspace.clock.now_ms(),
        )
        model.versions[version.version] = version
    model.aliases = {k: int(v) for k, v in (item.get("aliases") or {}).items()}
    workspace.models[model.full_name] = model


def _add_endpoint(workspace: Workspace, item: dict[str, Any]) -> None:
    system = bool(item.get("system", False))
    name = validate_endpoint_name(item["name"], system=system)
    now = workspace.clock.now_ms()
    creator = item.get("creator", "system" if system else SANDBOX_USER)
    endpoint = Endpoint(
        name=name,
        id=None if system else item.get("id", new_endpoint_id()),
        creator=creator,
        creation_timestamp=now,
        last_updated_timestamp=now,
        description=item.get("description", ""),
        task=item.get("task"),
        endpoint_type=item.get("endpoint_type"),
        system=system,
        tags={t["key"]: t.get("value") for t in item.get("tags") or []},
        ai_gateway=item.get("ai_gateway"),
    )
    behaviour = item.get("behaviour") or {}
    endpoint.behaviour = EndpointBehaviour(**behaviour)
    if item.get("config"):
        config = build_config(workspace, item["config"], creator, 1)
        for entity in config.served_entities:
            extra = (item.get("entity_extra") or {}).get(entity["name"]) or {}
            entity.update(extra)
            config.entity_states[entity["name"]] = EntityState("DEPLOYMENT_READY", "")
        endpoint.config = config
    if not system:
        endpoint.acl[f"user_name:{creator}"] = "CAN_MANAGE"
    workspace.endpoints[name] = endpoint


def seeded_workspace(scenario: str | Path | None = None, time_scale: float = 1.0) -> Workspace:
    """Return the default workspace, plus `scenario` on top when given."""
    data = read_scenario(DEFAULT_SCENARIO)
    workspace = Workspace(clock=Clock(time_scale=time_scale))
    apply_scenario(workspace, data)
    if scenario is not None:
        extra = read_scenario(scenario)
        if "time_scale" in extra:
            workspace.clock.set_time_scale(float(extra["time_scale"]))
        apply_scenario(workspace, extra)
    return workspace
