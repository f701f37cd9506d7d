from typing import Any

import pytest

from tools.errors import InvalidArgument
from tools.query_body import QueryInputs, build_body, task_kind

HELLO = [{"role": "user", "content": "Hello"}]
SPLIT = {"columns": ["x"], "data": [[1]]}


def shape(task: str | None, **fields: Any) -> tuple[dict[str, Any], list[str]]:
    shaped = build_body(task_kind(task), QueryInputs(**fields))
    return shaped.body, shaped.notes


def rejected(task: str | None, **fields: Any) -> InvalidArgument:
    with pytest.raises(InvalidArgument) as info:
        build_body(task_kind(task), QueryInputs(**fields))
    return info.value


@pytest.mark.parametrize(
    ("task", "kind"),
    [
        ("llm/v1/chat", "chat"),
        ("agent/v1/chat", "chat"),
        ("agent/v2/chat", "agent_chat"),
        ("agent/v1/responses", "responses"),
        ("llm/v1/completions", "completions"),
        ("llm/v1/embeddings", "embeddings"),
        (None, "custom"),
        ("something/else", "custom"),
    ],
)
def test_task_kind_table(task: str | None, kind: str) -> None:
    assert task_kind(task) == kind


def test_chat_messages_top_level() -> None:
    body, notes = shape("llm/v1/chat", messages=HELLO, max_tokens=64, temperature=0.2)
    assert body == {"messages": HELLO, "max_tokens": 64, "temperature": 0.2}
    assert notes == []


def test_chat_prompt_becomes_message() -> None:
    body, notes = shape("llm/v1/chat", prompt="Hello")
    assert body == {"messages": HELLO}
    assert len(notes) == 1
    assert "prompt as messages" in notes[0]


def test_chat_inputs_flattened() -> None:
    body, notes = shape("llm/v1/chat", inputs={"messages": HELLO, "temperature": 0.3})
    assert body == {"messages": HELLO, "temperature": 0.3}
    assert "Moved the fields of inputs (messages, temperature)" in notes[0]


def test_chat_params_flattened() -> None:
    body, _ = shape("llm/v1/chat", messages=HELLO, params={"top_p": 0.5})
    assert body == {"messages": HELLO, "top_p": 0.5}


def test_chat_extra_fields_merged() -> None:
    tools = [{"type": "function", "function": {"name": "f", "parameters": {}}}]
    body, _ = shape("llm/v1/chat", messages=HELLO, extra={"tools": tools, "n": 2}, stream=True)
    assert body == {"messages": HELLO, "tools": tools, "n": 2, "stream": True}


def test_chat_messages_as_json_text() -> None:
    body, _ = shape("llm/v1/chat", messages='[{"role": "user", "content": "Hello"}]')
    assert body == {"messages": HELLO}
    body, _ = shape("llm/v1/chat", messages=['{"role": "user", "content": "Hello"}'])
    assert body == {"messages": HELLO}


def test_chat_invalid_json_text_named() -> None:
    error = rejected("llm/v1/chat", messages="[{role: user}")
    assert error.field == "messages"
    assert "not valid JSON" in str(error)


def test_chat_messages_and_prompt_rejected() -> None:
    error = rejected("llm/v1/chat", messages=HELLO, prompt="Hello")
    assert error.field == "messages"
    assert "more than once" in str(error)


def test_chat_conflicting_field_rejected() -> None:
    error = rejected("llm/v1/chat", messages=HELLO, temperature=0.2, extra={"temperature": 0.9})
    assert error.field == "temperature"
    assert "already set to 0.9" in str(error)


def test_chat_without_messages_rejected() -> None:
    error = rejected("llm/v1/chat", max_tokens=5)
    assert error.field == "messages"
    assert "needs messages" in str(error)


@pytest.mark.parametrize("field", ["input", "dataframe_records", "dataframe_split", "instances"])
def test_chat_foreign_input_names_messages(field: str) -> None:
    value: Any = {"input": "x", "dataframe_records": [{"a": 1}], "dataframe_split": SPLIT, "instances": [1]}[field]
    error = rejected("llm/v1/chat", **{field: value})
    assert error.field == field
    assert "Pass the request as messages instead." in str(error)


def test_chat_system_message_only_first() -> None:
    messages = [{"role": "user", "content": "a"}, {"role": "system", "content": "b"}]
    error = rejected("llm/v1/chat", messages=messages)
    assert error.field == "messages[1]"


def test_chat_message_without_role_rejected() -> None:
    error = rejected("llm/v1/chat", messages=[{"content": "a"}])
    assert error.field == "messages[0]"


def test_chat_prompt_list_rejected() -> None:
    error = rejected("llm/v1/chat", prompt=["a", "b"])
    assert error.field == "prompt"


def test_agent_chat_rejects_sampling() -> None:
    error = rejected("agent/v2/chat", messages=HELLO, temperature=0.1)
    assert error.field == "temperature"
    assert error.fix == "Remove temperature; pass agent settings as extra={'custom_inputs': {...}}."
    body, _ = shape("agent/v2/chat", messages=HELLO, extra={"custom_inputs": {"k": 1}})
    assert body == {"messages": HELLO, "custom_inputs": {"k": 1}}


def test_responses_prompt_as_input() -> None:
    body, notes = shape("agent/v1/responses", prompt="Hello", max_tokens=10)
    assert body == {"input": HELLO, "max_output_tokens": 10}
    assert len(notes) == 2


def test_completions_prompt() -> None:
    body, _ = shape("llm/v1/completions", prompt=["a", "b"], max_tokens=3)
    assert body == {"prompt": ["a", "b"], "max_tokens": 3}
    error = rejected("llm/v1/completions", messages=HELLO)
    assert "Pass the request as prompt instead." in str(error)


def test_embeddings_input_and_prompt() -> None:
    body, _ = shape("llm/v1/embeddings", input=["a", "b"])
    assert body == {"input": ["a", "b"]}
    body, notes = shape("llm/v1/embeddings", prompt="a")
    assert body == {"input": "a"}
    assert "prompt as input" in notes[0]


def test_embeddings_reject_sampling() -> None:
    error = rejected("llm/v1/embeddings", input="a", temperature=0.5)
    assert error.field == "temperature"
    assert error.problem == "embeddings endpoints take no sampling parameters"
    assert error.fix == "Remove temperature."


def test_custom_rejects_prompt_with_input() -> None:
    error = rejected(None, dataframe_split=SPLIT, prompt="Hello")
    assert error.field == "prompt"
    assert error.problem == "a custom model reads only its input key and params"
    assert error.fix == "Remove prompt, or put it inside the model input."


def test_custom_split_sent_as_is() -> None:
    body, notes = shape(None, dataframe_split=SPLIT)
    assert body == {"dataframe_split": SPLIT}
    assert notes == []


def test_custom_bare_split_in_extra_wrapped() -> None:
    body, notes = shape(None, extra=SPLIT)
    assert body == {"dataframe_split": SPLIT}
    assert "Wrapped extra as dataframe_split" in notes[0]


def test_custom_row_list_in_inputs_wrapped() -> None:
    rows = [{"x": 1}, {"x": 2}]
    body, notes = shape(None, inputs=rows)
    assert body == {"dataframe_records": rows}
    assert "Wrapped inputs as dataframe_records" in notes[0]


def test_custom_row_list_in_extra_wrapped() -> None:
    rows = [{"x": 1}]
    body, notes = shape(None, extra=rows, params={"k": 1})
    assert body == {"dataframe_records": rows, "params": {"k": 1}}
    assert "Wrapped extra as dataframe_records" in notes[0]


def test_extra_list_rejected_for_embeddings() -> None:
    error = rejected("llm/v1/embeddings", input="a", extra=[{"x": 1}])
    assert error.field == "extra"


def test_custom_tensor_inputs_kept() -> None:
    body, _ = shape(None, inputs={"t1": ["a"], "t2": [[1, 2]]})
    assert body == {"inputs": {"t1": ["a"], "t2": [[1, 2]]}}


def test_custom_two_input_keys_rejected() -> None:
    error = rejected(None, dataframe_split=SPLIT, instances=[1])
    assert "exactly one input key, but 2 were given" in str(error)
    for key in ("dataframe_split", "dataframe_records", "instances", "inputs"):
        assert key in error.fix


def test_custom_key_in_extra_counts() -> None:
    error = rejected(None, dataframe_split=SPLIT, extra={"dataframe_records": [{"x": 1}]})
    assert "2 were given" in str(error)


def test_custom_no_input_rejected() -> None:
    error = rejected(None, params={"k": 1})
    assert "needs exactly one of dataframe_split, dataframe_records, instances, inputs" in str(error)


def test_custom_sampling_moved_to_params() -> None:
    body, notes = shape(None, dataframe_records=[{"x": 1}], params={"k": 1}, max_tokens=9)
    assert body == {"dataframe_records": [{"x": 1}], "params": {"k": 1, "max_tokens": 9}}
    assert "inside params" in notes[0]


def test_custom_empty_inputs_rejected() -> None:
    error = rejected(None, inputs={})
    assert error.field == "inputs"
    assert "empty" in str(error)


def test_custom_bad_split_rejected() -> None:
    error = rejected(None, dataframe_split={"columns": ["x"], "rows": [[1]]})
    assert error.field == "dataframe_split"


def test_custom_split_as_json_text() -> None:
    body, _ = shape(None, dataframe_split='{"columns": ["x"], "data": [[1]]}')
    assert body == {"dataframe_split": SPLIT}


def test_custom_unknown_task_passes_messages() -> None:
    body, _ = shape(None, messages=HELLO)
    assert body == {"messages": HELLO}
