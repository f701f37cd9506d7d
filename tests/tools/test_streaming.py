import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import pytest
from mcp import Client

from emulator import SANDBOX_TOKEN, Workspace
from emulator.server import EmulatorServer
from server.app import build_server
from server.settings import Settings
from tools.api.auth import StaticTokenAuth
from tools.api.errors import TransportError
from tools.errors import ToolFailure
from tools.streaming import assembled_response, collect_stream

pytestmark = pytest.mark.anyio

CHAT = "databricks-claude-sonnet-4-6"
HELLO = [{"role": "user", "content": "one two three four"}]


@pytest.fixture
def loopback(workspace: Workspace) -> Iterator[EmulatorServer]:
    """The emulator on a real socket: in-process ASGI buffers a streamed body, so it cannot break midway."""
    with EmulatorServer(workspace) as server:
        yield server


@pytest.fixture
async def loopback_client(loopback: EmulatorServer) -> AsyncIterator[Client]:
    server = build_server(Settings(), auth=StaticTokenAuth(loopback.url, SANDBOX_TOKEN))
    async with Client(server) as connected:
        yield connected


def chunk(content: str | None = None, finish: str | None = None, **extra: Any) -> str:
    delta = {} if content is None else {"content": content}
    body = {"id": "c1", "model": "m", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
    return json.dumps(body)


async def events(*items: str, error: Exception | None = None, hang: bool = False) -> AsyncIterator[str]:
    for item in items:
        yield item
    if error is not None:
        raise error
    if hang:
        await anyio.Event().wait()


async def test_collect_stream_joins_deltas() -> None:
    usage = {"prompt_tokens": 2, "completion_tokens": 3, "total_tokens": 5}
    stream = events(chunk("Hel", usage=usage), chunk("lo"), chunk(finish="stop", usage=usage))
    outcome = await collect_stream(stream, 5)
    assert outcome.text == "Hello"
    assert outcome.finish_reason == "stop"
    assert outcome.usage == usage
    assert outcome.chunk_count == 3
    assert outcome.complete is True
    assert outcome.error is None


async def test_collect_stream_content_parts() -> None:
    parts = json.dumps({"choices": [{"index": 0, "delta": {"content": [{"type": "text", "text": "Hi"}]}}]})
    outcome = await collect_stream(events(parts, chunk(finish="stop")), 5)
    assert outcome.text == "Hi"


async def test_collect_stream_completions_text() -> None:
    first = json.dumps({"choices": [{"index": 0, "text": "Once ", "finish_reason": None}]})
    last = json.dumps({"choices": [{"index": 0, "text": "upon", "finish_reason": "length"}]})
    outcome = await collect_stream(events(first, last), 5)
    assert outcome.text == "Once upon"
    assert outcome.finish_reason == "length"
    body = assembled_response(outcome, completions=True)
    assert body["choices"][0]["text"] == "Once upon"
    assert body["object"] == "text_completion"


async def test_collect_stream_tool_call_deltas() -> None:
    call = {"index": 0, "id": "t1", "function": {"name": "lookup", "arguments": '{"q":'}}
    more = {"index": 0, "function": {"arguments": '"x"}'}}
    first = json.dumps({"choices": [{"index": 0, "delta": {"tool_calls": [call]}}]})
    second = json.dumps({"choices": [{"index": 0, "delta": {"tool_calls": [more]}, "finish_reason": "tool_calls"}]})
    outcome = await collect_stream(events(first, second), 5)
    assert len(outcome.tool_calls) == 1
    assert outcome.tool_calls[0].name == "lookup"
    assert outcome.tool_calls[0].arguments == '{"q":"x"}'
    message = assembled_response(outcome, completions=False)["choices"][0]["message"]
    assert message["tool_calls"][0]["function"]["name"] == "lookup"


async def test_collect_stream_whole_document() -> None:
    document = {"choices": [{"index": 0, "message": {"role": "assistant", "content": "All"}, "finish_reason": "stop"}]}
    outcome = await collect_stream(events(json.dumps(document)), 5)
    assert outcome.text == "All"
    assert outcome.complete is True


async def test_collect_stream_break_keeps_text() -> None:
    broken = TransportError("connection reset", method="POST", path="/x")
    outcome = await collect_stream(events(chunk("Hel"), chunk("lo"), error=broken), 5)
    assert outcome.text == "Hello"
    assert outcome.complete is False
    assert outcome.error is not None
    assert "broke after 2 chunk(s)" in outcome.error


async def test_collect_stream_early_break_raises() -> None:
    broken = TransportError("connection refused", method="POST", path="/x")
    with pytest.raises(TransportError):
        await collect_stream(events(error=broken), 5)


async def test_collect_stream_end_without_finish_reason() -> None:
    outcome = await collect_stream(events(chunk("Hel")), 5)
    assert outcome.complete is False
    assert outcome.error is not None
    assert "without a finish_reason" in outcome.error


async def test_collect_stream_skips_malformed_event() -> None:
    outcome = await collect_stream(events(chunk("a"), "{not json", chunk("b", finish="stop")), 5)
    assert outcome.text == "ab"
    assert outcome.complete is False
    assert outcome.error is not None
    assert "1 event(s) were not JSON" in outcome.error


async def test_collect_stream_error_event() -> None:
    error_event = json.dumps({"error": {"message": "overloaded"}})
    outcome = await collect_stream(events(chunk("a"), error_event), 5)
    assert outcome.complete is False
    assert outcome.error is not None
    assert "overloaded" in outcome.error


async def test_collect_stream_timeout_keeps_text() -> None:
    with anyio.fail_after(5):
        outcome = await collect_stream(events(chunk("partial"), hang=True), 0.05)
    assert outcome.text == "partial"
    assert outcome.complete is False
    assert outcome.error is not None
    assert "client side timed out after 0.05s" in outcome.error


async def test_collect_stream_timeout_without_chunks() -> None:
    with anyio.fail_after(5), pytest.raises(ToolFailure) as info:
        await collect_stream(events(hang=True), 0.05)
    assert info.value.envelope["error_code"] == "CLIENT_TIMEOUT"


async def test_query_stream_sse_variations(client: Client, workspace: Workspace) -> None:
    workspace.endpoints[CHAT].behaviour.stream_sse_variations = True
    result = await client.call_tool("query_endpoint", {"name": CHAT, "messages": HELLO, "stream": True})
    assert result.is_error is False
    content = result.structured_content
    assert content is not None
    assert content["stream"]["complete"] is True
    assert content["summary"]["text"].endswith("one two three four")
    assert content["summary"]["finish_reason"] == "stop"
    assert content["summary"]["usage"]["completion_tokens"] > 0
    assert workspace.request_log[-1].body == {"messages": HELLO, "stream": True}


@pytest.mark.parametrize("mode", ["disconnect", "truncate"])
async def test_query_stream_break_partial(loopback_client: Client, workspace: Workspace, mode: str) -> None:
    behaviour = workspace.endpoints[CHAT].behaviour
    behaviour.stream_break_after_chunks = 3
    behaviour.stream_break_mode = mode  # type: ignore[assignment]
    with anyio.fail_after(20):
        result = await loopback_client.call_tool("query_endpoint", {"name": CHAT, "messages": HELLO, "stream": True})
    assert result.is_error is False
    content = result.structured_content
    assert content is not None
    assert content["stream"]["complete"] is False
    assert content["stream"]["chunk_count"] == 3
    assert content["summary"]["text"]
    assert content["summary"]["finish_reason"] is None
    assert any("The stream is incomplete" in note for note in content["notes"])


async def test_query_stream_slow_chunks_time_out(loopback_client: Client, workspace: Workspace) -> None:
    workspace.endpoints[CHAT].behaviour.stream_chunk_delay_seconds = 2
    arguments = {"name": CHAT, "messages": HELLO, "stream": True, "timeout_seconds": 0.5}
    with anyio.fail_after(20):
        result = await loopback_client.call_tool("query_endpoint", arguments)
    assert result.is_error is False
    content = result.structured_content
    assert content is not None
    assert content["stream"]["complete"] is False
    assert "client side timed out after 0.5s" in content["stream"]["error"]
    assert content["summary"]["text"]


async def test_query_stream_rejected_for_embeddings(client: Client, workspace: Workspace) -> None:
    result = await client.call_tool("query_endpoint", {"name": "databricks-gte-large-en", "input": "x", "stream": True})
    assert result.is_error is True
    assert "do not stream" in result.content[0].text  # type: ignore[union-attr]
    assert not [r for r in workspace.request_log if r.method == "POST"]
