from typing import Any

import jsonschema
import pytest
from mcp import Client

from server.schemas import compact_output_schema, strip_titles

pytestmark = pytest.mark.anyio


def title_keywords(schema: Any, path: str = "#") -> list[str]:
    """Return the paths of `title` keywords, skipping properties that are named "title"."""
    found: list[str] = []
    if isinstance(schema, list):
        for i, item in enumerate(schema):
            found += title_keywords(item, f"{path}/{i}")
    elif isinstance(schema, dict):
        if isinstance(schema.get("title"), str):
            found.append(path)
        for key, value in schema.items():
            if key in ("properties", "$defs") and isinstance(value, dict):
                found += [p for name, sub in value.items() for p in title_keywords(sub, f"{path}/{key}/{name}")]
            else:
                found += title_keywords(value, f"{path}/{key}")
    return found


async def test_tool_schemas_have_no_titles(client: Client) -> None:
    listed = await client.list_tools()
    for tool in listed.tools:
        assert title_keywords(tool.input_schema) == [], tool.name
        assert title_keywords(tool.output_schema or {}) == [], tool.name


def test_strip_titles_keeps_property_named_title() -> None:
    schema = {
        "title": "Model",
        "type": "object",
        "properties": {"title": {"title": "Title", "type": "string"}, "n": {"title": "N", "type": "integer"}},
        "$defs": {"Inner": {"title": "Inner", "type": "object"}},
    }
    strip_titles(schema)
    assert schema == {
        "type": "object",
        "properties": {"title": {"type": "string"}, "n": {"type": "integer"}},
        "$defs": {"Inner": {"type": "object"}},
    }


async def test_validation_unchanged_without_titles(client: Client) -> None:
    result = await client.call_tool("get_endpoint", {"name": ""})
    assert result.is_error is True
    assert "name" in result.content[0].text  # type: ignore[union-attr]


async def test_tool_descriptions_not_indented(client: Client) -> None:
    listed = await client.list_tools()
    for tool in listed.tools:
        assert "\n    " not in (tool.description or ""), tool.name


def test_compact_output_schema_nullable_types() -> None:
    schema = {
        "type": "object",
        "properties": {
            "id": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
            "config": {"anyOf": [{"$ref": "#/$defs/Config"}, {"type": "null"}], "default": None},
            "count": {"type": "integer", "default": 0},
        },
    }
    compact_output_schema(schema)
    properties = schema["properties"]
    assert properties["id"] == {"type": ["string", "null"]}
    assert properties["config"] == {"anyOf": [{"$ref": "#/$defs/Config"}, {"type": "null"}]}
    assert properties["count"] == {"type": "integer", "default": 0}


async def test_structured_results_match_compacted_schema(client: Client) -> None:
    listed = await client.list_tools()
    schema = next(t.output_schema for t in listed.tools if t.name == "get_endpoint")
    assert schema is not None
    assert schema["properties"]["id"]["type"] == ["string", "null"]
    result = await client.call_tool("get_endpoint", {"name": "databricks-gte-large-en"})
    assert result.is_error is False
    jsonschema.validate(result.structured_content, schema)
