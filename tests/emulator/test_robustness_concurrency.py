"""Concurrent requests and early disconnects against a real uvicorn server on a loopback port.

Handlers change state under the workspace lock, so racing requests must each see a consistent
workspace: one create of a name wins, and a delete racing config updates leaves no half-state.
A client that leaves a stream early must not break the server or lose the request's accounting.
"""

import logging
from collections.abc import Iterator

import anyio
import httpx
import pytest

from emulator import SANDBOX_TOKEN, Workspace
from emulator.server import EmulatorServer

pytestmark = pytest.mark.anyio

FM_ENDPOINT = "databricks-claude-sonnet-4"
TURBINE = {"entity_name": "main.default.turbine_failure", "entity_version": "1", "scale_to_zero_enabled": True}
CREATE = {"name": "ep-race", "config": {"served_entities": [TURBINE]}}
RACERS = 20


class RecordingHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def server_errors() -> Iterator[RecordingHandler]:
    """Collect the errors uvicorn logs for exceptions that escape the app.

    The `uvicorn` logger does not propagate to the root logger, so caplog would miss them.
    """
    handler = RecordingHandler()
    uvicorn_logger = logging.getLogger("uvicorn.error")
    uvicorn_logger.addHandler(handler)
    yield handler
    uvicorn_logger.removeHandler(handler)


@pytest.fixture
def live(workspace: Workspace) -> Iterator[EmulatorServer]:
    with EmulatorServer(workspace) as server:
        yield server


def http_client(server: EmulatorServer) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=RACERS)
    headers = {"Authorization": f"Bearer {SANDBOX_TOKEN}"}
    return httpx.AsyncClient(base_url=server.url, headers=headers, limits=limits, timeout=10)


@pytest.mark.behaviour("create.duplicate-name")
async def test_concurrent_creates_one_wins(live: EmulatorServer, workspace: Workspace) -> None:
    statuses: list[int] = []
    codes: list[str] = []

    async def create(http: httpx.AsyncClient) -> None:
        response = await http.post("/api/2.0/serving-endpoints", json=CREATE)
        statuses.append(response.status_code)
        if response.status_code != 200:
            codes.append(response.json()["error_code"])

    async with http_client(live) as http:
        with anyio.fail_after(10):
            async with anyio.create_task_group() as group:
                for _ in range(RACERS):
                    group.start_soon(create, http)

    assert statuses.count(200) == 1
    assert statuses.count(409) == RACERS - 1
    assert set(codes) == {"RESOURCE_ALREADY_EXISTS"}
    assert [name for name in workspace.endpoints if name == "ep-race"] == ["ep-race"]
    creates = [r for r in workspace.request_log if r.method == "POST" and r.path == "/api/2.0/serving-endpoints"]
    assert len(creates) == RACERS


@pytest.mark.behaviour("delete.endpoint", "state.update-conflict")
async def test_update_races_delete(live: EmulatorServer, workspace: Workspace) -> None:
    results: list[tuple[str, int]] = []
    medium = {"served_entities": [{**TURBINE, "workload_size": "Medium"}]}

    async def update(http: httpx.AsyncClient) -> None:
        response = await http.put("/api/2.0/serving-endpoints/ep-race/config", json=medium)
        results.append(("update", response.status_code))

    async def delete(http: httpx.AsyncClient) -> None:
        response = await http.delete("/api/2.0/serving-endpoints/ep-race")
        results.append(("delete", response.status_code))

    async with http_client(live) as http:
        created = await http.post("/api/2.0/serving-endpoints", json=CREATE)
        assert created.status_code == 200
        workspace.clock.advance(3600)
        with anyio.fail_after(10):
            async with anyio.create_task_group() as group:
                for _ in range(RACERS // 2):
                    group.start_soon(update, http)
                    group.start_soon(delete, http)
        after = await http.get("/api/2.0/serving-endpoints/ep-race")

    assert {status for _, status in results} <= {200, 404, 409}
    assert [kind for kind, status in results if kind == "delete" and status == 200] == ["delete"]
    assert len([kind for kind, status in results if kind == "update" and status == 200]) <= 1
    assert "ep-race" not in workspace.endpoints
    assert after.status_code == 404


@pytest.mark.behaviour("streaming.usage-accounting", "streaming.sse")
async def test_stream_client_leaves_early(
    live: EmulatorServer, workspace: Workspace, server_errors: RecordingHandler
) -> None:
    streams = 3
    chat = {"messages": [{"role": "user", "content": "one two three four five six"}], "stream": True}
    async with http_client(live) as http:
        slow = await http.put(
            f"/__emulator__/endpoints/{FM_ENDPOINT}/behaviour", json={"stream_chunk_delay_seconds": 0.2}
        )
        assert slow.status_code == 200
        for _ in range(streams):
            with anyio.fail_after(5):
                async with http.stream("POST", f"/serving-endpoints/{FM_ENDPOINT}/invocations", json=chat) as response:
                    assert response.status_code == 200
                    first = await anext(response.aiter_lines())
                    assert first.startswith("data: ")
        # The server notices each disconnect asynchronously, so wait (bounded) for the last one to be counted.
        with anyio.fail_after(5):
            while workspace.endpoints[FM_ENDPOINT].usage_of(FM_ENDPOINT).request_count < streams:
                await http.get("/__emulator__/clock")
        whole = await http.post(
            f"/serving-endpoints/{FM_ENDPOINT}/invocations", json={"messages": [{"role": "user", "content": "hi"}]}
        )

    assert whole.status_code == 200
    assert workspace.endpoints[FM_ENDPOINT].usage_of(FM_ENDPOINT).request_count == streams + 1
    assert server_errors.records == []
