import pytest
from mcp import Client

from emulator import Workspace

pytestmark = pytest.mark.anyio


async def test_get_endpoint_summarises_state(client: Client) -> None:
    result = await client.call_tool("get_endpoint", {"name": "databricks-claude-sonnet-4-6"})
    assert result.is_error is False
    summary = result.structured_content
    assert summary is not None
    assert summary["ready"] == "READY"
    assert summary["config_update"] == "NOT_UPDATING"
    assert summary["fully_ready"] is True
    assert summary["config"]["served_entities"][0]["deployment"] == "DEPLOYMENT_READY"


async def test_get_endpoint_missing_is_error(client: Client, workspace: Workspace) -> None:
    result = await client.call_tool("get_endpoint", {"name": "no-such-endpoint"})
    assert result.is_error is True
    text = result.content[0].text  # type: ignore[union-attr]
    assert "RESOURCE_DOES_NOT_EXIST (HTTP 404)" in text
    assert "no-such-endpoint" in text
    assert workspace.request_log[-1].path == "/api/2.0/serving-endpoints/no-such-endpoint"
