"""get_logs `grep` patterns that would make the regex engine backtrack for minutes.

`re` blocks the event loop while it matches a line, so one such pattern would stall every call
the server is handling. The tool must reject the pattern, or stop scanning at its time limit.
"""

import time

import anyio
import pytest
from mcp import Client

from emulator import Workspace, apply_scenario
from tests.tools.support import DEMO_V1, error_envelope, result_text
from tools import grep as grep_module

pytestmark = pytest.mark.anyio

NAME = "ep-logs"
# `(a+)+$` needs about 2**26 steps to fail on one such line: seconds without the check.
BACKTRACKING_LINE = "a" * 26 + "!"


def add_logged_endpoint(workspace: Workspace, logs: str) -> None:
    endpoint = {"name": NAME, "config": {"served_entities": [DEMO_V1]}, "behaviour": {"logs": logs}}
    apply_scenario(workspace, {"endpoints": [endpoint]})


@pytest.mark.parametrize("pattern", [r"(a+)+$", r"(\w+\s?)+$", r"((a*)b?)*$", r"(a{1,})+!x"])
async def test_grep_rejects_nested_repeat(client: Client, workspace: Workspace, pattern: str) -> None:
    add_logged_endpoint(workspace, BACKTRACKING_LINE)
    started = time.monotonic()
    with anyio.fail_after(60):
        result = await client.call_tool("get_logs", {"name": NAME, "grep": pattern})
    assert time.monotonic() - started < 1.0
    envelope = error_envelope(result)
    assert envelope["error_code"] == "INVALID_ARGUMENT"
    assert envelope["field"] == "grep"
    assert "exponential" in envelope["message"]


@pytest.mark.parametrize("pattern", [r"(foo|bar)+", r"error.*timeout", r"\(a+\)+", r"[(]a+[)]+", r"(a{2})+"])
async def test_grep_accepts_plain_repeats(client: Client, workspace: Workspace, pattern: str) -> None:
    add_logged_endpoint(workspace, "foobar\nerror: read timeout\n(aa)\nnothing")
    result = await client.call_tool("get_logs", {"name": NAME, "grep": pattern})
    assert result.is_error is False, result_text(result)


async def test_grep_stops_at_time_limit(client: Client, workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(grep_module, "GREP_BUDGET_SECONDS", 0.0)
    lines = [f"line {i} match" for i in range(5_000)]
    add_logged_endpoint(workspace, "\n".join(lines))
    result = await client.call_tool("get_logs", {"name": NAME, "grep": "match", "tail_lines": 5_000})
    assert result.is_error is False, result_text(result)
    content = result.structured_content
    assert content is not None
    scanned = grep_module.LINES_PER_CHECK
    assert content["returned_lines"] == scanned
    assert any(f"stopped after {scanned} of 5000 lines" in note for note in content["notes"])


async def test_grep_rejects_huge_pattern(client: Client, workspace: Workspace) -> None:
    add_logged_endpoint(workspace, "a line\n")
    result = await client.call_tool("get_logs", {"name": NAME, "grep": "a" * 100_000})
    assert result.is_error is True
    text = result_text(result)
    assert "grep" in text
    assert len(text) < 5_000
    assert workspace.request_log == []
