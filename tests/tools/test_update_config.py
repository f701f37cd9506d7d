import json
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from emulator import Workspace, apply_scenario
from emulator.faults import parse_fault
from server.settings import Settings
from tests.tools.support import EXTERNAL, audit_records, content_of, error_text, requests_of

pytestmark = pytest.mark.anyio

NAME = "ep-demo"
GET_PATH = f"/api/2.0/serving-endpoints/{NAME}"
PUT_PATH = f"{GET_PATH}/config"
MODEL = "main.default.turbine_failure"
V2 = {"entity_name": MODEL, "entity_version": "2", "workload_size": "Small", "scale_to_zero_enabled": False}
V3 = {**V2, "entity_version": "3"}
OUTPUT_ONLY_FIELDS = {"state", "creator", "creation_timestamp", "foundation_model"}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(audit_log=str(tmp_path / "audit.jsonl"))


def add_endpoint(workspace: Workspace, **fields: Any) -> None:
    apply_scenario(workspace, {"endpoints": [{"name": NAME, **fields}]})


def add_ab_endpoint(workspace: Workspace) -> None:
    """ep-demo serving versions 2 and 3 of the turbine model, split 100/0."""
    routes = [
        {"served_entity_name": "turbine_failure-2", "traffic_percentage": 100},
        {"served_entity_name": "turbine_failure-3", "traffic_percentage": 0},
    ]
    add_endpoint(workspace, config={"served_entities": [V2, V3], "traffic_config": {"routes": routes}})


def put_body(workspace: Workspace) -> dict[str, Any]:
    puts = [r for r in workspace.request_log if r.method == "PUT"]
    assert len(puts) == 1, requests_of(workspace)
    return dict(puts[0].body)


async def update(client: Client, **arguments: Any) -> Any:
    return await client.call_tool("update_config", {"name": NAME, **arguments})


async def test_update_config_traffic_only_keeps_entities(client: Client, workspace: Workspace) -> None:
    add_ab_endpoint(workspace)
    routes = [
        {"served_model_name": "turbine_failure-2", "traffic_percentage": "90"},
        {"served_model_name": "turbine_failure-3", "traffic_percentage": "10"},
    ]
    content = content_of(await update(client, traffic_routes=routes))
    assert content["status"] == "UPDATING"
    assert requests_of(workspace) == [("GET", GET_PATH), ("PUT", PUT_PATH)]
    body = put_body(workspace)
    assert body["traffic_config"]["routes"] == [
        {"served_entity_name": "turbine_failure-2", "traffic_percentage": 90},
        {"served_entity_name": "turbine_failure-3", "traffic_percentage": 10},
    ]
    for entity in body["served_entities"]:
        assert OUTPUT_ONLY_FIELDS.isdisjoint(entity), entity
        assert entity["scale_to_zero_enabled"] is False
    assert [e["entity_version"] for e in body["served_entities"]] == ["2", "3"]
    assert content["diff"]["traffic_before"] == {"turbine_failure-2": 100, "turbine_failure-3": 0}
    assert content["diff"]["traffic_after"] == {"turbine_failure-2": 90, "turbine_failure-3": 10}
    assert content["diff"]["changed"] == {}
    assert "wait_until_ready(name='ep-demo')" in content["next_steps"][0]
    pending = workspace.endpoints[NAME].pending
    assert pending is not None
    assert [r["traffic_percentage"] for r in pending.config.routes] == [90, 10]


async def test_update_config_same_routes_no_put(client: Client, workspace: Workspace) -> None:
    add_ab_endpoint(workspace)
    routes = [
        {"served_entity_name": "turbine_failure-2", "traffic_percentage": 100},
        {"served_entity_name": "turbine_failure-3", "traffic_percentage": 0},
    ]
    content = content_of(await update(client, traffic_routes=routes))
    assert content["status"] == "NO_CHANGE"
    assert content["request"] is None
    assert requests_of(workspace) == [("GET", GET_PATH)]
    config = workspace.endpoints[NAME].config
    assert config is not None
    assert config.version == 1


async def test_update_config_server_defaults_no_change(client: Client, workspace: Workspace) -> None:
    # The API filled in workload_type CPU on the stored entity, and the request leaves it out.
    add_endpoint(workspace, config={"served_entities": [V2]})
    entity = {"entity_name": MODEL, "entity_version": 2, "scale_to_zero_enabled": "false"}
    content = content_of(await update(client, served_entities=[entity]))
    assert content["status"] == "NO_CHANGE"
    assert requests_of(workspace) == [("GET", GET_PATH)]


async def test_update_config_keeps_scale_to_zero_false(client: Client, workspace: Workspace) -> None:
    add_endpoint(workspace, config={"served_entities": [V2]})
    content = content_of(await update(client, served_entities=[V3]))
    assert content["status"] == "UPDATING"
    body = put_body(workspace)
    assert body["served_entities"][0]["scale_to_zero_enabled"] is False
    assert body["traffic_config"] == {
        "routes": [{"served_entity_name": "turbine_failure-3", "traffic_percentage": 100}]
    }
    assert content["diff"]["added"] == ["turbine_failure-3"]
    assert content["diff"]["removed"] == ["turbine_failure-2"]
    assert workspace.endpoints[NAME].pending is not None


async def test_update_config_notes_filled_defaults(client: Client, workspace: Workspace) -> None:
    add_endpoint(workspace, config={"served_entities": [V2]})
    entity = {"model_name": MODEL, "model_version": 3, "workload_size": "Small"}
    content = content_of(await update(client, served_entities=[entity]))
    sent = put_body(workspace)["served_entities"][0]
    assert sent == {
        "entity_name": MODEL,
        "entity_version": "3",
        "workload_size": "Small",
        "scale_to_zero_enabled": True,
    }
    notes = " ".join(content["notes"])
    assert "scale_to_zero_enabled was not given, so the default true was sent" in notes
    assert "entity_version 3 was sent as the string '3'" in notes
    assert "model_name was sent as entity_name" in notes
    assert "model_version was sent as entity_version" in notes


async def test_update_config_external_model_no_compute(client: Client, workspace: Workspace) -> None:
    add_endpoint(workspace, config={"served_entities": [EXTERNAL]})
    new_model = {**EXTERNAL, "external_model": {**EXTERNAL["external_model"], "name": "gpt-y"}}  # type: ignore[dict-item]
    content = content_of(await update(client, served_entities=[new_model]))
    assert content["status"] == "UPDATING"
    assert put_body(workspace)["served_entities"] == [new_model]
    assert content["diff"]["changed"] == {"gpt-chat": ["external_model"]}


async def test_update_config_hides_plaintext_secret(client: Client, workspace: Workspace) -> None:
    add_endpoint(workspace, config={"served_entities": [EXTERNAL]})
    secret = "sk-plain-secret-value"
    external = {**EXTERNAL["external_model"], "openai_config": {"openai_api_key_plaintext": secret}}  # type: ignore[dict-item]
    result = await update(client, served_entities=[{"name": "gpt-chat", "external_model": external}])
    assert content_of(result)["status"] == "UPDATING"
    assert secret not in result.content[0].text  # type: ignore[union-attr]
    pending = workspace.endpoints[NAME].pending
    assert pending is not None
    assert pending.config.served_entities[0]["external_model"]["openai_config"] == {"openai_api_key_plaintext": secret}


async def test_update_config_external_traffic_only(client: Client, workspace: Workspace) -> None:
    other = {**EXTERNAL, "name": "gpt-other"}
    routes = [
        {"served_entity_name": "gpt-chat", "traffic_percentage": 100},
        {"served_entity_name": "gpt-other", "traffic_percentage": 0},
    ]
    add_endpoint(workspace, config={"served_entities": [EXTERNAL, other], "traffic_config": {"routes": routes}})
    new_routes = [{**routes[0], "traffic_percentage": 50}, {**routes[1], "traffic_percentage": 50}]
    content = content_of(await update(client, traffic_routes=new_routes))
    assert content["status"] == "UPDATING"
    assert put_body(workspace)["served_entities"] == [EXTERNAL, other]
    assert any("*_plaintext" in note for note in content["notes"])


async def test_update_config_json_text_arguments(client: Client, workspace: Workspace) -> None:
    add_endpoint(workspace, config={"served_entities": [V2]})
    entities = json.dumps([{"entity_name": MODEL, "entity_version": "3", "scale_to_zero_enabled": "false"}])
    routes = json.dumps([{"served_model_name": "turbine_failure-3", "traffic_percentage": "100"}])
    content = content_of(await update(client, served_entities=entities, traffic_routes=routes))
    assert content["status"] == "UPDATING"
    body = put_body(workspace)
    assert body["served_entities"][0]["scale_to_zero_enabled"] is False
    assert body["traffic_config"]["routes"][0]["traffic_percentage"] == 100


async def test_update_config_unknown_route_target(client: Client, workspace: Workspace) -> None:
    add_endpoint(workspace, config={"served_entities": [V2]})
    routes = [{"served_entity_name": "turbine_failure", "traffic_percentage": 100}]
    text = error_text(await update(client, served_entities=[V3], traffic_routes=routes))
    assert "traffic_routes[0].served_entity_name" in text
    assert "turbine_failure-3" in text
    assert workspace.request_log == []


async def test_update_config_routes_not_summing_to_100(client: Client, workspace: Workspace) -> None:
    add_ab_endpoint(workspace)
    routes = [
        {"served_entity_name": "turbine_failure-2", "traffic_percentage": 80},
        {"served_entity_name": "turbine_failure-3", "traffic_percentage": 10},
    ]
    text = error_text(await update(client, traffic_routes=routes))
    assert "sums to 90" in text
    assert requests_of(workspace) == [("GET", GET_PATH)]


async def test_update_config_routes_required_for_new_entities(client: Client, workspace: Workspace) -> None:
    add_endpoint(workspace, config={"served_entities": [V2]})
    text = error_text(await update(client, served_entities=[V2, V3]))
    assert "traffic_routes" in text
    assert "is required when the endpoint serves 2 entities" in text
    assert requests_of(workspace) == [("GET", GET_PATH)]


async def test_update_config_keeps_current_split(client: Client, workspace: Workspace) -> None:
    add_ab_endpoint(workspace)
    medium = [{**V2, "workload_size": "Medium"}, {**V3, "workload_size": "Medium"}]
    content = content_of(await update(client, served_entities=medium))
    assert put_body(workspace)["traffic_config"]["routes"] == [
        {"served_entity_name": "turbine_failure-2", "traffic_percentage": 100},
        {"served_entity_name": "turbine_failure-3", "traffic_percentage": 0},
    ]
    assert content["diff"]["changed"] == {
        "turbine_failure-2": ["workload_size"],
        "turbine_failure-3": ["workload_size"],
    }
    assert "the current traffic split is kept" in " ".join(content["notes"])


async def test_update_config_nothing_to_change(client: Client, workspace: Workspace) -> None:
    add_endpoint(workspace, config={"served_entities": [V2]})
    text = error_text(await update(client))
    assert "served_entities" in text
    assert "traffic_routes" in text
    assert workspace.request_log == []


async def test_update_config_missing_endpoint(client: Client, workspace: Workspace) -> None:
    text = error_text(await update(client, served_entities=[V3]))
    assert "RESOURCE_DOES_NOT_EXIST (HTTP 404)" in text
    assert "list_endpoints" in text
    assert requests_of(workspace) == [("GET", GET_PATH)]


async def test_update_config_in_progress_rejected(client: Client, workspace: Workspace) -> None:
    add_endpoint(workspace, config={"served_entities": [V2]}, pending={"config": {"served_entities": [V3]}})
    text = error_text(await update(client, served_entities=[{**V3, "workload_size": "Medium"}]))
    assert "UPDATE_IN_PROGRESS" in text
    assert "config version 2" in text
    assert "turbine_failure-3" in text
    assert "wait_until_ready(name='ep-demo')" in text
    assert requests_of(workspace) == [("GET", GET_PATH)]
    pending = workspace.endpoints[NAME].pending
    assert pending is not None
    assert pending.config.served_entities[0]["workload_size"] == "Small"


async def test_update_config_api_conflict_keeps_code(client: Client, workspace: Workspace) -> None:
    add_endpoint(workspace, config={"served_entities": [V2]})
    message = "Endpoint ep-demo is currently updating."
    fault = {"kind": "status", "method": "PUT", "status": 409, "error_code": "RESOURCE_CONFLICT", "message": message}
    workspace.faults.append(parse_fault(fault))
    text = error_text(await update(client, served_entities=[V3]))
    assert "RESOURCE_CONFLICT (HTTP 409)" in text
    assert message in text
    assert "wait_until_ready(name='ep-demo')" in text
    assert workspace.endpoints[NAME].pending is None


async def test_update_config_missing_version(client: Client, workspace: Workspace) -> None:
    add_endpoint(workspace, config={"served_entities": [V2]})
    text = error_text(await update(client, served_entities=[{**V2, "entity_version": "9"}]))
    assert "RESOURCE_DOES_NOT_EXIST (HTTP 404)" in text
    assert "Registered versions: 1, 2, 3" in text
    assert workspace.endpoints[NAME].pending is None


async def test_update_config_api_400_message(client: Client, workspace: Workspace) -> None:
    add_endpoint(workspace, config={"served_entities": [V2]})
    text = error_text(await update(client, served_entities=[{**V3, "workload_size": "Tiny"}]))
    assert "INVALID_PARAMETER_VALUE (HTTP 400)" in text
    assert "Workload size 'Tiny' is not supported" in text
    assert "dry_run=true" in text


async def test_update_config_dry_run_sends_no_put(client: Client, workspace: Workspace) -> None:
    add_endpoint(workspace, config={"served_entities": [V2]})
    content = content_of(await update(client, served_entities=[V3], dry_run=True))
    assert content["status"] == "DRY_RUN"
    assert content["request"]["method"] == "PUT"
    assert content["request"]["path"] == PUT_PATH
    assert content["request"]["body"]["served_entities"] == [V3]
    assert requests_of(workspace) == [("GET", GET_PATH)]
    assert workspace.endpoints[NAME].pending is None


async def test_update_config_gpu_rejected_before_requests(client: Client, workspace: Workspace) -> None:
    add_endpoint(workspace, config={"served_entities": [V2]})
    text = error_text(await update(client, served_entities=[{**V3, "workload_type": "GPU_SMALL"}]))
    assert "COST_GUARD" in text
    assert workspace.request_log == []


@pytest.mark.parametrize(
    ("settings", "error_code"),
    [(Settings(read_only=True), "READ_ONLY_MODE"), (Settings(protected_endpoints=("ep-*",)), "PROTECTED_ENDPOINT")],
)
async def test_update_config_policy_sends_nothing(client: Client, workspace: Workspace, error_code: str) -> None:
    add_endpoint(workspace, config={"served_entities": [V2]})
    text = error_text(await update(client, served_entities=[V3], dry_run=True))
    assert error_code in text
    assert workspace.request_log == []


async def test_update_config_audits_outcomes(client: Client, workspace: Workspace, settings: Settings) -> None:
    add_endpoint(workspace, config={"served_entities": [V2]})
    await update(client, served_entities=[{**V3, "workload_type": "GPU_SMALL"}])
    content_of(await update(client, served_entities=[V3]))
    await update(client, served_entities=[V2])
    records = await audit_records(settings)
    assert [(r["tool"], r["outcome"]) for r in records] == [
        ("update_config", "rejected"),
        ("update_config", "updating"),
        ("update_config", "rejected"),
    ]
    assert records[0]["detail"]["error_code"] == "COST_GUARD"
    assert records[1]["detail"]["config_version"] == 2
    assert records[2]["detail"]["error_code"] == "UPDATE_IN_PROGRESS"


async def test_create_notes_filled_defaults(client: Client, workspace: Workspace) -> None:
    entity = {"model_name": MODEL, "model_version": 3, "workload_size": "Small"}
    result = await client.call_tool("create_endpoint", {"name": "ep-new", "served_entities": [entity]})
    content = content_of(result)
    notes = " ".join(content["notes"])
    assert "scale_to_zero_enabled was not given, so the default true was sent" in notes
    assert "entity_version 3 was sent as the string '3'" in notes
    assert "model_name was sent as entity_name" in notes


async def test_create_explicit_fields_no_notes(client: Client, workspace: Workspace) -> None:
    result = await client.call_tool("create_endpoint", {"name": "ep-new", "served_entities": [V3]})
    assert content_of(result)["notes"] == []
