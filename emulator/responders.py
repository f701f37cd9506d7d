"""Deterministic responses to chat, completions, embeddings and agent requests.

The "model" replies with a fixed sentence that names the served entity and repeats the last user
message, so tests can predict every response. A token is a whitespace-separated word: `max_tokens`
cuts the reply after that many words, with finish_reason "length".
"""

import hashlib
import math
import random
import secrets
from dataclasses import dataclass, field
from typing import Any, Literal

from emulator.query_formats import LlmRequest

EMBEDDING_DIMENSIONS = 1024
FinishReason = Literal["stop", "length"]


def count_tokens(text: str) -> int:
    return len(text.split())


@dataclass
class GeneratedText:
    """One generated choice: its text and why generation stopped."""

    text: str
    finish_reason: FinishReason

    @property
    def completion_tokens(self) -> int:
        return count_tokens(self.text)


@dataclass
class LlmAnswer:
    """The model output for one request, before it is shaped into a response body or stream."""

    request: LlmRequest
    model: str
    id: str
    created_s: int
    prompt_tokens: int
    choices: list[GeneratedText] = field(default_factory=list)
    embeddings: list[list[float]] = field(default_factory=list)

    @property
    def completion_tokens(self) -> int:
        return sum(choice.completion_tokens for choice in self.choices)

    def usage(self, completion_tokens: int | None = None) -> dict[str, int]:
        """Build the `usage` object. Streams pass the completion tokens sent so far."""
        completion = self.completion_tokens if completion_tokens is None else completion_tokens
        if self.request.kind == "embeddings":
            return {"prompt_tokens": self.prompt_tokens, "total_tokens": self.prompt_tokens}
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": completion,
            "total_tokens": self.prompt_tokens + completion,
        }


def generate(request: LlmRequest, model: str, created_s: int) -> LlmAnswer:
    """Generate the output for `request` from the served entity named `model`."""
    prefix = {"embeddings": "emb", "responses": "resp", "completions": "cmpl"}.get(request.kind, "chatcmpl")
    answer = LlmAnswer(
        request=request,
        model=model,
        id=f"{prefix}-{secrets.token_hex(12)}",
        created_s=created_s,
        prompt_tokens=sum(count_tokens(text) for text in request.texts),
    )
    if request.kind == "embeddings":
        normalized = "gte" not in model.lower()
        answer.embeddings = [embedding_vector(text, normalized=normalized) for text in request.texts]
    elif request.kind == "completions":
        for prompt in request.texts:
            text = f"Continuation by {model} of: {prompt}"
            answer.choices += [limit_text(text, request) for _ in range(request.n)]
    else:
        text = f"Reply from {model}: {last_user_text(request)}"
        answer.choices = [limit_text(text, request) for _ in range(request.n)]
    return answer


def last_user_text(request: LlmRequest) -> str:
    roles = request.roles or ["user"] * len(request.texts)
    user_texts = [text for role, text in zip(roles, request.texts, strict=True) if role == "user"]
    return (user_texts or request.texts)[-1]


def limit_text(text: str, request: LlmRequest) -> GeneratedText:
    """Cut `text` at the first stop sequence, then after `max_tokens` words."""
    for stop in request.stop:
        if stop and stop in text:
            text = text[: text.index(stop)]
    words = text.split(" ")
    if request.max_tokens is not None and count_tokens(text) > request.max_tokens:
        kept_words = [word for word in words if word][: request.max_tokens]
        return GeneratedText(" ".join(kept_words), "length")
    return GeneratedText(text, "stop")


def embedding_vector(text: str, *, normalized: bool) -> list[float]:
    """Build a 1024-dim vector seeded by the SHA-256 of `text`, so equal texts get equal vectors."""
    seed = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")
    rng = random.Random(seed)
    values = [rng.gauss(0.0, 1.0) for _ in range(EMBEDDING_DIMENSIONS)]
    if normalized:
        norm = math.sqrt(sum(v * v for v in values))
        values = [v / norm for v in values]
    return [round(v, 6) for v in values]


def render_answer(answer: LlmAnswer) -> dict[str, Any]:
    """Build the JSON body of a non-streamed answer, in the shape of the request's task."""
    kind = answer.request.kind
    if kind == "embeddings":
        return _render_embeddings(answer)
    if kind == "completions":
        return _render_completions(answer)
    if kind == "responses":
        return _render_responses(answer)
    if kind == "agent_chat":
        return _render_agent_chat(answer)
    return _render_chat(answer)


def _render_chat(answer: LlmAnswer) -> dict[str, Any]:
    choices = [
        {
            "index": i,
            "message": {"role": "assistant", "content": choice.text},
            "finish_reason": choice.finish_reason,
            "logprobs": None,
        }
        for i, choice in enumerate(answer.choices)
    ]
    return {
        "id": answer.id,
        "object": "chat.completion",
        "created": answer.created_s,
        "model": answer.model,
        "choices": choices,
        "usage": answer.usage(),
    }


def _render_completions(answer: LlmAnswer) -> dict[str, Any]:
    choices = [
        {"index": i, "text": choice.text, "finish_reason": choice.finish_reason, "logprobs": None}
        for i, choice in enumerate(answer.choices)
    ]
    return {
        "id": answer.id,
        "object": "text_completion",
        "created": answer.created_s,
        "model": answer.model,
        "choices": choices,
        "usage": answer.usage(),
    }


def _render_embeddings(answer: LlmAnswer) -> dict[str, Any]:
    data = [{"object": "embedding", "index": i, "embedding": vector} for i, vector in enumerate(answer.embeddings)]
    return {"id": answer.id, "object": "list", "model": answer.model, "data": data, "usage": answer.usage()}


# NOTE: the agent shapes below follow MLflow's ResponsesAgent and ChatAgent payloads. Whether Databricks
# adds fields to them is not confirmed.
def _render_responses(answer: LlmAnswer) -> dict[str, Any]:
    choice = answer.choices[0]
    usage = answer.usage()
    return {
        "id": answer.id,
        "object": "response",
        "created_at": answer.created_s,
        "model": answer.model,
        "status": "completed" if choice.finish_reason == "stop" else "incomplete",
        "output": [
            {
                "type": "message",
                "id": f"msg_{secrets.token_hex(8)}",
                "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_text", "text": choice.text, "annotations": []}],
            }
        ],
        "usage": {
            "input_tokens": usage["prompt_tokens"],
            "output_tokens": usage["completion_tokens"],
            "total_tokens": usage["total_tokens"],
        },
    }


def _render_agent_chat(answer: LlmAnswer) -> dict[str, Any]:
    messages = [
        {"role": "assistant", "content": choice.text, "id": f"msg_{secrets.token_hex(8)}"} for choice in answer.choices
    ]
    return {"messages": messages}
