"""Scoring routes: readiness, traffic split, request formats per task and the responses."""

import math
import time
from typing import Any

import httpx
import pytest

from emulator import Workspace, apply_scenario

pytestmark = pytest.mark.anyio

CHAT = "databricks-claude-sonnet-4"
BGE = "databricks-bge-large-en"
GTE = "databricks-gte-large-en"
AGENT = "databricks-app-template-serving"
TURBINE_ROW = {"vibration": 0.5, "rpm": 1500.0, "temp_c": 60.0}


def invocations(name: str) -> str:
    return f"/serving-endpoints/{name}/invocations"


def add_endpoint(workspace: Workspace, item: dict[str, Any]) -> None:
    apply_scenario(workspace, {"endpoints": [item]})


def turbine_endpoint(name: str = "ep-turbine", **extra: Any) -> dict[str, Any]:
    entity = {"entity_name": "main.default.turbine_failure", "entity_version": "1", "scale_to_zero_enabled": True}
    return {"name": name, "config": {"served_entities": [entity]}, **extra}


def ab_endpoint(percent_a: int) -> dict[str, Any]:
    entities = [
        {"name": "a", "entity_name": "main.default.demo_model", "entity_version": "1", "scale_to_zero_enabled": True},
        {"name": "b", "entity_name": "main.default.demo_model", "entity_version": "2", "scale_to_zero_enabled": True},
    ]
    routes = [
        {"served_entity_name": "a", "traffic_percentage": percent_a},
        {"served_entity_name": "b", "traffic_percentage": 100 - percent_a},
    ]
    return {"name": "ep-ab", "config": {"served_entities": entities, "traffic_config": {"routes": routes}}}


def chat_body(content: str = "hello there", **extra: Any) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": content}], **extra}


@pytest.mark.behaviour("get.not-found")
async def test_invocations_unknown_endpoint(emulator_http: httpx.AsyncClient) -> None:
    response = await emulator_http.post(invocations("nope"), json=chat_body())
    assert response.status_code == 404
    assert response.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert response.json()["message"] == "Endpoint with name 'nope' does not exist."


@pytest.mark.behaviour("query.not-ready")
async def test_invocations_without_config_not_ready(workspace: Workspace, emulator_http: httpx.AsyncClient) -> None:
    item = turbine_endpoint()
    add_endpoint(workspace, {"name": "ep-new", "pending": {"config": item["config"], "state": "IN_PROGRESS"}})
    response = await emulator_http.post(invocations("ep-new"), json={"dataframe_records": [TURBINE_ROW]})
    assert response.status_code == 503
    assert response.json()["error_code"] == "TEMPORARILY_UNAVAILABLE"
    assert "not ready" in response.json()["message"]
    assert "IN_PROGRESS" in response.json()["message"]


@pytest.mark.behaviour("query.not-ready", "state.warmup")
async def test_invocations_warming_entity_not_ready(workspace: Workspace, emulator_http: httpx.AsyncClient) -> None:
    add_endpoint(workspace, turbine_endpoint(warmup_seconds_left=30))
    response = await emulator_http.post(invocations("ep-turbine"), json={"dataframe_records": [TURBINE_ROW]})
    assert response.status_code == 503
    assert "turbine_failure-1" in response.json()["message"]
    workspace.clock.advance(31)
    response = await emulator_http.post(invocations("ep-turbine"), json={"dataframe_records": [TURBINE_ROW]})
    assert response.status_code == 200


@pytest.mark.behaviour("query.chat")
async def test_invocations_chat_answer(workspace: Workspace, emulator_http: httpx.AsyncClient) -> None:
    response = await emulator_http.post(invocations(CHAT), json=chat_body("what is serving"))
    assert response.status_code == 200
    assert response.headers["served-model-name"] == CHAT
    body = response.json()
    assert body["object"] == "chat.completion"
    assert body["created"] == workspace.clock.now_ms() // 1000
    assert body["model"] == CHAT
    message = body["choices"][0]["message"]
    assert message["role"] == "assistant"
    assert message["content"] == f"Reply from {CHAT}: what is serving"
    assert body["choices"][0]["finish_reason"] == "stop"
    usage = body["usage"]
    assert usage["prompt_tokens"] == 3
    assert usage["completion_tokens"] == len(message["content"].split())
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


@pytest.mark.behaviour("query.chat")
async def test_invocations_chat_n_choices(emulator_http: httpx.AsyncClient) -> None:
    response = await emulator_http.post(invocations(CHAT), json=chat_body(n=3))
    assert [choice["index"] for choice in response.json()["choices"]] == [0, 1, 2]


@pytest.mark.behaviour("query.chat")
async def test_invocations_max_tokens_cuts_answer(emulator_http: httpx.AsyncClient) -> None:
    response = await emulator_http.post(invocations(CHAT), json=chat_body("one two three four", max_tokens=2))
    choice = response.json()["choices"][0]
    assert choice["message"]["content"] == "Reply from"
    assert choice["finish_reason"] == "length"
    assert response.json()["usage"]["completion_tokens"] == 2


@pytest.mark.behaviour("query.chat")
async def test_invocations_stop_sequence_cuts_answer(emulator_http: httpx.AsyncClient) -> None:
    response = await emulator_http.post(invocations(CHAT), json=chat_body("alpha beta", stop=["beta"]))
    choice = response.json()["choices"][0]
    assert choice["message"]["content"] == f"Reply from {CHAT}: alpha "
    assert choice["finish_reason"] == "stop"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"prompt": "Hello"}, "'messages'"),
        ({"inputs": {"messages": [{"role": "user", "content": "hi"}], "temperature": 0.3}}, "top-level 'messages'"),
        ({"messages": [{"role": "user", "content": "hi"}], "databricks_options": {}}, "databricks_options"),
        ({"messages": []}, "non-empty list"),
        ({"messages": [{"role": "robot", "content": "hi"}]}, "'messages[0].role'"),
        ({"messages": [{"role": "user", "content": 5}]}, "'messages[0].content'"),
        ({"messages": [{"role": "user", "content": "hi"}], "temperature": 3}, "'temperature'"),
        ({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 0}, "'max_tokens'"),
        ({"messages": [{"role": "user", "content": "hi"}], "n": 6}, "'n'"),
        ({"messages": [{"role": "user", "content": "hi"}], "stream": "yes"}, "'stream'"),
    ],
)
@pytest.mark.behaviour("query.chat-validation")
async def test_invocations_chat_body_rejected(
    emulator_http: httpx.AsyncClient, body: dict[str, Any], expected: str
) -> None:
    response = await emulator_http.post(invocations(CHAT), json=body)
    assert response.status_code == 400
    assert response.json()["error_code"] == "BAD_REQUEST"
    assert expected in response.json()["message"]


@pytest.mark.behaviour("query.chat-validation")
async def test_invocations_system_message_only_first(emulator_http: httpx.AsyncClient) -> None:
    system = {"role": "system", "content": "be brief"}
    user = {"role": "user", "content": "hi"}
    assert (await emulator_http.post(invocations(CHAT), json={"messages": [system, user]})).status_code == 200
    for messages in ([user, system], [system, system, user]):
        response = await emulator_http.post(invocations(CHAT), json={"messages": messages})
        assert response.status_code == 400
        assert "system message may appear only once, as the first message" in response.json()["message"]


@pytest.mark.behaviour("query.chat-validation")
async def test_invocations_content_parts_accepted(emulator_http: httpx.AsyncClient) -> None:
    parts = [{"type": "text", "text": "look"}, {"type": "image_url", "image_url": {"url": "data:,"}}]
    response = await emulator_http.post(invocations(CHAT), json={"messages": [{"role": "user", "content": parts}]})
    assert response.json()["choices"][0]["message"]["content"] == f"Reply from {CHAT}: look"


@pytest.mark.behaviour("query.completions")
async def test_invocations_completions_answer(workspace: Workspace, emulator_http: httpx.AsyncClient) -> None:
    add_endpoint(workspace, {**turbine_endpoint("ep-complete"), "task": "llm/v1/completions"})
    response = await emulator_http.post(invocations("ep-complete"), json={"prompt": ["once upon", "a time"], "n": 2})
    body = response.json()
    assert body["object"] == "text_completion"
    assert [choice["index"] for choice in body["choices"]] == [0, 1, 2, 3]
    assert body["choices"][0]["text"] == "Continuation by turbine_failure-1 of: once upon"
    assert body["choices"][2]["text"] == "Continuation by turbine_failure-1 of: a time"
    assert body["usage"]["prompt_tokens"] == 4
    rejected = await emulator_http.post(invocations("ep-complete"), json=chat_body())
    assert rejected.status_code == 400
    assert "'prompt'" in rejected.json()["message"]


@pytest.mark.behaviour("query.embeddings")
async def test_invocations_embeddings_vectors(emulator_http: httpx.AsyncClient) -> None:
    response = await emulator_http.post(invocations(BGE), json={"input": ["same text", "other text", "same text"]})
    body = response.json()
    assert body["object"] == "list"
    vectors = [item["embedding"] for item in body["data"]]
    assert [item["index"] for item in body["data"]] == [0, 1, 2]
    assert all(len(vector) == 1024 for vector in vectors)
    assert vectors[0] == vectors[2]
    assert vectors[0] != vectors[1]
    assert math.isclose(math.sqrt(sum(v * v for v in vectors[0])), 1.0, abs_tol=1e-3)
    assert body["usage"] == {"prompt_tokens": 6, "total_tokens": 6}


@pytest.mark.behaviour("query.embeddings")
async def test_invocations_gte_embeddings_unnormalised(emulator_http: httpx.AsyncClient) -> None:
    first = await emulator_http.post(invocations(GTE), json={"input": "a sentence"})
    second = await emulator_http.post(invocations(GTE), json={"input": "a sentence"})
    vector = first.json()["data"][0]["embedding"]
    assert second.json()["data"][0]["embedding"] == vector
    assert math.sqrt(sum(v * v for v in vector)) > 2


@pytest.mark.behaviour("query.chat-validation")
async def test_invocations_embeddings_body_rejected(emulator_http: httpx.AsyncClient) -> None:
    for body, expected in (({"input": []}, "'input'"), ({"messages": []}, "'input'"), ({"input": [1]}, "'input'")):
        response = await emulator_http.post(invocations(BGE), json=body)
        assert response.status_code == 400
        assert expected in response.json()["message"]


@pytest.mark.behaviour("query.agent")
async def test_invocations_agent_responses(emulator_http: httpx.AsyncClient) -> None:
    response = await emulator_http.post(invocations(AGENT), json={"input": [{"role": "user", "content": "plan it"}]})
    body = response.json()
    assert body["object"] == "response"
    assert body["output"][0]["content"][0]["text"] == "Reply from app_template-3: plan it"
    assert body["usage"]["input_tokens"] == 2


@pytest.mark.behaviour("streaming.chat-and-completions-only")
async def test_invocations_agent_responses_no_stream(emulator_http: httpx.AsyncClient) -> None:
    response = await emulator_http.post(invocations(AGENT), json={"input": "plan it", "stream": True})
    assert response.status_code == 400
    assert "'stream': false" in response.json()["message"]


@pytest.mark.behaviour("query.agent")
async def test_invocations_agent_chat(workspace: Workspace, emulator_http: httpx.AsyncClient) -> None:
    add_endpoint(workspace, {**turbine_endpoint("ep-agent"), "task": "agent/v2/chat"})
    response = await emulator_http.post(invocations("ep-agent"), json=chat_body("book a room"))
    messages = response.json()["messages"]
    assert messages[0]["role"] == "assistant"
    assert messages[0]["content"] == "Reply from turbine_failure-1: book a room"


@pytest.mark.behaviour("config.endpoint-type-and-task", "query.chat")
async def test_invocations_model_version_task(workspace: Workspace, emulator_http: httpx.AsyncClient) -> None:
    entity = {
        "entity_name": "system.ai.meta_llama_v3_1_8b_instruct",
        "entity_version": "1",
        "provisioned_model_units": 50,
    }
    # No endpoint task: the served model version's task sets the request format.
    add_endpoint(workspace, {"name": "ep-llama", "task": None, "config": {"served_entities": [entity]}})
    assert workspace.endpoints["ep-llama"].task is None
    response = await emulator_http.post(invocations("ep-llama"), json=chat_body())
    assert response.status_code == 200
    assert response.json()["object"] == "chat.completion"


@pytest.mark.parametrize(
    "body",
    [
        {"dataframe_split": {"columns": ["vibration", "rpm", "temp_c"], "data": [[0.5, 1500.0, 60.0], [1, 2, 3]]}},
        {"dataframe_records": [TURBINE_ROW, {"vibration": 1, "rpm": 2, "temp_c": 3}]},
        {"instances": [TURBINE_ROW, {"vibration": 1, "rpm": 2, "temp_c": 3}]},
        {"inputs": {"vibration": [0.5, 1], "rpm": [1500.0, 2], "temp_c": [60.0, 3]}},
    ],
)
@pytest.mark.behaviour("query.custom-model")
async def test_invocations_custom_model_predictions(
    workspace: Workspace, emulator_http: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    add_endpoint(workspace, turbine_endpoint())
    response = await emulator_http.post(invocations("ep-turbine"), json={**body, "params": {"threshold": 1}})
    assert response.status_code == 200
    assert response.headers["served-model-name"] == "turbine_failure-1"
    assert response.json() == {"predictions": [1560, 6]}


@pytest.mark.behaviour("query.custom-model")
async def test_invocations_custom_model_double_output(workspace: Workspace, emulator_http: httpx.AsyncClient) -> None:
    add_endpoint(workspace, ab_endpoint(100))
    response = await emulator_http.post(invocations("ep-ab"), json={"dataframe_split": {"data": [[1.25], [2]]}})
    assert response.json() == {"predictions": [1.25, 2.0]}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"columns": ["x"], "data": [[1]]}, "Received keys: ['columns', 'data']"),
        ({"dataframe_records": [TURBINE_ROW], "instances": [TURBINE_ROW]}, "exactly one of"),
        ({"dataframe_records": [TURBINE_ROW], "stream": True}, "Received keys"),
        ({"messages": [{"role": "user", "content": "hi"}]}, "'dataframe_split', 'dataframe_records'"),
        ({"dataframe_records": [{"vibration": 1.0}]}, "missing required input column(s) ['rpm', 'temp_c']"),
        ({"dataframe_records": [{**TURBINE_ROW, "rpm": "fast"}]}, "column 'rpm' in row 0"),
        ({"dataframe_split": {"columns": ["vibration"], "data": [[1, 2]]}}, "'dataframe_split.data[0]' has 2 values"),
        ({"dataframe_records": []}, "contains no rows"),
        ({"dataframe_records": {"a": 1}}, "list of row objects"),
        ({"dataframe_records": [TURBINE_ROW], "params": [1]}, "'params' must be an object"),
    ],
)
@pytest.mark.behaviour("query.custom-model")
async def test_invocations_custom_model_body_rejected(
    workspace: Workspace, emulator_http: httpx.AsyncClient, body: dict[str, Any], expected: str
) -> None:
    add_endpoint(workspace, turbine_endpoint())
    response = await emulator_http.post(invocations("ep-turbine"), json=body)
    assert response.status_code == 400
    assert response.json()["error_code"] == "BAD_REQUEST"
    assert expected in response.json()["message"]


@pytest.mark.behaviour("errors.malformed-body")
async def test_invocations_body_must_be_json_object(emulator_http: httpx.AsyncClient) -> None:
    not_json = await emulator_http.post(invocations(CHAT), content=b"{oops")
    assert not_json.status_code == 400
    a_list = await emulator_http.post(invocations(CHAT), json=[1, 2])
    assert a_list.status_code == 400
    assert "JSON object" in a_list.json()["message"]


@pytest.mark.behaviour("query.traffic-split")
async def test_invocations_traffic_split_weighted(workspace: Workspace, emulator_http: httpx.AsyncClient) -> None:
    add_endpoint(workspace, ab_endpoint(90))
    answered = []
    for _ in range(100):
        response = await emulator_http.post(invocations("ep-ab"), json={"inputs": [1]})
        answered.append(response.headers["served-model-name"])
    assert answered.count("a") == 90
    assert answered.count("b") == 10
    assert answered[:10].count("b") == 1


@pytest.mark.behaviour("query.traffic-split")
async def test_invocations_traffic_split_even(workspace: Workspace, emulator_http: httpx.AsyncClient) -> None:
    add_endpoint(workspace, ab_endpoint(50))
    answered = []
    for _ in range(4):
        response = await emulator_http.post(invocations("ep-ab"), json={"inputs": [1]})
        answered.append(response.headers["served-model-name"])
    assert answered == ["a", "b", "a", "b"]


@pytest.mark.behaviour("query.traffic-split")
async def test_invocations_served_model_ignores_traffic(workspace: Workspace, emulator_http: httpx.AsyncClient) -> None:
    add_endpoint(workspace, ab_endpoint(100))
    path = "/serving-endpoints/ep-ab/served-models/b/invocations"
    for _ in range(3):
        response = await emulator_http.post(path, json={"inputs": [1]})
        assert response.status_code == 200
        assert response.headers["served-model-name"] == "b"
    split = await emulator_http.post(invocations("ep-ab"), json={"inputs": [1]})
    assert split.headers["served-model-name"] == "a"


@pytest.mark.behaviour("query.traffic-split")
async def test_invocations_unknown_served_model(workspace: Workspace, emulator_http: httpx.AsyncClient) -> None:
    add_endpoint(workspace, ab_endpoint(50))
    response = await emulator_http.post("/serving-endpoints/ep-ab/served-models/c/invocations", json={"inputs": [1]})
    assert response.status_code == 404
    assert "Served model 'c' does not exist in endpoint 'ep-ab'" in response.json()["message"]
    assert "['a', 'b']" in response.json()["message"]


@pytest.mark.parametrize("fixed", [[{"a": 1}, {"a": 2}], {"outputs": [3, 4]}, {"predictions": ["x"]}])
@pytest.mark.behaviour("query.fixed-response")
async def test_invocations_fixed_response(workspace: Workspace, emulator_http: httpx.AsyncClient, fixed: Any) -> None:
    add_endpoint(workspace, turbine_endpoint(behaviour={"response": fixed}))
    response = await emulator_http.post(invocations("ep-turbine"), json={"dataframe_records": [TURBINE_ROW]})
    assert response.status_code == 200
    assert response.json() == fixed


@pytest.mark.behaviour("query.delay")
async def test_invocations_query_delay(workspace: Workspace, emulator_http: httpx.AsyncClient) -> None:
    workspace.endpoints[CHAT].behaviour.query_delay_seconds = 0.3
    started = time.monotonic()
    response = await emulator_http.post(invocations(CHAT), json=chat_body())
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.3


@pytest.mark.behaviour("query.usage-counters")
async def test_invocations_counts_usage(workspace: Workspace, emulator_http: httpx.AsyncClient) -> None:
    await emulator_http.post(invocations(CHAT), json=chat_body())
    await emulator_http.post(invocations(CHAT), json=chat_body())
    await emulator_http.post(invocations(CHAT), json={"prompt": "x"})
    usage = workspace.endpoints[CHAT].usage_of(CHAT)
    assert usage.request_count == 3
    assert usage.request_4xx_count == 1


@pytest.mark.behaviour("permissions.enforcement")
async def test_invocations_need_can_query(workspace: Workspace, emulator_http: httpx.AsyncClient) -> None:
    add_endpoint(workspace, turbine_endpoint())
    body = {"dataframe_records": [TURBINE_ROW]}
    bob = {"Authorization": "Bearer dapi-emulator-bob"}
    denied = await emulator_http.post(invocations("ep-turbine"), json=body, headers=bob)
    assert denied.status_code == 403
    assert "Query" in denied.json()["message"]
    workspace.endpoints["ep-turbine"].acl["user_name:bob@example.com"] = "CAN_QUERY"
    allowed = await emulator_http.post(invocations("ep-turbine"), json=body, headers=bob)
    assert allowed.status_code == 200
