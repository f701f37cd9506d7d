"""Append-only audit log: one JSON line per mutating tool call."""

import json
import logging
import threading
import time
from pathlib import Path
from typing import Any

from tools.redaction import REDACTED, redact

__all__ = ["REDACTED", "AuditLog", "redact"]

logger = logging.getLogger(__name__)


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
