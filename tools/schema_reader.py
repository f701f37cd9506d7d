"""Reading the request and response schemas of one OpenAPI document, for get_open_api's summary.

Schemas refer to each other with local `$ref`s, and a recursive type, such as a tree node whose
children are nodes, refers to itself. SchemaReader stops at such a cycle and records it, so the
summary can name where it is. The response shape also stops after MAX_SHAPE_NODES schemas, because
nested `oneOf` alternatives or wide objects that share a `$ref` multiply the work at every level.
"""

import json
from typing import Any

from pydantic import BaseModel, Field

INPUT_KEYS = ("dataframe_split", "dataframe_records", "instances", "inputs", "messages", "prompt", "input")
# Nesting depth shown in a response shape such as {predictions: array<integer>}.
SHAPE_DEPTH = 3
# Max schemas one response shape visits. Beyond that the shape shows "..." in their place.
MAX_SHAPE_NODES = 200
# Max `$ref`s followed in one chain before the schema reached is used as it is.
MAX_REF_HOPS = 10


class InputFormat(BaseModel):
    key: str = Field(description="top-level request field, e.g. dataframe_split")
    required_columns: list[str] = Field(default_factory=list)
    column_types: dict[str, str] = Field(default_factory=dict, description="column -> type[/format]")
    params: dict[str, str] = Field(default_factory=dict, description="MLflow param -> type and default")
    other_fields: list[str] = Field(default_factory=list, description="other top-level fields, e.g. max_tokens")


class SchemaReader:
    """Reader of the schemas of one document, with cycle and size guards. `notes` lists what the guards hit."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        # `$ref`s whose schema contains itself, and `$ref` chains that loop without reaching a schema.
        self.recursive_refs: list[str] = []
        self.looping_refs: list[str] = []
        self.shape_nodes = 0

    def notes(self, path: str) -> list[str]:
        """Describe, for the operation at `path`, the cycles found and a response shape that was cut."""
        notes = [
            f"The schema of {path} refers to itself through {ref}, so the summary shows <recursive {ref}> "
            "there instead of expanding it again."
            for ref in self.recursive_refs
        ]
        notes += [
            f"The schema of {path} has a $ref chain through {ref} that loops without reaching a schema, so it "
            "reads as any."
            for ref in self.looping_refs
        ]
        if self.shape_nodes > MAX_SHAPE_NODES:
            notes.append(
                f"The response shape of {path} stops after {MAX_SHAPE_NODES} schemas and shows '...' for the "
                "rest. The document field has the whole schema unless it was cut too."
            )
        return notes

    def resolve(self, schema: Any) -> Any:
        return self.follow(schema)[0]

    def follow(self, schema: Any) -> tuple[Any, list[str]]:
        """Follow local `$ref`s such as #/components/schemas/Row, and return the schema reached and the refs followed.

        A chain that comes back to a ref it followed resolves to an empty schema, and the ref is recorded.
        """
        refs: list[str] = []
        while len(refs) < MAX_REF_HOPS and isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
            ref = schema["$ref"]
            if not ref.startswith("#/"):
                break
            if ref in refs:
                _add_once(self.looping_refs, ref)
                return {}, refs
            refs.append(ref)
            schema = dig(self.document, *ref[2:].split("/"))
        return schema, refs

    def response_shape(self, schema: Any) -> str:
        self.shape_nodes = 0
        return self._shape(schema, SHAPE_DEPTH, frozenset())

    def _shape(self, schema: Any, depth: int, enclosing: frozenset[str]) -> str:
        """Describe `schema` down to `depth` levels; `enclosing` contains the refs of the schemas around it."""
        self.shape_nodes += 1
        if self.shape_nodes > MAX_SHAPE_NODES:
            return "..."
        schema, refs = self.follow(schema)
        repeated = next((ref for ref in refs if ref in enclosing), None)
        if repeated is not None:
            _add_once(self.recursive_refs, repeated)
            return f"<recursive {repeated}>"
        enclosing = enclosing.union(refs)
        if not isinstance(schema, dict):
            return "any"
        for combiner in ("oneOf", "anyOf"):
            if isinstance(schema.get(combiner), list):
                return " | ".join(self._shape(option, depth, enclosing) for option in schema[combiner])
        kind = schema.get("type")
        if kind == "array":
            return f"array<{self._shape(schema.get('items'), depth - 1, enclosing) if depth > 0 else '...'}>"
        properties = schema.get("properties")
        if isinstance(properties, dict) and properties:
            if depth <= 0:
                return "object{...}"
            fields = ", ".join(
                f"{key}: {self._shape(value, depth - 1, enclosing)}" for key, value in properties.items()
            )
            return "{" + fields + "}"
        return type_name(schema)

    def input_formats(self, schema: Any) -> list[InputFormat]:
        schema = self.resolve(schema)
        if not isinstance(schema, dict):
            return []
        alternatives = schema.get("oneOf") or schema.get("anyOf") or [schema]
        formats = []
        for alternative in alternatives:
            alternative = self.resolve(alternative)
            properties = alternative.get("properties") if isinstance(alternative, dict) else None
            if not isinstance(properties, dict):
                continue
            params = self._params(properties.get("params"))
            keys = [key for key in INPUT_KEYS if key in properties]
            others = [key for key in properties if key not in keys and key != "params"]
            for key in keys:
                input_format = self._input_format(key, self.resolve(properties[key]), params)
                input_format.other_fields = others
                formats.append(input_format)
        return formats

    def _input_format(self, key: str, schema: Any, params: dict[str, str]) -> InputFormat:
        schema = schema if isinstance(schema, dict) else {}
        if key == "dataframe_split":
            columns, required = self._split_columns(schema)
            types = dig(schema, "properties", "data", "items", "prefixItems") or []
            column_types = {
                column: type_name(self.resolve(types[i])) for i, column in enumerate(columns) if i < len(types)
            }
            return InputFormat(key=key, required_columns=required, column_types=column_types, params=params)
        row = self.resolve(schema.get("items")) if schema.get("type") == "array" else schema
        row = row if isinstance(row, dict) else {}
        raw_properties = row.get("properties")
        properties: dict[str, Any] = raw_properties if isinstance(raw_properties, dict) else {}
        return InputFormat(
            key=key,
            required_columns=[str(c) for c in row.get("required") or []],
            column_types={column: type_name(self.resolve(value)) for column, value in properties.items()},
            params=params,
        )

    def _split_columns(self, schema: dict[str, Any]) -> tuple[list[str], list[str]]:
        """Return all column names of a dataframe_split schema and the required ones.

        The names come from the `enum` of `columns`; the required ones from its description
        "required fields: a, b", or all names when there is no such description.
        """
        columns = self.resolve(dig(schema, "properties", "columns"))
        columns = columns if isinstance(columns, dict) else {}
        names = [str(name) for name in columns.get("enum") or dig(columns, "items", "enum") or []]
        description = str(columns.get("description") or "")
        if "required fields:" not in description:
            return names, names
        listed = description.split("required fields:", 1)[1].split(",")
        required = [part.strip() for part in listed if part.strip()]
        return names or required, required

    def _params(self, schema: Any) -> dict[str, str]:
        schema = self.resolve(schema)
        properties = schema.get("properties") if isinstance(schema, dict) else None
        if not isinstance(properties, dict):
            return {}
        described = {}
        for name, value in properties.items():
            value = self.resolve(value)
            text = type_name(value)
            if isinstance(value, dict) and "default" in value:
                text += f" (default {json.dumps(value['default'])})"
            described[name] = text
        return described


def type_name(schema: Any) -> str:
    if not isinstance(schema, dict):
        return "any"
    kind = schema.get("type", "any")
    kind = "|".join(map(str, kind)) if isinstance(kind, list) else str(kind)
    return f"{kind}/{schema['format']}" if schema.get("format") else kind


def dig(value: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _add_once(refs: list[str], ref: str) -> None:
    if ref not in refs:
        refs.append(ref)
