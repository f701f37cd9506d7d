"""Credentials in create_endpoint arguments never reach a result, an error text or a log line.

Each case passes a plaintext credential somewhere a model might put it, valid or malformed,
and checks the text the model reads, the structured result and every captured log record.
"""

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from emulator import Workspace
from server.settings import Settings
from tests.tools.support import TURBINE, emulator_server, error_envelope, requests_since, result_text
from tools.redaction import REDACTED, redact

pytestmark = pytest.mark.anyio

SECRET = "sk-live-0123456789abcdef"
OPENAI = {"name": "gpt-x", "provider": "openai", "task": "llm/v1/chat"}


def external(config: Any) -> dict[str, Any]:
    return {"name": "gpt-chat", "external_model": {**OPENAI, "openai_config": config}}


def logged_text(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(record.getMessage() for record in caplog.records)


def assert_hidden(result: Any, caplog: pytest.LogCaptureFixture) -> None:
    assert SECRET not in result_text(result)
    assert SECRET not in json.dumps(result.structured_content or {})
    assert SECRET not in logged_text(caplog)
    # Not even the tail of the credential, as a cut-off value would show it.
    assert SECRET[-12:] not in result_text(result)


MALFORMED_ARGUMENTS = {
    "config as broken JSON text": [external('{"openai_api_key_plaintext": "' + SECRET + '"')],
    "config as a list": [external([SECRET])],
    "config as a bare string": [external(SECRET)],
    "environment value as a list": [{**TURBINE, "environment_vars": {"OPENAI_API_KEY": [SECRET]}}],
    "environment value under a plain name": [{**TURBINE, "environment_vars": {"UPSTREAM": {"v": SECRET}}}],
    "environment as broken JSON text": [{**TURBINE, "environment_vars": '{"UPSTREAM": "' + SECRET + '"'}],
    "entity as broken JSON text": [json.dumps(external({"openai_api_key_plaintext": SECRET}))[:-1]],
    "entity list as broken JSON text": json.dumps([external({"openai_api_key_plaintext": SECRET})])[:-1],
}


@pytest.mark.parametrize("served_entities", MALFORMED_ARGUMENTS.values(), ids=MALFORMED_ARGUMENTS.keys())
async def test_create_error_hides_credentials(
    client: Client, workspace: Workspace, caplog: pytest.LogCaptureFixture, served_entities: Any
) -> None:
    caplog.set_level(logging.DEBUG)
    start = len(workspace.request_log)
    result = await client.call_tool("create_endpoint", {"name": "ep-secret", "served_entities": served_entities})
    envelope = error_envelope(result)
    assert envelope["error_code"] == "INVALID_ARGUMENT"
    assert envelope["field"].startswith("served_entities")
    assert_hidden(result, caplog)
    assert requests_since(workspace, start) == []


@pytest.mark.parametrize("dry_run", [True, False])
async def test_create_result_hides_environment_values(
    client: Client, workspace: Workspace, caplog: pytest.LogCaptureFixture, dry_run: bool
) -> None:
    caplog.set_level(logging.DEBUG)
    variables = {"UPSTREAM_KEY": SECRET, "OPENAI_API_KEY": "{{secrets/llm/openai}}", "THREADS": "4"}
    entity = {**TURBINE, "environment_vars": variables}
    arguments = {"name": "ep-env", "served_entities": [entity], "dry_run": dry_run}
    result = await client.call_tool("create_endpoint", arguments)
    assert result.is_error is False, result_text(result)
    assert_hidden(result, caplog)
    assert result.structured_content is not None
    shown = result.structured_content["request_body"]["config"]["served_entities"][0]["environment_vars"]
    assert shown["UPSTREAM_KEY"] == "<redacted>"
    assert shown["OPENAI_API_KEY"] == "{{secrets/llm/openai}}"
    assert sorted(shown) == ["OPENAI_API_KEY", "THREADS", "UPSTREAM_KEY"]
    if not dry_run:
        sent = workspace.endpoints["ep-env"].pending
        assert sent is not None
        assert sent.config.served_entities[0]["environment_vars"]["UPSTREAM_KEY"] == SECRET


async def test_create_result_keeps_secret_references(client: Client, workspace: Workspace) -> None:
    entity = external({"openai_api_key": "{{secrets/llm/openai}}"})
    arguments = {"name": "ep-ref", "served_entities": [entity], "dry_run": True}
    result = await client.call_tool("create_endpoint", arguments)
    assert result.is_error is False, result_text(result)
    assert result.structured_content is not None
    shown = result.structured_content["request_body"]["config"]["served_entities"][0]
    assert shown["external_model"]["openai_config"] == {"openai_api_key": "{{secrets/llm/openai}}"}


async def test_create_json_text_entities_still_work(client: Client, workspace: Workspace) -> None:
    arguments = {"name": "ep-text", "served_entities": json.dumps([TURBINE])}
    result = await client.call_tool("create_endpoint", arguments)
    assert result.is_error is False, result_text(result)
    assert "ep-text" in workspace.endpoints


async def test_create_schema_still_lists_objects(client: Client) -> None:
    tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    schema = tools["create_endpoint"].input_schema["properties"]["served_entities"]
    assert schema["type"] == "array"
    assert schema["items"]["type"] == "object"
    assert "served_entities" in tools["create_endpoint"].input_schema["required"]


async def test_audit_log_hides_environment_values(workspace: Workspace, tmp_path: Path) -> None:
    audit_path = tmp_path / "audit.jsonl"
    server = emulator_server(workspace, Settings(audit_log=str(audit_path)))
    entity = {**TURBINE, "environment_vars": {"UPSTREAM": SECRET}}
    async with Client(server) as connected:
        result = await connected.call_tool("create_endpoint", {"name": "ep-audit", "served_entities": [entity]})
    assert result.is_error is False, result_text(result)
    audit_text = audit_path.read_text(encoding="utf-8")
    assert "ep-audit" in audit_text
    assert SECRET not in audit_text


def test_redaction_keeps_token_counts() -> None:
    value = {
        "max_tokens": 128,
        "rate_limits": [{"key": "user", "calls": 10, "tokens": 1000}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7},
        "HF_TOKEN": "hf_live",
        "databricks_api_token": "dapi",
        "bearer_token_auth": {"token_plaintext": "t"},
    }
    redacted = redact(value)
    assert redacted["max_tokens"] == 128
    assert redacted["rate_limits"][0]["tokens"] == 1000
    assert redacted["usage"] == {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}
    assert redacted["HF_TOKEN"] == REDACTED
    assert redacted["databricks_api_token"] == REDACTED
    assert redacted["bearer_token_auth"] == REDACTED
