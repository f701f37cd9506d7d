"""Recognise the shape of an invocation response and summarise it for the model.

Custom models return `predictions` or `outputs` (or a bare list), chat and completions
return `choices`, embeddings return `data`, and agents return `output` items or `messages`.
The summary goes next to the response. The response itself is passed on unchanged, except
that embedding vectors are shortened unless the caller asks for whole vectors.
"""

from typing import Any, Literal

from pydantic import BaseModel, Field

from tools.streaming import content_text

ResponseKind = Literal[
    "chat", "completions", "embeddings", "predictions", "outputs", "responses", "messages", "list", "empty", "other"
]
# Values of each embedding vector kept when the caller did not ask for whole vectors.
EMBEDDING_PREVIEW_VALUES = 5


class ResponseSummary(BaseModel):
    """Recognised content of a response; kind `other` marks a shape that was not recognised."""

    kind: ResponseKind
    text: str | None = Field(None, description="assistant or completion text of the first choice")
    finish_reason: str | None = None
    usage: dict[str, Any] | None = None
    tool_calls: list[str] = Field(default_factory=list, description="names of the functions the model called")
    embedding_count: int | None = None
    embedding_dimension: int | None = None
    item_count: int | None = Field(None, description="number of predictions, outputs or list items")


def summarise_response(body: Any) -> ResponseSummary:
    if body is None:
        return ResponseSummary(kind="empty")
    if isinstance(body, list):
        return ResponseSummary(kind="list", item_count=len(body))
    if not isinstance(body, dict):
        return ResponseSummary(kind="other")
    if isinstance(body.get("choices"), list):
        return _choices_summary(body)
    if _embedding_items(body):
        return _embeddings_summary(body)
    if "predictions" in body:
        return _predictions_summary(body["predictions"])
    if "outputs" in body:
        outputs = body["outputs"]
        return ResponseSummary(kind="outputs", item_count=len(outputs) if isinstance(outputs, list) else None)
    if isinstance(body.get("output"), list):
        return _responses_summary(body["output"], body.get("usage"))
    if isinstance(body.get("messages"), list):
        return _messages_summary(body["messages"])
    return ResponseSummary(kind="other")


def shorten_embeddings(body: Any) -> tuple[Any, str | None]:
    """Return `body` with each embedding vector cut to its first values, and a note about the cut (or None)."""
    items = _embedding_items(body)
    if not items or all(len(item["embedding"]) <= EMBEDDING_PREVIEW_VALUES for item in items):
        return body, None
    shortened = dict(body)
    shortened["data"] = [
        {**item, "embedding": item["embedding"][:EMBEDDING_PREVIEW_VALUES]} if _is_vector_item(item) else item
        for item in body["data"]
    ]
    dimension = len(items[0]["embedding"])
    note = (
        f"Each embedding vector shows its first {EMBEDDING_PREVIEW_VALUES} of {dimension} values; "
        "pass include_embeddings=true for whole vectors."
    )
    return shortened, note


def _choices_summary(body: dict[str, Any]) -> ResponseSummary:
    choices = body["choices"]
    first = choices[0] if choices and isinstance(choices[0], dict) else {}
    message = first.get("message") if isinstance(first.get("message"), dict) else None
    if message is not None:
        calls = [
            str((call.get("function") or {}).get("name"))
            for call in message.get("tool_calls") or []
            if isinstance(call, dict)
        ]
        return ResponseSummary(
            kind="chat",
            text=content_text(message.get("content")),
            finish_reason=first.get("finish_reason"),
            usage=_usage(body),
            tool_calls=calls,
        )
    return ResponseSummary(
        kind="completions",
        text=first.get("text") if isinstance(first.get("text"), str) else None,
        finish_reason=first.get("finish_reason"),
        usage=_usage(body),
    )


def _embeddings_summary(body: dict[str, Any]) -> ResponseSummary:
    items = _embedding_items(body)
    first = items[0]["embedding"]
    return ResponseSummary(
        kind="embeddings",
        embedding_count=len(body["data"]),
        embedding_dimension=len(first) if isinstance(first, list) else None,
        usage=_usage(body),
    )


def _predictions_summary(predictions: Any) -> ResponseSummary:
    summary = ResponseSummary(
        kind="predictions", item_count=len(predictions) if isinstance(predictions, list) else None
    )
    # Older Databricks LLM models return {"predictions": [{"candidates": [{"text": ...}]}]}.
    if isinstance(predictions, list) and predictions and isinstance(predictions[0], dict):
        candidates = predictions[0].get("candidates")
        if isinstance(candidates, list) and candidates and isinstance(candidates[0], dict):
            summary.text = candidates[0].get("text")
    return summary


def _responses_summary(output: list[Any], usage: Any) -> ResponseSummary:
    texts = []
    for item in output:
        if isinstance(item, dict) and item.get("type") == "message":
            for part in item.get("content") or []:
                if isinstance(part, dict) and part.get("type") in ("output_text", "text"):
                    texts.append(str(part.get("text") or ""))
    return ResponseSummary(
        kind="responses",
        text="".join(texts) or None,
        usage=usage if isinstance(usage, dict) else None,
        item_count=len(output),
    )


def _messages_summary(messages: list[Any]) -> ResponseSummary:
    replies = [m for m in messages if isinstance(m, dict) and m.get("role") == "assistant"]
    text = content_text(replies[-1].get("content")) if replies else None
    return ResponseSummary(kind="messages", text=text, item_count=len(messages))


def _embedding_items(body: Any) -> list[dict[str, Any]]:
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        return []
    return [item for item in body["data"] if _is_vector_item(item)]


def _is_vector_item(item: Any) -> bool:
    return isinstance(item, dict) and isinstance(item.get("embedding"), list)


def _usage(body: dict[str, Any]) -> dict[str, Any] | None:
    usage = body.get("usage")
    return usage if isinstance(usage, dict) else None
