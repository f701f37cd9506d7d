"""Benchmarks with targets: `python -m bench` (or `make bench`).

Each benchmark prints its measurement next to its target and the run exits 1 when a
target is missed. Results depend on the machine: RESULTS.md records the numbers, the
machine and the date of each recorded run.
"""

import argparse
import json
import logging
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import anyio
import httpx
from mcp import Client

from emulator import SANDBOX_TOKEN, create_app, seeded_workspace
from server.app import build_server
from server.settings import Settings
from tools.api.auth import StaticTokenAuth


@dataclass
class Measurement:
    name: str
    value: float
    unit: str
    target: float
    higher_is_better: bool = False

    @property
    def passed(self) -> bool:
        return self.value >= self.target if self.higher_is_better else self.value <= self.target


def measure_cold_start(runs: int = 5) -> Measurement:
    """Median time to import the server and build it, in a fresh interpreter."""
    code = "from server.app import build_server; from server.settings import Settings; build_server(Settings())"
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        samples.append(time.perf_counter() - started)
    return Measurement("cold start (import + build_server)", statistics.median(samples) * 1000, "ms", 2000)


def in_process_server() -> tuple[object, object]:
    workspace = seeded_workspace(time_scale=0)
    transport = httpx.ASGITransport(app=create_app(workspace))
    server = build_server(Settings(), transport=transport, auth=StaticTokenAuth("http://emulator.local", SANDBOX_TOKEN))
    return workspace, server


async def measure_tool_catalogue() -> Measurement:
    """Approximate tokens of tools/list (JSON characters / 4), what every conversation pays."""
    _, server = in_process_server()
    async with Client(server) as client:  # type: ignore[arg-type]
        listed = await client.list_tools()
    chars = len(json.dumps([tool.model_dump(mode="json", exclude_none=True) for tool in listed.tools]))
    return Measurement("tools/list size", chars / 4, "tokens (estimate)", 12000)


async def measure_get_endpoint_rate(calls: int = 300) -> Measurement:
    """get_endpoint calls per second through the in-memory client and the in-process emulator."""
    _, server = in_process_server()
    async with Client(server) as client:  # type: ignore[arg-type]
        started = time.perf_counter()
        for _ in range(calls):
            await client.call_tool("get_endpoint", {"name": "databricks-gte-large-en"})
        elapsed = time.perf_counter() - started
    return Measurement("get_endpoint throughput", calls / elapsed, "calls/s", 100, higher_is_better=True)


def measure_peak_memory() -> Measurement:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return Measurement("peak RSS of the benchmark process", usage.ru_maxrss / 1024, "MiB", 400)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.parse_args()
    logging.disable(logging.INFO)
    benchmarks: list[Callable[[], Measurement]] = [
        measure_cold_start,
        lambda: anyio.run(measure_tool_catalogue),
        lambda: anyio.run(measure_get_endpoint_rate),
        measure_peak_memory,
    ]
    results = [benchmark() for benchmark in benchmarks]
    for result in results:
        relation = ">=" if result.higher_is_better else "<="
        status = "ok" if result.passed else "MISSED"
        print(f"{status:6} {result.name}: {result.value:.1f} {result.unit} (target {relation} {result.target:g})")
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
