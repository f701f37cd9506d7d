"""Many tool calls at once against one server: each gets its own result, and a slow call blocks no other."""

import time
from typing import Any

import anyio
import pytest
from mcp import Client

from emulator import Workspace
from emulator.faults import parse_fault
from tests.tools.support import GTE, TURBINE, result_text

pytestmark = pytest.mark.anyio


async def call_all(client: Client, calls: dict[str, tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    results: dict[str, Any] = {}

    async def one(key: str, tool: str, arguments: dict[str, Any]) -> None:
        results[key] = await client.call_tool(tool, arguments)

    with anyio.fail_after(30):
        async with anyio.create_task_group() as group:
            for key, (tool, arguments) in calls.items():
                group.start_soon(one, key, tool, arguments)
    return results


async def test_concurrent_calls_get_own_results(client: Client, workspace: Workspace) -> None:
    # Delay the first requests a little, so the calls overlap inside the emulator too.
    workspace.faults.append(parse_fault({"kind": "latency", "seconds": 0.2, "count": 20}))
    calls: dict[str, tuple[str, dict[str, Any]]] = {}
    for i in range(10):
        calls[f"create-{i}"] = ("create_endpoint", {"name": f"ep-{i}", "served_entities": [TURBINE]})
        calls[f"query-{i}"] = ("query_endpoint", {"name": GTE, "input": f"text {i}"})
        calls[f"get-{i}"] = ("get_endpoint", {"name": GTE})
    calls["same-a"] = ("create_endpoint", {"name": "ep-same", "served_entities": [TURBINE]})
    calls["same-b"] = ("create_endpoint", {"name": "ep-same", "served_entities": [TURBINE]})
    results = await call_all(client, calls)

    for i in range(10):
        created = results[f"create-{i}"]
        assert created.is_error is False, result_text(created)
        assert created.structured_content["name"] == f"ep-{i}"
        queried = results[f"query-{i}"]
        assert queried.is_error is False, result_text(queried)
        assert queried.structured_content["summary"]["embedding_count"] == 1
        assert results[f"get-{i}"].structured_content["name"] == GTE
    same = sorted(bool(results[key].is_error) for key in ("same-a", "same-b"))
    assert same == [False, True]
    assert {f"ep-{i}" for i in range(10)} | {"ep-same"} <= set(workspace.endpoints)
    posts = [r for r in workspace.request_log if r.method == "POST" and r.path == "/api/2.0/serving-endpoints"]
    assert len(posts) == 12


async def test_slow_query_blocks_no_other_call(client: Client, workspace: Workspace) -> None:
    held = parse_fault({"kind": "latency", "seconds": 20, "method": "POST", "path": "/invocations$"})
    workspace.faults.append(held)
    finished: dict[str, float] = {}
    started = time.monotonic()

    async def slow_query() -> None:
        await client.call_tool("query_endpoint", {"name": GTE, "input": "slow", "timeout_seconds": 3})
        finished["query"] = time.monotonic() - started

    async def quick_reads() -> None:
        for _ in range(5):
            result = await client.call_tool("get_endpoint", {"name": GTE})
            assert result.is_error is False, result_text(result)
        finished["reads"] = time.monotonic() - started

    with anyio.fail_after(30):
        async with anyio.create_task_group() as group:
            group.start_soon(slow_query)
            group.start_soon(quick_reads)
    held.released = True
    assert finished["reads"] < 1.5
    assert finished["query"] >= 3
