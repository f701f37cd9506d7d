"""Read-only mode, protected endpoints and dry runs, checked on every tool that changes the workspace.

MUTATING_CALLS must name every tool whose annotations mark it as not read-only (query_endpoint
aside: it changes nothing and read-only mode allows it), so a new mutating tool without a case
here fails test_every_mutating_tool_is_covered.
"""

from typing import Any

import pytest
from mcp import Client

from emulator import Workspace, apply_scenario
from server.settings import Settings
from tests.tools.support import DEMO_V1, TURBINE, error_envelope, requests_since

pytestmark = pytest.mark.anyio

NAME = "ep-demo"
DEMO_V2 = {**DEMO_V1, "entity_version": "2"}
GRANT = {"user_name": "bob@example.com", "permission_level": "CAN_QUERY"}
MUTATING_CALLS: dict[str, dict[str, Any]] = {
    "create_endpoint": {"served_entities": [TURBINE]},
    "delete_endpoint": {"confirm_name": NAME},
    "update_config": {"served_entities": [DEMO_V2]},
    "swap_model_version": {"version": 2},
    "update_permissions": {"grants": [GRANT]},
}
# Tools that change nothing in the workspace, though their annotations do not mark them read-only.
NOT_CHANGING = {"query_endpoint"}


def add_demo_endpoint(workspace: Workspace) -> None:
    apply_scenario(workspace, {"endpoints": [{"name": NAME, "config": {"served_entities": [DEMO_V1]}}]})


def arguments_for(tool: str, name: str) -> dict[str, Any]:
    extra = dict(MUTATING_CALLS[tool])
    if "confirm_name" in extra:
        extra["confirm_name"] = name
    return {"name": name, **extra}


async def test_every_mutating_tool_is_covered(client: Client) -> None:
    tools = (await client.list_tools()).tools
    mutating = {
        tool.name
        for tool in tools
        if tool.annotations is not None and tool.annotations.read_only_hint is False and tool.name not in NOT_CHANGING
    }
    assert mutating == set(MUTATING_CALLS)


@pytest.mark.parametrize("settings", [Settings(read_only=True)])
@pytest.mark.parametrize("dry_run", [False, True])
@pytest.mark.parametrize("tool", sorted(MUTATING_CALLS))
async def test_read_only_stops_before_requests(client: Client, workspace: Workspace, tool: str, dry_run: bool) -> None:
    add_demo_endpoint(workspace)
    name = "ep-other" if tool == "create_endpoint" else NAME
    arguments = {**arguments_for(tool, name), "dry_run": dry_run}
    start = len(workspace.request_log)
    result = await client.call_tool(tool, arguments)
    assert error_envelope(result)["error_code"] == "READ_ONLY_MODE"
    assert requests_since(workspace, start) == []


@pytest.mark.parametrize("settings", [Settings(protected_endpoints=("prod-*", "ep-demo"))])
@pytest.mark.parametrize("name", [NAME, "EP-DEMO", "prod-scoring", "Prod-Scoring"])
@pytest.mark.parametrize("tool", sorted(MUTATING_CALLS))
async def test_protected_names_stop_before_requests(client: Client, workspace: Workspace, tool: str, name: str) -> None:
    add_demo_endpoint(workspace)
    start = len(workspace.request_log)
    result = await client.call_tool(tool, arguments_for(tool, name))
    assert error_envelope(result)["error_code"] == "PROTECTED_ENDPOINT"
    assert requests_since(workspace, start) == []


@pytest.mark.parametrize("tool", sorted(MUTATING_CALLS))
async def test_dry_run_changes_nothing(client: Client, workspace: Workspace, tool: str) -> None:
    add_demo_endpoint(workspace)
    name = "ep-other" if tool == "create_endpoint" else NAME
    before = workspace.endpoints[NAME].config
    start = len(workspace.request_log)
    result = await client.call_tool(tool, {**arguments_for(tool, name), "dry_run": True})
    assert result.is_error is False, result.content
    assert result.structured_content is not None
    assert result.structured_content["status"] == "DRY_RUN"
    assert [method for method, _ in requests_since(workspace, start) if method != "GET"] == []
    assert "ep-other" not in workspace.endpoints
    assert workspace.endpoints[NAME].config is before
    assert workspace.endpoints[NAME].pending is None
