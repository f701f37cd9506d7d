"""The emulator's ASGI application: routes, authentication and the request log."""

import logging
import re
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from emulator import (
    admin,
    auth_routes,
    endpoint_settings,
    endpoints,
    invocations,
    metrics,
    openapi,
    permissions,
    provisioned,
    registry,
    served_logs,
)
from emulator.asgi import read_body, replay_body
from emulator.errors import ApiError, unauthenticated
from emulator.faults import FaultMiddleware
from emulator.redact import body_for_log
from emulator.state import RequestRecord, Workspace

logger = logging.getLogger(__name__)

# Paths a client reaches before it has a token: host metadata and OAuth.
PUBLIC_PREFIXES = ("/.well-known/", "/oidc/", "/__emulator__/")
# Header values never stored in the request log.
SECRET_HEADERS = {"authorization", "cookie"}
API_VERSION_PREFIX = re.compile(r"^/api/\d+\.\d+(?=/)")


class RecordingAuthMiddleware:
    """Authenticate the bearer token, then log the request and its response status.

    The body is read once here and replayed to the route, so streaming responses pass
    through untouched. The log stores it with secrets redacted (see emulator.redact).
    """

    def __init__(self, app: ASGIApp, workspace: Workspace) -> None:
        self.app = app
        self.workspace = workspace

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = await read_body(receive)
        request = Request(scope)
        record = RequestRecord(
            method=request.method,
            path=request.url.path,
            query=request.url.query,
            status=0,
            principal=None,
            body=body_for_log(body),
            headers={k: v for k, v in request.headers.items() if k.lower() not in SECRET_HEADERS},
            time_ms=self.workspace.clock.now_ms(),
        )
        if not request.url.path.startswith("/__emulator__/"):
            self.workspace.request_log.append(record)

        async def send_recording(message: Message) -> None:
            if message["type"] == "http.response.start":
                record.status = message["status"]
            await send(message)

        try:
            principal = self._authenticate(request)
        except ApiError as exc:
            await exc.to_response()(scope, replay_body(body, receive), send_recording)
            return
        scope.setdefault("state", {})["principal"] = principal
        record.principal = principal.name if principal is not None else None
        try:
            await self.app(scope, replay_body(body, receive), send_recording)
        except Exception:
            # The error middleware outside this one sends the 500 response unless the response has started.
            if record.status == 0:
                record.status = 500
            raise

    def _authenticate(self, request: Request) -> Any:
        if request.url.path.startswith(PUBLIC_PREFIXES):
            return None
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise unauthenticated("Credential was not sent or was of an unsupported type for this API.")
        principal = self.workspace.tokens.get(token.strip())
        if principal is None:
            raise unauthenticated("Invalid access token.")
        return principal


async def _api_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return exc.to_response()


async def _internal_error_handler(request: Request, exc: Exception) -> Response:
    """Return a Databricks-shaped 500 INTERNAL_ERROR response for an unexpected failure.

    Starlette re-raises the exception after this response, so the server still logs the traceback.
    """
    return ApiError(500, "INTERNAL_ERROR", "Internal error while processing the request.").to_response()


async def _no_such_api_handler(request: Request, exc: Exception) -> Response:
    """Answer a path, or a method on a known path, that no route serves.

    The real service names the path without its `/api/<version>` prefix ("No API found for 'GET /repos'"
    for GET /api/2.0/repos). An unsupported method on a known path gets the same 404.
    """
    path = API_VERSION_PREFIX.sub("", request.url.path)
    return JSONResponse(
        {"error_code": "ENDPOINT_NOT_FOUND", "message": f"No API found for '{request.method} {path}'"},
        status_code=404,
    )


def create_app(workspace: Workspace | None = None) -> Starlette:
    """Build the emulator app around `workspace` (a seeded one when omitted)."""
    if workspace is None:
        from emulator.scenario import seeded_workspace

        workspace = seeded_workspace()
    app = Starlette(
        routes=[
            *admin.routes,
            *auth_routes.routes,
            *provisioned.routes,
            *endpoints.routes,
            *endpoint_settings.routes,
            *served_logs.routes,
            *metrics.routes,
            *openapi.routes,
            *invocations.routes,
            *permissions.routes,
            *registry.routes,
        ],
        exception_handlers={
            ApiError: _api_error_handler,
            404: _no_such_api_handler,
            405: _no_such_api_handler,
            Exception: _internal_error_handler,
        },
    )
    app.state.workspace = workspace
    # Starlette nests later middleware outside earlier: faults run after authentication and get logged.
    app.add_middleware(FaultMiddleware, workspace=workspace)
    app.add_middleware(RecordingAuthMiddleware, workspace=workspace)
    return app
