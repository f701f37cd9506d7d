"""Request builders shared by the control-plane tests of the emulator."""

from typing import Any

import httpx

from emulator import Workspace

ENDPOINTS = "/api/2.0/serving-endpoints"
DEPLOY_SECONDS = 600


def demo_entity(version: str = "1", **extra: Any) -> dict[str, Any]:
    """A served entity of the seeded `main.default.demo_model`, as a config update would send it."""
    return {
        "entity_name": "main.default.demo_model",
        "entity_version": version,
        "workload_size": "Small",
        "scale_to_zero_enabled": True,
        **extra,
    }


def external_entity(name: str = "gpt-4o", task: str = "llm/v1/chat", **config: Any) -> dict[str, Any]:
    openai_config = config or {"openai_api_key": "{{secrets/llm/openai}}"}
    return {"external_model": {"name": name, "provider": "openai", "task": task, "openai_config": openai_config}}


async def create(http: httpx.AsyncClient, name: str, *entities: dict[str, Any], **fields: Any) -> httpx.Response:
    body: dict[str, Any] = {"name": name, **fields}
    if entities:
        body["config"] = {"served_entities": list(entities)}
    return await http.post(ENDPOINTS, json=body)


async def create_ready(
    http: httpx.AsyncClient, workspace: Workspace, name: str, *entities: dict[str, Any], **fields: Any
) -> dict[str, Any]:
    """Create `name` serving `entities` (demo_model v1 by default), let it deploy, and return GET."""
    response = await create(http, name, *(entities or (demo_entity(),)), **fields)
    assert response.status_code == 200, response.text
    workspace.clock.advance(DEPLOY_SECONDS)
    endpoint = await get(http, name)
    assert endpoint["state"]["ready"] == "READY", endpoint
    return endpoint


async def get(http: httpx.AsyncClient, name: str) -> dict[str, Any]:
    response = await http.get(f"{ENDPOINTS}/{name}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def update(http: httpx.AsyncClient, name: str, body: dict[str, Any]) -> httpx.Response:
    return await http.put(f"{ENDPOINTS}/{name}/config", json=body)


def error_of(response: httpx.Response) -> tuple[int, str, str]:
    """Return (status, error_code, message) of an error response."""
    body = response.json()
    return response.status_code, body["error_code"], body["message"]
