from typing import Any

import httpx
import pytest
from mcp import Client

from tests.tools.support import content_of
from tools.catalog import OPERATIONS, find_operation
from tools.rules import normalise_routes, normalise_served_entities

pytestmark = pytest.mark.anyio

# The operation index of the serving API (databricks-sdk ServingEndpointsAPI and the permissions calls).
SERVING_OPERATIONS = {
    "create": ("POST", "/api/2.0/serving-endpoints"),
    "get": ("GET", "/api/2.0/serving-endpoints/{name}"),
    "list": ("GET", "/api/2.0/serving-endpoints"),
    "delete": ("DELETE", "/api/2.0/serving-endpoints/{name}"),
    "update_config": ("PUT", "/api/2.0/serving-endpoints/{name}/config"),
    "put_ai_gateway": ("PUT", "/api/2.0/serving-endpoints/{name}/ai-gateway"),
    "put_rate_limits": ("PUT", "/api/2.0/serving-endpoints/{name}/rate-limits"),
    "patch_tags": ("PATCH", "/api/2.0/serving-endpoints/{name}/tags"),
    "update_notifications": ("PATCH", "/api/2.0/serving-endpoints/{name}/notifications"),
    "patch_telemetry_config": ("PATCH", "/api/2.0/serving-endpoints/{name}/telemetry-config"),
    "build_logs": ("GET", "/api/2.0/serving-endpoints/{name}/served-models/{served_model_name}/build-logs"),
    "logs": ("GET", "/api/2.0/serving-endpoints/{name}/served-models/{served_model_name}/logs"),
    "export_metrics": ("GET", "/api/2.0/serving-endpoints/{name}/metrics"),
    "get_open_api": ("GET", "/api/2.0/serving-endpoints/{name}/openapi"),
    "query": ("POST", "/serving-endpoints/{name}/invocations"),
    "query_served_entity": ("POST", "/serving-endpoints/{name}/served-models/{served_model_name}/invocations"),
    "create_pt": ("POST", "/api/2.0/serving-endpoints/pt"),
    "update_pt_config": ("PUT", "/api/2.0/serving-endpoints/pt/{name}/config"),
    "get_permission_levels": (
        "GET",
        "/api/2.0/permissions/serving-endpoints/{serving_endpoint_id}/permissionLevels",
    ),
    "get_permissions": ("GET", "/api/2.0/permissions/serving-endpoints/{serving_endpoint_id}"),
    "set_permissions": ("PUT", "/api/2.0/permissions/serving-endpoints/{serving_endpoint_id}"),
    "update_permissions": ("PATCH", "/api/2.0/permissions/serving-endpoints/{serving_endpoint_id}"),
    "http_request": ("POST", "/api/2.0/external-function"),
}


async def discover(client: Client, operation: str | None = None) -> dict[str, Any]:
    arguments = {} if operation is None else {"operation": operation}
    return content_of(await client.call_tool("discover_operations", arguments))


async def test_catalogue_lists_every_operation(client: Client) -> None:
    catalogue = await discover(client)
    rows = {row["name"]: row for row in catalogue["operations"]}
    for name, (method, path) in SERVING_OPERATIONS.items():
        assert (rows[name]["method"], rows[name]["path"]) == (method, path), name
    assert rows["openai_chat_completions"]["path"] == "/serving-endpoints/chat/completions"
    assert rows["openai_embeddings"]["path"] == "/serving-endpoints/embeddings"
    assert rows["uc_set_alias"] == {
        "name": "uc_set_alias",
        "method": "PUT",
        "path": "/api/2.1/unity-catalog/models/{full_name}/aliases/{alias}",
        "purpose": "Point a Unity Catalog model alias (e.g. prod) at a version.",
        "tool": "swap_model_version(alias=...)",
    }
    assert catalogue["operation"] is None


async def test_catalogue_tools_exist(client: Client) -> None:
    tools = {tool.name for tool in (await client.list_tools()).tools}
    catalogue = await discover(client)
    named = {row["tool"].split("(")[0] for row in catalogue["operations"] if row["tool"]}
    assert named <= tools
    assert {"create_endpoint", "delete_endpoint", "list_endpoints", "get_endpoint"} <= named


async def test_catalogue_fits_context(client: Client) -> None:
    result = await client.call_tool("discover_operations", {})
    assert len(result.content[0].text) < 12_000  # type: ignore[union-attr]


async def test_detail_create(client: Client) -> None:
    detail = (await discover(client, "create"))["operation"]
    fields = {f["name"]: f for f in detail["fields"]}
    assert fields["name"]["required"] is True
    assert "databricks-" in fields["name"]["notes"]
    assert fields["config.served_entities[].entity_version"]["type"] == "string"
    assert fields["config.traffic_config.routes[].traffic_percentage"]["required"] is True
    assert detail["tool"] == "create_endpoint"
    assert detail["long_running"] is True
    assert any("RESOURCE_ALREADY_EXISTS" in rule for rule in detail["rules"])
    assert any("turbine_failure-3" in rule for rule in detail["rules"])
    assert detail["example"]["config"]["served_entities"][0]["entity_version"] == "3"


async def test_detail_by_cli_name(client: Client) -> None:
    detail = (await discover(client, "update-config"))["operation"]
    assert detail["name"] == "update_config"
    assert detail["tool"] == "update_config"
    assert any("patch_tags" in rule and "put_ai_gateway" in rule for rule in detail["rules"])
    assert any("IN_PROGRESS" in rule and "409" in rule for rule in detail["rules"])


async def test_detail_permissions_take_id(client: Client) -> None:
    detail = (await discover(client, "get_permissions"))["operation"]
    assert detail["fields"][0]["name"] == "serving_endpoint_id"
    assert "NOT its name" in detail["fields"][0]["notes"]


async def test_detail_unknown_operation(client: Client) -> None:
    result = await client.call_tool("discover_operations", {"operation": "creat"})
    assert result.is_error is True
    text = result.content[0].text  # type: ignore[union-attr]
    assert "operation='creat'" in text
    assert "Did you mean ['create'" in text


def test_operation_names_unique() -> None:
    names = [op.name for op in OPERATIONS]
    assert len(names) == len(set(names))
    aliases = [a for op in OPERATIONS for a in op.aliases]
    assert not set(aliases) & set(names)


def test_find_operation_aliases() -> None:
    assert find_operation("Create") is not None
    assert find_operation("patch") == find_operation("patch_tags")
    assert find_operation("create-provisioned-throughput-endpoint") == find_operation("create_pt")
    assert find_operation("nothing") is None


@pytest.mark.parametrize("name", ["create", "update_config"])
def test_examples_pass_local_rules(name: str) -> None:
    operation = find_operation(name)
    assert operation is not None and operation.example is not None
    config = operation.example.get("config", operation.example)
    entities = normalise_served_entities(config["served_entities"])
    normalise_routes(config["traffic_config"]["routes"], entities)


async def test_create_example_accepted(emulator_http: httpx.AsyncClient) -> None:
    operation = find_operation("create")
    assert operation is not None and operation.example is not None
    response = await emulator_http.post("/api/2.0/serving-endpoints", json=operation.example)
    assert response.status_code == 200, response.text
