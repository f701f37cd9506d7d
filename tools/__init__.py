"""MCP tools for Databricks Model Serving, one module per capability."""

from mcp.server import MCPServer

from tools import discovery, endpoints, foundation, lifecycle, logs, permissions, query, schema, swap, updates, waiting

# Registration order is the order of tools/list, which clients may cache.
TOOL_MODULES = (discovery, foundation, endpoints, lifecycle, updates, swap, waiting, query, schema, logs, permissions)


def register_all(server: MCPServer) -> None:
    """Register every tool module's tools on `server`."""
    for module in TOOL_MODULES:
        module.register(server)
