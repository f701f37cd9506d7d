"""`build_server(settings)`: the MCPServer with its lifespan, tools and prompts."""

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractContextManager, asynccontextmanager, nullcontext

import httpx
from mcp.server import MCPServer

import prompts
import tools
from server.audit import AuditLog
from server.schemas import trim_tool_schemas
from server.settings import Settings
from tools.api.auth import AuthProvider, SdkConfigAuth, StaticTokenAuth
from tools.api.client import DatabricksClient
from tools.context import AuditSink, NullAudit, ToolDeps, ToolSettings
from tools.policy import Policy, PolicySettings

logger = logging.getLogger(__name__)

SERVER_NAME = "databricks-serving-mcp"
INSTRUCTIONS = """\
Operate Databricks Model Serving endpoints. Start with discover_operations when unsure of a field.
Create, update_config and swap_model_version return at once; call wait_until_ready until it reports
READY before querying. Mutating tools accept dry_run to preview the change. Delete needs
confirm_name equal to the endpoint name."""


def build_server(
    settings: Settings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    auth: AuthProvider | None = None,
) -> MCPServer[ToolDeps]:
    """Build the server. `transport` and `auth` let tests aim it at an in-process emulator."""

    @asynccontextmanager
    async def lifespan(server: MCPServer[ToolDeps]) -> AsyncIterator[ToolDeps]:
        with _sandbox(settings) if auth is None else nullcontext(None) as sandbox_url:
            provider = auth or _auth_for(settings, sandbox_url)
            client = DatabricksClient(provider, transport=transport)
            try:
                yield ToolDeps(
                    client=client,
                    policy=Policy(
                        PolicySettings(
                            read_only=settings.read_only,
                            protected_endpoints=settings.protected_endpoints,
                            allow_gpu_workloads=settings.allow_gpu_workloads,
                            max_provisioned_model_units=settings.max_provisioned_model_units,
                            max_provisioned_throughput=settings.max_provisioned_throughput,
                        )
                    ),
                    settings=ToolSettings(
                        max_result_chars=settings.max_result_chars,
                        wait_budget_seconds=settings.wait_budget_seconds,
                        query_timeout_seconds=settings.query_timeout_seconds,
                    ),
                    audit=_audit_for(settings),
                )
            finally:
                await client.aclose()

    server: MCPServer[ToolDeps] = MCPServer(SERVER_NAME, instructions=INSTRUCTIONS, version="0.1.0", lifespan=lifespan)
    tools.register_all(server)
    trim_tool_schemas(server)
    prompts.register_all(server)
    return server


def _audit_for(settings: Settings) -> AuditSink:
    return AuditLog(settings.audit_log) if settings.audit_log else NullAudit()


def _auth_for(settings: Settings, sandbox_url: str | None) -> AuthProvider:
    if sandbox_url is not None:
        from emulator import SANDBOX_TOKEN

        return StaticTokenAuth(sandbox_url, SANDBOX_TOKEN)
    return SdkConfigAuth(profile=settings.profile, host=settings.host)


def _sandbox(settings: Settings) -> AbstractContextManager[str | None]:
    if not settings.sandbox:
        return nullcontext(None)
    return _running_emulator(settings)


class _running_emulator(AbstractContextManager[str | None]):
    """Start the emulator on a loopback port for the server's lifetime."""

    def __init__(self, settings: Settings) -> None:
        from emulator import seeded_workspace
        from emulator.server import EmulatorServer

        workspace = seeded_workspace(settings.sandbox_scenario, time_scale=settings.sandbox_time_scale)
        self._server = EmulatorServer(workspace)
        self._stop: Callable[[], None] = self._server.stop

    def __enter__(self) -> str:
        self._server.start()
        logger.info("Sandbox emulator started at %s", self._server.url)
        return self._server.url

    def __exit__(self, *exc_info: object) -> None:
        self._stop()
