"""Helpers that route handlers use to read the request."""

from typing import Any

from starlette.requests import Request

from emulator.errors import bad_request
from emulator.jsontext import InvalidJson, parse_json
from emulator.state import Principal, Workspace


def workspace_of(request: Request) -> Workspace:
    workspace: Workspace = request.app.state.workspace
    return workspace


def principal_of(request: Request) -> Principal:
    principal: Principal = request.state.principal
    return principal


async def json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = parse_json(raw)
    except InvalidJson as exc:
        raise bad_request(f"Request body is not valid JSON: {exc}.", "MALFORMED_REQUEST") from exc
    if not isinstance(body, dict):
        raise bad_request("Request body must be a JSON object.", "MALFORMED_REQUEST")
    return body
