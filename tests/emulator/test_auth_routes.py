"""Host metadata, OIDC discovery and OAuth M2M, driven by databricks-sdk over loopback HTTP."""

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.config import Config

from emulator import SANDBOX_TOKEN, Workspace, apply_scenario, create_app
from emulator.scenario import ScenarioError
from emulator.server import EmulatorServer

pytestmark = pytest.mark.anyio

SP_NAME = "8f2c6a1e-0d3b-4c57-9e2a-5b7d1c9e4f60"
SP_SECRET = "emulator-sp-secret"


@pytest.fixture
def live(workspace: Workspace) -> Iterator[EmulatorServer]:
    with EmulatorServer(workspace) as server:
        yield server


@pytest.fixture
async def anonymous(workspace: Workspace) -> AsyncIterator[httpx.AsyncClient]:
    """In-process client that sends no credentials."""
    transport = httpx.ASGITransport(app=create_app(workspace))
    async with httpx.AsyncClient(transport=transport, base_url="http://emulator.local") as http:
        yield http


def _config(live: EmulatorServer, **credentials: str) -> Config:
    return Config(host=live.url, retry_timeout_seconds=5, **credentials)


@pytest.mark.behaviour("auth.host-metadata")
async def test_host_metadata_fields(anonymous: httpx.AsyncClient, workspace: Workspace) -> None:
    response = await anonymous.get("/.well-known/databricks-config")
    assert response.status_code == 200
    body = response.json()
    assert body["oidc_endpoint"] == "http://emulator.local/oidc"
    assert body["workspace_id"] == workspace.workspace_id
    assert body["account_id"] == workspace.account_id
    assert body["cloud"] == "aws"


@pytest.mark.behaviour("auth.oidc-discovery")
async def test_oidc_discovery_token_endpoint(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/oidc/.well-known/oauth-authorization-server")
    assert response.status_code == 200
    assert response.json()["token_endpoint"] == "http://emulator.local/oidc/v1/token"
    assert response.json()["issuer"] == "http://emulator.local/oidc"


@pytest.mark.behaviour("auth.host-metadata", "auth.oidc-discovery")
def test_sdk_config_reads_host_metadata(live: EmulatorServer, workspace: Workspace) -> None:
    config = _config(live, token=SANDBOX_TOKEN)
    assert config.workspace_id == workspace.workspace_id
    assert config.discovery_url == f"{live.url}/oidc/.well-known/oauth-authorization-server"


@pytest.mark.behaviour("auth.bearer-token")
def test_sdk_token_auth_lists_endpoints(live: EmulatorServer, workspace: Workspace) -> None:
    client = WorkspaceClient(config=_config(live, token=SANDBOX_TOKEN))
    names = {e.name for e in client.serving_endpoints.list()}
    assert names == set(workspace.endpoints)
    listed = [r for r in workspace.request_log if r.path == "/api/2.0/serving-endpoints"]
    assert listed[-1].principal == "sandbox@example.com"


@pytest.mark.behaviour("auth.oauth-m2m")
def test_sdk_oauth_m2m_lists_endpoints(live: EmulatorServer, workspace: Workspace) -> None:
    client = WorkspaceClient(config=_config(live, client_id=SP_NAME, client_secret=SP_SECRET))
    names = {e.name for e in client.serving_endpoints.list()}
    assert names == {name for name, e in workspace.endpoints.items() if e.system}
    token_requests = [r for r in workspace.request_log if r.path == "/oidc/v1/token"]
    assert [r.status for r in token_requests] == [200]
    assert token_requests[0].body == "grant_type=client_credentials&scope=all-apis"
    listed = [r for r in workspace.request_log if r.path == "/api/2.0/serving-endpoints"]
    assert listed[-1].principal == SP_NAME


@pytest.mark.behaviour("auth.oauth-errors")
def test_sdk_oauth_bad_secret(live: EmulatorServer, workspace: Workspace) -> None:
    client = WorkspaceClient(config=_config(live, client_id=SP_NAME, client_secret="wrong"))
    with pytest.raises(ValueError, match="invalid_client"):
        list(client.serving_endpoints.list())
    assert [r.status for r in workspace.request_log if r.path == "/oidc/v1/token"] == [401]
    assert not [r for r in workspace.request_log if r.path == "/api/2.0/serving-endpoints"]


@pytest.mark.behaviour("auth.oauth-errors")
async def test_oauth_bad_secret_401(anonymous: httpx.AsyncClient, workspace: Workspace) -> None:
    tokens_before = dict(workspace.tokens)
    for client_id, secret in ((SP_NAME, "wrong"), ("unknown-client", SP_SECRET)):
        response = await anonymous.post(
            "/oidc/v1/token",
            data={"grant_type": "client_credentials", "scope": "all-apis"},
            auth=(client_id, secret),
        )
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_client"
        assert response.headers["www-authenticate"].startswith("Basic")
    assert workspace.tokens == tokens_before


@pytest.mark.behaviour("auth.oauth-errors")
async def test_oauth_missing_credentials_401(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.post("/oidc/v1/token", data={"grant_type": "client_credentials"})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


@pytest.mark.behaviour("auth.oauth-m2m")
async def test_oauth_client_secret_post(anonymous: httpx.AsyncClient, workspace: Workspace) -> None:
    form = {"grant_type": "client_credentials", "client_id": SP_NAME, "client_secret": SP_SECRET}
    response = await anonymous.post("/oidc/v1/token", data=form)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "all-apis"
    assert workspace.tokens[body["access_token"]].name == SP_NAME


@pytest.mark.behaviour("auth.oauth-m2m", "permissions.managed-endpoints")
async def test_oauth_token_authenticates(anonymous: httpx.AsyncClient) -> None:
    token = await anonymous.post("/oidc/v1/token", data={"grant_type": "client_credentials"}, auth=(SP_NAME, SP_SECRET))
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    response = await anonymous.get("/api/2.0/serving-endpoints/databricks-claude-sonnet-4", headers=headers)
    assert response.status_code == 200
    assert response.json()["permission_level"] == "CAN_QUERY"


@pytest.mark.behaviour("auth.oauth-errors")
async def test_oauth_unsupported_grant_type(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.post("/oidc/v1/token", data={"grant_type": "password"}, auth=(SP_NAME, SP_SECRET))
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"
    assert "'password'" in response.json()["error_description"]


@pytest.mark.behaviour("auth.oauth-errors")
async def test_oauth_unknown_scope(anonymous: httpx.AsyncClient) -> None:
    form = {"grant_type": "client_credentials", "scope": "all-apis sql"}
    response = await anonymous.post("/oidc/v1/token", data=form, auth=(SP_NAME, SP_SECRET))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"
    assert "'sql'" in response.json()["error_description"]


@pytest.mark.behaviour("auth.scenario-principals")
def test_scenario_client_secret_needs_service_principal(workspace: Workspace) -> None:
    user = {"name": "carol@example.com", "client_secret": "s3cret"}
    with pytest.raises(ScenarioError, match="only service principals"):
        apply_scenario(workspace, {"principals": [user]})
    assert "carol@example.com" not in workspace.oauth_clients


@pytest.mark.behaviour("auth.scenario-principals")
def test_scenario_principal_needs_credential(workspace: Workspace) -> None:
    with pytest.raises(ScenarioError, match="needs a token, a client_secret, or both"):
        apply_scenario(workspace, {"principals": [{"name": "dave@example.com"}]})


@pytest.mark.behaviour("auth.scenario-principals")
def test_scenario_oauth_only_principal(workspace: Workspace) -> None:
    principal = {"name": "1111-sp", "kind": "service_principal", "client_secret": "abc"}
    apply_scenario(workspace, {"principals": [principal]})
    assert workspace.oauth_clients["1111-sp"].secret == "abc"
    assert "1111-sp" not in {p.name for p in workspace.tokens.values()}
