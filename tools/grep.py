"""The `grep` argument of get_logs: a case-insensitive regex run over up to megabytes of log lines.

Python's `re` backtracks, and it does not release the event loop while it matches one line. A
pattern such as `(a+)+$` takes exponential time on a line like `aaaa...a!` and would stall every
call the server is handling. So a pattern with a repeated group that itself contains an unbounded
repeat is rejected before it runs, and the scan over the lines yields to the event loop and stops
at a time limit.
"""

import re
import time
from dataclasses import dataclass

import anyio

from tools.errors import InvalidArgument

# Wall-clock seconds one grep may scan before it stops and reports how far it got.
GREP_BUDGET_SECONDS = 5.0
# Lines scanned between two checks of the time limit (and yields to the event loop).
LINES_PER_CHECK = 500
# Max length of a grep pattern. The result echoes the pattern, and a log search needs far less.
MAX_GREP_CHARS = 1_000
QUANTIFIER_BRACES = re.compile(r"\{(\d*)(,?)(\d*)\}")


@dataclass
class GrepOutcome:
    lines: list[str]
    scanned: int
    timed_out: bool


def compile_grep(grep: str) -> re.Pattern[str]:
    """Compile `grep` case-insensitively, or raise InvalidArgument for a bad or nested-repeat pattern."""
    try:
        pattern = re.compile(grep, re.IGNORECASE)
    except re.error as exc:
        raise InvalidArgument(
            "grep", grep, f"not a valid regular expression ({exc})", "Escape special characters."
        ) from exc
    nested = nested_repeat(grep)
    if nested is not None:
        raise InvalidArgument(
            "grep",
            grep,
            f"the group {nested!r} repeats a part that already repeats without bound, which can make matching "
            "take exponential time",
            r"Rewrite it without the nested repeat, for example [\d.]+ in place of (\d+\.)+, or search plain text.",
        )
    return pattern


async def grep_lines(lines: list[str], pattern: re.Pattern[str]) -> GrepOutcome:
    """Return the lines matching `pattern`, scanning for at most GREP_BUDGET_SECONDS."""
    deadline = time.monotonic() + GREP_BUDGET_SECONDS
    matched: list[str] = []
    for start in range(0, len(lines), LINES_PER_CHECK):
        if start and time.monotonic() > deadline:
            return GrepOutcome(matched, start, timed_out=True)
        matched.extend(line for line in lines[start : start + LINES_PER_CHECK] if pattern.search(line))
        await anyio.lowlevel.checkpoint()
    return GrepOutcome(matched, len(lines), timed_out=False)


def nested_repeat(pattern: str) -> str | None:
    """Return the first group such as `(a+)+` that repeats while containing an unbounded repeat, else None.

    The scan follows escapes and character classes. A repeat counts as unbounded for `*`, `+` and
    `{n,}`, and the outer repeat also counts for `{n,m}` with m of 2 or more.

    NOTE: overlapping alternatives under a repeat, such as `(a|a)*$`, also backtrack exponentially
    and pass this check; the time limit of grep_lines applies only between blocks of lines.
    """
    open_groups: list[list[int | bool]] = []
    closed: tuple[int, bool] | None = None
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            closed, index = None, index + 2
        elif char == "[":
            closed, index = None, _class_end(pattern, index)
        elif char == "(":
            open_groups.append([index, False])
            closed, index = None, index + 1
        elif char == ")":
            start, contains_repeat = open_groups.pop() if open_groups else (index, False)
            closed, index = (int(start), bool(contains_repeat)), index + 1
        else:
            unbounded, repeats, length = _quantifier(pattern, index)
            if repeats and closed is not None and closed[1]:
                return pattern[closed[0] : index + length]
            if unbounded:
                for group in open_groups:
                    group[1] = True
            closed, index = None, index + max(length, 1)
    return None


def _quantifier(pattern: str, index: int) -> tuple[bool, bool, int]:
    """Read a quantifier at `index`: (unbounded, repeats more than once, length), or (False, False, 0)."""
    char = pattern[index]
    if char in "*+":
        length = 1
        unbounded = repeats = True
    else:
        braces = QUANTIFIER_BRACES.match(pattern, index)
        if braces is None or not (braces.group(1) or braces.group(3)):
            return False, False, 0
        length = braces.end() - index
        unbounded = bool(braces.group(2)) and not braces.group(3)
        repeats = unbounded or int(braces.group(3) or braces.group(1)) >= 2
    # A lazy or possessive marker belongs to the quantifier.
    if index + length < len(pattern) and pattern[index + length] in "?+":
        length += 1
    return unbounded, repeats, length


def _class_end(pattern: str, index: int) -> int:
    """Return the index after the character class that starts at `index`."""
    position = index + 1
    if position < len(pattern) and pattern[position] == "^":
        position += 1
    if position < len(pattern) and pattern[position] == "]":
        position += 1
    while position < len(pattern) and pattern[position] != "]":
        position += 2 if pattern[position] == "\\" else 1
    return position + 1
