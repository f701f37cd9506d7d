"""Pick the default Foundation Model endpoint from the live endpoint list.

Pay-per-token Foundation Model endpoints come and go as Databricks adds and retires models,
so the pick is always made from `GET /api/2.0/serving-endpoints` and never from a stored
name. A Foundation Model endpoint is one named `databricks-*` whose first served entity is a
`system.ai.*` model: other `databricks-*` endpoints (app templates, for example) share the
prefix but are not Foundation Models.

Defaults per purpose: agent and chat take the highest-numbered Claude Sonnet; code takes the
highest-numbered `-codex-max`; embeddings take `databricks-gte-large-en`. When the preferred
family is missing, the pick falls back to another endpoint of the same task, and `reason` states
why.
"""

import re
from collections.abc import Callable
from typing import Literal

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp_types import ToolAnnotations
from pydantic import BaseModel, Field

from tools.api.models import ServingEndpoint
from tools.context import deps_of
from tools.errors import failure, tool_errors

READ_ONLY = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)
Purpose = Literal["agent", "chat", "code", "embeddings"]
CHAT_TASK = "llm/v1/chat"
EMBEDDINGS_TASK = "llm/v1/embeddings"
PREFERRED_EMBEDDINGS = "databricks-gte-large-en"
# Max endpoint names listed per task, so a result stays small in any workspace.
MAX_NAMES_PER_TASK = 50


class FoundationPick(BaseModel):
    purpose: Purpose
    endpoint: str = Field(description="endpoint name to pass to query_endpoint")
    task: str | None
    entity_name: str | None = None
    reason: str
    alternatives: dict[str, list[str]] = Field(
        description=f"Foundation Model endpoints grouped by task, the first {MAX_NAMES_PER_TASK} of each task"
    )
    alternatives_omitted: int = Field(0, description="Foundation Model endpoints left out of `alternatives`")
    next_step: str


def register(server: MCPServer) -> None:
    @server.tool(annotations=READ_ONLY)
    @tool_errors
    async def pick_foundation_model(ctx: Context, purpose: Purpose = "agent") -> FoundationPick:
        """Pick the Foundation Model endpoint to use for a purpose, from this workspace's live endpoint list."""
        endpoints = await deps_of(ctx).serving.list_endpoints()
        return pick(purpose, foundation_endpoints(endpoints))


def foundation_endpoints(endpoints: list[ServingEndpoint]) -> list[ServingEndpoint]:
    """Keep the pay-per-token Foundation Model endpoints: `databricks-*` serving a `system.ai.*` model."""
    return [e for e in endpoints if e.name.startswith("databricks-") and _first_entity_name(e).startswith("system.ai.")]


def group_by_task(endpoints: list[ServingEndpoint]) -> dict[str, list[str]]:
    """Map each task to its endpoint names, sorted by name with embedded numbers compared by value."""
    groups: dict[str, list[str]] = {}
    for endpoint in endpoints:
        groups.setdefault(endpoint.task or "unknown", []).append(endpoint.name)
    return {task: sorted(names, key=natural_key) for task, names in sorted(groups.items())}


def first_names(groups: dict[str, list[str]]) -> dict[str, list[str]]:
    """Keep the first MAX_NAMES_PER_TASK names of each task."""
    return {task: names[:MAX_NAMES_PER_TASK] for task, names in groups.items()}


def version_of(name: str) -> tuple[int, ...]:
    """Read the version numbers in an endpoint name: `databricks-claude-sonnet-4-10` gives (4, 10).

    Tuples compare number by number, so 4-10 > 4-9 > 4 and sonnet-4-5 > sonnet-4, unlike string order.
    """
    return tuple(int(part) for part in re.findall(r"\d+", name))


def natural_key(name: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key that orders the numbers inside a name by value: `x-4-9` before `x-4-10`."""
    return tuple((1, int(part)) if part.isdigit() else (0, part) for part in re.findall(r"\d+|\D+", name))


def pick(purpose: Purpose, endpoints: list[ServingEndpoint]) -> FoundationPick:
    """Choose the endpoint for `purpose` among Foundation Model endpoints, or raise listing what exists."""
    groups = group_by_task(endpoints)
    chat = [e for e in endpoints if e.task == CHAT_TASK]
    if purpose == "embeddings":
        chosen, reason = _pick_embeddings([e for e in endpoints if e.task == EMBEDDINGS_TASK])
    elif purpose == "code":
        chosen, reason = _pick_code(chat)
    else:
        chosen, reason = _pick_chat(chat, purpose)
    if chosen is None:
        raise failure(
            "NO_FOUNDATION_MODEL",
            f"This workspace has no Foundation Model endpoint for purpose={purpose!r}.",
            next_step="Choose one of the listed endpoints by name, or ask an admin to enable Foundation Model APIs.",
            foundation_endpoints_by_task=first_names(groups),
        )
    return FoundationPick(
        purpose=purpose,
        endpoint=chosen.name,
        task=chosen.task,
        entity_name=_first_entity_name(chosen) or None,
        reason=reason,
        alternatives=first_names(groups),
        alternatives_omitted=sum(max(len(names) - MAX_NAMES_PER_TASK, 0) for names in groups.values()),
        next_step=_next_step(chosen),
    )


def _pick_chat(chat: list[ServingEndpoint], purpose: str) -> tuple[ServingEndpoint | None, str]:
    sonnet = _highest(chat, lambda name: "claude" in name and "sonnet" in name)
    if sonnet is not None:
        return sonnet, f"highest-numbered Claude Sonnet among the live chat endpoints, the default for {purpose}"
    claude = _highest(chat, lambda name: "claude" in name)
    if claude is not None:
        return claude, "no Claude Sonnet endpoint is live; this is the highest-numbered other Claude chat endpoint"
    if chat:
        first = min(chat, key=lambda e: natural_key(e.name))
        return first, "no Claude endpoint is live; this is the first chat endpoint by name"
    return None, ""


def _pick_code(chat: list[ServingEndpoint]) -> tuple[ServingEndpoint | None, str]:
    codex_max = _highest(chat, lambda name: name.endswith("-codex-max"))
    if codex_max is not None:
        return codex_max, "highest-numbered -codex-max endpoint, the default for code"
    codex = _highest(chat, lambda name: "codex" in name)
    if codex is not None:
        return codex, "no -codex-max endpoint is live; this is the highest-numbered other codex endpoint"
    chosen, reason = _pick_chat(chat, "code")
    if chosen is None:
        return None, ""
    return chosen, f"no codex endpoint is live; fell back to the chat pick: {reason}"


def _pick_embeddings(embeddings: list[ServingEndpoint]) -> tuple[ServingEndpoint | None, str]:
    for endpoint in embeddings:
        if endpoint.name == PREFERRED_EMBEDDINGS:
            return endpoint, "databricks-gte-large-en is live, the default for embeddings"
    if embeddings:
        first = min(embeddings, key=lambda e: natural_key(e.name))
        return first, f"{PREFERRED_EMBEDDINGS} is not live; this is the first embeddings endpoint by name"
    return None, ""


def _highest(endpoints: list[ServingEndpoint], family: Callable[[str], bool]) -> ServingEndpoint | None:
    members = [e for e in endpoints if family(e.name)]
    if not members:
        return None
    return max(members, key=lambda e: (version_of(e.name), e.name))


def _first_entity_name(endpoint: ServingEndpoint) -> str:
    config = endpoint.config or endpoint.pending_config
    if config is None or not config.served_entities:
        return ""
    return config.served_entities[0].entity_name or ""


def _next_step(endpoint: ServingEndpoint) -> str:
    if endpoint.task == EMBEDDINGS_TASK:
        return f"query_endpoint(name={endpoint.name!r}, input=['text to embed'])"
    return f"query_endpoint(name={endpoint.name!r}, messages=[{{'role': 'user', 'content': '...'}}])"
