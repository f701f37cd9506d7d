"""The Unity Catalog registry routes, driven by databricks-sdk and MLflow's UC client over loopback HTTP."""

from collections.abc import Iterator

import httpx
import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.config import Config
from databricks.sdk.errors import BadRequest, NotFound, ResourceAlreadyExists
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from emulator import SANDBOX_TOKEN, Workspace
from emulator.server import EmulatorServer

pytestmark = pytest.mark.anyio

MODEL = "main.default.turbine_failure"


@pytest.fixture
def live(workspace: Workspace) -> Iterator[EmulatorServer]:
    with EmulatorServer(workspace) as server:
        yield server


@pytest.fixture
def sdk(live: EmulatorServer) -> WorkspaceClient:
    return WorkspaceClient(config=Config(host=live.url, token=SANDBOX_TOKEN, retry_timeout_seconds=5))


@pytest.fixture
def mlflow_client(live: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> MlflowClient:
    monkeypatch.setenv("DATABRICKS_HOST", live.url)
    monkeypatch.setenv("DATABRICKS_TOKEN", SANDBOX_TOKEN)
    return MlflowClient(tracking_uri="databricks", registry_uri="databricks-uc")


@pytest.mark.behaviour("registry.uc-models", "registry.uc-aliases")
def test_registry_sdk_get_model_with_aliases(sdk: WorkspaceClient) -> None:
    model = sdk.registered_models.get(MODEL, include_aliases=True)
    assert model.full_name == MODEL
    assert (model.catalog_name, model.schema_name, model.name) == ("main", "default", "turbine_failure")
    assert model.comment == "Predicts turbine failure from sensor readings."
    assert model.aliases is not None
    assert [(a.alias_name, a.version_num) for a in model.aliases] == [("prod", 2)]


@pytest.mark.behaviour("registry.uc-models")
def test_registry_sdk_get_model_without_aliases(sdk: WorkspaceClient) -> None:
    model = sdk.registered_models.get(MODEL)
    assert not model.aliases


@pytest.mark.behaviour("registry.uc-models")
def test_registry_sdk_list_models_pages(sdk: WorkspaceClient, workspace: Workspace) -> None:
    names = [m.full_name for m in sdk.registered_models.list(max_results=1)]
    assert names == sorted(workspace.models)
    list_calls = [r for r in workspace.request_log if r.path == "/api/2.1/unity-catalog/models"]
    assert len(list_calls) == len(workspace.models)


@pytest.mark.behaviour("registry.uc-models")
def test_registry_sdk_list_models_by_schema(sdk: WorkspaceClient, workspace: Workspace) -> None:
    names = [m.full_name for m in sdk.registered_models.list(catalog_name="main", schema_name="default")]
    assert names == sorted(n for n in workspace.models if n.startswith("main.default."))
    assert MODEL in names


@pytest.mark.behaviour("registry.uc-versions")
def test_registry_sdk_versions_ready(sdk: WorkspaceClient) -> None:
    versions = list(sdk.model_versions.list(MODEL))
    assert [v.version for v in versions] == [1, 2, 3]
    assert all(v.status is not None and v.status.value == "READY" for v in versions)
    assert all(v.model_name == "turbine_failure" for v in versions)


@pytest.mark.behaviour("registry.uc-aliases")
def test_registry_sdk_get_by_alias(sdk: WorkspaceClient) -> None:
    version = sdk.model_versions.get_by_alias(MODEL, "prod", include_aliases=True)
    assert version.version == 2
    assert version.aliases is not None
    assert [a.alias_name for a in version.aliases] == ["prod"]


@pytest.mark.behaviour("registry.uc-aliases")
def test_registry_sdk_set_and_delete_alias(sdk: WorkspaceClient, workspace: Workspace) -> None:
    alias = sdk.registered_models.set_alias(MODEL, "champion", 3)
    assert (alias.alias_name, alias.version_num) == ("champion", 3)
    assert workspace.models[MODEL].aliases["champion"] == 3
    assert sdk.model_versions.get_by_alias(MODEL, "champion").version == 3
    sdk.registered_models.delete_alias(MODEL, "champion")
    assert "champion" not in workspace.models[MODEL].aliases
    with pytest.raises(NotFound, match="Alias 'champion' does not exist"):
        sdk.model_versions.get_by_alias(MODEL, "champion")


@pytest.mark.behaviour("registry.uc-aliases")
def test_registry_sdk_alias_moves(sdk: WorkspaceClient) -> None:
    sdk.registered_models.set_alias(MODEL, "prod", 3)
    assert sdk.model_versions.get_by_alias(MODEL, "prod").version == 3


@pytest.mark.behaviour("registry.errors")
def test_registry_sdk_unknown_version(sdk: WorkspaceClient) -> None:
    with pytest.raises(NotFound) as caught:
        sdk.model_versions.get(MODEL, 9)
    assert caught.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert "Version 9 of registered model 'main.default.turbine_failure' does not exist" in str(caught.value)
    assert "Existing versions: 1, 2, 3" in str(caught.value)


@pytest.mark.behaviour("registry.errors")
def test_registry_sdk_unknown_model(sdk: WorkspaceClient) -> None:
    with pytest.raises(NotFound, match="Registered model 'main.default.nope' does not exist"):
        sdk.registered_models.get("main.default.nope")
    with pytest.raises(NotFound, match="main.default.nope"):
        list(sdk.model_versions.list("main.default.nope"))


@pytest.mark.behaviour("registry.errors")
def test_registry_sdk_alias_to_missing_version(sdk: WorkspaceClient, workspace: Workspace) -> None:
    with pytest.raises(NotFound, match="Version 7"):
        sdk.registered_models.set_alias(MODEL, "champion", 7)
    assert "champion" not in workspace.models[MODEL].aliases


@pytest.mark.behaviour("registry.alias-names")
def test_registry_sdk_reserved_alias_rejected(sdk: WorkspaceClient) -> None:
    for alias in ("latest", "v2"):
        with pytest.raises(BadRequest, match=f"Alias '{alias}' is invalid"):
            sdk.registered_models.set_alias(MODEL, alias, 1)


@pytest.mark.behaviour("registry.uc-models")
def test_registry_sdk_create_and_delete_model(sdk: WorkspaceClient, workspace: Workspace) -> None:
    created = sdk.registered_models.create(catalog_name="main", schema_name="default", name="new_model")
    assert created.full_name == "main.default.new_model"
    assert created.owner == "sandbox@example.com"
    assert list(sdk.model_versions.list("main.default.new_model")) == []
    with pytest.raises(ResourceAlreadyExists, match="already exists"):
        sdk.registered_models.create(catalog_name="main", schema_name="default", name="new_model")
    sdk.registered_models.delete("main.default.new_model")
    assert "main.default.new_model" not in workspace.models


@pytest.mark.behaviour("registry.errors")
async def test_registry_two_level_name_rejected(emulator_http: httpx.AsyncClient) -> None:
    response = await emulator_http.get("/api/2.1/unity-catalog/models/default.turbine_failure")
    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "'<catalog>.<schema>.<model>'" in response.json()["message"]


@pytest.mark.behaviour("registry.errors")
async def test_registry_non_integer_version_rejected(emulator_http: httpx.AsyncClient) -> None:
    response = await emulator_http.get(f"/api/2.1/unity-catalog/models/{MODEL}/versions/two")
    assert response.status_code == 400
    assert "'two' is not an integer" in response.json()["message"]


@pytest.mark.behaviour("registry.errors")
async def test_registry_negative_max_results_rejected(emulator_http: httpx.AsyncClient) -> None:
    response = await emulator_http.get("/api/2.1/unity-catalog/models", params={"max_results": -1})
    assert response.status_code == 400
    assert "max_results must be >= 0" in response.json()["message"]


@pytest.mark.behaviour("registry.mlflow-uc")
def test_registry_mlflow_get_model(mlflow_client: MlflowClient) -> None:
    model = mlflow_client.get_registered_model(MODEL)
    assert model.name == MODEL
    assert model.aliases == {"prod": "2"}
    assert model.description == "Predicts turbine failure from sensor readings."


@pytest.mark.behaviour("registry.mlflow-uc")
def test_registry_mlflow_version_by_alias(mlflow_client: MlflowClient) -> None:
    version = mlflow_client.get_model_version_by_alias(MODEL, "prod")
    assert version.version == "2"
    assert version.status == "READY"
    assert version.aliases == ["prod"]


@pytest.mark.behaviour("registry.mlflow-uc")
def test_registry_mlflow_set_and_delete_alias(mlflow_client: MlflowClient, workspace: Workspace) -> None:
    mlflow_client.set_registered_model_alias(MODEL, "champion", 3)
    assert workspace.models[MODEL].aliases["champion"] == 3
    assert mlflow_client.get_model_version(MODEL, "3").aliases == ["champion"]
    mlflow_client.delete_registered_model_alias(MODEL, "champion")
    assert "champion" not in workspace.models[MODEL].aliases


@pytest.mark.behaviour("registry.mlflow-uc")
def test_registry_mlflow_search_versions(mlflow_client: MlflowClient) -> None:
    versions = mlflow_client.search_model_versions(f"name='{MODEL}'")
    assert [v.version for v in versions] == ["1", "2", "3"]
    assert {v.status for v in versions} == {"READY"}


@pytest.mark.behaviour("registry.mlflow-uc")
def test_registry_mlflow_search_by_run_matches_nothing(mlflow_client: MlflowClient) -> None:
    assert list(mlflow_client.search_model_versions("run_id='abc'")) == []


@pytest.mark.behaviour("registry.errors")
def test_registry_mlflow_unknown_version(mlflow_client: MlflowClient) -> None:
    with pytest.raises(MlflowException) as caught:
        mlflow_client.get_model_version(MODEL, "9")
    assert caught.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert "Version 9 of registered model" in caught.value.message


@pytest.mark.behaviour("registry.errors")
def test_registry_mlflow_unknown_alias(mlflow_client: MlflowClient) -> None:
    with pytest.raises(MlflowException, match="Alias 'staging' does not exist"):
        mlflow_client.get_model_version_by_alias(MODEL, "staging")


@pytest.mark.behaviour("registry.errors")
async def test_registry_mlflow_unsupported_filter(emulator_http: httpx.AsyncClient) -> None:
    response = await emulator_http.get(
        "/api/2.0/mlflow/unity-catalog/model-versions/search", params={"filter": "tags.x = 'y'"}
    )
    assert response.status_code == 400
    assert "Unsupported filter" in response.json()["message"]
