"""Request bodies of the scoring routes: which fields each task accepts, and parsing them.

Foundation-model style tasks (chat, completions, embeddings, agents) parse into `LlmRequest`.
Custom MLflow models only get their top-level keys checked here (see emulator.model_inputs).
Every rejection is a 400 BAD_REQUEST that names the offending field and the accepted ones.
"""

from dataclasses import dataclass
from typing import Any, Literal

from emulator.errors import ApiError

TaskKind = Literal["chat", "completions", "embeddings", "responses", "agent_chat", "custom"]

TASK_KINDS: dict[str, TaskKind] = {
    "llm/v1/chat": "chat",
    "agent/v1/chat": "chat",
    "llm/v1/completions": "completions",
    "llm/v1/embeddings": "embeddings",
    "agent/v1/responses": "responses",
    "agent/v2/chat": "agent_chat",
}

# Fields every scoring request may carry, because usage and inference tables record them.
TRACKING_FIELDS = ("client_request_id", "usage_context")
SAMPLING_FIELDS = ("max_tokens", "temperature", "n", "stop", "stream", "extra_params", "top_p", "top_k", "seed")
# NOTE: the optional OpenAI-style fields Foundation Model endpoints accept are only partly documented.
# These lists contain the SDK's typed fields plus the common OpenAI ones, and anything else is rejected as unknown.
ACCEPTED_FIELDS: dict[TaskKind, tuple[str, ...]] = {
    "chat": (
        "messages",
        *SAMPLING_FIELDS,
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "response_format",
        "logprobs",
        "top_logprobs",
        "reasoning_effort",
        "stream_options",
        "presence_penalty",
        "frequency_penalty",
        "max_completion_tokens",
        "user",
        "model",
        *TRACKING_FIELDS,
    ),
    "completions": ("prompt", *SAMPLING_FIELDS, "logprobs", "stream_options", "user", "model", *TRACKING_FIELDS),
    "embeddings": ("input", "instruction", "extra_params", "encoding_format", "user", "model", *TRACKING_FIELDS),
    "responses": (
        "input",
        "instructions",
        "max_output_tokens",
        "temperature",
        "stream",
        "tools",
        "tool_choice",
        "custom_inputs",
        "context",
        "model",
        *TRACKING_FIELDS,
    ),
    "agent_chat": ("messages", "stream", "custom_inputs", "context", "model", *TRACKING_FIELDS),
    "custom": ("dataframe_split", "dataframe_records", "instances", "inputs", "params", *TRACKING_FIELDS),
}
REQUIRED_FIELD: dict[TaskKind, str] = {
    "chat": "messages",
    "completions": "prompt",
    "embeddings": "input",
    "responses": "input",
    "agent_chat": "messages",
}
MODEL_INPUT_KEYS = ("dataframe_split", "dataframe_records", "instances", "inputs")
ROLES = ("system", "developer", "user", "assistant", "tool")


def invalid(message: str) -> ApiError:
    return ApiError(400, "BAD_REQUEST", message)


@dataclass
class LlmRequest:
    """A chat, completions, embeddings or agent request, reduced to the parts the generated output uses.

    `texts` are the message contents (chat and agents), the prompts (completions) or the inputs
    (embeddings), in request order. `roles` has one role per text for conversations, else None.
    """

    kind: TaskKind
    texts: list[str]
    roles: list[str] | None
    max_tokens: int | None = None
    n: int = 1
    stop: tuple[str, ...] = ()
    stream: bool = False


def check_fields(body: dict[str, Any], kind: TaskKind, task: str | None) -> None:
    """Reject unknown top-level fields and a missing required field, naming the accepted ones."""
    accepted = ACCEPTED_FIELDS[kind]
    endpoint_words = f"a {task} endpoint" if task else "a custom model endpoint"
    unknown = sorted(set(body) - set(accepted))
    if kind == "custom":
        _check_model_input_keys(body, unknown)
        return
    required = REQUIRED_FIELD[kind]
    if unknown:
        hint = f" Send the input as top-level '{required}'." if "inputs" in unknown else ""
        raise invalid(
            f"Bad request: unknown field(s) {unknown} for {endpoint_words}. It requires '{required}' and also accepts "
            f"{[f for f in accepted if f != required]}.{hint}"
        )
    if required not in body:
        raise invalid(f"Bad request: missing required field '{required}' for {endpoint_words}.")


def _check_model_input_keys(body: dict[str, Any], unknown: list[str]) -> None:
    present_keys = [key for key in MODEL_INPUT_KEYS if key in body]
    if len(present_keys) != 1 or unknown:
        raise invalid(
            "Invalid input. The request body must contain exactly one of "
            f"{list(MODEL_INPUT_KEYS)}, optionally with 'params'. Received keys: {sorted(body)}."
        )


def parse_llm_request(body: dict[str, Any], kind: TaskKind, task: str | None) -> LlmRequest:
    """Validate the body of a chat, completions, embeddings or agent request and reduce it."""
    check_fields(body, kind, task)
    roles: list[str] | None
    if kind in ("chat", "agent_chat"):
        roles, texts = parse_messages(body["messages"], "messages")
    elif kind == "responses":
        roles, texts = _parse_responses_input(body["input"])
    else:
        roles, texts = None, _string_or_strings(body[REQUIRED_FIELD[kind]], REQUIRED_FIELD[kind])
    _check_temperature(body)
    max_tokens_field = "max_output_tokens" if kind == "responses" else "max_tokens"
    return LlmRequest(
        kind=kind,
        texts=texts,
        roles=roles,
        max_tokens=_optional_int(body, max_tokens_field, 1, None),
        n=_optional_int(body, "n", 1, 5) or 1,
        stop=_stop_sequences(body.get("stop")),
        stream=_optional_bool(body, "stream"),
    )


def parse_messages(raw: Any, where: str) -> tuple[list[str], list[str]]:
    """Return the roles and text contents of a chat `messages` list, enforcing the system-message rule."""
    if not isinstance(raw, list) or not raw:
        raise invalid(f"Bad request: '{where}' must be a non-empty list of {{role, content}} objects.")
    roles: list[str] = []
    texts: list[str] = []
    for i, message in enumerate(raw):
        if not isinstance(message, dict):
            raise invalid(f"Bad request: '{where}[{i}]' must be an object with 'role' and 'content'.")
        role = message.get("role")
        if role not in ROLES:
            raise invalid(f"Bad request: '{where}[{i}].role' is {role!r}. Use one of {list(ROLES)}.")
        if role == "system" and i != 0:
            raise invalid(
                f"Bad request: '{where}[{i}]' is a system message. The system message may appear only once, "
                "as the first message."
            )
        roles.append(role)
        texts.append(_content_text(message.get("content"), f"{where}[{i}].content", role))
    return roles, texts


def _content_text(content: Any, where: str, role: str) -> str:
    """Join the text of a string content or of a list of content parts. Parts other than text add nothing."""
    if isinstance(content, str):
        return content
    if content is None and role in ("assistant", "tool"):
        return ""
    if isinstance(content, list):
        parts = [p.get("text", "") for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)]
        return " ".join(parts)
    raise invalid(f"Bad request: '{where}' must be a string or a list of content parts, got {content!r}.")


def _parse_responses_input(raw: Any) -> tuple[list[str], list[str]]:
    if isinstance(raw, str):
        return ["user"], [raw]
    return parse_messages(raw, "input")


def _string_or_strings(raw: Any, name: str) -> list[str]:
    if isinstance(raw, str):
        return [raw]
    if isinstance(raw, list) and raw and all(isinstance(item, str) for item in raw):
        return list(raw)
    raise invalid(f"Bad request: '{name}' must be a string or a non-empty list of strings, got {raw!r}.")


def _optional_int(body: dict[str, Any], name: str, minimum: int, maximum: int | None) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    in_range = isinstance(value, int) and not isinstance(value, bool) and value >= minimum
    if not in_range or (maximum is not None and value > maximum):
        upper = f" and at most {maximum}" if maximum is not None else ""
        raise invalid(f"Bad request: '{name}' must be an integer of at least {minimum}{upper}, got {value!r}.")
    return int(value)


def _optional_bool(body: dict[str, Any], name: str) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise invalid(f"Bad request: '{name}' must be true or false, got {value!r}.")
    return value


def _check_temperature(body: dict[str, Any]) -> None:
    value = body.get("temperature")
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 2.0:
        raise invalid(f"Bad request: 'temperature' must be a number from 0.0 to 2.0, got {value!r}.")


def _stop_sequences(raw: Any) -> tuple[str, ...]:
    if raw is None:
        return ()
    if isinstance(raw, str):
        return (raw,)
    if isinstance(raw, list) and all(isinstance(item, str) for item in raw):
        return tuple(raw)
    raise invalid(f"Bad request: 'stop' must be a string or a list of strings, got {raw!r}.")
