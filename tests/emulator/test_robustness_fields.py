"""Request fields of the wrong type or size: huge integer strings, unhashable enum values, objects for strings.

Each must get a 400 (or the 404 of a missing model version) that names the field, create nothing,
and never reach Python's 4300-digit limit of int() or a dict lookup with an unhashable key.
"""

from typing import Any

import httpx
import pytest

from emulator import Workspace

pytestmark = pytest.mark.anyio

TURBINE = {"entity_name": "main.default.turbine_failure", "entity_version": "1", "scale_to_zero_enabled": True}
LLAMA_PT = {
    "entity_name": "system.ai.meta_llama_v3_1_8b_instruct",
    "entity_version": "1",
    "provisioned_model_units": 50,
}
OPENAI = {
    "name": "gpt-4o",
    "provider": "openai",
    "task": "llm/v1/chat",
    "openai_config": {"openai_api_key_plaintext": "sk-test"},
}
HUGE_DIGITS = "9" * 5_000
INT64_OVERFLOW = 2**63


def create_body(entity: dict[str, Any], **config: Any) -> dict[str, Any]:
    return {"name": "ep-fields", "config": {"served_entities": [entity], **config}}


def route(percentage: Any) -> dict[str, Any]:
    return {"routes": [{"served_entity_name": "turbine_failure-1", "traffic_percentage": percentage}]}


CREATE_CASES: dict[str, tuple[dict[str, Any], int, str]] = {
    "percentage digits": (create_body(TURBINE, traffic_config=route(HUGE_DIGITS)), 400, "traffic_percentage"),
    "percentage int64": (create_body(TURBINE, traffic_config=route(INT64_OVERFLOW)), 400, "traffic_percentage"),
    "concurrency digits": (
        create_body({**TURBINE, "min_provisioned_concurrency": HUGE_DIGITS, "max_provisioned_concurrency": 4}),
        400,
        "served_entities[0].min_provisioned_concurrency",
    ),
    "throughput int64": (
        create_body({**TURBINE, "max_provisioned_throughput": INT64_OVERFLOW}),
        400,
        "served_entities[0].max_provisioned_throughput",
    ),
    "version digits": (create_body({**TURBINE, "entity_version": HUGE_DIGITS}), 404, "served_entities[0]"),
    "version object": (create_body({**TURBINE, "entity_version": {"a": 1}}), 400, "served_entities[0].entity_version"),
    "version bool": (create_body({**TURBINE, "entity_version": True}), 400, "served_entities[0].entity_version"),
    "served_models version": (
        {
            "name": "ep-fields",
            "config": {
                "served_models": [
                    {"model_name": TURBINE["entity_name"], "model_version": HUGE_DIGITS, "scale_to_zero_enabled": True}
                ]
            },
        },
        404,
        "served_models[0]",
    ),
    "provider list": (create_body({"external_model": {**OPENAI, "provider": ["openai"]}}), 400, "provider"),
    "provider object": (create_body({"external_model": {**OPENAI, "provider": {"a": 1}}}), 400, "provider"),
    "api base list": (
        create_body(
            {"external_model": {**OPENAI, "openai_config": {"openai_api_key_plaintext": "k", "openai_api_base": [1]}}}
        ),
        400,
        "openai_config.openai_api_base",
    ),
    "instance profile number": (
        create_body({**TURBINE, "instance_profile_arn": 5}),
        400,
        "served_entities[0].instance_profile_arn",
    ),
    "capture prefix object": (
        create_body(
            TURBINE,
            auto_capture_config={"catalog_name": "main", "schema_name": "s", "table_name_prefix": {"a": 1}},
        ),
        400,
        "auto_capture_config.table_name_prefix",
    ),
    "legacy calls digits": (
        {**create_body(TURBINE), "rate_limits": [{"calls": HUGE_DIGITS, "renewal_period": "minute"}]},
        400,
        "rate_limits[0].calls",
    ),
    "gateway tokens digits": (
        {**create_body(TURBINE), "ai_gateway": {"rate_limits": [{"tokens": HUGE_DIGITS, "renewal_period": "minute"}]}},
        400,
        "rate_limits[0].tokens",
    ),
}


@pytest.mark.behaviour("config.proto3-strings", "config.registry-check", "external.providers")
@pytest.mark.parametrize(("body", "status", "field"), CREATE_CASES.values(), ids=CREATE_CASES.keys())
async def test_create_field_rejected(
    emulator_http: httpx.AsyncClient, workspace: Workspace, body: dict[str, Any], status: int, field: str
) -> None:
    response = await emulator_http.post("/api/2.0/serving-endpoints", json=body)
    assert response.status_code == status, response.text
    assert set(response.json()) == {"error_code", "message", "details"}
    message = response.json()["message"]
    assert field in message
    assert len(message) < 1_000
    assert "ep-fields" not in workspace.endpoints


PT_CASES: dict[str, tuple[dict[str, Any], int, str]] = {
    "units digits": ({**LLAMA_PT, "provisioned_model_units": HUGE_DIGITS}, 400, "provisioned_model_units"),
    "version digits": ({**LLAMA_PT, "entity_version": HUGE_DIGITS}, 404, "served_entities[0]"),
}


@pytest.mark.behaviour("pt.create", "config.registry-check")
@pytest.mark.parametrize(("entity", "status", "field"), PT_CASES.values(), ids=PT_CASES.keys())
async def test_pt_create_field_rejected(
    emulator_http: httpx.AsyncClient, workspace: Workspace, entity: dict[str, Any], status: int, field: str
) -> None:
    body = {"name": "ep-fields", "config": {"served_entities": [entity]}}
    response = await emulator_http.post("/api/2.0/serving-endpoints/pt", json=body)
    assert response.status_code == status, response.text
    assert field in response.json()["message"]
    assert "ep-fields" not in workspace.endpoints


@pytest.mark.behaviour("config.proto3-strings")
async def test_create_int64_bounds_accepted(emulator_http: httpx.AsyncClient) -> None:
    routes = {"routes": [{"served_entity_name": "turbine_failure-1", "traffic_percentage": "0100"}]}
    response = await emulator_http.post("/api/2.0/serving-endpoints", json=create_body(TURBINE, traffic_config=routes))
    assert response.status_code == 200, response.text
    [stored] = response.json()["pending_config"]["traffic_config"]["routes"]
    assert stored["traffic_percentage"] == 100


PAGED_PATHS = [
    "/api/2.1/unity-catalog/models",
    "/api/2.1/unity-catalog/models/main.default.turbine_failure/versions",
    "/api/2.0/mlflow/unity-catalog/registered-models/search",
]


@pytest.mark.behaviour("registry.errors")
@pytest.mark.parametrize("path", PAGED_PATHS)
@pytest.mark.parametrize("parameter", ["page_token", "max_results"])
async def test_registry_page_digits_rejected(emulator_http: httpx.AsyncClient, path: str, parameter: str) -> None:
    response = await emulator_http.get(path, params={parameter: HUGE_DIGITS})
    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert parameter in response.json()["message"]


@pytest.mark.behaviour("registry.uc-models", "registry.errors")
@pytest.mark.parametrize(
    ("field", "value"), [("catalog_name", 5), ("schema_name", ["default"]), ("name", {"a": 1}), ("comment", 7)]
)
async def test_registry_create_field_type(
    emulator_http: httpx.AsyncClient, workspace: Workspace, field: str, value: Any
) -> None:
    models_before = set(workspace.models)
    body = {"catalog_name": "main", "schema_name": "default", "name": "typed", field: value}
    response = await emulator_http.post("/api/2.1/unity-catalog/models", json=body)
    assert response.status_code == 400
    assert f"'{field}' must be a string" in response.json()["message"]
    assert set(workspace.models) == models_before


@pytest.mark.behaviour("registry.errors")
async def test_registry_version_digits_rejected(emulator_http: httpx.AsyncClient) -> None:
    response = await emulator_http.get(
        f"/api/2.1/unity-catalog/models/main.default.turbine_failure/versions/{HUGE_DIGITS}"
    )
    assert response.status_code == 400
    assert "is not an integer" in response.json()["message"]
    assert len(response.json()["message"]) < 1_000


@pytest.mark.behaviour("admin.request-log")
@pytest.mark.parametrize("since", [HUGE_DIGITS, "\u0663"])
async def test_admin_since_digits_rejected(emulator_http: httpx.AsyncClient, since: str) -> None:
    response = await emulator_http.get("/__emulator__/requests", params={"since": since})
    assert response.status_code == 400
    assert "'since'" in response.json()["message"]
