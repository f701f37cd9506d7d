"""The control plane driven by the official databricks-sdk over real loopback HTTP."""

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.config import Config
from databricks.sdk.errors import NotFound, ResourceConflict
from databricks.sdk.service.serving import (
    AiGatewayConfig,
    AiGatewayRateLimit,
    AiGatewayRateLimitKey,
    AiGatewayRateLimitRenewalPeriod,
    EndpointCoreConfigInput,
    EndpointStateConfigUpdate,
    EndpointStateReady,
    EndpointTag,
    PtEndpointCoreConfig,
    PtServedModel,
    ServedEntityInput,
)

from emulator import SANDBOX_TOKEN, Workspace
from emulator.server import EmulatorServer

DEPLOY_SECONDS = 600
WAIT = timedelta(seconds=10)


@pytest.fixture
def sdk(workspace: Workspace) -> Iterator[WorkspaceClient]:
    with EmulatorServer(workspace) as live:
        yield WorkspaceClient(config=Config(host=live.url, token=SANDBOX_TOKEN, retry_timeout_seconds=5))


def demo(version: str) -> ServedEntityInput:
    return ServedEntityInput(
        entity_name="main.default.demo_model",
        entity_version=version,
        workload_size="Small",
        scale_to_zero_enabled=False,
    )


@pytest.mark.behaviour(
    "create.sdk-config-name", "state.deploy-delay", "update.waiter-fields", "create.settings-at-creation"
)
def test_sdk_create_and_wait(sdk: WorkspaceClient, workspace: Workspace) -> None:
    config = EndpointCoreConfigInput(name="ep-sdk", served_entities=[demo("1")])
    waiter = sdk.serving_endpoints.create("ep-sdk", config=config, tags=[EndpointTag(key="team", value="ml")])
    assert waiter.response.state is not None
    assert waiter.response.state.config_update == EndpointStateConfigUpdate.IN_PROGRESS
    workspace.clock.advance(DEPLOY_SECONDS)
    endpoint = waiter.result(timeout=WAIT)
    assert endpoint.state is not None
    assert endpoint.state.ready == EndpointStateReady.READY
    assert endpoint.config is not None
    assert endpoint.config.served_entities is not None
    assert endpoint.config.served_entities[0].name == "demo_model-1"
    assert endpoint.tags == [EndpointTag(key="team", value="ml")]


@pytest.mark.behaviour("state.update-conflict", "update.replaces-config")
def test_sdk_update_config(sdk: WorkspaceClient, workspace: Workspace) -> None:
    sdk.serving_endpoints.create("ep-sdk", config=EndpointCoreConfigInput(name="ep-sdk", served_entities=[demo("1")]))
    workspace.clock.advance(DEPLOY_SECONDS)
    waiter = sdk.serving_endpoints.update_config("ep-sdk", served_entities=[demo("2")])
    with pytest.raises(ResourceConflict, match="Wait"):
        sdk.serving_endpoints.update_config("ep-sdk", served_entities=[demo("1")])
    workspace.clock.advance(DEPLOY_SECONDS)
    endpoint = waiter.result(timeout=WAIT)
    assert endpoint.config is not None
    assert endpoint.config.config_version == 2


@pytest.mark.behaviour("config.registry-check")
def test_sdk_unknown_version(sdk: WorkspaceClient, workspace: Workspace) -> None:
    with pytest.raises(NotFound, match="Registered versions: 1, 2"):
        sdk.serving_endpoints.create(
            "ep-sdk", config=EndpointCoreConfigInput(name="ep-sdk", served_entities=[demo("7")])
        )
    assert "ep-sdk" not in workspace.endpoints


@pytest.mark.behaviour("tags.patch", "gateway.config", "logs.build-logs", "openapi.document", "metrics.exposition")
def test_sdk_settings_logs_and_schema(sdk: WorkspaceClient, workspace: Workspace) -> None:
    sdk.serving_endpoints.create("ep-sdk", config=EndpointCoreConfigInput(name="ep-sdk", served_entities=[demo("1")]))
    workspace.clock.advance(DEPLOY_SECONDS)
    tags = sdk.serving_endpoints.patch("ep-sdk", add_tags=[EndpointTag(key="a", value="1")])
    assert tags.tags == [EndpointTag(key="a", value="1")]
    limit = AiGatewayRateLimit(
        calls=10, key=AiGatewayRateLimitKey.USER, renewal_period=AiGatewayRateLimitRenewalPeriod.MINUTE
    )
    gateway = sdk.serving_endpoints.put_ai_gateway("ep-sdk", rate_limits=[limit])
    assert gateway.rate_limits == [limit]
    assert sdk.serving_endpoints.get("ep-sdk").ai_gateway == AiGatewayConfig(rate_limits=[limit])
    logs = sdk.serving_endpoints.build_logs("ep-sdk", "demo_model-1")
    assert logs.logs is not None
    assert "Container build succeeded." in logs.logs
    schema = sdk.serving_endpoints.get_open_api("ep-sdk")
    assert schema.contents is not None
    assert json.loads(schema.contents.read())["info"]["title"] == "ep-sdk"
    metrics = sdk.serving_endpoints.export_metrics("ep-sdk")
    assert metrics.contents is not None
    assert metrics.contents.read() == b""


@pytest.mark.behaviour("pt.create")
def test_sdk_provisioned_throughput(sdk: WorkspaceClient, workspace: Workspace) -> None:
    entity = PtServedModel(
        entity_name="system.ai.meta_llama_v3_1_8b_instruct", entity_version="1", provisioned_model_units=50
    )
    waiter = sdk.serving_endpoints.create_provisioned_throughput_endpoint(
        "ep-pt", config=PtEndpointCoreConfig(served_entities=[entity])
    )
    workspace.clock.advance(DEPLOY_SECONDS)
    endpoint = waiter.result(timeout=WAIT)
    assert endpoint.config is not None
    assert endpoint.config.served_entities is not None
    assert endpoint.config.served_entities[0].provisioned_model_units == 50
