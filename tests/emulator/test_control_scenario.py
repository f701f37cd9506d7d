from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from emulator import Workspace, apply_scenario, seeded_workspace
from emulator.scenario import ScenarioError
from tests.emulator.control_support import ENDPOINTS, get

pytestmark = [pytest.mark.anyio, pytest.mark.behaviour("scenario.format")]

DEMO = {"entity_name": "main.default.demo_model", "workload_size": "Small", "scale_to_zero_enabled": True}


def config(version: str) -> dict[str, Any]:
    return {"served_entities": [{**DEMO, "entity_version": version}]}


SCENARIO: dict[str, Any] = {
    "endpoints": [
        {
            "name": "ep-busy",
            "config": config("1"),
            "usage": {"demo_model-1": {"request_count": 10, "request_4xx_count": 2, "request_5xx_count": 1}},
            "behaviour": {"logs": "line one\nline two\n"},
        },
        {
            "name": "ep-failed",
            "config": config("1"),
            "pending": {"config": config("2"), "state": "UPDATE_FAILED", "message": "container build failed"},
        },
        {
            "name": "ep-updating",
            "config": config("1"),
            "pending": {"config": config("2"), "outcome": "failed", "seconds_left": 60, "message": "OOM"},
        },
        {"name": "ep-warm", "config": config("1"), "warmup_seconds_left": 30},
        {
            "name": "ep-rag",
            "config": config("1"),
            "entity_states": {"demo_model-1": {"deployment": "DEPLOYMENT_FAILED", "message": "crash loop"}},
        },
    ]
}


def state_of(body: dict[str, Any]) -> tuple[str, str]:
    return body["state"]["ready"], body["state"]["config_update"]


@pytest.mark.behaviour("state.update-failed")
async def test_scenario_failed_update(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    apply_scenario(workspace, SCENARIO)
    body = await get(emulator_http, "ep-failed")
    assert state_of(body) == ("READY", "UPDATE_FAILED")
    assert body["config"]["config_version"] == 1
    pending = body["pending_config"]
    assert pending["config_version"] == 2
    assert pending["served_entities"][0]["state"] == {
        "deployment": "DEPLOYMENT_FAILED",
        "deployment_state_message": "container build failed",
    }


@pytest.mark.behaviour("state.update-failed", "state.deploy-delay")
async def test_scenario_update_in_flight(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    apply_scenario(workspace, SCENARIO)
    assert state_of(await get(emulator_http, "ep-updating")) == ("READY", "IN_PROGRESS")
    workspace.clock.advance(60)
    body = await get(emulator_http, "ep-updating")
    assert state_of(body) == ("READY", "UPDATE_FAILED")
    assert body["pending_config"]["served_entities"][0]["state"]["deployment_state_message"] == "OOM"


@pytest.mark.behaviour("state.warmup")
async def test_scenario_warmup(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    apply_scenario(workspace, SCENARIO)
    assert state_of(await get(emulator_http, "ep-warm")) == ("NOT_READY", "NOT_UPDATING")
    workspace.clock.advance(30)
    assert state_of(await get(emulator_http, "ep-warm")) == ("READY", "NOT_UPDATING")


async def test_scenario_entity_state(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    apply_scenario(workspace, SCENARIO)
    body = await get(emulator_http, "ep-rag")
    assert state_of(body) == ("NOT_READY", "NOT_UPDATING")
    assert body["config"]["served_entities"][0]["state"]["deployment_state_message"] == "crash loop"


async def test_scenario_usage_and_logs(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    apply_scenario(workspace, SCENARIO)
    metrics = (await emulator_http.get(f"{ENDPOINTS}/ep-busy/metrics")).text
    assert 'request_count_total{served_entity="demo_model-1"} 10.0' in metrics
    assert 'request_4xx_count_total{served_entity="demo_model-1"} 2.0' in metrics
    assert 'request_5xx_count_total{served_entity="demo_model-1"} 1.0' in metrics
    logs = await emulator_http.get(f"{ENDPOINTS}/ep-busy/served-models/demo_model-1/logs")
    assert logs.json() == {"logs": "line one\nline two\n"}


def test_scenario_file_on_top_of_seed(tmp_path: Path) -> None:
    path = tmp_path / "extra.yaml"
    path.write_text(yaml.safe_dump({"time_scale": 0, "workspace": {"cloud": "azure"}, **SCENARIO}))
    workspace = seeded_workspace(path)
    assert workspace.cloud == "azure"
    assert workspace.clock.time_scale == 0
    assert "ep-busy" in workspace.endpoints
    assert "databricks-claude-sonnet-4-6" in workspace.endpoints


def test_scenario_invalid_endpoint_named(workspace: Workspace) -> None:
    bad = {"endpoints": [{"name": "ep-bad", "config": config("9")}]}
    with pytest.raises(ScenarioError, match="ep-bad"):
        apply_scenario(workspace, bad)


def test_scenario_invalid_pending_state(workspace: Workspace) -> None:
    bad = {
        "endpoints": [{"name": "ep-bad", "config": config("1"), "pending": {"config": config("2"), "state": "DONE"}}]
    }
    with pytest.raises(ScenarioError, match="pending.state"):
        apply_scenario(workspace, bad)


@pytest.mark.behaviour("foundation.pay-per-token")
async def test_seed_endpoints_ready(emulator_http: httpx.AsyncClient) -> None:
    endpoints = (await emulator_http.get(ENDPOINTS)).json()["endpoints"]
    assert endpoints
    for endpoint in endpoints:
        assert state_of(endpoint) == ("READY", "NOT_UPDATING"), endpoint["name"]


@pytest.mark.behaviour("foundation.pay-per-token", "config.endpoint-type-and-task")
async def test_seed_fm_and_look_alike(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    fm = await get(emulator_http, "databricks-claude-sonnet-4-6")
    assert "id" not in fm
    assert fm["endpoint_type"] == "FOUNDATION_MODEL_API"
    assert fm["config"]["served_entities"][0]["foundation_model"]["display_name"] == "Claude Sonnet 4.6"
    assert fm["config"]["served_entities"][0]["scale_to_zero_enabled"] is False
    look_alike = await get(emulator_http, "databricks-app-template-serving")
    assert len(look_alike["id"]) == 32
    assert look_alike["endpoint_type"] == "CUSTOM_MODEL"
    assert look_alike["task"] == "agent/v1/responses"
    assert workspace.endpoints["databricks-app-template-serving"].system is False
