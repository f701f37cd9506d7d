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
    get,
    update,
)

pytestmark = pytest.mark.anyio


def deployments(body: dict[str, object], key: str) -> dict[str, str]:
    config = body[key]
    assert isinstance(config, dict)
    return {e["name"]: e["state"]["deployment"] for e in config["served_entities"]}


@pytest.mark.behaviour("update.replaces-config")
async def test_update_replaces_entity_list(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    await create_ready(emulator_http, workspace, "ep-demo")
    response = await update(emulator_http, "ep-demo", {"served_entities": [demo_entity("2")]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["name"] == "ep-demo"
    assert body["state"] == {"ready": "READY", "config_update": "IN_PROGRESS", "suspend": "NOT_SUSPENDED"}
    assert body["pending_config"]["config_version"] == 2
    assert deployments(body, "config") == {"demo_model-1": "DEPLOYMENT_READY"}
    workspace.clock.advance(DEPLOY_SECONDS)
    body = await get(emulator_http, "ep-demo")
    assert body["config"]["config_version"] == 2
    assert deployments(body, "config") == {"demo_model-2": "DEPLOYMENT_READY"}
    assert body["config"]["traffic_config"]["routes"][0]["served_entity_name"] == "demo_model-2"


@pytest.mark.behaviour("state.update-conflict")
async def test_update_while_in_progress_conflicts(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    await create_ready(emulator_http, workspace, "ep-demo")
    await update(emulator_http, "ep-demo", {"served_entities": [demo_entity("2")]})
    response = await update(emulator_http, "ep-demo", {"served_entities": [demo_entity("1")]})
    status, code, message = error_of(response)
    assert (status, code) == (409, "RESOURCE_CONFLICT")
    assert "Wait" in message
    pending = workspace.endpoints["ep-demo"].pending
    assert pending is not None
    assert pending.config.served_entities[0]["entity_version"] == "2"


@pytest.mark.behaviour("config.scale-to-zero-on-update")
async def test_update_requires_scale_to_zero(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    await create_ready(emulator_http, workspace, "ep-demo")
    entity = demo_entity("2")
    del entity["scale_to_zero_enabled"]
    response = await update(emulator_http, "ep-demo", {"served_entities": [entity]})
    status, code, message = error_of(response)
    assert (status, code) == (400, "INVALID_PARAMETER_VALUE")
    assert "served_entities[0].scale_to_zero_enabled" in message
    assert workspace.endpoints["ep-demo"].pending is None


@pytest.mark.behaviour("config.scale-to-zero-on-update")
async def test_update_accepts_explicit_false(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    await create_ready(emulator_http, workspace, "ep-demo")
    response = await update(
        emulator_http, "ep-demo", {"served_entities": [demo_entity("2", scale_to_zero_enabled=False)]}
    )
    assert response.status_code == 200, response.text
    assert response.json()["pending_config"]["served_entities"][0]["scale_to_zero_enabled"] is False


@pytest.mark.behaviour("create.unknown-fields")
async def test_update_rejects_echoed_read_only(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    current = await create_ready(emulator_http, workspace, "ep-demo")
    echoed = current["config"]["served_entities"][0]
    response = await update(emulator_http, "ep-demo", {"served_entities": [echoed]})
    status, _, message = error_of(response)
    assert status == 400
    for field in ("creation_timestamp", "creator", "state"):
        assert field in message


@pytest.mark.behaviour("create.unknown-fields")
async def test_update_rejects_separate_api_field(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    await create_ready(emulator_http, workspace, "ep-demo")
    body = {"served_entities": [demo_entity("2")], "tags": [{"key": "team", "value": "ml"}]}
    response = await update(emulator_http, "ep-demo", body)
    status, _, message = error_of(response)
    assert status == 400
    assert "tags" in message
    assert "/tags" in message


@pytest.mark.behaviour("state.update-failed")
async def test_failed_update_keeps_old_config(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    await create_ready(emulator_http, workspace, "ep-demo")
    behaviour = workspace.endpoints["ep-demo"].behaviour
    behaviour.next_update_outcome = "failed"
    behaviour.next_update_message = "container build failed: dependency conflict"
    routes = [
        {"served_entity_name": "demo_model-1", "traffic_percentage": 90},
        {"served_entity_name": "demo_model-2", "traffic_percentage": 10},
    ]
    body = {"served_entities": [demo_entity(), demo_entity("2")], "traffic_config": {"routes": routes}}
    assert (await update(emulator_http, "ep-demo", body)).status_code == 200
    workspace.clock.advance(DEPLOY_SECONDS)
    endpoint = await get(emulator_http, "ep-demo")
    assert endpoint["state"]["ready"] == "READY"
    assert endpoint["state"]["config_update"] == "UPDATE_FAILED"
    assert endpoint["config"]["config_version"] == 1
    assert deployments(endpoint, "config") == {"demo_model-1": "DEPLOYMENT_READY"}
    pending = {e["name"]: e["state"] for e in endpoint["pending_config"]["served_entities"]}
    assert pending["demo_model-2"]["deployment"] == "DEPLOYMENT_FAILED"
    assert pending["demo_model-2"]["deployment_state_message"] == "container build failed: dependency conflict"
    assert pending["demo_model-1"]["deployment"] == "DEPLOYMENT_READY"
    retry = await update(emulator_http, "ep-demo", {"served_entities": [demo_entity("2")]})
    assert retry.status_code == 200, retry.text
    assert retry.json()["pending_config"]["config_version"] == 3


@pytest.mark.behaviour("state.update-cancelled")
async def test_cancelled_update_reports_aborted(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    await create_ready(emulator_http, workspace, "ep-demo")
    workspace.endpoints["ep-demo"].behaviour.next_update_outcome = "cancelled"
    await update(emulator_http, "ep-demo", {"served_entities": [demo_entity("2")]})
    workspace.clock.advance(DEPLOY_SECONDS)
    endpoint = await get(emulator_http, "ep-demo")
    assert endpoint["state"]["config_update"] == "UPDATE_CANCELED"
    assert deployments(endpoint, "pending_config") == {"demo_model-2": "DEPLOYMENT_ABORTED"}


@pytest.mark.behaviour("state.scripted-outcomes")
async def test_stuck_update_stays_in_progress(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    await create_ready(emulator_http, workspace, "ep-demo")
    workspace.endpoints["ep-demo"].behaviour.next_update_outcome = "stuck"
    await update(emulator_http, "ep-demo", {"served_entities": [demo_entity("2")]})
    workspace.clock.advance(24 * 3600)
    endpoint = await get(emulator_http, "ep-demo")
    assert endpoint["state"]["config_update"] == "IN_PROGRESS"
    assert deployments(endpoint, "pending_config") == {"demo_model-2": "DEPLOYMENT_CREATING"}


@pytest.mark.behaviour("state.scripted-outcomes")
async def test_outcome_read_when_update_starts(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    await create(emulator_http, "ep-new", demo_entity())
    workspace.endpoints["ep-new"].behaviour.next_update_outcome = "failed"
    workspace.clock.advance(DEPLOY_SECONDS)
    assert (await get(emulator_http, "ep-new"))["state"]["config_update"] == "NOT_UPDATING"


@pytest.mark.behaviour("state.warmup")
async def test_warmup_shows_not_ready_not_updating(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    await create(emulator_http, "ep-new", demo_entity())
    workspace.endpoints["ep-new"].behaviour.warmup_seconds = 120
    workspace.clock.advance(DEPLOY_SECONDS)
    warming = await get(emulator_http, "ep-new")
    assert warming["state"]["ready"] == "NOT_READY"
    assert warming["state"]["config_update"] == "NOT_UPDATING"
    assert deployments(warming, "config") == {"demo_model-1": "DEPLOYMENT_CREATING"}
    workspace.clock.advance(120)
    ready = await get(emulator_http, "ep-new")
    assert ready["state"]["ready"] == "READY"
    assert deployments(ready, "config") == {"demo_model-1": "DEPLOYMENT_READY"}


@pytest.mark.behaviour("state.deploy-delay")
async def test_deploy_seconds_zero_is_immediate(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    await create_ready(emulator_http, workspace, "ep-demo")
    workspace.endpoints["ep-demo"].behaviour.deploy_seconds = 0
    response = await update(emulator_http, "ep-demo", {"served_entities": [demo_entity("2")]})
    assert response.json()["state"]["config_update"] == "NOT_UPDATING"
    assert response.json()["config"]["config_version"] == 2


@pytest.mark.behaviour("state.entity-origin")
async def test_unchanged_entity_keeps_creation_time(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    first = await create_ready(emulator_http, workspace, "ep-demo")
    created = first["config"]["served_entities"][0]["creation_timestamp"]
    workspace.clock.advance(60)
    routes = [
        {"served_entity_name": "demo_model-1", "traffic_percentage": 50},
        {"served_entity_name": "demo_model-2", "traffic_percentage": 50},
    ]
    body = {"served_entities": [demo_entity(), demo_entity("2")], "traffic_config": {"routes": routes}}
    pending = (await update(emulator_http, "ep-demo", body)).json()["pending_config"]["served_entities"]
    times = {e["name"]: e["creation_timestamp"] for e in pending}
    assert times["demo_model-1"] == created
    assert times["demo_model-2"] == created + (DEPLOY_SECONDS + 60) * 1000


@pytest.mark.behaviour("get.not-found")
async def test_update_missing_endpoint(emulator_http: httpx.AsyncClient) -> None:
    response = await update(emulator_http, "ep-none", {"served_entities": [demo_entity()]})
    status, code, message = error_of(response)
    assert (status, code) == (404, "RESOURCE_DOES_NOT_EXIST")
    assert "ep-none" in message


@pytest.mark.behaviour("settings.managed-endpoints")
async def test_update_system_endpoint_forbidden(emulator_http: httpx.AsyncClient) -> None:
    response = await update(emulator_http, "databricks-claude-sonnet-4-6", {"served_entities": [demo_entity()]})
    assert error_of(response)[:2] == (403, "PERMISSION_DENIED")


@pytest.mark.behaviour("delete.endpoint")
async def test_delete_removes_endpoint(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    await create_ready(emulator_http, workspace, "ep-demo")
    response = await emulator_http.delete(f"{ENDPOINTS}/ep-demo")
    assert response.status_code == 200
    assert response.json() == {}
    assert (await emulator_http.get(f"{ENDPOINTS}/ep-demo")).status_code == 404
    assert (await emulator_http.delete(f"{ENDPOINTS}/ep-demo")).status_code == 404


@pytest.mark.behaviour("list.summaries", "foundation.pay-per-token")
async def test_list_shows_summaries(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    await create_ready(emulator_http, workspace, "ep-demo", tags=[{"key": "team", "value": "ml"}])
    endpoints = {e["name"]: e for e in (await emulator_http.get(ENDPOINTS)).json()["endpoints"]}
    summary = endpoints["ep-demo"]
    assert summary["config"]["served_entities"] == [
        {"name": "demo_model-1", "entity_name": "main.default.demo_model", "entity_version": "1"}
    ]
    assert summary["config"]["served_models"][0]["model_name"] == "main.default.demo_model"
    assert summary["tags"] == [{"key": "team", "value": "ml"}]
    assert "pending_config" not in summary
    assert "id" not in endpoints["databricks-claude-sonnet-4-6"]
    assert endpoints["databricks-claude-sonnet-4-6"]["endpoint_type"] == "FOUNDATION_MODEL_API"
