"""Logging setup: everything goes to stderr, because stdout carries the stdio transport."""

import logging
import sys


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # httpx logs every request at INFO with the full URL; our client logs its own line.
    logging.getLogger("httpx").setLevel(logging.WARNING)
