"""Scenario files (JSON or YAML) that build a workspace: principals, models, endpoints.

The seeded default workspace is itself the scenario `scenarios/default.yaml`, which documents
the format. An endpoint item can describe any state: its active config and entity states, an
update in flight or one that failed, a warm-up, behaviour knobs, and past traffic for metrics.
"""

import json
from pathlib import Path
from typing import Any, cast, get_args

import yaml

from emulator.behaviour_rules import with_behaviour
from emulator.clock import Clock
from emulator.config_rules import validate_endpoint_name
from emulator.configs import ConfigRequest, build_config, derive_task, endpoint_kind
from emulator.faults import FaultError, parse_fault
from emulator.scenario_rules import (
    ScenarioError as ScenarioError,  # re-exported: callers catch it from this module
    check_endpoint,
    check_entity_states,
    check_model,
    check_principal,
    check_workspace,
    count,
    endpoint_settings,
    items,
    mapping,
    seconds,
    usage_spec,
)
from emulator.state import (
    SANDBOX_USER,
    ConfigVersion,
    Endpoint,
    EndpointBehaviour,
    EntityState,
    ModelVersion,
    OAuthClient,
    PendingUpdate,
    Principal,
    RegisteredModel,
    UpdateOutcome,
    Workspace,
    new_endpoint_id,
)

DEFAULT_SCENARIO = Path(__file__).with_name("scenarios") / "default.yaml"
PENDING_STATES: dict[str, UpdateOutcome | None] = {
    "IN_PROGRESS": None,
    "UPDATE_FAILED": "failed",
    "UPDATE_CANCELED": "cancelled",
}


def read_scenario(path: str | Path) -> dict[str, Any]:
    text = Path(path).read_text(encoding="utf-8")
    data = json.loads(text) if str(path).endswith(".json") else yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ScenarioError(f"Scenario {str(path)!r} must contain a mapping at the top level.")
    return data


def apply_scenario(workspace: Workspace, data: dict[str, Any]) -> Workspace:
    """Add the principals, models and endpoints of `data` to `workspace`.

    Raises ScenarioError for an invalid item. Items before it stay applied, so callers that need all
    or nothing (the admin API) restore a snapshot.
    """
    settings = mapping(data.get("workspace"), "workspace")
    check_workspace(settings)
    workspace.host_name = settings.get("host_name") or workspace.host_name
    workspace.workspace_id = str(settings.get("workspace_id") or workspace.workspace_id)
    workspace.cloud = settings.get("cloud") or workspace.cloud
    workspace.account_id = settings.get("account_id") or workspace.account_id
    if settings.get("workload_types") is not None:
        workspace.workload_types = set(settings["workload_types"])
    for index, item in enumerate(items(data, "principals")):
        check_principal(item, f"principals[{index}]")
        _add_principal(workspace, item)
    for index, item in enumerate(items(data, "models")):
        check_model(item, f"models[{index}]")
        _add_model(workspace, item)
    for index, item in enumerate(items(data, "endpoints")):
        try:
            check_endpoint(item, f"endpoints[{index}]")
            _add_endpoint(workspace, item)
        except Exception as exc:
            raise ScenarioError(f"Scenario endpoint {item.get('name')!r} is invalid: {exc}") from exc
    for item in items(data, "faults"):
        try:
            workspace.faults.append(parse_fault(item))
        except FaultError as exc:
            raise ScenarioError(f"Scenario fault {item!r} is invalid: {exc}") from exc
    return workspace


def _add_principal(workspace: Workspace, item: dict[str, Any]) -> None:
    """Add a principal that authenticates with `token` (a PAT), `client_secret` (OAuth M2M), or both."""
    principal = Principal(
        name=item["name"],
        kind=item.get("kind", "user"),
        display_name=item.get("display_name", ""),
        groups=set(item.get("groups") or []),
    )
    if not item.get("token") and not item.get("client_secret"):
        raise ScenarioError(f"Scenario principal {principal.name!r} needs a token, a client_secret, or both.")
    if item.get("client_secret") and principal.kind != "service_principal":
        raise ScenarioError(
            f"Scenario principal {principal.name!r} has a client_secret, but only service principals "
            "(kind: service_principal) use OAuth M2M."
        )
    if item.get("token"):
        workspace.tokens[item["token"]] = principal
    if item.get("client_secret"):
        # A service principal's OAuth client id is its application id, which is also its name.
        workspace.oauth_clients[principal.name] = OAuthClient(principal.name, str(item["client_secret"]), principal)


def _add_model(workspace: Workspace, item: dict[str, Any]) -> None:
    model = RegisteredModel(
        full_name=item["name"],
        comment=item.get("comment", ""),
        owner=item.get("owner", SANDBOX_USER),
        created_ms=workspace.clock.now_ms(),
    )
    for raw in item.get("versions") or []:
        version = ModelVersion(
            version=count(raw["version"], "version", minimum=1),
            status=raw.get("status", "READY"),
            signature=raw.get("signature"),
            task=raw.get("task"),
            created_ms=workspace.clock.now_ms(),
        )
        model.versions[version.version] = version
    model.aliases = {k: count(v, "alias", minimum=1) for k, v in (item.get("aliases") or {}).items()}
    workspace.models[model.full_name] = model


def _add_endpoint(workspace: Workspace, item: dict[str, Any]) -> None:
    system = bool(item.get("system", False))
    # Scenarios may use the reserved 'databricks-' prefix, for example for look-alike endpoints.
    name = validate_endpoint_name(item["name"], system=True)
    now = workspace.clock.now_ms()
    creator = item.get("creator") or ("system" if system else SANDBOX_USER)
    settings = endpoint_settings(item, name)
    endpoint = Endpoint(
        name=name,
        id=None if system else item.get("id") or new_endpoint_id(),
        creator=creator,
        creation_timestamp=now,
        last_updated_timestamp=now,
        description=item.get("description") or "",
        system=system,
        route_optimized=bool(item.get("route_optimized", False)),
        budget_policy_id=item.get("budget_policy_id"),
        usage_policy_id=item.get("usage_policy_id"),
    )
    for key, value in settings.items():
        setattr(endpoint, key, value)
    endpoint.behaviour = with_behaviour(EndpointBehaviour(), item.get("behaviour") or {})

    request = ConfigRequest(name, creator, system=system)
    if item.get("config"):
        endpoint.config = _active_config(workspace, item, request)
    if item.get("pending"):
        _add_pending(workspace, endpoint, item["pending"], request)

    latest = endpoint.pending.config if endpoint.pending else endpoint.config
    if latest is not None:
        endpoint.endpoint_type = endpoint_kind(latest)
        endpoint.task = derive_task(workspace, latest)
    endpoint.endpoint_type = item.get("endpoint_type", endpoint.endpoint_type)
    endpoint.task = item.get("task", endpoint.task)

    _add_usage(workspace, endpoint, item.get("usage") or {})
    if not system:
        endpoint.acl[f"user_name:{creator}"] = "CAN_MANAGE"
    workspace.endpoints[name] = endpoint
    workspace.settle(endpoint)


def _active_config(workspace: Workspace, item: dict[str, Any], request: ConfigRequest) -> ConfigVersion:
    config = build_config(workspace, item["config"], request, count(item.get("config_version", 1), "config_version"))
    for entity in config.served_entities:
        entity.update((item.get("entity_extra") or {}).get(entity["name"]) or {})
        config.entity_states[entity["name"]] = EntityState("DEPLOYMENT_READY", "")
    config.entity_states.update(_entity_states(item.get("entity_states") or {}))
    if item.get("warmup_seconds_left"):
        warmup_ms = int(seconds(item["warmup_seconds_left"], "warmup_seconds_left") * 1000)
        config.warm_until_ms = workspace.clock.now_ms() + warmup_ms
        for state in config.entity_states.values():
            state.deployment, state.message = "DEPLOYMENT_CREATING", "Served entity is starting."
    return config


def _add_pending(workspace: Workspace, endpoint: Endpoint, spec: dict[str, Any], request: ConfigRequest) -> None:
    """Attach an update: in flight (`state: IN_PROGRESS`) or already failed or cancelled."""
    check_entity_states(spec.get("entity_states"), "pending.entity_states")
    state = spec.get("state", "IN_PROGRESS")
    if state not in PENDING_STATES:
        raise ScenarioError(f"pending.state must be one of {sorted(PENDING_STATES)}, got {state!r}.")
    default_version = (endpoint.config.version if endpoint.config else 0) + 1
    version = count(spec.get("config_version", default_version), "pending.config_version", minimum=1)
    config = build_config(workspace, spec["config"], request, version)
    now = workspace.clock.now_ms()
    outcome = PENDING_STATES[state] or spec.get("outcome", "ready")
    if outcome not in get_args(UpdateOutcome):
        raise ScenarioError(f"pending.outcome must be one of {list(get_args(UpdateOutcome))}, got {outcome!r}.")
    seconds_left = seconds(spec.get("seconds_left", endpoint.behaviour.deploy_seconds), "pending.seconds_left")
    seconds_elapsed = seconds(spec.get("seconds_elapsed", 0), "pending.seconds_elapsed")
    message = spec.get("message", "")
    if not isinstance(message, str):
        raise ScenarioError(f"'pending.message' must be a string, got {type(message).__name__}.")
    endpoint.pending = PendingUpdate(
        config=config,
        start_ms=now - int(seconds_elapsed * 1000),
        done_at_ms=now if state != "IN_PROGRESS" else now + int(seconds_left * 1000),
        outcome=cast(UpdateOutcome, outcome),
        failure_message=message,
    )
    config.entity_states = {
        e["name"]: EntityState("DEPLOYMENT_CREATING", "Creating resources for served entity.")
        for e in config.served_entities
    }
    # A finished update is settled now, which sets the failed or aborted entity states.
    workspace.settle(endpoint)
    config.entity_states.update(_entity_states(spec.get("entity_states") or {}))


def _entity_states(raw: dict[str, Any]) -> dict[str, EntityState]:
    states: dict[str, EntityState] = {}
    for entity_name, value in raw.items():
        if isinstance(value, str):
            states[entity_name] = EntityState(value, "")
        else:
            states[entity_name] = EntityState(value["deployment"], value.get("message", ""))
    return states


def _add_usage(workspace: Workspace, endpoint: Endpoint, usage: dict[str, Any]) -> None:
    """Record past traffic: `request_count` requests, the first ones failing with 4xx and then 5xx."""
    now = workspace.clock.now_ms()
    for entity_name, spec in mapping(usage, "usage").items():
        (requests, client_errors, server_errors), latencies = usage_spec(spec, f"usage.{entity_name}")
        endpoint.usage_of(entity_name).record_past(requests, client_errors, server_errors, latencies, now)


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
