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
FM_CHAT = "databricks-claude-sonnet-4-6"


async def patch_tags(http: httpx.AsyncClient, name: str, body: dict[str, Any]) -> httpx.Response:
    return await http.patch(f"{ENDPOINTS}/{name}/tags", json=body)


async def put_gateway(http: httpx.AsyncClient, name: str, body: dict[str, Any]) -> httpx.Response:
    return await http.put(f"{ENDPOINTS}/{name}/ai-gateway", json=body)


async def patch_telemetry(http: httpx.AsyncClient, name: str, body: dict[str, Any]) -> httpx.Response:
    return await http.patch(f"{ENDPOINTS}/{name}/telemetry-config", json=body)


@pytest.mark.behaviour("tags.patch")
async def test_tags_upsert_and_delete(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    await create_ready(emulator_http, workspace, "ep-demo", tags=[{"key": "team", "value": "ml"}])
    body = {"add_tags": [{"key": "team", "value": "platform"}, {"key": "cost", "value": "42"}, {"key": "flag"}]}
    response = await patch_tags(emulator_http, "ep-demo", body)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "tags": [{"key": "cost", "value": "42"}, {"key": "flag"}, {"key": "team", "value": "platform"}]
    }
    response = await patch_tags(emulator_http, "ep-demo", {"delete_tags": ["cost", "absent"]})
    assert response.json() == {"tags": [{"key": "flag"}, {"key": "team", "value": "platform"}]}
    assert (await get(emulator_http, "ep-demo"))["tags"] == response.json()["tags"]


@pytest.mark.behaviour("tags.patch")
async def test_tags_reject_bad_items(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    await create_ready(emulator_http, workspace, "ep-demo")
    response = await patch_tags(emulator_http, "ep-demo", {"add_tags": [{"value": "x"}]})
    status, _, message = error_of(response)
    assert status == 400
    assert "add_tags[0].key" in message
    response = await patch_tags(emulator_http, "ep-demo", {"add_tags": [{"key": "a", "value": 3}]})
    assert error_of(response)[0] == 400
    assert workspace.endpoints["ep-demo"].tags == {}


@pytest.mark.behaviour("notifications.patch")
async def test_notifications_patch(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    await create_ready(emulator_http, workspace, "ep-demo")
    notifications = {"on_update_failure": ["oncall@example.com"], "on_update_success": []}
    path = f"{ENDPOINTS}/ep-demo/notifications"
    response = await emulator_http.patch(path, json={"email_notifications": notifications})
    assert response.status_code == 200, response.text
    assert response.json() == {"name": "ep-demo", "email_notifications": notifications}
    assert (await get(emulator_http, "ep-demo"))["email_notifications"] == notifications
    bad = await emulator_http.patch(path, json={"email_notifications": {"on_update_failure": ["not-an-email"]}})
    status, _, message = error_of(bad)
    assert status == 400
    assert "not-an-email" in message


@pytest.mark.behaviour("telemetry.patch")
async def test_telemetry_patch_returns_endpoint(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    await create_ready(emulator_http, workspace, "ep-demo")
    telemetry = {
        "enabled_telemetry_features": ["TELEMETRY_FEATURE_LOGS"],
        "table_names": {"logs_table": "main.obs.logs"},
        "inference_table_config": {"sampling_fraction": "0.5"},
    }
    response = await patch_telemetry(emulator_http, "ep-demo", {"telemetry_config": telemetry})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["name"] == "ep-demo"
    assert body["state"]["ready"] == "READY"
    stored = body["telemetry_config"]
    assert stored["inference_table_config"] == {"sampling_fraction": 0.5, "name": "main.obs.logs_payload"}
    assert len(stored["telemetry_profile_id"]) == 32
    cleared = await patch_telemetry(emulator_http, "ep-demo", {})
    assert "telemetry_config" not in cleared.json()


@pytest.mark.behaviour("telemetry.patch")
async def test_telemetry_rejects_external_model(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    await create_ready(emulator_http, workspace, "ep-ext", external_entity())
    response = await patch_telemetry(emulator_http, "ep-ext", {"telemetry_config": {}})
    status, code, message = error_of(response)
    assert (status, code) == (400, "INVALID_PARAMETER_VALUE")
    assert "EXTERNAL_MODELS" in message


@pytest.mark.behaviour("telemetry.patch")
async def test_telemetry_rejects_no_config(emulator_http: httpx.AsyncClient) -> None:
    await create(emulator_http, "ep-empty")
    response = await patch_telemetry(emulator_http, "ep-empty", {"telemetry_config": {}})
    status, code, message = error_of(response)
    assert (status, code) == (400, "INVALID_PARAMETER_VALUE")
    assert "NO_CONFIG" in message


@pytest.mark.behaviour("telemetry.patch", "state.update-conflict")
async def test_telemetry_conflicts_while_updating(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    await create_ready(emulator_http, workspace, "ep-demo")
    await update(emulator_http, "ep-demo", {"served_entities": [demo_entity("2")]})
    response = await patch_telemetry(emulator_http, "ep-demo", {"telemetry_config": {}})
    status, code, message = error_of(response)
    assert (status, code) == (409, "RESOURCE_CONFLICT")
    assert "telemetry" in message


@pytest.mark.behaviour("telemetry.patch")
async def test_telemetry_rejects_bad_values(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    await create_ready(emulator_http, workspace, "ep-demo")
    for telemetry, named in [
        ({"enabled_telemetry_features": ["LOGS"]}, "LOGS"),
        ({"table_names": {"logs_table": "logs"}}, "logs_table"),
        ({"inference_table_config": {"sampling_fraction": 2}}, "sampling_fraction"),
    ]:
        response = await patch_telemetry(emulator_http, "ep-demo", {"telemetry_config": telemetry})
        status, _, message = error_of(response)
        assert status == 400
        assert named in message


@pytest.mark.behaviour("gateway.config")
async def test_gateway_full_replacement(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    await create_ready(emulator_http, workspace, "ep-demo")
    first = {
        "usage_tracking_config": {"enabled": True},
        "rate_limits": [{"calls": "100", "key": "user", "renewal_period": "minute"}],
    }
    response = await put_gateway(emulator_http, "ep-demo", first)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "usage_tracking_config": {"enabled": True},
        "rate_limits": [{"calls": 100, "key": "user", "renewal_period": "minute"}],
    }
    second = {"guardrails": {"input": {"pii": {"behavior": "MASK"}, "safety": True}}}
    response = await put_gateway(emulator_http, "ep-demo", second)
    assert response.json() == second
    assert (await get(emulator_http, "ep-demo"))["ai_gateway"] == second
    cleared = await put_gateway(emulator_http, "ep-demo", {})
    assert cleared.json() == {}
    assert "ai_gateway" not in await get(emulator_http, "ep-demo")


@pytest.mark.behaviour("gateway.config")
async def test_gateway_fills_table_prefix(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    await create_ready(emulator_http, workspace, "ep-demo")
    table = {"catalog_name": "main", "schema_name": "logs", "enabled": True}
    response = await put_gateway(emulator_http, "ep-demo", {"inference_table_config": table})
    assert response.json()["inference_table_config"]["table_name_prefix"] == "ep-demo"


@pytest.mark.behaviour("gateway.config")
async def test_gateway_table_rename_needs_disable(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    await create_ready(emulator_http, workspace, "ep-demo")
    table = {"catalog_name": "main", "schema_name": "logs", "enabled": True}
    await put_gateway(emulator_http, "ep-demo", {"inference_table_config": table})
    renamed = {**table, "schema_name": "other"}
    response = await put_gateway(emulator_http, "ep-demo", {"inference_table_config": renamed})
    status, _, message = error_of(response)
    assert status == 400
    assert "schema_name" in message
    disabled = await put_gateway(emulator_http, "ep-demo", {"inference_table_config": {"enabled": False}})
    assert disabled.status_code == 200
    response = await put_gateway(emulator_http, "ep-demo", {"inference_table_config": renamed})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "gateway, named",
    [
        ({"rate_limits": [{"calls": 10, "renewal_period": "hour"}]}, "renewal_period"),
        ({"rate_limits": [{"calls": 10, "renewal_period": "minute", "key": "team"}]}, "key"),
        ({"rate_limits": [{"renewal_period": "minute"}]}, "calls"),
        ({"guardrails": {"input": {"pii": {"behavior": "HIDE"}}}}, "behavior"),
        ({"inference_table_config": {"enabled": True}}, "catalog_name"),
        ({"fallback_config": {}}, "fallback_config.enabled"),
        ({"quota": {}}, "quota"),
    ],
)
@pytest.mark.behaviour("gateway.config-validation")
async def test_gateway_rejects_invalid(
    emulator_http: httpx.AsyncClient, workspace: Workspace, gateway: dict[str, Any], named: str
) -> None:
    await create_ready(emulator_http, workspace, "ep-demo")
    response = await put_gateway(emulator_http, "ep-demo", gateway)
    status, _, message = error_of(response)
    assert status == 400
    assert named in message
    assert workspace.endpoints["ep-demo"].ai_gateway is None


@pytest.mark.behaviour("settings.managed-endpoints")
async def test_gateway_on_system_endpoint_stored(emulator_http: httpx.AsyncClient) -> None:
    limits = {"rate_limits": [{"key": "endpoint", "calls": 100, "renewal_period": "minute"}]}
    response = await put_gateway(emulator_http, FM_CHAT, limits)
    assert response.status_code == 200, response.text
    assert (await get(emulator_http, FM_CHAT))["ai_gateway"] == limits


@pytest.mark.behaviour("gateway.agent-endpoints")
async def test_gateway_agent_allows_tables_only(emulator_http: httpx.AsyncClient) -> None:
    name = "databricks-app-template-serving"
    limits = {"rate_limits": [{"calls": 5, "renewal_period": "minute"}]}
    response = await put_gateway(emulator_http, name, limits)
    status, _, message = error_of(response)
    assert status == 400
    assert "agent" in message
    usage = {"usage_tracking_config": {"enabled": True}}
    assert (await put_gateway(emulator_http, name, usage)).status_code == 200


@pytest.mark.behaviour("rate-limits.legacy", "get.detailed")
async def test_legacy_rate_limits_not_echoed(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    await create_ready(emulator_http, workspace, "ep-demo")
    limits = [{"calls": 10, "key": "endpoint", "renewal_period": "minute"}]
    response = await emulator_http.put(f"{ENDPOINTS}/ep-demo/rate-limits", json={"rate_limits": limits})
    assert response.status_code == 200, response.text
    assert response.json() == {"rate_limits": limits}
    assert workspace.endpoints["ep-demo"].rate_limits == limits
    assert "rate_limits" not in await get(emulator_http, "ep-demo")


@pytest.mark.behaviour("rate-limits.legacy")
async def test_legacy_rate_limits_ignored_on_fm(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    limits = [{"calls": 10, "key": "endpoint", "renewal_period": "minute"}]
    response = await emulator_http.put(f"{ENDPOINTS}/{FM_CHAT}/rate-limits", json={"rate_limits": limits})
    assert response.status_code == 200, response.text
    assert response.json() == {"rate_limits": limits}
    assert workspace.endpoints[FM_CHAT].rate_limits is None
    assert workspace.endpoints[FM_CHAT].ai_gateway is None


@pytest.mark.behaviour("rate-limits.legacy")
async def test_legacy_rate_limits_validated(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    await create_ready(emulator_http, workspace, "ep-demo")
    limits = [{"calls": 10, "key": "user_group", "renewal_period": "minute"}]
    response = await emulator_http.put(f"{ENDPOINTS}/ep-demo/rate-limits", json={"rate_limits": limits})
    status, _, message = error_of(response)
    assert status == 400
    assert "user_group" in message


@pytest.mark.behaviour("create.settings-at-creation")
async def test_create_stores_settings(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    gateway = {"usage_tracking_config": {"enabled": True}}
    notifications = {"on_update_success": ["me@example.com"]}
    limits = [{"calls": 3, "renewal_period": "minute"}]
    fields = {"ai_gateway": gateway, "email_notifications": notifications, "rate_limits": limits}
    body = await create_ready(emulator_http, workspace, "ep-demo", **fields)
    assert body["ai_gateway"] == gateway
    assert body["email_notifications"] == notifications
    assert "rate_limits" not in body
    assert workspace.endpoints["ep-demo"].rate_limits == [{"calls": 3, "renewal_period": "minute", "key": "endpoint"}]


@pytest.mark.behaviour("create.settings-at-creation")
async def test_create_with_bad_setting_creates_nothing(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    response = await create(emulator_http, "ep-demo", demo_entity(), ai_gateway={"rate_limits": [{"calls": 1}]})
    assert error_of(response)[0] == 400
    assert "ep-demo" not in workspace.endpoints
