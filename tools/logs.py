"""get_logs: build and runtime logs of a served entity."""

from mcp.server import MCPServer


def register(server: MCPServer) -> None:
    return None
