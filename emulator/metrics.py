"""Prometheus text exposition of an endpoint's per-entity metrics.

Counters and the latency histogram come from `Endpoint.usage`, which the data plane fills. The
CPU, memory and provisioned-concurrency gauges are synthetic values derived from the same traffic.
"""

import math
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from emulator.endpoints import require_endpoint
from emulator.permissions import require_level
from emulator.requests import principal_of, workspace_of
from emulator.state import LATENCY_BUCKETS_MS, Endpoint, EntityUsage

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LABELS = ["served_entity"]
# Concurrent requests one replica set of each workload size handles.
SIZE_CONCURRENCY = {"Small": 4, "Medium": 16, "Large": 64}


def provisioned_concurrency(entity: dict[str, Any], recent_requests: int) -> int:
    """Return the provisioned concurrency of `entity`; scale-to-zero entities with no recent traffic have 0."""
    if "external_model" in entity:
        return 0
    if entity.get("scale_to_zero_enabled") and recent_requests == 0:
        return 0
    if "max_provisioned_concurrency" in entity:
        return int(entity["max_provisioned_concurrency"])
    if "provisioned_model_units" in entity:
        return int(entity["provisioned_model_units"])
    return SIZE_CONCURRENCY.get(str(entity.get("workload_size")), 4)


class EndpointCollector:
    """A prometheus_client collector over one endpoint at one virtual time."""

    def __init__(self, endpoint: Endpoint, now_ms: int) -> None:
        self.endpoint = endpoint
        self.now_ms = now_ms

    def collect(self) -> Iterator[Metric]:
        entities = {e["name"]: e for e in (self.endpoint.config.served_entities if self.endpoint.config else [])}
        names = sorted(set(entities) | set(self.endpoint.usage))
        usages = {name: self.endpoint.usage.get(name) or EntityUsage() for name in names}
        yield from self._gauges(entities, usages)
        yield from self._counters(usages)
        yield self._latency(usages)

    def _gauges(self, entities: dict[str, dict[str, Any]], usages: dict[str, EntityUsage]) -> Iterator[Metric]:
        cpu = GaugeMetricFamily("cpu_usage_percentage", "CPU usage of the served entity, percent.", labels=LABELS)
        mem = GaugeMetricFamily("mem_usage_percentage", "Memory usage of the served entity, percent.", labels=LABELS)
        concurrency = GaugeMetricFamily(
            "provisioned_concurrent_requests_total", "Provisioned concurrency of the served entity.", labels=LABELS
        )
        for name, usage in usages.items():
            recent = usage.requests_in_last_minute(self.now_ms)
            entity = entities.get(name)
            if entity is None or "external_model" in entity:
                continue
            # NOTE: synthetic load curves, because real values depend on the model and the hardware.
            cpu.add_metric([name], min(95.0, 2.0 + 1.5 * recent))
            mem.add_metric([name], min(90.0, 18.0 + 0.25 * recent))
            concurrency.add_metric([name], provisioned_concurrency(entity, recent))
        yield from (cpu, mem, concurrency)

    def _counters(self, usages: dict[str, EntityUsage]) -> Iterator[Metric]:
        specs = (
            ("request_count_total", "Requests served.", "request_count"),
            ("request_4xx_count_total", "Requests that ended with a 4xx status.", "request_4xx_count"),
            ("request_5xx_count_total", "Requests that ended with a 5xx status.", "request_5xx_count"),
        )
        for metric_name, help_text, attribute in specs:
            counter = CounterMetricFamily(metric_name, help_text, labels=LABELS)
            for name, usage in usages.items():
                counter.add_metric([name], getattr(usage, attribute))
            yield counter

    def _latency(self, usages: dict[str, EntityUsage]) -> Metric:
        histogram = HistogramMetricFamily("request_latency_ms", "Request latency in milliseconds.", labels=LABELS)
        for name, usage in usages.items():
            cumulative = 0
            buckets: list[tuple[str, float]] = []
            for bound, count in zip((*LATENCY_BUCKETS_MS, float("inf")), usage.latency_bucket_counts, strict=True):
                cumulative += count
                buckets.append((_bucket_label(bound), cumulative))
            histogram.add_metric([name], buckets=buckets, sum_value=usage.latency_sum_ms)
        return histogram


def _bucket_label(bound: float) -> str:
    """Format a bucket bound the way Prometheus clients do: "10.0", "2500.0", "+Inf"."""
    return "+Inf" if math.isinf(bound) else repr(float(bound))


def exposition(endpoint: Endpoint, now_ms: int) -> str:
    """Return the metrics text of `endpoint`: empty when no entity has served a request."""
    if endpoint.behaviour.metrics is not None:
        return endpoint.behaviour.metrics
    if not any(usage.request_count for usage in endpoint.usage.values()):
        return ""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(EndpointCollector(endpoint, now_ms))
    return generate_latest(registry).decode("utf-8")


async def export_metrics(request: Request) -> Response:
    workspace = workspace_of(request)
    with workspace.lock:
        endpoint = require_endpoint(workspace, request.path_params["name"])
        require_level(workspace, endpoint, principal_of(request), "CAN_VIEW")
        text = exposition(endpoint, workspace.clock.now_ms())
    return Response(text, media_type=CONTENT_TYPE)


routes = [Route("/api/2.0/serving-endpoints/{name}/metrics", export_metrics, methods=["GET"])]
