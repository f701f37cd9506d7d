"""Admin API inputs of the wrong type: fault specs and scenario documents.

A bad fault spec adds nothing. A bad scenario document changes nothing, whichever item is wrong,
and cannot store a value that makes a later API request fail.
"""

from typing import Any

import httpx
import pytest
from anyio import fail_after

from emulator import Workspace
from emulator.state import EntityUsage

pytestmark = pytest.mark.anyio

FAULTS = "/__emulator__/faults"
SCENARIO = "/__emulator__/scenario"
TURBINE = {"entity_name": "main.default.turbine_failure", "entity_version": "1", "scale_to_zero_enabled": True}
# A valid item of each kind: a bad document must not apply these either.
CAROL = {"name": "carol@example.com", "token": "dapi-carol"}
GOOD_MODEL = {"name": "main.default.good_model", "versions": [{"version": 1}]}


@pytest.mark.behaviour("faults.admin")
@pytest.mark.parametrize(
    ("field", "value"),
    [("path", 5), ("path", True), ("path", ["^/api"]), ("method", ["GET"]), ("endpoint", 7), ("message", {"a": 1})],
)
async def test_fault_field_type_rejected(
    emulator_http: httpx.AsyncClient, workspace: Workspace, field: str, value: Any
) -> None:
    response = await emulator_http.post(FAULTS, json={"kind": "status", field: value})
    assert response.status_code == 400
    assert f"'{field}' must be a string or null" in response.json()["message"]
    assert workspace.faults == []
    follow_up = await emulator_http.get("/api/2.0/serving-endpoints")
    assert follow_up.status_code == 200


@pytest.mark.behaviour("faults.admin")
@pytest.mark.parametrize("kind", ["html", "malformed_json", "timeout"])
@pytest.mark.parametrize("status", [100, 101, 204, 205, 304, 600])
async def test_fault_bodyless_status_rejected(
    emulator_http: httpx.AsyncClient, workspace: Workspace, kind: str, status: int
) -> None:
    response = await emulator_http.post(FAULTS, json={"kind": kind, "status": status, "seconds": 0})
    assert response.status_code == 400
    assert "'status' must be an HTTP status code from 200 to 599" in response.json()["message"]
    assert workspace.faults == []


def scenario_snapshot(workspace: Workspace) -> dict[str, Any]:
    return {
        "host_name": workspace.host_name,
        "cloud": workspace.cloud,
        "workspace_id": workspace.workspace_id,
        "workload_types": workspace.workload_types,
        "endpoints": set(workspace.endpoints),
        "models": set(workspace.models),
        "tokens": set(workspace.tokens),
        "faults": len(workspace.faults),
        "time_scale": workspace.clock.time_scale,
    }


def endpoint(**fields: Any) -> dict[str, Any]:
    return {"name": "ep-scenario", "config": {"served_entities": [TURBINE]}, **fields}


INVALID_SCENARIOS: dict[str, tuple[dict[str, Any], str]] = {
    "workspace list": ({"workspace": ["aws"]}, "'workspace' must be a mapping"),
    "cloud list": ({"workspace": {"cloud": ["aws"]}}, "workspace.cloud"),
    "cloud unknown": ({"workspace": {"cloud": "mars"}}, "workspace.cloud"),
    "workload types text": ({"workspace": {"workload_types": "CPU"}}, "workspace.workload_types"),
    "workload type unknown": ({"workspace": {"workload_types": ["TPU"]}}, "workspace.workload_types"),
    "host name number": ({"workspace": {"host_name": 5}}, "workspace.host_name"),
    "principals mapping": ({"principals": {"name": "x"}}, "'principals' must be a list"),
    "principal number": ({"principals": [5]}, "principals[0]"),
    "principal groups text": ({"principals": [{**CAROL, "name": "dan@x", "groups": "admins"}]}, "groups"),
    "principal kind": ({"principals": [{**CAROL, "name": "dan@x", "kind": "robot"}]}, "kind"),
    "model number": ({"models": [5]}, "models[0]"),
    "model two-level name": ({"models": [{"name": "main.bad"}]}, "three-level"),
    "model aliases list": ({"models": [{**GOOD_MODEL, "name": "main.default.m2", "aliases": [1]}]}, "aliases"),
    "model alias to missing version": (
        {"models": [{**GOOD_MODEL, "name": "main.default.m2", "aliases": {"prod": 9}}]},
        "version 9",
    ),
    "model version huge": (
        {"models": [{"name": "main.default.m2", "versions": [{"version": 2**70}]}]},
        "version",
    ),
    "endpoints mapping": ({"endpoints": {"name": "x"}}, "'endpoints' must be a list"),
    "endpoint number": ({"endpoints": [5]}, "endpoints[0]"),
    "endpoint id": ({"endpoints": [endpoint(id="not-hex")]}, "id"),
    "endpoint task list": ({"endpoints": [endpoint(task=["llm/v1/chat"])]}, "task"),
    "endpoint gateway list": ({"endpoints": [endpoint(ai_gateway=[{}])]}, "ai_gateway"),
    "endpoint gateway limit": (
        {"endpoints": [endpoint(ai_gateway={"rate_limits": [{"calls": "many", "renewal_period": "minute"}]})]},
        "calls",
    ),
    "endpoint legacy limits": ({"endpoints": [endpoint(rate_limits={"calls": 1})]}, "rate_limits"),
    "endpoint tags mapping": ({"endpoints": [endpoint(tags={"team": "ml"})]}, "tags"),
    "endpoint description list": ({"endpoints": [endpoint(description=["x"])]}, "description"),
    "endpoint usage count text": (
        {"endpoints": [endpoint(usage={"turbine_failure-1": {"request_count": "ten"}})]},
        "request_count",
    ),
    "endpoint usage latencies": (
        {"endpoints": [endpoint(usage={"turbine_failure-1": {"request_count": 2, "latencies_ms": []}})]},
        "latencies_ms",
    ),
    "faults mapping": ({"faults": {"kind": "status"}}, "'faults' must be a list"),
    "time scale text": ({"time_scale": "fast"}, "'time_scale' must be a number"),
}


@pytest.mark.behaviour("admin.scenario", "scenario.format")
@pytest.mark.parametrize(("document", "expected"), INVALID_SCENARIOS.values(), ids=INVALID_SCENARIOS.keys())
async def test_scenario_invalid_applies_nothing(
    emulator_http: httpx.AsyncClient, workspace: Workspace, document: dict[str, Any], expected: str
) -> None:
    before = scenario_snapshot(workspace)
    valid_workspace = {"workload_types": ["CPU"], "cloud": "gcp"}
    complete = {
        "time_scale": 10,
        "workspace": valid_workspace,
        "principals": [CAROL],
        "models": [GOOD_MODEL],
        **document,
    }
    response = await emulator_http.post(SCENARIO, json=complete)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error_code"] == "INVALID_PARAMETER_VALUE"
    assert body["message"].startswith("Scenario is invalid, nothing was applied")
    assert expected in body["message"]
    assert scenario_snapshot(workspace) == before
    for path in ("/api/2.0/serving-endpoints", "/api/2.1/unity-catalog/models", "/.well-known/databricks-config"):
        follow_up = await emulator_http.get(path)
        assert follow_up.status_code == 200, path


@pytest.mark.behaviour("admin.scenario", "scenario.format")
async def test_scenario_workload_types_restored(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    document = {"workspace": {"workload_types": ["GPU_SMALL"], "cloud": "azure"}, "endpoints": [{"name": "bad name"}]}
    response = await emulator_http.post(SCENARIO, json=document)
    assert response.status_code == 400
    assert workspace.workload_types is None
    assert workspace.cloud == "aws"


@pytest.mark.behaviour("admin.scenario", "scenario.format")
async def test_scenario_valid_settings_served(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    gateway = {"rate_limits": [{"calls": 1, "renewal_period": "minute"}], "usage_tracking_config": {"enabled": True}}
    document = {"endpoints": [endpoint(ai_gateway=gateway, tags=[{"key": "team", "value": "ml"}], task="custom")]}
    response = await emulator_http.post(SCENARIO, json=document)
    assert response.status_code == 200, response.text
    first = await emulator_http.post("/serving-endpoints/ep-scenario/invocations", json={"inputs": [[1, 2]]})
    assert first.status_code == 200
    second = await emulator_http.post("/serving-endpoints/ep-scenario/invocations", json={"inputs": [[1, 2]]})
    assert second.status_code == 429
    detail = await emulator_http.get("/api/2.0/serving-endpoints/ep-scenario")
    assert detail.json()["tags"] == [{"key": "team", "value": "ml"}]
    assert detail.json()["ai_gateway"]["rate_limits"][0]["key"] == "endpoint"


@pytest.mark.behaviour("scenario.format", "metrics.exposition")
async def test_scenario_huge_usage_fast(emulator_http: httpx.AsyncClient) -> None:
    usage = {"turbine_failure-1": {"request_count": 10**12, "request_4xx_count": 5, "latencies_ms": [20, 40, 2000]}}
    with fail_after(5):
        response = await emulator_http.post(SCENARIO, json={"endpoints": [endpoint(usage=usage)]})
    assert response.status_code == 200, response.text
    metrics = (await emulator_http.get("/api/2.0/serving-endpoints/ep-scenario/metrics")).text
    assert 'request_count_total{served_entity="turbine_failure-1"} 1e+12' in metrics
    assert 'request_4xx_count_total{served_entity="turbine_failure-1"} 5.0' in metrics
    assert 'request_latency_ms_bucket{le="25.0",served_entity="turbine_failure-1"} 3.33333333334e+11' in metrics


@pytest.mark.behaviour("scenario.format", "metrics.exposition")
@pytest.mark.parametrize(("requests", "client_errors", "server_errors"), [(7, 2, 3), (3, 5, 1), (0, 1, 1), (9, 0, 9)])
def test_usage_batch_matches_calls(requests: int, client_errors: int, server_errors: int) -> None:
    latencies = [5.0, 30.0, 700.0, 90_000.0]
    one_by_one = EntityUsage()
    for index in range(requests):
        status = 200
        if index < client_errors:
            status = 400
        elif index < client_errors + server_errors:
            status = 500
        one_by_one.record(status, latencies[index % len(latencies)], 1_000)
    batch = EntityUsage()
    batch.record_past(requests, client_errors, server_errors, latencies, 1_000)
    assert batch.request_count == one_by_one.request_count
    assert batch.request_4xx_count == one_by_one.request_4xx_count
    assert batch.request_5xx_count == one_by_one.request_5xx_count
    assert batch.latency_sum_ms == one_by_one.latency_sum_ms
    assert batch.latency_bucket_counts == one_by_one.latency_bucket_counts
    assert list(batch.recent_request_ms) == list(one_by_one.recent_request_ms)
