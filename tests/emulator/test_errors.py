"""Error responses shared by every route: the Databricks error body, unknown APIs and unreadable bodies."""

import re

import httpx
import pytest

pytestmark = pytest.mark.anyio


@pytest.mark.behaviour("errors.body")
async def test_error_body_has_request_info(emulator_http: httpx.AsyncClient) -> None:
    response = await emulator_http.get("/api/2.0/serving-endpoints/nope")
    assert response.status_code == 404
    body = response.json()
    assert set(body) == {"error_code", "message", "details"}
    assert body["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert body["message"] == "Endpoint with name 'nope' does not exist."
    [detail] = body["details"]
    assert detail["@type"] == "type.googleapis.com/google.rpc.RequestInfo"
    assert re.fullmatch(r"[0-9a-f-]{36}", detail["request_id"])
    assert detail["serving_data"] == ""


@pytest.mark.behaviour("errors.unknown-route")
@pytest.mark.parametrize(
    ("method", "path", "named"),
    [
        ("GET", "/api/2.0/repos", "GET /repos"),
        ("GET", "/api/2.1/unity-catalog/functions", "GET /unity-catalog/functions"),
        ("POST", "/api/2.0/serving-endpoints/ep/start", "POST /serving-endpoints/ep/start"),
        ("GET", "/serving-endpoints/databricks-claude-sonnet-4/invocations", "GET /serving-endpoints/"),
    ],
)
async def test_unknown_api_names_route(emulator_http: httpx.AsyncClient, method: str, path: str, named: str) -> None:
    response = await emulator_http.request(method, path)
    assert response.status_code == 404
    assert response.json()["error_code"] == "ENDPOINT_NOT_FOUND"
    assert response.json()["message"].startswith(f"No API found for '{named}")


@pytest.mark.behaviour("errors.malformed-body")
@pytest.mark.parametrize("content", [b"{not json", b"[1, 2]", b'"text"'])
async def test_unreadable_body_rejected(emulator_http: httpx.AsyncClient, content: bytes) -> None:
    response = await emulator_http.post("/api/2.0/serving-endpoints", content=content)
    assert response.status_code == 400
    assert response.json()["error_code"] == "MALFORMED_REQUEST"
