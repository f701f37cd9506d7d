import json
from typing import Any

import anyio
import pytest
from mcp import Client

from emulator import Workspace, apply_scenario
from server.settings import Settings
from tests.tools.support import add_demo_endpoints, content_of, error_text, model_entity

pytestmark = pytest.mark.anyio

CHAT = "databricks-claude-sonnet-4-6"
EMBED = "databricks-gte-large-en"
HELLO = [{"role": "user", "content": "Hello"}]
ROW = {"vibration": 0.42, "rpm": 18.3, "temp_c": 71.2}
MAX_RESULT_CHARS = 20_000


@pytest.fixture
def settings() -> Settings:
    return Settings(max_result_chars=MAX_RESULT_CHARS)


def add_endpoints(workspace: Workspace) -> None:
    add_demo_endpoints(workspace, deploying=model_entity("main.default.turbine_failure", 3))


def posts(workspace: Workspace) -> list[Any]:
    return [record for record in workspace.request_log if record.method == "POST"]


async def call(client: Client, **arguments: Any) -> dict[str, Any]:
    return content_of(await client.call_tool("query_endpoint", arguments))


async def call_error(client: Client, **arguments: Any) -> str:
    return error_text(await client.call_tool("query_endpoint", arguments))


def envelope(text: str) -> dict[str, Any]:
    error: dict[str, Any] = json.loads(text.splitlines()[-1])["error"]
    return error


async def test_query_annotations(client: Client) -> None:
    tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    annotations = tools["query_endpoint"].annotations
    assert annotations is not None
    assert annotations.read_only_hint is False
    assert annotations.destructive_hint is False
    assert annotations.idempotent_hint is False
    assert annotations.open_world_hint is True


async def test_query_chat_summary(client: Client, workspace: Workspace) -> None:
    content = await call(client, name=CHAT, messages=HELLO, max_tokens=64)
    assert content["summary"]["kind"] == "chat"
    assert content["summary"]["text"] == content["response"]["choices"][0]["message"]["content"]
    assert content["summary"]["finish_reason"] == "stop"
    assert content["summary"]["usage"]["total_tokens"] > 0
    assert content["served_model_name"] == CHAT
    assert content["sent_fields"] == ["max_tokens", "messages"]
    assert posts(workspace)[-1].body == {"messages": HELLO, "max_tokens": 64}


async def test_query_chat_prompt_as_messages(client: Client, workspace: Workspace) -> None:
    content = await call(client, name=CHAT, prompt="Hello")
    assert posts(workspace)[-1].body == {"messages": HELLO}
    assert any("prompt as messages" in note for note in content["notes"])


async def test_query_chat_inputs_flattened(client: Client, workspace: Workspace) -> None:
    await call(client, name=CHAT, inputs={"messages": HELLO, "temperature": 0.3})
    assert posts(workspace)[-1].body == {"messages": HELLO, "temperature": 0.3}


async def test_query_lenient_json_strings(client: Client, workspace: Workspace) -> None:
    await call(client, name=CHAT, messages=json.dumps(HELLO), max_tokens="12", temperature="0.5")
    assert posts(workspace)[-1].body == {"messages": HELLO, "max_tokens": 12, "temperature": 0.5}


async def test_query_missing_lists_chat_endpoints(client: Client, workspace: Workspace) -> None:
    text = await call_error(client, name="databricks-meta-llama-3-1-405b-instruct", prompt="Hello")
    error = envelope(text)
    assert error["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert error["http_status"] == 404
    assert CHAT in error["available_chat_endpoints"]
    assert EMBED not in error["available_chat_endpoints"]
    # Look-alike: 'databricks-' prefix but not a Foundation Model endpoint.
    assert "databricks-app-template-serving" not in error["available_chat_endpoints"]
    assert not posts(workspace)


async def test_query_not_ready_rejected(client: Client, workspace: Workspace) -> None:
    add_endpoints(workspace)
    text = await call_error(client, name="ep-new", dataframe_records=[ROW])
    error = envelope(text)
    assert error["error_code"] == "ENDPOINT_NOT_READY"
    assert error["ready"] == "NOT_READY"
    assert error["config_update"] == "IN_PROGRESS"
    assert "turbine_failure-3=DEPLOYMENT_CREATING" in error["message"]
    assert "wait_until_ready(name='ep-new')" in error["next_step"]
    assert not posts(workspace)


async def test_query_ready_after_deploy(client: Client, workspace: Workspace) -> None:
    add_endpoints(workspace)
    workspace.clock.advance(workspace.endpoints["ep-new"].behaviour.deploy_seconds)
    content = await call(client, name="ep-new", dataframe_records=[ROW])
    assert content["summary"]["kind"] == "predictions"


async def test_query_custom_split(client: Client, workspace: Workspace) -> None:
    add_endpoints(workspace)
    split = {"columns": list(ROW), "data": [list(ROW.values())]}
    content = await call(client, name="ep-demo", dataframe_split=split)
    assert posts(workspace)[-1].body == {"dataframe_split": split}
    assert content["summary"]["kind"] == "predictions"
    assert content["summary"]["item_count"] == 1
    assert content["served_model_name"] == "turbine_failure-1"


async def test_query_custom_bare_split_wrapped(client: Client, workspace: Workspace) -> None:
    add_endpoints(workspace)
    split = {"columns": list(ROW), "data": [list(ROW.values())]}
    content = await call(client, name="ep-demo", extra=split)
    assert posts(workspace)[-1].body == {"dataframe_split": split}
    assert any("Wrapped extra as dataframe_split" in note for note in content["notes"])


async def test_query_custom_two_inputs_local_error(client: Client, workspace: Workspace) -> None:
    add_endpoints(workspace)
    text = await call_error(client, name="ep-demo", dataframe_records=[ROW], instances=[[1, 2, 3]])
    assert "exactly one input key" in text
    for key in ("dataframe_split", "dataframe_records", "instances", "inputs"):
        assert key in text
    assert not posts(workspace)


async def test_query_custom_server_error_hint(client: Client, workspace: Workspace) -> None:
    add_endpoints(workspace)
    text = await call_error(client, name="ep-demo", dataframe_records=[{"vibration": 1.0}])
    error = envelope(text)
    assert error["http_status"] == 400
    assert "rpm" in error["message"]
    assert "get_open_api(name='ep-demo')" in error["next_step"]


async def test_query_served_entity_path(client: Client, workspace: Workspace) -> None:
    add_endpoints(workspace)
    content = await call(client, name="ep-ab", dataframe_records=[ROW], served_entity="turbine_failure-2")
    assert posts(workspace)[-1].path == "/serving-endpoints/ep-ab/served-models/turbine_failure-2/invocations"
    assert content["served_model_name"] == "turbine_failure-2"


async def test_query_unknown_served_entity(client: Client, workspace: Workspace) -> None:
    add_endpoints(workspace)
    text = await call_error(client, name="ep-ab", dataframe_records=[ROW], served_entity="turbine_failure-9")
    error = envelope(text)
    assert error["field"] == "served_entity"
    assert "turbine_failure-1" in error["fix"]
    assert "turbine_failure-2" in error["fix"]
    assert not posts(workspace)


async def test_query_embeddings_shortened(client: Client) -> None:
    content = await call(client, name=EMBED, input=["first text", "second text"])
    summary = content["summary"]
    assert summary["kind"] == "embeddings"
    assert summary["embedding_count"] == 2
    assert summary["embedding_dimension"] == 1024
    vectors = [item["embedding"] for item in content["response"]["data"]]
    assert [len(vector) for vector in vectors] == [5, 5]
    assert any("first 5 of 1024 values" in note for note in content["notes"])


async def test_query_embeddings_whole_vectors(client: Client) -> None:
    content = await call(client, name=EMBED, input="text", include_embeddings=True)
    kept = len(content["response"]["data"][0]["embedding"])
    # One 1024-float vector is larger than this module's 20k-character cap, so the cap cuts it.
    assert 5 < kept < 1024
    assert content["truncation"]["omitted"] == [f"response.data[0].embedding: kept {kept} of 1024 items"]
    assert not any("first 5 of 1024 values" in note for note in content["notes"])


@pytest.mark.parametrize(
    ("response", "kind", "count"),
    [
        ([{"a": 1}, {"a": 2}], "list", 2),
        ({"outputs": [1, 2, 3]}, "outputs", 3),
        ({"predictions": [0, 1]}, "predictions", 2),
        ({"output": [{"type": "message", "content": [{"type": "output_text", "text": "Hi"}]}]}, "responses", 1),
        ({"something": "else"}, "other", None),
    ],
)
async def test_query_response_shapes_faithful(
    client: Client, workspace: Workspace, response: Any, kind: str, count: int | None
) -> None:
    add_endpoints(workspace)
    workspace.endpoints["ep-demo"].behaviour.response = response
    content = await call(client, name="ep-demo", dataframe_records=[ROW])
    assert content["response"] == response
    assert content["summary"]["kind"] == kind
    assert content["summary"]["item_count"] == count


async def test_query_large_response_capped(client: Client, workspace: Workspace) -> None:
    add_endpoints(workspace)
    rows = [{"id": i, "score": i / 7} for i in range(50_000)]
    workspace.endpoints["ep-demo"].behaviour.response = {"predictions": rows}
    result = await client.call_tool("query_endpoint", {"name": "ep-demo", "dataframe_records": [ROW]})
    assert result.is_error is False
    text = result.content[0].text  # type: ignore[union-attr]
    assert len(text) <= MAX_RESULT_CHARS
    content = json.loads(text)
    kept = content["response"]["predictions"]
    assert 0 < len(kept) < 50_000
    assert kept == rows[: len(kept)]
    assert content["summary"]["item_count"] == 50_000
    assert content["truncation"]["omitted"] == [f"response.predictions: kept {len(kept)} of 50000 items"]


async def test_query_long_text_capped(client: Client, workspace: Workspace) -> None:
    long_text = "word " * 40_000
    answer = {"choices": [{"index": 0, "message": {"role": "assistant", "content": long_text}}]}
    workspace.endpoints[CHAT].behaviour.response = answer
    result = await client.call_tool("query_endpoint", {"name": CHAT, "messages": HELLO})
    assert result.is_error is False
    text = result.content[0].text  # type: ignore[union-attr]
    assert len(text) <= MAX_RESULT_CHARS
    content = json.loads(text)
    assert long_text.startswith(content["summary"]["text"])
    assert any("summary.text shows the first" in note for note in content["notes"])


async def test_query_client_timeout(client: Client, workspace: Workspace) -> None:
    add_endpoints(workspace)
    workspace.endpoints["ep-demo"].behaviour.query_delay_seconds = 5
    with anyio.fail_after(4):
        text = await call_error(client, name="ep-demo", dataframe_records=[ROW], timeout_seconds=0.3)
    error = envelope(text)
    assert error["error_code"] == "CLIENT_TIMEOUT"
    assert "client side timed out after 0.3s" in error["message"]
    assert error["retryable"] is True


async def test_query_server_timeout_named(client: Client, workspace: Workspace) -> None:
    add_endpoints(workspace)
    apply_scenario(workspace, {"faults": [{"kind": "timeout", "seconds": 0, "endpoint": "ep-demo", "method": "POST"}]})
    text = await call_error(client, name="ep-demo", dataframe_records=[ROW])
    error = envelope(text)
    assert error["http_status"] == 504
    assert error["error_code"] == "DEADLINE_EXCEEDED"
    assert "server side timed out" in error["next_step"]


async def test_query_timeout_capped(client: Client) -> None:
    content = await call(client, name=CHAT, messages=HELLO, timeout_seconds=500)
    assert content["timeout_seconds"] == Settings().wait_budget_seconds
    assert any("was capped at" in note for note in content["notes"])


async def test_query_default_timeout(client: Client) -> None:
    content = await call(client, name=CHAT, messages=HELLO)
    assert content["timeout_seconds"] == 30.0


async def test_query_rate_limit_keeps_message(client: Client, workspace: Workspace) -> None:
    workspace.endpoints[CHAT].behaviour.workspace_qps_limit = 0
    with anyio.fail_after(10):
        text = await call_error(client, name=CHAT, messages=HELLO, timeout_seconds=1)
    error = envelope(text)
    assert error["http_status"] == 429
    assert error["error_code"] == "REQUEST_LIMIT_EXCEEDED"
    assert "workspace QPS rate limit" in error["message"]
    assert "provisioned throughput" in error["next_step"]
    assert error["retry_after_seconds"] is not None
    assert "timed out" not in text


async def test_query_log_line_bounded(client: Client, caplog: pytest.LogCaptureFixture) -> None:
    extra = {f"field_{i:04d}": 1 for i in range(500)}
    caplog.set_level("INFO", logger="tools.query")
    await client.call_tool(
        "query_endpoint",
        {"name": "databricks-claude-sonnet-4-6", "messages": [{"role": "user", "content": "hi"}], "extra": extra},
    )
    lines = [r.getMessage() for r in caplog.records if r.name == "tools.query" and "Querying" in r.getMessage()]
    assert len(lines) == 1
    assert len(lines[0]) < 1_000
    assert "more" in lines[0]
