"""Helpers shared by the tool tests: building a server on the emulator and reading tool results."""

import json
from typing import Any

import httpx
from mcp.server import MCPServer
from mcp_types import CallToolResult
from starlette.types import ASGIApp

from emulator import SANDBOX_TOKEN, Workspace, create_app
from server.app import build_server
from server.settings import Settings
from tests.conftest import EMULATOR_URL
from tools.api.auth import StaticTokenAuth
from tools.context import ToolDeps


def emulator_server(workspace: Workspace, settings: Settings, app: ASGIApp | None = None) -> MCPServer[ToolDeps]:
    """Build the MCP server on the in-process emulator of `workspace`, or on `app` in front of it."""
    transport = httpx.ASGITransport(app=app or create_app(workspace))
    return build_server(settings, transport=transport, auth=StaticTokenAuth(EMULATOR_URL, SANDBOX_TOKEN))


def result_text(result: CallToolResult) -> str:
    """Return the text content of a tool result, as the model reads it."""
    return "".join(str(getattr(part, "text", "")) for part in result.content)


def content_of(result: CallToolResult) -> dict[str, Any]:
    """Return the structured content of a successful tool result."""
    assert result.is_error is False, result_text(result)[:2_000]
    assert result.structured_content is not None
    return dict(result.structured_content)


def error_envelope(result: CallToolResult) -> dict[str, Any]:
    """Return the `error` object that ends the text of an isError result."""
    assert result.is_error is True, result_text(result)[:500]
    last_line = result_text(result).rsplit("\n", 1)[-1]
    envelope: dict[str, Any] = json.loads(last_line)["error"]
    return envelope
