import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from emulator import Workspace
from tests.emulator.control_support import ENDPOINTS, create_ready, demo_entity

pytestmark = pytest.mark.anyio


async def metrics_of(http: httpx.AsyncClient, name: str) -> httpx.Response:
    return await http.get(f"{ENDPOINTS}/{name}/metrics", headers={"Accept": "text/plain"})


@pytest.mark.behaviour("metrics.exposition")
async def test_metrics_empty_without_traffic(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    await create_ready(emulator_http, workspace, "ep-idle")
    response = await metrics_of(emulator_http, "ep-idle")
    assert response.status_code == 200
    assert response.text == ""
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")


@pytest.mark.behaviour("metrics.exposition", "query.usage-counters")
async def test_metrics_count_invocations(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    await create_ready(emulator_http, workspace, "ep-demo")
    body = {"dataframe_split": {"columns": ["x"], "data": [[1.0]]}}
    for _ in range(3):
        response = await emulator_http.post("/serving-endpoints/ep-demo/invocations", json=body)
        assert response.status_code == 200, response.text
    response = await emulator_http.post("/serving-endpoints/ep-demo/invocations", json={"nothing": []})
    assert response.status_code == 400
    response = await metrics_of(emulator_http, "ep-demo")
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    samples = {(s.name, s.labels.get("served_entity")): s.value for f in families.values() for s in f.samples}
    assert samples[("request_count_total", "demo_model-1")] == 4
    assert samples[("request_4xx_count_total", "demo_model-1")] == 1
    assert samples[("request_5xx_count_total", "demo_model-1")] == 0
    assert samples[("request_latency_ms_count", "demo_model-1")] == 4
    assert samples[("provisioned_concurrent_requests_total", "demo_model-1")] == 4
    assert 0 < samples[("cpu_usage_percentage", "demo_model-1")] <= 100
    assert 0 < samples[("mem_usage_percentage", "demo_model-1")] <= 100
    assert families["request_latency_ms"].type == "histogram"
    assert families["cpu_usage_percentage"].type == "gauge"
    assert families["request_count"].type == "counter"


@pytest.mark.behaviour("metrics.exposition")
async def test_metrics_histogram_buckets(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    await create_ready(emulator_http, workspace, "ep-demo")
    usage = workspace.endpoints["ep-demo"].usage_of("demo_model-1")
    now = workspace.clock.now_ms()
    for latency in (5.0, 40.0, 40.0, 120_000.0):
        usage.record(200, latency, now)
    usage.record(503, 30.0, now)
    text = (await metrics_of(emulator_http, "ep-demo")).text
    buckets = {
        s.labels["le"]: s.value
        for f in text_string_to_metric_families(text)
        for s in f.samples
        if s.name == "request_latency_ms_bucket"
    }
    assert buckets["10.0"] == 1
    assert buckets["50.0"] == 4
    assert buckets["60000.0"] == 4
    assert buckets["+Inf"] == 5
    assert 'request_5xx_count_total{served_entity="demo_model-1"} 1.0' in text
    assert 'request_latency_ms_sum{served_entity="demo_model-1"} 120115.0' in text


@pytest.mark.behaviour("metrics.exposition")
async def test_metrics_cpu_follows_recent_traffic(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    await create_ready(emulator_http, workspace, "ep-demo", demo_entity(scale_to_zero_enabled=True))
    usage = workspace.endpoints["ep-demo"].usage_of("demo_model-1")
    for _ in range(20):
        usage.record(200, 10.0, workspace.clock.now_ms())

    def gauges(text: str) -> dict[str, float]:
        return {s.name: s.value for f in text_string_to_metric_families(text) for s in f.samples if f.type == "gauge"}

    busy = gauges((await metrics_of(emulator_http, "ep-demo")).text)
    workspace.clock.advance(120)
    idle = gauges((await metrics_of(emulator_http, "ep-demo")).text)
    assert busy["cpu_usage_percentage"] > idle["cpu_usage_percentage"]
    assert busy["provisioned_concurrent_requests_total"] == 4
    assert idle["provisioned_concurrent_requests_total"] == 0


@pytest.mark.behaviour("admin.behaviour")
async def test_metrics_override_text(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    await create_ready(emulator_http, workspace, "ep-demo")
    workspace.endpoints["ep-demo"].behaviour.metrics = "# TYPE custom gauge\ncustom 1\n"
    response = await metrics_of(emulator_http, "ep-demo")
    assert response.text == "# TYPE custom gauge\ncustom 1\n"


@pytest.mark.behaviour("get.not-found")
async def test_metrics_unknown_endpoint(emulator_http: httpx.AsyncClient) -> None:
    response = await metrics_of(emulator_http, "ep-none")
    assert response.status_code == 404
    assert response.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
