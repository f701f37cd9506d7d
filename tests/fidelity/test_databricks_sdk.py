"""databricks-sdk 0.162.0 `WorkspaceClient.serving_endpoints`, unpatched, against the emulator over loopback HTTP.

The workspace clock runs FAST_CLOCK times faster than the wall clock, so the SDK's own waiters
(`create_and_wait`, `update_config_and_wait`) see a 600 s deployment finish after one real second.
"""

import json
import re
from datetime import timedelta

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import (
    BadRequest,
    NotFound,
    OperationFailed,
    PermissionDenied,
    ResourceAlreadyExists,
    ResourceConflict,
    ResourceDoesNotExist,
)
from databricks.sdk.service.serving import (
    AiGatewayRateLimit,
    AiGatewayRateLimitKey,
    AiGatewayRateLimitRenewalPeriod,
    AiGatewayUsageTrackingConfig,
    ChatMessage,
    ChatMessageRole,
    DataframeSplitInput,
    EmailNotifications,
    EndpointCoreConfigInput,
    EndpointStateConfigUpdate,
    EndpointStateReady,
    EndpointTag,
    PtEndpointCoreConfig,
    PtServedModel,
    QueryEndpointResponseObject,
    RateLimit,
    RateLimitKey,
    RateLimitRenewalPeriod,
    ServedEntityInput,
    ServingEndpointAccessControlRequest,
    ServingEndpointPermissionLevel,
    TelemetryConfig,
    TelemetryFeature,
)
from prometheus_client.parser import text_string_to_metric_families

from emulator import SANDBOX_TOKEN, Workspace, seeded_workspace
from emulator.faults import parse_fault
from emulator.server import EmulatorServer
from tests.fidelity.support import (
    BOB_TOKEN,
    CHAT_ENDPOINT,
    DEPLOY_SECONDS,
    FAST_CLOCK,
    GTE_ENDPOINT,
    SP_CLIENT_ID,
    SP_CLIENT_SECRET,
    TURBINE,
    TURBINE_ROW,
    requests_to,
)

WAIT = timedelta(seconds=15)
ENDPOINT = "fid-sdk"
ENDPOINTS_PATH = "/api/2.0/serving-endpoints"
LLAMA = "system.ai.meta_llama_v3_1_8b_instruct"


@pytest.fixture
def workspace() -> Workspace:
    """The seeded workspace with a running clock (see the module docstring)."""
    return seeded_workspace(time_scale=FAST_CLOCK)


@pytest.fixture
def sdk(live: EmulatorServer) -> WorkspaceClient:
    return WorkspaceClient(host=live.url, token=SANDBOX_TOKEN)


@pytest.fixture
def ready(sdk: WorkspaceClient, workspace: Workspace) -> str:
    """Create ENDPOINT serving turbine_failure version 1 and return its name once it is READY.

    The clock is moved past the deployment before the waiter's first poll, so the waiter returns
    without sleeping. The tests of the waiters themselves let the clock run instead.
    """
    waiter = sdk.serving_endpoints.create(ENDPOINT, config=config_of(entity("1")))
    workspace.clock.advance(DEPLOY_SECONDS)
    waiter.result(timeout=WAIT)
    return ENDPOINT


def entity(version: str) -> ServedEntityInput:
    return ServedEntityInput(
        entity_name=TURBINE, entity_version=version, workload_size="Small", scale_to_zero_enabled=True
    )


def config_of(*entities: ServedEntityInput) -> EndpointCoreConfigInput:
    return EndpointCoreConfigInput(name=ENDPOINT, served_entities=list(entities))


@pytest.mark.behaviour(
    "create.pending-response",
    "create.sdk-config-name",
    "create.settings-at-creation",
    "naming.default-entity-name",
    "state.deploy-delay",
    "update.waiter-fields",
    "auth.workspace-id-header",
)
def test_sdk_create_and_wait(sdk: WorkspaceClient, workspace: Workspace) -> None:
    waiter = sdk.serving_endpoints.create(
        ENDPOINT, config=config_of(entity("1")), tags=[EndpointTag(key="team", value="ml")], description="turbines"
    )
    created = waiter.response
    assert created.state is not None
    assert created.state.config_update == EndpointStateConfigUpdate.IN_PROGRESS
    assert created.state.ready == EndpointStateReady.NOT_READY
    assert created.config is None
    assert created.pending_config is not None
    assert created.pending_config.config_version == 1
    assert created.id is not None
    assert re.fullmatch(r"[0-9a-f]{32}", created.id)
    assert created.permission_level is not None
    assert created.permission_level.value == "CAN_MANAGE"

    endpoint = waiter.result(timeout=WAIT)
    assert endpoint.state is not None
    assert endpoint.state.ready == EndpointStateReady.READY
    assert endpoint.state.config_update == EndpointStateConfigUpdate.NOT_UPDATING
    assert endpoint.pending_config is None
    assert endpoint.config is not None
    assert endpoint.config.served_entities is not None
    assert [e.name for e in endpoint.config.served_entities] == ["turbine_failure-1"]
    assert endpoint.tags == [EndpointTag(key="team", value="ml")]
    assert endpoint.description == "turbines"
    # The SDK sends the workspace id it read from host metadata, and the emulator accepts and ignores it.
    polls = requests_to(workspace, "GET", f"{ENDPOINTS_PATH}/{ENDPOINT}")
    assert polls
    assert polls[0].headers["x-databricks-workspace-id"] == workspace.workspace_id


@pytest.mark.behaviour("update.replaces-config", "state.deploy-delay", "update.waiter-fields")
def test_sdk_update_config_and_wait(sdk: WorkspaceClient, ready: str) -> None:
    endpoint = sdk.serving_endpoints.update_config_and_wait(ready, served_entities=[entity("2")], timeout=WAIT)
    assert endpoint.config is not None
    assert endpoint.config.config_version == 2
    assert endpoint.config.served_entities is not None
    assert [e.name for e in endpoint.config.served_entities] == ["turbine_failure-2"]
    answer = sdk.serving_endpoints.query(ready, dataframe_records=[TURBINE_ROW])
    assert answer.served_model_name == "turbine_failure-2"


@pytest.mark.behaviour("state.update-conflict", "state.update-failed", "admin.behaviour")
def test_sdk_update_failure_and_conflict(sdk: WorkspaceClient, ready: str, workspace: Workspace) -> None:
    workspace.endpoints[ready].behaviour.next_update_outcome = "failed"
    workspace.endpoints[ready].behaviour.next_update_message = "Container build failed: missing package."
    waiter = sdk.serving_endpoints.update_config(ready, served_entities=[entity("2")])
    with pytest.raises(ResourceConflict, match="currently updating"):
        sdk.serving_endpoints.update_config(ready, served_entities=[entity("3")])
    with pytest.raises(OperationFailed, match="UPDATE_FAILED"):
        waiter.result(timeout=WAIT)
    endpoint = sdk.serving_endpoints.get(ready)
    assert endpoint.config is not None
    assert endpoint.config.config_version == 1
    assert endpoint.state is not None
    assert endpoint.state.ready == EndpointStateReady.READY
    assert endpoint.pending_config is not None
    assert endpoint.pending_config.served_entities is not None
    failed = endpoint.pending_config.served_entities[0].state
    assert failed is not None
    assert failed.deployment_state_message == "Container build failed: missing package."


@pytest.mark.behaviour("get.detailed", "list.summaries", "foundation.pay-per-token")
def test_sdk_get_and_list(sdk: WorkspaceClient, ready: str) -> None:
    endpoint = sdk.serving_endpoints.get(ready)
    assert endpoint.name == ready
    assert endpoint.creator == "sandbox@example.com"
    assert endpoint.config is not None
    assert endpoint.config.served_models is not None
    assert [m.model_name for m in endpoint.config.served_models] == [TURBINE]
    assert endpoint.config.traffic_config is not None
    assert endpoint.config.traffic_config.routes is not None
    route = endpoint.config.traffic_config.routes[0]
    assert (route.served_entity_name, route.served_model_name, route.traffic_percentage) == (
        "turbine_failure-1",
        "turbine_failure-1",
        100,
    )
    listed = {e.name: e for e in sdk.serving_endpoints.list()}
    assert ready in listed
    assert CHAT_ENDPOINT in listed
    assert listed[CHAT_ENDPOINT].id is None
    summary = listed[ready]
    assert summary.config is not None
    assert summary.config.served_entities is not None
    assert summary.config.served_entities[0].entity_name == TURBINE


@pytest.mark.behaviour("openapi.document")
def test_sdk_get_open_api(sdk: WorkspaceClient, ready: str) -> None:
    response = sdk.serving_endpoints.get_open_api(ready)
    assert response.contents is not None
    document = json.loads(response.contents.read())
    assert document["openapi"] == "3.1.0"
    assert document["info"] == {"title": ready, "version": "1"}
    assert list(document["paths"]) == ["/served-models/turbine_failure-1/invocations"]


@pytest.mark.behaviour("logs.build-logs", "logs.server-logs", "query.usage-counters")
def test_sdk_build_and_server_logs(sdk: WorkspaceClient, ready: str) -> None:
    build = sdk.serving_endpoints.build_logs(ready, "turbine_failure-1")
    assert build.logs is not None
    assert "Container build succeeded." in build.logs
    sdk.serving_endpoints.query(ready, dataframe_records=[TURBINE_ROW])
    server = sdk.serving_endpoints.logs(ready, "turbine_failure-1")
    assert server.logs is not None
    assert server.logs.count("Handled POST /invocations") == 1
    with pytest.raises(ResourceDoesNotExist, match="turbine_failure-1"):
        sdk.serving_endpoints.logs(ready, "no-such-entity")


@pytest.mark.behaviour("metrics.exposition", "query.usage-counters")
def test_sdk_export_metrics(sdk: WorkspaceClient, ready: str) -> None:
    for _ in range(3):
        sdk.serving_endpoints.query(ready, dataframe_records=[TURBINE_ROW])
    response = sdk.serving_endpoints.export_metrics(ready)
    assert response.contents is not None
    families = {f.name: f for f in text_string_to_metric_families(response.contents.read().decode())}
    requests = families["request_count"].samples
    assert [(s.labels, s.value) for s in requests if s.name == "request_count_total"] == [
        ({"served_entity": "turbine_failure-1"}, 3.0)
    ]
    assert "request_latency_ms" in families
    assert "cpu_usage_percentage" in families


@pytest.mark.behaviour("gateway.config", "tags.patch")
def test_sdk_put_ai_gateway_and_tags(sdk: WorkspaceClient, ready: str) -> None:
    limit = AiGatewayRateLimit(
        calls=100, key=AiGatewayRateLimitKey.USER, renewal_period=AiGatewayRateLimitRenewalPeriod.MINUTE
    )
    stored = sdk.serving_endpoints.put_ai_gateway(
        ready, rate_limits=[limit], usage_tracking_config=AiGatewayUsageTrackingConfig(enabled=True)
    )
    assert stored.rate_limits == [limit]
    assert stored.usage_tracking_config == AiGatewayUsageTrackingConfig(enabled=True)
    gateway = sdk.serving_endpoints.get(ready).ai_gateway
    assert gateway is not None
    assert gateway.rate_limits == [limit]
    tags = sdk.serving_endpoints.patch(ready, add_tags=[EndpointTag(key="b", value="2"), EndpointTag(key="a")])
    assert tags.tags == [EndpointTag(key="a"), EndpointTag(key="b", value="2")]
    tags = sdk.serving_endpoints.patch(ready, delete_tags=["b"])
    assert tags.tags == [EndpointTag(key="a")]


@pytest.mark.behaviour("permissions.by-id", "permissions.shape", "permissions.patch-merges", "permissions.enforcement")
def test_sdk_permissions_by_endpoint_id(sdk: WorkspaceClient, ready: str, live: EmulatorServer) -> None:
    endpoint_id = sdk.serving_endpoints.get(ready).id
    assert endpoint_id is not None
    current = sdk.serving_endpoints.get_permissions(endpoint_id)
    assert current.object_id == f"/serving-endpoints/{endpoint_id}"
    assert current.object_type == "serving-endpoint"
    grant = ServingEndpointAccessControlRequest(
        user_name="bob@example.com", permission_level=ServingEndpointPermissionLevel.CAN_QUERY
    )
    updated = sdk.serving_endpoints.update_permissions(endpoint_id, access_control_list=[grant])
    assert updated.access_control_list is not None
    levels = {
        entry.user_name or entry.group_name: [p.permission_level for p in entry.all_permissions or []]
        for entry in updated.access_control_list
    }
    assert levels["bob@example.com"] == [ServingEndpointPermissionLevel.CAN_QUERY]
    assert levels["sandbox@example.com"] == [ServingEndpointPermissionLevel.CAN_MANAGE]
    with pytest.raises(BadRequest, match="not a valid endpoint id"):
        sdk.serving_endpoints.get_permissions(ready)

    bob = WorkspaceClient(host=live.url, token=BOB_TOKEN)
    answer = bob.serving_endpoints.query(ready, dataframe_records=[TURBINE_ROW])
    assert answer.predictions is not None
    with pytest.raises(PermissionDenied, match="does not have permission 'Manage'"):
        bob.serving_endpoints.update_config(ready, served_entities=[entity("2")])


@pytest.mark.behaviour("permissions.put-replaces", "permissions.levels", "permissions.enforcement")
def test_sdk_set_permissions_replaces(sdk: WorkspaceClient, ready: str, live: EmulatorServer) -> None:
    endpoint_id = sdk.serving_endpoints.get(ready).id
    assert endpoint_id is not None
    levels = sdk.serving_endpoints.get_permission_levels(endpoint_id).permission_levels or []
    assert [level.permission_level.value for level in levels if level.permission_level] == [
        "CAN_VIEW",
        "CAN_QUERY",
        "CAN_MANAGE",
    ]
    assert all(level.description for level in levels)
    grant = ServingEndpointAccessControlRequest(
        group_name="users", permission_level=ServingEndpointPermissionLevel.CAN_VIEW
    )
    replaced = sdk.serving_endpoints.set_permissions(endpoint_id, access_control_list=[grant])
    names = [entry.group_name or entry.user_name for entry in replaced.access_control_list or []]
    assert names == ["admins", "users"]
    bob = WorkspaceClient(host=live.url, token=BOB_TOKEN)
    level = bob.serving_endpoints.get(ready).permission_level
    assert level is not None
    assert level.value == "CAN_VIEW"
    with pytest.raises(PermissionDenied, match="does not have permission 'Query'"):
        bob.serving_endpoints.query(ready, dataframe_records=[TURBINE_ROW])


@pytest.mark.behaviour("notifications.patch", "telemetry.patch", "rate-limits.legacy")
def test_sdk_notifications_telemetry_rate_limits(sdk: WorkspaceClient, ready: str) -> None:
    notifications = EmailNotifications(on_update_failure=["oncall@example.com"])
    updated = sdk.serving_endpoints.update_notifications(ready, email_notifications=notifications)
    assert updated.name == ready
    assert updated.email_notifications == notifications
    features = [TelemetryFeature.TELEMETRY_FEATURE_LOGS]
    endpoint = sdk.serving_endpoints.patch_telemetry_config(
        ready, telemetry_config=TelemetryConfig(enabled_telemetry_features=features)
    )
    assert endpoint.telemetry_config is not None
    assert endpoint.telemetry_config.enabled_telemetry_features == features
    limits = [RateLimit(calls=5, renewal_period=RateLimitRenewalPeriod.MINUTE, key=RateLimitKey.USER)]
    assert sdk.serving_endpoints.put(ready, rate_limits=limits).rate_limits == limits
    assert sdk.serving_endpoints.get(ready).email_notifications == notifications


@pytest.mark.behaviour("pt.create", "pt.update", "query.chat")
def test_sdk_provisioned_throughput(sdk: WorkspaceClient, workspace: Workspace) -> None:
    def units(count: int) -> PtEndpointCoreConfig:
        model = PtServedModel(entity_name=LLAMA, entity_version="1", provisioned_model_units=count)
        return PtEndpointCoreConfig(served_entities=[model])

    waiter = sdk.serving_endpoints.create_provisioned_throughput_endpoint("fid-pt", config=units(50))
    workspace.clock.advance(DEPLOY_SECONDS)
    waiter.result(timeout=WAIT)
    waiter = sdk.serving_endpoints.update_provisioned_throughput_endpoint_config("fid-pt", config=units(100))
    workspace.clock.advance(DEPLOY_SECONDS)
    endpoint = waiter.result(timeout=WAIT)
    assert endpoint.config is not None
    assert endpoint.config.config_version == 2
    assert endpoint.config.served_entities is not None
    assert endpoint.config.served_entities[0].provisioned_model_units == 100
    answer = sdk.serving_endpoints.query("fid-pt", messages=[ChatMessage(role=ChatMessageRole.USER, content="hi")])
    assert answer.choices is not None
    assert answer.choices[0].message is not None
    assert answer.choices[0].message.content == "Reply from meta_llama_v3_1_8b_instruct-1: hi"


@pytest.mark.behaviour("query.chat", "query.served-model-header")
def test_sdk_query_chat(sdk: WorkspaceClient) -> None:
    answer = sdk.serving_endpoints.query(
        CHAT_ENDPOINT, messages=[ChatMessage(role=ChatMessageRole.USER, content="hello there")], max_tokens=20
    )
    assert answer.object == QueryEndpointResponseObject.CHAT_COMPLETION
    assert answer.served_model_name == CHAT_ENDPOINT
    assert answer.choices is not None
    assert answer.choices[0].message is not None
    assert answer.choices[0].message.role == ChatMessageRole.ASSISTANT
    assert answer.choices[0].message.content == f"Reply from {CHAT_ENDPOINT}: hello there"
    assert answer.usage is not None
    assert answer.usage.prompt_tokens == 2
    assert answer.usage.total_tokens == answer.usage.prompt_tokens + (answer.usage.completion_tokens or 0)


@pytest.mark.behaviour("query.embeddings")
def test_sdk_query_embeddings(sdk: WorkspaceClient) -> None:
    answer = sdk.serving_endpoints.query(GTE_ENDPOINT, input=["first text", "second text"])
    assert answer.object == QueryEndpointResponseObject.LIST
    assert answer.data is not None
    assert [d.index for d in answer.data] == [0, 1]
    assert len(answer.data[0].embedding or []) == 1024
    assert answer.usage is not None
    assert answer.usage.completion_tokens is None
    assert answer.usage.prompt_tokens == 4


@pytest.mark.behaviour("query.custom-model", "query.served-model-header")
def test_sdk_query_dataframe_records(sdk: WorkspaceClient, ready: str) -> None:
    answer = sdk.serving_endpoints.query(ready, dataframe_records=[TURBINE_ROW, {**TURBINE_ROW, "rpm": 0.0}])
    assert answer.predictions == [1262, 62]
    assert answer.served_model_name == "turbine_failure-1"
    split = DataframeSplitInput(columns=list(TURBINE_ROW), data=[list(TURBINE_ROW.values())])
    assert sdk.serving_endpoints.query(ready, dataframe_split=split).predictions == [1262]
    assert sdk.serving_endpoints.query(ready, instances=[TURBINE_ROW]).predictions == [1262]
    columns = {name: [value] for name, value in TURBINE_ROW.items()}
    assert sdk.serving_endpoints.query(ready, inputs=columns).predictions == [1262]
    with pytest.raises(BadRequest, match="missing required input column"):
        sdk.serving_endpoints.query(ready, dataframe_records=[{"vibration": 1.0}])


@pytest.mark.behaviour("delete.endpoint", "get.not-found", "errors.body")
def test_sdk_delete(sdk: WorkspaceClient, ready: str) -> None:
    sdk.serving_endpoints.delete(ready)
    with pytest.raises(ResourceDoesNotExist, match=f"Endpoint with name '{ready}' does not exist.") as caught:
        sdk.serving_endpoints.get(ready)
    assert isinstance(caught.value, NotFound)
    assert caught.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    request_info = caught.value.get_error_details().request_info
    assert request_info is not None
    assert re.fullmatch(r"[0-9a-f-]{36}", request_info.request_id)
    assert ready not in {e.name for e in sdk.serving_endpoints.list()}


@pytest.mark.behaviour("create.duplicate-name", "naming.endpoint-name", "config.registry-check")
def test_sdk_create_errors(sdk: WorkspaceClient, workspace: Workspace) -> None:
    with pytest.raises(BadRequest, match="reserved"):
        sdk.serving_endpoints.create("databricks-mine", config=config_of(entity("1")))
    with pytest.raises(NotFound, match="Registered versions: 1, 2, 3"):
        sdk.serving_endpoints.create(ENDPOINT, config=config_of(entity("9")))
    sdk.serving_endpoints.create(ENDPOINT)
    with pytest.raises(ResourceAlreadyExists, match="already exists"):
        sdk.serving_endpoints.create(ENDPOINT)
    assert "databricks-mine" not in workspace.endpoints


@pytest.mark.behaviour("errors.retry-after", "faults.status")
def test_sdk_honours_retry_after(sdk: WorkspaceClient, workspace: Workspace) -> None:
    fault = {"kind": "status", "status": 429, "retry_after": 1, "count": 1, "path": f"{ENDPOINTS_PATH}$"}
    workspace.faults.append(parse_fault(fault))
    names = {e.name for e in sdk.serving_endpoints.list()}
    assert CHAT_ENDPOINT in names
    assert [r.status for r in requests_to(workspace, "GET", ENDPOINTS_PATH)] == [429, 200]


@pytest.mark.behaviour("auth.oauth-m2m", "auth.host-metadata", "auth.oidc-discovery")
def test_sdk_oauth_m2m_lists_endpoints(live: EmulatorServer, workspace: Workspace) -> None:
    client = WorkspaceClient(host=live.url, client_id=SP_CLIENT_ID, client_secret=SP_CLIENT_SECRET)
    names = {e.name for e in client.serving_endpoints.list()}
    assert names == {name for name, e in workspace.endpoints.items() if e.system}
    assert [r.status for r in requests_to(workspace, "POST", "/oidc/v1/token")] == [200]
    assert requests_to(workspace, "GET", ENDPOINTS_PATH)[-1].principal == SP_CLIENT_ID
