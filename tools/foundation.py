"""Pick the default Foundation Model endpoint from the live endpoint list."""

from mcp.server import MCPServer


def register(server: MCPServer) -> None:
    return None
