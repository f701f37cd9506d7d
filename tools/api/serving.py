"""Typed calls for each serving operation. This module is the only place that builds REST paths."""

from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from tools.api.client import DatabricksClient, TextResponse
from tools.api.models import EndpointPermissions, ModelVersionInfo, ServingEndpoint

ENDPOINTS = "/api/2.0/serving-endpoints"
PERMISSIONS = "/api/2.0/permissions/serving-endpoints"
UC_MODELS = "/api/2.1/unity-catalog/models"
# Most pages one listing of a model's versions reads, so a huge registry cannot stall a tool call.
MAX_VERSION_PAGES = 10


def _segment(value: str) -> str:
    """Percent-encode `value` as one path segment.

    Raises ValueError for "", "." and "..", which survive the encoding and would make httpx
    address the parent path (`DELETE .../serving-endpoints/..` is `DELETE /api/2.0`).
    """
    if value in ("", ".", ".."):
        raise ValueError(f"{value!r} is not a usable path segment for a serving endpoint or entity name")
    return quote(value, safe="")


class ServingApi:
    """Model Serving operations over one `DatabricksClient`."""

    def __init__(self, client: DatabricksClient) -> None:
        self.client = client

    async def get_endpoint(self, name: str, *, retry_budget_seconds: float | None = None) -> ServingEndpoint:
        body = await self.client.get(f"{ENDPOINTS}/{_segment(name)}", retry_budget_seconds=retry_budget_seconds)
        return ServingEndpoint.model_validate(body)

    async def get_endpoint_raw(self, name: str) -> dict[str, Any]:
        body: dict[str, Any] = await self.client.get(f"{ENDPOINTS}/{_segment(name)}")
        return body

    async def list_endpoints(self) -> list[ServingEndpoint]:
        body = await self.client.get(ENDPOINTS) or {}
        return [ServingEndpoint.model_validate(item) for item in body.get("endpoints") or []]

    async def create_endpoint(self, body: dict[str, Any]) -> ServingEndpoint:
        return ServingEndpoint.model_validate(await self.client.post(ENDPOINTS, body))

    async def update_config(self, name: str, body: dict[str, Any]) -> ServingEndpoint:
        return ServingEndpoint.model_validate(await self.client.put(f"{ENDPOINTS}/{_segment(name)}/config", body))

    async def delete_endpoint(self, name: str) -> None:
        await self.client.delete(f"{ENDPOINTS}/{_segment(name)}")

    async def build_logs(self, name: str, served_model: str) -> str:
        body = await self.client.get(f"{ENDPOINTS}/{_segment(name)}/served-models/{_segment(served_model)}/build-logs")
        return str((body or {}).get("logs") or "")

    async def logs(self, name: str, served_model: str) -> str:
        body = await self.client.get(f"{ENDPOINTS}/{_segment(name)}/served-models/{_segment(served_model)}/logs")
        return str((body or {}).get("logs") or "")

    async def open_api(self, name: str) -> TextResponse:
        return await self.client.get_text(f"{ENDPOINTS}/{_segment(name)}/openapi")

    async def export_metrics(self, name: str) -> TextResponse:
        return await self.client.get_text(f"{ENDPOINTS}/{_segment(name)}/metrics")

    def invocations_path(self, name: str, served_model: str | None = None) -> str:
        if served_model:
            return f"/serving-endpoints/{_segment(name)}/served-models/{_segment(served_model)}/invocations"
        return f"/serving-endpoints/{_segment(name)}/invocations"

    async def query(
        self, name: str, body: dict[str, Any], *, served_model: str | None = None, timeout: float | None = None
    ) -> Any:
        return await self.client.post(self.invocations_path(name, served_model), body, timeout=timeout)

    async def query_with_headers(
        self,
        name: str,
        body: dict[str, Any],
        *,
        served_model: str | None = None,
        timeout: float | None = None,
        retry_budget_seconds: float | None = None,
    ) -> "InvocationResponse":
        """Invoke the endpoint and keep the response headers that name the served entity and request."""
        path = self.invocations_path(name, served_model)
        decoded, headers = await self.client.post_with_headers(
            path, body, timeout=timeout, retry_budget_seconds=retry_budget_seconds
        )
        return InvocationResponse(
            body=decoded,
            served_model_name=headers.get("served-model-name"),
            request_id=headers.get("x-request-id") or headers.get("x-databricks-request-id"),
        )

    def stream_query(
        self, name: str, body: dict[str, Any], *, served_model: str | None = None, timeout: float | None = None
    ) -> AsyncGenerator[str, None]:
        """Invoke the endpoint with `stream: true` in `body` and yield each Server-Sent Event's data."""
        return self.client.stream_events(self.invocations_path(name, served_model), body, timeout=timeout)

    def config_path(self, name: str) -> str:
        return f"{ENDPOINTS}/{_segment(name)}/config"

    def permissions_path(self, endpoint_id: str) -> str:
        """Return the permissions path of an endpoint, which takes its 32-hex `id`, never its name."""
        return f"{PERMISSIONS}/{_segment(endpoint_id)}"

    async def get_permissions(self, endpoint_id: str) -> EndpointPermissions:
        return EndpointPermissions.model_validate(await self.client.get(self.permissions_path(endpoint_id)))

    async def update_permissions(self, endpoint_id: str, body: dict[str, Any]) -> EndpointPermissions:
        """PATCH the ACL: add or change the listed grants and keep every other grant."""
        response = await self.client.patch(self.permissions_path(endpoint_id), body)
        return EndpointPermissions.model_validate(response or {})

    def model_version_path(self, full_name: str, version: int) -> str:
        return f"{UC_MODELS}/{_segment(full_name)}/versions/{version}"

    async def get_model_version(self, full_name: str, version: int) -> ModelVersionInfo:
        return ModelVersionInfo.model_validate(await self.client.get(self.model_version_path(full_name, version)))

    async def list_model_versions(self, full_name: str) -> list[ModelVersionInfo]:
        """List the versions of a Unity Catalog model, reading up to MAX_VERSION_PAGES pages."""
        versions: list[ModelVersionInfo] = []
        params: dict[str, Any] = {}
        for _ in range(MAX_VERSION_PAGES):
            body = await self.client.get(f"{UC_MODELS}/{_segment(full_name)}/versions", params=params) or {}
            versions.extend(ModelVersionInfo.model_validate(v) for v in body.get("model_versions") or [])
            token = body.get("next_page_token")
            if not token:
                break
            params = {"page_token": token}
        return versions

    def alias_path(self, full_name: str, alias: str) -> str:
        return f"{UC_MODELS}/{_segment(full_name)}/aliases/{_segment(alias)}"

    async def get_version_by_alias(self, full_name: str, alias: str) -> ModelVersionInfo:
        return ModelVersionInfo.model_validate(await self.client.get(self.alias_path(full_name, alias)))

    async def set_alias(self, full_name: str, alias: str, version: int) -> dict[str, Any]:
        """Point `alias` of a Unity Catalog model at `version`; returns the `RegisteredModelAlias`."""
        body: dict[str, Any] = await self.client.put(self.alias_path(full_name, alias), {"version_num": version}) or {}
        return body


@dataclass
class InvocationResponse:
    """An invocation's decoded JSON body, plus the served entity that handled it (`served-model-name` header)."""

    body: Any
    served_model_name: str | None
    request_id: str | None
