from typing import Any

import httpx
import pytest
from mcp import Client

from emulator import Workspace
from server.settings import Settings
from tests.tools.support import add_demo_endpoints, content_of, error_envelope, model_entity, result_text

pytestmark = pytest.mark.anyio

PERMISSION_LINE = (
    "2026-01-05T10:00:03Z [ERROR] PERMISSION_DENIED: the endpoint identity lacks CAN_QUERY on databricks-gte-large-en"
)


def add_endpoints(workspace: Workspace) -> None:
    add_demo_endpoints(workspace, deploying=model_entity("main.default.demo_model", 1))


async def call(client: Client, **arguments: Any) -> tuple[dict[str, Any], str]:
    result = await client.call_tool("get_logs", arguments)
    return content_of(result), result_text(result)


async def call_error(client: Client, **arguments: Any) -> tuple[dict[str, Any], str]:
    result = await client.call_tool("get_logs", arguments)
    return error_envelope(result), result_text(result)


def big_log() -> str:
    """About 2 MB of INFO lines with one PERMISSION_DENIED line near the start."""
    lines = [f"2026-01-05T10:00:00Z [INFO] Loading shard {i} of the index" for i in range(3)]
    lines.append(PERMISSION_LINE)
    lines += [
        f"2026-01-05T10:{i // 600:02d}:00Z [INFO] Handled POST /invocations in {i % 97} ms" for i in range(36_000)
    ]
    return "\n".join(lines) + "\n"


async def test_logs_annotations(client: Client) -> None:
    tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    annotations = tools["get_logs"].annotations
    assert annotations is not None
    assert annotations.read_only_hint is True
    assert annotations.open_world_hint is False


async def test_logs_resolves_single_entity(client: Client, workspace: Workspace) -> None:
    add_endpoints(workspace)
    workspace.endpoints["ep-demo"].behaviour.logs = "line one\nline two\n"
    content, _ = await call(client, name="ep-demo")
    assert content["served_entity"] == "turbine_failure-1"
    assert content["kind"] == "runtime"
    assert content["logs"] == "line one\nline two"
    assert content["total_lines"] == 2
    assert content["returned_lines"] == 2
    assert workspace.request_log[-1].path == "/api/2.0/serving-endpoints/ep-demo/served-models/turbine_failure-1/logs"


async def test_logs_build_kind(client: Client, workspace: Workspace) -> None:
    add_endpoints(workspace)
    workspace.endpoints["ep-demo"].behaviour.build_logs = "Building image\nERROR: pip install failed\n"
    content, _ = await call(client, name="ep-demo", kind="build")
    assert content["kind"] == "build"
    assert workspace.request_log[-1].path.endswith("/served-models/turbine_failure-1/build-logs")
    assert [line["text"] for line in content["error_lines"]] == ["ERROR: pip install failed"]
    assert content["error_lines"][0]["line_number"] == 2


async def test_logs_pending_entity(client: Client, workspace: Workspace) -> None:
    add_endpoints(workspace)
    content, _ = await call(client, name="ep-new", kind="build")
    assert content["served_entity"] == "demo_model-1"
    assert "Starting container build" in content["logs"]


async def test_logs_several_entities_listed(client: Client, workspace: Workspace) -> None:
    add_endpoints(workspace)
    error, _ = await call_error(client, name="ep-ab")
    assert error["error_code"] == "SERVED_ENTITY_REQUIRED"
    assert error["choices"] == ["turbine_failure-1", "turbine_failure-2"]
    assert not [r for r in workspace.request_log if "/served-models/" in r.path]


async def test_logs_named_entity(client: Client, workspace: Workspace) -> None:
    add_endpoints(workspace)
    workspace.endpoints["ep-ab"].behaviour.logs = {"turbine_failure-2": "from two\n"}
    content, _ = await call(client, name="ep-ab", served_entity="turbine_failure-2")
    assert content["logs"] == "from two"


async def test_logs_unknown_entity(client: Client, workspace: Workspace) -> None:
    add_endpoints(workspace)
    error, _ = await call_error(client, name="ep-ab", served_entity="b-1")
    assert error["error_code"] == "INVALID_ARGUMENT"
    assert error["field"] == "served_entity"
    assert "turbine_failure-1" in error["fix"]
    assert "turbine_failure-2" in error["fix"]


async def test_logs_deleted_endpoint(client: Client, workspace: Workspace, emulator_http: httpx.AsyncClient) -> None:
    add_endpoints(workspace)
    deleted = await emulator_http.delete("/api/2.0/serving-endpoints/ep-demo")
    assert deleted.status_code == 200
    error, text = await call_error(client, name="ep-demo", served_entity="turbine_failure-1")
    assert error["http_status"] == 404
    assert "logs are removed with the endpoint" in text


async def test_logs_big_log_shows_cause(client: Client, workspace: Workspace, settings: Settings) -> None:
    add_endpoints(workspace)
    log = big_log()
    assert len(log) > 2_000_000
    workspace.endpoints["ep-demo"].behaviour.logs = log
    content, text = await call(client, name="ep-demo", tail_lines=5_000)
    assert len(text) <= settings.max_result_chars
    assert content["total_lines"] == 36_004
    assert content["logs"].endswith(f"Handled POST /invocations in {35_999 % 97} ms")
    assert content["truncation"] is not None
    assert content["truncation"]["total_chars"] > content["truncation"]["returned_chars"]
    assert [line["text"] for line in content["error_lines"]] == [PERMISSION_LINE]
    assert content["error_lines"][0]["line_number"] == 4
    assert content["error_line_count"] == 1


async def test_logs_tail_lines(client: Client, workspace: Workspace) -> None:
    add_endpoints(workspace)
    workspace.endpoints["ep-demo"].behaviour.logs = "\n".join(f"line {i}" for i in range(1_000))
    content, _ = await call(client, name="ep-demo", tail_lines=3)
    assert content["logs"] == "line 997\nline 998\nline 999"
    assert content["returned_lines"] == 3
    assert content["truncation"] is None


async def test_logs_grep_filters(client: Client, workspace: Workspace) -> None:
    add_endpoints(workspace)
    workspace.endpoints["ep-demo"].behaviour.logs = big_log()
    content, _ = await call(client, name="ep-demo", grep="permission_denied|shard 1 ")
    assert content["logs"].splitlines() == ["2026-01-05T10:00:00Z [INFO] Loading shard 1 of the index", PERMISSION_LINE]


async def test_logs_grep_no_match_note(client: Client, workspace: Workspace) -> None:
    add_endpoints(workspace)
    workspace.endpoints["ep-demo"].behaviour.logs = "a\nb\n"
    content, _ = await call(client, name="ep-demo", grep="zzz")
    assert content["logs"] == ""
    assert content["notes"] == ["No line matches grep='zzz'."]


async def test_logs_invalid_grep(client: Client, workspace: Workspace) -> None:
    add_endpoints(workspace)
    error, _ = await call_error(client, name="ep-demo", grep="(unclosed")
    assert error["field"] == "grep"
    assert not [r for r in workspace.request_log if r.path.endswith("/logs")]


async def test_logs_repeated_errors_counted(client: Client, workspace: Workspace) -> None:
    add_endpoints(workspace)
    lines = [f"2026-01-05T10:00:{i:02d}Z ERROR worker {i} crashed" for i in range(30)]
    lines += ["Traceback (most recent call last):", '  File "model.py", line 3', "ValueError: bad input"]
    workspace.endpoints["ep-demo"].behaviour.logs = "\n".join(lines)
    content, _ = await call(client, name="ep-demo")
    texts = [line["text"] for line in content["error_lines"]]
    assert texts == [lines[0], "Traceback (most recent call last):", "ValueError: bad input"]
    assert content["error_lines"][0]["count"] == 30
    assert content["error_line_count"] == 32


async def test_logs_many_distinct_errors_capped(client: Client, workspace: Workspace) -> None:
    add_endpoints(workspace)
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa"]
    lines = [f"ERROR {a} {b}" for a in words for b in words]
    workspace.endpoints["ep-demo"].behaviour.logs = "\n".join(lines)
    content, _ = await call(client, name="ep-demo")
    texts = [line["text"] for line in content["error_lines"]]
    assert len(texts) == 40
    assert texts[:20] == lines[:20]
    assert texts[20:] == lines[-20:]
    assert any("of 100 distinct error lines" in note for note in content["notes"])


async def test_logs_empty_note(client: Client, workspace: Workspace) -> None:
    add_endpoints(workspace)
    workspace.endpoints["ep-demo"].behaviour.logs = ""
    content, _ = await call(client, name="ep-demo")
    assert content["logs"] == ""
    assert content["returned_lines"] == 0
    assert content["notes"][0].startswith("The runtime log is empty")
