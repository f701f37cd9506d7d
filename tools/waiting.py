"""wait_until_ready: poll an endpoint until it is fully ready, within a time budget."""

from mcp.server import MCPServer


def register(server: MCPServer) -> None:
    return None
