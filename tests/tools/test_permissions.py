import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp import Client

from emulator import Workspace, apply_scenario
from emulator.faults import parse_fault
from server.settings import Settings
from tests.tools.support import EP_DEMO, audit_records, content_of, error_text, requests_of

pytestmark = pytest.mark.anyio

NAME = "ep-demo"
GET_PATH = f"/api/2.0/serving-endpoints/{NAME}"
PERMISSIONS_PREFIX = "/api/2.0/permissions/serving-endpoints/"
FOUNDATION = "databricks-claude-sonnet-4"
DATA_TEAM_QUERY = {"group_name": "data-team", "permission_level": "CAN_QUERY"}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(audit_log=str(tmp_path / "audit.jsonl"))


@pytest.fixture
def endpoint_id(workspace: Workspace) -> str:
    apply_scenario(workspace, {"endpoints": [EP_DEMO]})
    endpoint_id = workspace.endpoints[NAME].id
    assert endpoint_id is not None
    return endpoint_id


def acl_levels(content: dict[str, Any]) -> dict[str, str]:
    return {row["principal"]: row["level"] for row in content["acl"]}


async def grant(client: Client, grants: Any, name: str = NAME, **arguments: Any) -> Any:
    return await client.call_tool("update_permissions", {"name": name, "grants": grants, **arguments})


async def test_get_permissions_uses_id(client: Client, workspace: Workspace, endpoint_id: str) -> None:
    content = content_of(await client.call_tool("get_permissions", {"name": NAME}))
    assert re.fullmatch(r"[0-9a-f]{32}", endpoint_id)
    assert requests_of(workspace) == [("GET", GET_PATH), ("GET", PERMISSIONS_PREFIX + endpoint_id)]
    assert content["id"] == endpoint_id
    assert content["acl"] == [
        {
            "principal": "admins",
            "kind": "group",
            "level": "CAN_MANAGE",
            "inherited_from": ["/serving-endpoints/"],
            "display_name": None,
        },
        {
            "principal": "sandbox@example.com",
            "kind": "user",
            "level": "CAN_MANAGE",
            "inherited_from": None,
            "display_name": None,
        },
    ]


async def test_get_permissions_no_id(client: Client, workspace: Workspace) -> None:
    text = error_text(await client.call_tool("get_permissions", {"name": FOUNDATION}))
    assert "NO_ENDPOINT_ID" in text
    assert "permissions are not manageable for this endpoint (no id)" in text.lower()
    assert requests_of(workspace) == [("GET", f"/api/2.0/serving-endpoints/{FOUNDATION}")]


async def test_permissions_api_rejects_name(emulator_http: httpx.AsyncClient, endpoint_id: str) -> None:
    # The tools resolve the id first because the API rejects the name in its place with a 400.
    response = await emulator_http.get(PERMISSIONS_PREFIX + NAME)
    assert response.status_code == 400
    assert "not a valid endpoint id" in response.json()["message"]


async def test_update_permissions_patch_merges(client: Client, workspace: Workspace, endpoint_id: str) -> None:
    content = content_of(await grant(client, [DATA_TEAM_QUERY]))
    path = PERMISSIONS_PREFIX + endpoint_id
    assert requests_of(workspace) == [("GET", GET_PATH), ("PATCH", path), ("GET", path)]
    assert workspace.request_log[1].body == {"access_control_list": [DATA_TEAM_QUERY]}
    assert content["status"] == "UPDATED"
    assert content["request"] == {"method": "PATCH", "path": path, "body": {"access_control_list": [DATA_TEAM_QUERY]}}
    assert acl_levels(content) == {
        "admins": "CAN_MANAGE",
        "sandbox@example.com": "CAN_MANAGE",
        "data-team": "CAN_QUERY",
    }
    assert workspace.endpoints[NAME].acl == {
        "user_name:sandbox@example.com": "CAN_MANAGE",
        "group_name:data-team": "CAN_QUERY",
    }


async def test_update_permissions_lenient_arguments(client: Client, workspace: Workspace, endpoint_id: str) -> None:
    grants = json.dumps(
        [{"service_principal_name": "8f2c6a1e-0d3b-4c57-9e2a-5b7d1c9e4f60", "permission_level": "can_view"}]
    )
    content = content_of(await grant(client, grants))
    assert workspace.request_log[1].body == {
        "access_control_list": [
            {"service_principal_name": "8f2c6a1e-0d3b-4c57-9e2a-5b7d1c9e4f60", "permission_level": "CAN_VIEW"}
        ]
    }
    rows = [row for row in content["acl"] if row["kind"] == "service_principal"]
    assert rows == [
        {
            "principal": "8f2c6a1e-0d3b-4c57-9e2a-5b7d1c9e4f60",
            "kind": "service_principal",
            "level": "CAN_VIEW",
            "inherited_from": None,
            "display_name": "deploy-bot",
        }
    ]


async def test_update_permissions_lowers_grant(client: Client, workspace: Workspace, endpoint_id: str) -> None:
    content_of(await grant(client, [{"user_name": "alice@example.com", "permission_level": "CAN_MANAGE"}]))
    content = content_of(await grant(client, [{"user_name": "alice@example.com", "permission_level": "CAN_VIEW"}]))
    assert acl_levels(content)["alice@example.com"] == "CAN_VIEW"


@pytest.mark.parametrize(
    ("grants", "message"),
    [
        ([], "Invalid grants=[]: is empty"),
        ([{"permission_level": "CAN_QUERY"}], "names 0 principals"),
        ([{**DATA_TEAM_QUERY, "user_name": "alice@example.com"}], "names 2 principals"),
        ([{"group_name": "data-team", "permission_level": "CAN_EDIT"}], "grants[0].permission_level"),
        ([{**DATA_TEAM_QUERY, "inherited": True}], "contains unknown fields"),
        ([{"group_name": "admins", "permission_level": "CAN_VIEW"}], "would lower the admins group"),
        ([DATA_TEAM_QUERY, {**DATA_TEAM_QUERY, "permission_level": "CAN_VIEW"}], "names a principal twice"),
    ],
)
async def test_update_permissions_invalid_grants(
    client: Client, workspace: Workspace, endpoint_id: str, grants: Any, message: str
) -> None:
    assert message in error_text(await grant(client, grants))
    assert workspace.request_log == []


async def test_update_permissions_dry_run(client: Client, workspace: Workspace, endpoint_id: str) -> None:
    content = content_of(await grant(client, [DATA_TEAM_QUERY], dry_run=True))
    path = PERMISSIONS_PREFIX + endpoint_id
    assert content["status"] == "DRY_RUN"
    assert content["request"]["method"] == "PATCH"
    assert requests_of(workspace) == [("GET", GET_PATH), ("GET", path)]
    assert "data-team" not in acl_levels(content)
    assert "group_name:data-team" not in workspace.endpoints[NAME].acl


@pytest.mark.parametrize("settings", [Settings(protected_endpoints=())])
async def test_update_permissions_no_id(client: Client, workspace: Workspace) -> None:
    text = error_text(await grant(client, [DATA_TEAM_QUERY], name=FOUNDATION))
    assert "permissions are not manageable for this endpoint (no id)" in text.lower()
    assert requests_of(workspace) == [("GET", f"/api/2.0/serving-endpoints/{FOUNDATION}")]


async def test_update_permissions_protected_by_default(client: Client, workspace: Workspace) -> None:
    text = error_text(await grant(client, [DATA_TEAM_QUERY], name=FOUNDATION))
    assert "PROTECTED_ENDPOINT" in text
    assert workspace.request_log == []


@pytest.mark.parametrize("settings", [Settings(read_only=True)])
async def test_update_permissions_read_only(client: Client, workspace: Workspace, endpoint_id: str) -> None:
    assert "READ_ONLY_MODE" in error_text(await grant(client, [DATA_TEAM_QUERY], dry_run=True))
    assert workspace.request_log == []


async def test_update_permissions_unknown_principal(client: Client, workspace: Workspace, endpoint_id: str) -> None:
    text = error_text(await grant(client, [{"user_name": "nobody@example.com", "permission_level": "CAN_QUERY"}]))
    assert "INVALID_PARAMETER_VALUE (HTTP 400)" in text
    assert "nobody@example.com" in text
    assert "application id" in text
    assert [r.method for r in workspace.request_log] == ["GET", "PATCH"]


async def test_update_permissions_lost_response_checked(
    client: Client, workspace: Workspace, endpoint_id: str, settings: Settings
) -> None:
    # The PATCH gets a 200 with an unreadable body and never reaches the ACL, so the read-back decides.
    workspace.faults.append(parse_fault({"kind": "malformed_json", "method": "PATCH", "count": 1}))
    text = error_text(await grant(client, [DATA_TEAM_QUERY]))
    assert "GRANT_NOT_IN_EFFECT" in text
    assert "group_name=data-team CAN_QUERY" in text
    assert "lost or unreadable" in text
    path = PERMISSIONS_PREFIX + endpoint_id
    assert requests_of(workspace) == [("GET", GET_PATH), ("PATCH", path), ("GET", path)]
    assert "group_name:data-team" not in workspace.endpoints[NAME].acl


async def test_update_permissions_audits(
    client: Client, workspace: Workspace, endpoint_id: str, settings: Settings
) -> None:
    content_of(await grant(client, [DATA_TEAM_QUERY]))
    error_text(await grant(client, [{"group_name": "admins", "permission_level": "CAN_VIEW"}]))
    workspace.faults.append(parse_fault({"kind": "malformed_json", "method": "PATCH", "count": 1}))
    error_text(await grant(client, [{"user_name": "bob@example.com", "permission_level": "CAN_QUERY"}]))
    records = await audit_records(settings)
    assert [(r["tool"], r["outcome"]) for r in records] == [
        ("update_permissions", "updated"),
        ("update_permissions", "rejected"),
        ("update_permissions", "failed"),
    ]
    assert records[0]["detail"] == {"access_control_list": [DATA_TEAM_QUERY]}
    assert records[2]["detail"]["error_code"] == "GRANT_NOT_IN_EFFECT"
