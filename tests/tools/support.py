"""Helpers shared by the tool tests: served entities, a server on the emulator, and reading results.

Tool results are read as the model reads them: the text content, the structured content of a
successful call, and the JSON `error` envelope that ends the text of an isError result.
"""

import json
from typing import Any

import anyio
import httpx
from mcp.server import MCPServer
from mcp_types import CallToolResult
from starlette.types import ASGIApp

from emulator import SANDBOX_TOKEN, Workspace, apply_scenario, create_app
from server.app import build_server
from server.settings import Settings
from tests.conftest import EMULATOR_URL
from tools.api.auth import StaticTokenAuth
from tools.context import ToolDeps

# Served entities of models that the seeded workspace registers.
TURBINE = {"entity_name": "main.default.turbine_failure", "entity_version": "3", "workload_size": "Small"}
DEMO_V1 = {"entity_name": "main.default.demo_model", "entity_version": "1", "scale_to_zero_enabled": True}
EXTERNAL = {
    "name": "gpt-chat",
    "external_model": {
        "name": "gpt-x",
        "provider": "openai",
        "task": "llm/v1/chat",
        "openai_config": {"openai_api_key": "{{secrets/scope/key}}"},
    },
}
# An endpoint spec for emulator.apply_scenario that serves DEMO_V1.
EP_DEMO = {"name": "ep-demo", "config": {"served_entities": [DEMO_V1]}}
# A pay-per-token embeddings endpoint of the seeded workspace.
GTE = "databricks-gte-large-en"


def model_entity(model: str, version: int) -> dict[str, Any]:
    """Return a Small, scale-to-zero served entity of `version` of the registered `model`."""
    return {
        "entity_name": model,
        "entity_version": str(version),
        "workload_size": "Small",
        "scale_to_zero_enabled": True,
    }


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


def error_text(result: CallToolResult) -> str:
    """Return the whole text of an isError result: the readable line and the JSON envelope."""
    assert result.is_error is True, result_text(result)[:2_000]
    return result_text(result)


def error_envelope(result: CallToolResult) -> dict[str, Any]:
    """Return the `error` object that ends the text of an isError result."""
    last_line = error_text(result).rsplit("\n", 1)[-1]
    envelope: dict[str, Any] = json.loads(last_line)["error"]
    return envelope


def requests_of(workspace: Workspace) -> list[tuple[str, str]]:
    """Return (method, path) of each request the emulator received."""
    return requests_since(workspace, 0)


def requests_since(workspace: Workspace, start: int) -> list[tuple[str, str]]:
    """Return (method, path) of each request the emulator received after the first `start` ones."""
    return [(record.method, record.path) for record in workspace.request_log[start:]]


async def audit_records(settings: Settings) -> list[dict[str, Any]]:
    """Return the records of the audit log that `settings` names, or [] before the first record."""
    assert settings.audit_log is not None
    path = anyio.Path(settings.audit_log)
    if not await path.exists():
        return []
    return [json.loads(line) for line in (await path.read_text()).splitlines()]


def add_demo_endpoints(workspace: Workspace, deploying: dict[str, Any]) -> None:
    """Add ep-demo (turbine_failure version 1), ep-ab (versions 1 and 2, split 50/50) and ep-new.

    ep-new has no active config yet: it is still deploying the served entity `deploying`.
    """
    routes = [
        {"served_entity_name": "turbine_failure-1", "traffic_percentage": 50},
        {"served_entity_name": "turbine_failure-2", "traffic_percentage": 50},
    ]
    turbine = [model_entity("main.default.turbine_failure", version) for version in (1, 2)]
    apply_scenario(
        workspace,
        {
            "endpoints": [
                {"name": "ep-demo", "config": {"served_entities": turbine[:1]}},
                {"name": "ep-ab", "config": {"served_entities": turbine, "traffic_config": {"routes": routes}}},
                {"name": "ep-new", "pending": {"config": {"served_entities": [deploying]}}},
            ]
        },
    )
