"""Every mutating call leaves one audit record: done, rejected or failed."""

import json
from pathlib import Path

import pytest
from mcp import Client

from emulator import Workspace
from server.settings import Settings
from tests.tools.support import DEMO_V1, emulator_server

pytestmark = pytest.mark.anyio


def audit_entries(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def audited_client(workspace: Workspace, path: Path, **settings: object) -> Client:
    server = emulator_server(workspace, Settings(audit_log=str(path), **settings))  # type: ignore[arg-type]
    return Client(server)


async def test_audit_protected_create_rejected(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    async with audited_client(workspace, path, protected_endpoints=("prod-*",)) as client:
        result = await client.call_tool("create_endpoint", {"name": "prod-x", "served_entities": [DEMO_V1]})
    assert result.is_error is True
    entries = audit_entries(path)
    assert [(e["tool"], e["target"], e["outcome"]) for e in entries] == [("create_endpoint", "prod-x", "rejected")]
    assert entries[0]["detail"]["error_code"] == "PROTECTED_ENDPOINT"  # type: ignore[index]


async def test_audit_read_only_delete_rejected(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    async with audited_client(workspace, path, read_only=True) as client:
        result = await client.call_tool("delete_endpoint", {"name": "ep-a", "confirm_name": "ep-a"})
    assert result.is_error is True
    entries = audit_entries(path)
    assert [(e["tool"], e["outcome"]) for e in entries] == [("delete_endpoint", "rejected")]


async def test_audit_create_conflict_failed(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    async with audited_client(workspace, path) as client:
        first = await client.call_tool("create_endpoint", {"name": "ep-a", "served_entities": [DEMO_V1]})
        second = await client.call_tool("create_endpoint", {"name": "ep-a", "served_entities": [DEMO_V1]})
    assert first.is_error is False
    assert second.is_error is True
    outcomes = [e["outcome"] for e in audit_entries(path)]
    assert outcomes == ["created", "failed"]
