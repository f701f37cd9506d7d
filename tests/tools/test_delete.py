from typing import Any

import pytest
from mcp import Client
from mcp.server import MCPServer
from mcp_types import ElicitRequestParams, ElicitResult

from emulator import Workspace, apply_scenario
from tests.tools.support import EP_DEMO, result_text
from tools.context import ToolDeps

pytestmark = pytest.mark.anyio

NAME = "ep-demo"
DELETE_PATH = f"/api/2.0/serving-endpoints/{NAME}"
MODES = ["auto", "legacy"]


@pytest.fixture
def workspace(workspace: Workspace) -> Workspace:
    apply_scenario(workspace, {"endpoints": [EP_DEMO]})
    return workspace


def deletes(workspace: Workspace) -> list[Any]:
    return [r for r in workspace.request_log if r.method == "DELETE"]


class FormAnswer:
    """An elicitation callback that answers every form the same way and records the questions."""

    def __init__(self, action: str, typed_name: str | None = None) -> None:
        self.action = action
        self.typed_name = typed_name
        self.questions: list[ElicitRequestParams] = []

    async def __call__(self, context: Any, params: ElicitRequestParams) -> ElicitResult:
        self.questions.append(params)
        if self.action == "accept":
            return ElicitResult(action="accept", content={"confirm_name": self.typed_name or ""})
        return ElicitResult(action=self.action)  # type: ignore[arg-type]


async def test_delete_with_matching_confirm_name(client: Client, workspace: Workspace) -> None:
    result = await client.call_tool("delete_endpoint", {"name": NAME, "confirm_name": NAME})
    assert result.is_error is False, result.content
    content = result.structured_content
    assert content is not None
    assert content["status"] == "DELETED"
    assert content["confirmed_by"] == "confirm_name"
    assert "logs are deleted with the endpoint" in content["note"]
    assert [r.path for r in deletes(workspace)] == [DELETE_PATH]
    assert NAME not in workspace.endpoints


async def test_delete_with_wrong_confirm_name(client: Client, workspace: Workspace) -> None:
    result = await client.call_tool("delete_endpoint", {"name": NAME, "confirm_name": "ep-demo-2"})
    assert result.is_error is True
    text = result_text(result)
    assert "NOT_CONFIRMED" in text
    assert "confirm_name='ep-demo-2' does not match name='ep-demo'" in text
    assert deletes(workspace) == []
    assert NAME in workspace.endpoints


@pytest.mark.parametrize("mode", MODES)
async def test_delete_unconfirmed_without_form(server: MCPServer[ToolDeps], workspace: Workspace, mode: str) -> None:
    async with Client(server, mode=mode) as connected:  # type: ignore[arg-type]
        result = await connected.call_tool("delete_endpoint", {"name": NAME})
    assert result.is_error is True
    text = result_text(result)
    assert "Not deleted" in text
    assert "Ask the user, then call again with confirm_name='ep-demo'" in text
    assert deletes(workspace) == []
    assert NAME in workspace.endpoints


@pytest.mark.parametrize("mode", MODES)
async def test_delete_form_accepted(server: MCPServer[ToolDeps], workspace: Workspace, mode: str) -> None:
    answer = FormAnswer("accept", typed_name=NAME)
    async with Client(server, mode=mode, elicitation_callback=answer) as connected:  # type: ignore[arg-type]
        result = await connected.call_tool("delete_endpoint", {"name": NAME})
    assert result.is_error is False, result.content
    assert result.structured_content is not None
    assert result.structured_content["confirmed_by"] == "form"
    assert len(answer.questions) == 1
    assert "'ep-demo'" in answer.questions[0].message
    assert [r.path for r in deletes(workspace)] == [DELETE_PATH]
    assert NAME not in workspace.endpoints


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("action", ["decline", "cancel"])
async def test_delete_form_declined(server: MCPServer[ToolDeps], workspace: Workspace, mode: str, action: str) -> None:
    answer = FormAnswer(action)
    async with Client(server, mode=mode, elicitation_callback=answer) as connected:  # type: ignore[arg-type]
        result = await connected.call_tool("delete_endpoint", {"name": NAME})
    assert result.is_error is True
    text = result_text(result)
    assert f"the user {action}" in text
    assert "do not delete unless they ask again" in text
    assert len(answer.questions) == 1
    assert deletes(workspace) == []
    assert NAME in workspace.endpoints


@pytest.mark.parametrize("mode", MODES)
async def test_delete_form_wrong_name(server: MCPServer[ToolDeps], workspace: Workspace, mode: str) -> None:
    answer = FormAnswer("accept", typed_name="ep-other")
    async with Client(server, mode=mode, elicitation_callback=answer) as connected:  # type: ignore[arg-type]
        result = await connected.call_tool("delete_endpoint", {"name": NAME})
    assert result.is_error is True
    assert "('ep-other') does not match 'ep-demo'" in result_text(result)
    assert deletes(workspace) == []


@pytest.mark.parametrize("mode", MODES)
async def test_delete_confirm_name_skips_form(server: MCPServer[ToolDeps], workspace: Workspace, mode: str) -> None:
    answer = FormAnswer("decline")
    async with Client(server, mode=mode, elicitation_callback=answer) as connected:  # type: ignore[arg-type]
        result = await connected.call_tool("delete_endpoint", {"name": NAME, "confirm_name": NAME})
    assert result.is_error is False, result.content
    assert answer.questions == []
    assert NAME not in workspace.endpoints


async def test_delete_dry_run_sends_no_delete(server: MCPServer[ToolDeps], workspace: Workspace) -> None:
    answer = FormAnswer("accept", typed_name=NAME)
    async with Client(server, elicitation_callback=answer) as connected:
        result = await connected.call_tool("delete_endpoint", {"name": NAME, "dry_run": True})
    assert result.is_error is False, result.content
    content = result.structured_content
    assert content is not None
    assert content["status"] == "DRY_RUN"
    assert content["endpoint"]["name"] == NAME
    assert content["endpoint"]["config"]["served_entities"][0]["name"] == "demo_model-1"
    assert answer.questions == []
    assert deletes(workspace) == []
    assert NAME in workspace.endpoints


async def test_delete_missing_endpoint(client: Client, workspace: Workspace) -> None:
    result = await client.call_tool("delete_endpoint", {"name": "ep-gone", "confirm_name": "ep-gone"})
    assert result.is_error is True
    text = result_text(result)
    assert "RESOURCE_DOES_NOT_EXIST (HTTP 404)" in text
    assert "list_endpoints" in text
