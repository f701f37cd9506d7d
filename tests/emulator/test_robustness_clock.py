"""Huge time values: clock advances, time scales and behaviour knobs near the float maximum.

Virtual time is read by every request (the request log stamps it), so a clock that overflows to
infinity would fail every later request. Each case must be rejected or clamped with the emulator
still serving.
"""

import httpx
import pytest

from emulator import Clock, Workspace
from emulator.clock import MAX_TIME_MS

pytestmark = pytest.mark.anyio

APP_ENDPOINT = "databricks-app-template-serving"
TURBINE = {"entity_name": "main.default.turbine_failure", "entity_version": "1", "scale_to_zero_enabled": True}


async def assert_serving(http: httpx.AsyncClient) -> None:
    response = await http.get(f"/api/2.0/serving-endpoints/{APP_ENDPOINT}")
    assert response.status_code == 200, response.text


@pytest.mark.behaviour("admin.clock")
@pytest.mark.parametrize("seconds", [1e308, 1e15, 2.6e11])
async def test_clock_advance_past_year_9999(
    emulator_http: httpx.AsyncClient, workspace: Workspace, seconds: float
) -> None:
    before = workspace.clock.now_ms()
    response = await emulator_http.post("/__emulator__/clock/advance", json={"seconds": seconds})
    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "year 9999" in response.json()["message"]
    assert workspace.clock.now_ms() == before
    await assert_serving(emulator_http)


@pytest.mark.behaviour("admin.clock", "logs.server-logs")
async def test_clock_at_maximum_serves_logs(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    created = await emulator_http.post(
        "/api/2.0/serving-endpoints", json={"name": "ep-late", "config": {"served_entities": [TURBINE]}}
    )
    assert created.status_code == 200
    left_seconds = (MAX_TIME_MS - workspace.clock.now_ms()) // 1000 - 1
    advanced = await emulator_http.post("/__emulator__/clock/advance", json={"seconds": left_seconds})
    assert advanced.status_code == 200, advanced.text
    query = await emulator_http.post("/serving-endpoints/ep-late/invocations", json={"inputs": [[1, 2]]})
    assert query.status_code == 200
    logs = await emulator_http.get("/api/2.0/serving-endpoints/ep-late/served-models/turbine_failure-1/logs")
    assert logs.status_code == 200
    assert "9999-12-31T23:59:5" in logs.json()["logs"]


@pytest.mark.behaviour("admin.clock")
async def test_clock_huge_scale_clamped(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    response = await emulator_http.put("/__emulator__/clock", json={"time_scale": 1e308})
    assert response.status_code == 200
    assert workspace.clock.now_ms() <= MAX_TIME_MS
    await assert_serving(emulator_http)
    stopped = await emulator_http.put("/__emulator__/clock", json={"time_scale": 0})
    assert stopped.status_code == 200
    assert stopped.json()["now_ms"] <= MAX_TIME_MS


@pytest.mark.behaviour("admin.clock")
def test_clock_rejects_nonfinite() -> None:
    clock = Clock(time_scale=0, start_ms=0)
    for bad in (float("nan"), float("inf")):
        with pytest.raises(ValueError, match="finite"):
            clock.advance(bad)
        with pytest.raises(ValueError, match="finite"):
            clock.set_time_scale(bad)
    assert clock.now_ms() == 0


@pytest.mark.behaviour("admin.clock")
def test_clock_stops_at_maximum() -> None:
    clock = Clock(time_scale=1_000_000, start_ms=MAX_TIME_MS)
    assert clock.now_ms() == MAX_TIME_MS


@pytest.mark.behaviour("admin.scenario", "admin.clock")
async def test_scenario_huge_time_scale(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    response = await emulator_http.post(
        "/__emulator__/scenario",
        json={"time_scale": 1e308, "principals": [{"name": "carol@example.com", "token": "dapi-carol"}]},
    )
    assert response.status_code == 200
    assert workspace.clock.now_ms() <= MAX_TIME_MS
    await assert_serving(emulator_http)


@pytest.mark.behaviour("admin.behaviour", "state.deploy-delay")
@pytest.mark.parametrize("knob", ["deploy_seconds", "warmup_seconds", "query_delay_seconds"])
async def test_behaviour_huge_seconds_rejected(
    emulator_http: httpx.AsyncClient, workspace: Workspace, knob: str
) -> None:
    response = await emulator_http.put(f"/__emulator__/endpoints/{APP_ENDPOINT}/behaviour", json={knob: 1e308})
    assert response.status_code == 400
    assert f"'{knob}' must be a number >= 0 and <= 1e+09" in response.json()["message"]
    assert getattr(workspace.endpoints[APP_ENDPOINT].behaviour, knob) < 1e9


@pytest.mark.behaviour("admin.behaviour", "state.deploy-delay")
async def test_behaviour_max_deploy_update(emulator_http: httpx.AsyncClient) -> None:
    created = await emulator_http.post(
        "/api/2.0/serving-endpoints", json={"name": "ep-slow", "config": {"served_entities": [TURBINE]}}
    )
    assert created.status_code == 200
    knob = await emulator_http.put("/__emulator__/endpoints/ep-slow/behaviour", json={"deploy_seconds": 1e9})
    assert knob.status_code == 200
    await emulator_http.post("/__emulator__/clock/advance", json={"seconds": 1e9})
    update = await emulator_http.put(
        "/api/2.0/serving-endpoints/ep-slow/config", json={"served_entities": [{**TURBINE, "workload_size": "Medium"}]}
    )
    assert update.status_code == 200, update.text
    assert update.json()["state"]["config_update"] == "IN_PROGRESS"
