"""Tools that create and delete endpoints."""

from mcp.server import MCPServer


def register(server: MCPServer) -> None:
    return None
