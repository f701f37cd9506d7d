"""Tools that read and grant serving endpoint permissions.

The permissions API takes the endpoint's 32-hex `id`, not its name, so both tools resolve the
name with one get first and never put the name in the path. Pay-per-token Foundation Model
endpoints have no id, and their permissions cannot be read or changed. Grants go out as a PATCH,
which adds or changes the listed grants and keeps every other one. No tool here sends the PUT
that replaces the whole ACL.
"""

import logging
from typing import Annotated, Any, Literal

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp_types import ToolAnnotations
from pydantic import BaseModel, Field

from tools.api.errors import ApiError, NotFound, TransportError
from tools.api.models import AccessControlEntry, EndpointPermissions
from tools.audit import audited
from tools.context import ToolDeps, deps_of
from tools.endpoints import EndpointName
from tools.errors import InvalidArgument, failure, from_api_error, tool_errors
from tools.output import ECHO_HINT, ECHO_TRUNCATION_HELP, Truncation, fit_json, fit_result
from tools.rules import as_list, as_object, check_endpoint_name
from tools.updates import PlannedRequest

logger = logging.getLogger(__name__)

TOOL = "update_permissions"
READ_ONLY = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)
GRANT = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=False)
LEVELS = ("CAN_VIEW", "CAN_QUERY", "CAN_MANAGE")
PrincipalKind = Literal["user", "group", "service_principal"]
PRINCIPAL_FIELDS: dict[str, PrincipalKind] = {
    "user_name": "user",
    "group_name": "group",
    "service_principal_name": "service_principal",
}
ADMINS_GROUP = "admins"
ACL_HINT = "This copy of the ACL is cut by whole rows, and the workspace keeps every grant."
# The parts of an update_permissions result that `fit_result` may cut to fit the result cap.
RESULT_PARTS = ("request.body", "acl", "notes")
GRANTS_HELP = (
    "[{user_name | group_name | service_principal_name (application id), permission_level: "
    "CAN_VIEW | CAN_QUERY | CAN_MANAGE}]"
)


class AclRow(BaseModel):
    principal: str
    kind: PrincipalKind
    level: str | None
    inherited_from: list[str] | None = Field(None, description="objects the grant comes from; null for a direct grant")
    display_name: str | None = None


class PermissionsResult(BaseModel):
    name: str
    id: str
    acl: list[AclRow]
    truncation: Truncation | None = Field(None, description="set when acl is shown cut")


class UpdatePermissionsResult(BaseModel):
    status: Literal["UPDATED", "DRY_RUN"]
    name: str
    id: str
    request: PlannedRequest = Field(description="the PATCH sent, or for a dry run the PATCH not sent")
    acl: list[AclRow] = Field(description="the ACL read back after the PATCH; for a dry run the current ACL")
    notes: list[str] = Field(default_factory=list)
    truncation: Truncation | None = Field(None, description=ECHO_TRUNCATION_HELP)


def register(server: MCPServer) -> None:
    @server.tool(annotations=READ_ONLY)
    @tool_errors
    async def get_permissions(name: EndpointName, ctx: Context) -> PermissionsResult:
        """Read an endpoint's access control list: principal, level and where each grant is inherited from."""
        deps = deps_of(ctx)
        check_endpoint_name(name)
        endpoint_id = await resolve_endpoint_id(deps, name)
        permissions = await deps.serving.get_permissions(endpoint_id)
        result = PermissionsResult(name=name, id=endpoint_id, acl=compact_acl(permissions))
        return fit_result(result, deps.settings.max_result_chars, ACL_HINT, ["acl"])

    @server.tool(annotations=GRANT)
    @tool_errors
    async def update_permissions(
        name: EndpointName,
        grants: Annotated[list[dict[str, Any]], Field(description=GRANTS_HELP)],
        ctx: Context,
        dry_run: Annotated[bool, Field(description="resolve the id and return the PATCH without sending it")] = False,
    ) -> UpdatePermissionsResult:
        """Grant endpoint permissions with a PATCH: adds or changes these grants and keeps all others (it never
        replaces the ACL). Reads the ACL back and fails if a grant is not in effect."""
        deps = deps_of(ctx)
        with audited(deps, TOOL, name):
            result = await _update_permissions(deps, name, grants, dry_run)
        return fit_result(result, deps.settings.max_result_chars, ECHO_HINT, RESULT_PARTS)


async def _update_permissions(deps: ToolDeps, name: str, grants: Any, dry_run: bool) -> UpdatePermissionsResult:
    check_endpoint_name(name)
    deps.policy.check_mutation(TOOL, name)
    access_control_list = normalise_grants(grants)
    endpoint_id = await resolve_endpoint_id(deps, name)
    body = {"access_control_list": access_control_list}
    request = PlannedRequest(method="PATCH", path=deps.serving.permissions_path(endpoint_id), body=body)
    if dry_run:
        current = await deps.serving.get_permissions(endpoint_id)
        deps.audit.record(TOOL, name, "dry_run", body)
        return UpdatePermissionsResult(
            status="DRY_RUN", name=name, id=endpoint_id, request=request, acl=compact_acl(current)
        )

    notes = await _send_patch(deps, endpoint_id, body)
    after = await deps.serving.get_permissions(endpoint_id)
    missing = missing_grants(access_control_list, after)
    if missing:
        rows = [row.model_dump(exclude_none=True) for row in compact_acl(after)]
        acl, acl_truncation = fit_json(rows, deps.settings.max_result_chars // 2, ACL_HINT, path="acl")
        raise failure(
            "GRANT_NOT_IN_EFFECT",
            f"After the PATCH, the ACL of {name!r} lacks these requested grants: {missing}.",
            next_step="Call get_permissions to see the current ACL, then call update_permissions again.",
            acl=acl,
            acl_truncation=acl_truncation.model_dump() if acl_truncation else None,
            notes=notes or None,
        )
    deps.audit.record(TOOL, name, "updated", body)
    return UpdatePermissionsResult(
        status="UPDATED", name=name, id=endpoint_id, request=request, acl=compact_acl(after), notes=notes
    )


async def _send_patch(deps: ToolDeps, endpoint_id: str, body: dict[str, Any]) -> list[str]:
    """Send the PATCH. Return a note when its outcome is unknown, so that the read-back decides."""
    try:
        await deps.serving.update_permissions(endpoint_id, body)
    except (TransportError, ApiError) as exc:
        # A 4xx or 5xx is a definite rejection. A lost or unreadable response leaves the outcome open.
        if isinstance(exc, ApiError) and exc.status >= 400:
            if exc.status == 400:
                fix = "Name users by email, groups by name and service principals by application id."
                raise from_api_error(exc, next_step=fix) from exc
            raise
        logger.warning("PATCH of the permissions of endpoint id %s has an unknown outcome: %s", endpoint_id, exc)
        return [f"The PATCH response was lost or unreadable ({exc}), so the read-back ACL decided the outcome."]
    return []


async def resolve_endpoint_id(deps: ToolDeps, name: str) -> str:
    """Return the endpoint's `id` from one get; raise NO_ENDPOINT_ID for endpoints without one."""
    try:
        endpoint = await deps.serving.get_endpoint(name)
    except NotFound as exc:
        raise from_api_error(exc, next_step="Check the name with list_endpoints.") from exc
    if not endpoint.id:
        raise failure(
            "NO_ENDPOINT_ID",
            f"Permissions are not manageable for this endpoint (no id): {name!r} has no endpoint id, as pay-per-token "
            "Foundation Model endpoints do not. The permissions API takes that id, never the endpoint name.",
            next_step="Every workspace user can query Foundation Model endpoints; no grant is needed.",
        )
    return endpoint.id


def normalise_grants(raw: Any) -> list[dict[str, str]]:
    """Check the grants argument and return it as the `access_control_list` of a PATCH."""
    items = as_list(raw, "grants")
    if not items:
        raise InvalidArgument("grants", raw, "is empty", "Give at least one grant.")
    grants: list[dict[str, str]] = []
    for i, item in enumerate(items):
        grant = _normalise_grant(item, f"grants[{i}]")
        key = next(k for k in grant if k in PRINCIPAL_FIELDS)
        if any(other.get(key) == grant[key] for other in grants):
            raise InvalidArgument(
                f"grants[{i}]", grant[key], "names a principal twice", "Give each principal one grant."
            )
        grants.append(grant)
    return grants


def _normalise_grant(item: Any, field: str) -> dict[str, str]:
    grant = as_object(item, field)
    unknown = sorted(set(grant) - set(PRINCIPAL_FIELDS) - {"permission_level"})
    if unknown:
        raise InvalidArgument(
            field, unknown, "contains unknown fields", "Give one principal field and permission_level only."
        )
    named = [key for key in PRINCIPAL_FIELDS if grant.get(key) not in (None, "")]
    if len(named) != 1:
        raise InvalidArgument(
            field,
            grant,
            f"names {len(named)} principals",
            "Set exactly one of user_name, group_name or service_principal_name.",
        )

    key = named[0]
    principal = grant[key]
    if not isinstance(principal, str) or not principal.strip():
        raise InvalidArgument(f"{field}.{key}", principal, "must be a non-empty string", "Give the principal's name.")

    level = grant.get("permission_level")
    level_text = level.strip().upper() if isinstance(level, str) else level
    if level_text not in LEVELS:
        raise InvalidArgument(
            f"{field}.permission_level", level, "is not a serving endpoint permission level", f"Use one of {LEVELS}."
        )
    if key == "group_name" and principal.strip() == ADMINS_GROUP and level_text != "CAN_MANAGE":
        raise InvalidArgument(
            field,
            grant,
            f"would lower the {ADMINS_GROUP} group",
            f"Leave {ADMINS_GROUP} out: it has CAN_MANAGE on every endpoint, inherited, and that cannot be lowered.",
        )
    return {key: principal.strip(), "permission_level": str(level_text)}


def missing_grants(grants: list[dict[str, str]], permissions: EndpointPermissions) -> list[str]:
    """List the grants whose principal does not hold the requested level in `permissions`."""
    missing = []
    for grant in grants:
        key = next(k for k in grant if k in PRINCIPAL_FIELDS)
        entries = [e for e in permissions.access_control_list if getattr(e, key) == grant[key]]
        levels = {p.permission_level for e in entries for p in e.all_permissions}
        if grant["permission_level"] not in levels:
            missing.append(f"{key}={grant[key]} {grant['permission_level']}")
    return missing


def compact_acl(permissions: EndpointPermissions) -> list[AclRow]:
    """Flatten the ACL to one row per principal and level."""
    rows = []
    for entry in permissions.access_control_list:
        key, principal = _principal_of(entry)
        display_name = entry.display_name if entry.display_name and entry.display_name != principal else None
        for permission in entry.all_permissions:
            inherited_from = (permission.inherited_from_object or ["(unknown)"]) if permission.inherited else None
            rows.append(
                AclRow(
                    principal=principal,
                    kind=PRINCIPAL_FIELDS[key],
                    level=permission.permission_level,
                    inherited_from=inherited_from,
                    display_name=display_name,
                )
            )
    return rows


def _principal_of(entry: AccessControlEntry) -> tuple[str, str]:
    for key in PRINCIPAL_FIELDS:
        value = getattr(entry, key)
        if value:
            return key, str(value)
    return "user_name", "(unnamed)"
