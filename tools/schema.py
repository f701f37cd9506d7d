"""get_open_api: the endpoint's OpenAPI document, capped for the model."""

from mcp.server import MCPServer


def register(server: MCPServer) -> None:
    return None
