from typing import Any

import pytest
from mcp import Client

from emulator import Workspace, apply_scenario
from server.settings import Settings
from tests.tools.support import content_of

pytestmark = pytest.mark.anyio

SEED_COUNT = 10


def many_endpoints(count: int) -> dict[str, Any]:
    entity = {"entity_name": "main.default.demo_model", "entity_version": "1", "scale_to_zero_enabled": True}
    return {
        "endpoints": [{"name": f"team-{i:04d}", "config": {"served_entities": [entity]}} for i in range(count)],
    }


async def list_page(client: Client, **arguments: Any) -> dict[str, Any]:
    return content_of(await client.call_tool("list_endpoints", arguments))


async def test_list_compact_rows(client: Client) -> None:
    page = await list_page(client)
    assert page["total"] == SEED_COUNT
    assert page["truncated"] is False
    assert page["next_offset"] is None
    rows = {row["name"]: row for row in page["rows"]}
    assert rows["databricks-gte-large-en"] == {
        "name": "databricks-gte-large-en",
        "id": None,
        "ready": "READY",
        "config_update": "NOT_UPDATING",
        "task": "llm/v1/embeddings",
        "entities": ["databricks-gte-large-en: system.ai.databricks-gte-large-en v1"],
    }
    assert [row["name"] for row in page["rows"]] == sorted(rows)


async def test_list_name_filter_substring_and_glob(client: Client) -> None:
    page = await list_page(client, name_filter="SONNET")
    assert [row["name"] for row in page["rows"]] == [
        "databricks-claude-sonnet-4",
        "databricks-claude-sonnet-4-5",
        "databricks-claude-sonnet-4-6",
    ]
    glob = await list_page(client, name_filter="*-en")
    assert [row["name"] for row in glob["rows"]] == ["databricks-bge-large-en", "databricks-gte-large-en"]


async def test_list_task_filter(client: Client) -> None:
    page = await list_page(client, task="embeddings")
    assert page["total"] == 2
    assert {row["task"] for row in page["rows"]} == {"llm/v1/embeddings"}


async def test_list_pages_with_offset(client: Client, workspace: Workspace) -> None:
    apply_scenario(workspace, many_endpoints(120))
    first = await list_page(client, name_filter="team-", limit=50)
    assert first["total"] == 120
    assert first["returned"] == 50
    assert first["truncated"] is True
    assert first["next_offset"] == 50
    assert "list_endpoints(offset=50, name_filter='team-')" in first["hint"]
    last = await list_page(client, name_filter="team-", limit=50, offset=100)
    assert last["returned"] == 20
    assert last["rows"][-1]["name"] == "team-0119"
    assert last["truncated"] is False


async def test_list_numeric_string_arguments(client: Client) -> None:
    page = await list_page(client, limit="3", offset="2")
    assert page["returned"] == 3
    assert page["offset"] == 2


@pytest.mark.parametrize("settings", [Settings(max_result_chars=4000)])
async def test_list_fits_result_cap(client: Client, workspace: Workspace) -> None:
    apply_scenario(workspace, many_endpoints(200))
    result = await client.call_tool("list_endpoints", {"limit": 200})
    assert result.is_error is False
    assert len(result.content[0].text) <= 4000  # type: ignore[union-attr]
    page = result.structured_content
    assert page is not None
    assert page["total"] == 210
    assert 0 < page["returned"] < 200
    assert page["truncated"] is True
    assert page["next_offset"] == page["returned"]


async def test_list_limit_out_of_range(client: Client) -> None:
    result = await client.call_tool("list_endpoints", {"limit": 0})
    assert result.is_error is True
    assert "limit" in result.content[0].text  # type: ignore[union-attr]
