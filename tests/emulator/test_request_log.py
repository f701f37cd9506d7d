"""The request log: secrets in request bodies are redacted before the log stores them."""

from collections.abc import AsyncIterator

import httpx
import pytest

from emulator import Workspace, create_app
from emulator.redact import REDACTED, body_for_log, redact_form
from tests.emulator.control_support import ENDPOINTS

pytestmark = [pytest.mark.anyio, pytest.mark.behaviour("admin.request-log-redaction")]

SP_NAME = "8f2c6a1e-0d3b-4c57-9e2a-5b7d1c9e4f60"
SP_SECRET = "emulator-sp-secret"


@pytest.fixture
async def anonymous(workspace: Workspace) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(workspace))
    async with httpx.AsyncClient(transport=transport, base_url="http://emulator.local") as http:
        yield http


async def test_log_redacts_oauth_client_secret(anonymous: httpx.AsyncClient, workspace: Workspace) -> None:
    form = {"grant_type": "client_credentials", "client_id": SP_NAME, "client_secret": SP_SECRET}
    response = await anonymous.post("/oidc/v1/token", data=form)
    assert response.status_code == 200
    logged = workspace.request_log[-1]
    assert logged.path == "/oidc/v1/token"
    assert SP_SECRET not in str(logged.body)
    assert logged.body == f"grant_type=client_credentials&client_id={SP_NAME}&client_secret={REDACTED}"


async def test_log_keeps_form_without_secrets(anonymous: httpx.AsyncClient, workspace: Workspace) -> None:
    await anonymous.post("/oidc/v1/token", data={"grant_type": "client_credentials"}, auth=(SP_NAME, SP_SECRET))
    assert workspace.request_log[-1].body == "grant_type=client_credentials"
    assert "authorization" not in workspace.request_log[-1].headers


async def test_log_redacts_plaintext_credentials(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    secret = "sk-never-logged"
    openai_config = {"openai_api_key_plaintext": secret}
    entity = {
        "external_model": {
            "name": "gpt-4o",
            "provider": "openai",
            "task": "llm/v1/chat",
            "openai_config": openai_config,
        }
    }
    response = await emulator_http.post(ENDPOINTS, json={"name": "ep-ext", "config": {"served_entities": [entity]}})
    assert response.status_code == 200, response.text
    logged = workspace.request_log[-1].body
    assert secret not in str(logged)
    logged_model = logged["config"]["served_entities"][0]["external_model"]
    assert logged_model["openai_config"] == {"openai_api_key_plaintext": REDACTED}
    assert logged_model["name"] == "gpt-4o"
    pending = workspace.endpoints["ep-ext"].pending
    assert pending is not None
    stored = pending.config.served_entities[0]["external_model"]["openai_config"]
    assert stored["openai_api_key_plaintext"] == secret


def test_body_for_log_redacts_nested_tokens() -> None:
    body = b'{"items": [{"access_token": "t1"}, {"bearer_token_auth": {"token": "t2"}}], "max_tokens": 5}'
    assert body_for_log(body) == {
        "items": [{"access_token": REDACTED}, {"bearer_token_auth": {"token": REDACTED}}],
        "max_tokens": 5,
    }


def test_body_for_log_plain_text() -> None:
    assert body_for_log(b"") is None
    assert body_for_log(b"not json") == "not json"
    assert redact_form("password=hunter2&user=x") == f"password={REDACTED}&user=x"
