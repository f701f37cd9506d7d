"""Admin API under /__emulator__/ (no authentication): request log, clock, faults, scenarios, behaviour.

GET    /__emulator__/requests?path_prefix=&method=&since=   request log entries from index `since`
DELETE /__emulator__/requests                               clear the request log
GET    /__emulator__/clock                                  virtual time and time scale
POST   /__emulator__/clock/advance   {"seconds": s}         move virtual time forward
PUT    /__emulator__/clock           {"time_scale": x}      set the speed of virtual time (0 stops it)
GET    /__emulator__/faults                                 faults with their remaining counts
POST   /__emulator__/faults          fault | {"faults": [...]}  add faults (see emulator.faults)
DELETE /__emulator__/faults                                 remove all faults, release held requests
POST   /__emulator__/scenario        scenario document      add principals, models, endpoints, faults
PUT    /__emulator__/endpoints/{name}/behaviour  fields     set EndpointBehaviour fields of one endpoint
"""

import dataclasses
import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from emulator.behaviour_rules import BehaviourError, with_behaviour
from emulator.config_rules import parse_decimal, short_repr
from emulator.errors import ApiError, bad_request, not_found
from emulator.faults import FaultError, clear_faults, parse_fault
from emulator.requests import json_body, workspace_of
from emulator.scenario import ScenarioError, apply_scenario
from emulator.state import RequestRecord, Workspace

logger = logging.getLogger(__name__)

PREFIX = "/__emulator__"


def _record_json(index: int, record: RequestRecord) -> dict[str, Any]:
    return {"index": index, **dataclasses.asdict(record)}


async def get_requests(request: Request) -> Response:
    workspace = workspace_of(request)
    params = request.query_params
    raw_since = params.get("since", "0")
    since = parse_decimal(raw_since) if raw_since.isascii() and raw_since.isdigit() else None
    if since is None:
        raise bad_request(f"Query parameter 'since' must be a non-negative integer index, got {short_repr(raw_since)}.")
    prefix = params.get("path_prefix", "")
    method = params.get("method", "").upper()
    with workspace.lock:
        log = list(workspace.request_log)
    entries = [
        _record_json(index, record)
        for index, record in enumerate(log)
        if index >= since and record.path.startswith(prefix) and (not method or record.method == method)
    ]
    return JSONResponse({"requests": entries, "next_index": len(log)})


async def clear_requests(request: Request) -> Response:
    workspace = workspace_of(request)
    with workspace.lock:
        removed = len(workspace.request_log)
        workspace.request_log.clear()
    return JSONResponse({"removed": removed})


def _clock_json(workspace: Workspace) -> dict[str, Any]:
    return {"now_ms": workspace.clock.now_ms(), "time_scale": workspace.clock.time_scale}


async def get_clock(request: Request) -> Response:
    return JSONResponse(_clock_json(workspace_of(request)))


async def advance_clock(request: Request) -> Response:
    workspace = workspace_of(request)
    body = await json_body(request)
    seconds = _non_negative(body, "seconds")
    try:
        workspace.clock.advance(seconds)
    except ValueError as exc:
        raise bad_request(f"Field 'seconds' is invalid: {exc}.") from exc
    return JSONResponse(_clock_json(workspace))


async def set_clock(request: Request) -> Response:
    workspace = workspace_of(request)
    body = await json_body(request)
    workspace.clock.set_time_scale(_non_negative(body, "time_scale"))
    return JSONResponse(_clock_json(workspace))


def _non_negative(body: dict[str, Any], key: str) -> float:
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise bad_request(f"Field '{key}' must be a number >= 0, got {value!r}.")
    return float(value)


async def list_faults(request: Request) -> Response:
    workspace = workspace_of(request)
    with workspace.lock:
        return JSONResponse({"faults": [fault.to_json() for fault in workspace.faults]})


async def add_faults(request: Request) -> Response:
    """Add one fault object or every fault in {"faults": [...]}. When one is invalid, none is added."""
    workspace = workspace_of(request)
    body = await json_body(request)
    specs = body["faults"] if "faults" in body else [body]
    if not isinstance(specs, list):
        raise bad_request(f"Field 'faults' must be a list of fault objects, got {type(specs).__name__}.")
    try:
        faults = [parse_fault(spec) for spec in specs]
    except FaultError as exc:
        raise bad_request(str(exc)) from exc
    with workspace.lock:
        workspace.faults.extend(faults)
    return JSONResponse({"faults": [fault.to_json() for fault in faults]})


async def delete_faults(request: Request) -> Response:
    return JSONResponse({"removed": clear_faults(workspace_of(request))})


async def load_scenario(request: Request) -> Response:
    """Apply a scenario document. When it is invalid, the workspace is left as it was."""
    workspace = workspace_of(request)
    body = await json_body(request)
    try:
        time_scale = _non_negative(body, "time_scale") if "time_scale" in body else None
    except ApiError as exc:
        raise bad_request(f"Scenario is invalid, nothing was applied: {exc.message}") from exc
    with workspace.lock:
        snapshot = _snapshot(workspace)
        try:
            apply_scenario(workspace, body)
        except Exception as exc:
            # Any failure is the document's fault (it is the only input), and the snapshot undoes its partial effects.
            _restore(workspace, snapshot)
            detail = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
            if not isinstance(exc, ScenarioError | FaultError | ValueError):
                logger.warning("Scenario failed with %s, nothing was applied: %s", type(exc).__name__, exc)
            raise bad_request(f"Scenario is invalid, nothing was applied: {detail}") from exc
        if time_scale is not None:
            workspace.clock.set_time_scale(time_scale)
        counts = {"endpoints": len(workspace.endpoints), "models": len(workspace.models)}
    return JSONResponse(counts)


def _snapshot(workspace: Workspace) -> dict[str, Any]:
    # apply_scenario adds or replaces whole entries, so shallow copies of the collections restore it.
    return {
        "host_name": workspace.host_name,
        "workspace_id": workspace.workspace_id,
        "account_id": workspace.account_id,
        "cloud": workspace.cloud,
        "workload_types": workspace.workload_types,
        "endpoints": dict(workspace.endpoints),
        "models": dict(workspace.models),
        "tokens": dict(workspace.tokens),
        "oauth_clients": dict(workspace.oauth_clients),
        "faults": list(workspace.faults),
    }


def _restore(workspace: Workspace, snapshot: dict[str, Any]) -> None:
    for key, value in snapshot.items():
        setattr(workspace, key, value)


async def set_behaviour(request: Request) -> Response:
    """Set the given EndpointBehaviour fields of an endpoint and keep the others."""
    workspace = workspace_of(request)
    body = await json_body(request)
    name = request.path_params["name"]
    with workspace.lock:
        endpoint = workspace.endpoints.get(name)
        if endpoint is None:
            raise not_found(f"Endpoint with name '{name}' does not exist.")
        try:
            endpoint.behaviour = with_behaviour(endpoint.behaviour, body)
        except BehaviourError as exc:
            raise bad_request(str(exc)) from exc
        return JSONResponse(dataclasses.asdict(endpoint.behaviour))


routes = [
    Route(f"{PREFIX}/requests", get_requests, methods=["GET"]),
    Route(f"{PREFIX}/requests", clear_requests, methods=["DELETE"]),
    Route(f"{PREFIX}/clock", get_clock, methods=["GET"]),
    Route(f"{PREFIX}/clock", set_clock, methods=["PUT"]),
    Route(f"{PREFIX}/clock/advance", advance_clock, methods=["POST"]),
    Route(f"{PREFIX}/faults", list_faults, methods=["GET"]),
    Route(f"{PREFIX}/faults", add_faults, methods=["POST"]),
    Route(f"{PREFIX}/faults", delete_faults, methods=["DELETE"]),
    Route(f"{PREFIX}/scenario", load_scenario, methods=["POST"]),
    Route(f"{PREFIX}/endpoints/{{name}}/behaviour", set_behaviour, methods=["PUT"]),
]
