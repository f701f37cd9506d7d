"""ASGI helpers for middleware that reads the request body before the route does."""

from starlette.types import Message, Receive


async def read_body(receive: Receive) -> bytes:
    """Read the whole request body from `receive`."""
    chunks: list[bytes] = []
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks)


def replay_body(body: bytes, receive_next: Receive) -> Receive:
    """Build a `receive` that delivers the already-read body once, then the server's own messages.

    Streaming responses need the server's messages: Starlette waits on `receive` for the client's
    disconnect and stops the stream when it arrives, so a made-up disconnect would cut every stream.
    """
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive_next()

    return receive
