"""Trim the JSON schemas in tools/list, which every conversation pays for in tokens.

pydantic adds a `title` to every model and field ("Served Entity Name" for
`served_entity_name`). Clients show the property name anyway, so the titles only cost
tokens: about a fifth of the catalogue. Removing them leaves validation unchanged.
"""

import inspect
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


def trim_tool_schemas(server: MCPServer[Any]) -> None:
    """Strip titles from every registered tool's schemas and the indentation from its description."""
    # NOTE: reaches into MCPServer's tool manager (mcp 2.3.0); tests/server/test_schemas.py
    # fails if a release changes that.
    for tool in server._tool_manager.list_tools():
        strip_titles(tool.parameters)
        strip_titles(tool.output_schema)
        if tool.description:
            # Docstrings keep their source indentation, which costs tokens and reads badly.
            tool.description = inspect.cleandoc(tool.description)
