import httpx
import pytest

from emulator import Workspace
from tests.emulator.control_support import (
    DEPLOY_SECONDS,
    ENDPOINTS,
    create,
    create_ready,
    demo_entity,
    error_of,
    update,
)

pytestmark = pytest.mark.anyio


async def logs_of(http: httpx.AsyncClient, name: str, entity: str, kind: str = "build-logs") -> httpx.Response:
    return await http.get(f"{ENDPOINTS}/{name}/served-models/{entity}/{kind}")


@pytest.mark.behaviour("logs.build-logs")
async def test_build_logs_of_ready_entity(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    await create_ready(emulator_http, workspace, "ep-demo")
    response = await logs_of(emulator_http, "ep-demo", "demo_model-1")
    assert response.status_code == 200, response.text
    logs = response.json()["logs"]
    assert "demo_model-1" in logs
    assert "Container build succeeded." in logs


@pytest.mark.behaviour("logs.build-logs", "state.update-failed")
async def test_build_logs_show_failure(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    await create_ready(emulator_http, workspace, "ep-demo")
    behaviour = workspace.endpoints["ep-demo"].behaviour
    behaviour.next_update_outcome = "failed"
    behaviour.next_update_message = "container build failed: dependency conflict"
    await update(emulator_http, "ep-demo", {"served_entities": [demo_entity("2")]})
    workspace.clock.advance(DEPLOY_SECONDS)
    logs = (await logs_of(emulator_http, "ep-demo", "demo_model-2")).json()["logs"]
    assert "ERROR: container build failed: dependency conflict" in logs
    assert "Container build failed." in logs
    assert "succeeded" not in logs


@pytest.mark.behaviour("logs.build-logs")
async def test_build_logs_while_creating(emulator_http: httpx.AsyncClient) -> None:
    await create(emulator_http, "ep-new", demo_entity())
    logs = (await logs_of(emulator_http, "ep-new", "demo_model-1")).json()["logs"]
    assert "Building the image layers" in logs
    assert "succeeded" not in logs
    assert "failed" not in logs


@pytest.mark.behaviour("logs.unknown-entity")
async def test_logs_unknown_entity_lists_valid(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    routes = [
        {"served_entity_name": "a-1", "traffic_percentage": 50},
        {"served_entity_name": "b-1", "traffic_percentage": 50},
    ]
    config = {
        "served_entities": [demo_entity(name="a-1"), demo_entity(name="b-1")],
        "traffic_config": {"routes": routes},
    }
    await emulator_http.post(ENDPOINTS, json={"name": "ep-ab", "config": config})
    for kind in ("build-logs", "logs"):
        response = await logs_of(emulator_http, "ep-ab", "x-1", kind)
        status, code, message = error_of(response)
        assert (status, code) == (404, "RESOURCE_DOES_NOT_EXIST")
        assert "x-1" in message
        assert "'a-1'" in message
        assert "'b-1'" in message


@pytest.mark.behaviour("delete.endpoint", "get.not-found")
async def test_logs_of_deleted_endpoint(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    await create_ready(emulator_http, workspace, "ep-gone")
    await emulator_http.delete(f"{ENDPOINTS}/ep-gone")
    response = await logs_of(emulator_http, "ep-gone", "demo_model-1")
    status, _, message = error_of(response)
    assert status == 404
    assert "ep-gone" in message


@pytest.mark.behaviour("logs.server-logs")
async def test_server_logs_empty_before_ready(emulator_http: httpx.AsyncClient) -> None:
    await create(emulator_http, "ep-new", demo_entity())
    response = await logs_of(emulator_http, "ep-new", "demo_model-1", "logs")
    assert response.json() == {"logs": ""}


@pytest.mark.behaviour("logs.server-logs", "query.usage-counters")
async def test_server_logs_list_requests(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    await create_ready(emulator_http, workspace, "ep-demo")
    usage = workspace.endpoints["ep-demo"].usage_of("demo_model-1")
    for _ in range(2):
        usage.record(200, 12.0, workspace.clock.now_ms())
    logs = (await logs_of(emulator_http, "ep-demo", "demo_model-1", "logs")).json()["logs"]
    assert "Model loaded" in logs
    assert logs.count("POST /invocations") == 2


@pytest.mark.behaviour("admin.behaviour")
async def test_logs_override_per_entity(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    await create_ready(emulator_http, workspace, "ep-demo")
    behaviour = workspace.endpoints["ep-demo"].behaviour
    behaviour.logs = {"demo_model-1": "PERMISSION_DENIED calling databricks-demo-embed\n"}
    behaviour.build_logs = "fixed build output\n"
    logs = (await logs_of(emulator_http, "ep-demo", "demo_model-1", "logs")).json()["logs"]
    assert logs == "PERMISSION_DENIED calling databricks-demo-embed\n"
    build = (await logs_of(emulator_http, "ep-demo", "demo_model-1")).json()["logs"]
    assert build == "fixed build output\n"
