"""In-memory workspace state: endpoints, registry, principals, request log.

Endpoint configuration transitions are evaluated lazily against the virtual clock:
every read calls `Workspace.settle`, which promotes or fails a pending config whose
deadline has passed. Nothing runs in the background.
"""

import secrets
import threading
from dataclasses import dataclass, field
from typing import Any, Literal

from emulator.clock import Clock

ConfigUpdateState = Literal["NOT_UPDATING", "IN_PROGRESS", "UPDATE_FAILED", "UPDATE_CANCELED"]
UpdateOutcome = Literal["ready", "failed", "cancelled", "stuck"]

SANDBOX_TOKEN = "dapi-emulator-sandbox-token"
SANDBOX_USER = "sandbox@example.com"
ADMINS_GROUP = "admins"


def new_endpoint_id() -> str:
    return secrets.token_hex(16)


@dataclass
class Principal:
    """A user, group member or service principal that a token authenticates as."""

    name: str
    kind: Literal["user", "service_principal"] = "user"
    display_name: str = ""
    groups: set[str] = field(default_factory=set)

    @property
    def is_admin(self) -> bool:
        return ADMINS_GROUP in self.groups


@dataclass
class EntityState:
    deployment: str
    message: str


@dataclass
class ConfigVersion:
    """One endpoint config: normalised served entities (output shape, no state) and routes."""

    version: int
    served_entities: list[dict[str, Any]]
    routes: list[dict[str, Any]]
    auto_capture_config: dict[str, Any] | None = None
    entity_states: dict[str, EntityState] = field(default_factory=dict)


@dataclass
class PendingUpdate:
    """A config update. It stays on the endpoint after it fails or is cancelled, as `pending_config`."""

    config: ConfigVersion
    start_ms: int
    done_at_ms: int
    outcome: UpdateOutcome = "ready"
    failure_message: str = ""
    finished: bool = False


@dataclass
class EndpointBehaviour:
    """Knobs a scenario or the admin API sets to script how an endpoint behaves."""

    deploy_seconds: float = 600.0
    # Outcome of the next config update, consumed when the update starts.
    next_update_outcome: UpdateOutcome = "ready"
    next_update_message: str = ""
    # Fixed response body for invocations, overriding the task-based answer.
    response: Any = None
    # Extra latency for invocations, in real seconds.
    query_delay_seconds: float = 0.0
    build_logs: str | None = None
    logs: str | None = None
    metrics: str | None = None


@dataclass
class Endpoint:
    name: str
    id: str | None
    creator: str
    creation_timestamp: int
    last_updated_timestamp: int
    description: str = ""
    config: ConfigVersion | None = None
    pending: PendingUpdate | None = None
    tags: dict[str, str | None] = field(default_factory=dict)
    ai_gateway: dict[str, Any] | None = None
    rate_limits: list[dict[str, Any]] | None = None
    email_notifications: dict[str, Any] | None = None
    telemetry_config: dict[str, Any] | None = None
    budget_policy_id: str | None = None
    route_optimized: bool = False
    task: str | None = None
    endpoint_type: str | None = None
    # Databricks-managed pay-per-token Foundation Model endpoint.
    system: bool = False
    # Direct grants: principal key ("user_name:x", "group_name:y", "service_principal_name:z") -> level.
    acl: dict[str, str] = field(default_factory=dict)
    behaviour: EndpointBehaviour = field(default_factory=EndpointBehaviour)

    @property
    def config_update(self) -> ConfigUpdateState:
        pending = self.pending
        if pending is None:
            return "NOT_UPDATING"
        if not pending.finished:
            return "IN_PROGRESS"
        return "UPDATE_CANCELED" if pending.outcome == "cancelled" else "UPDATE_FAILED"

    @property
    def ready(self) -> Literal["READY", "NOT_READY"]:
        if self.config is None:
            return "NOT_READY"
        states = self.config.entity_states.values()
        return "READY" if all(s.deployment == "DEPLOYMENT_READY" for s in states) else "NOT_READY"


@dataclass
class RequestRecord:
    method: str
    path: str
    query: str
    status: int
    principal: str | None
    body: Any
    headers: dict[str, str]
    time_ms: int


@dataclass
class ModelVersion:
    version: int
    status: str = "READY"
    signature: dict[str, Any] | None = None
    task: str | None = None
    created_ms: int = 0
    comment: str = ""


@dataclass
class RegisteredModel:
    full_name: str
    versions: dict[int, ModelVersion] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)
    comment: str = ""
    owner: str = SANDBOX_USER
    created_ms: int = 0


class Workspace:
    """The whole emulated workspace. Handlers hold `lock` while they read or change it."""

    def __init__(self, clock: Clock | None = None, host_name: str = "emulator.local") -> None:
        self.clock = clock or Clock()
        self.host_name = host_name
        self.workspace_id = "1234567890123456"
        self.cloud = "aws"
        self.lock = threading.RLock()
        self.endpoints: dict[str, Endpoint] = {}
        self.models: dict[str, RegisteredModel] = {}
        self.tokens: dict[str, Principal] = {SANDBOX_TOKEN: Principal(SANDBOX_USER, groups={ADMINS_GROUP, "users"})}
        self.request_log: list[RequestRecord] = []
        # Faults are consumed by the fault middleware; see emulator.faults.
        self.faults: list[Any] = []

    def settle(self, endpoint: Endpoint) -> None:
        """Finish a pending config update whose deadline has passed."""
        pending = endpoint.pending
        if pending is None or pending.finished or pending.outcome == "stuck":
            return
        if self.clock.now_ms() < pending.done_at_ms:
            return
        endpoint.last_updated_timestamp = pending.done_at_ms
        config = pending.config
        if pending.outcome == "ready":
            config.entity_states = {e["name"]: EntityState("DEPLOYMENT_READY", "") for e in config.served_entities}
            endpoint.config = config
            endpoint.pending = None
            return
        # A failed or cancelled update leaves the previous config serving.
        pending.finished = True
        if pending.outcome == "failed":
            message = pending.failure_message or "Served entity deployment failed."
            config.entity_states = {
                e["name"]: EntityState("DEPLOYMENT_FAILED", message) for e in config.served_entities
            }
        else:
            config.entity_states = {
                e["name"]: EntityState("DEPLOYMENT_ABORTED", "Config update was canceled.")
                for e in config.served_entities
            }

    def get_endpoint(self, name: str) -> Endpoint | None:
        endpoint = self.endpoints.get(name)
        if endpoint is not None:
            self.settle(endpoint)
        return endpoint
