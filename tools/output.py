"""Caps for large tool output, so every result fits a client's tool-output limit.

Text is cut at line boundaries (`head_text`, `tail_text`). JSON is cut by whole list items,
object keys and string tails (`fit_json`), so the result is always valid JSON and every cut
is listed in the returned truncation note.
"""

import json
import re
from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, Field

INDENT = 2
# Characters left for the JSON punctuation that joins kept parts. `fit_json` retries with a
# smaller budget when this estimate is too low.
SEPARATOR_CHARS = 4
# A cut string keeps at least this many characters.
MIN_STRING_CUT = 40
# Max characters of an object key quoted in a truncation note.
MAX_KEY_LABEL_CHARS = 60
# Characters `fit_result` keeps free for the truncation note it adds.
NOTE_MARGIN_CHARS = 1_000
# The hint of a result cut by `fit_result` because it echoes a large request.
ECHO_HINT = (
    "Only this result is cut: every request the tool sends (or, for a dry run, would send) goes out whole. "
    "Pass fewer or shorter values to see all of them here."
)

# The description of the `truncation` field of a result that `fit_result` cuts.
ECHO_TRUNCATION_HELP = "set when this result is cut to fit the result cap, which never cuts the requests sent"

ResultT = TypeVar("ResultT", bound=BaseModel)


class Truncation(BaseModel):
    """Record of a cut result: how much was returned and how to request the rest."""

    total_chars: int
    returned_chars: int
    hint: str = Field(description="how to ask for the part that was left out")
    omitted: list[str] = Field(
        default_factory=list, description="each cut, e.g. 'response.predictions: kept 120 of 50000 items'"
    )


def tail_text(text: str, max_chars: int, hint: str) -> tuple[str, Truncation | None]:
    """Keep the last `max_chars` characters, starting at a line boundary when possible."""
    if len(text) <= max_chars:
        return text, None
    # text[-0:] is the whole text, so a budget of zero or less keeps nothing explicitly.
    kept = text[-max_chars:] if max_chars > 0 else ""
    newline = kept.find("\n")
    if 0 <= newline < max_chars // 10:
        kept = kept[newline + 1 :]
    return kept, Truncation(total_chars=len(text), returned_chars=len(kept), hint=hint)


def cut_text(text: str, max_chars: int) -> str:
    """Return `text`, or its first `max_chars` characters followed by a note of how much was cut."""
    if len(text) <= max_chars:
        return text
    return f"{text[:max_chars]} [cut: first {max_chars} of {len(text)} characters]"


def head_text(text: str, max_chars: int, hint: str) -> tuple[str, Truncation | None]:
    """Keep the first `max_chars` characters, ending at a line boundary when possible."""
    if len(text) <= max_chars:
        return text, None
    kept = text[:max_chars]
    newline = kept.rfind("\n")
    if newline > max_chars - max_chars // 10:
        kept = kept[:newline]
    return kept, Truncation(total_chars=len(text), returned_chars=len(kept), hint=hint)


def json_size(value: Any, depth: int = 0) -> int:
    """Characters of `value` as JSON indented by INDENT and nested `depth` levels deep.

    MCP servers send a structured tool result as such indented JSON in the text content, so
    the size caps are measured in this form.
    """
    text = json.dumps(value, indent=INDENT, ensure_ascii=False, default=str)
    return len(text) + text.count("\n") * INDENT * depth


def fit_json(value: Any, max_chars: int, hint: str, path: str = "$", depth: int = 0) -> tuple[Any, Truncation | None]:
    """Shrink `value` until `json_size(value, depth)` fits `max_chars`, cutting whole items only.

    Lists keep their first items, objects their smallest values, and long strings their head.
    The first item of a list and the first large value of an object are shrunk rather than
    dropped, so the shape stays visible. `path` names the root in the notes (JSONPath style).
    """
    total = json_size(value, depth)
    if total <= max_chars:
        return value, None
    budget = max_chars
    for _ in range(6):
        omitted: list[str] = []
        kept = _fit(value, budget, path, omitted, depth)
        returned = json_size(kept, depth)
        if returned <= max_chars:
            return kept, Truncation(total_chars=total, returned_chars=returned, hint=hint, omitted=omitted)
        budget -= returned - max_chars + max_chars // 20
    omitted = [f"{path}: dropped the whole value ({total} characters)"]
    return None, Truncation(total_chars=total, returned_chars=4, hint=hint, omitted=omitted)


def _fit(value: Any, budget: int, path: str, omitted: list[str], depth: int) -> Any:
    if json_size(value, depth) <= budget:
        return value
    if isinstance(value, list):
        return _fit_list(value, budget, path, omitted, depth)
    if isinstance(value, dict):
        return _fit_dict(value, budget, path, omitted, depth)
    if isinstance(value, str):
        # Quotes, backslashes and control characters take two or more characters once escaped.
        growth = json_size(value) / max(len(value), 1)
        keep = max(int((budget - 2 - SEPARATOR_CHARS) / growth), MIN_STRING_CUT)
        omitted.append(f"{path}: kept the first {keep} of {len(value)} characters")
        return value[:keep]
    return value


def _entry_overhead(depth: int) -> int:
    # A newline, the indent of the entry's line, and the comma after it.
    return 1 + INDENT * (depth + 1) + 1


def _fit_list(items: list[Any], budget: int, path: str, omitted: list[str], depth: int) -> list[Any]:
    kept: list[Any] = []
    used = 3 + INDENT * depth
    for index, item in enumerate(items):
        size = json_size(item, depth + 1) + _entry_overhead(depth)
        if used + size <= budget:
            kept.append(item)
            used += size
            continue
        if index == 0:
            remaining = budget - used - _entry_overhead(depth) - SEPARATOR_CHARS
            kept.append(_fit(item, remaining, f"{path}[0]", omitted, depth + 1))
        break
    if len(kept) < len(items):
        omitted.append(f"{path}: kept {len(kept)} of {len(items)} items")
    return kept


def _fit_dict(mapping: dict[str, Any], budget: int, path: str, omitted: list[str], depth: int) -> dict[str, Any]:
    # Small values are kept first, so one huge value cannot crowd out its siblings; the
    # output keeps the original key order.
    key_sizes = {key: json_size(key) + 2 + _entry_overhead(depth) for key in mapping}
    sizes = {key: key_sizes[key] + json_size(item, depth + 1) for key, item in mapping.items()}
    chosen: set[str] = set()
    used = 3 + INDENT * depth
    for key in sorted(mapping, key=lambda k: sizes[k]):
        if used + sizes[key] > budget:
            break
        chosen.add(key)
        used += sizes[key]
    shrunk: dict[str, Any] = {}
    for key in mapping:
        if key in chosen:
            continue
        remaining = budget - used - key_sizes[key] - SEPARATOR_CHARS
        if remaining >= 64:
            shrunk[key] = _fit(mapping[key], remaining, _child_path(path, key), omitted, depth + 1)
        break
    kept = {key: shrunk.get(key, mapping.get(key)) for key in mapping if key in chosen or key in shrunk}
    dropped = [key for key in mapping if key not in kept]
    if dropped:
        shown = ", ".join(_key_label(key) for key in dropped[:10]) + (", ..." if len(dropped) > 10 else "")
        omitted.append(f"{path}: dropped {len(dropped)} of {len(mapping)} keys ({shown})")
    return kept


def _child_path(path: str, key: str) -> str:
    label = _key_label(key)
    if label.isidentifier():
        return f"{path}.{label}"
    return f"{path}[{json.dumps(label)}]"


def _key_label(key: str) -> str:
    """Return `key` as a truncation note names it: keys can be whole input texts."""
    return key if len(key) <= MAX_KEY_LABEL_CHARS else key[: MAX_KEY_LABEL_CHARS - 3] + "..."


def fit_result(result: ResultT, max_chars: int, hint: str, parts: Sequence[str]) -> ResultT:
    """Cut the `parts` of `result` until its JSON fits `max_chars`, and list the cuts in `result.truncation`.

    A part is a dotted path into the result's JSON form, such as "request.body" or "requests.0.body".
    Parts smaller than an equal share of the room are kept whole and the larger ones split the rest,
    so one huge value cannot crowd out the others. Every part must stay valid for its model when cut:
    a string, or a list or object of any values. The other fields are never cut.
    """
    if "truncation" not in type(result).model_fields:
        raise TypeError(f"{type(result).__name__} has no truncation field")
    data = result.model_dump(mode="json")
    total = json_size(data)
    if total <= max_chars:
        return result
    slots = [slot for slot in (_Slot.find(data, path) for path in parts) if slot is not None]
    originals = [slot.take() for slot in slots]
    room = max_chars - json_size(data) - NOTE_MARGIN_CHARS
    for _ in range(6):
        omitted = _share_room(slots, originals, room, hint)
        data["truncation"] = Truncation(total_chars=total, returned_chars=0, hint=hint, omitted=omitted).model_dump()
        excess = _count_returned_chars(data) - max_chars
        if excess <= 0:
            break
        room -= excess + max_chars // 20
    return type(result).model_validate(data)


def _count_returned_chars(data: dict[str, Any]) -> int:
    """Set `data["truncation"]["returned_chars"]` to the size of `data`, which includes that number's digits."""
    note = data["truncation"]
    while note["returned_chars"] != json_size(data):
        note["returned_chars"] = json_size(data)
    return int(note["returned_chars"])


def _share_room(slots: list["_Slot"], values: list[Any], room: int, hint: str) -> list[str]:
    """Put each value back into its slot, cut to a fair share of `room`, and return the truncation notes."""
    omitted: list[str] = []
    order = sorted(range(len(slots)), key=lambda i: json_size(values[i], slots[i].depth))
    for position, index in enumerate(order):
        slot = slots[index]
        share = max(room, 0) // (len(order) - position)
        kept, cut = fit_json(values[index], share, hint, path=slot.path, depth=slot.depth)
        slot.put(kept if kept is not None else type(values[index])())
        if cut is not None:
            omitted.extend(cut.omitted)
        room -= json_size(slot.get(), slot.depth)
    return omitted


class _Slot:
    """One cuttable value inside a result's JSON form: its container, key and dotted path."""

    def __init__(self, container: Any, key: str | int, path: str) -> None:
        self.container = container
        self.key = key
        # The JSONPath form that truncation notes use: "requests[0].body".
        self.path = re.sub(r"\.(\d+)(?=\.|$)", r"[\1]", path)
        self.depth = path.count(".") + 1

    @classmethod
    def find(cls, data: dict[str, Any], path: str) -> "_Slot | None":
        """Return the slot at `path`, or None when the result has no string, list or object there."""
        container: Any = data
        steps = path.split(".")
        for step in steps[:-1]:
            container = _step(container, step)
        key: str | int = int(steps[-1]) if steps[-1].isdigit() else steps[-1]
        if not isinstance(_step(container, steps[-1]), str | list | dict):
            return None
        return cls(container, key, path)

    def get(self) -> Any:
        return self.container[self.key]

    def put(self, value: Any) -> None:
        self.container[self.key] = value

    def take(self) -> Any:
        """Return the value and leave an empty one of the same type in its place."""
        value = self.get()
        self.put(type(value)())
        return value


def _step(container: Any, step: str) -> Any:
    if isinstance(container, dict):
        return container.get(step)
    if isinstance(container, list) and step.isdigit() and int(step) < len(container):
        return container[int(step)]
    return None
