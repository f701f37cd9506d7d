"""Dependencies that every tool receives through the server lifespan: REST client, policy, audit."""

from dataclasses import dataclass, field
from typing import Any, Protocol, cast

from mcp.server.mcpserver import Context

from tools.api.client import DatabricksClient
from tools.api.serving import ServingApi
from tools.policy import Policy

# About 20k tokens: under the 25k-token tool-output limit of Claude Code.
DEFAULT_MAX_RESULT_CHARS = 80_000
# Below the ~60 s call limit that several MCP clients enforce.
DEFAULT_WAIT_BUDGET_SECONDS = 45.0


class AuditSink(Protocol):
    """Records one mutating call; implemented by the server's audit log."""

    def record(self, tool: str, target: str, outcome: str, detail: dict[str, Any]) -> None: ...


class NullAudit:
    def record(self, tool: str, target: str, outcome: str, detail: dict[str, Any]) -> None:
        return None


@dataclass(frozen=True)
class ToolSettings:
    max_result_chars: int = DEFAULT_MAX_RESULT_CHARS
    wait_budget_seconds: float = DEFAULT_WAIT_BUDGET_SECONDS
    # First poll interval and its cap while waiting for an endpoint, in seconds.
    poll_initial_seconds: float = 1.0
    poll_max_seconds: float = 5.0
    query_timeout_seconds: float = 30.0


@dataclass
class ToolDeps:
    client: DatabricksClient
    policy: Policy = field(default_factory=lambda: Policy())
    settings: ToolSettings = field(default_factory=ToolSettings)
    audit: AuditSink = field(default_factory=NullAudit)

    @property
    def serving(self) -> ServingApi:
        return ServingApi(self.client)


def deps_of(ctx: Context) -> ToolDeps:
    deps = cast(ToolDeps, ctx.request_context.lifespan_context)
    return deps
