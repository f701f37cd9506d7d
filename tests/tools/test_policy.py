from typing import Any

import pytest
from mcp import Client

from emulator import Workspace, apply_scenario
from server.settings import Settings, load_settings
from tests.tools.support import DEMO_V1, TURBINE
from tools.errors import ToolFailure
from tools.policy import Policy, PolicySettings

pytestmark = pytest.mark.anyio

PROD = {
    "name": "prod-scoring",
    "config": {"served_entities": [DEMO_V1]},
}


def error_code(exc: ToolFailure) -> str:
    return str(exc.envelope["error_code"])


# Policy itself -----------------------------------------------------------------------------


def test_policy_read_only_rejects_mutation() -> None:
    with pytest.raises(ToolFailure) as caught:
        Policy(PolicySettings(read_only=True)).check_mutation("create_endpoint", "ep")
    assert error_code(caught.value) == "READ_ONLY_MODE"


def test_policy_protected_pattern() -> None:
    policy = Policy(PolicySettings(protected_endpoints=("prod-*",)))
    with pytest.raises(ToolFailure) as caught:
        policy.check_mutation("delete_endpoint", "prod-scoring")
    assert error_code(caught.value) == "PROTECTED_ENDPOINT"
    assert "'prod-*'" in caught.value.summary
    policy.check_mutation("delete_endpoint", "dev-scoring")


def test_policy_gpu_rejected_by_default() -> None:
    with pytest.raises(ToolFailure) as caught:
        Policy().check_compute("create_endpoint", [{**TURBINE, "workload_type": "GPU_SMALL"}])
    assert error_code(caught.value) == "COST_GUARD"
    assert "GPU_SMALL" in caught.value.summary


def test_policy_gpu_allowed_by_setting() -> None:
    Policy(PolicySettings(allow_gpu_workloads=True)).check_compute("x", [{**TURBINE, "workload_type": "GPU_LARGE"}])


def test_policy_cpu_allowed() -> None:
    Policy().check_compute("x", [{**TURBINE, "workload_type": "CPU_LARGE"}, TURBINE])


@pytest.mark.parametrize("key", ["provisioned_model_units", "max_provisioned_throughput"])
def test_policy_provisioned_limit(key: str) -> None:
    entity: dict[str, Any] = {"entity_name": "system.ai.llama", "entity_version": "1", key: 100}
    with pytest.raises(ToolFailure) as caught:
        Policy().check_compute("create_endpoint", [entity])
    assert error_code(caught.value) == "COST_GUARD"
    assert f"{key}=100" in caught.value.summary
    limits = {"max_provisioned_model_units": 100, "max_provisioned_throughput": 100}
    Policy(PolicySettings(**limits)).check_compute("create_endpoint", [entity])
    with pytest.raises(ToolFailure):
        Policy(PolicySettings(**dict.fromkeys(limits, 99))).check_compute("create_endpoint", [entity])


def test_policy_zero_throughput_allowed() -> None:
    Policy().check_compute("x", [{**TURBINE, "min_provisioned_throughput": 0, "max_provisioned_throughput": 0}])


# Through the tools -------------------------------------------------------------------------


@pytest.mark.parametrize("settings", [Settings(read_only=True)])
async def test_create_read_only_sends_nothing(client: Client, workspace: Workspace) -> None:
    result = await client.call_tool("create_endpoint", {"name": "ep-new", "served_entities": [TURBINE]})
    assert result.is_error is True
    assert "READ_ONLY_MODE" in result.content[0].text  # type: ignore[union-attr]
    assert workspace.request_log == []


@pytest.mark.parametrize("settings", [Settings(read_only=True)])
async def test_delete_read_only_sends_nothing(client: Client, workspace: Workspace) -> None:
    apply_scenario(workspace, {"endpoints": [PROD]})
    result = await client.call_tool("delete_endpoint", {"name": "prod-scoring", "confirm_name": "prod-scoring"})
    assert result.is_error is True
    assert "READ_ONLY_MODE" in result.content[0].text  # type: ignore[union-attr]
    assert workspace.request_log == []
    assert "prod-scoring" in workspace.endpoints


@pytest.mark.parametrize("settings", [Settings(protected_endpoints=("prod-*",))])
async def test_delete_protected_sends_nothing(client: Client, workspace: Workspace) -> None:
    apply_scenario(workspace, {"endpoints": [PROD]})
    result = await client.call_tool("delete_endpoint", {"name": "prod-scoring", "confirm_name": "prod-scoring"})
    assert result.is_error is True
    assert "PROTECTED_ENDPOINT" in result.content[0].text  # type: ignore[union-attr]
    assert workspace.request_log == []


@pytest.mark.parametrize("settings", [Settings(protected_endpoints=("prod-*",))])
async def test_create_protected_sends_nothing(client: Client, workspace: Workspace) -> None:
    result = await client.call_tool("create_endpoint", {"name": "prod-new", "served_entities": [TURBINE]})
    assert result.is_error is True
    assert "PROTECTED_ENDPOINT" in result.content[0].text  # type: ignore[union-attr]
    assert workspace.request_log == []


async def test_create_gpu_rejected(client: Client, workspace: Workspace) -> None:
    entity = {**TURBINE, "workload_type": "GPU_MEDIUM", "scale_to_zero_enabled": False}
    result = await client.call_tool("create_endpoint", {"name": "ep-gpu", "served_entities": [entity]})
    assert result.is_error is True
    text = result.content[0].text  # type: ignore[union-attr]
    assert "COST_GUARD" in text
    assert "GPU_MEDIUM" in text
    assert workspace.request_log == []


async def test_create_model_units_rejected(client: Client, workspace: Workspace) -> None:
    entity = {"entity_name": "system.ai.llama_v3_2_3b_instruct", "entity_version": "1", "provisioned_model_units": 50}
    arguments = {"name": "ep-pt", "served_entities": [entity], "dry_run": True}
    result = await client.call_tool("create_endpoint", arguments)
    assert result.is_error is True
    assert "provisioned_model_units=50" in result.content[0].text  # type: ignore[union-attr]
    assert workspace.request_log == []


@pytest.mark.parametrize("settings", [Settings(allow_gpu_workloads=True)])
async def test_create_gpu_allowed_by_setting(client: Client, workspace: Workspace) -> None:
    entity = {**TURBINE, "workload_type": "GPU_SMALL", "scale_to_zero_enabled": False}
    result = await client.call_tool("create_endpoint", {"name": "ep-gpu", "served_entities": [entity]})
    assert result.is_error is False, result.content
    assert [(r.method, r.status) for r in workspace.request_log] == [("POST", 200)]


def test_settings_cost_guard_from_env() -> None:
    environ = {
        "DATABRICKS_SERVING_MCP_ALLOW_GPU_WORKLOADS": "true",
        "DATABRICKS_SERVING_MCP_MAX_PROVISIONED_MODEL_UNITS": "100",
    }
    settings = load_settings(environ=environ)
    assert settings.allow_gpu_workloads is True
    assert settings.max_provisioned_model_units == 100
    assert settings.max_provisioned_throughput == 0
