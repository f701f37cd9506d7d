"""openai 3.51.0 clients, unpatched, against the emulator's OpenAI-compatible routes over loopback HTTP.

One test uses the client that databricks-sdk's deprecated `get_open_ai_client` builds.
"""

import math
from collections.abc import Iterator

import openai
import pytest
from databricks.sdk import WorkspaceClient

from emulator import SANDBOX_TOKEN, Workspace
from emulator.server import EmulatorServer
from tests.fidelity.support import BGE_ENDPOINT, CHAT_ENDPOINT, GTE_ENDPOINT, requests_to

PROMPT = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "name three rivers"}]


@pytest.fixture
def client(live: EmulatorServer) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=f"{live.url}/serving-endpoints", api_key=SANDBOX_TOKEN, timeout=10) as connected:
        yield connected


@pytest.mark.behaviour("openai.chat", "query.chat", "query.served-model-header")
def test_openai_chat_completion(client: openai.OpenAI, workspace: Workspace) -> None:
    raw = client.chat.completions.with_raw_response.create(model=CHAT_ENDPOINT, messages=PROMPT, max_tokens=4)
    completion = raw.parse()
    assert raw.headers["served-model-name"] == CHAT_ENDPOINT
    assert completion.object == "chat.completion"
    assert completion.model == CHAT_ENDPOINT
    assert completion.choices[0].message.role == "assistant"
    assert completion.choices[0].message.content == f"Reply from {CHAT_ENDPOINT}: name"
    assert completion.choices[0].finish_reason == "length"
    assert completion.usage is not None
    assert completion.usage.prompt_tokens == 5
    assert completion.usage.completion_tokens == 4
    sent = requests_to(workspace, "POST", "/serving-endpoints/chat/completions")
    assert sent[-1].body["model"] == CHAT_ENDPOINT


@pytest.mark.behaviour("openai.chat", "streaming.sse")
def test_openai_chat_stream(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(model=CHAT_ENDPOINT, messages=PROMPT, stream=True)
    chunks = list(stream)
    assert {chunk.object for chunk in chunks} == {"chat.completion.chunk"}
    assert len({chunk.id for chunk in chunks}) == 1
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks)
    assert text == f"Reply from {CHAT_ENDPOINT}: name three rivers"
    assert [chunk.choices[0].finish_reason for chunk in chunks][-1] == "stop"
    assert all(chunk.choices[0].finish_reason is None for chunk in chunks[:-1])
    # Databricks sends the usage so far in every chunk, not only in a final usage-only chunk.
    usages = [chunk.usage for chunk in chunks]
    assert all(usage is not None for usage in usages)
    assert usages[-1] is not None
    assert usages[-1].completion_tokens == len(text.split())
    assert usages[-1].total_tokens == usages[-1].prompt_tokens + usages[-1].completion_tokens


@pytest.mark.behaviour("openai.embeddings", "query.embeddings")
def test_openai_embeddings(client: openai.OpenAI) -> None:
    texts = ["the river Nile", "the river Amazon"]
    gte = client.embeddings.create(model=GTE_ENDPOINT, input=texts)
    bge = client.embeddings.create(model=BGE_ENDPOINT, input=texts)
    assert [item.index for item in gte.data] == [0, 1]
    assert [len(item.embedding) for item in gte.data] == [1024, 1024]
    assert gte.usage.prompt_tokens == 6
    assert gte.data[0].embedding != gte.data[1].embedding
    # BGE vectors are normalised and GTE vectors are not.
    assert math.hypot(*bge.data[0].embedding) == pytest.approx(1.0, abs=1e-4)
    assert math.hypot(*gte.data[0].embedding) > 2.0
    again = client.embeddings.create(model=GTE_ENDPOINT, input=texts[0])
    assert again.data[0].embedding == gte.data[0].embedding


@pytest.mark.behaviour("openai.errors", "gateway.workspace-qps", "errors.retry-after")
def test_openai_errors_keep_databricks_body(client: openai.OpenAI, workspace: Workspace) -> None:
    with pytest.raises(openai.BadRequestError) as bad:
        client.chat.completions.create(model=GTE_ENDPOINT, messages=PROMPT)
    assert isinstance(bad.value.body, dict)
    assert bad.value.body["error_code"] == "BAD_REQUEST"

    workspace.endpoints[CHAT_ENDPOINT].behaviour.workspace_qps_limit = 1
    limited = client.with_options(max_retries=0)
    limited.chat.completions.create(model=CHAT_ENDPOINT, messages=PROMPT)
    with pytest.raises(openai.RateLimitError) as caught:
        limited.chat.completions.create(model=CHAT_ENDPOINT, messages=PROMPT)
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["error_code"] == "REQUEST_LIMIT_EXCEEDED"
    assert caught.value.body["message"].startswith(f"Exceeded workspace QPS rate limit for {CHAT_ENDPOINT}.")
    assert caught.value.response.headers["retry-after"] == "1"


@pytest.mark.behaviour("openai.chat", "auth.bearer-token")
def test_sdk_open_ai_client_chat(live: EmulatorServer) -> None:
    workspace_client = WorkspaceClient(host=live.url, token=SANDBOX_TOKEN)
    with pytest.warns(DeprecationWarning, match="databricks-openai"):
        client = workspace_client.serving_endpoints.get_open_ai_client()
    completion = client.chat.completions.create(model=CHAT_ENDPOINT, messages=PROMPT)
    assert completion.choices[0].message.content == f"Reply from {CHAT_ENDPOINT}: name three rivers"
