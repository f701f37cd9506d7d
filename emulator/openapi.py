"""OpenAPI 3.1.0 document that describes how to query each served entity of an endpoint.

Custom models are described from the signature of their registered model version. Chat,
completions, embeddings and agent tasks use the fixed request shapes of those tasks.
"""

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from emulator.config_rules import parse_decimal
from emulator.endpoints import require_endpoint
from emulator.errors import ApiError, bad_request
from emulator.permissions import require_level
from emulator.requests import principal_of, workspace_of
from emulator.state import Endpoint, Workspace

# MLflow column types -> JSON Schema.
COLUMN_TYPES: dict[str, dict[str, str]] = {
    "double": {"type": "number", "format": "double"},
    "float": {"type": "number", "format": "float"},
    "long": {"type": "integer", "format": "int64"},
    "integer": {"type": "integer", "format": "int32"},
    "string": {"type": "string"},
    "boolean": {"type": "boolean"},
    "binary": {"type": "string", "format": "binary"},
    "datetime": {"type": "string", "format": "date-time"},
}
UNKNOWN_TYPE = {"type": "object", "format": "unknown"}
CHAT_TASKS = ("llm/v1/chat", "agent/v1/chat", "agent/v2/chat")


def column_schema(column: dict[str, Any]) -> dict[str, str]:
    return dict(COLUMN_TYPES.get(str(column.get("type")), UNKNOWN_TYPE))


def signature_request_schemas(inputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the dataframe_split and dataframe_records alternatives for signature `inputs`."""
    names = [str(c.get("name")) for c in inputs]
    required = [str(c.get("name")) for c in inputs if c.get("required", True)]
    types = [column_schema(c) for c in inputs]
    split = {
        "type": "object",
        "properties": {
            "dataframe_split": {
                "type": "object",
                "properties": {
                    "columns": {
                        "type": "array",
                        "description": f"required fields: {', '.join(required)}",
                        "items": {"type": "string", "enum": names},
                    },
                    "data": {"type": "array", "items": {"type": "array", "prefixItems": types}},
                },
                "required": ["columns", "data"],
            },
        },
        "required": ["dataframe_split"],
        "examples": [{"dataframe_split": {"columns": names, "data": [[_example(t) for t in types]]}}],
    }
    records = {
        "type": "object",
        "properties": {
            "dataframe_records": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": required,
                    "properties": dict(zip(names, types, strict=True)),
                },
            },
        },
        "required": ["dataframe_records"],
    }
    return [split, records]


def _example(schema: dict[str, str]) -> Any:
    examples: dict[str, Any] = {"number": 0.0, "integer": 0, "string": "", "boolean": False}
    return examples.get(schema["type"], {})


def predictions_schema(outputs: list[dict[str, Any]]) -> dict[str, Any]:
    if len(outputs) == 1 and not outputs[0].get("name"):
        items: dict[str, Any] = column_schema(outputs[0])
    elif outputs:
        items = {"type": "object", "properties": {str(c.get("name")): column_schema(c) for c in outputs}}
    else:
        items = {}
    return {"type": "object", "properties": {"predictions": {"type": "array", "items": items}}}


def task_schemas(task: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return the request and response schemas of a chat, completions, embeddings or agent task."""
    if task in CHAT_TASKS:
        message = {
            "type": "object",
            "properties": {
                "role": {"type": "string", "enum": ["system", "user", "assistant", "tool"]},
                "content": {"type": "string"},
            },
            "required": ["role", "content"],
        }
        request = _object({"messages": {"type": "array", "items": message}, **_sampling()}, ["messages"])
        choice = _object({"index": {"type": "integer"}, "message": message, "finish_reason": {"type": "string"}}, [])
        return request, _object({"choices": {"type": "array", "items": choice}, "usage": {"type": "object"}}, [])
    if task == "llm/v1/completions":
        prompt = {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}
        request = _object({"prompt": prompt, **_sampling()}, ["prompt"])
        choice = _object({"index": {"type": "integer"}, "text": {"type": "string"}}, [])
        return request, _object({"choices": {"type": "array", "items": choice}, "usage": {"type": "object"}}, [])
    if task == "llm/v1/embeddings":
        text = {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}
        request = _object({"input": text}, ["input"])
        embedding = {"type": "array", "items": {"type": "number"}}
        vector = _object({"embedding": embedding, "index": {"type": "integer"}}, [])
        return request, _object({"data": {"type": "array", "items": vector}, "usage": {"type": "object"}}, [])
    # Agent tasks that take Responses-style input items.
    request = _object({"input": {"type": "array", "items": {"type": "object"}}}, ["input"])
    return request, _object({"output": {"type": "array", "items": {"type": "object"}}}, [])


def _object(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        out["required"] = required
    return out


def _sampling() -> dict[str, Any]:
    return {
        "max_tokens": {"type": "integer"},
        "temperature": {"type": "number", "minimum": 0, "maximum": 2},
        "n": {"type": "integer", "minimum": 1, "maximum": 5},
        "stop": {"type": "array", "items": {"type": "string"}},
        "stream": {"type": "boolean"},
    }


def entity_operation(workspace: Workspace, endpoint: Endpoint, entity: dict[str, Any]) -> dict[str, Any]:
    """Return the `post` operation that queries one served entity."""
    task = entity["external_model"]["task"] if "external_model" in entity else None
    signature: dict[str, Any] | None = None
    model = workspace.models.get(str(entity.get("entity_name")))
    version_text = str(entity.get("entity_version", ""))
    number = parse_decimal(version_text)
    if model is not None and number is not None and number in model.versions:
        version = model.versions[number]
        task = task or version.task
        signature = version.signature
    elif task is None and endpoint.task:
        task = endpoint.task
    if task is not None:
        request_schema, response_schema = task_schemas(task)
    elif signature and signature.get("inputs"):
        request_schema = {"oneOf": signature_request_schemas(signature["inputs"])}
        response_schema = predictions_schema(signature.get("outputs") or [])
    else:
        raise bad_request(
            f"Served entity '{entity['name']}' (model '{entity.get('entity_name')}' version '{version_text}') has "
            "no logged signature, so no OpenAPI schema can be built. Log the model with a signature and serve "
            "that version."
        )
    return {
        "post": {
            "requestBody": {"required": True, "content": {"application/json": {"schema": request_schema}}},
            "responses": {
                "200": {
                    "description": "Successful operation",
                    "content": {"application/json": {"schema": response_schema}},
                }
            },
        }
    }


def openapi_document(workspace: Workspace, endpoint: Endpoint) -> dict[str, Any]:
    config = endpoint.config
    if endpoint.ready != "READY" or config is None:
        raise ApiError(
            400,
            "INVALID_STATE",
            f"Endpoint '{endpoint.name}' is not ready (state {endpoint.ready}, config update "
            f"{endpoint.config_update}). The OpenAPI schema is available once the endpoint is READY.",
        )
    paths = {
        f"/served-models/{entity['name']}/invocations": entity_operation(workspace, endpoint, entity)
        for entity in config.served_entities
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": endpoint.name, "version": str(config.version)},
        "servers": [{"url": f"https://{workspace.host_name}/serving-endpoints/{endpoint.name}"}],
        "paths": paths,
    }


async def get_openapi(request: Request) -> Response:
    workspace = workspace_of(request)
    with workspace.lock:
        endpoint = require_endpoint(workspace, request.path_params["name"])
        require_level(workspace, endpoint, principal_of(request), "CAN_VIEW")
        document = openapi_document(workspace, endpoint)
    return Response(json.dumps(document, indent=2), media_type="application/json")


routes = [Route("/api/2.0/serving-endpoints/{name}/openapi", get_openapi, methods=["GET"])]
