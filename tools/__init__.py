"""MCP tools for Databricks Model Serving, one module per capability."""

from mcp.server import MCPServer

from tools import discovery, endpoints, foundation, lifecycle, logs, query, schema, waiting

# Registration order is the order of tools/list, which clients may cache.
TOOL_MODULES = (discovery, foundation, endpoints, lifecycle, waiting, query, schema, logs)


def register_all(server: MCPServer) -> None:
    """Register every tool module's tools on `server`."""
    for module in TOOL_MODULES:
        module.register(server)
