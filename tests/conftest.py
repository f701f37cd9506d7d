"""Shared fixtures: a seeded emulator workspace and the MCP server wired to it in-process."""

import os
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from mcp import Client
from mcp.server import MCPServer

from emulator import SANDBOX_TOKEN, Workspace, create_app, seeded_workspace
from server.app import build_server
from server.settings import Settings
from tools.api.auth import StaticTokenAuth
from tools.context import ToolDeps

EMULATOR_URL = "http://emulator.local"


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def no_real_workspace(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Strip DATABRICKS_* variables so no test reaches a real workspace by accident."""
    for key in list(os.environ):
        if key.startswith("DATABRICKS_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", os.devnull)
    yield


@pytest.fixture
def workspace() -> Workspace:
    """The seeded workspace with a stopped clock: time moves only by `clock.advance`."""
    return seeded_workspace(time_scale=0)


@pytest.fixture
def settings() -> Settings:
    return Settings()


@pytest.fixture
def server(workspace: Workspace, settings: Settings) -> MCPServer[ToolDeps]:
    transport = httpx.ASGITransport(app=create_app(workspace))
    return build_server(settings, transport=transport, auth=StaticTokenAuth(EMULATOR_URL, SANDBOX_TOKEN))


@pytest.fixture
async def client(server: MCPServer[ToolDeps]) -> AsyncIterator[Client]:
    async with Client(server) as connected:
        yield connected


@pytest.fixture
async def emulator_http(workspace: Workspace) -> AsyncIterator[httpx.AsyncClient]:
    """Raw HTTP access to the emulator, authenticated as the sandbox admin."""
    transport = httpx.ASGITransport(app=create_app(workspace))
    async with httpx.AsyncClient(
        transport=transport, base_url=EMULATOR_URL, headers={"Authorization": f"Bearer {SANDBOX_TOKEN}"}
    ) as http:
        yield http
