"""Helpers that route handlers use to read the request."""

import json
from typing import Any

from starlette.requests import Request

from emulator.errors import bad_request
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
        body = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise bad_request(
            f"Request body is not valid JSON: {exc.msg} at position {exc.pos}.", "MALFORMED_REQUEST"
        ) from exc
    if not isinstance(body, dict):
        raise bad_request("Request body must be a JSON object.", "MALFORMED_REQUEST")
    return body
