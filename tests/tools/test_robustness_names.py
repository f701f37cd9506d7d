"""Endpoint names that are not endpoint names: dot segments, spaces, control characters, case tricks.

A name goes into the REST path as one percent-encoded segment, but `.` and `..` survive the
encoding and httpx resolves them as dot segments: `GET .../serving-endpoints/.` reads the
endpoint list and `DELETE .../serving-endpoints/..` addresses `/api/2.0`. Every tool therefore
rejects a name outside the endpoint name alphabet before it sends anything.
"""

from typing import Any

import httpx
import pytest
from mcp import Client

from emulator import SANDBOX_TOKEN, Workspace, create_app
from tests.conftest import EMULATOR_URL
from tests.tools.support import GTE, TURBINE, error_envelope, requests_since, result_text
from tools.api.auth import StaticTokenAuth
from tools.api.client import DatabricksClient
from tools.api.serving import ServingApi

pytestmark = pytest.mark.anyio

BAD_NAMES = [".", "..", " " + GTE, "ep demo", "ep-demo\n", "ep\x00demo", "é-endpoint"]
READ_CALLS: list[tuple[str, dict[str, Any]]] = [
    ("get_endpoint", {}),
    ("wait_until_ready", {"timeout_seconds": 1}),
    ("query_endpoint", {"prompt": "hi"}),
    ("get_open_api", {}),
    ("get_logs", {}),
]


@pytest.mark.parametrize("name", BAD_NAMES)
@pytest.mark.parametrize(("tool", "extra"), READ_CALLS)
async def test_read_tools_reject_bad_names(
    client: Client, workspace: Workspace, tool: str, extra: dict[str, Any], name: str
) -> None:
    start = len(workspace.request_log)
    result = await client.call_tool(tool, {"name": name, **extra})
    envelope = error_envelope(result)
    assert envelope["error_code"] == "INVALID_ARGUMENT"
    assert envelope["field"] == "name"
    assert repr(name) in envelope["message"]
    assert "list_endpoints" in envelope["fix"]
    assert requests_since(workspace, start) == []


@pytest.mark.parametrize("name", BAD_NAMES)
async def test_delete_rejects_bad_names(client: Client, workspace: Workspace, name: str) -> None:
    start = len(workspace.request_log)
    result = await client.call_tool("delete_endpoint", {"name": name, "confirm_name": name})
    envelope = error_envelope(result)
    assert envelope["error_code"] == "INVALID_ARGUMENT"
    assert envelope["field"] == "name"
    assert requests_since(workspace, start) == []
    assert GTE in workspace.endpoints


async def test_server_serves_after_bad_name(client: Client, workspace: Workspace) -> None:
    await client.call_tool("get_endpoint", {"name": "."})
    result = await client.call_tool("get_endpoint", {"name": GTE})
    assert result.is_error is False, result_text(result)
    assert result.structured_content is not None
    assert result.structured_content["name"] == GTE


@pytest.mark.parametrize("name", ["Databricks-gte-large-en", "DATABRICKS-GTE-LARGE-EN"])
async def test_protected_pattern_ignores_case(client: Client, workspace: Workspace, name: str) -> None:
    start = len(workspace.request_log)
    result = await client.call_tool("delete_endpoint", {"name": name, "confirm_name": name})
    envelope = error_envelope(result)
    assert envelope["error_code"] == "PROTECTED_ENDPOINT"
    assert requests_since(workspace, start) == []


@pytest.mark.parametrize("segment", ["", ".", ".."])
async def test_serving_api_rejects_dot_segments(workspace: Workspace, segment: str) -> None:
    transport = httpx.ASGITransport(app=create_app(workspace))
    async with DatabricksClient(StaticTokenAuth(EMULATOR_URL, SANDBOX_TOKEN), transport=transport) as http:
        serving = ServingApi(http)
        with pytest.raises(ValueError, match="path segment"):
            await serving.delete_endpoint(segment)
        with pytest.raises(ValueError, match="path segment"):
            await serving.logs(GTE, segment)
    assert workspace.request_log == []


@pytest.mark.parametrize("name", ["ep-new\n", "ep new", "ep/new", ".."])
async def test_create_rejects_bad_names(client: Client, workspace: Workspace, name: str) -> None:
    start = len(workspace.request_log)
    result = await client.call_tool("create_endpoint", {"name": name, "served_entities": [TURBINE]})
    envelope = error_envelope(result)
    assert envelope["error_code"] == "INVALID_ARGUMENT"
    assert envelope["field"] == "name"
    assert requests_since(workspace, start) == []


async def test_create_rejects_bad_entity_name(client: Client, workspace: Workspace) -> None:
    start = len(workspace.request_log)
    entity = {**TURBINE, "name": "current\n"}
    result = await client.call_tool("create_endpoint", {"name": "ep-new", "served_entities": [entity]})
    envelope = error_envelope(result)
    assert envelope["field"] == "served_entities[0].name"
    assert requests_since(workspace, start) == []
