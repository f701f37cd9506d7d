"""Scripted faults that the emulator injects into matching requests.

A fault matches on HTTP method, a path regex and an endpoint name, and fires for its first `count`
matching requests (every one when `count` is None). Kinds:
- latency: wait `seconds` (real time), then serve the request normally. Latency faults add up and
  combine with one fault of another kind.
- status: respond with `status` (default 503) with a Databricks error body and an optional Retry-After.
- reset: drop the connection (see `FaultMiddleware._reset`).
- timeout: hang for `seconds`, then respond with `status` (default 504, DEADLINE_EXCEEDED). A client with
  a shorter read timeout gives up first.
- html: respond with an HTML error page, as a proxy in front of the workspace does (default status 502).
- malformed_json: respond with a JSON content type with a truncated body (default status 200).

Faults come from the admin API (POST /__emulator__/faults) or a scenario's `faults:` list. Clearing
the faults releases requests that latency and timeout faults still hold.
"""

import itertools
import logging
import re
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import anyio
from starlette.types import ASGIApp, Receive, Scope, Send

from emulator.asgi import read_body, replay_body
from emulator.errors import ApiError
from emulator.jsontext import InvalidJson, parse_json
from emulator.state import Workspace

logger = logging.getLogger(__name__)

FaultKind = Literal["latency", "status", "reset", "timeout", "html", "malformed_json"]
FAULT_KINDS: tuple[str, ...] = get_args(FaultKind)
DEFAULT_STATUS: dict[str, int] = {"status": 503, "timeout": 504, "html": 502, "malformed_json": 200}
DEFAULT_ERROR_CODES: dict[int, str] = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "RESOURCE_DOES_NOT_EXIST",
    409: "RESOURCE_CONFLICT",
    429: "REQUEST_LIMIT_EXCEEDED",
    500: "INTERNAL_ERROR",
    502: "BAD_GATEWAY",
    503: "TEMPORARILY_UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
DEFAULT_MESSAGES: dict[int, str] = {
    429: "Request rate limit exceeded. Retry after the interval in the Retry-After header.",
    500: "Internal error while processing the request.",
    503: "The service is temporarily unavailable. Try again later.",
    504: "The request timed out before the server finished processing it.",
}
FIELDS = {"kind", "method", "path", "endpoint", "count", "seconds", "status", "error_code", "message", "retry_after"}
TEXT_FIELDS = ("method", "path", "endpoint", "error_code", "message")
# Final statuses whose responses must not carry a body (RFC 9110 sections 15.3.5, 15.3.6 and 15.4.5).
NO_BODY_STATUSES = (204, 205, 304)
# Polling interval (seconds) of held requests, which stop early once their fault is cleared.
HOLD_POLL_SECONDS = 0.05
ADMIN_PREFIX = "/__emulator__/"
# Paths that carry an endpoint name: control plane (including the provisioned-throughput config
# route /api/2.0/serving-endpoints/pt/{name}/config) and data plane.
ENDPOINT_PATH = re.compile(r"^(?:/api/2\.0)?/serving-endpoints/(?:pt/(?=[^/]+/config$))?(?P<name>[^/]+)")
# OpenAI-compatible routes name the endpoint in the body's "model" field, not in the path.
OPENAI_PATHS = {"chat", "completions", "embeddings", "responses"}
# Create routes name the endpoint in the body's "name" field.
CREATE_PATHS = {"/api/2.0/serving-endpoints", "/api/2.0/serving-endpoints/pt"}
PERMISSIONS_PATH = re.compile(r"^/api/2\.0/permissions/serving-endpoints/(?P<id>[0-9a-f]{32})")

_ids = itertools.count(1)


class FaultError(ValueError):
    """A fault specification that is invalid; the message names the field."""


@dataclass
class Fault:
    kind: FaultKind
    method: str | None = None
    path: re.Pattern[str] | None = None
    endpoint: str | None = None
    count: int | None = None
    remaining: int | None = None
    seconds: float = 0.0
    status: int = 0
    error_code: str = ""
    message: str = ""
    retry_after: str | None = None
    id: int = field(default_factory=lambda: next(_ids))
    # Set when the fault is cleared, so the requests it is delaying stop waiting.
    released: bool = False

    def matches(self, method: str, path: str, endpoint: str | None) -> bool:
        if self.remaining == 0:
            return False
        if self.method is not None and self.method != method:
            return False
        if self.path is not None and not self.path.search(path):
            return False
        return self.endpoint is None or self.endpoint == endpoint

    def consume(self) -> None:
        if self.remaining is not None:
            self.remaining -= 1

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "kind": self.kind, "count": self.count, "remaining": self.remaining}
        for key in ("method", "endpoint", "retry_after"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.path is not None:
            out["path"] = self.path.pattern
        if self.kind in ("latency", "timeout"):
            out["seconds"] = self.seconds
        if self.kind in ("status", "timeout", "html", "malformed_json"):
            out["status"] = self.status
        if self.kind in ("status", "timeout"):
            out["error_code"] = self.error_code
            out["message"] = self.message
        return out


def _number(spec: dict[str, Any], key: str, default: float) -> float:
    value = spec.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise FaultError(f"Fault field '{key}' must be a number >= 0, got {value!r}.")
    return float(value)


def _is_body_status(status: Any) -> bool:
    """Return True for a final status whose response may carry a body.

    uvicorn's h11 protocol rejects 1xx statuses and a body on a 204 or 304 response, and drops the connection.
    """
    if isinstance(status, bool) or not isinstance(status, int):
        return False
    return 200 <= status <= 599 and status not in NO_BODY_STATUSES


def parse_fault(spec: Any) -> Fault:
    """Build a Fault from its JSON or YAML form, or raise FaultError naming the invalid field."""
    if not isinstance(spec, dict):
        raise FaultError(f"A fault must be an object, got {type(spec).__name__}.")
    unknown = sorted(set(spec) - FIELDS)
    if unknown:
        raise FaultError(f"Unknown fault field(s) {unknown}; allowed fields: {sorted(FIELDS)}.")

    kind = spec.get("kind")
    if kind not in FAULT_KINDS:
        raise FaultError(f"Fault field 'kind' must be one of {list(FAULT_KINDS)}, got {kind!r}.")
    if kind in ("latency", "timeout") and "seconds" not in spec:
        raise FaultError(f"A {kind} fault needs 'seconds': how long to hold the request.")

    for key in TEXT_FIELDS:
        if spec.get(key) is not None and not isinstance(spec[key], str):
            raise FaultError(f"Fault field '{key}' must be a string or null, got {type(spec[key]).__name__}.")
    count = spec.get("count")
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
        raise FaultError(f"Fault field 'count' must be an integer >= 1 or null (every request), got {count!r}.")
    try:
        path = re.compile(spec["path"]) if spec.get("path") else None
    except re.error as exc:
        raise FaultError(f"Fault field 'path' is not a valid regular expression: {exc}.") from exc

    status = spec.get("status", DEFAULT_STATUS.get(kind, 0))
    if kind in DEFAULT_STATUS and not _is_body_status(status):
        raise FaultError(
            "Fault field 'status' must be an HTTP status code from 200 to 599 whose response has a body "
            f"(not 204, 205 or 304), got {status!r}."
        )
    if kind == "status" and status < 400:
        raise FaultError(f"A status fault needs an error status (400-599), got {status}.")
    retry_after = spec.get("retry_after")
    if retry_after is not None:
        retry_after = str(int(_number(spec, "retry_after", 0)))

    return Fault(
        kind=kind,
        method=str(spec["method"]).upper() if spec.get("method") else None,
        path=path,
        endpoint=spec.get("endpoint"),
        count=count,
        remaining=count,
        seconds=_number(spec, "seconds", 0.0),
        status=status,
        error_code=str(spec.get("error_code") or DEFAULT_ERROR_CODES.get(status, "UNKNOWN")),
        message=str(spec.get("message") or DEFAULT_MESSAGES.get(status, f"Injected HTTP {status} error.")),
        retry_after=retry_after,
    )


def clear_faults(workspace: Workspace) -> int:
    """Remove every fault and release the requests they hold; return how many were removed."""
    with workspace.lock:
        removed = list(workspace.faults)
        workspace.faults.clear()
    for fault in removed:
        fault.released = True
    return len(removed)


def endpoint_name_of(workspace: Workspace, path: str, body: bytes) -> str | None:
    """Return the name of the serving endpoint a request addresses, or None when it addresses none.

    The name comes from the path, from the body's "name" (create routes) or "model" (OpenAI-compatible
    routes), or from the endpoint id in a permissions path.
    """
    if path in CREATE_PATHS:
        return _body_field(body, "name")
    match = ENDPOINT_PATH.match(path)
    if match is not None and match["name"] in OPENAI_PATHS:
        return _body_field(body, "model")
    if match is not None:
        return match["name"]
    permissions = PERMISSIONS_PATH.match(path)
    if permissions is not None:
        ids = {e.id: e.name for e in workspace.endpoints.values()}
        return ids.get(permissions["id"])
    return None


def _body_field(body: bytes, key: str) -> str | None:
    try:
        data = parse_json(body)
    except InvalidJson:
        return None
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


class FaultMiddleware:
    """Apply the workspace's faults to every request outside /__emulator__/."""

    def __init__(self, app: ASGIApp, workspace: Workspace) -> None:
        self.app = app
        self.workspace = workspace

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(ADMIN_PREFIX) or not self.workspace.faults:
            await self.app(scope, receive, send)
            return
        body = await read_body(receive)
        delays, fault = self._select(scope["method"], scope["path"], body)
        for delay in delays:
            await _hold(delay, delay.seconds)
        if fault is None:
            await self.app(scope, replay_body(body, receive), send)
            return
        logger.info("Injecting %s fault %d into %s %s", fault.kind, fault.id, scope["method"], scope["path"])
        if fault.kind == "reset":
            await self._reset(send)
        elif fault.kind == "timeout":
            await _hold(fault, fault.seconds)
            await _error(fault).to_response()(scope, replay_body(body, receive), send)
        elif fault.kind == "status":
            await _error(fault).to_response()(scope, replay_body(body, receive), send)
        elif fault.kind == "html":
            await _send_raw(send, fault.status, "text/html; charset=utf-8", _html_page(fault.status))
        else:
            await _send_raw(send, fault.status, "application/json", b'{"predictions": [{"id": 1, "score": 0.')

    def _select(self, method: str, path: str, body: bytes) -> tuple[list[Fault], Fault | None]:
        """Consume the matching latency faults and the first matching fault of another kind."""
        with self.workspace.lock:
            endpoint = endpoint_name_of(self.workspace, path, body)
            delays: list[Fault] = []
            chosen: Fault | None = None
            for fault in self.workspace.faults:
                if not fault.matches(method, path, endpoint):
                    continue
                if fault.kind == "latency":
                    fault.consume()
                    delays.append(fault)
                elif chosen is None:
                    fault.consume()
                    chosen = fault
            return delays, chosen

    @staticmethod
    async def _reset(send: Send) -> None:
        """Close the connection in the middle of a response.

        ASGI has no message that aborts a connection, so this sends a status line and headers that
        announce a body, then raises. uvicorn closes the socket when an application fails after the
        response has started, so a client sees the connection end before the body arrives (httpx
        raises RemoteProtocolError). In process, under httpx.ASGITransport, the ConnectionResetError
        reaches the caller instead.
        """
        headers = [(b"content-type", b"application/json"), (b"content-length", b"1024")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        raise ConnectionResetError("Emulator fault: connection reset before the response body")


def _error(fault: Fault) -> ApiError:
    headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else None
    return ApiError(fault.status, fault.error_code, fault.message, headers=headers)


def _html_page(status: int) -> bytes:
    title = f"{status} Bad Gateway" if status == 502 else f"Error {status}"
    return f"<html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>".encode()


async def _hold(fault: Fault, seconds: float) -> None:
    """Wait `seconds` of real time, or less when the fault is cleared meanwhile."""
    # Polling, not an anyio.Event: faults are cleared from other threads and event loops (tests, the admin API).
    with anyio.move_on_after(seconds):
        while not fault.released:  # noqa: ASYNC110
            await anyio.sleep(HOLD_POLL_SECONDS)


async def _send_raw(send: Send, status: int, content_type: str, body: bytes) -> None:
    headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
