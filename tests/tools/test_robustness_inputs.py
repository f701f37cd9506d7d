"""Malformed tool arguments: JSON text nested past the parser's limit, wrong shapes, huge values.

Each case must come back as an INVALID_ARGUMENT result that names the field, with nothing sent
to the workspace, and the server must handle the next call.
"""

from typing import Any

import pytest
from mcp import Client

from emulator import Workspace
from tests.tools.support import GTE, TURBINE, error_envelope, requests_since, result_text

pytestmark = pytest.mark.anyio

# Deeper than Python's recursion limit, so json.loads raises RecursionError instead of ValueError.
DEEP = "[" * 100_000 + "]" * 100_000
DEEP_OBJECT = '{"a": ' + DEEP + "}"

CREATE_CASES: dict[str, tuple[dict[str, Any], str]] = {
    "entities text": ({"served_entities": DEEP}, "served_entities"),
    "entity text": ({"served_entities": [DEEP_OBJECT]}, "served_entities[0]"),
    "environment text": (
        {"served_entities": [{**TURBINE, "environment_vars": DEEP_OBJECT}]},
        "served_entities[0].environment_vars",
    ),
    "gateway text": ({"served_entities": [TURBINE], "ai_gateway": {"guardrails": DEEP}}, "ai_gateway.guardrails"),
}


@pytest.mark.parametrize(("arguments", "field"), CREATE_CASES.values(), ids=CREATE_CASES.keys())
async def test_create_deep_json_text(
    client: Client, workspace: Workspace, arguments: dict[str, Any], field: str
) -> None:
    start = len(workspace.request_log)
    result = await client.call_tool("create_endpoint", {"name": "ep-deep", **arguments})
    envelope = error_envelope(result)
    assert envelope["error_code"] == "INVALID_ARGUMENT"
    assert envelope["field"] == field
    assert "nested too deeply" in envelope["message"]
    assert len(result_text(result)) < 5_000
    assert requests_since(workspace, start) == []
    follow_up = await client.call_tool("get_endpoint", {"name": GTE})
    assert follow_up.is_error is False, result_text(follow_up)


HUGE_CASES: dict[str, tuple[dict[str, Any], str]] = {
    "1 MB name": ({"name": "n" * 1_000_000, "served_entities": [TURBINE]}, "name"),
    "10k entities": ({"name": "ep-many", "served_entities": [TURBINE] * 10_000}, "served_entities"),
}


@pytest.mark.parametrize(("arguments", "field"), HUGE_CASES.values(), ids=HUGE_CASES.keys())
async def test_create_huge_values_short_error(
    client: Client, workspace: Workspace, arguments: dict[str, Any], field: str
) -> None:
    start = len(workspace.request_log)
    result = await client.call_tool("create_endpoint", arguments)
    assert len(result_text(result)) < 5_000
    assert error_envelope(result)["field"] == field
    assert requests_since(workspace, start) == []


STREAM_CASES: dict[str, dict[str, Any]] = {
    "extra": {"extra": {"stream": True}},
    "inputs": {"inputs": {"messages": [{"role": "user", "content": "hi"}], "stream": True}},
    "params": {"params": {"stream": "true"}},
}


@pytest.mark.parametrize("arguments", STREAM_CASES.values(), ids=STREAM_CASES.keys())
async def test_query_rejects_hidden_stream_field(
    client: Client, workspace: Workspace, arguments: dict[str, Any]
) -> None:
    query = {"name": "databricks-claude-sonnet-4-6", **arguments}
    if "inputs" not in arguments:
        query["prompt"] = "hi"
    result = await client.call_tool("query_endpoint", query)
    envelope = error_envelope(result)
    assert envelope["error_code"] == "INVALID_ARGUMENT"
    assert envelope["field"] == "stream"
    assert "stream=true" in envelope["fix"]
    assert not [record for record in workspace.request_log if record.method == "POST"]


async def test_query_stream_field_with_stream_true(client: Client, workspace: Workspace) -> None:
    arguments = {"name": "databricks-claude-sonnet-4-6", "prompt": "hi", "stream": True, "extra": {"stream": True}}
    result = await client.call_tool("query_endpoint", arguments)
    assert result.is_error is False, result_text(result)
    assert result.structured_content is not None
    assert result.structured_content["stream"]["complete"] is True
