"""Tools that read endpoints: get and list."""

import fnmatch
from typing import Annotated

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp_types import ToolAnnotations
from pydantic import BaseModel, Field

from tools.api.models import ServedEntity, ServingEndpoint
from tools.context import deps_of
from tools.errors import tool_errors
from tools.rules import check_endpoint_name
from tools.summaries import EndpointSummary, summarise_endpoint

EndpointName = Annotated[str, Field(min_length=1, max_length=63, description="Serving endpoint name")]
READ_ONLY = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)
MAX_LIST_LIMIT = 200
# Max length of a list filter. Names have at most 63 characters, and fnmatch takes time quadratic
# in the length of a glob with many '[' to translate it, while it blocks the event loop.
MAX_FILTER_CHARS = 200
# Room for the page fields around the rows (total, offset, hint...) in the result text.
PAGE_OVERHEAD_CHARS = 600


class EndpointRow(BaseModel):
    name: str
    id: str | None = None
    ready: str | None = None
    config_update: str | None = None
    task: str | None = None
    entities: list[str] = Field(default_factory=list, description="served entity name: model and version")


class EndpointPage(BaseModel):
    total: int = Field(description="endpoints matching the filters")
    offset: int
    returned: int
    rows: list[EndpointRow]
    truncated: bool = Field(description="true when more matching endpoints exist after this page")
    next_offset: int | None = None
    hint: str | None = None


def register(server: MCPServer) -> None:
    @server.tool(annotations=READ_ONLY)
    @tool_errors
    async def get_endpoint(name: EndpointName, ctx: Context) -> EndpointSummary:
        """Get one serving endpoint: state, served entities with deployment states, traffic, pending config."""
        endpoint = await deps_of(ctx).serving.get_endpoint(check_endpoint_name(name))
        return summarise_endpoint(endpoint)

    @server.tool(annotations=READ_ONLY)
    @tool_errors
    async def list_endpoints(
        ctx: Context,
        name_filter: Annotated[
            str | None,
            Field(max_length=MAX_FILTER_CHARS, description="substring, or a glob such as 'team-*'"),
        ] = None,
        task: Annotated[
            str | None,
            Field(max_length=MAX_FILTER_CHARS, description="task substring, e.g. 'chat' or 'llm/v1/embeddings'"),
        ] = None,
        limit: Annotated[int, Field(ge=1, le=MAX_LIST_LIMIT)] = 50,
        offset: Annotated[int, Field(ge=0)] = 0,
    ) -> EndpointPage:
        """List serving endpoints as compact rows, sorted by name, one page at a time."""
        deps = deps_of(ctx)
        endpoints = await deps.serving.list_endpoints()
        matching = sorted((e for e in endpoints if _matches(e, name_filter, task)), key=lambda e: e.name)
        rows = [_row(e) for e in matching[offset : offset + limit]]
        rows = _fit_rows(rows, deps.settings.max_result_chars)
        return _page(rows, len(matching), offset, name_filter, task)


def _matches(endpoint: ServingEndpoint, name_filter: str | None, task: str | None) -> bool:
    if name_filter:
        if any(c in name_filter for c in "*?["):
            if not fnmatch.fnmatchcase(endpoint.name.lower(), name_filter.lower()):
                return False
        elif name_filter.lower() not in endpoint.name.lower():
            return False
    return not task or task.lower() in (endpoint.task or "").lower()


def _row(endpoint: ServingEndpoint) -> EndpointRow:
    config = endpoint.config or endpoint.pending_config
    entities = [_describe_entity(e) for e in (config.served_entities if config else [])]
    return EndpointRow(
        name=endpoint.name,
        id=endpoint.id,
        ready=endpoint.ready,
        config_update=endpoint.config_update,
        task=endpoint.task,
        entities=entities,
    )


def _describe_entity(entity: ServedEntity) -> str:
    if entity.external_model:
        model = f"external {entity.external_model.get('provider')}/{entity.external_model.get('name')}"
    elif entity.entity_version:
        model = f"{entity.entity_name} v{entity.entity_version}"
    else:
        model = str(entity.entity_name)
    return f"{entity.name}: {model}"


def _fit_rows(rows: list[EndpointRow], max_chars: int) -> list[EndpointRow]:
    """Drop rows from the end until the page fits the result cap (a later page shows them).

    Sizes are measured as the client sees the result: JSON indented by two spaces, with each
    row nested two levels deep.
    """
    budget = max_chars - PAGE_OVERHEAD_CHARS
    fitting_rows: list[EndpointRow] = []
    used = 0
    for row in rows:
        text = row.model_dump_json(indent=2)
        size = len(text) + 4 * (text.count("\n") + 1) + 2
        if fitting_rows and used + size > budget:
            break
        fitting_rows.append(row)
        used += size
    return fitting_rows


def _page(rows: list[EndpointRow], total: int, offset: int, name_filter: str | None, task: str | None) -> EndpointPage:
    next_offset = offset + len(rows)
    more = next_offset < total
    hint = None
    if more:
        filters = "".join(f", {k}={v!r}" for k, v in (("name_filter", name_filter), ("task", task)) if v)
        hint = f"Showing {len(rows)} of {total}. Call list_endpoints(offset={next_offset}{filters}) for the next page."
    return EndpointPage(
        total=total,
        offset=offset,
        returned=len(rows),
        rows=rows,
        truncated=more,
        next_offset=next_offset if more else None,
        hint=hint,
    )
