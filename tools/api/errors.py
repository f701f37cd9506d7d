"""Exceptions raised by the Databricks REST client.

    DatabricksError
    ├── TransportError         the exchange did not complete (connect, timeout, reset)
    │   └── RequestTimeout
    ├── ApiError               the workspace returned an error status
    │   ├── BadRequest (400)       ├── NotFound (404)        ├── TooManyRequests (429)
    │   ├── Unauthenticated (401)  ├── ResourceConflict (409) ├── InternalError (500)
    │   ├── PermissionDenied (403) └── ...                    └── TemporarilyUnavailable (503)
    └── ConfigurationError     no usable workspace host or credentials

Errors in how this package is called (bad arguments) are ordinary `ValueError`s and
stay outside this tree, so `except DatabricksError` never hides a bug.
"""

from typing import Any


class DatabricksError(Exception):
    """Root of every failure talking to a Databricks workspace."""


class ConfigurationError(DatabricksError):
    """The workspace host or credentials are missing or invalid."""


class TransportError(DatabricksError):
    """The HTTP exchange did not complete."""

    def __init__(self, message: str, *, method: str, path: str) -> None:
        super().__init__(message)
        self.method = method
        self.path = path


class RequestTimeout(TransportError):
    """The workspace did not respond within the client's timeout."""


class ApiError(DatabricksError):
    """An HTTP error response from the workspace, with its `error_code` and message."""

    def __init__(
        self,
        *,
        status: int,
        error_code: str,
        message: str,
        method: str,
        path: str,
        request_id: str | None = None,
        retry_after_seconds: float | None = None,
        details: list[Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.message = message
        self.method = method
        self.path = path
        self.request_id = request_id
        self.retry_after_seconds = retry_after_seconds
        self.details = details or []

    def __str__(self) -> str:
        return f"{self.error_code} (HTTP {self.status}): {self.message}"


class BadRequest(ApiError):
    """HTTP 400: INVALID_PARAMETER_VALUE, BAD_REQUEST, INVALID_STATE and similar."""


class Unauthenticated(ApiError):
    """HTTP 401: the credential was missing, expired or invalid."""


class PermissionDenied(ApiError):
    """HTTP 403: the caller lacks the required permission."""


class NotFound(ApiError):
    """HTTP 404: RESOURCE_DOES_NOT_EXIST."""


class ResourceConflict(ApiError):
    """HTTP 409: RESOURCE_ALREADY_EXISTS, RESOURCE_CONFLICT, ABORTED."""


class TooManyRequests(ApiError):
    """HTTP 429: REQUEST_LIMIT_EXCEEDED, RESOURCE_EXHAUSTED."""


class InternalError(ApiError):
    """HTTP 500: INTERNAL_ERROR, UNKNOWN, DATA_LOSS."""


class TemporarilyUnavailable(ApiError):
    """HTTP 503: TEMPORARILY_UNAVAILABLE."""


class DeadlineExceeded(ApiError):
    """HTTP 504: DEADLINE_EXCEEDED."""


# A known error_code decides the class first, the HTTP status second (the order the
# Databricks SDKs use), and ApiError is the fallback.
ERROR_CODE_CLASSES: dict[str, type[ApiError]] = {
    "INVALID_PARAMETER_VALUE": BadRequest,
    "INVALID_STATE": BadRequest,
    "BAD_REQUEST": BadRequest,
    "MALFORMED_REQUEST": BadRequest,
    "UNAUTHENTICATED": Unauthenticated,
    "PERMISSION_DENIED": PermissionDenied,
    "RESOURCE_DOES_NOT_EXIST": NotFound,
    "NOT_FOUND": NotFound,
    "RESOURCE_ALREADY_EXISTS": ResourceConflict,
    "ALREADY_EXISTS": ResourceConflict,
    "RESOURCE_CONFLICT": ResourceConflict,
    "ABORTED": ResourceConflict,
    "REQUEST_LIMIT_EXCEEDED": TooManyRequests,
    "RESOURCE_EXHAUSTED": TooManyRequests,
    "TOO_MANY_REQUESTS": TooManyRequests,
    "INTERNAL_ERROR": InternalError,
    "UNKNOWN": InternalError,
    "DATA_LOSS": InternalError,
    "TEMPORARILY_UNAVAILABLE": TemporarilyUnavailable,
    "DEADLINE_EXCEEDED": DeadlineExceeded,
}
STATUS_CLASSES: dict[int, type[ApiError]] = {
    400: BadRequest,
    401: Unauthenticated,
    403: PermissionDenied,
    404: NotFound,
    409: ResourceConflict,
    429: TooManyRequests,
    500: InternalError,
    503: TemporarilyUnavailable,
    504: DeadlineExceeded,
}


def error_class_for(error_code: str, status: int) -> type[ApiError]:
    return ERROR_CODE_CLASSES.get(error_code) or STATUS_CLASSES.get(status) or ApiError
