"""Trim the JSON schemas in tools/list, which every conversation pays for in tokens.

pydantic adds a `title` to every model and field ("Served Entity Name" for
`served_entity_name`). Clients show the property name anyway, so the titles only cost
tokens: about a fifth of the catalogue. Output schemas are also compacted: an optional
field's `anyOf: [{"type": T}, {"type": "null"}]` becomes `type: [T, "null"]`, and its
`default: null` goes, because defaults mean nothing in a result. Input schemas keep `anyOf`,
which more function-calling APIs accept. None of this changes what validates.
"""

import inspect
from collections.abc import Iterator
from typing import Any

from mcp.server import MCPServer

# Keywords whose value maps names to subschemas, so the names are not schema keywords.
SCHEMA_MAPS = frozenset({"properties", "$defs", "definitions", "patternProperties", "dependentSchemas"})


def strip_titles(schema: Any) -> None:
    """Remove generated `title` keywords from `schema` in place, at any depth."""
    if isinstance(schema, list):
        for item in schema:
            strip_titles(item)
        return
    if not isinstance(schema, dict):
        return
    if isinstance(schema.get("title"), str):
        del schema["title"]
    for key, value in schema.items():
        if key in SCHEMA_MAPS and isinstance(value, dict):
            for subschema in value.values():
                strip_titles(subschema)
        elif isinstance(value, dict | list):
            strip_titles(value)


def walk_schemas(schema: Any) -> Iterator[dict[str, Any]]:
    """Yield every subschema of `schema`, itself first, without treating property names as keywords."""
    if isinstance(schema, list):
        for item in schema:
            yield from walk_schemas(item)
        return
    if not isinstance(schema, dict):
        return
    yield schema
    for key, value in schema.items():
        if key in SCHEMA_MAPS and isinstance(value, dict):
            for subschema in value.values():
                yield from walk_schemas(subschema)
        elif isinstance(value, dict | list):
            yield from walk_schemas(value)


def compact_output_schema(schema: Any) -> None:
    """Rewrite nullable simple types as type arrays and drop null defaults, in place."""
    for node in list(walk_schemas(schema)):
        if node.get("default", ...) is None:
            del node["default"]
        options = node.get("anyOf")
        if "type" in node or not isinstance(options, list) or len(options) != 2 or {"type": "null"} not in options:
            continue
        other = options[0] if options[1] == {"type": "null"} else options[1]
        if isinstance(other, dict) and set(other) == {"type"} and isinstance(other["type"], str):
            del node["anyOf"]
            node["type"] = [other["type"], "null"]


def trim_tool_schemas(server: MCPServer[Any]) -> None:
    """Strip titles from every registered tool's schemas and the indentation from its description."""
    # NOTE: reaches into MCPServer's tool manager (mcp 2.3.0); tests/server/test_schemas.py
    # fails if a release changes that.
    for tool in server._tool_manager.list_tools():
        strip_titles(tool.parameters)
        strip_titles(tool.output_schema)
        compact_output_schema(tool.output_schema)
        if tool.description:
            # Docstrings keep their source indentation, which costs tokens and reads badly.
            tool.description = inspect.cleandoc(tool.description)
