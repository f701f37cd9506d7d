"""query_endpoint: send the request body the endpoint's task needs."""

from mcp.server import MCPServer


def register(server: MCPServer) -> None:
    return None
