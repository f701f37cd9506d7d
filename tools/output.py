"""Caps for large tool output, so every result fits a client's tool-output limit."""

from pydantic import BaseModel, Field


class Truncation(BaseModel):
    """Set when output was cut; says how much was kept and how to get the rest."""

    total_chars: int
    returned_chars: int
    hint: str = Field(description="how to ask for the part that was left out")


def tail_text(text: str, max_chars: int, hint: str) -> tuple[str, Truncation | None]:
    """Keep the last `max_chars` characters, starting at a line boundary when possible."""
    if len(text) <= max_chars:
        return text, None
    kept = text[-max_chars:]
    newline = kept.find("\n")
    if 0 <= newline < max_chars // 10:
        kept = kept[newline + 1 :]
    return kept, Truncation(total_chars=len(text), returned_chars=len(kept), hint=hint)


def head_text(text: str, max_chars: int, hint: str) -> tuple[str, Truncation | None]:
    """Keep the first `max_chars` characters, ending at a line boundary when possible."""
    if len(text) <= max_chars:
        return text, None
    kept = text[:max_chars]
    newline = kept.rfind("\n")
    if newline > max_chars - max_chars // 10:
        kept = kept[:newline]
    return kept, Truncation(total_chars=len(text), returned_chars=len(kept), hint=hint)
