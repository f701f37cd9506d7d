"""Tools under injected workspace faults, and calls cancelled in flight.

Latency and timeout faults hold requests in real time, so these tests use budgets of a
second or two and bound every call with anyio.fail_after.
"""

import logging
import time
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from mcp import Client

from emulator import SANDBOX_TOKEN, Workspace, apply_scenario, seeded_workspace
from emulator.faults import Fault, parse_fault
from emulator.server import EmulatorServer
from server.app import build_server
from server.settings import Settings
from tests.tools.support import DEMO_V1, GTE, TURBINE, error_envelope, result_text
from tools.api.auth import StaticTokenAuth

pytestmark = pytest.mark.anyio

NAME = "ep-deploying"
GET_PATH = f"/api/2.0/serving-endpoints/{NAME}"
ENDPOINTS_PATH = "/api/2.0/serving-endpoints"
BUDGET_SECONDS = 1.0
# The poll grace of wait_until_ready plus time for the test machinery.
OVERRUN_ALLOWED_SECONDS = 1.8


@pytest.fixture
def settings() -> Settings:
    return Settings(wait_budget_seconds=BUDGET_SECONDS)


def add_deploying_endpoint(workspace: Workspace) -> None:
    """An endpoint whose version 2 update never finishes, so waiting on it uses the whole budget."""
    pending = {"config": {"served_entities": [{**DEMO_V1, "entity_version": "2"}]}, "seconds_left": 10_000}
    endpoint = {"name": NAME, "config": {"served_entities": [DEMO_V1]}, "pending": pending}
    apply_scenario(workspace, {"endpoints": [endpoint]})


def inject(workspace: Workspace, **spec: Any) -> Fault:
    fault = parse_fault(spec)
    workspace.faults.append(fault)
    return fault


def gets(workspace: Workspace) -> int:
    return sum(1 for record in workspace.request_log if record.method == "GET" and record.path == GET_PATH)


async def timed_call(client: Client, tool: str, arguments: dict[str, Any]) -> tuple[Any, float]:
    started = time.monotonic()
    with anyio.fail_after(30):
        result = await client.call_tool(tool, arguments)
    return result, time.monotonic() - started


async def test_wait_budget_holds_when_get_hangs(client: Client, workspace: Workspace) -> None:
    add_deploying_endpoint(workspace)
    inject(workspace, kind="latency", seconds=20, method="GET", path=GET_PATH)
    result, elapsed = await timed_call(client, "wait_until_ready", {"name": NAME})
    assert elapsed < BUDGET_SECONDS + OVERRUN_ALLOWED_SECONDS
    envelope = error_envelope(result)
    assert envelope["error_code"] == "CLIENT_TIMEOUT"
    assert envelope["retryable"] is True
    assert NAME in envelope["message"]


async def test_wait_budget_holds_under_503_burst(client: Client, workspace: Workspace) -> None:
    add_deploying_endpoint(workspace)
    inject(workspace, kind="status", status=503, retry_after=1, method="GET", path=GET_PATH)
    result, elapsed = await timed_call(client, "wait_until_ready", {"name": NAME})
    assert elapsed < BUDGET_SECONDS + OVERRUN_ALLOWED_SECONDS
    envelope = error_envelope(result)
    assert envelope["error_code"] == "TEMPORARILY_UNAVAILABLE"
    assert envelope["http_status"] == 503
    assert envelope["message"].startswith("The service is temporarily unavailable")


@pytest.mark.parametrize("settings", [Settings(wait_budget_seconds=2.0)])
async def test_wait_reports_last_state_when_poll_hangs(client: Client, workspace: Workspace) -> None:
    add_deploying_endpoint(workspace)

    async def hold_later_polls(progress: float, total: float | None, message: str | None) -> None:
        # Progress is reported after each poll: let the first through, then hold every later one.
        if not workspace.faults:
            inject(workspace, kind="latency", seconds=20, method="GET", path=GET_PATH)

    started = time.monotonic()
    with anyio.fail_after(30):
        result = await client.call_tool("wait_until_ready", {"name": NAME}, progress_callback=hold_later_polls)
    assert time.monotonic() - started < 2.0 + OVERRUN_ALLOWED_SECONDS
    assert result.is_error is False, result_text(result)
    content = result.structured_content
    assert content is not None
    assert content["status"] == "IN_PROGRESS"
    assert content["polls"] == 1
    assert "no response" in content["message"]


class LogLineSeen(logging.Handler):
    """Sets `seen` when a record whose message contains `text` is logged."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text
        self.seen = anyio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if self.text in record.getMessage():
            self.seen.set()


async def test_wait_cancel_stops_polling(client: Client, workspace: Workspace) -> None:
    add_deploying_endpoint(workspace)
    cancelled = LogLineSeen("cancelled after")
    waiting_logger = logging.getLogger("tools.waiting")
    waiting_logger.addHandler(cancelled)
    previous_level = waiting_logger.level
    waiting_logger.setLevel(logging.INFO)
    try:
        with anyio.fail_after(10):
            with anyio.move_on_after(0.5):
                await client.call_tool("wait_until_ready", {"name": NAME, "timeout_seconds": 30})
            # The cancellation reaches the server task, which logs it as it stops.
            await cancelled.seen.wait()
    finally:
        waiting_logger.removeHandler(cancelled)
        waiting_logger.setLevel(previous_level)
    polls_at_cancel = gets(workspace)
    result = await client.call_tool("get_endpoint", {"name": GTE})
    assert result.is_error is False, result_text(result)
    assert gets(workspace) == polls_at_cancel


async def test_query_cancel_keeps_serving(client: Client, workspace: Workspace) -> None:
    fault = inject(workspace, kind="latency", seconds=20, method="POST")
    with anyio.move_on_after(0.5):
        await client.call_tool("query_endpoint", {"name": GTE, "input": "slow"})
    workspace.faults.remove(fault)
    fault.released = True
    result, elapsed = await timed_call(client, "query_endpoint", {"name": GTE, "input": "fast"})
    assert result.is_error is False, result_text(result)
    assert elapsed < 5
    posts = [r for r in workspace.request_log if r.method == "POST" and r.path.endswith("/invocations")]
    assert len(posts) == 2


async def test_create_retried_429_creates_once(client: Client, workspace: Workspace) -> None:
    inject(workspace, kind="status", status=429, retry_after=0, count=2, method="POST", path=f"^{ENDPOINTS_PATH}$")
    result, _ = await timed_call(client, "create_endpoint", {"name": "ep-new", "served_entities": [TURBINE]})
    assert result.is_error is False, result_text(result)
    posts = [r for r in workspace.request_log if r.method == "POST" and r.path == ENDPOINTS_PATH]
    assert [r.status for r in posts] == [429, 429, 200]
    assert "ep-new" in workspace.endpoints


@pytest.fixture
def loopback_workspace() -> Iterator[tuple[Workspace, str]]:
    """A seeded workspace served by real uvicorn on 127.0.0.1, where a reset fault drops the socket."""
    workspace = seeded_workspace(time_scale=0)
    with EmulatorServer(workspace) as emulator:
        yield workspace, emulator.url


async def test_create_not_resent_after_reset(loopback_workspace: tuple[Workspace, str]) -> None:
    workspace, url = loopback_workspace
    fault = inject(workspace, kind="reset", count=5, method="POST", path=f"^{ENDPOINTS_PATH}$")
    server = build_server(Settings(), auth=StaticTokenAuth(url, SANDBOX_TOKEN))
    async with Client(server) as connected:
        result, _ = await timed_call(connected, "create_endpoint", {"name": "ep-new", "served_entities": [TURBINE]})
        envelope = error_envelope(result)
        assert envelope["error_code"] == "TRANSPORT_ERROR"
        assert fault.remaining == 4
        assert "ep-new" not in workspace.endpoints
        workspace.faults.clear()
        follow_up, _ = await timed_call(connected, "get_endpoint", {"name": GTE})
    assert follow_up.is_error is False, result_text(follow_up)


@pytest.mark.parametrize("stream", [False, True])
async def test_query_timeout_covers_endpoint_read(client: Client, workspace: Workspace, stream: bool) -> None:
    chat = "databricks-claude-sonnet-4-6"
    inject(workspace, kind="latency", seconds=20, method="GET", path=f"/{chat}$")
    arguments = {"name": chat, "prompt": "hi", "stream": stream, "timeout_seconds": 1}
    result, elapsed = await timed_call(client, "query_endpoint", arguments)
    assert elapsed < 1 + OVERRUN_ALLOWED_SECONDS
    envelope = error_envelope(result)
    assert envelope["error_code"] == "CLIENT_TIMEOUT"
    assert "no query was sent" in envelope["message"]
    assert not [record for record in workspace.request_log if record.method == "POST"]


@pytest.mark.parametrize("settings", [Settings(wait_budget_seconds=5.0)])
async def test_query_timeout_spans_read_and_query(client: Client, workspace: Workspace) -> None:
    inject(workspace, kind="latency", seconds=0.8, method="GET", path=f"/{GTE}$")
    inject(workspace, kind="latency", seconds=20, method="POST", path="/invocations$")
    result, elapsed = await timed_call(client, "query_endpoint", {"name": GTE, "input": "x", "timeout_seconds": 1.5})
    # Without one deadline for both requests the call takes 0.8 s + 1.5 s.
    assert elapsed < 2.0
    envelope = error_envelope(result)
    assert envelope["error_code"] == "CLIENT_TIMEOUT"
    assert "after 1.5s" in envelope["message"]


TOOL_CALLS: dict[str, dict[str, Any]] = {
    "get_endpoint": {"name": GTE},
    "list_endpoints": {},
    "pick_foundation_model": {},
    "wait_until_ready": {"name": GTE},
    "query_endpoint": {"name": GTE, "input": "x"},
    "get_open_api": {"name": GTE},
    "get_logs": {"name": GTE},
    "create_endpoint": {"name": "ep-new", "served_entities": [TURBINE]},
    "delete_endpoint": {"name": NAME, "confirm_name": NAME},
}
FAULTS: dict[str, tuple[dict[str, Any], str, int]] = {
    "500": ({"kind": "status", "status": 500}, "INTERNAL_ERROR", 500),
    "429 with a long Retry-After": (
        {"kind": "status", "status": 429, "retry_after": 3600},
        "REQUEST_LIMIT_EXCEEDED",
        429,
    ),
    "html page": ({"kind": "html"}, "BAD_GATEWAY", 502),
    "malformed json": ({"kind": "malformed_json"}, "MALFORMED_RESPONSE", 200),
}


@pytest.mark.parametrize(("spec", "error_code", "status"), FAULTS.values(), ids=FAULTS.keys())
@pytest.mark.parametrize("tool", sorted(TOOL_CALLS))
async def test_fault_reaches_model_intact(
    client: Client, workspace: Workspace, tool: str, spec: dict[str, Any], error_code: str, status: int
) -> None:
    add_deploying_endpoint(workspace)
    inject(workspace, **spec)
    result, elapsed = await timed_call(client, tool, TOOL_CALLS[tool])
    assert elapsed < 2
    envelope = error_envelope(result)
    assert envelope["error_code"] == error_code
    assert envelope["http_status"] == status
    assert envelope["message"]
    assert envelope["retryable"] is (status != 200)
    # Not retried: exactly one request met the fault.
    assert sum(1 for record in workspace.request_log if record.status == status) == 1
    workspace.faults.clear()
    follow_up = await client.call_tool("get_endpoint", {"name": GTE})
    assert follow_up.is_error is False, result_text(follow_up)


HELD_CALLS: dict[str, tuple[dict[str, Any], str]] = {
    "get_endpoint": ({"name": GTE}, "GET"),
    "list_endpoints": ({}, "GET"),
    "pick_foundation_model": ({}, "GET"),
    "get_open_api": ({"name": GTE}, "GET"),
    "get_logs": ({"name": GTE}, "GET"),
    "create_endpoint": ({"name": "ep-new", "served_entities": [TURBINE]}, "POST"),
    "delete_endpoint": ({"name": NAME, "confirm_name": NAME}, "DELETE"),
}


@pytest.mark.parametrize("tool", sorted(HELD_CALLS))
async def test_call_budget_bounds_held_request(client: Client, workspace: Workspace, tool: str) -> None:
    add_deploying_endpoint(workspace)
    arguments, method = HELD_CALLS[tool]
    held = inject(workspace, kind="latency", seconds=20, method=method)
    result, elapsed = await timed_call(client, tool, arguments)
    held.released = True
    # The server's time limit for one call is wait_budget_seconds plus a two-second grace.
    assert elapsed < BUDGET_SECONDS + 2 + 0.8
    envelope = error_envelope(result)
    assert envelope["error_code"] == "CLIENT_TIMEOUT"
    assert f"{BUDGET_SECONDS + 2:g}s" in envelope["message"]
    assert "get_endpoint" in envelope["next_step"]
