"""list_endpoints filters that are far longer than any endpoint name.

fnmatch translates a glob in time quadratic in its number of '[' characters, on the event loop:
a 100,000-character filter of '[' held the server for about two and a half minutes.
"""

import time

import anyio
import pytest
from mcp import Client

from emulator import Workspace
from tests.tools.support import result_text

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("argument", ["name_filter", "task"])
async def test_list_rejects_huge_filter(client: Client, workspace: Workspace, argument: str) -> None:
    started = time.monotonic()
    with anyio.fail_after(120):
        result = await client.call_tool("list_endpoints", {argument: "[" * 20_000})
    assert time.monotonic() - started < 1.0
    assert result.is_error is True
    assert argument in result_text(result)
    assert workspace.request_log == []


async def test_list_accepts_long_glob(client: Client) -> None:
    result = await client.call_tool("list_endpoints", {"name_filter": "databricks-*" + "[a-z]" * 30})
    assert result.is_error is False, result_text(result)
