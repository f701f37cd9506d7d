"""Append-only audit log: one JSON line per mutating tool call."""

import json
import logging
import threading
import time
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

REDACTED = "<redacted>"
# Substrings of a key whose value is never written to the audit log.
SECRET_KEY_PARTS = ("token", "secret", "password", "plaintext", "api_key", "private_key", "authorization")


def redact(value: Any) -> Any:
    """Copy `value`, replacing the values of secret-looking keys at any depth."""
    if isinstance(value, dict):
        return {
            k: REDACTED if any(part in str(k).lower() for part in SECRET_KEY_PARTS) else redact(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


class AuditLog:
    """Writes audit records to a JSON Lines file; thread-safe."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def record(self, tool: str, target: str, outcome: str, detail: dict[str, Any]) -> None:
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "tool": tool,
            "target": target,
            "outcome": outcome,
            "detail": redact(detail),
        }
        line = json.dumps(entry, sort_keys=True, default=str)
        try:
            with self._lock, self.path.open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")
        except OSError:
            logger.exception("Could not write the audit log %s", self.path)
