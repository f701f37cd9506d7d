import json
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

from emulator import Workspace, apply_scenario
from server.settings import Settings
from tests.tools.support import EP_DEMO, EXTERNAL, TURBINE, error_text

pytestmark = pytest.mark.anyio

ENDPOINTS_PATH = "/api/2.0/serving-endpoints"


def posts(workspace: Workspace) -> list[Any]:
    return [r for r in workspace.request_log if r.method == "POST" and r.path == ENDPOINTS_PATH]


def list_calls(workspace: Workspace) -> list[Any]:
    return [r for r in workspace.request_log if r.method == "GET" and r.path == ENDPOINTS_PATH]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(audit_log=str(tmp_path / "audit.jsonl"))


async def test_create_sends_explicit_scale_to_zero(client: Client, workspace: Workspace) -> None:
    result = await client.call_tool("create_endpoint", {"name": "ep-new", "served_entities": [TURBINE]})
    assert result.is_error is False
    sent = posts(workspace)[0].body
    assert sent["config"]["served_entities"] == [{**TURBINE, "scale_to_zero_enabled": True}]
    assert result.structured_content is not None
    assert result.structured_content["status"] == "CREATED"
    assert result.structured_content["endpoint"]["config_update"] == "IN_PROGRESS"
    assert "wait_until_ready(name='ep-new')" in result.structured_content["next_steps"][0]


async def test_create_sends_no_list_request(client: Client, workspace: Workspace) -> None:
    await client.call_tool("create_endpoint", {"name": "ep-new", "served_entities": [TURBINE]})
    assert list_calls(workspace) == []
    assert [(r.method, r.path) for r in workspace.request_log] == [("POST", ENDPOINTS_PATH)]


async def test_create_keeps_scale_to_zero_false(client: Client, workspace: Workspace) -> None:
    entity = {**TURBINE, "scale_to_zero_enabled": False}
    result = await client.call_tool("create_endpoint", {"name": "ep-new", "served_entities": [entity]})
    assert result.is_error is False
    assert posts(workspace)[0].body["config"]["served_entities"][0]["scale_to_zero_enabled"] is False
    assert workspace.endpoints["ep-new"].pending is not None


async def test_create_external_model_without_compute(client: Client, workspace: Workspace) -> None:
    result = await client.call_tool("create_endpoint", {"name": "ep-ext", "served_entities": [EXTERNAL]})
    assert result.is_error is False, result.content
    assert posts(workspace)[0].body["config"]["served_entities"] == [EXTERNAL]


async def test_create_coerces_string_percentages(client: Client, workspace: Workspace) -> None:
    entities = [
        {"name": "current", **TURBINE, "scale_to_zero_enabled": True},
        {"name": "challenger", **TURBINE, "entity_version": "2", "scale_to_zero_enabled": True},
    ]
    routes = [
        {"served_model_name": "current", "traffic_percentage": "90"},
        {"served_model_name": "challenger", "traffic_percentage": "10"},
    ]
    result = await client.call_tool(
        "create_endpoint", {"name": "ep-ab", "served_entities": entities, "traffic_routes": routes}
    )
    assert result.is_error is False, result.content
    assert posts(workspace)[0].body["config"]["traffic_config"] == {
        "routes": [
            {"served_entity_name": "current", "traffic_percentage": 90},
            {"served_entity_name": "challenger", "traffic_percentage": 10},
        ]
    }


async def test_create_routes_to_derived_names(client: Client, workspace: Workspace) -> None:
    entities = [TURBINE, {**TURBINE, "entity_version": "2"}]
    routes = [
        {"served_entity_name": "turbine_failure-3", "traffic_percentage": 80},
        {"served_entity_name": "turbine_failure-2", "traffic_percentage": 20},
    ]
    result = await client.call_tool(
        "create_endpoint", {"name": "ep-ab", "served_entities": entities, "traffic_routes": routes}
    )
    assert result.is_error is False, result.content
    pending = workspace.endpoints["ep-ab"].pending
    assert pending is not None
    assert [r["traffic_percentage"] for r in pending.config.routes] == [80, 20]


async def test_create_accepts_json_text_arguments(client: Client, workspace: Workspace) -> None:
    arguments = {
        "name": "ep-json",
        "served_entities": json.dumps([{**TURBINE, "entity_version": 3, "scale_to_zero_enabled": "false"}]),
        "traffic_routes": json.dumps([{"served_model_name": "turbine_failure-3", "traffic_percentage": "100"}]),
        "tags": json.dumps({"team": "ml"}),
    }
    result = await client.call_tool("create_endpoint", arguments)
    assert result.is_error is False, result.content
    sent = posts(workspace)[0].body
    assert sent["config"]["served_entities"][0]["entity_version"] == "3"
    assert sent["config"]["served_entities"][0]["scale_to_zero_enabled"] is False
    assert sent["config"]["traffic_config"]["routes"][0]["traffic_percentage"] == 100
    assert sent["tags"] == [{"key": "team", "value": "ml"}]


async def test_create_unknown_route_target(client: Client, workspace: Workspace) -> None:
    routes = [{"served_entity_name": "turbine_failure", "traffic_percentage": 100}]
    result = await client.call_tool(
        "create_endpoint", {"name": "ep-new", "served_entities": [TURBINE], "traffic_routes": routes}
    )
    text = error_text(result)
    assert "traffic_routes[0].served_entity_name" in text
    assert "turbine_failure-3" in text
    assert workspace.request_log == []


async def test_create_routes_not_summing_to_100(client: Client, workspace: Workspace) -> None:
    routes = [{"served_entity_name": "turbine_failure-3", "traffic_percentage": 90}]
    result = await client.call_tool(
        "create_endpoint", {"name": "ep-new", "served_entities": [TURBINE], "traffic_routes": routes}
    )
    assert "sums to 90" in error_text(result)
    assert workspace.request_log == []


async def test_create_reserved_prefix(client: Client, workspace: Workspace) -> None:
    result = await client.call_tool("create_endpoint", {"name": "databricks-mine", "served_entities": [TURBINE]})
    assert "databricks-" in error_text(result)
    assert workspace.request_log == []


async def test_create_existing_name_suggests_update(client: Client, workspace: Workspace) -> None:
    apply_scenario(workspace, {"endpoints": [EP_DEMO]})
    result = await client.call_tool("create_endpoint", {"name": "ep-demo", "served_entities": [TURBINE]})
    text = error_text(result)
    assert "RESOURCE_ALREADY_EXISTS (HTTP 409)" in text
    assert "update_config" in text
    assert '"existing_endpoint"' in text
    assert list_calls(workspace) == []
    assert [(r.method, r.path) for r in workspace.request_log] == [
        ("POST", ENDPOINTS_PATH),
        ("GET", f"{ENDPOINTS_PATH}/ep-demo"),
    ]
    config = workspace.endpoints["ep-demo"].config
    assert config is not None
    assert config.version == 1
    assert [e["name"] for e in config.served_entities] == ["demo_model-1"]
    assert workspace.endpoints["ep-demo"].pending is None


async def test_create_dry_run_sends_nothing(client: Client, workspace: Workspace) -> None:
    result = await client.call_tool(
        "create_endpoint", {"name": "ep-new", "served_entities": [TURBINE], "tags": {"team": "ml"}, "dry_run": True}
    )
    assert result.is_error is False
    content = result.structured_content
    assert content is not None
    assert content["status"] == "DRY_RUN"
    assert content["request_body"] == {
        "name": "ep-new",
        "config": {"served_entities": [{**TURBINE, "scale_to_zero_enabled": True}]},
        "tags": [{"key": "team", "value": "ml"}],
    }
    assert any("policy: GPU workload types: rejected" == check for check in content["checks"])
    assert workspace.request_log == []
    assert "ep-new" not in workspace.endpoints


async def test_create_missing_model_version(client: Client, workspace: Workspace) -> None:
    entity = {**TURBINE, "entity_version": "9"}
    result = await client.call_tool("create_endpoint", {"name": "ep-new", "served_entities": [entity]})
    text = error_text(result)
    assert "RESOURCE_DOES_NOT_EXIST (HTTP 404)" in text
    assert "Registered versions: 1, 2, 3" in text
    assert "entity_version" in text
    assert "ep-new" not in workspace.endpoints


async def test_create_redacts_plaintext_secrets(client: Client, workspace: Workspace, settings: Settings) -> None:
    secret = "sk-plain-secret-value"
    entity = {
        "name": "gpt-chat",
        "external_model": {
            "name": "gpt-x",
            "provider": "openai",
            "task": "llm/v1/chat",
            "openai_config": {"openai_api_key_plaintext": secret},
        },
    }
    result = await client.call_tool("create_endpoint", {"name": "ep-ext", "served_entities": [entity]})
    assert result.is_error is False, result.content
    assert secret not in result.content[0].text  # type: ignore[union-attr]
    # The emulator's request log redacts secrets, so the stored config shows what the tool sent.
    pending = workspace.endpoints["ep-ext"].pending
    assert pending is not None
    assert pending.config.served_entities[0]["external_model"]["openai_config"] == {"openai_api_key_plaintext": secret}
    assert settings.audit_log is not None
    audit_text = await anyio.Path(settings.audit_log).read_text()
    records = [json.loads(line) for line in audit_text.splitlines()]
    assert [(r["tool"], r["target"], r["outcome"]) for r in records] == [("create_endpoint", "ep-ext", "created")]
    assert secret not in audit_text
