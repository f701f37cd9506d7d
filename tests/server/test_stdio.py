"""The real server process over stdio: stdout carries only JSON-RPC messages."""

import json
import os
import selectors
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import IO

from emulator import SANDBOX_TOKEN

ANSWER_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 15.0
REQUESTS = [
    {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}},
    },
    {"jsonrpc": "2.0", "method": "notifications/initialized"},
    {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
    {
        "jsonrpc": "2.0",
        "id": 3,
        "method": "tools/call",
        "params": {"name": "get_endpoint", "arguments": {"name": "nope"}},
    },
    {
        "jsonrpc": "2.0",
        "id": 4,
        "method": "tools/call",
        "params": {"name": "get_endpoint", "arguments": {"name": "databricks-gte-large-en"}},
    },
]


@dataclass
class RawSession:
    stdout_lines: list[str]
    stderr: str


def run_server(extra_env: dict[str, str]) -> RawSession:
    """Send REQUESTS one by one, reading raw stdout until each response arrives, then close stdin."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATABRICKS_")}
    env.update(extra_env)
    # stderr goes to a file: an unread pipe could fill up and stall the server.
    stderr_file = tempfile.TemporaryFile(mode="w+")
    process = subprocess.Popen(
        [sys.executable, "-m", "server", "serve", "--sandbox", "--log-level", "DEBUG"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=stderr_file,
        text=True,
        env=env,
    )
    assert process.stdin is not None and process.stdout is not None
    lines: list[str] = []
    try:
        for message in REQUESTS:
            process.stdin.write(json.dumps(message) + "\n")
            process.stdin.flush()
            if "id" in message:
                lines.extend(read_until_answer(process.stdout, message["id"]))
        process.stdin.close()
        lines.extend(process.stdout.readlines())
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
    finally:
        if process.poll() is None:
            process.kill()
    stderr_file.seek(0)
    return RawSession(lines, stderr_file.read())


def read_until_answer(stdout: IO[str], request_id: int) -> list[str]:
    lines: list[str] = []
    selector = selectors.DefaultSelector()
    selector.register(stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + ANSWER_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if not selector.select(timeout=deadline - time.monotonic()):
            break
        line = stdout.readline()
        if not line:
            break
        lines.append(line)
        if json.loads(line).get("id") == request_id:
            return lines
    raise AssertionError(f"no answer to request {request_id} within {ANSWER_TIMEOUT_SECONDS}s; got {lines!r}")


def test_stdio_stdout_is_only_json_rpc() -> None:
    session = run_server({"DATABRICKS_DEBUG_HEADERS": "true", "DATABRICKS_DEBUG_TRUNCATE_BYTES": "10000"})
    lines = [line for line in session.stdout_lines if line.strip()]
    messages = [json.loads(line) for line in lines]
    assert all(message.get("jsonrpc") == "2.0" for message in messages)
    by_id = {message.get("id"): message for message in messages}
    assert set(by_id) >= {1, 2, 3, 4}
    tool_names = {tool["name"] for tool in by_id[2]["result"]["tools"]}
    assert "get_endpoint" in tool_names
    assert by_id[3]["result"]["isError"] is True
    assert "RESOURCE_DOES_NOT_EXIST" in by_id[3]["result"]["content"][0]["text"]
    assert by_id[4]["result"]["isError"] is False
    assert by_id[4]["result"]["structuredContent"]["ready"] == "READY"


def test_stdio_logs_never_show_the_token() -> None:
    session = run_server({})
    assert all(SANDBOX_TOKEN not in line for line in session.stdout_lines)
    assert SANDBOX_TOKEN not in session.stderr
    assert "GET /api/2.0/serving-endpoints/nope -> 404" in session.stderr
