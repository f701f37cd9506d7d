"""Tools that read endpoints: get and list."""

from typing import Annotated

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp_types import ToolAnnotations
from pydantic import Field

from tools.context import deps_of
from tools.errors import tool_errors
from tools.summaries import EndpointSummary, summarise_endpoint

EndpointName = Annotated[str, Field(min_length=1, max_length=63, description="Serving endpoint name")]
READ_ONLY = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)


def register(server: MCPServer) -> None:
    @server.tool(annotations=READ_ONLY)
    @tool_errors
    async def get_endpoint(name: EndpointName, ctx: Context) -> EndpointSummary:
        """Get one serving endpoint: state, served entities with deployment states, traffic, pending config."""
        endpoint = await deps_of(ctx).serving.get_endpoint(name)
        return summarise_endpoint(endpoint)
