"""When to stop reading a streamed completion: the cheapest token is the one never generated.

Single-line requests stop at the first line break: post-processing keeps only the first line,
so once one has ended (even empty, which yields no suggestion) nothing later can change the
answer. Multi-line requests stop when a finished line dedents below the cursor's block (the
model has left the block it was asked to fill) or after a line cap. Post-processing trims the
text exactly; this only bounds the wait.
"""

from __future__ import annotations

from collections.abc import Callable

MAX_LINES = 24


def _indent_width(line: str, tab_width: int = 4) -> int:
    width = 0
    for char in line:
        if char == " ":
            width += 1
        elif char == "\t":
            width += tab_width
        else:
            break
    return width


def stop_rule(multiline: bool, cursor_line_prefix: str, stop_tokens: tuple[str, ...] = ()) -> Callable[[str], bool]:
    """A predicate over the text streamed so far: True once reading further cannot change the answer."""
    base = _indent_width(cursor_line_prefix)

    def should_stop(text: str) -> bool:
        if any(token in text for token in stop_tokens):
            return True
        if not multiline:
            return "\n" in text
        lines = text.split("\n")
        finished = lines[1:-1]  # the first line continues the cursor line; the last may be partial
        if len(lines) > MAX_LINES:
            return True
        return any(line.strip() and _indent_width(line) < base for line in finished)

    return should_stop
