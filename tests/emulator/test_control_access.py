"""Access checks on the endpoint-scoped routes: CAN_VIEW to read, CAN_QUERY to score, CAN_MANAGE to change."""

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.routing import Route

from emulator import Workspace, create_app
from tests.emulator.control_support import ENDPOINTS, create_ready

pytestmark = [pytest.mark.anyio, pytest.mark.behaviour("permissions.enforcement")]
BOB = "bob@example.com"

READ_ROUTES = [
    ("GET", "/metrics"),
    ("GET", "/openapi"),
    ("GET", "/served-models/demo_model-1/logs"),
    ("GET", "/served-models/demo_model-1/build-logs"),
]
MANAGE_ROUTES = [
    ("PATCH", "/tags", {"add_tags": [{"key": "k"}]}),
    ("PATCH", "/notifications", {"email_notifications": {}}),
    ("PATCH", "/telemetry-config", {}),
    ("PUT", "/ai-gateway", {}),
    ("PUT", "/rate-limits", {"rate_limits": []}),
]


def endpoint_routes() -> list[tuple[str, str]]:
    """Every (method, path template) of the app that addresses one endpoint by name or id, admin API excluded."""
    found = []
    for route in create_app(Workspace()).routes:
        if not isinstance(route, Route) or route.path.startswith("/__emulator__/"):
            continue
        if "{name}" not in route.path and "{endpoint_id}" not in route.path:
            continue
        found += [(method, route.path) for method in sorted(route.methods or ()) if method != "HEAD"]
    return found


def required_level(method: str, template: str) -> str:
    if template.endswith("/invocations"):
        return "CAN_QUERY"
    return "CAN_VIEW" if method == "GET" else "CAN_MANAGE"


@pytest.fixture
async def bob_http(workspace: Workspace) -> AsyncIterator[httpx.AsyncClient]:
    """Raw HTTP access as bob, a workspace user outside the admins group."""
    transport = httpx.ASGITransport(app=create_app(workspace))
    headers = {"Authorization": "Bearer dapi-emulator-bob"}
    async with httpx.AsyncClient(transport=transport, base_url="http://emulator.local", headers=headers) as http:
        yield http


@pytest.mark.parametrize("method, path", READ_ROUTES)
async def test_read_routes_need_view(
    emulator_http: httpx.AsyncClient, bob_http: httpx.AsyncClient, workspace: Workspace, method: str, path: str
) -> None:
    await create_ready(emulator_http, workspace, "ep-demo")
    denied = await bob_http.request(method, f"{ENDPOINTS}/ep-demo{path}")
    assert denied.status_code == 403
    assert denied.json()["error_code"] == "PERMISSION_DENIED"
    workspace.endpoints["ep-demo"].acl[f"user_name:{BOB}"] = "CAN_VIEW"
    allowed = await bob_http.request(method, f"{ENDPOINTS}/ep-demo{path}")
    assert allowed.status_code == 200, allowed.text


@pytest.mark.parametrize("method, path, body", MANAGE_ROUTES)
async def test_settings_routes_need_manage(
    emulator_http: httpx.AsyncClient,
    bob_http: httpx.AsyncClient,
    workspace: Workspace,
    method: str,
    path: str,
    body: dict[str, object],
) -> None:
    await create_ready(emulator_http, workspace, "ep-demo")
    workspace.endpoints["ep-demo"].acl[f"user_name:{BOB}"] = "CAN_QUERY"
    denied = await bob_http.request(method, f"{ENDPOINTS}/ep-demo{path}", json=body)
    assert denied.status_code == 403
    assert denied.json()["error_code"] == "PERMISSION_DENIED"
    workspace.endpoints["ep-demo"].acl[f"user_name:{BOB}"] = "CAN_MANAGE"
    allowed = await bob_http.request(method, f"{ENDPOINTS}/ep-demo{path}", json=body)
    assert allowed.status_code == 200, allowed.text


async def test_pt_update_needs_manage(bob_http: httpx.AsyncClient, emulator_http: httpx.AsyncClient) -> None:
    entity = {"entity_name": "system.ai.meta_llama_v3_1_8b_instruct", "entity_version": "1"}
    entity["provisioned_model_units"] = 50
    created = await emulator_http.post(
        f"{ENDPOINTS}/pt", json={"name": "ep-pt", "config": {"served_entities": [entity]}}
    )
    assert created.status_code == 200, created.text
    response = await bob_http.put(f"{ENDPOINTS}/pt/ep-pt/config", json={"config": {"served_entities": [entity]}})
    assert response.status_code == 403


@pytest.mark.behaviour("settings.managed-endpoints")
async def test_fm_gateway_needs_admin(bob_http: httpx.AsyncClient) -> None:
    response = await bob_http.put(f"{ENDPOINTS}/databricks-claude-sonnet-4-6/ai-gateway", json={})
    assert response.status_code == 403
    metrics = await bob_http.get(f"{ENDPOINTS}/databricks-claude-sonnet-4-6/metrics")
    assert metrics.status_code == 200


@pytest.mark.parametrize("method, template", endpoint_routes())
async def test_every_endpoint_route_checks_level(
    emulator_http: httpx.AsyncClient, bob_http: httpx.AsyncClient, workspace: Workspace, method: str, template: str
) -> None:
    endpoint = await create_ready(emulator_http, workspace, "ep-demo")
    path = (
        template.replace("{name}", "ep-demo")
        .replace("{endpoint_id}", endpoint["id"])
        .replace("{served_model_name}", "demo_model-1")
        .replace("{served_model}", "demo_model-1")
    )
    body: dict[str, object] | None = None
    if method not in ("GET", "DELETE"):
        # The PT config route checks that 'config' is present before it looks at the caller.
        body = {"config": {}} if "/pt/" in template else {}
    levels = ["CAN_VIEW", "CAN_QUERY", "CAN_MANAGE"]
    needed = required_level(method, template)
    for level in [None, *levels]:
        if level is not None:
            workspace.endpoints["ep-demo"].acl[f"user_name:{BOB}"] = level
        response = await bob_http.request(method, path, json=body)
        granted = level is not None and levels.index(level) >= levels.index(needed)
        assert (response.status_code != 403) == granted, (level, response.status_code, response.text)
