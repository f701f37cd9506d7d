from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from emulator import Workspace, apply_scenario
from emulator.faults import parse_fault
from server.settings import Settings
from tests.tools.support import DEMO_V1, EXTERNAL, audit_records, content_of, error_text, requests_of

pytestmark = pytest.mark.anyio

NAME = "ep-demo"
MODEL = "main.default.turbine_failure"
GET_PATH = f"/api/2.0/serving-endpoints/{NAME}"
CONFIG_PATH = f"{GET_PATH}/config"
MODEL_PATH = f"/api/2.1/unity-catalog/models/{MODEL}"
ALIAS_PATH = f"{MODEL_PATH}/aliases/prod"
V2 = {"entity_name": MODEL, "entity_version": "2", "workload_size": "Small", "scale_to_zero_enabled": False}
# The seeded registry has turbine_failure versions 1-3 with the alias prod on version 2.
ALIAS_FAULT = {
    "kind": "status",
    "method": "PUT",
    "path": "/aliases/",
    "status": 403,
    "error_code": "PERMISSION_DENIED",
    "message": "User does not have permission to set aliases on this model.",
}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(audit_log=str(tmp_path / "audit.jsonl"))


def add_endpoint(workspace: Workspace, *entities: dict[str, Any], routes: list[Any] | None = None) -> None:
    config: dict[str, Any] = {"served_entities": list(entities)}
    if routes is not None:
        config["traffic_config"] = {"routes": routes}
    apply_scenario(workspace, {"endpoints": [{"name": NAME, "config": config}]})


def writes(workspace: Workspace) -> list[Any]:
    return [r for r in workspace.request_log if r.method != "GET"]


def alias_version(workspace: Workspace) -> int:
    return workspace.models[MODEL].aliases["prod"]


def pending_routes(workspace: Workspace) -> dict[str, int]:
    pending = workspace.endpoints[NAME].pending
    assert pending is not None
    return {r["served_entity_name"]: r["traffic_percentage"] for r in pending.config.routes}


async def swap(client: Client, **arguments: Any) -> Any:
    return await client.call_tool("swap_model_version", {"name": NAME, **arguments})


async def test_swap_replaces_version_and_moves_alias(client: Client, workspace: Workspace) -> None:
    add_endpoint(workspace, V2)
    content = content_of(await swap(client, version=3, alias="prod"))
    assert requests_of(workspace) == [
        ("GET", GET_PATH),
        ("GET", f"{MODEL_PATH}/versions/3"),
        ("GET", ALIAS_PATH),
        ("PUT", CONFIG_PATH),
        ("PUT", ALIAS_PATH),
    ]
    config_put, alias_put = writes(workspace)
    assert config_put.body == {
        "served_entities": [{**V2, "workload_type": "CPU", "entity_version": "3", "name": "turbine_failure-3"}],
        "traffic_config": {"routes": [{"served_entity_name": "turbine_failure-3", "traffic_percentage": 100}]},
    }
    assert alias_put.body == {"version_num": 3}
    assert alias_version(workspace) == 3
    assert pending_routes(workspace) == {"turbine_failure-3": 100}
    assert content["status"] == "SWAPPING"
    assert content["config_update"] == "UPDATING"
    assert content["config_version"] == 2
    assert content["served_entity"] == "turbine_failure-3"
    assert content["alias"] == {"alias": "prod", "from_version": 2, "to_version": 3, "status": "MOVED"}
    assert content["diff"]["removed"] == ["turbine_failure-2"]
    assert "wait_until_ready(name='ep-demo')" in content["next_steps"][0]
    assert "state.config_update" in content["next_steps"][0]
    assert any("version_num=2" in step for step in content["undo"])
    assert any("version=2" in step for step in content["undo"])


async def test_swap_keeps_compute_settings(client: Client, workspace: Workspace) -> None:
    old = {**V2, "workload_size": "Medium", "environment_vars": {"MODE": "strict"}}
    add_endpoint(workspace, old)
    content_of(await swap(client, version="3"))
    new = writes(workspace)[0].body["served_entities"][0]
    assert new["workload_size"] == "Medium"
    assert new["scale_to_zero_enabled"] is False
    assert new["environment_vars"] == {"MODE": "strict"}
    assert new["entity_version"] == "3"


async def test_swap_canary_splits_traffic(client: Client, workspace: Workspace) -> None:
    add_endpoint(workspace, V2)
    content = content_of(await swap(client, version=3, canary_percentage="10"))
    assert pending_routes(workspace) == {"turbine_failure-2": 90, "turbine_failure-3": 10}
    assert content["diff"]["added"] == ["turbine_failure-3"]
    assert content["diff"]["removed"] == []
    assert "again without canary_percentage" in content["next_steps"][1]
    assert content["alias"] is None


async def test_swap_promotes_canary(client: Client, workspace: Workspace) -> None:
    add_endpoint(workspace, V2)
    content_of(await swap(client, version=3, canary_percentage=25))
    workspace.clock.advance(600)
    content = content_of(await swap(client, version=3))
    assert pending_routes(workspace) == {"turbine_failure-3": 100}
    assert content["diff"]["removed"] == ["turbine_failure-2"]
    assert content["diff"]["traffic_before"] == {"turbine_failure-2": 75, "turbine_failure-3": 25}


async def test_swap_keeps_other_models(client: Client, workspace: Workspace) -> None:
    routes = [
        {"served_entity_name": "turbine_failure-2", "traffic_percentage": 80},
        {"served_entity_name": "demo_model-1", "traffic_percentage": 20},
    ]
    add_endpoint(workspace, V2, DEMO_V1, routes=routes)
    content_of(await swap(client, version=3, model="turbine_failure", canary_percentage=30))
    assert pending_routes(workspace) == {"turbine_failure-2": 50, "turbine_failure-3": 30, "demo_model-1": 20}


async def test_swap_needs_model_when_several(client: Client, workspace: Workspace) -> None:
    routes = [
        {"served_entity_name": "turbine_failure-2", "traffic_percentage": 50},
        {"served_entity_name": "demo_model-1", "traffic_percentage": 50},
    ]
    add_endpoint(workspace, V2, DEMO_V1, routes=routes)
    text = error_text(await swap(client, version=3))
    assert "Invalid model=None" in text
    assert MODEL in text
    assert "main.default.demo_model" in text
    assert requests_of(workspace) == [("GET", GET_PATH)]


async def test_swap_canary_above_share_rejected(client: Client, workspace: Workspace) -> None:
    routes = [
        {"served_entity_name": "turbine_failure-2", "traffic_percentage": 40},
        {"served_entity_name": "demo_model-1", "traffic_percentage": 60},
    ]
    add_endpoint(workspace, V2, DEMO_V1, routes=routes)
    text = error_text(await swap(client, version=3, model=MODEL, canary_percentage=40))
    assert "canary_percentage" in text
    assert "from 1 to 39" in text
    assert writes(workspace) == []


async def test_swap_canary_needs_old_version(client: Client, workspace: Workspace) -> None:
    add_endpoint(workspace, {**V2, "entity_version": "3"})
    text = error_text(await swap(client, version=3, canary_percentage=10))
    assert "needs an old version to split with" in text
    assert writes(workspace) == []


async def test_swap_missing_version_lists_registered(client: Client, workspace: Workspace) -> None:
    add_endpoint(workspace, V2)
    text = error_text(await swap(client, version=9, alias="prod"))
    assert "VERSION_NOT_FOUND" in text
    assert "Registered versions: 1, 2, 3" in text
    assert writes(workspace) == []
    assert alias_version(workspace) == 2
    assert workspace.endpoints[NAME].pending is None


async def test_swap_alias_failure_reports_half(client: Client, workspace: Workspace) -> None:
    add_endpoint(workspace, V2)
    workspace.faults.append(parse_fault({**ALIAS_FAULT, "count": 1}))
    text = error_text(await swap(client, version=3, alias="prod"))
    assert "SWAP_INCOMPLETE" in text
    assert "config update was accepted (config version 2" in text
    assert "still points to version 2" in text
    assert ALIAS_FAULT["message"] in text
    assert "wait_until_ready(name='ep-demo')" in text
    assert "same arguments" in text
    assert [(r.method, r.path, r.status) for r in writes(workspace)] == [
        ("PUT", CONFIG_PATH, 200),
        ("PUT", ALIAS_PATH, 403),
    ]
    assert alias_version(workspace) == 2
    assert pending_routes(workspace) == {"turbine_failure-3": 100}

    # Once the update is done, the same call moves only the alias.
    workspace.clock.advance(600)
    workspace.request_log.clear()
    content = content_of(await swap(client, version=3, alias="prod"))
    assert content["status"] == "ALIAS_MOVED"
    assert content["config_update"] == "NO_CHANGE"
    assert [(r.method, r.path) for r in writes(workspace)] == [("PUT", ALIAS_PATH)]
    assert alias_version(workspace) == 3


async def test_swap_config_rejected_leaves_alias(client: Client, workspace: Workspace) -> None:
    add_endpoint(workspace, V2)
    fault = {"kind": "status", "method": "PUT", "path": "/config$", "status": 409, "error_code": "RESOURCE_CONFLICT"}
    workspace.faults.append(parse_fault(fault))
    text = error_text(await swap(client, version=3, alias="prod"))
    assert "RESOURCE_CONFLICT (HTTP 409)" in text
    assert "Alias 'prod' was not changed and still points to version 2" in text
    assert [(r.method, r.path) for r in writes(workspace)] == [("PUT", CONFIG_PATH)]
    assert alias_version(workspace) == 2


async def test_swap_in_progress_rejected(client: Client, workspace: Workspace) -> None:
    pending = {"config": {"served_entities": [{**V2, "entity_version": "3"}]}}
    apply_scenario(workspace, {"endpoints": [{"name": NAME, "config": {"served_entities": [V2]}, "pending": pending}]})
    text = error_text(await swap(client, version=1, alias="prod"))
    assert "UPDATE_IN_PROGRESS" in text
    assert "wait_until_ready(name='ep-demo')" in text
    assert requests_of(workspace) == [("GET", GET_PATH)]
    assert alias_version(workspace) == 2


async def test_swap_dry_run_sends_no_write(client: Client, workspace: Workspace) -> None:
    add_endpoint(workspace, V2)
    content = content_of(await swap(client, version=3, alias="prod", dry_run=True))
    assert content["status"] == "DRY_RUN"
    assert [(r["method"], r["path"]) for r in content["requests"]] == [("PUT", CONFIG_PATH), ("PUT", ALIAS_PATH)]
    assert content["requests"][1]["body"] == {"version_num": 3}
    assert content["alias"]["status"] == "DRY_RUN"
    assert writes(workspace) == []
    assert alias_version(workspace) == 2


async def test_swap_already_done_sends_nothing(client: Client, workspace: Workspace) -> None:
    add_endpoint(workspace, V2)
    content = content_of(await swap(client, version=2, alias="prod"))
    assert content["status"] == "NO_CHANGE"
    assert content["alias"]["status"] == "UNCHANGED"
    assert writes(workspace) == []


async def test_swap_external_endpoint_rejected(client: Client, workspace: Workspace) -> None:
    add_endpoint(workspace, EXTERNAL)
    text = error_text(await swap(client, version=2))
    assert "NO_REGISTERED_MODEL" in text
    assert "update_config" in text
    assert writes(workspace) == []


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"version": "@prod"}, "version"),
        ({"version": 0}, "version"),
        ({"version": 3, "alias": "latest"}, "alias"),
        ({"version": 3, "alias": "prod alias"}, "alias"),
        ({"version": 3, "canary_percentage": 100}, "canary_percentage"),
    ],
)
async def test_swap_invalid_arguments(
    client: Client, workspace: Workspace, arguments: dict[str, Any], field: str
) -> None:
    add_endpoint(workspace, V2)
    text = error_text(await swap(client, **arguments))
    assert f"Invalid {field}=" in text
    assert workspace.request_log == []


@pytest.mark.parametrize("settings", [Settings(read_only=True)])
async def test_swap_read_only_sends_nothing(client: Client, workspace: Workspace) -> None:
    add_endpoint(workspace, V2)
    text = error_text(await swap(client, version=3, alias="prod", dry_run=True))
    assert "READ_ONLY_MODE" in text
    assert workspace.request_log == []


async def test_swap_audits_outcomes(client: Client, workspace: Workspace, settings: Settings) -> None:
    add_endpoint(workspace, V2)
    workspace.faults.append(parse_fault({**ALIAS_FAULT, "count": 1}))
    error_text(await swap(client, version=3, alias="prod"))
    workspace.clock.advance(600)
    content_of(await swap(client, version=3, alias="prod"))
    error_text(await swap(client, version=9))
    records = await audit_records(settings)
    assert [(r["tool"], r["outcome"]) for r in records] == [
        ("swap_model_version", "failed"),
        ("swap_model_version", "alias_moved"),
        ("swap_model_version", "rejected"),
    ]
    assert records[0]["detail"]["error_code"] == "SWAP_INCOMPLETE"
    assert records[1]["detail"]["alias_from"] == 2
    assert records[2]["detail"]["error_code"] == "VERSION_NOT_FOUND"
