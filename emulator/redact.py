"""Redaction of secrets in request bodies before the request log stores them.

The log keeps JSON bodies as parsed JSON and other bodies as text. Values under secret-looking
keys are replaced at any depth: OAuth client secrets and assertions, tokens, passwords, and the
`*_plaintext` credentials of external models. Other bodies are read as form fields (the OAuth
token request is one), and secret fields among them are redacted.
"""

from typing import Any
from urllib.parse import parse_qsl, urlencode

from emulator.jsontext import InvalidJson, parse_json

REDACTED = "[REDACTED]"
SECRET_KEYS = frozenset({"client_secret", "assertion", "password", "token", "secret"})
SECRET_SUFFIXES = ("_plaintext", "_token", "_secret")


def is_secret_key(key: str) -> bool:
    lowered = key.lower()
    return lowered in SECRET_KEYS or lowered.endswith(SECRET_SUFFIXES)


def redact_json(value: Any) -> Any:
    """Return a copy of `value` with the value of every secret key replaced by REDACTED."""
    if isinstance(value, dict):
        return {k: REDACTED if is_secret_key(str(k)) else redact_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_json(v) for v in value]
    return value


def redact_form(text: str) -> str:
    """Return a form-encoded body with its secret fields redacted, or `text` itself when it has none."""
    pairs = parse_qsl(text, keep_blank_values=True)
    if not any(is_secret_key(key) for key, _ in pairs):
        return text
    return urlencode([(key, REDACTED if is_secret_key(key) else value) for key, value in pairs], safe="[]")


def body_for_log(body: bytes) -> Any:
    """Return the body to store in the request log: redacted JSON, redacted text, or None when empty."""
    if not body:
        return None
    try:
        return redact_json(parse_json(body))
    except InvalidJson:
        pass
    return redact_form(body.decode("utf-8", errors="replace"))
