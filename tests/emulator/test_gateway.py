"""AI gateway enforcement on the scoring routes: rate limits, workspace QPS, guardrails, usage tracking."""

from typing import Any

import httpx
import pytest

from emulator import SANDBOX_USER, Workspace, apply_scenario
from emulator.gateway import usage_by_principal

pytestmark = pytest.mark.anyio

CHAT = "databricks-claude-sonnet-4"
PATH = f"/serving-endpoints/{CHAT}/invocations"
ALICE = {"Authorization": "Bearer dapi-emulator-alice"}
BOB = {"Authorization": "Bearer dapi-emulator-bob"}
SERVICE_PRINCIPAL = {"Authorization": "Bearer dapi-emulator-sp"}
SP_ID = "8f2c6a1e-0d3b-4c57-9e2a-5b7d1c9e4f60"


def set_gateway(workspace: Workspace, config: dict[str, Any], name: str = CHAT) -> None:
    """Store an AI gateway config in the shape PUT .../ai-gateway stores it."""
    workspace.endpoints[name].ai_gateway = config


def limits(*items: dict[str, Any]) -> dict[str, Any]:
    return {"rate_limits": [{"renewal_period": "minute", **item} for item in items]}


def chat(content: str = "hello") -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": content}]}


async def statuses(http: httpx.AsyncClient, count: int, headers: dict[str, str] | None = None) -> list[int]:
    return [(await http.post(PATH, json=chat(), headers=headers)).status_code for _ in range(count)]


@pytest.mark.behaviour("gateway.rate-limits", "errors.retry-after")
async def test_gateway_endpoint_calls_limit(workspace: Workspace, emulator_http: httpx.AsyncClient) -> None:
    set_gateway(workspace, limits({"key": "endpoint", "calls": 2}))
    assert await statuses(emulator_http, 2) == [200, 200]
    limited = await emulator_http.post(PATH, json=chat())
    assert limited.status_code == 429
    assert limited.json()["error_code"] == "REQUEST_LIMIT_EXCEEDED"
    assert "2 calls per minute for the endpoint" in limited.json()["message"]
    assert limited.headers["Retry-After"] == "60"
    workspace.clock.advance(45)
    assert (await emulator_http.post(PATH, json=chat())).headers["Retry-After"] == "15"
    workspace.clock.advance(15)
    assert await statuses(emulator_http, 3) == [200, 200, 429]


@pytest.mark.behaviour("gateway.rate-limits")
async def test_gateway_user_limit_per_principal(workspace: Workspace, emulator_http: httpx.AsyncClient) -> None:
    set_gateway(workspace, limits({"key": "user", "principal": "alice@example.com", "calls": 1}))
    assert await statuses(emulator_http, 2, ALICE) == [200, 429]
    limited = await emulator_http.post(PATH, json=chat(), headers=ALICE)
    assert "user 'alice@example.com'" in limited.json()["message"]
    assert await statuses(emulator_http, 3, BOB) == [200, 200, 200]


@pytest.mark.behaviour("gateway.rate-limits")
async def test_gateway_named_user_overrides_default(workspace: Workspace, emulator_http: httpx.AsyncClient) -> None:
    set_gateway(
        workspace, limits({"key": "user", "calls": 1}, {"key": "user", "principal": "alice@example.com", "calls": 3})
    )
    assert await statuses(emulator_http, 4, ALICE) == [200, 200, 200, 429]
    assert await statuses(emulator_http, 2, BOB) == [200, 429]


@pytest.mark.behaviour("gateway.rate-limits")
async def test_gateway_group_limit_shared(workspace: Workspace, emulator_http: httpx.AsyncClient) -> None:
    set_gateway(workspace, limits({"key": "user_group", "principal": "data-team", "calls": 1}))
    assert await statuses(emulator_http, 1, ALICE) == [200]
    limited = await emulator_http.post(PATH, json=chat(), headers=ALICE)
    assert limited.status_code == 429
    assert "group 'data-team'" in limited.json()["message"]
    assert await statuses(emulator_http, 2, BOB) == [200, 200]


@pytest.mark.behaviour("gateway.rate-limits")
async def test_gateway_service_principal_limit(workspace: Workspace, emulator_http: httpx.AsyncClient) -> None:
    set_gateway(workspace, limits({"key": "service_principal", "principal": SP_ID, "calls": 1}))
    assert await statuses(emulator_http, 2, SERVICE_PRINCIPAL) == [200, 429]
    assert await statuses(emulator_http, 2, ALICE) == [200, 200]


@pytest.mark.behaviour("gateway.rate-limits")
async def test_gateway_rejected_call_not_counted(workspace: Workspace, emulator_http: httpx.AsyncClient) -> None:
    set_gateway(
        workspace,
        limits({"key": "endpoint", "calls": 3}, {"key": "user", "principal": "alice@example.com", "calls": 1}),
    )
    assert await statuses(emulator_http, 2, ALICE) == [200, 429]
    assert await statuses(emulator_http, 3, BOB) == [200, 200, 429]


@pytest.mark.behaviour("gateway.rate-limits")
async def test_gateway_tokens_limit(workspace: Workspace, emulator_http: httpx.AsyncClient) -> None:
    set_gateway(workspace, limits({"key": "endpoint", "tokens": 10}))
    first = await emulator_http.post(PATH, json=chat("a long question with many words in it"))
    assert first.status_code == 200
    assert first.json()["usage"]["total_tokens"] > 10
    limited = await emulator_http.post(PATH, json=chat())
    assert limited.status_code == 429
    assert "10 tokens per minute" in limited.json()["message"]
    workspace.clock.advance(60)
    assert (await emulator_http.post(PATH, json=chat())).status_code == 200


@pytest.mark.behaviour("gateway.rate-limits", "rate-limits.legacy")
async def test_gateway_legacy_rate_limits(workspace: Workspace, emulator_http: httpx.AsyncClient) -> None:
    workspace.endpoints[CHAT].rate_limits = [{"calls": 1, "key": "endpoint", "renewal_period": "minute"}]
    assert await statuses(emulator_http, 2) == [200, 429]


@pytest.mark.behaviour("gateway.rate-limits", "gateway.config")
async def test_gateway_limit_set_through_api(workspace: Workspace, emulator_http: httpx.AsyncClient) -> None:
    apply_scenario(
        workspace,
        {
            "endpoints": [
                {
                    "name": "ep-gw",
                    "config": {
                        "served_entities": [
                            {
                                "name": "chat",
                                "external_model": {
                                    "name": "gpt-x",
                                    "provider": "openai",
                                    "task": "llm/v1/chat",
                                    "openai_config": {"openai_api_key": "{{secrets/scope/key}}"},
                                },
                            }
                        ]
                    },
                }
            ]
        },
    )
    put = await emulator_http.put(
        "/api/2.0/serving-endpoints/ep-gw/ai-gateway",
        json=limits({"key": "endpoint", "calls": 1}),
    )
    assert put.status_code == 200
    path = "/serving-endpoints/ep-gw/invocations"
    assert (await emulator_http.post(path, json=chat())).status_code == 200
    assert (await emulator_http.post(path, json=chat())).status_code == 429


@pytest.mark.behaviour("gateway.workspace-qps", "errors.retry-after")
async def test_gateway_workspace_qps_limit(workspace: Workspace, emulator_http: httpx.AsyncClient) -> None:
    workspace.endpoints[CHAT].behaviour.workspace_qps_limit = 2
    assert await statuses(emulator_http, 2) == [200, 200]
    limited = await emulator_http.post(PATH, json=chat())
    assert limited.status_code == 429
    assert limited.json()["message"] == (
        f"Exceeded workspace QPS rate limit for {CHAT}. Please use a provisioned throughput Foundation Model "
        "APIs endpoint for a higher rate limit."
    )
    assert limited.headers["Retry-After"] == "1"
    workspace.clock.advance(1)
    assert await statuses(emulator_http, 1) == [200]


@pytest.mark.behaviour("gateway.workspace-qps")
async def test_gateway_qps_limit_only_pay_per_token(workspace: Workspace, emulator_http: httpx.AsyncClient) -> None:
    entity = {"entity_name": "main.default.demo_model", "entity_version": "1", "scale_to_zero_enabled": True}
    item = {"name": "ep-custom", "config": {"served_entities": [entity]}, "behaviour": {"workspace_qps_limit": 1}}
    apply_scenario(workspace, {"endpoints": [item]})
    for _ in range(3):
        response = await emulator_http.post("/serving-endpoints/ep-custom/invocations", json={"inputs": [1]})
        assert response.status_code == 200


@pytest.mark.behaviour("gateway.rate-limits")
async def test_gateway_limit_counts_4xx(workspace: Workspace, emulator_http: httpx.AsyncClient) -> None:
    set_gateway(workspace, limits({"key": "endpoint", "calls": 1}))
    await statuses(emulator_http, 2)
    usage = workspace.endpoints[CHAT].usage_of(CHAT)
    assert usage.request_count == 2
    assert usage.request_4xx_count == 1


@pytest.mark.behaviour("gateway.usage-tracking")
async def test_gateway_usage_tracking(workspace: Workspace, emulator_http: httpx.AsyncClient) -> None:
    set_gateway(workspace, {"usage_tracking_config": {"enabled": True}})
    first = (await emulator_http.post(PATH, json=chat("one two"))).json()["usage"]
    await emulator_http.post(PATH, json=chat("three"), headers=ALICE)
    await emulator_http.post(PATH, json=chat("four"), headers=ALICE)
    usage = usage_by_principal(workspace.endpoints[CHAT])
    assert sorted(usage) == ["alice@example.com", SANDBOX_USER]
    assert usage[SANDBOX_USER]["requests"] == 1
    assert usage[SANDBOX_USER]["prompt_tokens"] == first["prompt_tokens"]
    assert usage[SANDBOX_USER]["completion_tokens"] == first["completion_tokens"]
    assert usage["alice@example.com"]["requests"] == 2


@pytest.mark.behaviour("gateway.usage-tracking")
async def test_gateway_usage_tracking_off(workspace: Workspace, emulator_http: httpx.AsyncClient) -> None:
    set_gateway(workspace, {"usage_tracking_config": {"enabled": False}})
    await emulator_http.post(PATH, json=chat())
    assert usage_by_principal(workspace.endpoints[CHAT]) == {}


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("mail me at jane.doe@example.com", "1 email address"),
        ("call (555) 123-4567 or +1 555.987.6543", "2 phone numbers"),
        ("a@b.io and c@d.io, phone 555-123-4567", "2 email addresses and 1 phone number"),
    ],
)
@pytest.mark.behaviour("gateway.pii")
async def test_gateway_pii_block(
    workspace: Workspace, emulator_http: httpx.AsyncClient, content: str, expected: str
) -> None:
    set_gateway(workspace, {"guardrails": {"input": {"pii": {"behavior": "BLOCK"}}}})
    response = await emulator_http.post(PATH, json=chat(content))
    assert response.status_code == 400
    assert response.json()["error_code"] == "BAD_REQUEST"
    assert f"personal data ({expected})" in response.json()["message"]


@pytest.mark.behaviour("gateway.pii")
async def test_gateway_pii_block_passes_clean(workspace: Workspace, emulator_http: httpx.AsyncClient) -> None:
    set_gateway(workspace, {"guardrails": {"input": {"pii": {"behavior": "BLOCK"}}}})
    response = await emulator_http.post(PATH, json=chat("order 1234567890123456 costs 12.50"))
    assert response.status_code == 200


@pytest.mark.behaviour("gateway.pii")
async def test_gateway_pii_mask(workspace: Workspace, emulator_http: httpx.AsyncClient) -> None:
    set_gateway(workspace, {"guardrails": {"input": {"pii": {"behavior": "MASK"}}}})
    response = await emulator_http.post(PATH, json=chat("reach jane@example.com or 555-123-4567"))
    content = response.json()["choices"][0]["message"]["content"]
    assert content == f"Reply from {CHAT}: reach [EMAIL_ADDRESS] or [PHONE_NUMBER]"


@pytest.mark.behaviour("gateway.pii")
async def test_gateway_output_pii_block(workspace: Workspace, emulator_http: httpx.AsyncClient) -> None:
    set_gateway(workspace, {"guardrails": {"output": {"pii": {"behavior": "BLOCK"}}}})
    response = await emulator_http.post(PATH, json=chat("echo jane@example.com"))
    assert response.status_code == 400
    assert "Output blocked" in response.json()["message"]


@pytest.mark.behaviour("gateway.pii", "streaming.sse")
async def test_gateway_output_pii_mask_stream(workspace: Workspace, emulator_http: httpx.AsyncClient) -> None:
    set_gateway(workspace, {"guardrails": {"output": {"pii": {"behavior": "MASK"}}}})
    response = await emulator_http.post(PATH, json={**chat("echo jane@example.com"), "stream": True})
    assert "jane@example.com" not in response.text
    assert "[EMAIL_ADDRESS]" in response.text


@pytest.mark.behaviour("gateway.invalid-keywords")
async def test_gateway_invalid_keywords(workspace: Workspace, emulator_http: httpx.AsyncClient) -> None:
    set_gateway(workspace, {"guardrails": {"input": {"invalid_keywords": ["Project X"]}}})
    response = await emulator_http.post(PATH, json=chat("tell me about project x"))
    assert response.status_code == 400
    assert "invalid keyword 'Project X'" in response.json()["message"]
