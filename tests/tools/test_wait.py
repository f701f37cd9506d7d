import logging
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.server import MCPServer
from mcp.shared.exceptions import MCPError

from emulator import Workspace, apply_scenario, create_app
from server.settings import Settings
from tests.tools.support import DEMO_V1, content_of, emulator_server
from tools.context import ToolDeps

pytestmark = pytest.mark.anyio

NAME = "ep-demo"
GET_PATH = f"/api/2.0/serving-endpoints/{NAME}"
DEMO_V2 = {**DEMO_V1, "entity_version": "2"}
# Long enough for two polls (the first interval is one second), short enough for a test.
TWO_POLLS = Settings(wait_budget_seconds=1.5)


@pytest.fixture
def settings() -> Settings:
    return Settings(wait_budget_seconds=0.3)


def add_endpoint(workspace: Workspace, **fields: Any) -> None:
    apply_scenario(workspace, {"endpoints": [{"name": NAME, **fields}]})


def gets(workspace: Workspace) -> list[Any]:
    return [r for r in workspace.request_log if r.method == "GET" and r.path == GET_PATH]


async def call_wait(client: Client, arguments: dict[str, Any] | None = None, **options: Any) -> dict[str, Any]:
    with anyio.fail_after(10):
        result = await client.call_tool("wait_until_ready", {"name": NAME, **(arguments or {})}, **options)
    return content_of(result)


async def test_wait_ready_endpoint(client: Client, workspace: Workspace) -> None:
    add_endpoint(workspace, config={"served_entities": [DEMO_V1]})
    status = await call_wait(client)
    assert status["status"] == "READY"
    assert status["polls"] == 1
    assert status["entities"] == [{"name": "demo_model-1", "deployment": "DEPLOYMENT_READY", "message": None}]


async def test_wait_version_swap_not_ready(client: Client, workspace: Workspace) -> None:
    add_endpoint(workspace, config={"served_entities": [DEMO_V1]}, pending={"config": {"served_entities": [DEMO_V2]}})
    status = await call_wait(client)
    assert status["ready"] == "READY"
    assert status["config_update"] == "IN_PROGRESS"
    assert status["status"] == "IN_PROGRESS"
    assert status["pending_entities"][0]["name"] == "demo_model-2"
    assert "call wait_until_ready" in status["next_step"].lower()


async def test_wait_new_entity_warming_up(client: Client, workspace: Workspace) -> None:
    add_endpoint(workspace, pending={"config": {"served_entities": [DEMO_V1]}}, behaviour={"warmup_seconds": 300})
    first = await call_wait(client)
    assert (first["status"], first["ready"], first["config_update"]) == ("IN_PROGRESS", "NOT_READY", "IN_PROGRESS")

    workspace.clock.advance(600)
    second = await call_wait(client)
    assert (second["ready"], second["config_update"]) == ("NOT_READY", "NOT_UPDATING")
    assert second["entities"][0]["deployment"] == "DEPLOYMENT_CREATING"
    assert second["status"] == "IN_PROGRESS"

    workspace.clock.advance(300)
    third = await call_wait(client)
    assert third["status"] == "READY"


@pytest.mark.parametrize(
    ("state", "deployment_message"),
    [
        ("UPDATE_FAILED", "container build failed: dependency conflict"),
        ("UPDATE_CANCELED", "Config update was canceled"),
    ],
)
async def test_wait_failed_update_stops_at_once(
    client: Client, workspace: Workspace, state: str, deployment_message: str
) -> None:
    pending = {"state": state, "config": {"served_entities": [DEMO_V2]}, "message": deployment_message}
    add_endpoint(workspace, config={"served_entities": [DEMO_V1]}, pending=pending)
    status = await call_wait(client, {"timeout_seconds": 30})
    assert status["status"] == "FAILED"
    assert status["polls"] == 1
    assert status["config_update"] == state
    assert deployment_message in status["message"]
    assert "demo_model-2" in status["message"]
    assert "previous config (version 1) is still serving" in status["message"]
    assert status["previous_config_serving"] is True
    assert "get_logs(name='ep-demo', kind='build', served_entity='demo_model-2')" in status["next_step"]


@pytest.mark.parametrize("settings", [TWO_POLLS])
async def test_wait_failure_during_polling(client: Client, workspace: Workspace) -> None:
    pending = {"config": {"served_entities": [DEMO_V1]}, "outcome": "failed", "message": "image build failed"}
    add_endpoint(workspace, pending=pending)

    async def advance_clock(progress: float, total: float | None, message: str | None) -> None:
        workspace.clock.advance(700)

    status = await call_wait(client, progress_callback=advance_clock)
    assert status["status"] == "FAILED"
    assert status["polls"] == 2
    assert "image build failed" in status["message"]
    assert status["previous_config_serving"] is False
    assert "still serving" not in status["message"]


@pytest.mark.parametrize("settings", [TWO_POLLS])
async def test_wait_progress_on_every_poll(client: Client, workspace: Workspace) -> None:
    add_endpoint(workspace, pending={"config": {"served_entities": [DEMO_V1]}})
    reports: list[tuple[float, float | None, str | None]] = []

    async def record(progress: float, total: float | None, message: str | None) -> None:
        reports.append((progress, total, message))
        workspace.clock.advance(700)

    status = await call_wait(client, progress_callback=record)
    assert status["status"] == "READY"
    assert len(reports) == status["polls"] == 2
    assert "ready=NOT_READY config_update=IN_PROGRESS" in str(reports[0][2])
    assert "demo_model-1=DEPLOYMENT_CREATING" in str(reports[0][2])
    assert "ready=READY config_update=NOT_UPDATING" in str(reports[1][2])
    assert reports[0][0] < reports[1][0]
    assert reports[0][1] == reports[1][1] == 1.5


async def test_wait_budget_returns_in_progress(client: Client, workspace: Workspace) -> None:
    add_endpoint(workspace, pending={"config": {"served_entities": [DEMO_V1]}, "seconds_left": 2400})
    start = anyio.current_time()
    status = await call_wait(client)
    took = anyio.current_time() - start
    assert status["status"] == "IN_PROGRESS"
    assert 0.3 <= status["elapsed_seconds"] < 1.0
    assert took < 1.0
    assert "Still deploying after" in status["message"]
    assert [r.method for r in workspace.request_log] == ["GET"] * status["polls"]
    assert workspace.endpoints[NAME].pending is not None


async def test_wait_timeout_below_budget(client: Client, workspace: Workspace) -> None:
    add_endpoint(workspace, pending={"config": {"served_entities": [DEMO_V1]}})
    status = await call_wait(client, {"timeout_seconds": 0.05})
    assert status["status"] == "IN_PROGRESS"
    assert status["elapsed_seconds"] < 0.3


async def test_wait_timeout_capped_by_budget(client: Client, workspace: Workspace) -> None:
    add_endpoint(workspace, pending={"config": {"served_entities": [DEMO_V1]}})
    status = await call_wait(client, {"timeout_seconds": 3000})
    assert status["status"] == "IN_PROGRESS"
    assert status["elapsed_seconds"] < 1.0


async def test_wait_missing_endpoint(client: Client) -> None:
    status = await call_wait(client, {"name": "ep-gone"})
    assert status["status"] == "NOT_FOUND"
    assert "list_endpoints" in status["next_step"]


async def test_wait_endpoint_without_config(client: Client, workspace: Workspace) -> None:
    add_endpoint(workspace)
    status = await call_wait(client)
    assert status["status"] == "FAILED"
    assert "no config" in status["message"]


class GetWatcher:
    """ASGI wrapper that sets an event whenever the endpoint is read."""

    def __init__(self, app: Callable[..., Awaitable[None]]) -> None:
        self.app = app
        self.seen = anyio.Event()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") == "http" and scope.get("method") == "GET" and scope.get("path") == GET_PATH:
            self.seen.set()
        await self.app(scope, receive, send)


def watched_server(workspace: Workspace) -> tuple[MCPServer[ToolDeps], GetWatcher]:
    watcher = GetWatcher(create_app(workspace))
    return emulator_server(workspace, Settings(wait_budget_seconds=30), app=watcher), watcher


@pytest.mark.parametrize("how", ["read_timeout", "cancel_scope"])
async def test_wait_cancel_stops_polling(workspace: Workspace, caplog: pytest.LogCaptureFixture, how: str) -> None:
    add_endpoint(workspace, pending={"config": {"served_entities": [DEMO_V1]}})
    server, watcher = watched_server(workspace)
    caplog.set_level(logging.INFO, logger="tools.waiting")
    async with Client(server) as connected:
        with anyio.fail_after(10):
            if how == "read_timeout":
                with pytest.raises(MCPError):
                    await connected.call_tool("wait_until_ready", {"name": NAME}, read_timeout_seconds=0.3)
            else:
                with anyio.move_on_after(0.3):
                    await connected.call_tool("wait_until_ready", {"name": NAME})
        polls_before = len(gets(workspace))
        assert polls_before == 1
        watcher.seen = anyio.Event()
        # The next poll was due one second after the first, so 1.5 s is enough to see it.
        with anyio.move_on_after(1.5):
            await watcher.seen.wait()
        assert not watcher.seen.is_set()
        assert len(gets(workspace)) == polls_before
        assert "wait_until_ready for ep-demo cancelled after 1 polls" in caplog.text
        after = await connected.call_tool("get_endpoint", {"name": NAME})
        assert after.is_error is False
