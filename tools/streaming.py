"""Join the Server-Sent Events of a streamed chat or completions response into one result.

Each event is a chunk such as `{"choices": [{"index": 0, "delta": {"content": "Hel"}}],
"usage": {...}}`. Databricks repeats `usage` in every chunk and puts `finish_reason` in the
last one. A stream that breaks or runs out of time after the first chunk still returns the
text received so far, with `complete=False` and the reason in `error`.
"""

import json
import logging
from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import Any

import anyio
from pydantic import BaseModel, Field

from tools.api.errors import TransportError
from tools.errors import failure

logger = logging.getLogger(__name__)


class StreamedToolCall(BaseModel):
    id: str | None = None
    name: str | None = None
    arguments: str = ""


class StreamOutcome(BaseModel):
    """The joined stream: final text, finish reason, usage, and whether the stream ended cleanly."""

    text: str = ""
    finish_reason: str | None = None
    usage: dict[str, Any] | None = None
    model: str | None = None
    id: str | None = None
    chunk_count: int = 0
    tool_calls: list[StreamedToolCall] = Field(default_factory=list)
    complete: bool = False
    error: str | None = Field(None, description="why the stream is incomplete (the text received so far is kept)")

    def status(self) -> "StreamStatus":
        return StreamStatus(complete=self.complete, error=self.error, chunk_count=self.chunk_count)


class StreamStatus(BaseModel):
    """Completion state of a stream. When it ended early, `error` gives the reason and the partial text is kept."""

    complete: bool
    error: str | None = None
    chunk_count: int


class _Accumulator:
    def __init__(self) -> None:
        self.outcome = StreamOutcome()
        self.tool_calls: dict[int, StreamedToolCall] = {}
        self.malformed = 0

    def add(self, data: str) -> None:
        try:
            chunk = json.loads(data)
        except json.JSONDecodeError:
            self.malformed += 1
            logger.warning("Skipped a stream event that is not JSON: %.200r", data)
            return
        if not isinstance(chunk, dict):
            self.malformed += 1
            return
        self.outcome.chunk_count += 1
        if chunk.get("error") is not None:
            self.outcome.error = f"the stream returned an error event: {json.dumps(chunk['error'])[:500]}"
        self.outcome.model = self.outcome.model or chunk.get("model")
        self.outcome.id = self.outcome.id or chunk.get("id")
        if isinstance(chunk.get("usage"), dict):
            self.outcome.usage = chunk["usage"]
        for choice in chunk.get("choices") or []:
            if isinstance(choice, dict) and choice.get("index", 0) == 0:
                self._add_choice(choice)

    def _add_choice(self, choice: dict[str, Any]) -> None:
        # `delta` in stream chunks; `message` when the endpoint ignored stream and sent one document.
        delta = choice.get("delta") or choice.get("message") or {}
        self.outcome.text += content_text(delta.get("content")) + content_text(choice.get("text"))
        for call in delta.get("tool_calls") or []:
            self._add_tool_call(call)
        if choice.get("finish_reason"):
            self.outcome.finish_reason = choice["finish_reason"]

    def _add_tool_call(self, call: dict[str, Any]) -> None:
        slot = self.tool_calls.setdefault(int(call.get("index", len(self.tool_calls))), StreamedToolCall())
        slot.id = slot.id or call.get("id")
        function = call.get("function") or {}
        slot.name = slot.name or function.get("name")
        slot.arguments += function.get("arguments") or ""

    def finish(self, error: str | None) -> StreamOutcome:
        outcome = self.outcome
        outcome.tool_calls = [self.tool_calls[i] for i in sorted(self.tool_calls)]
        if error is None and outcome.error is None and outcome.finish_reason is None:
            error = "the stream ended without a finish_reason, so the text may be incomplete"
        outcome.error = outcome.error or error
        if self.malformed:
            skipped = f"{self.malformed} event(s) were not JSON objects and were skipped"
            outcome.error = f"{outcome.error}; {skipped}" if outcome.error else skipped
        outcome.complete = outcome.error is None
        return outcome


def content_text(content: Any) -> str:
    """Text of a message `content`: a string, or a list of parts such as {"type": "text", "text": ...}."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            part.get("text") or "" for part in content if isinstance(part, dict) and part.get("type") == "text"
        )
    return ""


async def collect_stream(
    events: AsyncGenerator[str, None], timeout_seconds: float, *, deadline: float | None = None
) -> StreamOutcome:
    """Read `events` (SSE data fields) for at most `timeout_seconds`, or until `deadline`, and join them.

    With `deadline` (anyio time), which a caller passes when the time limit also covered earlier
    requests, `timeout_seconds` is the whole limit that the messages report. Errors before the
    first event propagate; later ones end the stream with `complete=False`.
    """
    accumulator = _Accumulator()
    error: str | None = None
    end = deadline if deadline is not None else anyio.current_time() + timeout_seconds
    with anyio.move_on_at(end) as scope:
        try:
            async with aclosing(events) as stream:
                async for data in stream:
                    accumulator.add(data)
        except TransportError as exc:
            if accumulator.outcome.chunk_count == 0:
                raise
            logger.warning("Stream broke after %d chunks: %s", accumulator.outcome.chunk_count, exc)
            error = f"the stream broke after {accumulator.outcome.chunk_count} chunk(s): {exc}"
    if scope.cancelled_caught:
        if accumulator.outcome.chunk_count == 0:
            raise failure(
                "CLIENT_TIMEOUT",
                f"The client side timed out after {timeout_seconds:g}s before the first streamed chunk arrived.",
                retryable=True,
                next_step="Retry with a larger timeout_seconds, or with stream=false.",
            )
        error = f"the client side timed out after {timeout_seconds:g}s while the stream was still running"
    return accumulator.finish(error)


def assembled_response(outcome: StreamOutcome, completions: bool) -> dict[str, Any]:
    """Build a non-streaming response body from the joined stream."""
    choice: dict[str, Any] = {"index": 0, "finish_reason": outcome.finish_reason}
    if completions:
        choice["text"] = outcome.text
    else:
        message: dict[str, Any] = {"role": "assistant", "content": outcome.text}
        if outcome.tool_calls:
            message["tool_calls"] = [
                {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": call.arguments}}
                for call in outcome.tool_calls
            ]
        choice["message"] = message
    return {
        "id": outcome.id,
        "object": "text_completion" if completions else "chat.completion",
        "model": outcome.model,
        "choices": [choice],
        "usage": outcome.usage,
    }
