"""Validation of `external_model` served entities and the secrets their provider configs carry.

Each credential is given either as a secret reference (`{{secrets/<scope>/<key>}}`), which the
API returns, or as a `<field>_plaintext` value, which it stores but never returns.
"""

import re
from dataclasses import dataclass
from typing import Any

from emulator.config_rules import reject_unexpected_fields, require_object, require_string
from emulator.errors import bad_request

EXTERNAL_TASKS = ("llm/v1/chat", "llm/v1/completions", "llm/v1/embeddings")
SECRET_REFERENCE = re.compile(r"^\{\{secrets/[^/{}\s]+/[^/{}\s]+\}\}$")
PLAINTEXT_SUFFIX = "_plaintext"


@dataclass(frozen=True)
class ProviderSpec:
    config_key: str
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    # Credential fields; each also accepts its `_plaintext` variant.
    credentials: tuple[str, ...] = ()
    # Fields of which at least one must be set (a credential in either form, or another way to sign in).
    needs_one_of: tuple[str, ...] = ()


PROVIDERS: dict[str, ProviderSpec] = {
    "ai21labs": ProviderSpec("ai21labs_config", credentials=("ai21labs_api_key",), needs_one_of=("ai21labs_api_key",)),
    "amazon-bedrock": ProviderSpec(
        "amazon_bedrock_config",
        required=("aws_region", "bedrock_provider"),
        optional=("instance_profile_arn", "uc_service_credential_name"),
        credentials=("aws_access_key_id", "aws_secret_access_key"),
        needs_one_of=("aws_access_key_id", "instance_profile_arn", "uc_service_credential_name"),
    ),
    "anthropic": ProviderSpec(
        "anthropic_config", credentials=("anthropic_api_key",), needs_one_of=("anthropic_api_key",)
    ),
    "cohere": ProviderSpec(
        "cohere_config",
        optional=("cohere_api_base",),
        credentials=("cohere_api_key",),
        needs_one_of=("cohere_api_key",),
    ),
    "custom": ProviderSpec(
        "custom_provider_config", required=("custom_provider_url",), optional=("api_key_auth", "bearer_token_auth")
    ),
    "databricks-model-serving": ProviderSpec(
        "databricks_model_serving_config",
        required=("databricks_workspace_url",),
        credentials=("databricks_api_token",),
        needs_one_of=("databricks_api_token",),
    ),
    "google-cloud-vertex-ai": ProviderSpec(
        "google_cloud_vertex_ai_config", required=("project_id", "region"), credentials=("private_key",)
    ),
    "openai": ProviderSpec(
        "openai_config",
        optional=(
            "openai_api_base",
            "openai_api_type",
            "openai_api_version",
            "openai_deployment_name",
            "openai_organization",
            "microsoft_entra_client_id",
            "microsoft_entra_tenant_id",
        ),
        credentials=("openai_api_key", "microsoft_entra_client_secret"),
        needs_one_of=("openai_api_key", "microsoft_entra_client_secret"),
    ),
    "palm": ProviderSpec("palm_config", credentials=("palm_api_key",), needs_one_of=("palm_api_key",)),
}
BEDROCK_PROVIDERS = ("ai21labs", "amazon", "anthropic", "cohere")
# Optional provider fields that are objects. Every other optional field is a string.
OBJECT_FIELDS = ("api_key_auth", "bearer_token_auth")
OPENAI_API_TYPES = ("openai", "azure", "azuread")


def normalise_external_model(raw: Any, where: str) -> dict[str, Any]:
    """Validate one `external_model` object and return a copy to store (plaintext secrets included)."""
    model = require_object(raw, where)
    provider = model.get("provider")
    if not isinstance(provider, str) or provider not in PROVIDERS:
        raise bad_request(
            f"Field '{where}.provider' must be one of {sorted(PROVIDERS)}, got {provider!r}.",
        )
    spec = PROVIDERS[provider]
    reject_unexpected_fields(model, ("provider", "name", "task", spec.config_key), f"'{where}'")
    require_string(model.get("name"), f"{where}.name")
    if model.get("task") not in EXTERNAL_TASKS:
        raise bad_request(f"Field '{where}.task' must be one of {list(EXTERNAL_TASKS)}, got {model.get('task')!r}.")
    config_where = f"{where}.{spec.config_key}"
    if spec.config_key not in model:
        raise bad_request(f"Field '{config_where}' is required for provider '{provider}'.")
    config = require_object(model[spec.config_key], config_where)
    _check_provider_config(provider, spec, config, config_where)
    return {**model, spec.config_key: dict(config)}


def _check_provider_config(provider: str, spec: ProviderSpec, config: dict[str, Any], where: str) -> None:
    plaintext = tuple(f + PLAINTEXT_SUFFIX for f in spec.credentials)
    reject_unexpected_fields(config, (*spec.required, *spec.optional, *spec.credentials, *plaintext), f"'{where}'")
    for field in spec.required:
        require_string(config.get(field), f"{where}.{field}")
    for field in spec.optional:
        if field in config and field not in OBJECT_FIELDS and not isinstance(config[field], str):
            raise bad_request(f"Field '{where}.{field}' must be a string, got {type(config[field]).__name__}.")
    for field in spec.credentials:
        _check_credential(config, field, f"{where}.{field}")
    present = [f for f in spec.needs_one_of if f in config or f + PLAINTEXT_SUFFIX in config]
    if spec.needs_one_of and not present:
        options = ", ".join(f"'{f}'" for f in spec.needs_one_of)
        raise bad_request(
            f"'{where}' has no credential for provider '{provider}': set one of {options} "
            f"(as a secret reference, or with the '{PLAINTEXT_SUFFIX}' suffix)."
        )
    if provider == "amazon-bedrock" and str(config["bedrock_provider"]).lower() not in BEDROCK_PROVIDERS:
        raise bad_request(
            f"Field '{where}.bedrock_provider' must be one of {list(BEDROCK_PROVIDERS)}, "
            f"got {config['bedrock_provider']!r}."
        )
    api_type = config.get("openai_api_type", "openai")
    if provider == "openai" and api_type not in OPENAI_API_TYPES:
        raise bad_request(f"Field '{where}.openai_api_type' must be one of {list(OPENAI_API_TYPES)}, got {api_type!r}.")
    if provider == "custom":
        _check_custom_auth(config, where)


def _check_custom_auth(config: dict[str, Any], where: str) -> None:
    if "api_key_auth" in config and "bearer_token_auth" in config:
        raise bad_request(f"'{where}' sets both api_key_auth and bearer_token_auth; give one of them.")
    if "api_key_auth" in config:
        auth_where = f"{where}.api_key_auth"
        auth = require_object(config["api_key_auth"], auth_where)
        reject_unexpected_fields(auth, ("key", "value", "value_plaintext"), f"'{auth_where}'")
        require_string(auth.get("key"), f"{auth_where}.key")
        _check_credential(auth, "value", f"{auth_where}.value")
        config["api_key_auth"] = dict(auth)
    if "bearer_token_auth" in config:
        auth_where = f"{where}.bearer_token_auth"
        auth = require_object(config["bearer_token_auth"], auth_where)
        reject_unexpected_fields(auth, ("token", "token_plaintext"), f"'{auth_where}'")
        _check_credential(auth, "token", f"{auth_where}.token")
        config["bearer_token_auth"] = dict(auth)


def _check_credential(config: dict[str, Any], field: str, where: str) -> None:
    plain_field = field + PLAINTEXT_SUFFIX
    if field in config and plain_field in config:
        raise bad_request(
            f"'{where}' and '{where}{PLAINTEXT_SUFFIX}' are both set: "
            "give either a secret reference or a plaintext value."
        )
    if plain_field in config:
        require_string(config[plain_field], where + PLAINTEXT_SUFFIX)
    if field in config and not (isinstance(config[field], str) and SECRET_REFERENCE.match(config[field])):
        raise bad_request(
            f"Field '{where}' must be a secret reference of the form '{{{{secrets/<scope>/<key>}}}}'. "
            f"To pass the value itself, use '{field}{PLAINTEXT_SUFFIX}' instead."
        )


def strip_plaintext_secrets(value: Any) -> Any:
    """Return a copy of `value` without any `*_plaintext` keys, at any depth."""
    if isinstance(value, dict):
        return {k: strip_plaintext_secrets(v) for k, v in value.items() if not k.endswith(PLAINTEXT_SUFFIX)}
    if isinstance(value, list):
        return [strip_plaintext_secrets(v) for v in value]
    return value
