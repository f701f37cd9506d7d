"""Every tool result, error results included, fits the result cap however large the workspace data is.

The cap is `max_result_chars` (80,000 by default), measured on the text content the model
reads. Where a result is cut, it says so, and the text stays valid JSON.
"""

import json
from typing import Any

import pytest
from mcp import Client

from emulator import Workspace, apply_scenario
from emulator.faults import parse_fault
from tests.tools.robustness_support import DEMO_V1, GTE, TURBINE, error_envelope, result_text
from tools.context import DEFAULT_MAX_RESULT_CHARS

pytestmark = pytest.mark.anyio

HUGE_MESSAGE = "Traceback line: ModuleNotFoundError in a dependency. " * 6_000


def fits(text: str) -> bool:
    return len(text) <= DEFAULT_MAX_RESULT_CHARS


def structured(result: Any) -> dict[str, Any]:
    assert result.is_error is False, result_text(result)[:500]
    assert result.structured_content is not None
    text = result_text(result)
    assert fits(text), len(text)
    return dict(json.loads(text))


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("get_endpoint", {"name": GTE}),
        ("list_endpoints", {}),
        ("query_endpoint", {"name": GTE, "input": "x"}),
        ("create_endpoint", {"name": "ep-new", "served_entities": [TURBINE]}),
    ],
)
async def test_huge_upstream_error_is_cut(
    client: Client, workspace: Workspace, tool: str, arguments: dict[str, Any]
) -> None:
    workspace.faults.append(parse_fault({"kind": "status", "status": 400, "message": HUGE_MESSAGE}))
    result = await client.call_tool(tool, arguments)
    envelope = error_envelope(result)
    assert fits(result_text(result)), len(result_text(result))
    assert envelope["error_code"] == "BAD_REQUEST"
    assert envelope["http_status"] == 400
    assert envelope["message"].startswith("Traceback line: ModuleNotFoundError")
    assert f"of {len(HUGE_MESSAGE)} characters]" in envelope["message"]


async def test_huge_deployment_message_is_cut(client: Client, workspace: Workspace) -> None:
    failed = {"demo_model-1": {"deployment": "DEPLOYMENT_FAILED", "message": HUGE_MESSAGE}}
    apply_scenario(
        workspace,
        {"endpoints": [{"name": "ep-msg", "config": {"served_entities": [DEMO_V1]}, "entity_states": failed}]},
    )
    endpoint = structured(await client.call_tool("get_endpoint", {"name": "ep-msg"}))
    message = endpoint["config"]["served_entities"][0]["deployment_message"]
    assert message.startswith("Traceback line")
    assert "[cut: first" in message

    waited = structured(await client.call_tool("wait_until_ready", {"name": "ep-msg"}))
    assert waited["status"] == "FAILED"
    assert "demo_model-1" in waited["message"]
    assert "[cut: first" in waited["entities"][0]["message"]


async def test_thousands_of_tags_are_cut(client: Client, workspace: Workspace) -> None:
    tags = [{"key": f"tag-{i:05d}", "value": "v" * 40} for i in range(5_000)]
    endpoint_spec = {"name": "ep-tags", "config": {"served_entities": [DEMO_V1]}, "tags": tags}
    apply_scenario(workspace, {"endpoints": [endpoint_spec]})
    endpoint = structured(await client.call_tool("get_endpoint", {"name": "ep-tags"}))
    assert "tag-00000" in endpoint["tags"]
    assert endpoint["tags_omitted"] == 5_000 - len(endpoint["tags"])
    assert endpoint["tags_omitted"] > 0


async def test_wide_signature_schema_is_cut(client: Client, workspace: Workspace) -> None:
    columns = [{"name": f"feature_{i:05d}", "type": "double"} for i in range(8_000)]
    wide = {"entity_name": "main.default.wide", "entity_version": "1", "scale_to_zero_enabled": True}
    apply_scenario(
        workspace,
        {
            "models": [{"name": "main.default.wide", "versions": [{"version": 1, "signature": {"inputs": columns}}]}],
            "endpoints": [{"name": "ep-wide", "config": {"served_entities": [wide]}}],
        },
    )
    for arguments in ({"name": "ep-wide"}, {"name": "ep-wide", "path": "wide-1"}):
        schema = structured(await client.call_tool("get_open_api", arguments))
        formats = schema["paths"][0]["input_formats"]
        split = next(f for f in formats if f["key"] == "dataframe_split")
        assert split["required_columns"][0] == "feature_00000"
        assert 0 < len(split["required_columns"]) < 8_000
        assert any("8000 columns" in note for note in schema["notes"])


async def test_many_foundation_endpoints_are_cut(client: Client, workspace: Workspace) -> None:
    endpoints = [
        {
            "name": f"databricks-chat-model-{i:05d}-with-a-long-descriptive-name",
            "system": True,
            "task": "llm/v1/chat",
            "config": {"served_entities": [{"entity_name": f"system.ai.chat-model-{i}", "entity_version": "1"}]},
        }
        for i in range(3_000)
    ]
    apply_scenario(workspace, {"endpoints": endpoints})

    picked = structured(await client.call_tool("pick_foundation_model", {"purpose": "chat"}))
    assert picked["endpoint"].startswith("databricks-claude-sonnet")
    assert picked["alternatives_omitted"] > 0

    result = await client.call_tool("query_endpoint", {"name": "ep-missing", "prompt": "hi"})
    envelope = error_envelope(result)
    assert fits(result_text(result)), len(result_text(result))
    assert envelope["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert 0 < len(envelope["available_chat_endpoints"]) < 3_000


@pytest.mark.parametrize("dry_run", [True, False])
async def test_create_echo_is_cut(client: Client, workspace: Workspace, dry_run: bool) -> None:
    description = "d" * 1_000_000
    tags = {f"tag-{i:05d}": "v" for i in range(5_000)}
    arguments = {
        "name": "ep-big",
        "served_entities": [TURBINE],
        "description": description,
        "tags": tags,
        "dry_run": dry_run,
    }
    created = structured(await client.call_tool("create_endpoint", arguments))
    assert created["status"] == ("DRY_RUN" if dry_run else "CREATED")
    assert created["request_body"]["name"] == "ep-big"
    assert created["truncation"]["total_chars"] > 1_000_000
    assert created["truncation"]["omitted"]
    if not dry_run:
        sent = [r.body for r in workspace.request_log if r.method == "POST"]
        assert sent[0]["description"] == description
        assert len(sent[0]["tags"]) == 5_000


ESCAPED_LOGS = {
    "quotes and backslashes": '"\\' * 500_000,
    "JSON-escaped lines": "\n".join(
        '{\\"path\\": \\"C:\\\\models\\\\run\\\\' + str(i) + '\\", \\"msg\\": \\"\\\\\\"quoted\\\\\\"\\"}'
        for i in range(40_000)
    ),
}


@pytest.mark.parametrize("logs", ESCAPED_LOGS.values(), ids=ESCAPED_LOGS.keys())
async def test_escaped_logs_are_cut(client: Client, workspace: Workspace, logs: str) -> None:
    endpoint_spec = {"name": "ep-logs", "config": {"served_entities": [DEMO_V1]}, "behaviour": {"logs": logs}}
    apply_scenario(workspace, {"endpoints": [endpoint_spec]})
    result = structured(await client.call_tool("get_logs", {"name": "ep-logs", "tail_lines": 5_000}))
    assert result["logs"]
    assert logs.endswith(result["logs"])
    assert result["truncation"]["returned_chars"] == len(result["logs"])
    assert result["truncation"]["total_chars"] > len(result["logs"])


ESCAPED_TEXT = '"\\' * 500_000
ESCAPED_RESPONSES = {
    "escaped prediction": ({"predictions": ESCAPED_TEXT}, ["predictions"]),
    "escaped chat answer": (
        {"choices": [{"index": 0, "message": {"role": "assistant", "content": ESCAPED_TEXT}}]},
        ["choices", 0, "message", "content"],
    ),
}


@pytest.mark.parametrize(("response", "path"), ESCAPED_RESPONSES.values(), ids=ESCAPED_RESPONSES.keys())
async def test_escaped_response_keeps_text(
    client: Client, workspace: Workspace, response: dict[str, Any], path: list[Any]
) -> None:
    behaviour = {"response": response}
    endpoint_spec = {"name": "ep-escaped", "config": {"served_entities": [DEMO_V1]}, "behaviour": behaviour}
    apply_scenario(workspace, {"endpoints": [endpoint_spec]})
    query = {"name": "ep-escaped", "dataframe_records": [{"x": 1}]}
    result = structured(await client.call_tool("query_endpoint", query))
    kept: Any = result["response"]
    for step in path:
        kept = kept[step]
    assert len(kept) > 10_000
    assert ESCAPED_TEXT.startswith(kept)


async def test_long_response_keys_are_cut(client: Client, workspace: Workspace) -> None:
    response = {f"{i}:" + "k" * 100_000: i for i in range(3)}
    endpoint_spec = {"name": "ep-keys", "config": {"served_entities": [DEMO_V1]}, "behaviour": {"response": response}}
    apply_scenario(workspace, {"endpoints": [endpoint_spec]})
    result = structured(await client.call_tool("query_endpoint", {"name": "ep-keys", "dataframe_records": [{"x": 1}]}))
    assert result["truncation"]["omitted"]
