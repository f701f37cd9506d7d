"""Serving-endpoint permissions: the permissions API, access checks and the caller's permission_level."""

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import pytest

from emulator import SANDBOX_TOKEN, Workspace, create_app
from emulator.errors import ApiError
from emulator.permissions import effective_level, require_level

pytestmark = pytest.mark.anyio

ALICE = "dapi-emulator-alice"  # groups: users, data-team
BOB = "dapi-emulator-bob"  # groups: users
SP = "dapi-emulator-sp"  # service principal 8f2c6a1e-..., groups: users
SP_NAME = "8f2c6a1e-0d3b-4c57-9e2a-5b7d1c9e4f60"
FM_ENDPOINT = "databricks-claude-sonnet-4"
CREATE_BODY = {
    "name": "ep-demo",
    "config": {
        "served_entities": [
            {
                "entity_name": "main.default.demo_model",
                "entity_version": "1",
                "workload_size": "Small",
                "scale_to_zero_enabled": True,
            }
        ]
    },
}

ClientFactory = Callable[[str], AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def as_user(workspace: Workspace) -> ClientFactory:
    """Open an in-process client that authenticates with the given token."""
    app = create_app(workspace)

    @asynccontextmanager
    async def open_client(token: str) -> AsyncIterator[httpx.AsyncClient]:
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://emulator.local", headers=headers) as http:
            yield http

    return open_client


@pytest.fixture
async def alice(as_user: ClientFactory) -> AsyncIterator[httpx.AsyncClient]:
    async with as_user(ALICE) as http:
        yield http


@pytest.fixture
async def bob(as_user: ClientFactory) -> AsyncIterator[httpx.AsyncClient]:
    async with as_user(BOB) as http:
        yield http


@pytest.fixture
async def endpoint_id(alice: httpx.AsyncClient) -> str:
    """Create ep-demo as alice and return its id."""
    response = await alice.post("/api/2.0/serving-endpoints", json=CREATE_BODY)
    assert response.status_code == 200, response.text
    assert response.json()["permission_level"] == "CAN_MANAGE"
    return str(response.json()["id"])


def _path(endpoint_id: str) -> str:
    return f"/api/2.0/permissions/serving-endpoints/{endpoint_id}"


def _grants(body: dict[str, Any]) -> dict[str, list[tuple[str, bool]]]:
    """Map "field:name" to its (level, inherited) pairs."""
    out: dict[str, list[tuple[str, bool]]] = {}
    for entry in body["access_control_list"]:
        field_name = next(f for f in ("user_name", "group_name", "service_principal_name") if f in entry)
        key = f"{field_name}:{entry[field_name]}"
        out[key] = [(p["permission_level"], p["inherited"]) for p in entry["all_permissions"]]
    return out


@pytest.mark.behaviour("permissions.shape", "permissions.creator-manage")
async def test_permissions_get_shape(alice: httpx.AsyncClient, endpoint_id: str) -> None:
    response = await alice.get(_path(endpoint_id))
    assert response.status_code == 200
    body = response.json()
    assert body["object_id"] == f"/serving-endpoints/{endpoint_id}"
    assert body["object_type"] == "serving-endpoint"
    admins = body["access_control_list"][0]
    assert admins["group_name"] == "admins"
    assert admins["all_permissions"] == [
        {"permission_level": "CAN_MANAGE", "inherited": True, "inherited_from_object": ["/serving-endpoints/"]}
    ]
    assert _grants(body)["user_name:alice@example.com"] == [("CAN_MANAGE", False)]


@pytest.mark.behaviour("permissions.by-id")
async def test_permissions_name_rejected(emulator_http: httpx.AsyncClient, endpoint_id: str) -> None:
    response = await emulator_http.get(_path("ep-demo"))
    assert response.status_code == 400
    body = response.json()
    assert body["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "'ep-demo' is not a valid endpoint id" in body["message"]
    assert "GET /api/2.0/serving-endpoints/{name}" in body["message"]


@pytest.mark.behaviour("permissions.by-id", "permissions.managed-endpoints")
async def test_permissions_empty_id_rejected(emulator_http: httpx.AsyncClient) -> None:
    for method in ("GET", "PUT", "PATCH"):
        response = await emulator_http.request(method, _path(""), json={"access_control_list": []})
        assert response.status_code == 400, method
        assert "not a valid endpoint id" in response.json()["message"]


@pytest.mark.behaviour("permissions.by-id")
async def test_permissions_unknown_id(emulator_http: httpx.AsyncClient) -> None:
    response = await emulator_http.get(_path("0" * 32))
    assert response.status_code == 404
    assert response.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert "0" * 32 in response.json()["message"]


@pytest.mark.behaviour("permissions.patch-merges")
async def test_permissions_patch_merges(alice: httpx.AsyncClient, endpoint_id: str) -> None:
    grant = {"access_control_list": [{"group_name": "data-team", "permission_level": "CAN_QUERY"}]}
    response = await alice.patch(_path(endpoint_id), json=grant)
    assert response.status_code == 200
    grants = _grants(response.json())
    assert set(grants) == {"group_name:admins", "user_name:alice@example.com", "group_name:data-team"}
    assert grants["group_name:data-team"] == [("CAN_QUERY", False)]
    assert _grants((await alice.get(_path(endpoint_id))).json()) == grants


@pytest.mark.behaviour("permissions.put-replaces")
async def test_permissions_put_replaces(alice: httpx.AsyncClient, endpoint_id: str, workspace: Workspace) -> None:
    grant = {"access_control_list": [{"group_name": "data-team", "permission_level": "CAN_QUERY"}]}
    response = await alice.put(_path(endpoint_id), json=grant)
    assert response.status_code == 200
    grants = _grants(response.json())
    assert set(grants) == {"group_name:admins", "group_name:data-team"}
    assert workspace.endpoints["ep-demo"].acl == {"group_name:data-team": "CAN_QUERY"}
    # Alice dropped her own grant and keeps only what her group holds.
    endpoint = await alice.get("/api/2.0/serving-endpoints/ep-demo")
    assert endpoint.json()["permission_level"] == "CAN_QUERY"


@pytest.mark.behaviour("permissions.put-replaces")
async def test_permissions_put_empty_keeps_admins(emulator_http: httpx.AsyncClient, endpoint_id: str) -> None:
    response = await emulator_http.put(_path(endpoint_id), json={"access_control_list": []})
    assert response.status_code == 200
    assert set(_grants(response.json())) == {"group_name:admins"}


@pytest.mark.behaviour("permissions.grant-validation")
async def test_permissions_admins_cannot_be_lowered(
    emulator_http: httpx.AsyncClient, endpoint_id: str, workspace: Workspace
) -> None:
    before = dict(workspace.endpoints["ep-demo"].acl)
    lowered = {"access_control_list": [{"group_name": "admins", "permission_level": "CAN_VIEW"}]}
    for method in ("PUT", "PATCH"):
        response = await emulator_http.request(method, _path(endpoint_id), json=lowered)
        assert response.status_code == 400, method
        message = response.json()["message"]
        assert "'admins' group cannot be given CAN_VIEW" in message
        assert "inherited from /serving-endpoints/" in message
    assert workspace.endpoints["ep-demo"].acl == before


@pytest.mark.behaviour("permissions.grant-validation")
async def test_permissions_admins_manage_grant_allowed(emulator_http: httpx.AsyncClient, endpoint_id: str) -> None:
    grant = {"access_control_list": [{"group_name": "admins", "permission_level": "CAN_MANAGE"}]}
    response = await emulator_http.patch(_path(endpoint_id), json=grant)
    assert response.status_code == 200
    assert _grants(response.json())["group_name:admins"] == [("CAN_MANAGE", False), ("CAN_MANAGE", True)]


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ({"user_name": "bob@example.com", "permission_level": "CAN_EDIT"}, "'CAN_EDIT' is invalid"),
        ({"user_name": "bob@example.com"}, "None is invalid"),
        ({"user_name": "nobody@example.com", "permission_level": "CAN_VIEW"}, "does not exist in this workspace"),
        ({"group_name": "ghosts", "permission_level": "CAN_VIEW"}, "group_name='ghosts' does not exist"),
        (
            {"user_name": "bob@example.com", "group_name": "users", "permission_level": "CAN_VIEW"},
            "must set exactly one of",
        ),
        ("bob@example.com", "must be an object"),
    ],
)
@pytest.mark.behaviour("permissions.grant-validation")
async def test_permissions_invalid_grant(
    emulator_http: httpx.AsyncClient, endpoint_id: str, workspace: Workspace, entry: Any, expected: str
) -> None:
    before = dict(workspace.endpoints["ep-demo"].acl)
    ok = {"user_name": "bob@example.com", "permission_level": "CAN_VIEW"}
    response = await emulator_http.patch(_path(endpoint_id), json={"access_control_list": [ok, entry]})
    assert response.status_code == 400
    assert "access_control_list[1]" in response.json()["message"]
    assert expected in response.json()["message"]
    assert workspace.endpoints["ep-demo"].acl == before


@pytest.mark.behaviour("permissions.grant-validation", "permissions.shape")
async def test_permissions_service_principal_grant(
    emulator_http: httpx.AsyncClient, as_user: ClientFactory, endpoint_id: str
) -> None:
    grant = {"access_control_list": [{"service_principal_name": SP_NAME, "permission_level": "CAN_QUERY"}]}
    response = await emulator_http.patch(_path(endpoint_id), json=grant)
    assert response.status_code == 200
    entry = next(e for e in response.json()["access_control_list"] if e.get("service_principal_name") == SP_NAME)
    assert entry["display_name"] == "deploy-bot"
    async with as_user(SP) as service_principal:
        endpoint = await service_principal.get("/api/2.0/serving-endpoints/ep-demo")
    assert endpoint.json()["permission_level"] == "CAN_QUERY"


@pytest.mark.behaviour("permissions.levels")
async def test_permissions_levels_route(alice: httpx.AsyncClient, endpoint_id: str) -> None:
    response = await alice.get(f"{_path(endpoint_id)}/permissionLevels")
    assert response.status_code == 200
    levels = [item["permission_level"] for item in response.json()["permission_levels"]]
    assert levels == ["CAN_VIEW", "CAN_QUERY", "CAN_MANAGE"]


@pytest.mark.behaviour("permissions.enforcement")
async def test_permissions_write_needs_manage(bob: httpx.AsyncClient, endpoint_id: str, workspace: Workspace) -> None:
    grant = {"access_control_list": [{"user_name": "bob@example.com", "permission_level": "CAN_MANAGE"}]}
    response = await bob.patch(_path(endpoint_id), json=grant)
    assert response.status_code == 403
    assert response.json()["message"] == "User bob@example.com does not have permission 'Manage' on Endpoint ep-demo."
    assert "user_name:bob@example.com" not in workspace.endpoints["ep-demo"].acl


@pytest.mark.behaviour("permissions.enforcement")
async def test_endpoint_get_without_grant_denied(bob: httpx.AsyncClient, endpoint_id: str) -> None:
    response = await bob.get("/api/2.0/serving-endpoints/ep-demo")
    assert response.status_code == 403
    assert response.json()["error_code"] == "PERMISSION_DENIED"
    assert response.json()["message"] == "User bob@example.com does not have permission 'View' on Endpoint ep-demo."


@pytest.mark.behaviour("permissions.enforcement")
async def test_endpoint_group_grant_applies(
    alice: httpx.AsyncClient, bob: httpx.AsyncClient, endpoint_id: str, workspace: Workspace
) -> None:
    grant = {"access_control_list": [{"group_name": "users", "permission_level": "CAN_QUERY"}]}
    assert (await alice.patch(_path(endpoint_id), json=grant)).status_code == 200
    endpoint = await bob.get("/api/2.0/serving-endpoints/ep-demo")
    assert endpoint.status_code == 200
    assert endpoint.json()["permission_level"] == "CAN_QUERY"
    deleted = await bob.delete("/api/2.0/serving-endpoints/ep-demo")
    assert deleted.status_code == 403
    assert "'Manage'" in deleted.json()["message"]
    assert "ep-demo" in workspace.endpoints


@pytest.mark.behaviour("permissions.enforcement")
async def test_endpoint_update_config_needs_manage(
    alice: httpx.AsyncClient, bob: httpx.AsyncClient, endpoint_id: str, workspace: Workspace
) -> None:
    grant = {"access_control_list": [{"user_name": "bob@example.com", "permission_level": "CAN_QUERY"}]}
    assert (await alice.patch(_path(endpoint_id), json=grant)).status_code == 200
    workspace.clock.advance(3600)
    response = await bob.put("/api/2.0/serving-endpoints/ep-demo/config", json=CREATE_BODY["config"])
    assert response.status_code == 403
    assert "'Manage'" in response.json()["message"]
    assert workspace.endpoints["ep-demo"].pending is None


@pytest.mark.behaviour("list.summaries", "permissions.enforcement")
async def test_endpoint_list_filters_visible(
    alice: httpx.AsyncClient, bob: httpx.AsyncClient, endpoint_id: str, workspace: Workspace
) -> None:
    bob_names = {e["name"] for e in (await bob.get("/api/2.0/serving-endpoints")).json()["endpoints"]}
    alice_names = {e["name"] for e in (await alice.get("/api/2.0/serving-endpoints")).json()["endpoints"]}
    assert "ep-demo" not in bob_names
    assert "ep-demo" in alice_names
    system = {name for name, e in workspace.endpoints.items() if e.system}
    assert system <= bob_names


@pytest.mark.behaviour("permissions.managed-endpoints")
async def test_endpoint_system_visible_to_everyone(bob: httpx.AsyncClient) -> None:
    response = await bob.get(f"/api/2.0/serving-endpoints/{FM_ENDPOINT}")
    assert response.status_code == 200
    assert response.json()["permission_level"] == "CAN_QUERY"


@pytest.mark.behaviour("get.detailed", "permissions.enforcement")
async def test_endpoint_permission_level_of_caller(
    emulator_http: httpx.AsyncClient, bob: httpx.AsyncClient, endpoint_id: str
) -> None:
    grant = {"access_control_list": [{"user_name": "bob@example.com", "permission_level": "CAN_VIEW"}]}
    assert (await emulator_http.patch(_path(endpoint_id), json=grant)).status_code == 200
    assert (await emulator_http.get("/api/2.0/serving-endpoints/ep-demo")).json()["permission_level"] == "CAN_MANAGE"
    assert (await bob.get("/api/2.0/serving-endpoints/ep-demo")).json()["permission_level"] == "CAN_VIEW"


@pytest.mark.behaviour("permissions.enforcement")
async def test_require_level_hierarchy(workspace: Workspace, endpoint_id: str) -> None:
    endpoint = workspace.endpoints["ep-demo"]
    bob_principal = workspace.tokens[BOB]
    admin = workspace.tokens[SANDBOX_TOKEN]
    endpoint.acl["user_name:bob@example.com"] = "CAN_VIEW"
    endpoint.acl["group_name:users"] = "CAN_QUERY"
    assert effective_level(workspace, endpoint, bob_principal) == "CAN_QUERY"
    assert require_level(workspace, endpoint, bob_principal, "CAN_VIEW") == "CAN_QUERY"
    assert require_level(workspace, endpoint, admin, "CAN_MANAGE") == "CAN_MANAGE"
    with pytest.raises(ApiError) as caught:
        require_level(workspace, endpoint, bob_principal, "CAN_MANAGE")
    assert caught.value.status == 403
    system = workspace.endpoints[FM_ENDPOINT]
    assert require_level(workspace, system, bob_principal, "CAN_QUERY") == "CAN_QUERY"
    with pytest.raises(ApiError, match="'Manage' on Endpoint databricks-claude-sonnet-4"):
        require_level(workspace, system, bob_principal, "CAN_MANAGE")
