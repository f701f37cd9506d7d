"""Serving-endpoint permissions: effective levels, access checks and /api/2.0/permissions routes.

Levels form a hierarchy, CAN_VIEW < CAN_QUERY < CAN_MANAGE. A principal's effective level on an
endpoint is the highest of: CAN_MANAGE for members of the workspace `admins` group, its direct
grant, and the grants of its groups. The creator manages through the direct CAN_MANAGE grant that
creation adds, so a PUT that leaves the creator out takes that right away. System (Foundation
Model) endpoints have no id and no ACL: every user can view and query them, and admins manage them.
"""

import re
from typing import Any, Literal

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from emulator.errors import bad_request, not_found, permission_denied
from emulator.requests import json_body, principal_of, workspace_of
from emulator.state import ADMINS_GROUP, Endpoint, Principal, Workspace

PermissionLevel = Literal["CAN_VIEW", "CAN_QUERY", "CAN_MANAGE"]

LEVELS: tuple[PermissionLevel, ...] = ("CAN_VIEW", "CAN_QUERY", "CAN_MANAGE")
LEVEL_DESCRIPTIONS: dict[PermissionLevel, str] = {
    "CAN_VIEW": "Can view the endpoint's configuration, state, logs and metrics",
    "CAN_QUERY": "Can view and query the endpoint",
    "CAN_MANAGE": "Can view, query, update, delete the endpoint and change its permissions",
}
# Words the 403 message uses for each level.
LEVEL_WORDS: dict[PermissionLevel, str] = {"CAN_VIEW": "View", "CAN_QUERY": "Query", "CAN_MANAGE": "Manage"}

PRINCIPAL_FIELDS = ("user_name", "group_name", "service_principal_name")
ENDPOINT_ID_PATTERN = re.compile(r"[0-9a-f]{32}")
# The object the admins grant is inherited from: the root of all serving endpoints.
ROOT_OBJECT = "/serving-endpoints/"


def rank(level: str) -> int:
    return LEVELS.index(level)


def principal_key(principal: Principal) -> str:
    """Return the ACL key of `principal`, for example "user_name:alice@example.com"."""
    field_name = "service_principal_name" if principal.kind == "service_principal" else "user_name"
    return f"{field_name}:{principal.name}"


def effective_level(workspace: Workspace, endpoint: Endpoint, principal: Principal) -> PermissionLevel | None:
    """Return the highest level `principal` has on `endpoint`, or None when it has none."""
    if principal.is_admin:
        return "CAN_MANAGE"
    if endpoint.system:
        return "CAN_QUERY"
    keys = [principal_key(principal), *(f"group_name:{group}" for group in sorted(principal.groups))]
    granted = {endpoint.acl[key] for key in keys if key in endpoint.acl}
    highest: PermissionLevel | None = None
    for level in LEVELS:
        if level in granted:
            highest = level
    return highest


def require_level(
    workspace: Workspace, endpoint: Endpoint, principal: Principal, level: PermissionLevel
) -> PermissionLevel:
    """Return the effective level of `principal`, or raise 403 PERMISSION_DENIED when it is below `level`."""
    granted_level = effective_level(workspace, endpoint, principal)
    if granted_level is None or rank(granted_level) < rank(level):
        raise permission_denied(
            f"User {principal.name} does not have permission '{LEVEL_WORDS[level]}' on Endpoint {endpoint.name}."
        )
    return granted_level


def can_view(workspace: Workspace, endpoint: Endpoint, principal: Principal) -> bool:
    return effective_level(workspace, endpoint, principal) is not None


def _endpoint_by_id(workspace: Workspace, endpoint_id: str) -> Endpoint:
    if not ENDPOINT_ID_PATTERN.fullmatch(endpoint_id):
        displayed_id = endpoint_id or "<empty>"
        raise bad_request(
            f"'{displayed_id}' is not a valid endpoint id: expected 32 lowercase hex characters. Permissions are keyed "
            "by the endpoint's 'id' field, not its name. Read the id from GET /api/2.0/serving-endpoints/{name}. "
            "Foundation Model endpoints have no id, and their permissions cannot be changed."
        )
    for endpoint in workspace.endpoints.values():
        if endpoint.id == endpoint_id:
            return endpoint
    raise not_found(f"Serving endpoint with id '{endpoint_id}' does not exist.")


def _display_names(workspace: Workspace) -> dict[str, str]:
    principals = [*workspace.tokens.values(), *(c.principal for c in workspace.oauth_clients.values())]
    return {p.name: p.display_name or p.name for p in principals}


def render_permissions(workspace: Workspace, endpoint: Endpoint) -> dict[str, Any]:
    """`ServingEndpointPermissions`: the inherited admins grant first, then the direct grants."""
    display_names = _display_names(workspace)
    inherited = {"permission_level": "CAN_MANAGE", "inherited": True, "inherited_from_object": [ROOT_OBJECT]}
    entries: dict[str, dict[str, Any]] = {
        f"group_name:{ADMINS_GROUP}": {"group_name": ADMINS_GROUP, "all_permissions": [inherited]}
    }
    for key, level in endpoint.acl.items():
        field_name, _, name = key.partition(":")
        entry = entries.setdefault(key, {field_name: name, "all_permissions": []})
        if field_name != "group_name" and name in display_names:
            entry["display_name"] = display_names[name]
        entry["all_permissions"].insert(0, {"permission_level": level, "inherited": False})
    return {
        "object_id": f"/serving-endpoints/{endpoint.id}",
        "object_type": "serving-endpoint",
        "access_control_list": list(entries.values()),
    }


def _known_principals(workspace: Workspace) -> dict[str, set[str]]:
    """Names that grants may refer to, by ACL field."""
    principals = [*workspace.tokens.values(), *(c.principal for c in workspace.oauth_clients.values())]
    service_principals = {p.name for p in principals if p.kind == "service_principal"}
    users = {p.name for p in principals if p.kind == "user"}
    users |= {e.creator for e in workspace.endpoints.values() if not e.system} - service_principals
    groups = {ADMINS_GROUP, "users"} | {g for p in principals for g in p.groups}
    return {"user_name": users, "group_name": groups, "service_principal_name": service_principals}


def parse_grants(workspace: Workspace, body: dict[str, Any]) -> dict[str, str]:
    """Validate `access_control_list` of a PUT or PATCH body and return ACL key -> level."""
    raw = body.get("access_control_list")
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        raise bad_request(f"'access_control_list' must be a list of grants, got {type(raw).__name__}.")
    known = _known_principals(workspace)
    grants: dict[str, str] = {}
    for index, item in enumerate(raw):
        where = f"access_control_list[{index}]"
        if not isinstance(item, dict):
            raise bad_request(f"{where} must be an object, got {type(item).__name__}.")
        named = [f for f in PRINCIPAL_FIELDS if item.get(f)]
        if len(named) != 1:
            raise bad_request(
                f"{where} must set exactly one of {', '.join(PRINCIPAL_FIELDS)}; it sets {named or 'none'}."
            )
        field_name = named[0]
        name = str(item[field_name])
        level = item.get("permission_level")
        if level not in LEVELS:
            raise bad_request(
                f"{where}.permission_level {level!r} is invalid for serving endpoints; use one of {', '.join(LEVELS)}."
            )
        if name not in known[field_name]:
            raise bad_request(f"{where}: principal {field_name}={name!r} does not exist in this workspace.")
        if field_name == "group_name" and name == ADMINS_GROUP and level != "CAN_MANAGE":
            raise bad_request(
                f"{where}: the '{ADMINS_GROUP}' group cannot be given {level}. It has CAN_MANAGE on every "
                f"serving endpoint, inherited from {ROOT_OBJECT}, and that grant cannot be lowered or removed. "
                f"Leave '{ADMINS_GROUP}' out of access_control_list."
            )
        grants[f"{field_name}:{name}"] = level
    return grants


async def get_permissions(request: Request) -> Response:
    workspace = workspace_of(request)
    with workspace.lock:
        endpoint = _endpoint_by_id(workspace, request.path_params.get("endpoint_id", ""))
        require_level(workspace, endpoint, principal_of(request), "CAN_VIEW")
        return JSONResponse(render_permissions(workspace, endpoint))


async def set_permissions(request: Request) -> Response:
    """PUT: replace every direct grant with the request's list (the inherited admins grant stays)."""
    return await _write_permissions(request, replace=True)


async def update_permissions(request: Request) -> Response:
    """PATCH: add or change the request's grants and keep the others."""
    return await _write_permissions(request, replace=False)


async def _write_permissions(request: Request, *, replace: bool) -> Response:
    workspace = workspace_of(request)
    body = await json_body(request)
    with workspace.lock:
        endpoint = _endpoint_by_id(workspace, request.path_params.get("endpoint_id", ""))
        require_level(workspace, endpoint, principal_of(request), "CAN_MANAGE")
        grants = parse_grants(workspace, body)
        if replace:
            endpoint.acl = grants
        else:
            endpoint.acl.update(grants)
        return JSONResponse(render_permissions(workspace, endpoint))


async def get_permission_levels(request: Request) -> Response:
    workspace = workspace_of(request)
    with workspace.lock:
        endpoint = _endpoint_by_id(workspace, request.path_params.get("endpoint_id", ""))
        require_level(workspace, endpoint, principal_of(request), "CAN_VIEW")
    levels = [{"permission_level": level, "description": LEVEL_DESCRIPTIONS[level]} for level in LEVELS]
    return JSONResponse({"permission_levels": levels})


PREFIX = "/api/2.0/permissions/serving-endpoints"

routes = [
    # An empty id (a Foundation Model endpoint's missing id) gets the same 400 as a name.
    Route(f"{PREFIX}/", get_permissions, methods=["GET"]),
    Route(f"{PREFIX}/", set_permissions, methods=["PUT"]),
    Route(f"{PREFIX}/", update_permissions, methods=["PATCH"]),
    Route(f"{PREFIX}/{{endpoint_id}}", get_permissions, methods=["GET"]),
    Route(f"{PREFIX}/{{endpoint_id}}", set_permissions, methods=["PUT"]),
    Route(f"{PREFIX}/{{endpoint_id}}", update_permissions, methods=["PATCH"]),
    Route(f"{PREFIX}/{{endpoint_id}}/permissionLevels", get_permission_levels, methods=["GET"]),
]
