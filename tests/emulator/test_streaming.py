"""Streamed chat and completions responses: SSE format, scripted quirks, broken streams, incremental delivery."""

import json
import time
from collections.abc import Iterator
from typing import Any

import anyio
import httpx
import pytest

from emulator import SANDBOX_TOKEN, SANDBOX_USER, Workspace, apply_scenario
from emulator.gateway import usage_by_principal
from emulator.server import EmulatorServer

pytestmark = pytest.mark.anyio

CHAT = "databricks-claude-sonnet-4"
PATH = f"/serving-endpoints/{CHAT}/invocations"
AUTH = {"Authorization": f"Bearer {SANDBOX_TOKEN}"}
LONG_TEXT = " ".join(f"word{i}" for i in range(30))


@pytest.fixture
def live_server(workspace: Workspace) -> Iterator[EmulatorServer]:
    with EmulatorServer(workspace) as server:
        yield server


def stream_body(content: str = "hello there", **extra: Any) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": content}], "stream": True, **extra}


def parse_events(text: str) -> tuple[list[dict[str, Any]], bool]:
    """Parse SSE `data:` lines (with or without the space), skip blank lines, stop at [DONE]."""
    chunks: list[dict[str, Any]] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        field, _, value = line.partition(":")
        assert field == "data", f"unexpected SSE line {line!r}"
        if value.strip() == "[DONE]":
            return chunks, True
        chunks.append(json.loads(value))
    return chunks, False


def joined_content(chunks: list[dict[str, Any]]) -> str:
    return "".join(chunk["choices"][0]["delta"].get("content", "") for chunk in chunks)


def enable_usage_tracking(workspace: Workspace) -> None:
    workspace.endpoints[CHAT].ai_gateway = {"usage_tracking_config": {"enabled": True}}


@pytest.mark.behaviour("streaming.sse")
async def test_stream_chat_chunks(emulator_http: httpx.AsyncClient) -> None:
    plain = (await emulator_http.post(PATH, json={"messages": [{"role": "user", "content": "hello there"}]})).json()
    response = await emulator_http.post(PATH, json=stream_body())
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["served-model-name"] == CHAT
    assert response.text.endswith("data: [DONE]\n\n")
    chunks, done = parse_events(response.text)
    assert done
    assert {chunk["object"] for chunk in chunks} == {"chat.completion.chunk"}
    assert len({chunk["id"] for chunk in chunks}) == 1
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert joined_content(chunks) == plain["choices"][0]["message"]["content"]
    assert all(chunk["choices"][0]["finish_reason"] is None for chunk in chunks[:-1])
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    sent = [chunk["usage"]["completion_tokens"] for chunk in chunks]
    assert sent == sorted(sent)
    assert all(chunk["usage"]["prompt_tokens"] == 2 for chunk in chunks)
    assert chunks[-1]["usage"] == plain["usage"]


@pytest.mark.behaviour("streaming.sse")
async def test_stream_max_tokens_length(emulator_http: httpx.AsyncClient) -> None:
    response = await emulator_http.post(PATH, json=stream_body(max_tokens=3))
    chunks, _ = parse_events(response.text)
    assert joined_content(chunks) == f"Reply from {CHAT}:"
    assert chunks[-1]["choices"][0]["finish_reason"] == "length"
    assert chunks[-1]["usage"]["completion_tokens"] == 3


@pytest.mark.behaviour("streaming.completions")
async def test_stream_completions_chunks(workspace: Workspace, emulator_http: httpx.AsyncClient) -> None:
    entity = {"entity_name": "main.default.demo_model", "entity_version": "1", "scale_to_zero_enabled": True}
    item = {"name": "ep-complete", "task": "llm/v1/completions", "config": {"served_entities": [entity]}}
    apply_scenario(workspace, {"endpoints": [item]})
    response = await emulator_http.post(
        "/serving-endpoints/ep-complete/invocations", json={"prompt": "once upon", "stream": True}
    )
    chunks, done = parse_events(response.text)
    assert done
    assert {chunk["object"] for chunk in chunks} == {"text_completion"}
    assert "".join(chunk["choices"][0]["text"] for chunk in chunks) == "Continuation by demo_model-1 of: once upon"
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


@pytest.mark.behaviour("streaming.knobs")
async def test_stream_sse_variations(workspace: Workspace, emulator_http: httpx.AsyncClient) -> None:
    workspace.endpoints[CHAT].behaviour.stream_sse_variations = True
    response = await emulator_http.post(PATH, json=stream_body())
    events = response.text.split("\n\n")
    assert events[0].startswith("data: {")
    # A blank keep-alive line follows the first event, and the second event has no space after "data:".
    assert events[1].startswith("\ndata:{")
    chunks, done = parse_events(response.text)
    assert done
    assert joined_content(chunks) == f"Reply from {CHAT}: hello there"


@pytest.mark.behaviour("streaming.knobs")
async def test_stream_truncated_without_done(workspace: Workspace, emulator_http: httpx.AsyncClient) -> None:
    behaviour = workspace.endpoints[CHAT].behaviour
    behaviour.stream_break_after_chunks = 2
    behaviour.stream_break_mode = "truncate"
    response = await emulator_http.post(PATH, json=stream_body())
    chunks, done = parse_events(response.text)
    assert not done
    assert len(chunks) == 2
    assert joined_content(chunks) == "Reply from "
    assert all(chunk["choices"][0]["finish_reason"] is None for chunk in chunks)


@pytest.mark.behaviour("streaming.knobs")
async def test_stream_disconnect_in_process(workspace: Workspace, emulator_http: httpx.AsyncClient) -> None:
    workspace.endpoints[CHAT].behaviour.stream_break_after_chunks = 2
    with pytest.raises(httpx.RemoteProtocolError):
        await emulator_http.post(PATH, json=stream_body())


@pytest.mark.behaviour("streaming.knobs")
async def test_stream_disconnect_over_socket(workspace: Workspace, live_server: EmulatorServer) -> None:
    workspace.endpoints[CHAT].behaviour.stream_break_after_chunks = 2
    received: list[str] = []
    with anyio.fail_after(10):
        async with httpx.AsyncClient(base_url=live_server.url, headers=AUTH) as http:
            async with http.stream("POST", PATH, json=stream_body()) as response:
                assert response.status_code == 200
                with pytest.raises(httpx.RemoteProtocolError):
                    async for line in response.aiter_lines():
                        if line:
                            received.append(line)
    assert len(received) == 2
    assert all(line.startswith("data: {") for line in received)


@pytest.mark.behaviour("streaming.knobs", "streaming.sse")
async def test_stream_arrives_incrementally(workspace: Workspace, live_server: EmulatorServer) -> None:
    """The first chunk reaches the client while the server is still producing the rest."""
    enable_usage_tracking(workspace)
    workspace.endpoints[CHAT].behaviour.stream_chunk_delay_seconds = 0.05
    started = time.monotonic()
    lines: list[str] = []
    with anyio.fail_after(20):
        async with httpx.AsyncClient(base_url=live_server.url, headers=AUTH) as http:
            async with http.stream("POST", PATH, json=stream_body(LONG_TEXT)) as response:
                lines_iterator = response.aiter_lines()
                first = await anext(lines_iterator)
                first_at = time.monotonic() - started
                # The server records usage only after its last chunk, so nothing is recorded yet.
                with workspace.lock:
                    usage_at_first_chunk = usage_by_principal(workspace.endpoints[CHAT])
                lines = [line async for line in lines_iterator if line]
    total = time.monotonic() - started
    assert first.startswith("data: {")
    assert usage_at_first_chunk == {}
    assert lines[-1] == "data: [DONE]"
    assert len(lines) > 30
    assert first_at < total / 2
    assert usage_by_principal(workspace.endpoints[CHAT])[SANDBOX_USER]["requests"] == 1


@pytest.mark.behaviour("streaming.usage-accounting")
async def test_stream_records_usage_at_end(workspace: Workspace, emulator_http: httpx.AsyncClient) -> None:
    enable_usage_tracking(workspace)
    response = await emulator_http.post(PATH, json=stream_body())
    chunks, _ = parse_events(response.text)
    usage = usage_by_principal(workspace.endpoints[CHAT])[SANDBOX_USER]
    assert usage["prompt_tokens"] == chunks[-1]["usage"]["prompt_tokens"]
    assert usage["completion_tokens"] == chunks[-1]["usage"]["completion_tokens"]
    assert workspace.endpoints[CHAT].usage_of(CHAT).request_count == 1


@pytest.mark.behaviour("streaming.usage-accounting")
async def test_stream_truncated_usage_counts_sent(workspace: Workspace, emulator_http: httpx.AsyncClient) -> None:
    enable_usage_tracking(workspace)
    behaviour = workspace.endpoints[CHAT].behaviour
    behaviour.stream_break_after_chunks = 2
    behaviour.stream_break_mode = "truncate"
    await emulator_http.post(PATH, json=stream_body())
    assert usage_by_principal(workspace.endpoints[CHAT])[SANDBOX_USER]["completion_tokens"] == 2


@pytest.mark.behaviour("streaming.chat-and-completions-only")
async def test_stream_rejected_for_embeddings(emulator_http: httpx.AsyncClient) -> None:
    response = await emulator_http.post(
        "/serving-endpoints/databricks-bge-large-en/invocations", json={"input": "x", "stream": True}
    )
    assert response.status_code == 400
    assert "['stream']" in response.json()["message"]


@pytest.mark.behaviour("streaming.knobs", "streaming.sse")
async def test_stream_mlflow_client_reads_variations(
    workspace: Workspace, live_server: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlflow.deployments import get_deploy_client

    workspace.endpoints[CHAT].behaviour.stream_sse_variations = True
    monkeypatch.setenv("DATABRICKS_HOST", live_server.url)
    monkeypatch.setenv("DATABRICKS_TOKEN", SANDBOX_TOKEN)
    client = get_deploy_client("databricks")
    inputs = {"messages": [{"role": "user", "content": "hi you"}]}

    def read_stream() -> list[dict[str, Any]]:
        return list(client.predict_stream(endpoint=CHAT, inputs=inputs))

    with anyio.fail_after(30):
        chunks = await anyio.to_thread.run_sync(read_stream)
    assert joined_content(chunks) == f"Reply from {CHAT}: hi you"
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
