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
from tools.errors import InvalidArgument, ToolFailure, failure, from_api_error, tool_errors
from tools.output import Truncation, fit_json, json_size
from tools.rules import check_endpoint_name
from tools.schema_reader import InputFormat, SchemaReader, dig

READ_ONLY = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)
ENTITY_PATH = re.compile(r"/served-models/(?P<entity>[^/]+)/invocations$")
MIN_MAX_CHARS = 2_000
# Max nesting of arrays and objects in a document. Real documents nest far less, and the recursive
# JSON cuts of `fit_json` would reach Python's recursion limit at several hundred levels.
MAX_DOCUMENT_DEPTH = 64
PATH_HINT = "Pass path=<one path or served entity name> to get that path's schema in full."


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
    except RecursionError as exc:
        raise _too_deep(name) from exc
    if not isinstance(document, dict):
        raise failure("MALFORMED_RESPONSE", f"The OpenAPI document of {name!r} is not a JSON object.")
    if nesting_depth(document, MAX_DOCUMENT_DEPTH) > MAX_DOCUMENT_DEPTH:
        raise _too_deep(name)
    return document


def _too_deep(name: str) -> ToolFailure:
    return failure(
        "MALFORMED_RESPONSE",
        f"The OpenAPI document of {name!r} is nested more than {MAX_DOCUMENT_DEPTH} levels deep, so it was not read.",
        next_step="Query with the input format the model's author documents.",
    )


def nesting_depth(value: Any, limit: int) -> int:
    """Return how many arrays and objects deep `value` nests, counting at most to `limit` + 1.

    The walk uses a stack rather than recursion, so any depth that json.loads returns is safe.
    """
    deepest = 0
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if not isinstance(item, dict | list) or depth > limit + 1:
            continue
        deepest = max(deepest, depth)
        children = item.values() if isinstance(item, dict) else item
        pending.extend((child, depth + 1) for child in children)
    return deepest


def _summarise(name: str, document: dict[str, Any], paths: dict[str, Any]) -> OpenApiResult:
    raw_info = document.get("info")
    info: dict[str, Any] = raw_info if isinstance(raw_info, dict) else {}
    servers = document.get("servers") if isinstance(document.get("servers"), list) else []
    summaries: list[PathSummary] = []
    notes: list[str] = []
    for key, item in paths.items():
        summary, reading_notes = _path_summary(document, key, item)
        summaries.append(summary)
        if not summary.input_formats:
            notes.append(f"{summary.path} has no request schema; the model was probably logged without a signature.")
        notes.extend(reading_notes)
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


def _path_summary(document: dict[str, Any], path: str, item: Any) -> tuple[PathSummary, list[str]]:
    """Summarise the operation at `path`, and return notes on the cycles and cuts met while reading it."""
    reader = SchemaReader(document)
    match = ENTITY_PATH.search(path)
    operation = item.get("post") if isinstance(item, dict) else None
    operation = operation if isinstance(operation, dict) else {}
    request_schema = dig(operation, "requestBody", "content", "application/json", "schema")
    response_schema = dig(operation, "responses", "200", "content", "application/json", "schema")
    summary = PathSummary(
        path=path,
        served_entity=match.group("entity") if match else None,
        input_formats=reader.input_formats(request_schema),
        response_shape=reader.response_shape(response_schema) if response_schema is not None else None,
    )
    return summary, reader.notes(path)
