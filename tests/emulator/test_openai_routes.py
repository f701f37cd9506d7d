"""OpenAI-compatible routes, driven by the official `openai` client over a loopback socket."""

from collections.abc import AsyncIterator, Iterator

import anyio
import httpx
import openai
import pytest

from emulator import SANDBOX_TOKEN, Workspace, apply_scenario
from emulator.server import EmulatorServer

pytestmark = pytest.mark.anyio

CHAT = "databricks-claude-sonnet-4"
EMBEDDINGS = "databricks-gte-large-en"


@pytest.fixture
def live_server(workspace: Workspace) -> Iterator[EmulatorServer]:
    with EmulatorServer(workspace) as server:
        yield server


@pytest.fixture
async def openai_client(live_server: EmulatorServer) -> AsyncIterator[openai.AsyncOpenAI]:
    client = openai.AsyncOpenAI(base_url=f"{live_server.url}/serving-endpoints", api_key=SANDBOX_TOKEN, max_retries=0)
    async with client:
        yield client


@pytest.mark.behaviour("openai.chat")
async def test_openai_chat_completion(workspace: Workspace, openai_client: openai.AsyncOpenAI) -> None:
    with anyio.fail_after(10):
        completion = await openai_client.chat.completions.create(
            model=CHAT, messages=[{"role": "user", "content": "hi there"}], max_tokens=50
        )
    assert completion.object == "chat.completion"
    assert completion.choices[0].message.content == f"Reply from {CHAT}: hi there"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None
    assert completion.usage.prompt_tokens == 2
    record = workspace.request_log[-1]
    assert record.path == "/serving-endpoints/chat/completions"
    assert record.body["model"] == CHAT


@pytest.mark.behaviour("openai.chat", "streaming.sse")
async def test_openai_chat_stream(openai_client: openai.AsyncOpenAI) -> None:
    pieces: list[str] = []
    finish_reasons: list[str | None] = []
    with anyio.fail_after(10):
        stream = await openai_client.chat.completions.create(
            model=CHAT, messages=[{"role": "user", "content": "stream this"}], stream=True
        )
        async for chunk in stream:
            pieces.append(chunk.choices[0].delta.content or "")
            finish_reasons.append(chunk.choices[0].finish_reason)
    assert "".join(pieces) == f"Reply from {CHAT}: stream this"
    assert finish_reasons[-1] == "stop"
    assert set(finish_reasons[:-1]) == {None}


@pytest.mark.behaviour("openai.embeddings")
async def test_openai_embeddings(openai_client: openai.AsyncOpenAI, emulator_http: httpx.AsyncClient) -> None:
    with anyio.fail_after(10):
        result = await openai_client.embeddings.create(model=EMBEDDINGS, input=["first text", "second text"])
    assert len(result.data) == 2
    assert len(result.data[0].embedding) == 1024
    direct = await emulator_http.post(f"/serving-endpoints/{EMBEDDINGS}/invocations", json={"input": "first text"})
    assert result.data[0].embedding == pytest.approx(direct.json()["data"][0]["embedding"])


@pytest.mark.behaviour("openai.completions", "query.completions")
async def test_openai_completions(workspace: Workspace, openai_client: openai.AsyncOpenAI) -> None:
    entity = {"entity_name": "main.default.demo_model", "entity_version": "1", "scale_to_zero_enabled": True}
    item = {"name": "ep-complete", "task": "llm/v1/completions", "config": {"served_entities": [entity]}}
    apply_scenario(workspace, {"endpoints": [item]})
    with anyio.fail_after(10):
        result = await openai_client.completions.create(model="ep-complete", prompt="once upon")
    assert result.choices[0].text == "Continuation by demo_model-1 of: once upon"


@pytest.mark.behaviour("openai.errors", "get.not-found")
async def test_openai_unknown_endpoint_databricks_body(openai_client: openai.AsyncOpenAI) -> None:
    with anyio.fail_after(10), pytest.raises(openai.NotFoundError) as caught:
        await openai_client.chat.completions.create(model="nope", messages=[{"role": "user", "content": "hi"}])
    assert caught.value.status_code == 404
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert caught.value.body["message"] == "Endpoint with name 'nope' does not exist."


@pytest.mark.behaviour("openai.errors", "gateway.workspace-qps")
async def test_openai_rate_limit_databricks_body(workspace: Workspace, openai_client: openai.AsyncOpenAI) -> None:
    workspace.endpoints[CHAT].behaviour.workspace_qps_limit = 0
    with anyio.fail_after(10), pytest.raises(openai.RateLimitError) as caught:
        await openai_client.chat.completions.create(model=CHAT, messages=[{"role": "user", "content": "hi"}])
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["error_code"] == "REQUEST_LIMIT_EXCEEDED"
    assert caught.value.response.headers["Retry-After"] == "1"


@pytest.mark.behaviour("openai.route-task")
async def test_openai_chat_route_wrong_task(emulator_http: httpx.AsyncClient) -> None:
    response = await emulator_http.post(
        "/serving-endpoints/chat/completions",
        json={"model": EMBEDDINGS, "messages": [{"role": "user", "content": "hi"}]},
    )
    assert response.status_code == 400
    assert "llm/v1/embeddings" in response.json()["message"]
    assert "llm/v1/chat" in response.json()["message"]


@pytest.mark.behaviour("openai.route-task")
async def test_openai_embeddings_route_wrong_task(emulator_http: httpx.AsyncClient) -> None:
    response = await emulator_http.post("/serving-endpoints/embeddings", json={"model": CHAT, "input": "hi"})
    assert response.status_code == 400
    assert "llm/v1/embeddings" in response.json()["message"]


@pytest.mark.behaviour("openai.route-task")
async def test_openai_model_required(emulator_http: httpx.AsyncClient) -> None:
    response = await emulator_http.post(
        "/serving-endpoints/chat/completions", json={"messages": [{"role": "user", "content": "hi"}]}
    )
    assert response.status_code == 400
    assert "'model' is required" in response.json()["message"]


@pytest.mark.behaviour("query.served-model-header")
async def test_openai_header_names_entity(emulator_http: httpx.AsyncClient) -> None:
    response = await emulator_http.post("/serving-endpoints/embeddings", json={"model": EMBEDDINGS, "input": "hi"})
    assert response.status_code == 200
    assert response.headers["served-model-name"] == EMBEDDINGS
