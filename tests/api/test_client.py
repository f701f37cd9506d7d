"""The REST client against the emulator, with injected faults."""

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from emulator import SANDBOX_TOKEN, Workspace, create_app
from emulator.faults import clear_faults, parse_fault
from emulator.server import EmulatorServer
from tools.api import (
    ApiError,
    ClientOptions,
    ConfigurationError,
    DatabricksClient,
    NotFound,
    RequestTimeout,
    StaticTokenAuth,
    TooManyRequests,
    TransportError,
)
from tools.api.errors import InternalError, TemporarilyUnavailable

pytestmark = pytest.mark.anyio

GET_PATH = "/api/2.0/serving-endpoints/databricks-gte-large-en"


def inject(workspace: Workspace, **spec: object) -> None:
    workspace.faults.append(parse_fault({"path": "^/api/2.0/serving-endpoints", **spec}))


def requests_to(workspace: Workspace, path: str) -> int:
    return sum(1 for record in workspace.request_log if record.path == path)


@pytest.fixture
async def api(workspace: Workspace) -> AsyncIterator[DatabricksClient]:
    transport = httpx.ASGITransport(app=create_app(workspace))
    options = ClientOptions(timeout_seconds=5, retry_budget_seconds=2)
    async with DatabricksClient(
        StaticTokenAuth("http://emulator.local", SANDBOX_TOKEN), options=options, transport=transport
    ) as client:
        yield client


@pytest.fixture
def loopback(workspace: Workspace) -> Iterator[EmulatorServer]:
    with EmulatorServer(workspace) as server:
        yield server


async def test_client_retries_429_after_retry_after(api: DatabricksClient, workspace: Workspace) -> None:
    inject(workspace, kind="status", status=429, retry_after=0, count=2)
    body = await api.get(GET_PATH)
    assert body["name"] == "databricks-gte-large-en"
    assert requests_to(workspace, GET_PATH) == 3


async def test_client_retries_503(api: DatabricksClient, workspace: Workspace) -> None:
    inject(workspace, kind="status", status=503, retry_after=0, count=1)
    body = await api.get(GET_PATH)
    assert body["name"] == "databricks-gte-large-en"
    assert requests_to(workspace, GET_PATH) == 2


async def test_client_429_forever_keeps_cause(api: DatabricksClient, workspace: Workspace) -> None:
    message = "Exceeded workspace QPS rate limit for databricks-gte-large-en."
    inject(workspace, kind="status", status=429, retry_after=1, error_code="REQUEST_LIMIT_EXCEEDED", message=message)
    with pytest.raises(TooManyRequests) as caught:
        await api.get(GET_PATH)
    assert caught.value.error_code == "REQUEST_LIMIT_EXCEEDED"
    assert caught.value.message == message
    assert caught.value.retry_after_seconds == 1
    # A 2 s budget with 1 s delays allows one retry, never an unbounded loop.
    assert 1 <= requests_to(workspace, GET_PATH) <= 3


async def test_client_500_not_retried(api: DatabricksClient, workspace: Workspace) -> None:
    inject(workspace, kind="status", status=500)
    with pytest.raises(InternalError) as caught:
        await api.get(GET_PATH)
    assert caught.value.status == 500
    assert requests_to(workspace, GET_PATH) == 1


async def test_client_error_carries_request_id(api: DatabricksClient) -> None:
    with pytest.raises(NotFound) as caught:
        await api.get("/api/2.0/serving-endpoints/absent")
    assert caught.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert caught.value.request_id
    assert str(caught.value).startswith("RESOURCE_DOES_NOT_EXIST (HTTP 404): ")


async def test_client_html_error_page(api: DatabricksClient, workspace: Workspace) -> None:
    inject(workspace, kind="html", status=502)
    with pytest.raises(ApiError) as caught:
        await api.get(GET_PATH)
    assert caught.value.status == 502
    assert caught.value.error_code == "BAD_GATEWAY"
    assert "<" not in caught.value.message


async def test_client_malformed_json_body(api: DatabricksClient, workspace: Workspace) -> None:
    inject(workspace, kind="malformed_json")
    with pytest.raises(ApiError) as caught:
        await api.get(GET_PATH)
    assert caught.value.error_code == "MALFORMED_RESPONSE"


async def test_client_reset_is_transport_error(loopback: EmulatorServer, workspace: Workspace) -> None:
    inject(workspace, kind="reset")
    async with DatabricksClient(StaticTokenAuth(loopback.url, SANDBOX_TOKEN)) as client:
        with pytest.raises(TransportError) as caught:
            await client.get(GET_PATH)
    assert not isinstance(caught.value, RequestTimeout)
    assert caught.value.method == "GET"


async def test_client_timeout_says_client_side(loopback: EmulatorServer, workspace: Workspace) -> None:
    inject(workspace, kind="timeout", seconds=5)
    options = ClientOptions(timeout_seconds=0.3)
    async with DatabricksClient(StaticTokenAuth(loopback.url, SANDBOX_TOKEN), options=options) as client:
        with pytest.raises(RequestTimeout, match="timed out on the client side after 0.3s"):
            await client.get(GET_PATH)
    clear_faults(workspace)  # releases the held request so the server stops at once


async def test_client_connection_refused_bounded() -> None:
    with EmulatorServer(Workspace()) as stopped:
        url = stopped.url
    options = ClientOptions(retry_budget_seconds=1)
    async with DatabricksClient(StaticTokenAuth(url, SANDBOX_TOKEN), options=options) as client:
        with pytest.raises(TransportError, match="failed"):
            await client.get(GET_PATH)


async def test_client_503_exhausted_budget(api: DatabricksClient, workspace: Workspace) -> None:
    inject(workspace, kind="status", status=503, retry_after=5)
    with pytest.raises(TemporarilyUnavailable):
        await api.get(GET_PATH)
    assert requests_to(workspace, GET_PATH) == 1


def test_host_with_path_rejected() -> None:
    with pytest.raises(ConfigurationError, match="must be the workspace root"):
        StaticTokenAuth("https://example.cloud.databricks.com/serving-endpoints/x/invocations", "t")
