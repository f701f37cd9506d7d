"""mlflow-skinny 3.17.2 deployment and Unity Catalog registry clients, unpatched, against the emulator over HTTP.

MLflow's deployment client has no waiter, so these tests poll `get_endpoint` themselves and move
the stopped emulator clock between polls.
"""

import warnings
from typing import Any

import pytest
from mlflow import MlflowClient
from mlflow.deployments import BaseDeploymentClient, get_deploy_client
from mlflow.exceptions import MlflowException

# The deployment client raises requests' HTTPError, whose message contains the response text.
from requests.exceptions import HTTPError  # noqa: TID251

from emulator import Workspace
from emulator.server import EmulatorServer
from tests.fidelity.support import (
    CHAT_ENDPOINT,
    DEPLOY_SECONDS,
    TURBINE,
    TURBINE_ROW,
    point_databricks_env_at,
    turbine_entity,
)

ENDPOINT = "fid-mlflow"
POLL_STEP_SECONDS = 60
MAX_POLLS = 30


@pytest.fixture
def deploy(live: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> BaseDeploymentClient:
    point_databricks_env_at(monkeypatch, live.url)
    return get_deploy_client("databricks")


@pytest.fixture
def registry(live: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> MlflowClient:
    point_databricks_env_at(monkeypatch, live.url)
    return MlflowClient(registry_uri="databricks-uc", tracking_uri="databricks")


def create_body(*entities: dict[str, Any]) -> dict[str, Any]:
    return {"name": ENDPOINT, "config": {"served_entities": list(entities)}}


def wait_until_serving(deploy: BaseDeploymentClient, workspace: Workspace, name: str) -> dict[str, Any]:
    """Poll until state.ready is READY and state.config_update is NOT_UPDATING, moving the clock between polls.

    Both are needed, because state.ready stays READY during an update and after a failed one.
    """
    for _ in range(MAX_POLLS):
        endpoint: dict[str, Any] = deploy.get_endpoint(name)
        state = endpoint["state"]
        if state["ready"] == "READY" and state["config_update"] == "NOT_UPDATING":
            return endpoint
        assert state["config_update"] in ("IN_PROGRESS", "NOT_UPDATING"), state
        workspace.clock.advance(POLL_STEP_SECONDS)
    raise AssertionError(f"Endpoint {name} was not serving after {MAX_POLLS} polls.")


def served_requests(workspace: Workspace, entity_name: str) -> int:
    return workspace.endpoints[ENDPOINT].usage_of(entity_name).request_count


@pytest.mark.behaviour(
    "create.pending-response",
    "state.deploy-delay",
    "get.detailed",
    "list.summaries",
    "delete.endpoint",
    "get.not-found",
)
def test_mlflow_endpoint_lifecycle(deploy: BaseDeploymentClient, workspace: Workspace) -> None:
    created = deploy.create_endpoint(config=create_body(turbine_entity("1")))
    assert created["state"] == {"ready": "NOT_READY", "config_update": "IN_PROGRESS", "suspend": "NOT_SUSPENDED"}
    assert created["pending_config"]["config_version"] == 1
    served = created["pending_config"]["served_entities"][0]
    assert served["state"]["deployment"] == "DEPLOYMENT_CREATING"
    assert served["state"]["deployment_state_message"] == "Creating resources for served entity."

    endpoint = wait_until_serving(deploy, workspace, ENDPOINT)
    assert endpoint["config"]["served_entities"][0]["name"] == "turbine_failure-1"
    assert endpoint["permission_level"] == "CAN_MANAGE"
    assert ENDPOINT in [e["name"] for e in deploy.list_endpoints()]

    assert deploy.delete_endpoint(ENDPOINT) == {}
    with pytest.raises(HTTPError, match="RESOURCE_DOES_NOT_EXIST") as caught:
        deploy.get_endpoint(ENDPOINT)
    assert caught.value.response is not None
    assert caught.value.response.status_code == 404


@pytest.mark.behaviour("update.replaces-config", "rate-limits.legacy", "state.update-conflict")
def test_mlflow_update_endpoint(deploy: BaseDeploymentClient, workspace: Workspace) -> None:
    deploy.create_endpoint(config=create_body(turbine_entity("1")))
    wait_until_serving(deploy, workspace, ENDPOINT)
    new_config = {"served_entities": [turbine_entity("2")]}
    with warnings.catch_warnings():
        # update_endpoint is deprecated in MLflow 3 but still sends PUT .../config (or .../rate-limits).
        warnings.simplefilter("ignore")
        updating = deploy.update_endpoint(endpoint=ENDPOINT, config=new_config)
        with pytest.raises(HTTPError, match="RESOURCE_CONFLICT"):
            deploy.update_endpoint(endpoint=ENDPOINT, config=new_config)
        limits = {"rate_limits": [{"calls": 10, "key": "endpoint", "renewal_period": "minute"}]}
        assert deploy.update_endpoint(endpoint=ENDPOINT, config=limits) == limits
    assert updating["state"]["config_update"] == "IN_PROGRESS"
    assert updating["pending_config"]["config_version"] == 2
    endpoint = wait_until_serving(deploy, workspace, ENDPOINT)
    assert [e["entity_version"] for e in endpoint["config"]["served_entities"]] == ["2"]
    assert "rate_limits" not in endpoint


@pytest.mark.behaviour("tags.patch", "gateway.config", "rate-limits.legacy", "create.settings-at-creation")
def test_mlflow_endpoint_settings(deploy: BaseDeploymentClient, workspace: Workspace) -> None:
    with warnings.catch_warnings():
        # The legacy create form (name and config apart) is deprecated but still sends one create body.
        warnings.simplefilter("ignore")
        created = deploy.create_endpoint(
            name=ENDPOINT, config={"served_entities": [turbine_entity("1")], "tags": [{"key": "team"}]}
        )
    assert created["tags"] == [{"key": "team"}]
    tags = deploy.update_endpoint_tags(ENDPOINT, {"add_tags": [{"key": "stage", "value": "dev"}]})
    assert tags == {"tags": [{"key": "stage", "value": "dev"}, {"key": "team"}]}
    table = {"enabled": True, "catalog_name": "main", "schema_name": "serving"}
    gateway = deploy.update_endpoint_ai_gateway(ENDPOINT, {"inference_table_config": table})
    assert gateway == {"inference_table_config": {**table, "table_name_prefix": ENDPOINT}}
    limits = {"rate_limits": [{"calls": 3, "key": "user", "renewal_period": "minute"}]}
    assert deploy.update_endpoint_rate_limits(ENDPOINT, limits) == limits
    assert workspace.endpoints[ENDPOINT].rate_limits == limits["rate_limits"]


@pytest.mark.behaviour("query.custom-model", "query.chat", "query.chat-validation")
def test_mlflow_predict(deploy: BaseDeploymentClient, workspace: Workspace) -> None:
    deploy.create_endpoint(config=create_body(turbine_entity("1")))
    wait_until_serving(deploy, workspace, ENDPOINT)
    split = {"columns": list(TURBINE_ROW), "data": [list(TURBINE_ROW.values())]}
    assert deploy.predict(endpoint=ENDPOINT, inputs={"dataframe_split": split}) == {"predictions": [1262]}

    chat = deploy.predict(endpoint=CHAT_ENDPOINT, inputs={"messages": [{"role": "user", "content": "ping"}]})
    assert chat["object"] == "chat.completion"
    assert chat["choices"][0]["message"] == {"role": "assistant", "content": f"Reply from {CHAT_ENDPOINT}: ping"}
    assert chat["choices"][0]["finish_reason"] == "stop"

    with pytest.raises(HTTPError, match="unknown field") as caught:
        deploy.predict(endpoint=CHAT_ENDPOINT, inputs={"inputs": {"messages": []}})
    assert caught.value.response is not None
    assert caught.value.response.status_code == 400
    # MLflow rebuilds the error body from error_code and message only, so `details` is not visible here.
    assert caught.value.response.json()["error_code"] == "BAD_REQUEST"


@pytest.mark.behaviour("streaming.sse")
def test_mlflow_predict_stream(deploy: BaseDeploymentClient) -> None:
    inputs = {"messages": [{"role": "user", "content": "stream this please"}], "max_tokens": 50}
    chunks = list(deploy.predict_stream(endpoint=CHAT_ENDPOINT, inputs=inputs))
    assert {c["object"] for c in chunks} == {"chat.completion.chunk"}
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert text == f"Reply from {CHAT_ENDPOINT}: stream this please"
    assert [c["choices"][0]["finish_reason"] for c in chunks][-2:] == [None, "stop"]
    assert all("usage" in c for c in chunks)
    completion_tokens = [c["usage"]["completion_tokens"] for c in chunks]
    assert completion_tokens == sorted(completion_tokens)
    assert completion_tokens[-1] == len(text.split())


@pytest.mark.behaviour("registry.mlflow-uc", "registry.errors")
def test_mlflow_alias_round_trip(registry: MlflowClient, workspace: Workspace) -> None:
    registry.set_registered_model_alias(TURBINE, "challenger", 3)
    version = registry.get_model_version_by_alias(TURBINE, "challenger")
    assert version.version == "3"
    assert version.aliases == ["challenger"]
    assert workspace.models[TURBINE].aliases["challenger"] == 3
    registry.delete_registered_model_alias(TURBINE, "challenger")
    with pytest.raises(MlflowException, match="Alias 'challenger' does not exist") as caught:
        registry.get_model_version_by_alias(TURBINE, "challenger")
    assert caught.value.error_code == "RESOURCE_DOES_NOT_EXIST"


@pytest.mark.behaviour(
    "registry.mlflow-uc",
    "update.replaces-config",
    "state.deploy-delay",
    "query.custom-model",
    "query.usage-counters",
)
def test_mlflow_zero_downtime_version_swap(
    deploy: BaseDeploymentClient, registry: MlflowClient, workspace: Workspace
) -> None:
    """Serve the version behind alias `champion`, then repoint the alias and the endpoint to version 3."""
    registry.set_registered_model_alias(TURBINE, "champion", 2)
    champion = registry.get_model_version_by_alias(TURBINE, "champion").version
    deploy.create_endpoint(config=create_body(turbine_entity(champion)))
    wait_until_serving(deploy, workspace, ENDPOINT)
    records = {"dataframe_records": [TURBINE_ROW]}

    registry.set_registered_model_alias(TURBINE, "champion", 3)
    champion = registry.get_model_version_by_alias(TURBINE, "champion").version
    assert champion == "3"
    updating = deploy.update_endpoint_config(endpoint=ENDPOINT, config={"served_entities": [turbine_entity(champion)]})
    assert updating["state"] == {"ready": "READY", "config_update": "IN_PROGRESS", "suspend": "NOT_SUSPENDED"}
    # While the update deploys, the old version keeps serving requests.
    workspace.clock.advance(DEPLOY_SECONDS / 2)
    assert deploy.predict(endpoint=ENDPOINT, inputs=records) == {"predictions": [1262]}
    assert served_requests(workspace, "turbine_failure-2") == 1

    endpoint = wait_until_serving(deploy, workspace, ENDPOINT)
    assert endpoint["config"]["config_version"] == 2
    assert [e["name"] for e in endpoint["config"]["served_entities"]] == ["turbine_failure-3"]
    assert "pending_config" not in endpoint
    assert deploy.predict(endpoint=ENDPOINT, inputs=records) == {"predictions": [1262]}
    assert served_requests(workspace, "turbine_failure-3") == 1
    assert served_requests(workspace, "turbine_failure-2") == 1
    assert registry.get_model_version_by_alias(TURBINE, "champion").version == "3"
