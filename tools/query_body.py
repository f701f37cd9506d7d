"""Shape the invocation body that an endpoint's task expects.

Chat endpoints read `messages` and sampling parameters at the top level, embeddings read
`input`, completions read `prompt`, and custom MLflow models need exactly one of the four
input keys in CUSTOM_INPUT_KEYS (plus an optional `params` object). Common mistakes are
repaired and reported in `ShapedBody.notes`, for example a bare prompt sent to a chat
endpoint or chat fields wrapped in `inputs`. Anything ambiguous raises InvalidArgument
before a request is sent.
"""

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from tools.errors import InvalidArgument

TaskKind = Literal["chat", "agent_chat", "responses", "completions", "embeddings", "custom"]

CUSTOM_INPUT_KEYS = ("dataframe_split", "dataframe_records", "instances", "inputs")
CHAT_TASKS = frozenset({"llm/v1/chat", "agent/v1/chat"})
SPLIT_KEYS = frozenset({"columns", "data", "index"})
NOT_SET = object()


@dataclass
class QueryInputs:
    """The input arguments of query_endpoint, before shaping."""

    messages: Any = None
    prompt: Any = None
    input: Any = None
    dataframe_records: Any = None
    dataframe_split: Any = None
    instances: Any = None
    inputs: Any = None
    params: Any = None
    max_tokens: int | None = None
    temperature: float | None = None
    stream: bool = False
    extra: Any = None


@dataclass
class ShapedBody:
    body: dict[str, Any]
    # Each repair applied to the arguments, in words the caller can check.
    notes: list[str] = field(default_factory=list)


def task_kind(task: str | None) -> TaskKind:
    """Map an endpoint `task` (e.g. `llm/v1/chat`) to the body shape it needs."""
    if task in CHAT_TASKS:
        return "chat"
    if task == "agent/v2/chat":
        return "agent_chat"
    if task == "agent/v1/responses":
        return "responses"
    if task == "llm/v1/completions":
        return "completions"
    if task == "llm/v1/embeddings":
        return "embeddings"
    return "custom"


def build_body(kind: TaskKind, inputs: QueryInputs) -> ShapedBody:
    """Return the JSON body for an endpoint of `kind`, or raise InvalidArgument."""
    parsed = _parse_json_text(inputs)
    if kind == "chat":
        shaped = _chat_body(parsed)
    elif kind == "agent_chat":
        shaped = _agent_chat_body(parsed)
    elif kind == "responses":
        shaped = _responses_body(parsed)
    elif kind == "completions":
        shaped = _completions_body(parsed)
    elif kind == "embeddings":
        shaped = _embeddings_body(parsed)
    else:
        shaped = _custom_body(parsed)
    _check_stream_field(shaped, inputs.stream)
    return shaped


def _check_stream_field(shaped: ShapedBody, stream: bool) -> None:
    """Reject a `stream: true` that came in through extra, inputs or params without stream=true.

    The tool reads the response as one JSON document unless stream=true, so such a request would be
    sent (and billed) and its Server-Sent Events response would then fail to decode.
    """
    value = shaped.body.get("stream")
    if not stream and value not in (None, False):
        raise InvalidArgument(
            "stream",
            value,
            "a body field from extra, inputs or params asks for a streamed answer, but stream is false",
            "Pass stream=true to stream the answer, and leave stream out of extra, inputs and params.",
        )


def _parse_json_text(inputs: QueryInputs) -> QueryInputs:
    """Decode list and object arguments that a client sent as JSON text."""
    for name in ("messages", "dataframe_records", "dataframe_split", "instances", "params", "extra"):
        value = getattr(inputs, name)
        if isinstance(value, str):
            setattr(inputs, name, _decode(name, value))
    if isinstance(inputs.messages, list):
        inputs.messages = [
            _decode(f"messages[{i}]", m) if isinstance(m, str) else m for i, m in enumerate(inputs.messages)
        ]
    return inputs


def _decode(name: str, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidArgument(
            name,
            text,
            f"expected a JSON list or object, but the text is not valid JSON ({exc.msg})",
            "Pass the value as JSON.",
        ) from exc


# Chat, completions and responses bodies.


def _chat_body(inputs: QueryInputs) -> ShapedBody:
    shaped = ShapedBody(body=_extra_fields(inputs.extra, "chat"))
    _reject(inputs, ("input", "dataframe_records", "dataframe_split", "instances"), "messages", "chat")
    if isinstance(inputs.inputs, dict):
        _flatten(shaped, inputs.inputs, "inputs", "chat endpoints read messages and parameters at the top level")
    elif inputs.inputs is not None:
        raise _wrong_key("inputs", inputs.inputs, "messages", "chat")
    if inputs.params is not None:
        _flatten(shaped, _object("params", inputs.params), "params", "chat endpoints read parameters at the top level")
    messages = _one_of(
        shaped,
        {"messages": inputs.messages, "prompt": _prompt_as_messages(inputs.prompt)},
        target="messages",
    )
    if inputs.prompt is not None:
        shaped.notes.append(
            "Sent prompt as messages=[{role: user, content: prompt}] because the endpoint is a chat endpoint."
        )
    shaped.body["messages"] = _validate_messages(messages)
    _sampling(shaped, inputs)
    return shaped


def _agent_chat_body(inputs: QueryInputs) -> ShapedBody:
    _reject_any(
        inputs,
        ("max_tokens", "temperature", "params"),
        "agent/v2/chat endpoints take no sampling parameters",
        "Remove {name}; pass agent settings as extra={{'custom_inputs': {{...}}}}.",
    )
    return _chat_body(inputs)


def _responses_body(inputs: QueryInputs) -> ShapedBody:
    # NOTE: the agent/v1/responses body ({"input": [messages]}) follows MLflow's ResponsesAgent
    # request; no Databricks reference confirms which other fields such endpoints accept.
    shaped = ShapedBody(body=_extra_fields(inputs.extra, "responses"))
    _reject(inputs, ("dataframe_records", "dataframe_split", "instances", "inputs"), "input", "agent/v1/responses")
    value = _one_of(
        shaped,
        {"input": inputs.input, "messages": inputs.messages, "prompt": _prompt_as_messages(inputs.prompt)},
        target="input",
    )
    if inputs.messages is not None or inputs.prompt is not None:
        shaped.notes.append("Sent the conversation as input, the field agent/v1/responses endpoints read.")
    shaped.body["input"] = value
    if inputs.params is not None:
        _flatten(shaped, _object("params", inputs.params), "params", "agent endpoints read parameters at the top level")
    if inputs.max_tokens is not None:
        _put(shaped.body, "max_output_tokens", inputs.max_tokens, "max_tokens")
        shaped.notes.append("Sent max_tokens as max_output_tokens, the field agent/v1/responses endpoints read.")
        inputs.max_tokens = None
    _sampling(shaped, inputs)
    return shaped


def _completions_body(inputs: QueryInputs) -> ShapedBody:
    shaped = ShapedBody(body=_extra_fields(inputs.extra, "completions"))
    _reject(inputs, ("messages", "input", "dataframe_records", "dataframe_split", "instances"), "prompt", "completions")
    if isinstance(inputs.inputs, dict):
        _flatten(shaped, inputs.inputs, "inputs", "completions endpoints read prompt and parameters at the top level")
    elif inputs.inputs is not None:
        raise _wrong_key("inputs", inputs.inputs, "prompt", "completions")
    if inputs.params is not None:
        _flatten(
            shaped, _object("params", inputs.params), "params", "completions endpoints read parameters at the top level"
        )
    prompt = _one_of(shaped, {"prompt": inputs.prompt}, target="prompt")
    if not isinstance(prompt, str | list) or not prompt:
        raise InvalidArgument("prompt", prompt, "expected a non-empty string or list of strings", "Pass prompt='...'.")
    shaped.body["prompt"] = prompt
    _sampling(shaped, inputs)
    return shaped


def _embeddings_body(inputs: QueryInputs) -> ShapedBody:
    shaped = ShapedBody(body=_extra_fields(inputs.extra, "embeddings"))
    _reject(inputs, ("messages", "dataframe_records", "dataframe_split", "instances", "inputs"), "input", "embeddings")
    _reject_any(
        inputs,
        ("max_tokens", "temperature", "params"),
        "embeddings endpoints take no sampling parameters",
        "Remove {name}.",
    )
    value = _one_of(shaped, {"input": inputs.input, "prompt": inputs.prompt}, target="input")
    if inputs.prompt is not None:
        shaped.notes.append("Sent prompt as input, the field embeddings endpoints read.")
    if not isinstance(value, str | list) or not value:
        raise InvalidArgument("input", value, "expected a non-empty string or list of strings", "Pass input='text'.")
    shaped.body["input"] = value
    return shaped


def _sampling(shaped: ShapedBody, inputs: QueryInputs) -> None:
    if inputs.max_tokens is not None:
        _put(shaped.body, "max_tokens", inputs.max_tokens, "max_tokens")
    if inputs.temperature is not None:
        _put(shaped.body, "temperature", inputs.temperature, "temperature")
    if inputs.stream:
        shaped.body["stream"] = True


def _prompt_as_messages(prompt: Any) -> Any:
    if prompt is None:
        return None
    if isinstance(prompt, str):
        return [{"role": "user", "content": prompt}]
    if isinstance(prompt, list) and len(prompt) == 1 and isinstance(prompt[0], str):
        return [{"role": "user", "content": prompt[0]}]
    raise InvalidArgument(
        "prompt",
        prompt,
        "a chat endpoint takes one conversation, not a list of prompts",
        "Pass one prompt string, or messages.",
    )


def _validate_messages(messages: Any) -> list[dict[str, Any]]:
    fix = "Pass messages=[{'role': 'user', 'content': 'Hello'}]."
    if not isinstance(messages, list) or not messages:
        raise InvalidArgument("messages", messages, "expected a non-empty list of {role, content} objects", fix)
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            raise InvalidArgument(f"messages[{index}]", message, "each message needs a string 'role'", fix)
        if message["role"] == "system" and index != 0:
            raise InvalidArgument(
                f"messages[{index}]",
                message,
                "a system message may only come first",
                "Move the system message to the start.",
            )
    return messages


# Custom model bodies.


def _custom_body(inputs: QueryInputs) -> ShapedBody:
    shaped = ShapedBody(body={})
    extra = inputs.extra
    found: dict[str, Any] = {}
    if _is_bare_split(extra) or _is_row_list(extra):
        found[_wrap_key(extra)] = extra
        shaped.notes.append(f"Wrapped extra as {_wrap_key(extra)}, the key custom models read.")
    else:
        shaped.body = _extra_fields(extra, "custom")
        found.update({key: shaped.body.pop(key) for key in CUSTOM_INPUT_KEYS if key in shaped.body})
    for key in CUSTOM_INPUT_KEYS:
        value = getattr(inputs, key)
        if value is None:
            continue
        if key == "inputs" and (_is_bare_split(value) or _is_row_list(value)):
            key = _wrap_key(value)
            shaped.notes.append(f"Wrapped inputs as {key}, because it has the {key} shape.")
        if key in found:
            raise _several_inputs([*found, key])
        found[key] = value
    if len(found) > 1:
        raise _several_inputs(list(found))
    if not found:
        _custom_without_input_key(shaped, inputs)
        return shaped
    key, value = next(iter(found.items()))
    shaped.body[key] = _validate_custom_input(key, value)
    _custom_params(shaped, inputs)
    return shaped


def _custom_without_input_key(shaped: ShapedBody, inputs: QueryInputs) -> None:
    # A custom model whose task is unknown may still be a chat or embeddings model. So the
    # conversational fields pass through unchanged, and the server accepts or rejects them.
    passed = {
        name: getattr(inputs, name) for name in ("messages", "prompt", "input") if getattr(inputs, name) is not None
    }
    if not passed:
        raise InvalidArgument(
            "input",
            None,
            f"a custom model endpoint needs exactly one of {', '.join(CUSTOM_INPUT_KEYS)}, and none was given",
            "Pass dataframe_split={'columns': [...], 'data': [[...]]} or dataframe_records=[{...}]; "
            "get_open_api lists the columns the model expects.",
        )
    for name, value in passed.items():
        _put(shaped.body, name, value, name)
    _sampling(shaped, inputs)
    if inputs.params is not None:
        shaped.body["params"] = _object("params", inputs.params)


def _custom_params(shaped: ShapedBody, inputs: QueryInputs) -> None:
    _reject_any(
        inputs,
        ("messages", "prompt", "input"),
        "a custom model reads only its input key and params",
        "Remove {name}, or put it inside the model input.",
    )
    params = dict(_object("params", inputs.params)) if inputs.params is not None else {}
    params.update(_object("params", shaped.body.pop("params", {})))
    for name in ("max_tokens", "temperature"):
        value = getattr(inputs, name)
        if value is not None:
            params[name] = value
            shaped.notes.append(f"Sent {name} inside params, where MLflow models read inference parameters.")
    if params:
        shaped.body["params"] = params


def _validate_custom_input(key: str, value: Any) -> Any:
    if key == "dataframe_split":
        if not isinstance(value, dict) or not isinstance(value.get("data"), list):
            raise InvalidArgument(
                key,
                value,
                "expected an object with 'columns' and 'data' (a list of rows)",
                "Pass {'columns': ['a'], 'data': [[1]]}.",
            )
        unknown = sorted(set(value) - SPLIT_KEYS)
        if unknown:
            raise InvalidArgument(key, value, f"unknown keys {unknown}", "Use only columns, data and index.")
        return value
    if key == "dataframe_records":
        if not isinstance(value, list) or not value or not all(isinstance(row, dict) for row in value):
            raise InvalidArgument(key, value, "expected a non-empty list of row objects", "Pass [{'a': 1, 'b': 2.0}].")
        return value
    if value in ({}, [], "", None):
        raise InvalidArgument(key, value, "the model input is empty", "Pass at least one row or tensor value.")
    return value


def _is_bare_split(value: Any) -> bool:
    return isinstance(value, dict) and {"columns", "data"} <= set(value) and set(value) <= SPLIT_KEYS


def _is_row_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(row, dict) for row in value)


def _wrap_key(value: Any) -> str:
    return "dataframe_split" if isinstance(value, dict) else "dataframe_records"


def _several_inputs(keys: list[str]) -> InvalidArgument:
    return InvalidArgument(
        "input",
        keys,
        f"a custom model takes exactly one input key, but {len(keys)} were given ({', '.join(keys)})",
        f"Keep one of {', '.join(CUSTOM_INPUT_KEYS)}.",
    )


# Shared helpers.


def _extra_fields(extra: Any, kind: str) -> dict[str, Any]:
    if extra is None:
        return {}
    if isinstance(extra, dict):
        return dict(extra)
    if kind == "chat" and _is_row_list(extra) and all("role" in item for item in extra):
        return {"messages": extra}
    raise InvalidArgument(
        "extra", extra, "expected an object of additional top-level body fields", "Pass extra={'top_p': 0.9}."
    )


def _flatten(shaped: ShapedBody, fields: dict[str, Any], source: str, reason: str) -> None:
    for key, value in fields.items():
        _put(shaped.body, key, value, f"{source}.{key}")
    shaped.notes.append(f"Moved the fields of {source} ({', '.join(fields)}) to the top level, because {reason}.")


def _put(body: dict[str, Any], key: str, value: Any, source: str) -> None:
    existing = body.get(key, NOT_SET)
    if existing is not NOT_SET and existing != value:
        raise InvalidArgument(
            source, value, f"the body field {key!r} is already set to {existing!r}", f"Give {key} only once."
        )
    body[key] = value


def _one_of(shaped: ShapedBody, candidates: dict[str, Any], target: str) -> Any:
    """Pick the single sources source of `target`, including one already in the body."""
    sources = {name: value for name, value in candidates.items() if value is not None}
    if target in shaped.body:
        sources = {f"extra or inputs field {target}": shaped.body.pop(target), **sources}
    if len(sources) > 1:
        raise InvalidArgument(target, list(sources), f"{target} was given more than once", f"Pass {target} once.")
    if not sources:
        raise InvalidArgument(target, None, f"this endpoint needs {target}", f"Pass {target}.")
    return next(iter(sources.values()))


def _object(name: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidArgument(name, value, "expected an object", f"Pass {name} as a JSON object.")
    return value


def _reject(inputs: QueryInputs, names: tuple[str, ...], accepted: str, kind: str) -> None:
    for name in names:
        value = getattr(inputs, name)
        if value is not None:
            raise _wrong_key(name, value, accepted, kind)


def _reject_any(inputs: QueryInputs, names: tuple[str, ...], problem: str, fix: str) -> None:
    """Raise InvalidArgument for the first of `names` that is set. `fix` is a format string with a {name} field."""
    for name in names:
        value = getattr(inputs, name)
        if value is not None:
            raise InvalidArgument(name, value, problem, fix.format(name=name))


def _wrong_key(name: str, value: Any, accepted: str, kind: str) -> InvalidArgument:
    return InvalidArgument(
        name, value, f"{kind} endpoints do not read {name}", f"Pass the request as {accepted} instead."
    )
