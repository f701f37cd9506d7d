"""Server-sent event streams of chat and completions responses.

Each event is a `data: <json>` line followed by a blank line, and the stream ends with
`data: [DONE]`. A chunk carries one word of one choice and, as Databricks does, the usage so
far. A last chunk per choice carries its finish_reason. The endpoint's behaviour knobs add delays,
format variations and broken streams.
"""

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import httpx

from emulator.responders import LlmAnswer, count_tokens
from emulator.state import EndpointBehaviour

DONE_EVENT = b"data: [DONE]\n\n"
KEEP_ALIVE_LINE = b"\n"


class StreamInterrupted(httpx.RemoteProtocolError):
    """Raised inside a streamed body to drop the connection on purpose.

    Over a socket uvicorn closes the connection, so the client reads an incomplete chunked body and
    httpx raises RemoteProtocolError. In-process, httpx.ASGITransport re-raises this exception, which
    is a RemoteProtocolError too, so clients see the same exception type either way.
    """


def split_pieces(text: str) -> list[str]:
    """Split `text` into one piece per word, each keeping the space that follows it."""
    words = text.split(" ")
    pieces = [word + " " for word in words[:-1]] + [words[-1]]
    return [piece for piece in pieces if piece] or [""]


def build_chunks(answer: LlmAnswer) -> list[dict[str, Any]]:
    """Build the chunk objects of a streamed chat or completions answer, in sending order."""
    chat = answer.request.kind != "completions"
    chunks: list[dict[str, Any]] = []
    sent_tokens = 0
    for index, choice in enumerate(answer.choices):
        for position, piece in enumerate(split_pieces(choice.text)):
            sent_tokens += count_tokens(piece)
            if chat:
                delta = {"role": "assistant", "content": piece} if position == 0 else {"content": piece}
                body = {"index": index, "delta": delta, "finish_reason": None}
            else:
                body = {"index": index, "text": piece, "finish_reason": None, "logprobs": None}
            chunks.append(_chunk(answer, body, sent_tokens))
        if chat:
            last = {"index": index, "delta": {}, "finish_reason": choice.finish_reason}
        else:
            last = {"index": index, "text": "", "finish_reason": choice.finish_reason, "logprobs": None}
        chunks.append(_chunk(answer, last, sent_tokens))
    return chunks


def _chunk(answer: LlmAnswer, choice: dict[str, Any], completion_tokens: int) -> dict[str, Any]:
    # NOTE: the completions chunk shape (object "text_completion" with choices[].text) is assumed
    # from OpenAI's API. Databricks does not document it.
    chat = answer.request.kind != "completions"
    return {
        "id": answer.id,
        "object": "chat.completion.chunk" if chat else "text_completion",
        "created": answer.created_s,
        "model": answer.model,
        "choices": [choice],
        "usage": answer.usage(completion_tokens),
    }


def _event(chunk: dict[str, Any], *, space: bool = True) -> bytes:
    separator = " " if space else ""
    return f"data:{separator}{json.dumps(chunk, separators=(',', ':'))}\n\n".encode()


async def sse_events(
    chunks: list[dict[str, Any]], behaviour: EndpointBehaviour, on_end: Callable[[int], None]
) -> AsyncIterator[bytes]:
    """Yield the event stream of `chunks`, following the endpoint's streaming knobs.

    `on_end` gets the completion tokens sent, once, when the stream ends, breaks or the client leaves.
    """
    sent_tokens = 0
    try:
        for position, chunk in enumerate(chunks):
            if behaviour.stream_break_after_chunks is not None and position >= behaviour.stream_break_after_chunks:
                if behaviour.stream_break_mode == "disconnect":
                    raise StreamInterrupted(f"The emulator broke the stream after {position} chunks on purpose.")
                return
            yield _event(chunk, space=not (behaviour.stream_sse_variations and position == 1))
            if behaviour.stream_sse_variations and position == 0:
                yield KEEP_ALIVE_LINE
            sent_tokens = chunk["usage"].get("completion_tokens", 0)
            if behaviour.stream_chunk_delay_seconds > 0 and position < len(chunks) - 1:
                await anyio.sleep(behaviour.stream_chunk_delay_seconds)
        yield DONE_EVENT
    finally:
        on_end(sent_tokens)
