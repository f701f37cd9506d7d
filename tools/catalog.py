"""Catalogue of the Model Serving REST operations, as data for discover_operations.

Each entry gives the method and path, a one-line purpose, the tool of this server that covers
it (None when no tool does), the JSON fields with type, requiredness and notes, the rules
callers get wrong, and an example body. Facts follow databricks-sdk 0.167 (`serving.py`,
`catalog.py`) and the Databricks REST reference. Field order follows the SDK.
"""

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str
    required: bool = False
    notes: str = ""


@dataclass(frozen=True)
class Operation:
    name: str
    method: str
    path: str
    purpose: str
    tool: str | None = None
    long_running: bool = False
    fields: tuple[FieldSpec, ...] = ()
    rules: tuple[str, ...] = ()
    example: dict[str, Any] | None = None
    response: str = ""
    # Other spellings a caller may use: CLI subcommands, SDK method names.
    aliases: tuple[str, ...] = field(default=(), compare=False)


F = FieldSpec
SERVING = "/api/2.0/serving-endpoints"
PERMISSIONS = "/api/2.0/permissions/serving-endpoints/{serving_endpoint_id}"
UC_MODELS = "/api/2.1/unity-catalog/models/{full_name}"

NAME_PATH = F("name", "string (path)", True, "endpoint name")
ID_PATH = F("serving_endpoint_id", "string (path)", True, "the endpoint's 32-hex `id` from get, NOT its name")
SERVED_MODEL_PATH = F(
    "served_model_name", "string (path)", True, "served entity name from get: config.served_entities[].name"
)


def entity_fields(prefix: str) -> tuple[FieldSpec, ...]:
    """ServedEntityInput fields, each named under `prefix`."""
    return (
        F(f"{prefix}name", "string", False, "unique in the endpoint; default <last part of entity_name>-<version>"),
        F(f"{prefix}entity_name", "string", False, "UC model catalog.schema.model; system.ai.* for Foundation Models"),
        F(f"{prefix}entity_version", "string", False, 'model version as a string, e.g. "3"; not an alias'),
        F(f"{prefix}external_model", "object", False, "{provider, name, task, <provider>_config}; no compute fields"),
        F(f"{prefix}workload_size", "string", False, "Small | Medium | Large or a custom size; not with concurrency"),
        F(f"{prefix}workload_type", "enum", False, "CPU (default), CPU_MEDIUM, CPU_LARGE, GPU_SMALL, GPU_MEDIUM, ..."),
        F(f"{prefix}scale_to_zero_enabled", "bool", False, "send it explicitly on custom models, false included"),
        F(f"{prefix}min_provisioned_concurrency", "int", False, "with max_: alternative to workload_size"),
        F(f"{prefix}max_provisioned_concurrency", "int", False, "GPU replicas = concurrency / 4"),
        F(f"{prefix}min_provisioned_throughput", "int", False, "tokens/s, legacy provisioned throughput"),
        F(f"{prefix}max_provisioned_throughput", "int", False, "tokens/s, legacy provisioned throughput"),
        F(f"{prefix}provisioned_model_units", "int", False, "provisioned throughput model units"),
        F(f"{prefix}burst_scaling_enabled", "bool", False, "default true; not echoed by get"),
        F(f"{prefix}environment_vars", "map<string,string>", False, "values may be {{secrets/<scope>/<key>}}"),
        F(f"{prefix}instance_profile_arn", "string", False, "AWS only"),
    )


def route_fields(prefix: str) -> tuple[FieldSpec, ...]:
    return (
        F(f"{prefix}served_entity_name", "string", False, "an entity's name; served_model_name is the older key"),
        F(f"{prefix}traffic_percentage", "int", True, "0-100 integer; all routes sum to 100"),
    )


TURBINE_ENTITY = {
    "entity_name": "main.default.turbine_failure",
    "entity_version": "3",
    "workload_size": "Small",
    "scale_to_zero_enabled": True,
}
WAIT_RULE = (
    "Long-running: the call returns at once with config_update=IN_PROGRESS and a pending_config. Ready only when "
    "state.ready == READY AND state.config_update == NOT_UPDATING AND every served entity is DEPLOYMENT_READY."
)
ROUTE_RULE = (
    "Routes name served entities, not models: an unnamed entity of main.default.turbine_failure version 3 is "
    "'turbine_failure-3'. One route per entity, integer percentages summing to 100."
)
SEPARATE_APIS_RULE = (
    "Tags, AI Gateway, rate limits, notifications and telemetry have their own calls (patch_tags, put_ai_gateway, "
    "update_notifications, patch_telemetry_config); putting them in the config body does nothing."
)

ENDPOINT_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "create",
        "POST",
        SERVING,
        "Create an endpoint, optionally with its first config.",
        "create_endpoint",
        True,
        (
            F("name", "string", True, "1-63 letters, digits, - or _; not databricks-*; cannot be renamed"),
            F("config", "object", False, "omit for an endpoint with no config (stays NOT_READY)"),
            *entity_fields("config.served_entities[]."),
            *route_fields("config.traffic_config.routes[]."),
            F("config.auto_capture_config", "object", False, "deprecated inference tables; use ai_gateway"),
            F("ai_gateway", "object", False, "see put_ai_gateway"),
            F("budget_policy_id", "string"),
            F("description", "string"),
            F("email_notifications", "object", False, "{on_update_success: [emails], on_update_failure: [emails]}"),
            F("rate_limits", "array", False, "deprecated; use ai_gateway.rate_limits"),
            F("route_optimized", "bool", False, "cannot be changed after creation"),
            F("tags", "array", False, "[{key (required), value}]"),
            F("telemetry_config", "object", False, "see patch_telemetry_config"),
        ),
        (
            WAIT_RULE,
            ROUTE_RULE,
            "Do not list endpoints before creating. A taken name fails with 409 RESOURCE_ALREADY_EXISTS; there is "
            "no upsert, so change an existing endpoint with update_config.",
            "Send served_entities, never served_models too. External model entities take no compute fields.",
            "Traffic config may be omitted for one entity (100 %); it is required for several.",
        ),
        {
            "name": "turbine-failure",
            "config": {
                "served_entities": [TURBINE_ENTITY],
                "traffic_config": {"routes": [{"served_entity_name": "turbine_failure-3", "traffic_percentage": 100}]},
            },
            "tags": [{"key": "team", "value": "ml"}],
        },
        "ServingEndpointDetailed: state NOT_READY/IN_PROGRESS, pending_config, id, permission_level.",
        ("create-endpoint", "create_and_wait"),
    ),
    Operation(
        "get",
        "GET",
        f"{SERVING}/{{name}}",
        "Read one endpoint: state, config, pending config, id.",
        "get_endpoint",
        fields=(NAME_PATH,),
        rules=(
            "Missing endpoint: 404 RESOURCE_DOES_NOT_EXIST.",
            "The `id` field is what the permissions API takes. Foundation Model endpoints (databricks-*) have none.",
        ),
        response="ServingEndpointDetailed: name, id, state{ready, config_update}, config, pending_config, tags, task.",
        aliases=("get-endpoint",),
    ),
    Operation(
        "list",
        "GET",
        SERVING,
        "List every endpoint in the workspace (no pagination).",
        "list_endpoints",
        rules=(
            "No server-side pagination or filters; list items carry no pending_config.",
            "Pay-per-token Foundation Model endpoints (databricks-*) are in the list; pick_foundation_model "
            "chooses among them.",
        ),
        response='{"endpoints": [ServingEndpoint summary]}',
        aliases=("list-endpoints",),
    ),
    Operation(
        "delete",
        "DELETE",
        f"{SERVING}/{{name}}",
        "Delete an endpoint, with its logs and inference data.",
        "delete_endpoint",
        fields=(NAME_PATH,),
        rules=(
            "Irreversible. Build and server logs go with the endpoint: read them first if needed.",
            "Missing endpoint: 404.",
        ),
        response="{}",
        aliases=("delete-endpoint",),
    ),
    Operation(
        "update_config",
        "PUT",
        f"{SERVING}/{{name}}/config",
        "Replace the served entities and traffic of an endpoint.",
        "update_config",
        True,
        (
            NAME_PATH,
            *entity_fields("served_entities[]."),
            *route_fields("traffic_config.routes[]."),
            F("auto_capture_config", "object", False, "deprecated inference tables"),
            F("served_models", "array", False, "deprecated; never together with served_entities"),
        ),
        (
            WAIT_RULE + " The old config serves until the new one is ready (zero downtime).",
            "A PUT: the whole served entity list is replaced. Send input fields only, never state, creator or "
            "creation_timestamp read from get.",
            "One update at a time: while config_update is IN_PROGRESS another update is rejected (409), so wait first.",
            "A failed update leaves the previous config serving and config_update=UPDATE_FAILED.",
            ROUTE_RULE,
            SEPARATE_APIS_RULE,
            "Version swap: repoint the UC alias (uc_set_alias) AND call this with the new version; either alone "
            "leaves the two out of step. swap_model_version does both.",
            "External and non-external entities cannot be mixed or converted.",
        ),
        {
            "served_entities": [{**TURBINE_ENTITY, "entity_version": "4"}],
            "traffic_config": {"routes": [{"served_entity_name": "turbine_failure-4", "traffic_percentage": 100}]},
        },
        "ServingEndpointDetailed with config_update=IN_PROGRESS and pending_config.",
        ("update-config", "update_config_and_wait"),
    ),
    Operation(
        "put_ai_gateway",
        "PUT",
        f"{SERVING}/{{name}}/ai-gateway",
        "Replace the AI Gateway config: rate limits, usage tracking, inference tables, guardrails, fallback.",
        fields=(
            NAME_PATH,
            F("usage_tracking_config", "object", False, "{enabled: bool}"),
            F("inference_table_config", "object", False, "{catalog_name, schema_name, table_name_prefix, enabled}"),
            F("rate_limits[].renewal_period", "enum", True, "minute (the only value)"),
            F("rate_limits[].calls", "int", False, "calls per minute"),
            F("rate_limits[].tokens", "int", False, "tokens per minute"),
            F("rate_limits[].key", "enum", False, "endpoint (default) | user | user_group | service_principal"),
            F("rate_limits[].principal", "string", False, "user, group or SP application id for non-endpoint keys"),
            F("guardrails", "object", False, "{input, output}: {safety, pii: {behavior: NONE|BLOCK|MASK}}"),
            F("fallback_config", "object", False, "{enabled (required)}: retry other entities on errors"),
        ),
        rules=(
            "Full replacement: fields left out are cleared; sending none clears the gateway.",
            "To change inference table names, disable the table first.",
            "Agent endpoints support only inference tables.",
        ),
        example={"rate_limits": [{"calls": 100, "key": "user", "renewal_period": "minute"}]},
        response="The stored AI Gateway config.",
        aliases=("put-ai-gateway",),
    ),
    Operation(
        "put_rate_limits",
        "PUT",
        f"{SERVING}/{{name}}/rate-limits",
        "Deprecated rate limits; use put_ai_gateway rate_limits instead.",
        fields=(
            NAME_PATH,
            F("rate_limits[].calls", "int", True),
            F("rate_limits[].renewal_period", "enum", True, "minute"),
            F("rate_limits[].key", "enum", False, "endpoint | user"),
        ),
        rules=("Deprecated and not returned by get.",),
        example={"rate_limits": [{"calls": 10, "key": "endpoint", "renewal_period": "minute"}]},
        aliases=("put", "put-rate-limits"),
    ),
    Operation(
        "patch_tags",
        "PATCH",
        f"{SERVING}/{{name}}/tags",
        "Add or delete endpoint tags.",
        fields=(
            NAME_PATH,
            F("add_tags", "array", False, "[{key (required), value}]; upsert by key"),
            F("delete_tags", "array of string", False, "keys to remove"),
        ),
        rules=("Tags change only through this call, not through update_config.",),
        example={"add_tags": [{"key": "team", "value": "ml"}], "delete_tags": ["old"]},
        response='{"tags": [all tags after the change]}',
        aliases=("patch", "tags"),
    ),
    Operation(
        "update_notifications",
        "PATCH",
        f"{SERVING}/{{name}}/notifications",
        "Set email notifications for config update success and failure.",
        fields=(
            NAME_PATH,
            F("email_notifications.on_update_success", "array of string", False, "emails"),
            F("email_notifications.on_update_failure", "array of string", False, "emails"),
        ),
        example={"email_notifications": {"on_update_failure": ["oncall@example.com"]}},
        aliases=("update-notifications",),
    ),
    Operation(
        "patch_telemetry_config",
        "PATCH",
        f"{SERVING}/{{name}}/telemetry-config",
        "Set or remove the telemetry config (logs, metrics, traces, inference table).",
        fields=(
            NAME_PATH,
            F("telemetry_config.enabled_telemetry_features", "array of enum", False, "TELEMETRY_FEATURE_*; empty=all"),
            F("telemetry_config.inference_table_config", "object", False, "{name, sampling_fraction 0.0-1.0}"),
            F("telemetry_config.table_names", "object", False, "{logs_table, metrics_table, traces_table, ...}"),
            F("telemetry_config.telemetry_profile_id", "string"),
        ),
        rules=("Omitting telemetry_config removes telemetry.", "Refused (409) while a config update is running."),
        aliases=("patch-telemetry-config",),
    ),
    Operation(
        "build_logs",
        "GET",
        f"{SERVING}/{{name}}/served-models/{{served_model_name}}/build-logs",
        "Container build logs of one served entity.",
        "get_logs(kind='build')",
        fields=(NAME_PATH, SERVED_MODEL_PATH),
        rules=("The path takes the served entity name (e.g. turbine_failure-3), not the model name.",),
        response='{"logs": "<text>"}',
        aliases=("build-logs",),
    ),
    Operation(
        "logs",
        "GET",
        f"{SERVING}/{{name}}/served-models/{{served_model_name}}/logs",
        "Recent model server logs of one served entity.",
        "get_logs(kind='runtime')",
        fields=(NAME_PATH, SERVED_MODEL_PATH),
        rules=("Logs are deleted with the endpoint.",),
        response='{"logs": "<text>"}',
        aliases=("server_logs", "runtime_logs"),
    ),
    Operation(
        "export_metrics",
        "GET",
        f"{SERVING}/{{name}}/metrics",
        "Endpoint metrics in Prometheus / OpenMetrics text.",
        fields=(NAME_PATH,),
        rules=("The body is text, not JSON (Accept: text/plain).",),
        aliases=("export-metrics", "metrics"),
    ),
    Operation(
        "get_open_api",
        "GET",
        f"{SERVING}/{{name}}/openapi",
        "OpenAPI 3.1 schema of what each served entity accepts and returns.",
        "get_open_api",
        fields=(NAME_PATH,),
        rules=("Needs a READY endpoint whose model logged a signature.",),
        aliases=("get-open-api", "openapi"),
    ),
    Operation(
        "query",
        "POST",
        "/serving-endpoints/{name}/invocations",
        "Score or chat with an endpoint (traffic split applies). Not under /api/2.0.",
        "query_endpoint",
        fields=(
            NAME_PATH,
            F("messages", "array", False, "chat: [{role, content}] at the top level"),
            F("prompt", "string | array", False, "completions"),
            F("input", "string | array", False, "embeddings"),
            F("dataframe_split", "object", False, "custom model: {columns, data, index}"),
            F("dataframe_records", "array", False, "custom model: one object per row"),
            F("instances", "array", False, "custom model: tensor rows"),
            F("inputs", "any", False, "custom model: columnar tensors; not a wrapper for LLM params"),
            F("params", "object", False, "custom model: MLflow inference params"),
            F("max_tokens", "int"),
            F("temperature", "float", False, "0.0-2.0"),
            F("n", "int", False, "1-5"),
            F("stop", "array of string"),
            F("stream", "bool", False, "Server-Sent Events on chat and completions"),
            F("extra_params", "map<string,string>"),
            F("client_request_id", "string", False, "recorded in inference and usage tables"),
            F("usage_context", "map<string,string>"),
        ),
        rules=(
            "Query only a fully ready endpoint; before that it answers 404 or 503.",
            "Custom models take exactly one of dataframe_split, dataframe_records, instances, inputs.",
            "The response header served-model-name names the entity that answered.",
        ),
        example={"messages": [{"role": "user", "content": "Hello"}], "max_tokens": 128},
        aliases=("invocations", "query-endpoint"),
    ),
    Operation(
        "query_served_entity",
        "POST",
        "/serving-endpoints/{name}/served-models/{served_model_name}/invocations",
        "Query one served entity, ignoring the traffic split.",
        "query_endpoint(served_entity=...)",
        fields=(NAME_PATH, SERVED_MODEL_PATH),
        example={"dataframe_records": [{"vibration": 0.42, "rpm": 18.3, "temp_c": 71.2}]},
    ),
    Operation(
        "create_pt",
        "POST",
        f"{SERVING}/pt",
        "Create a provisioned throughput endpoint for a system.ai model.",
        long_running=True,
        fields=(
            F("name", "string", True),
            F("config.served_entities[].entity_name", "string", True, "system.ai.<model>"),
            F("config.served_entities[].entity_version", "string"),
            F("config.served_entities[].provisioned_model_units", "int", True, "positive; no scale to zero"),
            F("config.served_entities[].name", "string"),
            F("config.served_entities[].burst_scaling_enabled", "bool", False, "default true"),
            F("config.served_entities[].pt_term", "enum", False, "COMMITMENT_TERM_1_HOUR ... _1_YEAR"),
            *route_fields("config.traffic_config.routes[]."),
            F("ai_gateway", "object"),
            F("budget_policy_id", "string"),
            F("email_notifications", "object"),
            F("tags", "array"),
        ),
        rules=(WAIT_RULE, "Provisioned throughput reserves GPU capacity and costs money while it runs."),
        aliases=("create-provisioned-throughput-endpoint",),
    ),
    Operation(
        "update_pt_config",
        "PUT",
        f"{SERVING}/pt/{{name}}/config",
        "Change the model units or entities of a provisioned throughput endpoint.",
        long_running=True,
        fields=(NAME_PATH, F("config", "object", True, "{served_entities[], traffic_config} as in create_pt")),
        aliases=("update-provisioned-throughput-endpoint-config",),
    ),
    Operation(
        "get_permission_levels",
        "GET",
        f"{PERMISSIONS}/permissionLevels",
        "Permission levels that can be granted on an endpoint.",
        fields=(ID_PATH,),
        response='{"permission_levels": [{permission_level, description}]}',
        aliases=("get-permission-levels",),
    ),
    Operation(
        "get_permissions",
        "GET",
        PERMISSIONS,
        "Read an endpoint's access control list.",
        "get_permissions",
        fields=(ID_PATH,),
        rules=("Takes the endpoint id from get, not the name.",),
        response="{object_id: /serving-endpoints/<id>, object_type, access_control_list[]}",
        aliases=("get-permissions",),
    ),
    Operation(
        "set_permissions",
        "PUT",
        PERMISSIONS,
        "Replace all direct grants of an endpoint.",
        fields=(
            ID_PATH,
            F("access_control_list[].user_name | group_name | service_principal_name", "string", True, "one of"),
            F("access_control_list[].permission_level", "enum", True, "CAN_MANAGE | CAN_QUERY | CAN_VIEW"),
        ),
        rules=(
            "Replaces every direct grant; an empty list removes them all. Use update_permissions to add one.",
            "Service principals are named by application id.",
        ),
        example={"access_control_list": [{"group_name": "data-team", "permission_level": "CAN_QUERY"}]},
        aliases=("set-permissions",),
    ),
    Operation(
        "update_permissions",
        "PATCH",
        PERMISSIONS,
        "Add or change grants, keeping the others.",
        "update_permissions",
        fields=(
            ID_PATH,
            F("access_control_list[].user_name | group_name | service_principal_name", "string", True, "one of"),
            F("access_control_list[].permission_level", "enum", True, "CAN_MANAGE | CAN_QUERY | CAN_VIEW"),
        ),
        rules=("Takes the endpoint id, not the name.",),
        example={"access_control_list": [{"user_name": "alice@example.com", "permission_level": "CAN_QUERY"}]},
        aliases=("update-permissions",),
    ),
    Operation(
        "http_request",
        "POST",
        "/api/2.0/external-function",
        "Send an HTTP request to an external service through a Unity Catalog connection.",
        fields=(
            F("connection_name", "string", True),
            F("method", "enum", True, "GET | POST | PUT | PATCH | DELETE"),
            F("path", "string", True, "relative to the connection host"),
            F("headers", "string", False, "JSON-encoded object"),
            F("json", "string", False, "JSON-encoded payload"),
            F("params", "string", False, "JSON-encoded query map"),
            F("sub_domain", "string", False, "prepended to the connection host"),
        ),
        rules=("Private Preview; the response is the external service's raw body.",),
        aliases=("http-request", "external_function"),
    ),
    Operation(
        "get_model_optimization_info",
        "GET",
        f"{SERVING}/get-model-optimization-info/{{model_name}}/{{model_version}}",
        "Whether a model can get provisioned throughput, and its model-unit chunk size.",
        fields=(F("model_name", "string (path)", True), F("model_version", "string (path)", True)),
        response='{"optimizable": bool, "throughput_chunk_size": int}',
    ),
)

OPENAI_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "openai_chat_completions",
        "POST",
        "/serving-endpoints/chat/completions",
        "OpenAI-compatible chat: an OpenAI client with base_url=<host>/serving-endpoints, model=<endpoint>.",
        fields=(F("model", "string", True, "endpoint name"), F("messages", "array", True)),
        example={"model": "databricks-claude-sonnet-4-6", "messages": [{"role": "user", "content": "Hello"}]},
    ),
    Operation(
        "openai_embeddings",
        "POST",
        "/serving-endpoints/embeddings",
        "OpenAI-compatible embeddings; model=<embeddings endpoint>.",
        fields=(F("model", "string", True, "endpoint name"), F("input", "string | array", True)),
        example={"model": "databricks-gte-large-en", "input": ["text to embed"]},
    ),
    Operation(
        "openai_responses",
        "POST",
        "/serving-endpoints/responses",
        "OpenAI Responses API; OpenAI models only.",
        fields=(F("model", "string", True, "endpoint name"), F("input", "string | array", True)),
        rules=("background, store, conversation and service_tier are rejected with 400.",),
    ),
    Operation(
        "anthropic_messages",
        "POST",
        "/serving-endpoints/anthropic/v1/messages",
        "Anthropic Messages API for Claude endpoints; model=<endpoint>.",
        fields=(
            F("model", "string", True, "endpoint name"),
            F("messages", "array", True),
            F("max_tokens", "int", True),
        ),
    ),
)

UC_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "uc_set_alias",
        "PUT",
        f"{UC_MODELS}/aliases/{{alias}}",
        "Point a Unity Catalog model alias (e.g. prod) at a version.",
        "swap_model_version(alias=...)",
        fields=(
            F("full_name", "string (path)", True, "catalog.schema.model"),
            F("alias", "string (path)", True),
            F("version_num", "int", True, "the version the alias points to"),
        ),
        rules=(
            "Endpoints serve versions, not aliases: swap_model_version serves the new version, then moves the alias.",
        ),
        example={"version_num": 3},
        aliases=("set_alias", "set-alias"),
    ),
    Operation(
        "uc_get_by_alias",
        "GET",
        f"{UC_MODELS}/aliases/{{alias}}",
        "Resolve an alias to its model version.",
        fields=(F("full_name", "string (path)", True), F("alias", "string (path)", True)),
        response="ModelVersionInfo with version and aliases.",
        aliases=("get_by_alias", "get-by-alias"),
    ),
    Operation(
        "uc_delete_alias",
        "DELETE",
        f"{UC_MODELS}/aliases/{{alias}}",
        "Remove an alias from a model.",
        fields=(F("full_name", "string (path)", True), F("alias", "string (path)", True)),
        aliases=("delete_alias", "delete-alias"),
    ),
    Operation(
        "uc_get_model_version",
        "GET",
        f"{UC_MODELS}/versions/{{version}}",
        "Read one registered model version.",
        fields=(F("full_name", "string (path)", True), F("version", "int (path)", True)),
    ),
    Operation(
        "uc_list_model_versions",
        "GET",
        f"{UC_MODELS}/versions",
        "List the versions of a registered model.",
        fields=(F("full_name", "string (path)", True),),
    ),
)

OPERATIONS: tuple[Operation, ...] = ENDPOINT_OPERATIONS + OPENAI_OPERATIONS + UC_OPERATIONS


def find_operation(query: str) -> Operation | None:
    """Find an operation by name or alias, ignoring case and the difference between '-' and '_'."""
    key = _key(query)
    for operation in OPERATIONS:
        if key == _key(operation.name) or key in (_key(a) for a in operation.aliases):
            return operation
    return None


def _key(text: str) -> str:
    return text.strip().lower().replace("-", "_").replace(" ", "_")
