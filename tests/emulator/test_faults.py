"""Fault injection: every fault kind, matching, counts, scenario loading, and real-socket behaviour."""

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from emulator import SANDBOX_TOKEN, Workspace, seeded_workspace
from emulator.faults import FaultError, clear_faults, endpoint_name_of, parse_fault
from emulator.server import EmulatorServer

pytestmark = pytest.mark.anyio

FAULTS = "/__emulator__/faults"
FM_ENDPOINT = "databricks-claude-sonnet-4"
OTHER_ENDPOINT = "databricks-gte-large-en"
AUTH = {"Authorization": f"Bearer {SANDBOX_TOKEN}"}


@pytest.fixture
def live(workspace: Workspace) -> Iterator[EmulatorServer]:
    with EmulatorServer(workspace) as server:
        yield server
        # Release requests still held by latency or timeout faults, so the server stops at once.
        clear_faults(workspace)


async def _add(http: httpx.AsyncClient, spec: dict[str, Any]) -> dict[str, Any]:
    response = await http.post(FAULTS, json=spec)
    assert response.status_code == 200, response.text
    added: dict[str, Any] = response.json()["faults"][0]
    return added


@pytest.mark.behaviour("faults.status", "errors.retry-after")
async def test_fault_status_burst_then_recovers(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    spec = {"kind": "status", "status": 429, "retry_after": 2, "count": 2, "endpoint": FM_ENDPOINT}
    added = await _add(emulator_http, spec)
    assert (added["count"], added["remaining"], added["error_code"]) == (2, 2, "REQUEST_LIMIT_EXCEEDED")
    path = f"/api/2.0/serving-endpoints/{FM_ENDPOINT}"
    for _ in range(2):
        response = await emulator_http.get(path)
        assert response.status_code == 429
        assert response.headers["retry-after"] == "2"
        assert response.json()["error_code"] == "REQUEST_LIMIT_EXCEEDED"
        assert "Retry-After" in response.json()["message"]
    assert (await emulator_http.get(path)).status_code == 200
    listed = (await emulator_http.get(FAULTS)).json()["faults"]
    assert listed[0]["remaining"] == 0
    assert [r.status for r in workspace.request_log] == [429, 429, 200]


@pytest.mark.behaviour("faults.status")
async def test_fault_custom_error(emulator_http: httpx.AsyncClient) -> None:
    spec = {"kind": "status", "status": 503, "error_code": "TEMPORARILY_UNAVAILABLE", "message": "Try later."}
    await _add(emulator_http, spec)
    response = await emulator_http.get("/api/2.0/serving-endpoints")
    assert response.status_code == 503
    assert response.json()["message"] == "Try later."
    assert "retry-after" not in response.headers
    assert (await emulator_http.get("/api/2.0/serving-endpoints")).status_code == 503


@pytest.mark.behaviour("faults.matching")
async def test_fault_matches_endpoint(emulator_http: httpx.AsyncClient) -> None:
    await _add(emulator_http, {"kind": "status", "status": 500, "endpoint": FM_ENDPOINT})
    assert (await emulator_http.get(f"/api/2.0/serving-endpoints/{OTHER_ENDPOINT}")).status_code == 200
    assert (await emulator_http.get("/api/2.0/serving-endpoints")).status_code == 200
    hit = await emulator_http.get(f"/api/2.0/serving-endpoints/{FM_ENDPOINT}")
    assert hit.status_code == 500
    assert hit.json()["error_code"] == "INTERNAL_ERROR"
    invocation = await emulator_http.post(f"/serving-endpoints/{FM_ENDPOINT}/invocations", json={})
    assert invocation.status_code == 500


@pytest.mark.behaviour("faults.matching")
async def test_fault_matches_method_and_path(emulator_http: httpx.AsyncClient) -> None:
    await _add(emulator_http, {"kind": "status", "status": 503, "method": "post", "path": "/invocations$"})
    assert (await emulator_http.get(f"/api/2.0/serving-endpoints/{FM_ENDPOINT}")).status_code == 200
    response = await emulator_http.post(f"/serving-endpoints/{FM_ENDPOINT}/invocations", json={})
    assert response.status_code == 503


@pytest.mark.behaviour("faults.matching")
async def test_fault_openai_route_matches_model(emulator_http: httpx.AsyncClient) -> None:
    await _add(emulator_http, {"kind": "status", "status": 429, "endpoint": FM_ENDPOINT})
    other = {"model": OTHER_ENDPOINT, "input": ["text"]}
    assert (await emulator_http.post("/serving-endpoints/embeddings", json=other)).status_code != 429
    chat = {"model": FM_ENDPOINT, "messages": [{"role": "user", "content": "hi"}]}
    assert (await emulator_http.post("/serving-endpoints/chat/completions", json=chat)).status_code == 429


@pytest.mark.behaviour("faults.matching")
def test_fault_endpoint_name_of_paths(workspace: Workspace) -> None:
    assert endpoint_name_of(workspace, "/api/2.0/serving-endpoints/ep-a/config", b"") == "ep-a"
    assert endpoint_name_of(workspace, "/api/2.0/serving-endpoints/pt/ep-a/config", b"") == "ep-a"
    assert endpoint_name_of(workspace, "/api/2.0/serving-endpoints/pt", b'{"name": "ep-pt"}') == "ep-pt"
    assert endpoint_name_of(workspace, "/api/2.0/serving-endpoints", b'{"name": "ep-new"}') == "ep-new"
    assert endpoint_name_of(workspace, "/serving-endpoints/ep-a/served-models/m-1/invocations", b"") == "ep-a"
    assert endpoint_name_of(workspace, "/serving-endpoints/chat/completions", b'{"model": "ep-b"}') == "ep-b"
    assert endpoint_name_of(workspace, "/serving-endpoints/chat/completions", b"{}") is None
    assert endpoint_name_of(workspace, "/serving-endpoints/embeddings", b"not json") is None
    assert endpoint_name_of(workspace, "/api/2.0/serving-endpoints", b"") is None
    endpoint = next(e for e in workspace.endpoints.values() if e.id is not None)
    permissions_path = f"/api/2.0/permissions/serving-endpoints/{endpoint.id}"
    assert endpoint_name_of(workspace, permissions_path, b"") == endpoint.name


@pytest.mark.behaviour("faults.latency")
async def test_fault_latency_delays(emulator_http: httpx.AsyncClient) -> None:
    await _add(emulator_http, {"kind": "latency", "seconds": 0.3, "count": 1})
    started = time.monotonic()
    with anyio.fail_after(5):
        response = await emulator_http.get("/api/2.0/serving-endpoints")
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    await emulator_http.get("/api/2.0/serving-endpoints")
    assert time.monotonic() - started < 0.3


@pytest.mark.behaviour("faults.latency", "faults.status")
async def test_fault_latency_combines_with_status(emulator_http: httpx.AsyncClient) -> None:
    await _add(emulator_http, {"kind": "latency", "seconds": 0.2})
    await _add(emulator_http, {"kind": "status", "status": 503})
    started = time.monotonic()
    with anyio.fail_after(5):
        response = await emulator_http.get("/api/2.0/serving-endpoints")
    assert response.status_code == 503
    assert time.monotonic() - started >= 0.2


@pytest.mark.behaviour("faults.timeout")
async def test_fault_timeout_answers_504(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    await _add(emulator_http, {"kind": "timeout", "seconds": 0.2, "count": 1})
    started = time.monotonic()
    with anyio.fail_after(5):
        response = await emulator_http.get("/api/2.0/serving-endpoints")
    assert time.monotonic() - started >= 0.2
    assert response.status_code == 504
    assert response.json()["error_code"] == "DEADLINE_EXCEEDED"
    assert workspace.request_log[-1].status == 504


@pytest.mark.behaviour("faults.timeout")
async def test_fault_timeout_real_socket(live: EmulatorServer) -> None:
    async with httpx.AsyncClient(base_url=live.url, headers=AUTH) as http:
        await _add(http, {"kind": "timeout", "seconds": 60, "count": 1})
        with anyio.fail_after(10):
            with pytest.raises(httpx.ReadTimeout):
                await http.get("/api/2.0/serving-endpoints", timeout=0.3)
            # Clearing the faults releases the held request; the next one is served normally.
            assert (await http.delete(FAULTS)).json() == {"removed": 1}
            response = await http.get("/api/2.0/serving-endpoints")
    assert response.status_code == 200


@pytest.mark.behaviour("faults.reset")
async def test_fault_reset_real_socket(live: EmulatorServer, workspace: Workspace) -> None:
    async with httpx.AsyncClient(base_url=live.url, headers=AUTH) as http:
        await _add(http, {"kind": "reset", "count": 1, "path": "^/api/2.0/serving-endpoints$"})
        with anyio.fail_after(10):
            with pytest.raises(httpx.RemoteProtocolError):
                await http.get("/api/2.0/serving-endpoints")
            response = await http.get("/api/2.0/serving-endpoints")
    assert response.status_code == 200
    assert [r.path for r in workspace.request_log] == ["/api/2.0/serving-endpoints"] * 2


@pytest.mark.behaviour("faults.reset")
async def test_fault_reset_in_process(emulator_http: httpx.AsyncClient) -> None:
    await _add(emulator_http, {"kind": "reset", "count": 1})
    with pytest.raises(ConnectionResetError):
        await emulator_http.get("/api/2.0/serving-endpoints")
    assert (await emulator_http.get("/api/2.0/serving-endpoints")).status_code == 200


@pytest.mark.behaviour("faults.html")
async def test_fault_html_body(emulator_http: httpx.AsyncClient) -> None:
    await _add(emulator_http, {"kind": "html"})
    response = await emulator_http.get("/api/2.0/serving-endpoints")
    assert response.status_code == 502
    assert response.headers["content-type"].startswith("text/html")
    assert "<title>502 Bad Gateway</title>" in response.text


@pytest.mark.behaviour("faults.malformed-json")
async def test_fault_malformed_json(emulator_http: httpx.AsyncClient) -> None:
    await _add(emulator_http, {"kind": "malformed_json", "endpoint": FM_ENDPOINT})
    response = await emulator_http.post(f"/serving-endpoints/{FM_ENDPOINT}/invocations", json={})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.text)


@pytest.mark.behaviour("faults.admin")
async def test_fault_batch_and_clear(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    batch = {"faults": [{"kind": "html"}, {"kind": "latency", "seconds": 0}]}
    response = await emulator_http.post(FAULTS, json=batch)
    assert [f["kind"] for f in response.json()["faults"]] == ["html", "latency"]
    assert len(workspace.faults) == 2
    assert (await emulator_http.delete(FAULTS)).json() == {"removed": 2}
    assert (await emulator_http.get("/api/2.0/serving-endpoints")).status_code == 200


@pytest.mark.behaviour("faults.matching")
async def test_fault_skips_admin_paths(emulator_http: httpx.AsyncClient) -> None:
    await _add(emulator_http, {"kind": "status", "status": 500})
    assert (await emulator_http.get(FAULTS)).status_code == 200
    assert (await emulator_http.get("/__emulator__/requests")).status_code == 200


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({}, "'kind' must be one of"),
        ({"kind": "explode"}, "'kind' must be one of"),
        ({"kind": "latency"}, "needs 'seconds'"),
        ({"kind": "latency", "seconds": -1}, "'seconds' must be a number >= 0"),
        ({"kind": "status", "status": 200}, "needs an error status"),
        ({"kind": "status", "status": 999}, "'status' must be an HTTP status code"),
        ({"kind": "status", "count": 0}, "'count' must be an integer >= 1"),
        ({"kind": "status", "path": "("}, "'path' is not a valid regular expression"),
        ({"kind": "status", "endpoint_name": "x"}, "Unknown fault field(s) ['endpoint_name']"),
        ({"kind": "status", "retry_after": "soon"}, "'retry_after' must be a number >= 0"),
    ],
)
@pytest.mark.behaviour("faults.admin")
async def test_fault_invalid_spec(
    emulator_http: httpx.AsyncClient, workspace: Workspace, spec: dict[str, Any], expected: str
) -> None:
    response = await emulator_http.post(FAULTS, json={"faults": [{"kind": "html"}, spec]})
    assert response.status_code == 400
    assert expected in response.json()["message"]
    assert workspace.faults == []


@pytest.mark.behaviour("faults.admin", "faults.timeout")
def test_fault_parse_defaults() -> None:
    fault = parse_fault({"kind": "timeout", "seconds": 1})
    assert (fault.status, fault.error_code, fault.count, fault.remaining) == (504, "DEADLINE_EXCEEDED", None, None)
    with pytest.raises(FaultError, match="must be an object"):
        parse_fault(["status"])


@pytest.mark.behaviour("faults.admin", "scenario.format")
def test_fault_from_scenario_file(tmp_path: Path) -> None:
    scenario = tmp_path / "flaky.yaml"
    scenario.write_text(
        "faults:\n"
        "- kind: status\n"
        "  status: 429\n"
        "  endpoint: databricks-claude-sonnet-4\n"
        "  count: 2\n"
        "  retry_after: 1\n",
        encoding="utf-8",
    )
    workspace = seeded_workspace(scenario, time_scale=0)
    assert len(workspace.faults) == 1
    fault = workspace.faults[0]
    assert (fault.kind, fault.status, fault.endpoint, fault.remaining, fault.retry_after) == (
        "status",
        429,
        FM_ENDPOINT,
        2,
        "1",
    )


@pytest.mark.behaviour("faults.admin", "scenario.format")
def test_fault_invalid_in_scenario_file(tmp_path: Path) -> None:
    scenario = tmp_path / "broken.yaml"
    scenario.write_text("faults:\n- kind: status\n  status: 42\n", encoding="utf-8")
    with pytest.raises(ValueError, match="Scenario fault .* is invalid: Fault field 'status'"):
        seeded_workspace(scenario, time_scale=0)


@pytest.mark.behaviour("faults.matching", "streaming.sse")
async def test_fault_present_keeps_streams_whole(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    # A fault that matches nothing still makes the middleware read and replay the body.
    await _add(emulator_http, {"kind": "status", "path": "^/nowhere$"})
    workspace.endpoints[FM_ENDPOINT].behaviour.stream_chunk_delay_seconds = 0.02
    body = {"messages": [{"role": "user", "content": "Hello there"}], "stream": True}
    with anyio.fail_after(10):
        async with emulator_http.stream("POST", f"/serving-endpoints/{FM_ENDPOINT}/invocations", json=body) as stream:
            text = "".join([chunk async for chunk in stream.aiter_text()])
    assert stream.status_code == 200
    assert text.rstrip().endswith("data: [DONE]")
