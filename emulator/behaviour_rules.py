"""Type checks for `EndpointBehaviour` knobs set through the admin API or a scenario's `behaviour:`.

Every knob is checked when it is set, so a bad value fails the admin call or the scenario with a
message naming the field, instead of failing a later query with a 500.
"""

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, get_args

from emulator.state import EndpointBehaviour, UpdateOutcome

STREAM_BREAK_MODES = ("disconnect", "truncate")
# Upper bound of the seconds knobs, about 31.7 years. The update and warm-up knobs become virtual
# milliseconds with int(seconds * 1000), which overflows for values near the float maximum.
MAX_SECONDS = 1e9


class BehaviourError(ValueError):
    """A behaviour knob with an unknown name or a value of the wrong type; the message names the field."""


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _seconds(key: str, value: Any) -> None:
    if not _is_number(value) or not 0 <= value <= MAX_SECONDS:
        raise BehaviourError(
            f"Behaviour field '{key}' must be a number >= 0 and <= {MAX_SECONDS:g} (seconds), got {value!r}."
        )


def _outcome(key: str, value: Any) -> None:
    outcomes = list(get_args(UpdateOutcome))
    if value not in outcomes:
        raise BehaviourError(f"Behaviour field '{key}' must be one of {outcomes}, got {value!r}.")


def _text(key: str, value: Any) -> None:
    if not isinstance(value, str):
        raise BehaviourError(f"Behaviour field '{key}' must be a string, got {type(value).__name__}.")


def _text_or_null(key: str, value: Any) -> None:
    if value is not None and not isinstance(value, str):
        raise BehaviourError(f"Behaviour field '{key}' must be a string or null, got {type(value).__name__}.")


def _text_or_map(key: str, value: Any) -> None:
    is_text_map = isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
    if value is not None and not isinstance(value, str) and not is_text_map:
        raise BehaviourError(
            f"Behaviour field '{key}' must be a string, a mapping from served entity name to string, or null."
        )


def _flag(key: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise BehaviourError(f"Behaviour field '{key}' must be true or false, got {value!r}.")


def _chunk_count(key: str, value: Any) -> None:
    if value is not None and (not _is_integer(value) or value < 0):
        raise BehaviourError(f"Behaviour field '{key}' must be an integer >= 0 (chunks) or null, got {value!r}.")


def _break_mode(key: str, value: Any) -> None:
    if value not in STREAM_BREAK_MODES:
        raise BehaviourError(f"Behaviour field '{key}' must be one of {list(STREAM_BREAK_MODES)}, got {value!r}.")


def _qps_limit(key: str, value: Any) -> None:
    if value is not None and (not _is_integer(value) or value < 1):
        raise BehaviourError(
            f"Behaviour field '{key}' must be an integer >= 1 (requests per second) or null, got {value!r}."
        )


def _any_json(key: str, value: Any) -> None:
    """Accept any JSON value as the fixed response body. Null restores the generated response."""


FIELD_CHECKS: dict[str, Callable[[str, Any], None]] = {
    "deploy_seconds": _seconds,
    "next_update_outcome": _outcome,
    "next_update_message": _text,
    "response": _any_json,
    "query_delay_seconds": _seconds,
    "stream_chunk_delay_seconds": _seconds,
    "stream_sse_variations": _flag,
    "stream_break_after_chunks": _chunk_count,
    "stream_break_mode": _break_mode,
    "workspace_qps_limit": _qps_limit,
    "warmup_seconds": _seconds,
    "build_logs": _text_or_map,
    "logs": _text_or_map,
    "metrics": _text_or_null,
}


def check_behaviour(fields: Mapping[str, Any]) -> None:
    """Raise BehaviourError for the first unknown knob or badly typed value in `fields`."""
    known = sorted(f.name for f in dataclasses.fields(EndpointBehaviour))
    for key, value in fields.items():
        check = FIELD_CHECKS.get(key)
        if check is None:
            raise BehaviourError(f"Unknown behaviour field '{key}'; allowed fields: {known}.")
        check(key, value)


def with_behaviour(current: EndpointBehaviour, fields: Mapping[str, Any]) -> EndpointBehaviour:
    """Return `current` with `fields` replaced, after checking them all."""
    check_behaviour(fields)
    return dataclasses.replace(current, **fields)
