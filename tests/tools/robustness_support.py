"""Helpers shared by the robustness tests: reading tool errors and the emulator's request log."""

import json
from typing import Any

from mcp_types import CallToolResult

from emulator import Workspace

TURBINE = {"entity_name": "main.default.turbine_failure", "entity_version": "3", "workload_size": "Small"}
DEMO_V1 = {"entity_name": "main.default.demo_model", "entity_version": "1", "scale_to_zero_enabled": True}
GTE = "databricks-gte-large-en"


def result_text(result: CallToolResult) -> str:
    """Return the text content of a tool result, as the model reads it."""
    return "".join(str(getattr(part, "text", "")) for part in result.content)


def error_envelope(result: CallToolResult) -> dict[str, Any]:
    """Return the `error` object that ends the text of an isError result."""
    assert result.is_error is True, result_text(result)[:500]
    last_line = result_text(result).rsplit("\n", 1)[-1]
    envelope: dict[str, Any] = json.loads(last_line)["error"]
    return envelope


def requests_since(workspace: Workspace, start: int) -> list[tuple[str, str]]:
    """Return (method, path) of each request the emulator received after the first `start` ones."""
    return [(record.method, record.path) for record in workspace.request_log[start:]]
