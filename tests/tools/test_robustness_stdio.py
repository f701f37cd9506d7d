"""The real stdio server process under hostile input: it responds to every later request, stdout stays
JSON-RPC only, and no credential from the arguments reaches stderr, even at DEBUG level."""

import json
import os
import selectors
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

import pytest

ANSWER_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 15.0
SECRET = "sk-live-stdio-0123456789"
EXTERNAL = {"name": "gpt-x", "provider": "openai", "task": "llm/v1/chat"}


@dataclass
class StdioServer:
    process: subprocess.Popen[str]
    stderr: IO[str]
    stdout_lines: list[str]

    def send(self, message: dict[str, Any] | str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write((message if isinstance(message, str) else json.dumps(message)) + "\n")
        self.process.stdin.flush()

    def answer(self, request_id: int) -> dict[str, Any]:
        """Read stdout until the response to `request_id` arrives."""
        assert self.process.stdout is not None
        selector = selectors.DefaultSelector()
        selector.register(self.process.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + ANSWER_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if not selector.select(timeout=deadline - time.monotonic()):
                break
            line = self.process.stdout.readline()
            if not line:
                break
            self.stdout_lines.append(line)
            message: dict[str, Any] = json.loads(line)
            if message.get("id") == request_id:
                return message
        raise AssertionError(f"no response to request {request_id} within {ANSWER_TIMEOUT_SECONDS}s")

    def call(self, request_id: int, tool: str, arguments: dict[str, Any] | str) -> dict[str, Any]:
        # Built as text, so that a test can send arguments no JSON encoder would produce.
        arguments_text = arguments if isinstance(arguments, str) else json.dumps(arguments)
        params = f'{{"name": {json.dumps(tool)}, "arguments": {arguments_text}}}'
        self.send(f'{{"jsonrpc": "2.0", "id": {request_id}, "method": "tools/call", "params": {params}}}')
        result: dict[str, Any] = self.answer(request_id)["result"]
        return result


@pytest.fixture
def stdio_server() -> Iterator[StdioServer]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("DATABRICKS_")}
    # A file, not a pipe: an unread pipe could fill up and stall the server.
    stderr = tempfile.TemporaryFile(mode="w+")
    process = subprocess.Popen(
        [sys.executable, "-m", "server", "serve", "--sandbox", "--log-level", "DEBUG"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        env=env,
    )
    server = StdioServer(process, stderr, [])
    try:
        server.send(
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-11-25",
                    "capabilities": {},
                    "clientInfo": {"name": "t", "version": "0"},
                },
            }
        )
        server.answer(1)
        server.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        yield server
    finally:
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
        finally:
            if process.poll() is None:
                process.kill()
            stderr.close()


def test_stdio_survives_hostile_arguments(stdio_server: StdioServer) -> None:
    huge_name = stdio_server.call(2, "get_endpoint", {"name": "n" * 1_000_000})
    assert huge_name["isError"] is True
    assert len(huge_name["content"][0]["text"]) < 2_000

    # Nested past every JSON parser's limit: the SDK drops the line without a response.
    stdio_server.send(
        '{"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "get_endpoint", "arguments": '
        + "[" * 50_000
        + "]" * 50_000
        + "}}"
    )
    dot_name = stdio_server.call(4, "delete_endpoint", {"name": "..", "confirm_name": ".."})
    assert dot_name["isError"] is True
    assert "INVALID_ARGUMENT" in dot_name["content"][0]["text"]

    deep_text = stdio_server.call(5, "create_endpoint", {"name": "ep-deep", "served_entities": "[" * 100_000})
    assert deep_text["isError"] is True
    assert "INVALID_ARGUMENT" in deep_text["content"][0]["text"]

    healthy = stdio_server.call(6, "get_endpoint", {"name": "databricks-gte-large-en"})
    assert healthy["isError"] is False
    assert healthy["structuredContent"]["ready"] == "READY"
    assert all(json.loads(line).get("jsonrpc") == "2.0" for line in stdio_server.stdout_lines)


def test_stdio_logs_hide_argument_credentials(stdio_server: StdioServer) -> None:
    broken = {"openai_api_key_plaintext": SECRET}
    calls = {
        2: {
            "name": "ep-a",
            "served_entities": [{"name": "a", "external_model": {**EXTERNAL, "openai_config": broken}}],
        },
        3: {
            "name": "ep-b",
            "served_entities": [{"name": "b", "external_model": {**EXTERNAL, "openai_config": [SECRET]}}],
        },
        4: {"name": "ep-c", "served_entities": json.dumps([{"external_model": {"openai_config": broken}}])[:-2]},
        5: {
            "name": "ep-d",
            "served_entities": [
                {
                    "entity_name": "main.default.turbine_failure",
                    "entity_version": "3",
                    "environment_vars": {"UPSTREAM": SECRET},
                }
            ],
        },
    }
    for request_id, arguments in calls.items():
        result = stdio_server.call(request_id, "create_endpoint", arguments)
        assert SECRET not in json.dumps(result)
    stdio_server.stderr.seek(0)
    stderr = stdio_server.stderr.read()
    assert "create_endpoint" in stderr
    assert SECRET not in stderr
    assert all(SECRET not in line for line in stdio_server.stdout_lines)
