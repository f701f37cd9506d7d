"""MCP tools for Databricks Model Serving, one module per capability."""

from mcp.server import MCPServer

from tools import endpoints

TOOL_MODULES = (endpoints,)


def register_all(server: MCPServer) -> None:
    """Register every tool module's tools on `server`."""
    for module in TOOL_MODULES:
        module.register(server)
