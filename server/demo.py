"""The main job: drive the whole serving workflow through the MCP server against the emulator.

The demo starts the emulator on a loopback port and spawns `databricks-serving-mcp serve`
over stdio as a subprocess. The subprocess is configured like a real workspace, through
DATABRICKS_HOST and DATABRICKS_TOKEN. The demo then connects the mcp Client, calls the
tools one step at a time and prints a transcript. Any failure exits non-zero and names
the step.
"""

import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

import anyio
from mcp import Client, StdioServerParameters
from mcp_types import CallToolResult, TextContent

from emulator import SANDBOX_TOKEN, seeded_workspace
from emulator.server import EmulatorServer

DEMO_ENDPOINT = "demo-turbine-failure"
DEMO_MODEL = "main.default.turbine_failure"
DEMO_VERSION = "3"
# Each wait_until_ready call returns within the server's budget; the demo calls it again
# until the endpoint is ready, as a model would.
MAX_WAIT_CALLS = 10
PREVIEW_CHARS = 300


class DemoStepFailed(Exception):
    """A step of the demo did not produce what the workflow needs."""

    def __init__(self, step: str, reason: str) -> None:
        super().__init__(f"step {step!r} failed: {reason}")
        self.step = step


@dataclass
class Transcript:
    """Prints each tool call and a short view of its result."""

    out: TextIO

    def heading(self, text: str) -> None:
        self.out.write(f"\n== {text}\n")
        self.out.flush()

    def call(self, tool: str, arguments: dict[str, Any]) -> None:
        self.out.write(f"-> {tool}({_compact(arguments)})\n")
        self.out.flush()

    def result(self, text: str) -> None:
        for line in text.splitlines() or [""]:
            self.out.write(f"   {line}\n")
        self.out.flush()

    def progress(self, progress: float, total: float | None, message: str | None) -> None:
        width = 24
        fraction = min(progress / total, 1.0) if total else 0.0
        bar = "#" * int(fraction * width) + "." * (width - int(fraction * width))
        self.out.write(f"   [{bar}] {message or ''}\n")
        self.out.flush()


def run(time_scale: float = 120.0, out: TextIO | None = None) -> int:
    """Run the demo; return the process exit code."""
    transcript = Transcript(out or sys.stdout)
    try:
        anyio.run(_run_async, time_scale, transcript)
    except DemoStepFailed as exc:
        sys.stderr.write(f"demo failed: {exc}\n")
        return 1
    except Exception as exc:
        # Start-up failures: the emulator or the server subprocess did not come up.
        sys.stderr.write(f"demo failed: step 'start' failed: {exc!r}\n")
        return 1
    transcript.heading("Demo finished: every step succeeded.")
    return 0


async def _run_async(time_scale: float, transcript: Transcript) -> None:
    workspace = seeded_workspace(time_scale=time_scale)
    with EmulatorServer(workspace) as emulator:
        transcript.heading(f"Emulator listening on {emulator.url} (time scale {time_scale:g}x)")
        params = StdioServerParameters(
            command=sys.executable,
            args=["-m", "server", "serve", "--log-level", "WARNING"],
            env=_server_environment(emulator.url),
        )
        async with Client(params) as client:
            await _workflow(_Caller(client, transcript), transcript)


def _server_environment(host: str) -> dict[str, str]:
    """Build the subprocess environment: no inherited Databricks settings, only the emulator's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABRICKS_", "DATABRICKS_SERVING_MCP_"))}
    env.update({"DATABRICKS_HOST": host, "DATABRICKS_TOKEN": SANDBOX_TOKEN, "DATABRICKS_CONFIG_FILE": os.devnull})
    return env


class _Caller:
    """Calls one tool, prints it, and turns an error result into DemoStepFailed."""

    def __init__(self, client: Client, transcript: Transcript) -> None:
        self.client = client
        self.transcript = transcript

    async def __call__(
        self, step: str, tool: str, arguments: dict[str, Any], *, expect_error: bool = False
    ) -> dict[str, Any]:
        self.transcript.call(tool, arguments)
        progress: Callable[..., Any] | None = None
        if tool == "wait_until_ready":

            async def progress(p: float, total: float | None, message: str | None) -> None:
                self.transcript.progress(p, total, message)

        try:
            result = await self.client.call_tool(tool, arguments, progress_callback=progress)
        except Exception as exc:  # the connection or the server process failed, not the tool
            raise DemoStepFailed(step, f"{tool} call failed: {exc!r}") from exc
        text = _result_text(result)
        if result.is_error and not expect_error:
            raise DemoStepFailed(step, text.splitlines()[0] if text else "tool returned an error")
        if expect_error and not result.is_error:
            raise DemoStepFailed(step, f"{tool} should have been rejected but succeeded")
        if result.is_error:
            first_line = text.splitlines()[0] if text else ""
            return {"error": first_line.removeprefix(f"Error executing tool {tool}: ")}
        return result.structured_content or {"text": text}


async def _workflow(call: _Caller, transcript: Transcript) -> None:
    transcript.heading("1. Discover the serving operations")
    catalogue = await call("discover", "discover_operations", {})
    operations = catalogue.get("operations", [])
    covered = sum(1 for op in operations if op.get("tool"))
    transcript.result(f"{len(operations)} operations in the catalogue, {covered} covered by a tool")
    detail = (await call("discover", "discover_operations", {"operation": "create"})).get("operation") or {}
    top_level = [f["name"] for f in detail.get("fields", []) if "." not in f["name"]]
    transcript.result(f"{detail.get('method')} {detail.get('path')}; body fields: {', '.join(top_level)}")

    transcript.heading("2. Pick the default Foundation Model for agents from the live list")
    pick = await call("pick", "pick_foundation_model", {"purpose": "agent"})
    chat_endpoint = str(pick.get("endpoint") or pick.get("name") or "")
    if not chat_endpoint:
        raise DemoStepFailed("pick", f"no endpoint in the result: {_preview(pick)}")
    transcript.result(f"picked {chat_endpoint}: {pick.get('reason', '')}")

    transcript.heading("3. Query the Foundation Model")
    answer = await call(
        "query chat", "query_endpoint", {"name": chat_endpoint, "messages": [{"role": "user", "content": "Hello!"}]}
    )
    transcript.result(f"assistant: {(answer.get('summary') or {}).get('text')}")

    transcript.heading("4. Create a custom model endpoint (the create call returns at once)")
    created = await call(
        "create",
        "create_endpoint",
        {
            "name": DEMO_ENDPOINT,
            "served_entities": [
                {
                    "entity_name": DEMO_MODEL,
                    "entity_version": DEMO_VERSION,
                    "workload_size": "Small",
                    "scale_to_zero_enabled": True,
                }
            ],
        },
    )
    endpoint = created.get("endpoint") or {}
    pending = (endpoint.get("pending_config") or {}).get("served_entities") or []
    entities = ", ".join(f"{e.get('name')}={e.get('deployment')}" for e in pending)
    transcript.result(
        f"{created.get('status')}: ready={endpoint.get('ready')} config_update={endpoint.get('config_update')} "
        f"pending: {entities}"
    )

    transcript.heading("5. Querying before READY is refused")
    refusal = await call("query too early", "query_endpoint", _turbine_query(), expect_error=True)
    transcript.result(f"refused, as expected: {refusal['error']}")

    transcript.heading("6. Wait until ready (state.ready AND state.config_update)")
    await _wait_until_ready(call, transcript)

    transcript.heading("7. Read the endpoint's OpenAPI schema")
    schema = await call("openapi", "get_open_api", {"name": DEMO_ENDPOINT})
    for path in schema.get("paths", []):
        for input_format in path.get("input_formats", []):
            columns = ", ".join(f"{k}: {v}" for k, v in input_format.get("column_types", {}).items())
            transcript.result(f"{path.get('path')} accepts {input_format.get('key')} ({columns})")

    transcript.heading("8. Score one row with dataframe_records")
    scored = await call("query custom model", "query_endpoint", _turbine_query())
    transcript.result(f"{_preview(scored.get('response'))} from served entity {scored.get('served_model_name')}")

    transcript.heading("9. Read the build and runtime logs")
    for kind in ("build", "runtime"):
        logs = await call(f"{kind} logs", "get_logs", {"name": DEMO_ENDPOINT, "kind": kind, "tail_lines": 3})
        transcript.result(f"{kind} logs of {logs.get('served_entity')}, last lines:")
        transcript.result(str(logs.get("logs", "")))

    transcript.heading("10. Delete the endpoint: refused without confirmation, then confirmed")
    refusal = await call("delete unconfirmed", "delete_endpoint", {"name": DEMO_ENDPOINT}, expect_error=True)
    transcript.result(f"refused, as expected: {refusal['error']}")
    deleted = await call("delete", "delete_endpoint", {"name": DEMO_ENDPOINT, "confirm_name": DEMO_ENDPOINT})
    transcript.result(f"{deleted.get('status')} {deleted.get('name')}")


async def _wait_until_ready(call: _Caller, transcript: Transcript) -> None:
    for _ in range(MAX_WAIT_CALLS):
        status = await call("wait", "wait_until_ready", {"name": DEMO_ENDPOINT})
        state = str(status.get("status"))
        transcript.result(f"status {state}: {status.get('message', '')}")
        if state == "READY":
            return
        if state != "IN_PROGRESS":
            raise DemoStepFailed("wait", f"endpoint ended in {state}: {_preview(status)}")
    raise DemoStepFailed("wait", f"not ready after {MAX_WAIT_CALLS} calls")


def _turbine_query() -> dict[str, Any]:
    return {"name": DEMO_ENDPOINT, "dataframe_records": [{"vibration": 0.42, "rpm": 18.3, "temp_c": 71.2}]}


def _result_text(result: CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, TextContent))


def _compact(value: Any) -> str:
    text = json.dumps(value, separators=(", ", ": "))
    return text[1:-1] if text.startswith("{") else text


def _preview(value: Any) -> str:
    text = json.dumps(value, indent=None, separators=(", ", ": "), default=str)
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 3] + "..."
