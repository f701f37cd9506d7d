"""Constants and helpers shared by the official-client conformance tests."""

from typing import Any

import pytest

from emulator import SANDBOX_TOKEN, Workspace

# Virtual seconds per real second in the tests that use a client's own waiter. A 600 s deployment
# (the default `deploy_seconds`) then finishes one real second after it starts, which is before
# the waiter's second poll.
FAST_CLOCK = 600
DEPLOY_SECONDS = 600
TURBINE = "main.default.turbine_failure"
CHAT_ENDPOINT = "databricks-claude-sonnet-4"
GTE_ENDPOINT = "databricks-gte-large-en"
BGE_ENDPOINT = "databricks-bge-large-en"
BOB_TOKEN = "dapi-emulator-bob"
SP_CLIENT_ID = "8f2c6a1e-0d3b-4c57-9e2a-5b7d1c9e4f60"
SP_CLIENT_SECRET = "emulator-sp-secret"
TURBINE_ROW = {"vibration": 0.5, "rpm": 1200.0, "temp_c": 61.5}


def turbine_entity(version: str) -> dict[str, Any]:
    """A served entity of the seeded turbine model, in the request shape without a name."""
    return {"entity_name": TURBINE, "entity_version": version, "workload_size": "Small", "scale_to_zero_enabled": True}


def point_databricks_env_at(monkeypatch: pytest.MonkeyPatch, url: str, token: str = SANDBOX_TOKEN) -> None:
    """Set the variables MLflow's Databricks clients read, so they talk to the emulator at `url`."""
    monkeypatch.setenv("DATABRICKS_HOST", url)
    monkeypatch.setenv("DATABRICKS_TOKEN", token)


def requests_to(workspace: Workspace, method: str, path: str) -> list[Any]:
    return [r for r in workspace.request_log if r.method == method and r.path == path]
