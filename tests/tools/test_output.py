import json
from typing import Any

import pydantic_core
import pytest
from pydantic import BaseModel, Field

from tools.output import Truncation, fit_json, fit_result, json_size, tail_text


def pretty_size(value: object) -> int:
    return len(pydantic_core.to_json(value, indent=2).decode())


def test_json_size_matches_mcp_text() -> None:
    value = {"predictions": [1, 2.5, "x"], "nested": {"a": [{"b": None}]}, "text": 'quote " and é'}
    assert json_size(value) == pretty_size(value)
    assert json_size(value, 1) == pretty_size({"k": value}) - len('{\n  "k": \n}')


def test_fit_json_small_value_untouched() -> None:
    value = {"predictions": [1, 2, 3]}
    kept, truncation = fit_json(value, 1_000, "hint")
    assert kept == value
    assert truncation is None


def test_fit_json_cuts_list_by_items() -> None:
    value = {"predictions": list(range(50_000)), "model": "m"}
    kept, truncation = fit_json(value, 2_000, "ask for fewer rows")
    assert json_size(kept) <= 2_000
    assert kept["model"] == "m"
    assert kept["predictions"] == list(range(len(kept["predictions"])))
    assert truncation is not None
    assert truncation.omitted == [f"$.predictions: kept {len(kept['predictions'])} of 50000 items"]
    assert truncation.total_chars == json_size(value)
    assert truncation.returned_chars == json_size(kept)
    assert truncation.hint == "ask for fewer rows"


def test_fit_json_keeps_small_siblings() -> None:
    value = {"outputs": [{"row": "x" * 200}] * 1_000, "usage": {"total_tokens": 5}, "id": "abc"}
    kept, truncation = fit_json(value, 3_000, "hint")
    assert kept["usage"] == {"total_tokens": 5}
    assert kept["id"] == "abc"
    assert 0 < len(kept["outputs"]) < 1_000
    assert truncation is not None


def test_fit_json_shrinks_first_item() -> None:
    value = [{"text": "y" * 100_000}, {"text": "z"}]
    kept, truncation = fit_json(value, 1_500, "hint")
    assert json_size(kept) <= 1_500
    assert len(kept) == 1
    assert kept[0]["text"].startswith("yyy")
    assert truncation is not None
    assert any(note.startswith("$[0].text: kept the first") for note in truncation.omitted)
    assert "$: kept 1 of 2 items" in truncation.omitted


def test_fit_json_respects_depth() -> None:
    value = {"rows": [[i, i + 1] for i in range(5_000)]}
    kept, _ = fit_json(value, 4_000, "hint", path="response", depth=1)
    wrapped = {"response": kept}
    assert pretty_size(wrapped) <= 4_000 + len('{\n  "response": \n}')


def test_fit_json_drops_object_keys() -> None:
    paths = {f"/served-models/m{i}/invocations": {"post": "y" * 3_000} for i in range(20)}
    kept, truncation = fit_json({"paths": paths}, 8_000, "hint")
    assert json_size(kept) <= 8_000
    assert truncation is not None
    dropped = [note for note in truncation.omitted if note.startswith("$.paths: dropped")]
    assert len(dropped) == 1
    assert "of 20 keys" in dropped[0]
    assert json.loads(json.dumps(kept)) == kept


def test_tail_text_keeps_last_lines() -> None:
    text = "\n".join(f"line {i}" for i in range(10_000))
    kept, truncation = tail_text(text, 1_000, "lower tail_lines")
    assert len(kept) <= 1_000
    assert kept.endswith("line 9999")
    assert kept.startswith("line ")
    assert truncation is not None
    assert truncation.total_chars == len(text)


class Echo(BaseModel):
    status: str
    body: dict[str, Any] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list)
    steps: list[str] = Field(default_factory=list)
    truncation: Truncation | None = None


def test_fit_result_keeps_small_parts_whole() -> None:
    body = {"tags": [f"tag-{i:05d}" for i in range(10_000)]}
    result = Echo(status="DRY_RUN", body=body, notes=["n" * 30_000], steps=["call wait_until_ready"])
    fitted = fit_result(result, 20_000, "hint", ["body", "notes", "steps"])
    assert fitted.status == "DRY_RUN"
    assert fitted.steps == ["call wait_until_ready"]
    assert fitted.body["tags"][0] == "tag-00000"
    assert 0 < len(fitted.body["tags"]) < 10_000
    assert "n" * 1_000 in fitted.notes[0]
    assert fitted.truncation is not None
    assert fitted.truncation.total_chars == json_size(result.model_dump(mode="json"))
    assert fitted.truncation.returned_chars == json_size(fitted.model_dump(mode="json"))
    assert fitted.truncation.returned_chars <= 20_000
    assert any(note.startswith("body.tags: kept") for note in fitted.truncation.omitted)
    assert any(note.startswith("notes[0]: kept the first") for note in fitted.truncation.omitted)


def test_fit_result_small_result_untouched() -> None:
    result = Echo(status="DRY_RUN", body={"name": "ep"})
    assert fit_result(result, 1_000, "hint", ["body"]) is result


def test_fit_result_needs_truncation_field() -> None:
    class Plain(BaseModel):
        body: str

    with pytest.raises(TypeError, match="truncation"):
        fit_result(Plain(body="x" * 5_000), 1_000, "hint", ["body"])
