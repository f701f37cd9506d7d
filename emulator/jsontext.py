"""Strict parsing of JSON request bodies: UTF-8 text, finite numbers, bounded nesting.

Python's json module accepts the non-standard literals NaN and Infinity, reads 1e309 as inf,
guesses UTF-16 and UTF-32 from the first bytes, raises ValueError for integers of more than 4300
digits and RecursionError for deep nesting. Values like these made later steps fail with a 500
(the response encoder rejects inf, the recursive redaction helpers overflow the stack), so the
routes, the request log and the fault matcher all parse bodies with `parse_json`.
"""

import json
from typing import Any

# NOTE: the real service's nesting limit is not known. 100 is the default max_recursion_depth of
# protobuf 7.36.2 json_format.Parse, and it keeps the recursive helpers far below Python's stack limit.
MAX_NESTING = 100
# Numbers must fit an IEEE 754 double, the range RFC 8259 section 6 names for interoperable JSON.
# An integer literal of more than 309 digits is always beyond that range.
MAX_INTEGER_DIGITS = 309


class InvalidJson(ValueError):
    """A request body that is not JSON text this emulator accepts. The message names the problem."""


def _reject_constant(literal: str) -> Any:
    raise InvalidJson(f"{literal} is not a JSON value: JSON numbers must be finite")


def _finite_float(literal: str) -> float:
    value = float(literal)
    if value in (float("inf"), float("-inf")):
        raise InvalidJson(f"the number {literal[:40]} is out of range: JSON numbers must fit a 64-bit float")
    return value


def _bounded_int(literal: str) -> int:
    if len(literal.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise InvalidJson(
            f"the number {literal[:40]}... has {len(literal)} digits and is out of range: "
            "JSON numbers must fit a 64-bit float"
        )
    return int(literal)


def nesting_exceeds(value: Any, limit: int) -> bool:
    """Return True when arrays and objects in `value` nest more than `limit` levels deep.

    The walk goes level by level without recursion, so it is safe on any parsed value.
    """
    level = [value] if isinstance(value, dict | list) else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return True
        children: list[Any] = []
        for node in level:
            items = node.values() if isinstance(node, dict) else node
            children.extend(item for item in items if isinstance(item, dict | list))
        level = children
    return False


def parse_json(raw: bytes) -> Any:
    """Parse `raw` as UTF-8 JSON text, or raise InvalidJson naming the problem.

    A leading UTF-8 byte order mark is skipped, which RFC 8259 section 8.1 allows parsers to do.
    """
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidJson(f"the body is not valid UTF-8 (invalid byte at position {exc.start})") from exc
    nesting_message = f"arrays and objects are nested more than {MAX_NESTING} levels deep"
    try:
        value = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float, parse_int=_bounded_int)
    except json.JSONDecodeError as exc:
        raise InvalidJson(f"{exc.msg} at position {exc.pos}") from exc
    except RecursionError as exc:
        raise InvalidJson(nesting_message) from exc
    if nesting_exceeds(value, MAX_NESTING):
        raise InvalidJson(nesting_message)
    return value
