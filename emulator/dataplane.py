"""Per-endpoint data-plane counters: traffic-split position, rate-limit windows and usage tracking.

Each `emulator.state.Endpoint` has one `DataPlaneState`. This module imports nothing from the
emulator, so `state` can depend on it without a cycle.
"""

from dataclasses import dataclass, field

RouteWeights = list[tuple[str, int]]


@dataclass
class RateWindow:
    """Calls and tokens counted against one rate limit since `start_ms` (virtual clock)."""

    start_ms: int
    calls: int = 0
    tokens: int = 0


@dataclass
class PrincipalUsage:
    """Requests and tokens of one principal, counted while AI gateway usage tracking is enabled."""

    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass
class DataPlaneState:
    """The state the invocation routes keep for one endpoint between requests."""

    # Smooth weighted round-robin: served entity name -> current weight, valid for `routed_config_version`.
    route_weights: dict[str, int] = field(default_factory=dict)
    routed_config_version: int | None = None
    # Open rate-limit windows by limit id (see emulator.gateway).
    rate_windows: dict[str, RateWindow] = field(default_factory=dict)
    # Principal name -> usage, filled only while `ai_gateway.usage_tracking_config.enabled` is true.
    usage_by_principal: dict[str, PrincipalUsage] = field(default_factory=dict)

    def pick_route(self, config_version: int, routes: RouteWeights) -> str:
        """Pick the served entity for the next request by smooth weighted round-robin.

        Over every run of `sum(weights)` requests each entity gets exactly its weight, and the
        picks interleave (90/10 sends one request in ten to the second entity, not ten in a row).
        Entities with weight 0 never get traffic. The position restarts when the config changes.
        """
        live = [(name, weight) for name, weight in routes if weight > 0]
        if not live:
            raise ValueError("No route has a positive traffic percentage.")
        if self.routed_config_version != config_version:
            self.route_weights = {}
            self.routed_config_version = config_version
        total = sum(weight for _, weight in live)
        for name, weight in live:
            self.route_weights[name] = self.route_weights.get(name, 0) + weight
        chosen = max(live, key=lambda route: self.route_weights[route[0]])[0]
        self.route_weights[chosen] -= total
        return chosen
