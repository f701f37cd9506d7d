from typing import Any

import pytest
from mcp import Client

from emulator import Workspace, apply_scenario
from tests.tools.support import content_of
from tools.foundation import natural_key, version_of

pytestmark = pytest.mark.anyio

CHAT = "llm/v1/chat"
EMBEDDINGS = "llm/v1/embeddings"


def foundation_endpoint(name: str, task: str = CHAT, entity_name: str | None = None) -> dict[str, Any]:
    entity = {"name": name, "entity_name": entity_name or f"system.ai.{name}", "entity_version": "1"}
    if not entity["entity_name"].startswith("system.ai."):
        entity["scale_to_zero_enabled"] = True
    return {"name": name, "system": True, "task": task, "config": {"served_entities": [entity]}}


def add(workspace: Workspace, *endpoints: dict[str, Any]) -> None:
    apply_scenario(workspace, {"endpoints": list(endpoints)})


def remove(workspace: Workspace, *fragments: str) -> None:
    for name in [n for n in workspace.endpoints if any(f in n for f in fragments)]:
        del workspace.endpoints[name]


async def pick(client: Client, purpose: str | None = None) -> dict[str, Any]:
    arguments = {} if purpose is None else {"purpose": purpose}
    return content_of(await client.call_tool("pick_foundation_model", arguments))


async def test_pick_seed_defaults(client: Client) -> None:
    assert (await pick(client))["endpoint"] == "databricks-claude-sonnet-4-6"
    assert (await pick(client, "chat"))["endpoint"] == "databricks-claude-sonnet-4-6"
    assert (await pick(client, "code"))["endpoint"] == "databricks-gpt-5-1-codex-max"
    assert (await pick(client, "embeddings"))["endpoint"] == "databricks-gte-large-en"


async def test_pick_alternatives_grouped_by_task(client: Client) -> None:
    result = await pick(client)
    assert set(result["alternatives"]) == {CHAT, EMBEDDINGS}
    assert result["alternatives"][EMBEDDINGS] == ["databricks-bge-large-en", "databricks-gte-large-en"]
    assert "databricks-app-template-serving" not in str(result["alternatives"])
    assert result["entity_name"] == "system.ai.databricks-claude-sonnet-4-6"
    assert "Claude Sonnet" in result["reason"]


async def test_pick_reads_live_list_once(client: Client, workspace: Workspace) -> None:
    await pick(client)
    assert [(r.method, r.path) for r in workspace.request_log] == [("GET", "/api/2.0/serving-endpoints")]


async def test_pick_follows_new_sonnet(client: Client, workspace: Workspace) -> None:
    add(workspace, foundation_endpoint("databricks-claude-sonnet-4-10"))
    assert (await pick(client, "agent"))["endpoint"] == "databricks-claude-sonnet-4-10"


async def test_pick_numeric_not_lexical(client: Client, workspace: Workspace) -> None:
    add(
        workspace,
        foundation_endpoint("databricks-claude-sonnet-4-9"),
        foundation_endpoint("databricks-claude-sonnet-4-10"),
    )
    result = await pick(client)
    assert result["endpoint"] == "databricks-claude-sonnet-4-10"
    chat = result["alternatives"][CHAT]
    assert chat.index("databricks-claude-sonnet-4-9") < chat.index("databricks-claude-sonnet-4-10")


async def test_pick_ignores_look_alike_endpoint(client: Client, workspace: Workspace) -> None:
    add(workspace, foundation_endpoint("databricks-claude-sonnet-9", entity_name="main.default.demo_model"))
    result = await pick(client)
    assert result["endpoint"] == "databricks-claude-sonnet-4-6"
    assert "databricks-claude-sonnet-9" not in str(result["alternatives"])


async def test_pick_without_sonnet_uses_other_claude(client: Client, workspace: Workspace) -> None:
    remove(workspace, "sonnet")
    result = await pick(client)
    assert result["endpoint"] == "databricks-claude-opus-4-8"
    assert "no Claude Sonnet" in result["reason"]


async def test_pick_retired_models_use_live_chat(client: Client, workspace: Workspace) -> None:
    remove(workspace, "databricks-")
    add(
        workspace,
        foundation_endpoint("databricks-demo-chat", entity_name="system.ai.demo_chat"),
        foundation_endpoint("databricks-demo-embed", EMBEDDINGS, entity_name="system.ai.demo_embed"),
    )
    assert (await pick(client))["endpoint"] == "databricks-demo-chat"
    assert (await pick(client, "code"))["endpoint"] == "databricks-demo-chat"
    embeddings = await pick(client, "embeddings")
    assert embeddings["endpoint"] == "databricks-demo-embed"
    assert "databricks-gte-large-en is not live" in embeddings["reason"]


async def test_pick_code_highest_codex_max(client: Client, workspace: Workspace) -> None:
    add(
        workspace, foundation_endpoint("databricks-gpt-5-3-codex-max"), foundation_endpoint("databricks-gpt-5-10-codex")
    )
    assert (await pick(client, "code"))["endpoint"] == "databricks-gpt-5-3-codex-max"
    remove(workspace, "codex-max")
    fallback = await pick(client, "code")
    assert fallback["endpoint"] == "databricks-gpt-5-10-codex"
    assert "no -codex-max" in fallback["reason"]


async def test_pick_embeddings_without_any(client: Client, workspace: Workspace) -> None:
    remove(workspace, "-en")
    result = await client.call_tool("pick_foundation_model", {"purpose": "embeddings"})
    assert result.is_error is True
    text = result.content[0].text  # type: ignore[union-attr]
    assert "NO_FOUNDATION_MODEL" in text
    assert "purpose='embeddings'" in text
    assert "databricks-claude-sonnet-4-6" in text


async def test_pick_nothing_live(client: Client, workspace: Workspace) -> None:
    remove(workspace, "databricks-")
    result = await client.call_tool("pick_foundation_model", {})
    assert result.is_error is True
    assert "NO_FOUNDATION_MODEL" in result.content[0].text  # type: ignore[union-attr]


async def test_pick_rejects_unknown_purpose(client: Client) -> None:
    result = await client.call_tool("pick_foundation_model", {"purpose": "vision"})
    assert result.is_error is True


def test_version_of_compares_numbers() -> None:
    assert version_of("databricks-claude-sonnet-4-10") > version_of("databricks-claude-sonnet-4-9")
    assert version_of("databricks-claude-sonnet-4-5") > version_of("databricks-claude-sonnet-4")
    assert version_of("databricks-claude-sonnet-4") > version_of("databricks-claude-3-7-sonnet")


def test_natural_key_orders_numbers() -> None:
    names = ["x-4-10", "x-4", "x-4-9", "x-10"]
    assert sorted(names, key=natural_key) == ["x-4", "x-4-9", "x-4-10", "x-10"]
