import re
from typing import Any

import pytest
from mcp import Client

from emulator import Workspace, apply_scenario
from tests.tools.support import content_of, error_envelope, model_entity, result_text

pytestmark = pytest.mark.anyio

COLUMNS = ["vibration", "rpm", "temp_c"]


def add_endpoints(workspace: Workspace) -> None:
    """ep-demo: one custom model; ep-five: five; ep-nosig: a model without signature; ep-new: deploying."""
    five = [model_entity("main.default.turbine_failure", v) for v in (1, 2, 3)]
    five += [model_entity("main.default.demo_model", v) for v in (1, 2)]
    names = ["turbine_failure-1", "turbine_failure-2", "turbine_failure-3", "demo_model-1", "demo_model-2"]
    routes = [{"served_entity_name": name, "traffic_percentage": 20} for name in names]
    apply_scenario(
        workspace,
        {
            "models": [{"name": "main.default.nosig", "versions": [{"version": 1}]}],
            "endpoints": [
                {"name": "ep-demo", "config": {"served_entities": [model_entity("main.default.turbine_failure", 1)]}},
                {"name": "ep-five", "config": {"served_entities": five, "traffic_config": {"routes": routes}}},
                {"name": "ep-nosig", "config": {"served_entities": [model_entity("main.default.nosig", 1)]}},
                {
                    "name": "ep-new",
                    "pending": {"config": {"served_entities": [model_entity("main.default.demo_model", 1)]}},
                },
            ],
        },
    )


async def call(client: Client, **arguments: Any) -> tuple[dict[str, Any], str]:
    result = await client.call_tool("get_open_api", arguments)
    return content_of(result), result_text(result)


async def call_error(client: Client, **arguments: Any) -> dict[str, Any]:
    return error_envelope(await client.call_tool("get_open_api", arguments))


def openapi_requests(workspace: Workspace) -> list[Any]:
    return [record for record in workspace.request_log if record.path.endswith("/openapi")]


async def test_open_api_annotations(client: Client) -> None:
    tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    annotations = tools["get_open_api"].annotations
    assert annotations is not None
    assert annotations.read_only_hint is True
    assert annotations.open_world_hint is False


async def test_open_api_custom_model_summary(client: Client, workspace: Workspace) -> None:
    add_endpoints(workspace)
    content, _ = await call(client, name="ep-demo")
    assert content["openapi"] == "3.1.0"
    assert content["title"] == "ep-demo"
    assert content["version"] == "1"
    [path] = content["paths"]
    assert path["path"] == "/served-models/turbine_failure-1/invocations"
    assert path["served_entity"] == "turbine_failure-1"
    formats = {item["key"]: item for item in path["input_formats"]}
    assert set(formats) == {"dataframe_split", "dataframe_records"}
    for item in formats.values():
        assert item["required_columns"] == COLUMNS
        assert item["column_types"] == dict.fromkeys(COLUMNS, "number/double")
    assert path["response_shape"] == "{predictions: array<integer/int64>}"
    assert content["document"]["paths"][path["path"]]["post"]["requestBody"]
    assert content["truncation"] is None


async def test_open_api_chat_fields(client: Client) -> None:
    content, _ = await call(client, name="databricks-claude-sonnet-4-6")
    [path] = content["paths"]
    [chat] = path["input_formats"]
    assert chat["key"] == "messages"
    assert "max_tokens" in chat["other_fields"]
    assert "temperature" in chat["other_fields"]
    assert path["response_shape"].startswith("{choices: array<")


async def test_open_api_not_ready(client: Client, workspace: Workspace) -> None:
    add_endpoints(workspace)
    error = await call_error(client, name="ep-new")
    assert error["error_code"] == "ENDPOINT_NOT_READY"
    assert "wait_until_ready(name='ep-new')" in error["next_step"]
    assert not openapi_requests(workspace)


async def test_open_api_missing_endpoint(client: Client) -> None:
    error = await call_error(client, name="no-such-endpoint")
    assert error["http_status"] == 404
    assert error["error_code"] == "RESOURCE_DOES_NOT_EXIST"


async def test_open_api_no_signature(client: Client, workspace: Workspace) -> None:
    add_endpoints(workspace)
    error = await call_error(client, name="ep-nosig")
    assert error["http_status"] == 400
    assert "no logged signature" in error["message"]
    assert "MLflow signature" in error["next_step"]


async def test_open_api_cut_by_path(client: Client, workspace: Workspace) -> None:
    add_endpoints(workspace)
    content, text = await call(client, name="ep-five", max_chars=12_000)
    assert len(text) <= 12_000
    assert [p["served_entity"] for p in content["paths"]] == [
        "turbine_failure-1",
        "turbine_failure-2",
        "turbine_failure-3",
        "demo_model-1",
        "demo_model-2",
    ]
    truncation = content["truncation"]
    match = re.fullmatch(r"document: kept (\d) of 5 paths, without components", truncation["omitted"][0])
    assert match is not None
    assert int(match.group(1)) == len(content["document"]["paths"])
    assert "path=" in truncation["hint"]


async def test_open_api_whole_when_it_fits(client: Client, workspace: Workspace) -> None:
    add_endpoints(workspace)
    content, _ = await call(client, name="ep-five")
    assert len(content["document"]["paths"]) == 5
    assert content["truncation"] is None


async def test_open_api_one_path_by_entity(client: Client, workspace: Workspace) -> None:
    add_endpoints(workspace)
    content, _ = await call(client, name="ep-five", path="demo_model-2", max_chars=12_000)
    assert list(content["document"]["paths"]) == ["/served-models/demo_model-2/invocations"]
    assert [p["served_entity"] for p in content["paths"]] == ["demo_model-2"]
    formats = {item["key"]: item for item in content["paths"][0]["input_formats"]}
    assert formats["dataframe_split"]["required_columns"] == ["x"]
    assert content["truncation"] is None


async def test_open_api_unknown_path(client: Client, workspace: Workspace) -> None:
    add_endpoints(workspace)
    error = await call_error(client, name="ep-demo", path="turbine_failure-9")
    assert error["error_code"] == "INVALID_ARGUMENT"
    assert error["field"] == "path"
    assert "/served-models/turbine_failure-1/invocations" in error["fix"]


async def test_open_api_small_cap_stays_under(client: Client, workspace: Workspace) -> None:
    add_endpoints(workspace)
    content, text = await call(client, name="ep-five", max_chars=2_000)
    assert len(text) <= 2_000
    assert content["truncation"] is not None
    assert any("Summarised" in note for note in content["notes"])
