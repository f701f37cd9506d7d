"""Databricks-shaped error responses: `{error_code, message, details}`."""

import uuid
from typing import Any

from starlette.responses import JSONResponse


class ApiError(Exception):
    """An error the emulated workspace returns as a JSON error body."""

    def __init__(
        self,
        status: int,
        error_code: str,
        message: str,
        *,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.message = message
        self.headers = headers or {}

    def to_response(self) -> JSONResponse:
        body: dict[str, Any] = {
            "error_code": self.error_code,
            "message": self.message,
            "details": [
                {
                    "@type": "type.googleapis.com/google.rpc.RequestInfo",
                    "request_id": str(uuid.uuid4()),
                    "serving_data": "",
                }
            ],
        }
        return JSONResponse(body, status_code=self.status, headers=self.headers)


def bad_request(message: str, error_code: str = "INVALID_PARAMETER_VALUE") -> ApiError:
    return ApiError(400, error_code, message)


def not_found(message: str) -> ApiError:
    return ApiError(404, "RESOURCE_DOES_NOT_EXIST", message)


def conflict(message: str, error_code: str = "RESOURCE_CONFLICT") -> ApiError:
    return ApiError(409, error_code, message)


def permission_denied(message: str) -> ApiError:
    return ApiError(403, "PERMISSION_DENIED", message)


def unauthenticated(message: str) -> ApiError:
    return ApiError(401, "UNAUTHENTICATED", message)
