"""Operation catalogue: every serving operation with its JSON fields and rules."""

from mcp.server import MCPServer


def register(server: MCPServer) -> None:
    return None
