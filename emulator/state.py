"""In-memory workspace state: endpoints, registry, principals, request log.

Endpoint configuration transitions are evaluated lazily against the virtual clock:
every read calls `Workspace.settle`, which promotes or fails a pending config whose
deadline has passed. Nothing runs in the background.
"""

import secrets
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Literal

from emulator.clock import Clock
from emulator.dataplane import DataPlaneState

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
    """One endpoint config: normalised served entities (output shape, no state) and routes.

    Entities keep `*_plaintext` secrets of external models; `emulator.render` strips them.
    """

    version: int
    served_entities: list[dict[str, Any]]
    routes: list[dict[str, Any]]
    auto_capture_config: dict[str, Any] | None = None
    entity_states: dict[str, EntityState] = field(default_factory=dict)
    # Virtual time (ms) at which entities still DEPLOYMENT_CREATING after the update become ready (warm-up).
    warm_until_ms: int | None = None


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
    # Fixed response body for invocations, overriding the task-based response.
    response: Any = None
    # Extra latency for invocations, in real seconds.
    query_delay_seconds: float = 0.0
    # Real seconds between the chunks of a streamed response (see emulator.streaming).
    stream_chunk_delay_seconds: float = 0.0
    # Add a blank keep-alive line after the first chunk and send the second as `data:{...}` without the space.
    stream_sse_variations: bool = False
    # Break the stream after this many chunks, by dropping the connection ("disconnect") or by ending
    # the body early without a final chunk or `[DONE]` ("truncate").
    stream_break_after_chunks: int | None = None
    stream_break_mode: Literal["disconnect", "truncate"] = "disconnect"
    # Pay-per-token endpoints only: requests per second (virtual clock) the workspace may send before 429.
    workspace_qps_limit: int | None = None
    # Seconds after an update completes during which the new entities stay DEPLOYMENT_CREATING, so the
    # endpoint reads NOT_READY / NOT_UPDATING before it turns READY.
    warmup_seconds: float = 0.0
    # Log texts: one string for every served entity, or a mapping from served entity name to text.
    build_logs: str | dict[str, str] | None = None
    logs: str | dict[str, str] | None = None
    # Prometheus text returned verbatim by the metrics route instead of text built from `Endpoint.usage`.
    metrics: str | None = None


# Upper bounds (ms) of the `request_latency_ms` histogram buckets; a final +Inf bucket is implied.
LATENCY_BUCKETS_MS: tuple[float, ...] = (10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000)
RECENT_WINDOW_MS = 60_000


def _latency_bucket(latency_ms: float) -> int:
    """Return the index in `EntityUsage.latency_bucket_counts` of the bucket that counts `latency_ms`."""
    return next((i for i, bound in enumerate(LATENCY_BUCKETS_MS) if latency_ms <= bound), len(LATENCY_BUCKETS_MS))


@dataclass
class EntityUsage:
    """Request counters of one served entity, which the metrics route reads.

    The data plane calls `record` once per finished invocation of the entity.
    """

    request_count: int = 0
    request_4xx_count: int = 0
    request_5xx_count: int = 0
    latency_sum_ms: float = 0.0
    # Non-cumulative count per bucket of LATENCY_BUCKETS_MS, plus a last slot for latencies above the largest bound.
    latency_bucket_counts: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_BUCKETS_MS) + 1))
    # Virtual times (ms) of recent requests, for the per-minute CPU and memory gauges.
    recent_request_ms: deque[int] = field(default_factory=lambda: deque(maxlen=10_000))

    def record(self, status: int, latency_ms: float, now_ms: int) -> None:
        """Count one request that ended with HTTP `status` after `latency_ms` milliseconds."""
        self.request_count += 1
        if 400 <= status < 500:
            self.request_4xx_count += 1
        elif status >= 500:
            self.request_5xx_count += 1
        self.latency_sum_ms += latency_ms
        self.latency_bucket_counts[_latency_bucket(latency_ms)] += 1
        self.recent_request_ms.append(now_ms)

    def record_past(self, count: int, count_4xx: int, count_5xx: int, latencies_ms: list[float], now_ms: int) -> None:
        """Count `count` requests at once, as `count` calls of `record` would, in time independent of `count`.

        The first `count_4xx` requests ended with a 4xx status, the next `count_5xx` with a 5xx status,
        and request i took `latencies_ms[i % len(latencies_ms)]` milliseconds.
        """
        self.request_count += count
        self.request_4xx_count += min(count_4xx, count)
        self.request_5xx_count += min(count_5xx, max(count - count_4xx, 0))
        cycles, remainder = divmod(count, len(latencies_ms))
        for position, latency_ms in enumerate(latencies_ms):
            times = cycles + (1 if position < remainder else 0)
            self.latency_sum_ms += latency_ms * times
            self.latency_bucket_counts[_latency_bucket(latency_ms)] += times
        recent_slots = self.recent_request_ms.maxlen or 0
        self.recent_request_ms.extend([now_ms] * min(count, recent_slots))

    def requests_in_last_minute(self, now_ms: int) -> int:
        return sum(1 for t in self.recent_request_ms if now_ms - RECENT_WINDOW_MS < t <= now_ms)


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
    usage_policy_id: str | None = None
    route_optimized: bool = False
    task: str | None = None
    endpoint_type: str | None = None
    # Databricks-managed pay-per-token Foundation Model endpoint.
    system: bool = False
    # Direct grants: principal key ("user_name:x", "group_name:y", "service_principal_name:z") -> level.
    acl: dict[str, str] = field(default_factory=dict)
    behaviour: EndpointBehaviour = field(default_factory=EndpointBehaviour)
    # Served entity name -> request counters; the data plane fills it through `usage_of`.
    usage: dict[str, EntityUsage] = field(default_factory=dict)
    # Traffic-split position, rate-limit windows and per-principal usage of the invocation routes.
    data_plane: DataPlaneState = field(default_factory=DataPlaneState)

    def usage_of(self, entity_name: str) -> EntityUsage:
        """Return the counters of `entity_name`, creating them on first use."""
        return self.usage.setdefault(entity_name, EntityUsage())

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


@dataclass
class OAuthClient:
    """An OAuth machine-to-machine client: a service principal's application id and one of its secrets."""

    client_id: str
    secret: str
    principal: Principal


def changed_entity_names(current: ConfigVersion | None, new: ConfigVersion) -> set[str]:
    """Names of entities in `new` that are not served unchanged by `current` (all of them when none changed)."""
    unchanged = {
        e["name"]
        for e in new.served_entities
        if current is not None and any(_same_deployment(e, old) for old in current.served_entities)
    }
    changed = {e["name"] for e in new.served_entities} - unchanged
    return changed or {e["name"] for e in new.served_entities}


def _same_deployment(a: dict[str, Any], b: dict[str, Any]) -> bool:
    ignored = ("creator", "creation_timestamp")
    return {k: v for k, v in a.items() if k not in ignored} == {k: v for k, v in b.items() if k not in ignored}


class Workspace:
    """The whole emulated workspace. Handlers hold `lock` while they read or change it."""

    def __init__(self, clock: Clock | None = None, host_name: str = "emulator.local") -> None:
        self.clock = clock or Clock()
        self.host_name = host_name
        self.workspace_id = "1234567890123456"
        self.account_id = "00000000-0000-4000-8000-000000000000"
        self.cloud = "aws"
        # Workload types this workspace offers; None means the default set of `cloud`.
        self.workload_types: set[str] | None = None
        self.lock = threading.RLock()
        self.endpoints: dict[str, Endpoint] = {}
        self.models: dict[str, RegisteredModel] = {}
        self.tokens: dict[str, Principal] = {SANDBOX_TOKEN: Principal(SANDBOX_USER, groups={ADMINS_GROUP, "users"})}
        # OAuth M2M clients by client id; POST /oidc/v1/token issues tokens into `tokens` for them.
        self.oauth_clients: dict[str, OAuthClient] = {}
        self.request_log: list[RequestRecord] = []
        # Faults are consumed by the fault middleware; see emulator.faults.
        self.faults: list[Any] = []

    def settle(self, endpoint: Endpoint) -> None:
        """Apply the transitions whose time has come: finish a due config update, then end a due warm-up."""
        now = self.clock.now_ms()
        pending = endpoint.pending
        if pending is not None and not pending.finished and pending.outcome != "stuck" and now >= pending.done_at_ms:
            self._finish_update(endpoint, pending)
        config = endpoint.config
        if config is not None and config.warm_until_ms is not None and now >= config.warm_until_ms:
            for state in config.entity_states.values():
                if state.deployment == "DEPLOYMENT_CREATING":
                    state.deployment, state.message = "DEPLOYMENT_READY", ""
            config.warm_until_ms = None

    def _finish_update(self, endpoint: Endpoint, pending: PendingUpdate) -> None:
        endpoint.last_updated_timestamp = pending.done_at_ms
        config = pending.config
        if pending.outcome == "ready":
            warmup_ms = int(endpoint.behaviour.warmup_seconds * 1000)
            if warmup_ms > 0:
                config.warm_until_ms = pending.done_at_ms + warmup_ms
                message = "Served entity is starting: loading the model and warming up the server."
                config.entity_states = {
                    e["name"]: EntityState("DEPLOYMENT_CREATING", message) for e in config.served_entities
                }
            else:
                config.entity_states = {e["name"]: EntityState("DEPLOYMENT_READY", "") for e in config.served_entities}
            endpoint.config = config
            endpoint.pending = None
            return
        # A failed or cancelled update leaves the previous config serving.
        pending.finished = True
        if pending.outcome == "cancelled":
            config.entity_states = {
                e["name"]: EntityState("DEPLOYMENT_ABORTED", "Config update was canceled.")
                for e in config.served_entities
            }
            return
        message = pending.failure_message or "Served entity deployment failed."
        failing = changed_entity_names(endpoint.config, config)
        config.entity_states = {
            e["name"]: EntityState("DEPLOYMENT_FAILED", message)
            if e["name"] in failing
            else EntityState("DEPLOYMENT_READY", "")
            for e in config.served_entities
        }

    def get_endpoint(self, name: str) -> Endpoint | None:
        endpoint = self.endpoints.get(name)
        if endpoint is not None:
            self.settle(endpoint)
        return endpoint
