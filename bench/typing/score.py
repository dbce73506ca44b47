"""Is a suggestion right? Pure functions over the original, the span being typed and the result.

A suggestion is exact when accepting it leaves the buffer a version of the original with only the
tail of the span missing, and it puts back at least the rest of the current line (from the cursor
to the end of the first line that has anything but blanks left), never text past the span.
"""

from __future__ import annotations

import re

_CONTENT = re.compile(r"\S")


def needed(span: str, typed: int) -> int:
    """How much of the span must stand typed after an exact suggestion."""
    rest = span[typed:]
    first = _CONTENT.search(rest)
    if first is None:
        return len(span)
    line_end = rest.find("\n", first.start())
    return len(span) if line_end < 0 else typed + line_end


def verdict(original: str, start: int, end: int, typed: int, buffer: str, result: str) -> str:
    """"empty" (nothing offered), "exact", "short" (right, but stops early) or "wrong"."""
    if result == buffer:
        return "empty"
    head, tail = original[:start], original[end:]
    if len(result) < len(head) + len(tail) or not result.startswith(head) or not result.endswith(tail):
        return "wrong"
    middle = result[start : len(result) - len(tail)]
    span = original[start:end]
    if len(middle) <= typed or not span.startswith(middle):
        return "wrong"
    return "exact" if len(middle) >= needed(span, typed) else "short"
