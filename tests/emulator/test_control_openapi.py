import json
from typing import Any

import httpx
import jsonschema
import pytest

from emulator import Workspace
from emulator.state import ModelVersion, RegisteredModel
from tests.emulator.control_support import ENDPOINTS, create, create_ready, demo_entity, error_of, external_entity

pytestmark = pytest.mark.anyio


async def openapi_of(http: httpx.AsyncClient, name: str) -> httpx.Response:
    return await http.get(f"{ENDPOINTS}/{name}/openapi", headers={"Accept": "text/plain"})


def request_schema(document: dict[str, Any], entity: str) -> dict[str, Any]:
    operation = document["paths"][f"/served-models/{entity}/invocations"]["post"]
    schema: dict[str, Any] = operation["requestBody"]["content"]["application/json"]["schema"]
    return schema


@pytest.mark.behaviour("openapi.document")
async def test_openapi_from_signature(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    entity = demo_entity(entity_name="main.default.turbine_failure", entity_version="2")
    await create_ready(emulator_http, workspace, "ep-turbine", entity)
    response = await openapi_of(emulator_http, "ep-turbine")
    assert response.status_code == 200, response.text
    document = json.loads(response.text)
    assert document["openapi"] == "3.1.0"
    assert document["info"] == {"title": "ep-turbine", "version": "1"}
    assert document["servers"] == [{"url": "https://emulator.local/serving-endpoints/ep-turbine"}]
    assert list(document["paths"]) == ["/served-models/turbine_failure-2/invocations"]
    split, records = request_schema(document, "turbine_failure-2")["oneOf"]
    columns = split["properties"]["dataframe_split"]["properties"]["columns"]
    assert columns["items"]["enum"] == ["vibration", "rpm", "temp_c"]
    assert columns["description"] == "required fields: vibration, rpm, temp_c"
    row = split["properties"]["dataframe_split"]["properties"]["data"]["items"]["prefixItems"]
    assert row == [{"type": "number", "format": "double"}] * 3
    record = records["properties"]["dataframe_records"]["items"]
    assert record["required"] == ["vibration", "rpm", "temp_c"]
    assert record["properties"]["rpm"] == {"type": "number", "format": "double"}
    ok = document["paths"]["/served-models/turbine_failure-2/invocations"]["post"]["responses"]["200"]
    predictions = ok["content"]["application/json"]["schema"]["properties"]["predictions"]
    assert predictions["items"] == {"type": "integer", "format": "int64"}


@pytest.mark.behaviour("openapi.document")
async def test_openapi_schema_validates_bodies(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    await create_ready(emulator_http, workspace, "ep-demo")
    schema = request_schema(json.loads((await openapi_of(emulator_http, "ep-demo")).text), "demo_model-1")
    validator = jsonschema.Draft202012Validator(schema)
    validator.validate({"dataframe_split": {"columns": ["x"], "data": [[1.5]]}})
    validator.validate({"dataframe_records": [{"x": 2.0}]})
    assert not validator.is_valid({"dataframe_records": [{"y": 2.0}]})
    assert not validator.is_valid({"dataframe_split": {"columns": ["x"], "data": [["text"]]}})
    for example in schema["oneOf"][0]["examples"]:
        validator.validate(example)


@pytest.mark.behaviour("openapi.document")
async def test_openapi_one_path_per_entity(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    routes = [
        {"served_entity_name": "demo_model-1", "traffic_percentage": 80},
        {"served_entity_name": "demo_model-2", "traffic_percentage": 20},
    ]
    config = {"served_entities": [demo_entity(), demo_entity("2")], "traffic_config": {"routes": routes}}
    await emulator_http.post(ENDPOINTS, json={"name": "ep-ab", "config": config})
    workspace.clock.advance(600)
    document = json.loads((await openapi_of(emulator_http, "ep-ab")).text)
    assert sorted(document["paths"]) == [
        "/served-models/demo_model-1/invocations",
        "/served-models/demo_model-2/invocations",
    ]


@pytest.mark.behaviour("openapi.not-ready")
async def test_openapi_not_ready(emulator_http: httpx.AsyncClient) -> None:
    await create(emulator_http, "ep-new", demo_entity())
    response = await openapi_of(emulator_http, "ep-new")
    status, code, message = error_of(response)
    assert (status, code) == (400, "INVALID_STATE")
    assert "not ready" in message


@pytest.mark.behaviour("openapi.not-ready")
async def test_openapi_needs_signature(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    model = RegisteredModel("main.default.unsigned", versions={1: ModelVersion(version=1)})
    workspace.models[model.full_name] = model
    await create_ready(emulator_http, workspace, "ep-unsigned", demo_entity(entity_name=model.full_name))
    response = await openapi_of(emulator_http, "ep-unsigned")
    status, _, message = error_of(response)
    assert status == 400
    assert "unsigned-1" in message
    assert "signature" in message


@pytest.mark.behaviour("openapi.document")
async def test_openapi_chat_endpoint(emulator_http: httpx.AsyncClient) -> None:
    response = await openapi_of(emulator_http, "databricks-claude-sonnet-4-6")
    assert response.status_code == 200, response.text
    schema = request_schema(json.loads(response.text), "databricks-claude-sonnet-4-6")
    assert schema["required"] == ["messages"]
    jsonschema.validate({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 5}, schema)


@pytest.mark.behaviour("openapi.document")
async def test_openapi_embeddings_endpoint(emulator_http: httpx.AsyncClient) -> None:
    response = await openapi_of(emulator_http, "databricks-gte-large-en")
    schema = request_schema(json.loads(response.text), "databricks-gte-large-en")
    assert schema["required"] == ["input"]
    jsonschema.validate({"input": ["a", "b"]}, schema)


@pytest.mark.behaviour("openapi.document")
async def test_openapi_external_model(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    await create_ready(emulator_http, workspace, "ep-ext", external_entity(task="llm/v1/completions"))
    schema = request_schema(json.loads((await openapi_of(emulator_http, "ep-ext")).text), "gpt-4o")
    assert schema["required"] == ["prompt"]
