"""swap_model_version: serve another version of an endpoint's Unity Catalog model, with zero downtime.

A version swap has two halves: the config update that serves the new version, and the Unity
Catalog alias (for example `prod`) that names it. Either half alone leaves the two out of step.
This tool checks that the version is registered, then sends the config update first, so an update
the API rejects leaves the alias where it was, and then moves the alias. The result reports both
halves, and an error names the half that failed and how to undo the other.

Calling it again with the same arguments is safe: once the new config serves the version, only
the alias moves, and a call that finds everything in place sends nothing.
"""

import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp_types import ToolAnnotations
from pydantic import BaseModel, Field

from tools.api.errors import DatabricksError, NotFound
from tools.audit import audited
from tools.context import ToolDeps, deps_of
from tools.endpoints import EndpointName
from tools.errors import InvalidArgument, ToolFailure, failure, from_api_error, to_tool_failure, tool_errors
from tools.output import ECHO_HINT, ECHO_TRUNCATION_HELP, Truncation, fit_result
from tools.redaction import redact
from tools.rules import check_endpoint_name, coerce_int, derive_entity_name, normalise_routes
from tools.updates import (
    DIFF_PARTS,
    ConfigDiff,
    CurrentConfig,
    PlannedRequest,
    carried_over_notes,
    diff_configs,
    read_endpoint,
    reject_in_progress,
    send_config_update,
)

TOOL = "swap_model_version"
SWAP = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=False)
ALIAS_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,255}")
# MLflow resolves "latest" and "v<number>" to versions itself, so they cannot be alias names.
RESERVED_ALIAS_PATTERN = re.compile(r"latest|v\d+", re.IGNORECASE)
# The parts of a swap result that `fit_result` may cut to fit the result cap. The config of an
# endpoint with many served entities or environment variables makes them large.
RESULT_PARTS = ("requests.0.body", "requests.1.body", *DIFF_PARTS, "notes", "next_steps", "undo")


class AliasMove(BaseModel):
    alias: str
    from_version: int | None = Field(description="the version before this call; null when the alias was new")
    to_version: int
    status: Literal["MOVED", "UNCHANGED", "DRY_RUN"]


class SwapResult(BaseModel):
    status: Literal["SWAPPING", "ALIAS_MOVED", "NO_CHANGE", "DRY_RUN"]
    name: str
    model: str
    version: int
    served_entity: str = Field(description="the served entity of the new version")
    config_update: Literal["UPDATING", "NO_CHANGE", "DRY_RUN"]
    config_version: int | None = Field(None, description="the config version now deploying")
    diff: ConfigDiff
    alias: AliasMove | None = None
    notes: list[str] = Field(default_factory=list)
    requests: list[PlannedRequest] = Field(default_factory=list, description="for a dry run: the writes, in order")
    next_steps: list[str] = Field(default_factory=list)
    undo: list[str] = Field(default_factory=list)
    truncation: Truncation | None = Field(None, description=ECHO_TRUNCATION_HELP)


@dataclass(frozen=True)
class SwapPlan:
    """The new config of a swap, built from the current one."""

    model: str
    target: str
    old_versions: list[str]
    entities: list[dict[str, Any]]
    routes: list[dict[str, Any]]


def register(server: MCPServer) -> None:
    @server.tool(annotations=SWAP)
    @tool_errors
    async def swap_model_version(
        name: EndpointName,
        version: Annotated[int | str, Field(description="registered model version to serve, e.g. 4")],
        ctx: Context,
        model: Annotated[
            str | None, Field(description="catalog.schema.model; omitted: the endpoint's only registered model")
        ] = None,
        alias: Annotated[str | None, Field(description="Unity Catalog alias to move to the version, e.g. prod")] = None,
        canary_percentage: Annotated[
            int | str | None, Field(description="1-99: keep the old version and send this % of traffic to the new one")
        ] = None,
        dry_run: Annotated[bool, Field(description="check and return the writes without sending them")] = False,
    ) -> SwapResult:
        """Serve another version of the endpoint's Unity Catalog model with zero downtime (same compute, optional
        canary), then move `alias` to it. Then call wait_until_ready."""
        deps = deps_of(ctx)
        with audited(deps, TOOL, name):
            result = await _swap(deps, name, version, model, alias, canary_percentage, dry_run)
        return fit_result(result, deps.settings.max_result_chars, ECHO_HINT, RESULT_PARTS)


@dataclass(frozen=True)
class Swap:
    """A swap after every check and read, before its first write."""

    name: str
    version: int
    canary: int | None
    alias: str | None
    # The version the alias points to before the swap, or None when the alias does not exist yet.
    previous: int | None
    plan: SwapPlan
    diff: ConfigDiff
    notes: list[str]

    @property
    def body(self) -> dict[str, Any]:
        return {"served_entities": self.plan.entities, "traffic_config": {"routes": self.plan.routes}}

    @property
    def send_config(self) -> bool:
        return not self.diff.is_empty()

    @property
    def move_alias(self) -> bool:
        return self.alias is not None and self.previous != self.version

    def result(self, status: Any, config_update: Any, alias_status: Any, **fields: Any) -> SwapResult:
        move = None
        if self.alias is not None:
            move = AliasMove(alias=self.alias, from_version=self.previous, to_version=self.version, status=alias_status)
        return SwapResult(
            status=status,
            name=self.name,
            model=self.plan.model,
            version=self.version,
            served_entity=self.plan.target,
            config_update=config_update,
            diff=self.diff,
            alias=move,
            notes=self.notes,
            **fields,
        )


async def _swap(
    deps: ToolDeps, name: str, version_arg: Any, model: str | None, alias_arg: Any, canary_arg: Any, dry_run: bool
) -> SwapResult:
    swap = await _prepare(deps, name, version_arg, model, alias_arg, canary_arg)
    detail = {"model": swap.plan.model, "version": swap.version, "alias": swap.alias, "alias_from": swap.previous}
    if not swap.send_config and not swap.move_alias:
        deps.audit.record(TOOL, name, "no_change", detail)
        swap.notes.append(f"The endpoint already serves {swap.plan.target} as requested, so nothing was sent.")
        return swap.result("NO_CHANGE", "NO_CHANGE", "UNCHANGED")
    if dry_run:
        deps.audit.record(TOOL, name, "dry_run", detail)
        config_status = "DRY_RUN" if swap.send_config else "NO_CHANGE"
        alias_status = "DRY_RUN" if swap.move_alias else "UNCHANGED"
        return swap.result("DRY_RUN", config_status, alias_status, requests=_planned_requests(deps, swap))

    config_version = await _put_config(deps, swap) if swap.send_config else None
    if swap.move_alias:
        await _put_alias(deps, swap, config_version)
    status = "SWAPPING" if swap.send_config else "ALIAS_MOVED"
    deps.audit.record(TOOL, name, status.lower(), {**detail, "config_version": config_version})
    return swap.result(
        status,
        "UPDATING" if swap.send_config else "NO_CHANGE",
        "MOVED" if swap.move_alias else "UNCHANGED",
        config_version=config_version,
        next_steps=_next_steps(swap),
        undo=_undo(swap),
    )


async def _prepare(
    deps: ToolDeps, name: str, version_arg: Any, model: str | None, alias_arg: Any, canary_arg: Any
) -> Swap:
    """Check the arguments, read the endpoint, the model version and the alias, and plan the new config."""
    check_endpoint_name(name)
    deps.policy.check_mutation(TOOL, name)
    version = check_version(version_arg)
    canary = None if canary_arg is None else coerce_int(canary_arg, "canary_percentage", minimum=1, maximum=99)
    alias = None if alias_arg is None else check_alias(alias_arg)

    endpoint, current = await read_endpoint(deps, name)
    reject_in_progress(endpoint, TOOL)
    plan = plan_swap(current, model, version, canary)
    target_entity = next(e for e in plan.entities if derive_entity_name(e) == plan.target)
    deps.policy.check_compute(TOOL, [target_entity])
    await require_version(deps, plan.model, version)
    previous = await read_alias(deps, plan.model, alias) if alias else None

    diff = diff_configs(current, plan.entities, plan.routes)
    notes = carried_over_notes([target_entity]) if plan.target in diff.added else []
    return Swap(name, version, canary, alias, previous, plan, diff, notes)


def _planned_requests(deps: ToolDeps, swap: Swap) -> list[PlannedRequest]:
    requests = []
    if swap.send_config:
        path = deps.serving.config_path(swap.name)
        requests.append(PlannedRequest(method="PUT", path=path, body=redact(swap.body)))
    if swap.alias is not None and swap.move_alias:
        path = deps.serving.alias_path(swap.plan.model, swap.alias)
        requests.append(PlannedRequest(method="PUT", path=path, body={"version_num": swap.version}))
    return requests


async def _put_config(deps: ToolDeps, swap: Swap) -> int | None:
    """Send the config update and return the config version it deploys."""
    try:
        endpoint = await send_config_update(deps, swap.name, swap.body, TOOL)
    except (ToolFailure, DatabricksError) as exc:
        raise _alias_untouched(to_tool_failure(exc), swap) from exc
    return endpoint.pending_config.config_version if endpoint.pending_config else None


async def _put_alias(deps: ToolDeps, swap: Swap, config_version: int | None) -> None:
    assert swap.alias is not None
    try:
        await deps.serving.set_alias(swap.plan.model, swap.alias, swap.version)
    except DatabricksError as exc:
        if not swap.send_config:
            raise
        raise _swap_incomplete(exc, swap, config_version) from exc


# Checking the arguments ------------------------------------------------------------------------


def check_version(value: Any) -> int:
    try:
        return coerce_int(value, "version", minimum=1)
    except InvalidArgument as exc:
        raise InvalidArgument(
            "version",
            value,
            "must be a registered model version number",
            "Pass the number, e.g. 4. An endpoint serves versions, not aliases: pass the alias as `alias`.",
        ) from exc


def check_alias(value: Any) -> str:
    text = value.strip().lstrip("@") if isinstance(value, str) else value
    if not isinstance(text, str) or not ALIAS_PATTERN.fullmatch(text):
        raise InvalidArgument("alias", value, "is not a valid alias name", "Use 1-255 letters, digits, '_' or '-'.")
    if RESERVED_ALIAS_PATTERN.fullmatch(text):
        raise InvalidArgument(
            "alias", value, "is reserved", "Choose another name: 'latest' and 'v<number>' already resolve to versions."
        )
    return text


# Planning the new config -----------------------------------------------------------------------


def plan_swap(current: CurrentConfig, model: str | None, version: int, canary: int | None) -> SwapPlan:
    """Replace the entities of `model` with one entity of `version`, or with an old/new pair for a canary.

    The new entity copies the compute settings of the old entity with the most traffic and is named
    `<last part of the model name>-<version>`. It takes the traffic the model's entities had, so
    other entities keep their share. For a canary, that old entity stays and the split is
    (share - canary, canary). An entity that already serves `version` is kept as it is.
    """
    full_name = resolve_model(current.entities, model)
    candidates = [e for e in current.entities if e.get("entity_name") == full_name]
    shares = {derive_entity_name(e): current.routes.get(derive_entity_name(e), 0) for e in candidates}
    total = sum(shares.values())
    existing = [e for e in candidates if str(e.get("entity_version")) == str(version)]
    olds = [e for e in candidates if not any(e is t for t in existing)]
    base = max(olds or candidates, key=lambda e: shares[derive_entity_name(e)])
    target = existing[0] if existing else new_version_entity(base, full_name, version)
    target_name = derive_entity_name(target)
    kept_old = None
    if canary is not None:
        kept_old = _canary_old(full_name, version, canary, total, olds, base)

    other_names = {derive_entity_name(e) for e in current.entities} - set(shares)
    if target_name in other_names:
        raise InvalidArgument(
            "version",
            version,
            f"would create the entity {target_name!r}, a name another entity has",
            "Use update_config.",
        )
    entities: list[dict[str, Any]] = []
    traffic: dict[str, int] = {}
    for entity in current.entities:
        entity_name = derive_entity_name(entity)
        if entity_name in other_names:
            entities.append(entity)
            traffic[entity_name] = current.routes.get(entity_name, 0)
        elif target_name not in traffic:
            if kept_old is not None and canary is not None:
                entities.append(kept_old)
                traffic[derive_entity_name(kept_old)] = total - canary
            entities.append(target)
            traffic[target_name] = total if canary is None else canary
    routes = [{"served_entity_name": n, "traffic_percentage": p} for n, p in traffic.items()]
    normalise_routes(routes, entities)
    old_versions = sorted({str(e.get("entity_version")) for e in olds})
    return SwapPlan(full_name, target_name, old_versions, entities, routes)


def resolve_model(entities: list[dict[str, Any]], model: str | None) -> str:
    """Return the full name of the registered model to swap: `model`, or the only one the endpoint serves."""
    served = sorted({str(e["entity_name"]) for e in entities if e.get("entity_name")})
    if not served:
        raise failure(
            "NO_REGISTERED_MODEL",
            "The endpoint serves no registered model (external models and empty configs have no versions).",
            next_step="Use update_config to change what it serves.",
        )
    if model is None:
        if len(served) > 1:
            raise InvalidArgument("model", None, f"is needed: the endpoint serves {served}", "Pass one of them.")
        full_name = served[0]
    else:
        matches = [m for m in served if model.strip() in (m, m.split(".")[-1])]
        if len(matches) != 1:
            raise InvalidArgument(
                "model", model, "does not name one model the endpoint serves", f"Use one of {served}."
            )
        full_name = matches[0]
    if len(full_name.split(".")) != 3:
        raise InvalidArgument(
            "model",
            full_name,
            "is not a Unity Catalog model, so it has no registered versions or aliases to check",
            "Use update_config with the new entity_version.",
        )
    return full_name


def new_version_entity(base: dict[str, Any], full_name: str, version: int) -> dict[str, Any]:
    """Copy `base` with its compute settings for `version`, named `<last part of the model name>-<version>`."""
    return {**base, "name": f"{full_name.split('.')[-1]}-{version}", "entity_version": str(version)}


def _canary_old(
    full_name: str, version: int, canary: int, total: int, olds: list[dict[str, Any]], base: dict[str, Any]
) -> dict[str, Any]:
    if not olds:
        raise InvalidArgument(
            "canary_percentage",
            canary,
            f"needs an old version to split with, and {full_name} is served only at version {version}",
            "Omit canary_percentage, or change the split with update_config.",
        )
    if canary >= total:
        raise InvalidArgument(
            "canary_percentage",
            canary,
            f"is not below the {total} % of traffic that {full_name} receives now",
            f"Pass a value from 1 to {total - 1}." if total > 1 else "Give the model traffic first with update_config.",
        )
    return base


# Reading Unity Catalog -------------------------------------------------------------------------


async def require_version(deps: ToolDeps, full_name: str, version: int) -> None:
    """Raise unless `version` of `full_name` is registered and READY; the error lists the registered versions."""
    try:
        info = await deps.serving.get_model_version(full_name, version)
    except NotFound as exc:
        try:
            versions = await deps.serving.list_model_versions(full_name)
        except NotFound:
            raise from_api_error(
                exc, next_step="Check the model: it must be registered in Unity Catalog as catalog.schema.model."
            ) from exc
        numbers = sorted(v.version for v in versions if v.version is not None)
        raise failure(
            "VERSION_NOT_FOUND",
            f"Version {version} of {full_name} is not registered in Unity Catalog. "
            f"Registered versions: {', '.join(map(str, numbers)) or 'none'}.",
            next_step=f"Pass one of the registered versions, or register version {version} first.",
            registered_versions=numbers,
        ) from exc
    if info.status not in (None, "READY"):
        raise failure(
            "VERSION_NOT_READY",
            f"Version {version} of {full_name} has status {info.status}; only READY versions can be served.",
            next_step="Wait for the registration to finish, or pass another version.",
        )


async def read_alias(deps: ToolDeps, full_name: str, alias: str) -> int | None:
    """Return the version `alias` points to, or None when the model has no such alias."""
    try:
        return (await deps.serving.get_version_by_alias(full_name, alias)).version
    except NotFound:
        return None


# Describing the outcome ----------------------------------------------------------------------------


def _swap_incomplete(exc: DatabricksError, swap: Swap, config_version: int | None) -> ToolFailure:
    """Describe an alias move that failed after the API accepted the config update."""
    envelope = to_tool_failure(exc).envelope
    still = f"version {swap.previous}" if swap.previous is not None else "nothing (it does not exist)"
    return failure(
        "SWAP_INCOMPLETE",
        f"The config update was accepted (config version {config_version} deploys {swap.plan.target}), but moving "
        f"alias {swap.alias!r} to version {swap.version} failed: {envelope.get('message')} The alias still points "
        f"to {still}.",
        next_step=(
            f"Call wait_until_ready(name={swap.name!r}), then call swap_model_version again with the same "
            f"arguments: the config is then in place, so only the alias moves. To roll back instead, "
            f"{_rollback(swap)}"
        ),
        http_status=envelope.get("http_status"),
        api_error_code=envelope.get("error_code"),
        config_update={"status": "UPDATING", "config_version": config_version},
        alias={"alias": swap.alias, "points_to": swap.previous, "requested": swap.version},
    )


def _alias_untouched(error: ToolFailure, swap: Swap) -> ToolFailure:
    if swap.alias is None:
        return error
    where = f"version {swap.previous}" if swap.previous is not None else "no version (it does not exist)"
    note = f"Alias {swap.alias!r} was not changed and still points to {where}."
    return ToolFailure(f"{error.summary} {note}", {**error.envelope, "alias": note})


def _rollback(swap: Swap) -> str:
    if len(swap.plan.old_versions) == 1:
        old = swap.plan.old_versions[0]
        return (
            f"call swap_model_version(name={swap.name!r}, version={old}, model={swap.plan.model!r}) after "
            "wait_until_ready."
        )
    return "call update_config with the served entities and the traffic_before split of this diff."


def _next_steps(swap: Swap) -> list[str]:
    steps = []
    if swap.send_config:
        steps.append(
            f"Call wait_until_ready(name={swap.name!r}) until READY; it checks state.ready and state.config_update. "
            "The old config serves traffic until the new one is ready."
        )
    if swap.canary is not None:
        steps.append(
            f"To promote the canary, call swap_model_version(name={swap.name!r}, version={swap.version}, "
            f"model={swap.plan.model!r}) again without canary_percentage."
        )
    return steps


def _undo(swap: Swap) -> list[str]:
    steps = []
    if swap.send_config and swap.plan.old_versions:
        steps.append(f"Config: {_rollback(swap)}")
    if swap.alias is not None and swap.move_alias:
        if swap.previous is None:
            steps.append(f"Alias: {swap.alias!r} is new; delete it to undo (operation uc_delete_alias).")
        else:
            steps.append(f"Alias: set {swap.alias!r} back to version_num={swap.previous} (operation uc_set_alias).")
    return steps
