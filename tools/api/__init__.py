"""Async client for the Databricks Model Serving REST API."""

from tools.api.auth import AuthProvider, SdkConfigAuth, StaticTokenAuth, check_workspace_host
from tools.api.client import ClientOptions, DatabricksClient, TextResponse
from tools.api.errors import (
    ApiError,
    BadRequest,
    ConfigurationError,
    DatabricksError,
    NotFound,
    PermissionDenied,
    RequestTimeout,
    ResourceConflict,
    TooManyRequests,
    TransportError,
)

__all__ = [
    "ApiError",
    "AuthProvider",
    "BadRequest",
    "ClientOptions",
    "ConfigurationError",
    "DatabricksClient",
    "DatabricksError",
    "NotFound",
    "PermissionDenied",
    "RequestTimeout",
    "ResourceConflict",
    "SdkConfigAuth",
    "StaticTokenAuth",
    "TextResponse",
    "TooManyRequests",
    "TransportError",
    "check_workspace_host",
]
