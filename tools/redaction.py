"""Redaction of credentials in what a tool returns, raises, logs or audits.

A value is hidden when its key looks like a credential (`openai_api_key_plaintext`,
`HF_TOKEN`, `Authorization`) or when it is the value of a served entity's environment
variable, because environment variables carry credentials under any name. Secret references
such as `{{secrets/scope/key}}` stay visible: they name a secret without containing it.
"""

import json
import re
from typing import Any

REDACTED = "<redacted>"
SECRET_KEY = re.compile(
    r"token|secret|passw|plaintext|api_?key|private_?key|authorization|credential|access_?key", re.IGNORECASE
)
SECRET_REFERENCE = re.compile(r"\{\{\s*secrets/[^/{}\s]+/[^/{}\s]+\s*\}\}")
ENVIRONMENT_KEY = "environment_vars"
# A `"key": "value"` pair in JSON text, including a value cut off before its closing quote.
JSON_PAIR = re.compile(r'"((?:[^"\\]|\\.)*)"(\s*:\s*)"((?:[^"\\]|\\.)*)"?')


# Counts that contain "token" in their name but are never credentials.
TOKEN_COUNT_KEY = re.compile(
    r"(^|_)(max_)?tokens$|^(prompt|completion|total|input|output)_tokens$|_tokens_per_", re.IGNORECASE
)


def is_secret_key(key: object) -> bool:
    text = str(key)
    return bool(SECRET_KEY.search(text)) and not TOKEN_COUNT_KEY.search(text)


def is_secret_reference(value: object) -> bool:
    return isinstance(value, str) and SECRET_REFERENCE.fullmatch(value.strip()) is not None


def redact(value: Any) -> Any:
    """Copy `value`, replacing credential values at any depth with REDACTED."""
    if isinstance(value, dict):
        return {key: _redact_item(key, item) for key, item in value.items()}
    if isinstance(value, list):
        return [redact(item) for item in value]
    if isinstance(value, str):
        return redact_text(value)
    return value


def redact_text(text: str) -> str:
    """Hide credential values in JSON text, complete or cut off; return other text unchanged."""
    if not text.lstrip().startswith(("{", "[")):
        return text
    try:
        decoded = json.loads(text)
    except (ValueError, RecursionError):
        return _redact_broken_json(text)
    redacted = redact(decoded)
    return text if redacted == decoded else json.dumps(redacted)


def redact_field_value(field: str, value: Any) -> Any:
    """Return `value` as an error message may show it for the argument at path `field`.

    The whole value is hidden below a credential key or an environment variable map, where
    even a value of the wrong type (a bare token in a list) is most likely the credential.
    """
    segments = re.split(r"[.\[\]]+", field)
    if any(is_secret_key(segment) for segment in segments) or ENVIRONMENT_KEY in segments:
        return value if is_secret_reference(value) else REDACTED
    if _is_provider_config(segments):
        return REDACTED
    return redact(value)


def _redact_item(key: object, item: Any) -> Any:
    if is_secret_key(key):
        return item if is_secret_reference(item) else REDACTED
    if key == ENVIRONMENT_KEY and isinstance(item, dict):
        return {name: value if is_secret_reference(value) else REDACTED for name, value in item.items()}
    return redact(item)


def _redact_broken_json(text: str) -> str:
    # Without a parse there is no telling which pairs sit inside an environment variable map,
    # so everything after the first mention of one is hidden.
    environment = text.find(ENVIRONMENT_KEY)
    if environment >= 0:
        text = text[: environment + len(ENVIRONMENT_KEY)] + f" {REDACTED}"
    return JSON_PAIR.sub(_redact_pair, text)


def _redact_pair(match: re.Match[str]) -> str:
    key, separator, value = match.group(1), match.group(2), match.group(3)
    if not is_secret_key(key) or is_secret_reference(value):
        return match.group(0)
    return f'"{key}"{separator}"{REDACTED}"'


def _is_provider_config(segments: list[str]) -> bool:
    # An external model's `<provider>_config` object contains the provider credentials.
    return "external_model" in segments and any(segment.endswith("_config") for segment in segments)
