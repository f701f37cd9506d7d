"""Unity Catalog model registry: registered models, versions and aliases from `Workspace.models`.

Two route families serve the same state:
- /api/2.1/unity-catalog/models/... is what databricks-sdk `w.registered_models` and `w.model_versions` call.
- /api/2.0/mlflow/unity-catalog/... is what MLflow's `MlflowClient(registry_uri="databricks-uc")` calls,
  with protobuf-JSON bodies (versions as strings, `model_version` and `registered_model` wrappers).

NOTE: neither real API returns a model signature (it lives in the MLmodel artifact), so these routes do
not either. `ModelVersion.signature` stays in state for the routes that derive from it.
"""

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from emulator.config_rules import parse_decimal, short_repr
from emulator.errors import ApiError, bad_request, not_found
from emulator.requests import json_body, principal_of, workspace_of
from emulator.state import ModelVersion, RegisteredModel, Workspace

# Page sizes of the list routes: the default and the maximum a request may ask for.
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
MLFLOW_MAX_PAGE_SIZE = 10_000
ALIAS_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,255}")
# Alias names MLflow resolves itself ("latest", "v<number>"), so the registry rejects them.
RESERVED_ALIAS_PATTERN = re.compile(r"latest|v\d+", re.IGNORECASE)
NAME_FILTER_PATTERN = re.compile(r"""\s*name\s*=\s*(['"])(?P<name>[^'"]+)\1\s*""")
RUN_FILTER_PATTERN = re.compile(r"""\s*run_id\s*=\s*(['"])[^'"]*\1\s*""")


def split_full_name(full_name: str) -> tuple[str, str, str]:
    parts = full_name.split(".")
    if len(parts) != 3 or not all(parts):
        raise bad_request(
            f"Registered model name '{full_name}' is not a three-level name; use '<catalog>.<schema>.<model>'."
        )
    return parts[0], parts[1], parts[2]


def require_model(workspace: Workspace, full_name: str) -> RegisteredModel:
    split_full_name(full_name)
    model = workspace.models.get(full_name)
    if model is None:
        raise not_found(f"Registered model '{full_name}' does not exist.")
    return model


def require_version(model: RegisteredModel, raw_version: Any) -> ModelVersion:
    number = parse_decimal(str(raw_version))
    if number is None:
        raise bad_request(f"Model version {short_repr(raw_version)} is not an integer.")
    version = model.versions.get(number)
    if version is None:
        existing = ", ".join(str(v) for v in sorted(model.versions)) or "none"
        raise not_found(
            f"Version {number} of registered model '{model.full_name}' does not exist. Existing versions: {existing}."
        )
    return version


def require_alias(model: RegisteredModel, alias: str) -> ModelVersion:
    number = model.aliases.get(alias)
    if number is None:
        existing = ", ".join(sorted(model.aliases)) or "none"
        raise not_found(
            f"Alias '{alias}' does not exist on registered model '{model.full_name}'. Existing aliases: {existing}."
        )
    return model.versions[number]


def validate_alias(alias: str) -> str:
    if not ALIAS_PATTERN.fullmatch(alias) or RESERVED_ALIAS_PATTERN.fullmatch(alias):
        raise bad_request(
            f"Alias '{alias}' is invalid: use 1-255 letters, digits, '_' or '-', and not 'latest' or 'v<number>', "
            "which MLflow reserves."
        )
    return alias


def _updated_ms(model: RegisteredModel) -> int:
    return max([model.created_ms, *(v.created_ms for v in model.versions.values())])


def _aliases_of(model: RegisteredModel, version: int) -> list[str]:
    return sorted(alias for alias, number in model.aliases.items() if number == version)


def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "").lower() in ("true", "1")


def _page(items: list[Any], request: Request, maximum: int) -> tuple[list[Any], str | None]:
    """Slice `items` by the `max_results` and `page_token` query parameters (the token is an offset)."""
    raw_max = request.query_params.get("max_results", "0")
    raw_token = request.query_params.get("page_token", "") or "0"
    max_results = parse_decimal(raw_max)
    if max_results is None:
        raise bad_request(f"max_results {short_repr(raw_max)} is not an integer.")
    if max_results < 0:
        raise bad_request(f"max_results must be >= 0, got {max_results}.")
    start = parse_decimal(raw_token)
    if start is None or start < 0:
        raise bad_request(
            f"page_token {short_repr(raw_token)} is invalid. Pass the next_page_token of the previous page."
        )
    size = min(max_results, maximum) if max_results else DEFAULT_PAGE_SIZE
    end = start + size
    return items[start:end], (str(end) if end < len(items) else None)


# --- databricks-sdk shapes (/api/2.1/unity-catalog) ---


def render_alias_info(model: RegisteredModel, alias: str) -> dict[str, Any]:
    catalog, schema, name = split_full_name(model.full_name)
    return {
        "alias_name": alias,
        "version_num": model.aliases[alias],
        "catalog_name": catalog,
        "schema_name": schema,
        "model_name": name,
    }


def render_model_info(model: RegisteredModel, include_aliases: bool) -> dict[str, Any]:
    """Render `model` as a `RegisteredModelInfo`."""
    catalog, schema, name = split_full_name(model.full_name)
    out: dict[str, Any] = {
        "full_name": model.full_name,
        "catalog_name": catalog,
        "schema_name": schema,
        "name": name,
        "owner": model.owner,
        "comment": model.comment,
        "created_at": model.created_ms,
        "created_by": model.owner,
        "updated_at": _updated_ms(model),
        "updated_by": model.owner,
    }
    if include_aliases:
        out["aliases"] = [render_alias_info(model, alias) for alias in sorted(model.aliases)]
    return out


def render_version_info(model: RegisteredModel, version: ModelVersion, include_aliases: bool) -> dict[str, Any]:
    """Render `version` as a `ModelVersionInfo`."""
    catalog, schema, name = split_full_name(model.full_name)
    out: dict[str, Any] = {
        "model_name": name,
        "catalog_name": catalog,
        "schema_name": schema,
        "version": version.version,
        "status": version.status,
        "comment": version.comment,
        "created_at": version.created_ms,
        "created_by": model.owner,
        "updated_at": version.created_ms,
        "updated_by": model.owner,
    }
    if include_aliases:
        out["aliases"] = [render_alias_info(model, alias) for alias in _aliases_of(model, version.version)]
    return out


async def list_models(request: Request) -> Response:
    workspace = workspace_of(request)
    catalog = request.query_params.get("catalog_name")
    schema = request.query_params.get("schema_name")
    if schema and not catalog:
        raise bad_request("schema_name requires catalog_name; pass both or neither.")
    with workspace.lock:
        models = [
            m
            for name, m in sorted(workspace.models.items())
            if (not catalog or name.split(".")[0] == catalog) and (not schema or name.split(".")[1] == schema)
        ]
        page, token = _page(models, request, MAX_PAGE_SIZE)
        out: dict[str, Any] = {"registered_models": [render_model_info(m, False) for m in page]}
    if token:
        out["next_page_token"] = token
    return JSONResponse(out)


async def create_model(request: Request) -> Response:
    workspace = workspace_of(request)
    body = await json_body(request)
    missing = [key for key in ("catalog_name", "schema_name", "name") if not body.get(key)]
    if missing:
        raise bad_request(f"Missing required field(s) {', '.join(missing)} for creating a registered model.")
    for key in ("catalog_name", "schema_name", "name", "comment"):
        if body.get(key) is not None and not isinstance(body[key], str):
            raise bad_request(f"Field '{key}' must be a string, got {short_repr(body[key])}.")
    full_name = f"{body['catalog_name']}.{body['schema_name']}.{body['name']}"
    split_full_name(full_name)
    with workspace.lock:
        if full_name in workspace.models:
            raise ApiError(409, "RESOURCE_ALREADY_EXISTS", f"Registered model '{full_name}' already exists.")
        model = RegisteredModel(
            full_name=full_name,
            comment=body.get("comment") or "",
            owner=principal_of(request).name,
            created_ms=workspace.clock.now_ms(),
        )
        workspace.models[full_name] = model
        return JSONResponse(render_model_info(model, True))


async def get_model(request: Request) -> Response:
    workspace = workspace_of(request)
    with workspace.lock:
        model = require_model(workspace, request.path_params["full_name"])
        return JSONResponse(render_model_info(model, _flag(request, "include_aliases")))


async def delete_model(request: Request) -> Response:
    workspace = workspace_of(request)
    with workspace.lock:
        model = require_model(workspace, request.path_params["full_name"])
        del workspace.models[model.full_name]
    return JSONResponse({})


async def set_alias(request: Request) -> Response:
    workspace = workspace_of(request)
    body = await json_body(request)
    alias = validate_alias(request.path_params["alias"])
    with workspace.lock:
        model = require_model(workspace, request.path_params["full_name"])
        if "version_num" not in body:
            raise bad_request("Missing required field version_num: the model version the alias points to.")
        version = require_version(model, body["version_num"])
        model.aliases[alias] = version.version
        return JSONResponse(render_alias_info(model, alias))


async def delete_alias(request: Request) -> Response:
    workspace = workspace_of(request)
    alias = request.path_params["alias"]
    with workspace.lock:
        model = require_model(workspace, request.path_params["full_name"])
        require_alias(model, alias)
        del model.aliases[alias]
    return JSONResponse({})


async def get_version_by_alias(request: Request) -> Response:
    workspace = workspace_of(request)
    with workspace.lock:
        model = require_model(workspace, request.path_params["full_name"])
        version = require_alias(model, request.path_params["alias"])
        return JSONResponse(render_version_info(model, version, _flag(request, "include_aliases")))


async def list_versions(request: Request) -> Response:
    workspace = workspace_of(request)
    with workspace.lock:
        model = require_model(workspace, request.path_params["full_name"])
        versions = [model.versions[n] for n in sorted(model.versions)]
        page, token = _page(versions, request, MAX_PAGE_SIZE)
        out: dict[str, Any] = {"model_versions": [render_version_info(model, v, False) for v in page]}
    if token:
        out["next_page_token"] = token
    return JSONResponse(out)


async def get_version(request: Request) -> Response:
    workspace = workspace_of(request)
    with workspace.lock:
        model = require_model(workspace, request.path_params["full_name"])
        version = require_version(model, request.path_params["version"])
        return JSONResponse(render_version_info(model, version, _flag(request, "include_aliases")))


# --- MLflow shapes (/api/2.0/mlflow/unity-catalog) ---


def render_mlflow_model(model: RegisteredModel) -> dict[str, Any]:
    """Render `model` as the `RegisteredModel` message of MLflow's UC registry protocol."""
    return {
        "name": model.full_name,
        "creation_timestamp": model.created_ms,
        "last_updated_timestamp": _updated_ms(model),
        "user_id": model.owner,
        "description": model.comment,
        "aliases": [{"alias": a, "version": str(model.aliases[a])} for a in sorted(model.aliases)],
    }


def render_mlflow_version(model: RegisteredModel, version: ModelVersion, include_aliases: bool) -> dict[str, Any]:
    """Render `version` as the `ModelVersion` message of MLflow's UC registry protocol."""
    out: dict[str, Any] = {
        "name": model.full_name,
        "version": str(version.version),
        "creation_timestamp": version.created_ms,
        "last_updated_timestamp": version.created_ms,
        "user_id": model.owner,
        "description": version.comment,
        "status": version.status,
    }
    if include_aliases:
        out["aliases"] = [{"alias": a, "version": str(version.version)} for a in _aliases_of(model, version.version)]
    return out


async def _mlflow_args(request: Request) -> dict[str, Any]:
    """MLflow sends GET arguments as query parameters and the others as a JSON body."""
    if request.method == "GET":
        return dict(request.query_params)
    body = await json_body(request)
    return {**request.query_params, **body}


def _required(args: dict[str, Any], *names: str) -> list[str]:
    missing = [name for name in names if not args.get(name)]
    if missing:
        raise bad_request(f"Missing required parameter(s): {', '.join(missing)}.")
    return [str(args[name]) for name in names]


async def mlflow_get_model(request: Request) -> Response:
    workspace = workspace_of(request)
    (name,) = _required(await _mlflow_args(request), "name")
    with workspace.lock:
        return JSONResponse({"registered_model": render_mlflow_model(require_model(workspace, name))})


async def mlflow_search_models(request: Request) -> Response:
    workspace = workspace_of(request)
    with workspace.lock:
        models = [workspace.models[name] for name in sorted(workspace.models)]
        page, token = _page(models, request, MAX_PAGE_SIZE)
        out: dict[str, Any] = {"registered_models": [render_mlflow_model(m) for m in page]}
    if token:
        out["next_page_token"] = token
    return JSONResponse(out)


async def mlflow_get_version(request: Request) -> Response:
    workspace = workspace_of(request)
    name, number = _required(await _mlflow_args(request), "name", "version")
    with workspace.lock:
        model = require_model(workspace, name)
        version = require_version(model, number)
        return JSONResponse({"model_version": render_mlflow_version(model, version, True)})


async def mlflow_search_versions(request: Request) -> Response:
    """Search versions by `name = '<full name>'`. A `run_id = '...'` filter matches nothing: no runs are emulated."""
    workspace = workspace_of(request)
    text = request.query_params.get("filter", "")
    match = NAME_FILTER_PATTERN.fullmatch(text)
    if match is None and not RUN_FILTER_PATTERN.fullmatch(text):
        raise bad_request(
            f"Unsupported filter {text!r}: use name = '<catalog>.<schema>.<model>' or run_id = '<run id>'."
        )
    with workspace.lock:
        versions: list[dict[str, Any]] = []
        if match is not None:
            model = require_model(workspace, match["name"])
            versions = [render_mlflow_version(model, model.versions[n], False) for n in sorted(model.versions)]
        page, token = _page(versions, request, MLFLOW_MAX_PAGE_SIZE)
    out: dict[str, Any] = {"model_versions": page}
    if token:
        out["next_page_token"] = token
    return JSONResponse(out)


async def mlflow_alias(request: Request) -> Response:
    """Set (POST), delete (DELETE) or resolve (GET) an alias: one path, three methods."""
    workspace = workspace_of(request)
    args = await _mlflow_args(request)
    name, alias = _required(args, "name", "alias")
    with workspace.lock:
        model = require_model(workspace, name)
        if request.method == "GET":
            version = require_alias(model, alias)
            return JSONResponse({"model_version": render_mlflow_version(model, version, True)})
        if request.method == "DELETE":
            require_alias(model, alias)
            del model.aliases[alias]
            return JSONResponse({})
        (number,) = _required(args, "version")
        version = require_version(model, number)
        model.aliases[validate_alias(alias)] = version.version
        return JSONResponse({})


UC = "/api/2.1/unity-catalog/models"
MLFLOW = "/api/2.0/mlflow/unity-catalog"

routes = [
    Route(UC, list_models, methods=["GET"]),
    Route(UC, create_model, methods=["POST"]),
    Route(f"{UC}/{{full_name}}", get_model, methods=["GET"]),
    Route(f"{UC}/{{full_name}}", delete_model, methods=["DELETE"]),
    Route(f"{UC}/{{full_name}}/aliases/{{alias}}", set_alias, methods=["PUT"]),
    Route(f"{UC}/{{full_name}}/aliases/{{alias}}", delete_alias, methods=["DELETE"]),
    Route(f"{UC}/{{full_name}}/aliases/{{alias}}", get_version_by_alias, methods=["GET"]),
    Route(f"{UC}/{{full_name}}/versions", list_versions, methods=["GET"]),
    Route(f"{UC}/{{full_name}}/versions/{{version}}", get_version, methods=["GET"]),
    Route(f"{MLFLOW}/registered-models/get", mlflow_get_model, methods=["GET"]),
    Route(f"{MLFLOW}/registered-models/search", mlflow_search_models, methods=["GET"]),
    Route(f"{MLFLOW}/registered-models/alias", mlflow_alias, methods=["GET", "POST", "DELETE"]),
    Route(f"{MLFLOW}/model-versions/get", mlflow_get_version, methods=["GET"]),
    Route(f"{MLFLOW}/model-versions/search", mlflow_search_versions, methods=["GET"]),
]
