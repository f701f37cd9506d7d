"""get_open_api on OpenAPI documents with `$ref` cycles, exponential `oneOf` trees and deep nesting.

The emulator builds its documents from model signatures, which never contain a `$ref`. So an ASGI
app in front of it replaces the body of the OpenAPI route with a fixed document and passes every
other request, including the endpoint read that precedes it, to the emulator.
"""

import json
import time
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.server import MCPServer
from starlette.types import ASGIApp, Receive, Scope, Send

from emulator import Workspace, apply_scenario, create_app
from server.settings import Settings
from tests.tools.support import EP_DEMO, content_of, emulator_server, error_envelope, result_text
from tools.context import ToolDeps
from tools.schema_reader import MAX_SHAPE_NODES, SchemaReader

pytestmark = pytest.mark.anyio

NAME = "ep-demo"
PATH = "/served-models/demo_model-1/invocations"
NODE = "#/components/schemas/Node"
ROWS_SCHEMA = {
    "type": "object",
    "properties": {
        "dataframe_records": {
            "type": "array",
            "items": {"type": "object", "required": ["x"], "properties": {"x": {"type": "number"}}},
        }
    },
}


class FixedOpenApi:
    """ASGI app that returns `text` for GET .../openapi and passes every other request to `app`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.text = "{}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].endswith("/openapi"):
            await self.app(scope, receive, send)
            return
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": self.text.encode()})


@pytest.fixture
def fixed_openapi(workspace: Workspace) -> FixedOpenApi:
    apply_scenario(workspace, {"endpoints": [EP_DEMO]})
    return FixedOpenApi(create_app(workspace))


@pytest.fixture
def server(workspace: Workspace, settings: Settings, fixed_openapi: FixedOpenApi) -> MCPServer[ToolDeps]:
    return emulator_server(workspace, settings, app=fixed_openapi)


def document(request: Any, response: Any, schemas: dict[str, Any]) -> dict[str, Any]:
    operation = {
        "requestBody": {"content": {"application/json": {"schema": request}}},
        "responses": {"200": {"content": {"application/json": {"schema": response}}}},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": NAME, "version": "1"},
        "paths": {PATH: {"post": operation}},
        "components": {"schemas": schemas},
    }


async def open_api(client: Client, fixed_openapi: FixedOpenApi, served: dict[str, Any]) -> dict[str, Any]:
    fixed_openapi.text = json.dumps(served)
    started = time.monotonic()
    with anyio.fail_after(30):
        result = await client.call_tool("get_open_api", {"name": NAME})
    assert time.monotonic() - started < 2.0
    return content_of(result)


async def test_open_api_cyclic_one_of(client: Client, fixed_openapi: FixedOpenApi) -> None:
    node = {"oneOf": [{"$ref": NODE}, {"type": "string"}]}
    content = await open_api(client, fixed_openapi, document(ROWS_SCHEMA, {"$ref": NODE}, {"Node": node}))
    [path] = content["paths"]
    assert path["response_shape"] == f"<recursive {NODE}> | string"
    assert path["input_formats"][0]["key"] == "dataframe_records"
    assert any(f"refers to itself through {NODE}" in note for note in content["notes"])
    assert content["document"]["components"]["schemas"]["Node"] == node


async def test_open_api_recursive_tree(client: Client, fixed_openapi: FixedOpenApi) -> None:
    children = {"type": "array", "items": {"$ref": NODE}}
    node = {"type": "object", "properties": {"value": {"type": "string"}, "children": children}}
    content = await open_api(client, fixed_openapi, document(ROWS_SCHEMA, {"$ref": NODE}, {"Node": node}))
    [path] = content["paths"]
    assert path["response_shape"] == f"{{value: string, children: array<<recursive {NODE}>>}}"
    assert any(f"refers to itself through {NODE}" in note for note in content["notes"])


async def test_open_api_ref_loop(client: Client, fixed_openapi: FixedOpenApi) -> None:
    schemas = {"A": {"$ref": "#/components/schemas/B"}, "B": {"$ref": "#/components/schemas/A"}}
    served = document({"$ref": "#/components/schemas/A"}, {"$ref": "#/components/schemas/B"}, schemas)
    content = await open_api(client, fixed_openapi, served)
    [path] = content["paths"]
    assert path["input_formats"] == []
    assert path["response_shape"] == "any"
    # The request schema enters the loop at A and the response schema at B.
    loops = [note for note in content["notes"] if "loops without reaching a schema" in note]
    assert len(loops) == 2
    assert "through #/components/schemas/A " in loops[0]
    assert "through #/components/schemas/B " in loops[1]


async def test_open_api_exponential_one_of(client: Client, fixed_openapi: FixedOpenApi) -> None:
    # Level i offers level i + 1 twice, so expanding every alternative visits 2**22 schemas.
    levels = 22
    schemas: dict[str, Any] = {f"L{levels}": {"type": "string"}}
    for i in range(levels):
        schemas[f"L{i}"] = {"oneOf": [{"$ref": f"#/components/schemas/L{i + 1}"}] * 2}
    content = await open_api(client, fixed_openapi, document(ROWS_SCHEMA, {"$ref": "#/components/schemas/L0"}, schemas))
    [path] = content["paths"]
    assert path["response_shape"].endswith("...")
    assert path["response_shape"].count("string") <= MAX_SHAPE_NODES
    assert any(f"stops after {MAX_SHAPE_NODES} schemas" in note for note in content["notes"])


@pytest.mark.parametrize("levels", [500, 100_000])
async def test_open_api_deep_document(client: Client, fixed_openapi: FixedOpenApi, levels: int) -> None:
    # A large value at the bottom, so that cutting the document to the result cap walks the whole depth.
    fixed_openapi.text = '{"paths": ' + '{"a": ' * levels + json.dumps("x" * 100_000) + "}" * (levels + 1)
    result = await client.call_tool("get_open_api", {"name": NAME})
    envelope = error_envelope(result)
    assert envelope["error_code"] == "MALFORMED_RESPONSE"
    assert "nested more than" in envelope["message"]
    assert len(result_text(result)) < 5_000


def test_schema_reader_cycle_notes() -> None:
    node = {"type": "array", "items": {"oneOf": [{"$ref": NODE}, {"type": "integer"}]}}
    reader = SchemaReader(document(ROWS_SCHEMA, {"$ref": NODE}, {"Node": node}))
    assert reader.response_shape({"$ref": NODE}) == f"array<<recursive {NODE}> | integer>"
    assert reader.recursive_refs == [NODE]
    [note] = reader.notes(PATH)
    assert note.startswith(f"The schema of {PATH} refers to itself through {NODE}")
