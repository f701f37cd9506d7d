"""The admin API under /__emulator__/: request log, clock, scenarios and endpoint behaviour."""

import dataclasses
from collections.abc import AsyncIterator

import httpx
import pytest

from emulator import SANDBOX_TOKEN, Workspace, create_app
from emulator.behaviour_rules import FIELD_CHECKS
from emulator.state import EndpointBehaviour

pytestmark = pytest.mark.anyio

ADMIN = "/__emulator__"
FM_ENDPOINT = "databricks-claude-sonnet-4"


@pytest.fixture
async def admin(workspace: Workspace) -> AsyncIterator[httpx.AsyncClient]:
    """In-process client without credentials: the admin API needs none."""
    transport = httpx.ASGITransport(app=create_app(workspace))
    async with httpx.AsyncClient(transport=transport, base_url="http://emulator.local") as http:
        yield http


@pytest.mark.behaviour("admin.request-log")
async def test_admin_request_log_filters(admin: httpx.AsyncClient, emulator_http: httpx.AsyncClient) -> None:
    await emulator_http.get("/api/2.0/serving-endpoints")
    await emulator_http.get(f"/api/2.0/serving-endpoints/{FM_ENDPOINT}")
    await emulator_http.delete("/api/2.0/serving-endpoints/missing")
    everything = (await admin.get(f"{ADMIN}/requests")).json()
    assert [r["path"] for r in everything["requests"]] == [
        "/api/2.0/serving-endpoints",
        f"/api/2.0/serving-endpoints/{FM_ENDPOINT}",
        "/api/2.0/serving-endpoints/missing",
    ]
    assert [r["index"] for r in everything["requests"]] == [0, 1, 2]
    assert everything["next_index"] == 3
    assert everything["requests"][0]["principal"] == "sandbox@example.com"
    assert "authorization" not in everything["requests"][0]["headers"]
    deletes = (await admin.get(f"{ADMIN}/requests", params={"method": "delete"})).json()["requests"]
    assert [(r["method"], r["status"]) for r in deletes] == [("DELETE", 404)]
    prefixed = (await admin.get(f"{ADMIN}/requests", params={"path_prefix": "/api/2.0/serving-endpoints/"})).json()
    assert len(prefixed["requests"]) == 2
    since = (await admin.get(f"{ADMIN}/requests", params={"since": 2})).json()["requests"]
    assert [r["index"] for r in since] == [2]


@pytest.mark.behaviour("admin.request-log")
async def test_admin_request_log_invalid_since(admin: httpx.AsyncClient) -> None:
    response = await admin.get(f"{ADMIN}/requests", params={"since": "-1"})
    assert response.status_code == 400
    assert "'since'" in response.json()["message"]


@pytest.mark.behaviour("admin.request-log")
async def test_admin_request_log_clear(
    admin: httpx.AsyncClient, emulator_http: httpx.AsyncClient, workspace: Workspace
) -> None:
    await emulator_http.get("/api/2.0/serving-endpoints")
    response = await admin.delete(f"{ADMIN}/requests")
    assert response.json() == {"removed": 1}
    assert workspace.request_log == []
    assert (await admin.get(f"{ADMIN}/requests")).json() == {"requests": [], "next_index": 0}


@pytest.mark.behaviour("admin.clock")
async def test_admin_clock_advance(admin: httpx.AsyncClient, workspace: Workspace) -> None:
    before = workspace.clock.now_ms()
    response = await admin.post(f"{ADMIN}/clock/advance", json={"seconds": 90})
    assert response.status_code == 200
    assert response.json()["now_ms"] == before + 90_000
    assert workspace.clock.now_ms() == before + 90_000


@pytest.mark.behaviour("admin.clock")
async def test_admin_clock_advance_invalid(admin: httpx.AsyncClient, workspace: Workspace) -> None:
    before = workspace.clock.now_ms()
    for body in ({"seconds": -5}, {"seconds": "10"}, {}):
        response = await admin.post(f"{ADMIN}/clock/advance", json=body)
        assert response.status_code == 400, body
        assert "'seconds' must be a number >= 0" in response.json()["message"]
    assert workspace.clock.now_ms() == before


@pytest.mark.behaviour("admin.clock")
async def test_admin_clock_time_scale(admin: httpx.AsyncClient, workspace: Workspace) -> None:
    response = await admin.put(f"{ADMIN}/clock", json={"time_scale": 60})
    assert response.status_code == 200
    assert response.json()["time_scale"] == 60
    assert workspace.clock.time_scale == 60
    assert (await admin.get(f"{ADMIN}/clock")).json()["time_scale"] == 60


@pytest.mark.behaviour("admin.scenario", "scenario.format")
async def test_admin_scenario_applies(admin: httpx.AsyncClient, workspace: Workspace) -> None:
    scenario = {
        "principals": [{"token": "dapi-carol", "name": "carol@example.com", "groups": ["users"]}],
        "models": [{"name": "main.default.fresh", "versions": [{"version": 1}]}],
        "faults": [{"kind": "status", "status": 503, "path": "^/api/2.0/serving-endpoints$", "count": 1}],
    }
    response = await admin.post(f"{ADMIN}/scenario", json=scenario)
    assert response.status_code == 200, response.text
    assert workspace.tokens["dapi-carol"].name == "carol@example.com"
    assert 1 in workspace.models["main.default.fresh"].versions
    headers = {"Authorization": "Bearer dapi-carol"}
    assert (await admin.get("/api/2.0/serving-endpoints", headers=headers)).status_code == 503
    assert (await admin.get("/api/2.0/serving-endpoints", headers=headers)).status_code == 200


@pytest.mark.behaviour("admin.scenario")
async def test_admin_scenario_invalid_applies_nothing(admin: httpx.AsyncClient, workspace: Workspace) -> None:
    tokens_before = dict(workspace.tokens)
    models_before = set(workspace.models)
    scenario = {
        "principals": [{"token": "dapi-carol", "name": "carol@example.com"}],
        "models": [{"name": "main.default.fresh", "versions": [{"version": 1}]}],
        "faults": [{"kind": "explode"}],
    }
    response = await admin.post(f"{ADMIN}/scenario", json=scenario)
    assert response.status_code == 400
    assert "nothing was applied" in response.json()["message"]
    assert "'explode'" in response.json()["message"]
    assert workspace.tokens == tokens_before
    assert set(workspace.models) == models_before
    assert workspace.faults == []


@pytest.mark.behaviour("admin.scenario")
async def test_admin_scenario_missing_field(admin: httpx.AsyncClient, workspace: Workspace) -> None:
    response = await admin.post(f"{ADMIN}/scenario", json={"models": [{"versions": []}]})
    assert response.status_code == 400
    assert "missing field 'name'" in response.json()["message"]


@pytest.mark.behaviour("admin.scenario", "admin.clock")
async def test_admin_scenario_time_scale(admin: httpx.AsyncClient, workspace: Workspace) -> None:
    response = await admin.post(f"{ADMIN}/scenario", json={"time_scale": 10})
    assert response.status_code == 200
    assert workspace.clock.time_scale == 10


@pytest.mark.behaviour("admin.behaviour")
async def test_admin_behaviour_sets_fields(admin: httpx.AsyncClient, workspace: Workspace) -> None:
    body = {"deploy_seconds": 5, "next_update_outcome": "failed", "next_update_message": "Out of GPUs."}
    response = await admin.put(f"{ADMIN}/endpoints/{FM_ENDPOINT}/behaviour", json=body)
    assert response.status_code == 200
    assert response.json()["deploy_seconds"] == 5
    behaviour = workspace.endpoints[FM_ENDPOINT].behaviour
    assert behaviour.deploy_seconds == 5
    assert behaviour.next_update_outcome == "failed"
    assert behaviour.next_update_message == "Out of GPUs."
    # Fields left out of the request keep their values.
    response = await admin.put(f"{ADMIN}/endpoints/{FM_ENDPOINT}/behaviour", json={"query_delay_seconds": 0.5})
    assert response.status_code == 200
    current = workspace.endpoints[FM_ENDPOINT].behaviour
    assert current.deploy_seconds == 5
    assert current.next_update_outcome == "failed"
    assert current.query_delay_seconds == 0.5


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"deploy_secs": 5}, "Unknown behaviour field 'deploy_secs'"),
        ({"deploy_seconds": -1}, "'deploy_seconds' must be a number >= 0"),
        ({"next_update_outcome": "exploded"}, "'next_update_outcome' must be one of"),
        ({"logs": 42}, "'logs' must be a string"),
        ({"next_update_message": None}, "'next_update_message' must be a string"),
        ({"stream_chunk_delay_seconds": "fast"}, "'stream_chunk_delay_seconds' must be a number >= 0"),
        ({"stream_sse_variations": "yes"}, "'stream_sse_variations' must be true or false"),
        ({"stream_break_after_chunks": -1}, "'stream_break_after_chunks' must be an integer >= 0"),
        ({"stream_break_after_chunks": 1.5}, "'stream_break_after_chunks' must be an integer >= 0"),
        ({"stream_break_mode": "explode"}, "'stream_break_mode' must be one of ['disconnect', 'truncate']"),
        ({"workspace_qps_limit": 0}, "'workspace_qps_limit' must be an integer >= 1"),
        ({"workspace_qps_limit": "10"}, "'workspace_qps_limit' must be an integer >= 1"),
    ],
)
@pytest.mark.behaviour("admin.behaviour")
async def test_admin_behaviour_invalid(
    admin: httpx.AsyncClient, workspace: Workspace, body: dict[str, object], expected: str
) -> None:
    before = workspace.endpoints[FM_ENDPOINT].behaviour
    response = await admin.put(f"{ADMIN}/endpoints/{FM_ENDPOINT}/behaviour", json=body)
    assert response.status_code == 400
    assert expected in response.json()["message"]
    assert workspace.endpoints[FM_ENDPOINT].behaviour == before


@pytest.mark.behaviour("admin.behaviour")
def test_admin_behaviour_checks_every_knob() -> None:
    knobs = {f.name for f in dataclasses.fields(EndpointBehaviour)}
    assert set(FIELD_CHECKS) == knobs


@pytest.mark.behaviour("admin.behaviour", "streaming.sse")
async def test_admin_bad_stream_knob_keeps_serving(admin: httpx.AsyncClient, emulator_http: httpx.AsyncClient) -> None:
    rejected = await admin.put(f"{ADMIN}/endpoints/{FM_ENDPOINT}/behaviour", json={"stream_break_after_chunks": "2"})
    assert rejected.status_code == 400
    body = {"messages": [{"role": "user", "content": "hi"}], "stream": True}
    response = await emulator_http.post(f"/serving-endpoints/{FM_ENDPOINT}/invocations", json=body)
    assert response.status_code == 200
    assert response.text.endswith("data: [DONE]\n\n")


@pytest.mark.behaviour("admin.scenario", "admin.behaviour")
async def test_admin_scenario_bad_knob_rejected(admin: httpx.AsyncClient, workspace: Workspace) -> None:
    endpoint = {
        "name": "ep-knob",
        "config": {"served_entities": [{"entity_name": "main.default.demo_model", "entity_version": "1"}]},
        "behaviour": {"workspace_qps_limit": "lots"},
    }
    response = await admin.post(f"{ADMIN}/scenario", json={"endpoints": [endpoint]})
    assert response.status_code == 400
    assert "'workspace_qps_limit' must be an integer >= 1" in response.json()["message"]
    assert "ep-knob" not in workspace.endpoints


@pytest.mark.behaviour("admin.behaviour")
async def test_admin_behaviour_unknown_endpoint(admin: httpx.AsyncClient) -> None:
    response = await admin.put(f"{ADMIN}/endpoints/nope/behaviour", json={"deploy_seconds": 1})
    assert response.status_code == 404
    assert "'nope'" in response.json()["message"]


@pytest.mark.behaviour("admin.request-log")
async def test_admin_calls_not_logged(admin: httpx.AsyncClient, workspace: Workspace) -> None:
    await admin.get(f"{ADMIN}/clock")
    await admin.get(f"{ADMIN}/requests")
    assert workspace.request_log == []


@pytest.mark.behaviour("admin.no-auth", "auth.bearer-token")
async def test_admin_prefix_is_the_only_public_api(admin: httpx.AsyncClient) -> None:
    response = await admin.get("/api/2.0/serving-endpoints")
    assert response.status_code == 401
    authorized = await admin.get("/api/2.0/serving-endpoints", headers={"Authorization": f"Bearer {SANDBOX_TOKEN}"})
    assert authorized.status_code == 200
