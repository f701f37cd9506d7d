"""get_open_api: the endpoint's OpenAPI document, summarised and capped for the model.

The document (OpenAPI 3.1, served as text) has one path per served entity,
`/served-models/<entity>/invocations`, whose request body lists each accepted input format
as one `oneOf` alternative. The summary names, per path, the input keys with their
required columns and types, the MLflow params, and the response shape.
"""

import json
import re
from typing import Annotated, Any

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp_types import ToolAnnotations
from pydantic import BaseModel, Field

from tools.api.errors import ApiError, NotFound
from tools.context import ToolDeps, deps_of
from tools.endpoints import EndpointName
from tools.errors import InvalidArgument, failure, from_api_error, tool_errors
from tools.output import Truncation, fit_json, json_size
from tools.rules import check_endpoint_name

READ_ONLY = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)
INPUT_KEYS = ("dataframe_split", "dataframe_records", "instances", "inputs", "messages", "prompt", "input")
ENTITY_PATH = re.compile(r"/served-models/(?P<entity>[^/]+)/invocations$")
MIN_MAX_CHARS = 2_000
PATH_HINT = "Pass path=<one path or served entity name> to get that path's schema in full."
# Nesting depth shown in a response shape such as {predictions: array<integer>}.
SHAPE_DEPTH = 3


class InputFormat(BaseModel):
    key: str = Field(description="top-level request field, e.g. dataframe_split")
    required_columns: list[str] = Field(default_factory=list)
    column_types: dict[str, str] = Field(default_factory=dict, description="column -> type[/format]")
    params: dict[str, str] = Field(default_factory=dict, description="MLflow param -> type and default")
    other_fields: list[str] = Field(default_factory=list, description="other top-level fields, e.g. max_tokens")


class PathSummary(BaseModel):
    path: str
    served_entity: str | None
    input_formats: list[InputFormat]
    response_shape: str | None = None


class OpenApiResult(BaseModel):
    endpoint: str
    openapi: str | None
    title: str | None = None
    version: str | None = Field(None, description="info.version, the endpoint's config version")
    server_url: str | None = None
    paths: list[PathSummary]
    document: Any = Field(None, description="the OpenAPI JSON: whole, cut to whole paths, or the requested path")
    notes: list[str] = Field(default_factory=list)
    truncation: Truncation | None = None


def register(server: MCPServer) -> None:
    @server.tool(annotations=READ_ONLY)
    @tool_errors
    async def get_open_api(
        name: EndpointName,
        ctx: Context,
        path: Annotated[
            str | None, Field(description="one path or served entity name; returns that path's schema in full")
        ] = None,
        max_chars: Annotated[int | None, Field(ge=MIN_MAX_CHARS, description="cap on the result size")] = None,
    ) -> OpenApiResult:
        """Get the OpenAPI schema of a READY endpoint: per served entity, the accepted input formats with
        required columns and types, and the response shape. Use it before querying a custom model."""
        deps = deps_of(ctx)
        limit = min(max_chars or deps.settings.max_result_chars, deps.settings.max_result_chars)
        document = await _fetch_document(deps, check_endpoint_name(name))
        paths = document.get("paths") if isinstance(document.get("paths"), dict) else {}
        if not paths:
            raise failure(
                "NO_SCHEMA",
                f"The OpenAPI document of {name!r} lists no paths, so it shows no input schema.",
                next_step="Log the served model with an MLflow signature, or query it in the format its author gives.",
            )
        result = _summarise(name, document, paths)
        if path is not None:
            selected = _select_path(paths, path)
            result.paths = [summary for summary in result.paths if summary.path == selected]
            return _with_document(result, {"paths": {selected: paths[selected]}}, limit, f"path {selected}")
        return _with_document(result, document, limit, "document")


async def _fetch_document(deps: ToolDeps, name: str) -> dict[str, Any]:
    try:
        endpoint = await deps.serving.get_endpoint(name)
    except NotFound as exc:
        raise from_api_error(exc, next_step="Check the endpoint name with list_endpoints.") from exc
    if endpoint.ready != "READY":
        raise failure(
            "ENDPOINT_NOT_READY",
            f"Endpoint {name!r} has no OpenAPI document until it is READY "
            f"(ready={endpoint.ready}, config_update={endpoint.config_update}).",
            next_step=f"Call wait_until_ready(name={name!r}), then get_open_api again.",
        )
    try:
        response = await deps.serving.open_api(name)
    except ApiError as exc:
        raise from_api_error(
            exc,
            next_step="The OpenAPI document needs served models logged with an MLflow signature; "
            "without one, query with the input format the model's author documents.",
        ) from exc
    try:
        document = json.loads(response.text)
    except json.JSONDecodeError as exc:
        raise failure(
            "MALFORMED_RESPONSE",
            f"The OpenAPI document of {name!r} is not valid JSON ({exc.msg}); content type "
            f"{response.content_type or 'none'}, first characters {response.text[:200]!r}.",
        ) from exc
    if not isinstance(document, dict):
        raise failure("MALFORMED_RESPONSE", f"The OpenAPI document of {name!r} is not a JSON object.")
    return document


def _summarise(name: str, document: dict[str, Any], paths: dict[str, Any]) -> OpenApiResult:
    raw_info = document.get("info")
    info: dict[str, Any] = raw_info if isinstance(raw_info, dict) else {}
    servers = document.get("servers") if isinstance(document.get("servers"), list) else []
    summaries = [_path_summary(document, key, item) for key, item in paths.items()]
    notes = [
        f"{summary.path} has no request schema; the model was probably logged without a signature."
        for summary in summaries
        if not summary.input_formats
    ]
    return OpenApiResult(
        endpoint=name,
        openapi=str(document.get("openapi")) if document.get("openapi") is not None else None,
        title=info.get("title"),
        version=str(info["version"]) if info.get("version") is not None else None,
        server_url=servers[0].get("url") if servers and isinstance(servers[0], dict) else None,
        paths=summaries,
        notes=notes,
    )


def _select_path(paths: dict[str, Any], requested: str) -> str:
    if requested in paths:
        return requested
    for key in paths:
        match = ENTITY_PATH.search(key)
        if match and match.group("entity") == requested:
            return key
    raise InvalidArgument(
        "path", requested, "the document has no such path or served entity", f"Use one of {list(paths)}."
    )


def _with_document(result: OpenApiResult, document: dict[str, Any], limit: int, label: str) -> OpenApiResult:
    """Attach `document` whole when the result fits `limit`, else cut it by whole paths."""
    _cap_summaries(result, limit // 2)
    budget = limit - json_size(result.model_dump(mode="json"))
    for _ in range(4):
        result.document, result.truncation = _cut_document(document, budget, label)
        excess = json_size(result.model_dump(mode="json")) - limit
        if excess <= 0:
            return result
        budget -= excess + limit // 20
    result.document = None
    result.truncation = Truncation(
        total_chars=json_size(document, 1),
        returned_chars=0,
        hint=PATH_HINT,
        omitted=[f"{label}: left out, because the summary alone fills max_chars"],
    )
    return result


def _cut_document(document: dict[str, Any], budget: int, label: str) -> tuple[Any, Truncation | None]:
    if json_size(document, 1) <= budget:
        return document, None
    paths = document.get("paths") or {}
    kept = {key: value for key, value in document.items() if key not in ("paths", "components")}
    kept["paths"] = {}
    for key, item in paths.items():
        if json_size(kept, 1) + json_size({key: item}, 1) > budget:
            break
        kept["paths"][key] = item
    if len(paths) > 1 and kept["paths"]:
        omitted = [f"{label}: kept {len(kept['paths'])} of {len(paths)} paths, without components"]
        total, returned = json_size(document, 1), json_size(kept, 1)
        return kept, Truncation(total_chars=total, returned_chars=returned, hint=PATH_HINT, omitted=omitted)
    # With one path, or when not even the first path fits, cut inside the document by whole items.
    return fit_json(document, max(budget, 500), PATH_HINT, path=label, depth=1)


def _cap_summaries(result: OpenApiResult, max_chars: int) -> None:
    total = len(result.paths)
    while len(result.paths) > 1 and _summaries_size(result) > max_chars:
        result.paths.pop()
    if len(result.paths) < total:
        result.notes.append(
            f"Summarised {len(result.paths)} of {total} paths; pass path=<served entity name> for the others."
        )
    _cap_columns(result, max_chars)


def _cap_columns(result: OpenApiResult, max_chars: int) -> None:
    """Halve the column lists of every input format until the path summaries fit `max_chars`.

    A model logged from a wide feature table can take thousands of columns.
    """
    formats = [(summary.path, fmt) for summary in result.paths for fmt in summary.input_formats]
    totals = [max(len(fmt.required_columns), len(fmt.column_types)) for _, fmt in formats]
    keep = max(totals, default=0)
    while keep > 1 and _summaries_size(result) > max_chars:
        keep //= 2
        for _, fmt in formats:
            fmt.required_columns = fmt.required_columns[:keep]
            fmt.column_types = dict(list(fmt.column_types.items())[:keep])
    for (path, fmt), total in zip(formats, totals, strict=True):
        shown = max(len(fmt.required_columns), len(fmt.column_types))
        if shown < total:
            result.notes.append(
                f"{path}: {fmt.key} lists the first {shown} of {total} columns. The document lists them all "
                "unless it was cut as well."
            )


def _summaries_size(result: OpenApiResult) -> int:
    return json_size([summary.model_dump(mode="json") for summary in result.paths], 1)


def _path_summary(document: dict[str, Any], path: str, item: Any) -> PathSummary:
    match = ENTITY_PATH.search(path)
    operation = item.get("post") if isinstance(item, dict) else None
    operation = operation if isinstance(operation, dict) else {}
    request_schema = _dig(operation, "requestBody", "content", "application/json", "schema")
    response_schema = _dig(operation, "responses", "200", "content", "application/json", "schema")
    return PathSummary(
        path=path,
        served_entity=match.group("entity") if match else None,
        input_formats=_input_formats(document, request_schema),
        response_shape=_shape(document, response_schema, SHAPE_DEPTH) if response_schema is not None else None,
    )


def _input_formats(document: dict[str, Any], schema: Any) -> list[InputFormat]:
    schema = _resolve(document, schema)
    if not isinstance(schema, dict):
        return []
    alternatives = schema.get("oneOf") or schema.get("anyOf") or [schema]
    formats = []
    for alternative in alternatives:
        alternative = _resolve(document, alternative)
        properties = alternative.get("properties") if isinstance(alternative, dict) else None
        if not isinstance(properties, dict):
            continue
        params = _params(document, properties.get("params"))
        keys = [key for key in INPUT_KEYS if key in properties]
        others = [key for key in properties if key not in keys and key != "params"]
        for key in keys:
            input_format = _input_format(document, key, _resolve(document, properties[key]), params)
            input_format.other_fields = others
            formats.append(input_format)
    return formats


def _input_format(document: dict[str, Any], key: str, schema: Any, params: dict[str, str]) -> InputFormat:
    schema = schema if isinstance(schema, dict) else {}
    if key == "dataframe_split":
        columns, required = _split_columns(document, schema)
        types = _dig(schema, "properties", "data", "items", "prefixItems") or []
        column_types = {
            column: _type_name(_resolve(document, types[i])) for i, column in enumerate(columns) if i < len(types)
        }
        return InputFormat(key=key, required_columns=required, column_types=column_types, params=params)
    row = _resolve(document, schema.get("items")) if schema.get("type") == "array" else schema
    row = row if isinstance(row, dict) else {}
    raw_properties = row.get("properties")
    properties: dict[str, Any] = raw_properties if isinstance(raw_properties, dict) else {}
    return InputFormat(
        key=key,
        required_columns=[str(c) for c in row.get("required") or []],
        column_types={column: _type_name(_resolve(document, value)) for column, value in properties.items()},
        params=params,
    )


def _split_columns(document: dict[str, Any], schema: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Return all column names of a dataframe_split schema and the required ones.

    The names come from the `enum` of `columns`; the required ones from its description
    "required fields: a, b", or all names when there is no such description.
    """
    columns = _resolve(document, _dig(schema, "properties", "columns")) or {}
    names = [str(name) for name in columns.get("enum") or _dig(columns, "items", "enum") or []]
    description = str(columns.get("description") or "")
    if "required fields:" not in description:
        return names, names
    listed = description.split("required fields:", 1)[1].split(",")
    required = [part.strip() for part in listed if part.strip()]
    return names or required, required


def _params(document: dict[str, Any], schema: Any) -> dict[str, str]:
    schema = _resolve(document, schema)
    properties = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(properties, dict):
        return {}
    described = {}
    for name, value in properties.items():
        value = _resolve(document, value)
        text = _type_name(value)
        if isinstance(value, dict) and "default" in value:
            text += f" (default {json.dumps(value['default'])})"
        described[name] = text
    return described


def _shape(document: dict[str, Any], schema: Any, depth: int) -> str:
    schema = _resolve(document, schema)
    if not isinstance(schema, dict):
        return "any"
    for combiner in ("oneOf", "anyOf"):
        if isinstance(schema.get(combiner), list):
            return " | ".join(_shape(document, option, depth) for option in schema[combiner])
    kind = schema.get("type")
    if kind == "array":
        return f"array<{_shape(document, schema.get('items'), depth - 1) if depth > 0 else '...'}>"
    properties = schema.get("properties")
    if isinstance(properties, dict) and properties:
        if depth <= 0:
            return "object{...}"
        fields = ", ".join(f"{key}: {_shape(document, value, depth - 1)}" for key, value in properties.items())
        return "{" + fields + "}"
    return _type_name(schema)


def _type_name(schema: Any) -> str:
    if not isinstance(schema, dict):
        return "any"
    kind = schema.get("type", "any")
    kind = "|".join(map(str, kind)) if isinstance(kind, list) else str(kind)
    return f"{kind}/{schema['format']}" if schema.get("format") else kind


def _resolve(document: dict[str, Any], schema: Any) -> Any:
    """Follow local `$ref`s such as #/components/schemas/Row (at most 10 hops)."""
    for _ in range(10):
        if not isinstance(schema, dict) or not isinstance(schema.get("$ref"), str):
            return schema
        ref = schema["$ref"]
        if not ref.startswith("#/"):
            return schema
        schema = _dig(document, *ref[2:].split("/"))
    return schema


def _dig(value: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value
