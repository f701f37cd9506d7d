"""The async REST client for one Databricks workspace.

One pooled `httpx.AsyncClient` per server lifetime. 429 and 503 responses are retried
after their Retry-After delay while a total retry budget lasts. Connection failures
are retried the same way because no request bytes reached the server.
"""

import json
import logging
import random
import re
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any

import anyio
import httpx
from httpx_sse import aconnect_sse

from tools.api.auth import AuthProvider
from tools.api.errors import ApiError, RequestTimeout, TransportError, error_class_for

logger = logging.getLogger(__name__)

USER_AGENT = "databricks-serving-mcp/0.1.0"
DEFAULT_TIMEOUT_SECONDS = 30.0
# Total time spent sleeping between retries of one call. Kept well under the 60 s that
# many MCP clients allow for a whole tool call.
DEFAULT_RETRY_BUDGET_SECONDS = 20.0
DEFAULT_RETRY_AFTER_SECONDS = 1.0
RETRY_STATUSES = frozenset({429, 503})


@dataclass(frozen=True)
class ClientOptions:
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    retry_budget_seconds: float = DEFAULT_RETRY_BUDGET_SECONDS


@dataclass
class TextResponse:
    """A non-JSON body (metrics, raw OpenAPI) with its content type."""

    text: str
    content_type: str


class DatabricksClient:
    """Sends REST calls to one workspace and raises `ApiError`s for error responses."""

    def __init__(
        self,
        auth: AuthProvider,
        *,
        options: ClientOptions | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._auth = auth
        self._options = options or ClientOptions()
        self._http = httpx.AsyncClient(
            transport=transport,
            timeout=httpx.Timeout(self._options.timeout_seconds),
            headers={"User-Agent": USER_AGENT},
            follow_redirects=False,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> "DatabricksClient":
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def get(
        self, path: str, params: dict[str, Any] | None = None, *, retry_budget_seconds: float | None = None
    ) -> Any:
        return await self.request("GET", path, params=params, retry_budget_seconds=retry_budget_seconds)

    async def post(self, path: str, body: dict[str, Any] | None = None, *, timeout: float | None = None) -> Any:
        return await self.request("POST", path, body=body, timeout=timeout)

    async def put(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return await self.request("PUT", path, body=body)

    async def patch(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return await self.request("PATCH", path, body=body)

    async def delete(self, path: str) -> Any:
        return await self.request("DELETE", path)

    async def get_text(self, path: str) -> TextResponse:
        response = await self._send("GET", path, accept="text/plain")
        return TextResponse(response.text, response.headers.get("content-type", ""))

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        timeout: float | None = None,
        retry_budget_seconds: float | None = None,
    ) -> Any:
        """Send one call and return its decoded JSON body (None for an empty body).

        `retry_budget_seconds` replaces the client's retry budget for this call.
        """
        response = await self._send(
            method, path, body=body, params=params, timeout=timeout, retry_budget_seconds=retry_budget_seconds
        )
        return decode_json(response, method, path)

    async def stream_events(
        self, path: str, body: dict[str, Any], *, timeout: float | None = None
    ) -> AsyncGenerator[str, None]:
        """POST `body` and yield the `data` field of each Server-Sent Event until `[DONE]`."""
        url = await self._url(path)
        headers = await self._auth.headers()
        headers["Accept"] = "text/event-stream"
        request_timeout = httpx.Timeout(timeout or self._options.timeout_seconds)
        try:
            async with aconnect_sse(
                self._http, "POST", url, json=body, headers=headers, timeout=request_timeout
            ) as source:
                response = source.response
                if response.status_code >= 400:
                    await response.aread()
                    raise api_error_from(response, "POST", path)
                content_type = response.headers.get("content-type", "")
                if "text/event-stream" not in content_type:
                    # The endpoint ignored `stream` and returned one JSON document.
                    await response.aread()
                    yield response.text
                    return
                async for event in source.aiter_sse():
                    if event.data.strip() == "[DONE]":
                        return
                    if event.data.strip():
                        yield event.data
        except httpx.TimeoutException as exc:
            raise RequestTimeout(
                f"Timed out reading the stream from POST {path}: {exc}", method="POST", path=path
            ) from exc
        except httpx.TransportError as exc:
            raise TransportError(f"Stream from POST {path} failed: {exc!r}", method="POST", path=path) from exc

    async def post_with_headers(
        self,
        path: str,
        body: dict[str, Any],
        *,
        timeout: float | None = None,
        retry_budget_seconds: float | None = None,
    ) -> tuple[Any, httpx.Headers]:
        """POST `body` and return the decoded JSON body with the response headers.

        `retry_budget_seconds` replaces the client's retry budget for this call, so a caller
        with a total deadline can make the last 429 or 503 surface before that deadline.
        """
        response = await self._send("POST", path, body=body, timeout=timeout, retry_budget_seconds=retry_budget_seconds)
        return decode_json(response, "POST", path), response.headers

    async def _send(
        self,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        accept: str = "application/json",
        timeout: float | None = None,
        retry_budget_seconds: float | None = None,
    ) -> httpx.Response:
        budget = self._options.retry_budget_seconds if retry_budget_seconds is None else retry_budget_seconds
        deadline = time.monotonic() + budget
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self._send_once(method, path, body, params, accept, timeout)
            except TransportError as exc:
                delay = backoff_seconds(attempt)
                if not isinstance(exc.__cause__, httpx.ConnectError) or time.monotonic() + delay > deadline:
                    raise
                logger.warning("%s %s connection failed (attempt %d); retrying in %.1fs", method, path, attempt, delay)
                await anyio.sleep(delay)
                continue
            if response.status_code < 400:
                return response
            error = api_error_from(response, method, path)
            if response.status_code not in RETRY_STATUSES:
                raise error
            retry_after = error.retry_after_seconds
            delay = (DEFAULT_RETRY_AFTER_SECONDS if retry_after is None else retry_after) + random.uniform(0, 0.25)
            if time.monotonic() + delay > deadline:
                raise error
            logger.warning(
                "%s %s returned %d %s (attempt %d); retrying in %.1fs",
                method,
                path,
                response.status_code,
                error.error_code,
                attempt,
                delay,
            )
            await anyio.sleep(delay)

    async def _send_once(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        params: dict[str, Any] | None,
        accept: str,
        timeout: float | None,
    ) -> httpx.Response:
        url = await self._url(path)
        headers = await self._auth.headers()
        headers["Accept"] = accept
        started = time.monotonic()
        try:
            response = await self._http.request(
                method,
                url,
                json=body,
                params=params,
                headers=headers,
                timeout=httpx.Timeout(timeout) if timeout else httpx.USE_CLIENT_DEFAULT,
            )
        except httpx.TimeoutException as exc:
            limit = timeout or self._options.timeout_seconds
            raise RequestTimeout(
                f"{method} {path} timed out on the client side after {limit:g}s", method=method, path=path
            ) from exc
        except httpx.TransportError as exc:
            raise TransportError(f"{method} {path} failed: {exc!r}", method=method, path=path) from exc
        elapsed_ms = (time.monotonic() - started) * 1000
        logger.info("%s %s -> %d (%.0f ms)", method, path, response.status_code, elapsed_ms)
        return response

    async def _url(self, path: str) -> str:
        return f"{await self._auth.host()}{path}"


def backoff_seconds(attempt: int) -> float:
    return min(0.5 * 2.0 ** (attempt - 1), 4.0)


def decode_json(response: httpx.Response, method: str, path: str) -> Any:
    if not response.content.strip():
        return None
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApiError(
            status=response.status_code,
            error_code="MALFORMED_RESPONSE",
            message=f"Expected a JSON body but got {response.headers.get('content-type', 'no content type')}: "
            f"{response.text[:200]!r}",
            method=method,
            path=path,
        ) from exc


def api_error_from(response: httpx.Response, method: str, path: str) -> ApiError:
    """Build the matching ApiError from an error response in any of the shapes Databricks uses."""
    error_code, message, details = parse_error_body(response)
    request_id = response.headers.get("x-request-id") or response.headers.get("x-databricks-request-id")
    for detail in details:
        if isinstance(detail, dict) and detail.get("request_id"):
            request_id = str(detail["request_id"])
    error_class = error_class_for(error_code, response.status_code)
    return error_class(
        status=response.status_code,
        error_code=error_code,
        message=message,
        method=method,
        path=path,
        request_id=request_id,
        retry_after_seconds=parse_retry_after(response.headers.get("retry-after")),
        details=details,
    )


def parse_error_body(response: httpx.Response) -> tuple[str, str, list[Any]]:
    fallback_code = default_error_code(response.status_code)
    text = response.text.strip()
    if not text:
        return fallback_code, response.reason_phrase or f"HTTP {response.status_code}", []
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return fallback_code, text_error_message(text), []
    if not isinstance(body, dict):
        return fallback_code, text[:500], []
    if isinstance(body.get("error"), dict):
        # OpenAI-style bodies, as some gateway routes return.
        inner = body["error"]
        return str(inner.get("code") or fallback_code), str(inner.get("message") or text[:500]), []
    error_code = str(body.get("error_code") or fallback_code)
    message = body.get("message") or body.get("error") or body.get("detail") or text[:500]
    raw_details = body.get("details")
    details: list[Any] = raw_details if isinstance(raw_details, list) else []
    return error_code, str(message), details


def text_error_message(text: str) -> str:
    """Pull the message out of an HTML or plain-text error page."""
    for tag in ("pre", "title"):
        match = re.search(rf"<{tag}[^>]*>(.*?)</{tag}>", text, re.IGNORECASE | re.DOTALL)
        if match:
            return re.sub(r"\s+", " ", match.group(1)).strip()[:500]
    return re.sub(r"\s+", " ", text)[:500]


def default_error_code(status: int) -> str:
    return {
        400: "BAD_REQUEST",
        401: "UNAUTHENTICATED",
        403: "PERMISSION_DENIED",
        404: "NOT_FOUND",
        409: "RESOURCE_CONFLICT",
        429: "TOO_MANY_REQUESTS",
        500: "INTERNAL_ERROR",
        502: "BAD_GATEWAY",
        503: "TEMPORARILY_UNAVAILABLE",
        504: "DEADLINE_EXCEEDED",
    }.get(status, f"HTTP_{status}")


def parse_retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None
