import re

import httpx
import pytest

from emulator import SANDBOX_USER, Workspace
from tests.emulator.control_support import (
    DEPLOY_SECONDS,
    ENDPOINTS,
    create,
    demo_entity,
    error_of,
    get,
)

pytestmark = pytest.mark.anyio


@pytest.mark.behaviour(
    "create.pending-response",
    "naming.default-entity-name",
    "config.traffic",
    "config.served-models",
    "config.workload",
    "config.endpoint-type-and-task",
    "permissions.creator-manage",
    "state.suspend",
)
async def test_create_returns_pending_config(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    now = workspace.clock.now_ms()
    response = await create(emulator_http, "ep-new", demo_entity())
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["name"] == "ep-new"
    assert re.fullmatch(r"[0-9a-f]{32}", body["id"])
    assert body["creation_timestamp"] == now
    assert body["creator"] == SANDBOX_USER
    assert body["description"] == ""
    assert body["permission_level"] == "CAN_MANAGE"
    assert body["state"] == {"ready": "NOT_READY", "config_update": "IN_PROGRESS", "suspend": "NOT_SUSPENDED"}
    assert "config" not in body
    pending = body["pending_config"]
    assert pending["config_version"] == 1
    assert pending["start_time"] == now
    entity = pending["served_entities"][0]
    assert entity["name"] == "demo_model-1"
    assert entity["workload_type"] == "CPU"
    assert entity["state"]["deployment"] == "DEPLOYMENT_CREATING"
    assert pending["served_models"][0]["model_name"] == "main.default.demo_model"
    assert pending["served_models"][0]["model_version"] == "1"
    route = {"served_model_name": "demo_model-1", "served_entity_name": "demo_model-1", "traffic_percentage": 100}
    assert pending["traffic_config"] == {"routes": [route]}
    assert body["endpoint_type"] == "CUSTOM_MODEL"


@pytest.mark.behaviour("state.deploy-delay")
async def test_create_becomes_ready_after_deploy(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    await create(emulator_http, "ep-new", demo_entity())
    workspace.clock.advance(DEPLOY_SECONDS - 1)
    assert (await get(emulator_http, "ep-new"))["state"]["config_update"] == "IN_PROGRESS"
    workspace.clock.advance(1)
    body = await get(emulator_http, "ep-new")
    assert body["state"]["ready"] == "READY"
    assert body["state"]["config_update"] == "NOT_UPDATING"
    assert "pending_config" not in body
    assert body["config"]["config_version"] == 1
    assert body["config"]["served_entities"][0]["state"]["deployment"] == "DEPLOYMENT_READY"


@pytest.mark.behaviour("create.without-config")
async def test_create_without_config(emulator_http: httpx.AsyncClient) -> None:
    response = await create(emulator_http, "ep-empty", description="no config yet")
    assert response.status_code == 200
    body = await get(emulator_http, "ep-empty")
    assert body["state"]["ready"] == "NOT_READY"
    assert body["state"]["config_update"] == "NOT_UPDATING"
    assert body["description"] == "no config yet"
    assert "endpoint_type" not in body


@pytest.mark.behaviour("create.duplicate-name")
async def test_create_duplicate_name_conflicts(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    await create(emulator_http, "ep-dup", demo_entity())
    response = await create(emulator_http, "ep-dup", demo_entity("2"))
    status, code, message = error_of(response)
    assert (status, code) == (409, "RESOURCE_ALREADY_EXISTS")
    assert "ep-dup" in message
    assert workspace.endpoints["ep-dup"].pending is not None
    assert workspace.endpoints["ep-dup"].pending.config.served_entities[0]["entity_version"] == "1"


@pytest.mark.parametrize("name", ["", "a" * 64, "has space", "dots.not.allowed", "databricks-mine"])
@pytest.mark.behaviour("naming.endpoint-name")
async def test_create_rejects_bad_name(emulator_http: httpx.AsyncClient, name: str) -> None:
    response = await create(emulator_http, name, demo_entity())
    status, code, _ = error_of(response)
    assert (status, code) == (400, "INVALID_PARAMETER_VALUE")


@pytest.mark.behaviour("naming.endpoint-name")
async def test_create_accepts_63_char_name(emulator_http: httpx.AsyncClient) -> None:
    response = await create(emulator_http, "a" * 63, demo_entity())
    assert response.status_code == 200, response.text


@pytest.mark.behaviour("create.unknown-fields")
async def test_create_rejects_unknown_field(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    response = await create(emulator_http, "ep-x", demo_entity(), colour="blue")
    status, _, message = error_of(response)
    assert status == 400
    assert "colour" in message
    assert "ep-x" not in workspace.endpoints


@pytest.mark.behaviour("create.unknown-fields")
async def test_create_rejects_read_only_fields(emulator_http: httpx.AsyncClient) -> None:
    response = await create(emulator_http, "ep-x", demo_entity(state={"deployment": "DEPLOYMENT_READY"}))
    status, _, message = error_of(response)
    assert status == 400
    assert "state" in message
    assert "read-only" in message
    response = await create(emulator_http, "ep-x", demo_entity(), creator="someone@example.com")
    assert error_of(response)[0] == 400


@pytest.mark.behaviour("config.registry-check")
async def test_create_missing_version_lists_registered(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    response = await create(emulator_http, "ep-new", demo_entity("3"))
    status, code, message = error_of(response)
    assert (status, code) == (404, "RESOURCE_DOES_NOT_EXIST")
    assert "main.default.demo_model" in message
    assert "'3'" in message
    assert "Registered versions: 1, 2" in message
    listed = (await emulator_http.get(ENDPOINTS)).json()["endpoints"]
    assert "ep-new" not in [e["name"] for e in listed]


@pytest.mark.behaviour("config.registry-check")
async def test_create_unknown_model_not_found(emulator_http: httpx.AsyncClient) -> None:
    response = await create(emulator_http, "ep-new", demo_entity(entity_name="main.default.nothing"))
    status, code, message = error_of(response)
    assert (status, code) == (404, "RESOURCE_DOES_NOT_EXIST")
    assert "main.default.nothing" in message


@pytest.mark.behaviour("config.registry-check")
async def test_create_version_not_ready(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    workspace.models["main.default.demo_model"].versions[2].status = "PENDING_REGISTRATION"
    response = await create(emulator_http, "ep-new", demo_entity("2"))
    status, _, message = error_of(response)
    assert status == 400
    assert "PENDING_REGISTRATION" in message


@pytest.mark.behaviour("config.endpoint-type-and-task")
async def test_create_task_from_model_version(emulator_http: httpx.AsyncClient) -> None:
    entity = demo_entity("3", entity_name="main.apps.app_template")
    body = (await create(emulator_http, "ep-agent", entity)).json()
    assert body["task"] == "agent/v1/responses"
    assert body["endpoint_type"] == "CUSTOM_MODEL"
    assert body["pending_config"]["served_entities"][0]["name"] == "app_template-3"


@pytest.mark.behaviour("config.workload-types-per-cloud")
async def test_create_gpu_type_not_on_cloud(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    workspace.cloud = "azure"
    entity = demo_entity(workload_type="GPU_MEDIUM", scale_to_zero_enabled=False)
    response = await create(emulator_http, "ep-gpu", entity)
    status, code, message = error_of(response)
    assert (status, code) == (400, "INVALID_PARAMETER_VALUE")
    assert "GPU_MEDIUM" in message
    assert "Small" in message
    assert "azure" in message
    assert "ep-gpu" not in workspace.endpoints


@pytest.mark.behaviour("config.workload-types-per-cloud")
async def test_create_gpu_type_on_aws(emulator_http: httpx.AsyncClient) -> None:
    response = await create(emulator_http, "ep-gpu", demo_entity(workload_type="GPU_MEDIUM"))
    assert response.status_code == 200, response.text


@pytest.mark.behaviour("config.workload-types-per-cloud")
async def test_create_workload_types_override(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    workspace.workload_types = {"CPU"}
    response = await create(emulator_http, "ep-gpu", demo_entity(workload_type="GPU_SMALL"))
    assert error_of(response)[0] == 400


@pytest.mark.behaviour("config.workload")
async def test_create_rejects_tiny_size(emulator_http: httpx.AsyncClient) -> None:
    response = await create(emulator_http, "ep-tiny", demo_entity(workload_size="Tiny"))
    status, code, message = error_of(response)
    assert (status, code) == (400, "INVALID_PARAMETER_VALUE")
    assert "Workload size 'Tiny' is not supported" in message


@pytest.mark.behaviour("config.workload")
async def test_create_rejects_unknown_workload_type(emulator_http: httpx.AsyncClient) -> None:
    response = await create(emulator_http, "ep-x", demo_entity(workload_type="TPU"))
    status, _, message = error_of(response)
    assert status == 400
    assert "TPU" in message


@pytest.mark.behaviour("config.workload")
async def test_create_size_and_concurrency_exclusive(emulator_http: httpx.AsyncClient) -> None:
    entity = demo_entity(max_provisioned_concurrency=8)
    response = await create(emulator_http, "ep-x", entity)
    assert error_of(response)[0] == 400


@pytest.mark.behaviour("config.proto3-strings")
async def test_create_accepts_proto3_strings(emulator_http: httpx.AsyncClient) -> None:
    first = demo_entity(name="a", scale_to_zero_enabled="false")
    second = demo_entity("2", name="b", scale_to_zero_enabled="TRUE")
    del second["workload_size"]
    second.update(min_provisioned_concurrency="0", max_provisioned_concurrency="8")
    routes = [
        {"served_entity_name": "a", "traffic_percentage": "90"},
        {"served_model_name": "b", "traffic_percentage": "10"},
    ]
    body = {"name": "ep-ab", "config": {"served_entities": [first, second], "traffic_config": {"routes": routes}}}
    response = await emulator_http.post(ENDPOINTS, json=body)
    assert response.status_code == 200, response.text
    pending = response.json()["pending_config"]
    entities = {e["name"]: e for e in pending["served_entities"]}
    assert entities["a"]["scale_to_zero_enabled"] is False
    assert entities["b"]["scale_to_zero_enabled"] is True
    assert entities["b"]["max_provisioned_concurrency"] == 8
    assert "workload_size" not in entities["b"]
    assert pending["traffic_config"]["routes"] == [
        {"served_model_name": "a", "served_entity_name": "a", "traffic_percentage": 90},
        {"served_model_name": "b", "served_entity_name": "b", "traffic_percentage": 10},
    ]


@pytest.mark.behaviour("config.proto3-strings")
async def test_create_rejects_non_integer_string(emulator_http: httpx.AsyncClient) -> None:
    entity = demo_entity(min_provisioned_concurrency="four", max_provisioned_concurrency=8)
    del entity["workload_size"]
    response = await create(emulator_http, "ep-x", entity)
    status, _, message = error_of(response)
    assert status == 400
    assert "min_provisioned_concurrency" in message
    assert "four" in message


@pytest.mark.behaviour("config.environment-vars")
async def test_create_environment_vars_returned(emulator_http: httpx.AsyncClient) -> None:
    env = {"MODE": "fast", "API_KEY": "{{secrets/app/key}}"}
    response = await create(emulator_http, "ep-env", demo_entity(environment_vars=env))
    assert response.json()["pending_config"]["served_entities"][0]["environment_vars"] == env


@pytest.mark.behaviour("config.environment-vars")
async def test_create_environment_vars_must_be_strings(emulator_http: httpx.AsyncClient) -> None:
    response = await create(emulator_http, "ep-env", demo_entity(environment_vars={"THREADS": 4}))
    status, _, message = error_of(response)
    assert status == 400
    assert "THREADS" in message


@pytest.mark.behaviour("config.traffic")
async def test_create_multiple_entities_need_routes(emulator_http: httpx.AsyncClient) -> None:
    response = await create(emulator_http, "ep-ab", demo_entity(), demo_entity("2"))
    status, _, message = error_of(response)
    assert status == 400
    assert "traffic_config" in message


@pytest.mark.behaviour("config.traffic")
async def test_routes_must_sum_to_100(emulator_http: httpx.AsyncClient) -> None:
    routes = [
        {"served_entity_name": "demo_model-1", "traffic_percentage": 60},
        {"served_entity_name": "demo_model-2", "traffic_percentage": 30},
    ]
    config = {"served_entities": [demo_entity(), demo_entity("2")], "traffic_config": {"routes": routes}}
    response = await emulator_http.post(ENDPOINTS, json={"name": "ep-ab", "config": config})
    status, _, message = error_of(response)
    assert status == 400
    assert "sum to 100" in message
    assert "90" in message


@pytest.mark.behaviour("config.traffic")
async def test_routes_must_name_entities(emulator_http: httpx.AsyncClient) -> None:
    routes = [{"served_model_name": "demo_model-9", "traffic_percentage": 100}]
    config = {"served_entities": [demo_entity()], "traffic_config": {"routes": routes}}
    response = await emulator_http.post(ENDPOINTS, json={"name": "ep-a", "config": config})
    status, _, message = error_of(response)
    assert status == 400
    assert "demo_model-9" in message
    assert "demo_model-1" in message


@pytest.mark.behaviour("naming.entity-name-unique")
async def test_duplicate_entity_names_rejected(emulator_http: httpx.AsyncClient) -> None:
    routes = [{"served_entity_name": "demo_model-1", "traffic_percentage": 100}]
    config = {"served_entities": [demo_entity(), demo_entity()], "traffic_config": {"routes": routes}}
    response = await emulator_http.post(ENDPOINTS, json={"name": "ep-a", "config": config})
    status, _, message = error_of(response)
    assert status == 400
    assert "demo_model-1" in message


@pytest.mark.behaviour("config.entity-limit")
async def test_too_many_entities_rejected(emulator_http: httpx.AsyncClient) -> None:
    entities = [demo_entity(name=f"e{i}") for i in range(16)]
    response = await create(emulator_http, "ep-many", *entities)
    status, _, message = error_of(response)
    assert status == 400
    assert "15" in message


@pytest.mark.behaviour("config.served-models")
async def test_served_models_input_accepted(emulator_http: httpx.AsyncClient) -> None:
    model = {"model_name": "main.default.demo_model", "model_version": 2, "scale_to_zero_enabled": False}
    response = await emulator_http.post(ENDPOINTS, json={"name": "ep-old", "config": {"served_models": [model]}})
    assert response.status_code == 200, response.text
    pending = response.json()["pending_config"]
    assert pending["served_entities"][0]["entity_name"] == "main.default.demo_model"
    assert pending["served_entities"][0]["entity_version"] == "2"
    assert pending["served_models"][0]["name"] == "demo_model-2"


@pytest.mark.behaviour("config.served-models")
async def test_model_name_in_served_entities_rejected(emulator_http: httpx.AsyncClient) -> None:
    entity = {"model_name": "main.default.demo_model", "model_version": "1", "scale_to_zero_enabled": True}
    response = await create(emulator_http, "ep-x", entity)
    status, _, message = error_of(response)
    assert status == 400
    assert "entity_name" in message


@pytest.mark.behaviour("config.foundation-throughput")
async def test_foundation_model_needs_throughput(emulator_http: httpx.AsyncClient) -> None:
    entity = {"entity_name": "system.ai.some_new_model", "entity_version": "1"}
    response = await create(emulator_http, "ep-fm", entity)
    status, _, message = error_of(response)
    assert status == 400
    assert "provisioned_model_units" in message


@pytest.mark.behaviour("config.registry-check", "config.foundation-throughput")
async def test_foundation_model_outside_registry_allowed(emulator_http: httpx.AsyncClient) -> None:
    entity = {"entity_name": "system.ai.some_new_model", "entity_version": "1", "provisioned_model_units": 50}
    response = await create(emulator_http, "ep-fm", entity)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["endpoint_type"] == "FOUNDATION_MODEL_API"
    assert body["pending_config"]["served_entities"][0]["scale_to_zero_enabled"] is False


@pytest.mark.behaviour("config.entity-mixing")
async def test_foundation_and_custom_not_mixed(emulator_http: httpx.AsyncClient) -> None:
    foundation = {"entity_name": "system.ai.meta_llama_v3_1_8b_instruct", "entity_version": "1"}
    foundation["provisioned_model_units"] = 50
    routes = [
        {"served_entity_name": "meta_llama_v3_1_8b_instruct-1", "traffic_percentage": 50},
        {"served_entity_name": "demo_model-1", "traffic_percentage": 50},
    ]
    config = {"served_entities": [foundation, demo_entity()], "traffic_config": {"routes": routes}}
    response = await emulator_http.post(ENDPOINTS, json={"name": "ep-mix", "config": config})
    assert error_of(response)[0] == 400


@pytest.mark.behaviour("naming.entity-name-unique")
@pytest.mark.parametrize("name", ["has space", "dots.in.name", "slash/name"])
async def test_entity_name_characters_checked(emulator_http: httpx.AsyncClient, name: str) -> None:
    response = await create(emulator_http, "ep-new", demo_entity(name=name))
    status, code, message = error_of(response)
    assert status == 400
    assert code == "INVALID_PARAMETER_VALUE"
    assert f"Invalid served entity name '{name}'" in message


@pytest.mark.behaviour("config.auto-capture")
async def test_create_auto_capture_payload_table(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    capture = {"catalog_name": "main", "schema_name": "logs"}
    config = {"served_entities": [demo_entity()], "auto_capture_config": capture}
    response = await emulator_http.post(ENDPOINTS, json={"name": "ep-capture", "config": config})
    assert response.status_code == 200, response.text
    workspace.clock.advance(DEPLOY_SECONDS)
    stored = (await get(emulator_http, "ep-capture"))["config"]["auto_capture_config"]
    assert stored["table_name_prefix"] == "ep-capture"
    assert stored["enabled"] is True
    assert stored["state"] == {"payload_table": {"name": "ep-capture_payload", "status": "READY"}}
    disabled = {"served_entities": [demo_entity()], "auto_capture_config": {"enabled": "false"}}
    response = await emulator_http.post(ENDPOINTS, json={"name": "ep-off", "config": disabled})
    assert response.json()["pending_config"]["auto_capture_config"]["state"]["payload_table"]["status"] == "DISABLED"
    missing_schema = {"served_entities": [demo_entity()], "auto_capture_config": {"catalog_name": "main"}}
    response = await emulator_http.post(ENDPOINTS, json={"name": "ep-bad", "config": missing_schema})
    assert error_of(response)[0] == 400
    assert "auto_capture_config.schema_name" in error_of(response)[2]


@pytest.mark.behaviour("create.route-optimized")
async def test_create_route_optimized_stored(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    response = await create(emulator_http, "ep-fast", demo_entity(), route_optimized=True)
    assert response.status_code == 200, response.text
    assert response.json()["route_optimized"] is True
    workspace.clock.advance(DEPLOY_SECONDS)
    body = await get(emulator_http, "ep-fast")
    assert body["route_optimized"] is True
    plain = await get(emulator_http, "databricks-app-template-serving")
    assert plain["route_optimized"] is False


@pytest.mark.behaviour("create.settings-at-creation", "list.summaries")
async def test_create_policy_ids_returned(emulator_http: httpx.AsyncClient) -> None:
    policies = {"budget_policy_id": "budget-1", "usage_policy_id": "usage-1"}
    response = await create(emulator_http, "ep-policy", demo_entity(), **policies)
    assert response.status_code == 200, response.text
    assert {key: response.json()[key] for key in policies} == policies
    listed = {e["name"]: e for e in (await emulator_http.get(ENDPOINTS)).json()["endpoints"]}
    assert {key: listed["ep-policy"][key] for key in policies} == policies
    rejected = await create(emulator_http, "ep-bad", demo_entity(), usage_policy_id=7)
    assert error_of(rejected)[:2] == (400, "INVALID_PARAMETER_VALUE")
    assert "'usage_policy_id' must be a string" in error_of(rejected)[2]


@pytest.mark.behaviour("config.workload")
async def test_zero_throughput_with_scale_to_zero(emulator_http: httpx.AsyncClient) -> None:
    entity = {
        "entity_name": "main.default.demo_model",
        "entity_version": "1",
        "min_provisioned_throughput": 0,
        "max_provisioned_throughput": 0,
        "workload_size": "Small",
        "scale_to_zero_enabled": True,
    }
    response = await create(emulator_http, "ep-zero-pt", entity)
    assert response.status_code == 200, response.text
    served = response.json()["pending_config"]["served_entities"][0]
    assert served["scale_to_zero_enabled"] is True
    assert served["workload_size"] == "Small"
