"""Real-workspace mode: databricks-sdk unified auth, aimed at a loopback emulator."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from mcp import Client

from emulator import SANDBOX_TOKEN, seeded_workspace
from emulator.server import EmulatorServer
from server.app import build_server
from server.settings import Settings

pytestmark = pytest.mark.anyio

INVALID_TOKEN = "dapi-invalid-token-0123456789"


@pytest.fixture
def emulator_url() -> Iterator[str]:
    with EmulatorServer(seeded_workspace(time_scale=0)) as emulator:
        yield emulator.url


def write_config(path: Path, url: str) -> Path:
    path.write_text(
        f"[prod]\nhost = {url}\ntoken = {SANDBOX_TOKEN}\n\n[staging]\nhost = {url}\ntoken = {INVALID_TOKEN}\n"
    )
    return path


async def test_missing_default_profile_lists_profiles(
    emulator_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(write_config(tmp_path / "databrickscfg", emulator_url)))
    async with Client(build_server(Settings())) as client:
        result = await client.call_tool("get_endpoint", {"name": "databricks-gte-large-en"})
        assert result.is_error is True
        text = result.content[0].text  # type: ignore[union-attr]
        assert "CONFIGURATION_ERROR" in text
        assert "prod, staging" in text
        assert "--profile" in text


async def test_named_profile_reaches_workspace(
    emulator_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(write_config(tmp_path / "databrickscfg", emulator_url)))
    async with Client(build_server(Settings(profile="prod"))) as client:
        result = await client.call_tool("get_endpoint", {"name": "databricks-gte-large-en"})
    assert result.is_error is False
    assert result.structured_content is not None
    assert result.structured_content["ready"] == "READY"


async def test_environment_token_reaches_workspace(emulator_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABRICKS_HOST", emulator_url)
    monkeypatch.setenv("DATABRICKS_TOKEN", SANDBOX_TOKEN)
    async with Client(build_server(Settings())) as client:
        result = await client.call_tool("get_endpoint", {"name": "databricks-gte-large-en"})
    assert result.is_error is False


async def test_invocation_url_as_host_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABRICKS_TOKEN", SANDBOX_TOKEN)
    settings = Settings(host="http://127.0.0.1:9/serving-endpoints/databricks-gte-large-en/invocations")
    async with Client(build_server(settings)) as client:
        result = await client.call_tool("get_endpoint", {"name": "databricks-gte-large-en"})
    assert result.is_error is True
    text = result.content[0].text  # type: ignore[union-attr]
    assert "must be the workspace root" in text
    assert "'http://127.0.0.1:9'" in text


async def test_wrong_token_is_unauthenticated(
    emulator_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(write_config(tmp_path / "databrickscfg", emulator_url)))
    async with Client(build_server(Settings(profile="staging"))) as client:
        result = await client.call_tool("get_endpoint", {"name": "databricks-gte-large-en"})
    assert result.is_error is True
    text = result.content[0].text  # type: ignore[union-attr]
    assert "UNAUTHENTICATED (HTTP 401)" in text
    assert INVALID_TOKEN not in text
