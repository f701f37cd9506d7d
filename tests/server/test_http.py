"""The real server process over streamable HTTP on 127.0.0.1."""

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator

import httpx
import pytest
from mcp import Client

STARTUP_TIMEOUT_SECONDS = 30.0

pytestmark = pytest.mark.anyio


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def http_server() -> Iterator[str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATABRICKS_")}
    with tempfile.TemporaryFile() as stderr_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "server", "serve", "--sandbox", "--transport", "http", "--port", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr_file,
            env=env,
        )
        try:
            wait_for_port(port, process)
            yield f"http://127.0.0.1:{port}/mcp"
        finally:
            process.terminate()
            process.wait(timeout=10)


def wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        assert process.poll() is None, "server exited during start-up"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"server did not listen on port {port} within {STARTUP_TIMEOUT_SECONDS}s")


async def test_http_transport_calls_tool(http_server: str) -> None:
    async with Client(http_server) as client:
        tools = await client.list_tools()
        result = await client.call_tool("get_endpoint", {"name": "databricks-gte-large-en"})
    assert "get_endpoint" in {tool.name for tool in tools.tools}
    assert result.is_error is False
    assert result.structured_content is not None
    assert result.structured_content["task"] == "llm/v1/embeddings"


async def test_http_transport_rejects_foreign_host(http_server: str) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.post(
            http_server,
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
            headers={"Host": "evil.example", "Accept": "application/json, text/event-stream"},
        )
    assert response.status_code == 421
