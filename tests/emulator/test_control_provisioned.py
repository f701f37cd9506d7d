from typing import Any

import httpx
import pytest

from emulator import Workspace
from tests.emulator.control_support import DEPLOY_SECONDS, ENDPOINTS, create_ready, error_of, get

pytestmark = pytest.mark.anyio
LLAMA = "system.ai.meta_llama_v3_1_8b_instruct"


def pt_entity(units: Any = 100, **extra: Any) -> dict[str, Any]:
    return {"entity_name": LLAMA, "entity_version": "1", "provisioned_model_units": units, **extra}


async def create_pt(http: httpx.AsyncClient, name: str, *entities: dict[str, Any]) -> httpx.Response:
    return await http.post(f"{ENDPOINTS}/pt", json={"name": name, "config": {"served_entities": list(entities)}})


async def update_pt(http: httpx.AsyncClient, name: str, *entities: dict[str, Any]) -> httpx.Response:
    return await http.put(f"{ENDPOINTS}/pt/{name}/config", json={"config": {"served_entities": list(entities)}})


@pytest.mark.behaviour("pt.create")
async def test_pt_create(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    response = await create_pt(emulator_http, "ep-pt", pt_entity("200", pt_term="COMMITMENT_TERM_1_MONTH"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["state"]["config_update"] == "IN_PROGRESS"
    assert body["endpoint_type"] == "FOUNDATION_MODEL_API"
    assert body["task"] == "llm/v1/chat"
    entity = body["pending_config"]["served_entities"][0]
    assert entity["name"] == "meta_llama_v3_1_8b_instruct-1"
    assert entity["provisioned_model_units"] == 200
    assert entity["scale_to_zero_enabled"] is False
    assert entity["pt_term"] == "COMMITMENT_TERM_1_MONTH"
    workspace.clock.advance(DEPLOY_SECONDS)
    assert (await get(emulator_http, "ep-pt"))["state"]["ready"] == "READY"


@pytest.mark.parametrize("units", [0, -5, "many", None])
@pytest.mark.behaviour("pt.create")
async def test_pt_rejects_bad_units(emulator_http: httpx.AsyncClient, workspace: Workspace, units: Any) -> None:
    entity = pt_entity(units)
    if units is None:
        del entity["provisioned_model_units"]
    response = await create_pt(emulator_http, "ep-pt", entity)
    status, _, message = error_of(response)
    assert status == 400
    assert "provisioned_model_units" in message
    assert "ep-pt" not in workspace.endpoints


@pytest.mark.behaviour("pt.create")
async def test_pt_rejects_workload_fields(emulator_http: httpx.AsyncClient) -> None:
    response = await create_pt(emulator_http, "ep-pt", pt_entity(workload_size="Small"))
    status, _, message = error_of(response)
    assert status == 400
    assert "workload_size" in message


@pytest.mark.behaviour("pt.create", "config.registry-check")
async def test_pt_rejects_unknown_model(emulator_http: httpx.AsyncClient) -> None:
    response = await create_pt(emulator_http, "ep-pt", pt_entity(entity_name="main.default.nothing"))
    status, code, message = error_of(response)
    assert (status, code) == (404, "RESOURCE_DOES_NOT_EXIST")
    assert "main.default.nothing" in message


@pytest.mark.behaviour("pt.create")
async def test_pt_accepts_registered_model(emulator_http: httpx.AsyncClient) -> None:
    response = await create_pt(emulator_http, "ep-pt", pt_entity(entity_name="main.default.demo_model"))
    assert response.status_code == 200, response.text
    assert response.json()["endpoint_type"] == "CUSTOM_MODEL"


@pytest.mark.behaviour("pt.create")
async def test_pt_requires_config(emulator_http: httpx.AsyncClient) -> None:
    response = await emulator_http.post(f"{ENDPOINTS}/pt", json={"name": "ep-pt"})
    status, _, message = error_of(response)
    assert status == 400
    assert "config" in message


@pytest.mark.behaviour("pt.update")
async def test_pt_update_changes_units(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    await create_pt(emulator_http, "ep-pt", pt_entity(100))
    conflict = await update_pt(emulator_http, "ep-pt", pt_entity(300))
    assert error_of(conflict)[:2] == (409, "RESOURCE_CONFLICT")
    workspace.clock.advance(DEPLOY_SECONDS)
    response = await update_pt(emulator_http, "ep-pt", pt_entity(300))
    assert response.status_code == 200, response.text
    assert response.json()["pending_config"]["config_version"] == 2
    workspace.clock.advance(DEPLOY_SECONDS)
    entity = (await get(emulator_http, "ep-pt"))["config"]["served_entities"][0]
    assert entity["provisioned_model_units"] == 300


@pytest.mark.behaviour("pt.update")
async def test_pt_update_rejects_custom_endpoint(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    await create_ready(emulator_http, workspace, "ep-demo")
    response = await update_pt(emulator_http, "ep-demo", pt_entity())
    status, _, message = error_of(response)
    assert status == 400
    assert "/config" in message


@pytest.mark.behaviour("pt.update", "get.not-found")
async def test_pt_update_missing_endpoint(emulator_http: httpx.AsyncClient) -> None:
    response = await update_pt(emulator_http, "ep-none", pt_entity())
    assert error_of(response)[:2] == (404, "RESOURCE_DOES_NOT_EXIST")
