import json
from typing import Any

import httpx
import pytest

from emulator import Workspace
from tests.emulator.control_support import (
    ENDPOINTS,
    create,
    create_ready,
    demo_entity,
    error_of,
    external_entity,
    get,
    update,
)

pytestmark = pytest.mark.anyio


@pytest.mark.behaviour("naming.default-entity-name", "config.endpoint-type-and-task")
async def test_external_default_name_and_type(emulator_http: httpx.AsyncClient) -> None:
    response = await create(emulator_http, "ep-ext", external_entity("claude-3.5:beta"))
    assert response.status_code == 200, response.text
    body = response.json()
    entity = body["pending_config"]["served_entities"][0]
    assert entity["name"] == "claude-3-5-beta"
    assert body["endpoint_type"] == "EXTERNAL_MODEL"
    assert body["task"] == "llm/v1/chat"
    assert "workload_size" not in entity
    assert "workload_type" not in entity
    assert body["pending_config"]["served_models"] == []


@pytest.mark.parametrize(
    "field, value",
    [
        ("workload_size", "Small"),
        ("workload_type", "CPU"),
        ("scale_to_zero_enabled", False),
        ("min_provisioned_throughput", 0),
        ("max_provisioned_throughput", 100),
    ],
)
@pytest.mark.behaviour("external.no-compute")
async def test_external_rejects_compute_field(emulator_http: httpx.AsyncClient, field: str, value: Any) -> None:
    entity = {"name": "gpt-chat", **external_entity(), field: value}
    response = await create(emulator_http, "ep-ext", entity)
    status, code, message = error_of(response)
    assert (status, code) == (400, "INVALID_PARAMETER_VALUE")
    assert field in message


@pytest.mark.behaviour("external.no-compute")
async def test_external_plain_entity_accepted(emulator_http: httpx.AsyncClient) -> None:
    response = await create(emulator_http, "ep-ext", {"name": "gpt-chat", **external_entity()})
    assert response.status_code == 200, response.text


@pytest.mark.behaviour("config.entity-mixing")
async def test_external_and_custom_not_mixed(emulator_http: httpx.AsyncClient) -> None:
    routes = [
        {"served_entity_name": "gpt-4o", "traffic_percentage": 50},
        {"served_entity_name": "demo_model-1", "traffic_percentage": 50},
    ]
    config = {"served_entities": [external_entity(), demo_entity()], "traffic_config": {"routes": routes}}
    response = await emulator_http.post(ENDPOINTS, json={"name": "ep-mix", "config": config})
    status, _, message = error_of(response)
    assert status == 400
    assert "mixed" in message


@pytest.mark.behaviour("config.entity-mixing")
async def test_external_tasks_must_match(emulator_http: httpx.AsyncClient) -> None:
    routes = [
        {"served_entity_name": "gpt-4o", "traffic_percentage": 50},
        {"served_entity_name": "embed", "traffic_percentage": 50},
    ]
    embed = external_entity("embed", task="llm/v1/embeddings")
    config = {"served_entities": [external_entity(), embed], "traffic_config": {"routes": routes}}
    response = await emulator_http.post(ENDPOINTS, json={"name": "ep-two", "config": config})
    status, _, message = error_of(response)
    assert status == 400
    assert "llm/v1/embeddings" in message


@pytest.mark.behaviour("external.secrets")
async def test_plaintext_secret_never_returned(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    entity = external_entity(openai_api_key_plaintext="sk-very-secret", openai_api_base="https://llm.example.com")
    response = await create(emulator_http, "ep-ext", entity)
    assert response.status_code == 200, response.text
    assert "sk-very-secret" not in response.text
    workspace.clock.advance(600)
    detail = await emulator_http.get(f"{ENDPOINTS}/ep-ext")
    listing = await emulator_http.get(ENDPOINTS)
    assert "sk-very-secret" not in detail.text
    assert "sk-very-secret" not in listing.text
    shown = detail.json()["config"]["served_entities"][0]["external_model"]["openai_config"]
    assert shown == {"openai_api_base": "https://llm.example.com"}
    stored = workspace.endpoints["ep-ext"].config
    assert stored is not None
    assert stored.served_entities[0]["external_model"]["openai_config"]["openai_api_key_plaintext"] == "sk-very-secret"


@pytest.mark.behaviour("external.secrets")
async def test_nested_custom_secrets_hidden(emulator_http: httpx.AsyncClient) -> None:
    config = {
        "custom_provider_url": "https://llm.example.com/v1",
        "api_key_auth": {"key": "X-Api-Key", "value_plaintext": "hidden-value"},
    }
    entity = {
        "external_model": {"name": "m", "provider": "custom", "task": "llm/v1/chat", "custom_provider_config": config}
    }
    response = await create(emulator_http, "ep-custom", entity)
    assert response.status_code == 200, response.text
    assert "hidden-value" not in response.text
    shown = response.json()["pending_config"]["served_entities"][0]["external_model"]["custom_provider_config"]
    assert shown["api_key_auth"] == {"key": "X-Api-Key"}
    bearer = {"custom_provider_url": "https://llm.example.com/v1", "bearer_token_auth": {"token_plaintext": "tkn-1"}}
    entity["external_model"]["custom_provider_config"] = bearer
    response = await create(emulator_http, "ep-bearer", entity)
    assert response.status_code == 200, response.text
    assert "tkn-1" not in response.text


@pytest.mark.behaviour("external.secrets")
async def test_secret_reference_returned(emulator_http: httpx.AsyncClient) -> None:
    response = await create(emulator_http, "ep-ext", external_entity())
    shown = response.json()["pending_config"]["served_entities"][0]["external_model"]["openai_config"]
    assert shown == {"openai_api_key": "{{secrets/llm/openai}}"}


@pytest.mark.behaviour("external.secrets")
async def test_raw_key_in_reference_field_rejected(emulator_http: httpx.AsyncClient) -> None:
    response = await create(emulator_http, "ep-ext", external_entity(openai_api_key="sk-raw"))
    status, _, message = error_of(response)
    assert status == 400
    assert "openai_api_key_plaintext" in message
    assert "sk-raw" not in message


@pytest.mark.behaviour("external.secrets")
async def test_reference_and_plaintext_both_rejected(emulator_http: httpx.AsyncClient) -> None:
    entity = external_entity(openai_api_key="{{secrets/a/b}}", openai_api_key_plaintext="sk")
    assert error_of(await create(emulator_http, "ep-ext", entity))[0] == 400


@pytest.mark.parametrize(
    "external_model, named",
    [
        ({"name": "m", "provider": "nobody", "task": "llm/v1/chat"}, "provider"),
        ({"name": "m", "provider": "anthropic", "task": "llm/v1/chat"}, "anthropic_config"),
        ({"name": "m", "provider": "anthropic", "task": "llm/v9", "anthropic_config": {}}, "task"),
        (
            {"name": "m", "provider": "amazon-bedrock", "task": "llm/v1/chat", "amazon_bedrock_config": {}},
            "aws_region",
        ),
        (
            {
                "name": "m",
                "provider": "anthropic",
                "task": "llm/v1/chat",
                "anthropic_config": {},
                "openai_config": {},
            },
            "openai_config",
        ),
    ],
)
@pytest.mark.behaviour("external.providers")
async def test_external_model_validation(
    emulator_http: httpx.AsyncClient, external_model: dict[str, Any], named: str
) -> None:
    response = await create(emulator_http, "ep-ext", {"external_model": external_model})
    status, _, message = error_of(response)
    assert status == 400
    assert named in message


@pytest.mark.behaviour("external.no-conversion")
async def test_external_conversion_rejected(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    await create_ready(emulator_http, workspace, "ep-ext", external_entity())
    response = await update(emulator_http, "ep-ext", {"served_entities": [demo_entity()]})
    status, _, message = error_of(response)
    assert status == 400
    assert "converted" in message
    assert (await get(emulator_http, "ep-ext"))["state"]["config_update"] == "NOT_UPDATING"


@pytest.mark.behaviour("external.secrets")
async def test_external_update_keeps_secret_hidden(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    await create_ready(emulator_http, workspace, "ep-ext", external_entity())
    entity = external_entity("gpt-4.1", openai_api_key_plaintext="sk-new")
    response = await update(emulator_http, "ep-ext", {"served_entities": [entity]})
    assert response.status_code == 200, response.text
    assert "sk-new" not in json.dumps(response.json())
    assert response.json()["pending_config"]["served_entities"][0]["name"] == "gpt-4-1"


@pytest.mark.behaviour("external.providers")
async def test_external_without_credential_rejected(emulator_http: httpx.AsyncClient) -> None:
    entity = {"external_model": {"name": "gpt-4o", "provider": "openai", "task": "llm/v1/chat", "openai_config": {}}}
    response = await create(emulator_http, "ep-nokey", entity)
    status, code, message = error_of(response)
    assert status == 400
    assert code == "INVALID_PARAMETER_VALUE"
    assert "'openai_api_key'" in message
    assert "_plaintext" in message


@pytest.mark.behaviour("external.providers")
async def test_bedrock_instance_profile_is_credential(emulator_http: httpx.AsyncClient) -> None:
    bedrock = {"aws_region": "us-east-1", "bedrock_provider": "anthropic", "instance_profile_arn": "arn:aws:iam::1:x"}
    external = {"name": "claude", "provider": "amazon-bedrock", "task": "llm/v1/chat", "amazon_bedrock_config": bedrock}
    response = await create(emulator_http, "ep-bedrock", {"external_model": external})
    assert response.status_code == 200, response.text
