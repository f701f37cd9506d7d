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
from tests.tools.support import DEMO_V1, GTE, TURBINE, error_envelope, result_text
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


# A served entity whose echo alone is several times the result cap: a 200,000-character name that
# the diff, the notes and the next steps repeat, and 5,000 environment variables.
LONG_ENTITY_NAME = "n" * 200_000
MANY_VARIABLES = {f"VARIABLE_{i:05d}": "value" for i in range(5_000)}
BIG_ENTITY = {**TURBINE, "name": LONG_ENTITY_NAME, "environment_vars": MANY_VARIABLES}


def sent_bodies(workspace: Workspace, method: str) -> list[Any]:
    return [record.body for record in workspace.request_log if record.method == method]


@pytest.mark.parametrize("dry_run", [True, False])
async def test_update_config_echo_is_cut(client: Client, workspace: Workspace, dry_run: bool) -> None:
    apply_scenario(workspace, {"endpoints": [{"name": "ep-big", "config": {"served_entities": [DEMO_V1]}}]})
    arguments = {"name": "ep-big", "served_entities": [BIG_ENTITY], "dry_run": dry_run}
    updated = structured(await client.call_tool("update_config", arguments))
    assert updated["status"] == ("DRY_RUN" if dry_run else "UPDATING")
    assert updated["request"]["method"] == "PUT"
    assert updated["request"]["body"]["served_entities"]
    assert updated["diff"]["removed"] == ["demo_model-1"]
    assert LONG_ENTITY_NAME.startswith(updated["diff"]["added"][0])
    assert updated["truncation"]["total_chars"] > 200_000
    assert any(note.startswith("request.body") for note in updated["truncation"]["omitted"])
    assert any(note.startswith("diff.added") for note in updated["truncation"]["omitted"])
    if not dry_run:
        [sent] = sent_bodies(workspace, "PUT")
        assert sent["served_entities"][0]["name"] == LONG_ENTITY_NAME
        assert sent["served_entities"][0]["environment_vars"] == MANY_VARIABLES


@pytest.mark.parametrize("dry_run", [True, False])
async def test_swap_echo_is_cut(client: Client, workspace: Workspace, dry_run: bool) -> None:
    old = {**BIG_ENTITY, "entity_version": "2"}
    apply_scenario(workspace, {"endpoints": [{"name": "ep-big", "config": {"served_entities": [old]}}]})
    arguments = {"name": "ep-big", "version": 3, "alias": "prod", "dry_run": dry_run}
    swapped = structured(await client.call_tool("swap_model_version", arguments))
    assert swapped["status"] == ("DRY_RUN" if dry_run else "SWAPPING")
    assert swapped["served_entity"] == "turbine_failure-3"
    assert swapped["diff"]["added"] == ["turbine_failure-3"]
    assert LONG_ENTITY_NAME.startswith(swapped["diff"]["removed"][0])
    assert swapped["truncation"]["total_chars"] > 200_000
    assert swapped["truncation"]["omitted"]
    if dry_run:
        config_request, alias_request = swapped["requests"]
        assert config_request["body"]["served_entities"]
        assert alias_request["body"] == {"version_num": 3}
        assert any(note.startswith("requests[0].body") for note in swapped["truncation"]["omitted"])
    else:
        [sent, alias] = sent_bodies(workspace, "PUT")
        assert sent["served_entities"][0]["environment_vars"] == MANY_VARIABLES
        assert alias == {"version_num": 3}


# 3,000 workspace groups, so that a grant to each of them is a valid request of about 200,000 characters.
MANY_GROUPS = [f"group-with-a-long-descriptive-name-{i:05d}" for i in range(3_000)]


@pytest.mark.parametrize("dry_run", [True, False])
async def test_update_permissions_echo_is_cut(client: Client, workspace: Workspace, dry_run: bool) -> None:
    apply_scenario(
        workspace,
        {
            "principals": [{"name": "carol@example.com", "token": "dapi-carol", "groups": MANY_GROUPS}],
            "endpoints": [{"name": "ep-big", "config": {"served_entities": [DEMO_V1]}}],
        },
    )
    grants = [{"group_name": group, "permission_level": "CAN_QUERY"} for group in MANY_GROUPS]
    arguments = {"name": "ep-big", "grants": grants, "dry_run": dry_run}
    granted = structured(await client.call_tool("update_permissions", arguments))
    assert granted["status"] == ("DRY_RUN" if dry_run else "UPDATED")
    assert granted["request"]["method"] == "PATCH"
    shown = granted["request"]["body"]["access_control_list"]
    assert shown[0] == grants[0]
    assert 0 < len(shown) < len(grants)
    assert f"request.body.access_control_list: kept {len(shown)} of 3000 items" in granted["truncation"]["omitted"]
    if not dry_run:
        [sent] = sent_bodies(workspace, "PATCH")
        assert sent["access_control_list"] == grants
        listed = structured(await client.call_tool("get_permissions", {"name": "ep-big"}))
        assert 0 < len(listed["acl"]) < len(grants)
        assert listed["truncation"]["omitted"]


async def test_grant_not_in_effect_acl_is_cut(client: Client, workspace: Workspace) -> None:
    apply_scenario(
        workspace,
        {
            "principals": [{"name": "carol@example.com", "token": "dapi-carol", "groups": MANY_GROUPS}],
            "endpoints": [{"name": "ep-big", "config": {"served_entities": [DEMO_V1]}}],
        },
    )
    grants = [{"group_name": group, "permission_level": "CAN_QUERY"} for group in MANY_GROUPS]
    structured(await client.call_tool("update_permissions", {"name": "ep-big", "grants": grants}))
    # The next PATCH gets an unreadable answer and never reaches the ACL, so the read-back finds the grant missing.
    workspace.faults.append(parse_fault({"kind": "malformed_json", "method": "PATCH", "count": 1}))
    bob = {"user_name": "bob@example.com", "permission_level": "CAN_MANAGE"}
    result = await client.call_tool("update_permissions", {"name": "ep-big", "grants": [bob]})
    envelope = error_envelope(result)
    assert fits(result_text(result)), len(result_text(result))
    assert envelope["error_code"] == "GRANT_NOT_IN_EFFECT"
    assert 0 < len(envelope["acl"]) < len(grants)
    assert envelope["acl_truncation"]["omitted"]
