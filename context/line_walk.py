"""The walk up from the cursor line that sizes the prompt's prefix window, remembered between keystrokes.

Each keystroke's prompt needs the cumulative token count of the lines above the cursor line, a few
hundred of them. Between keystrokes those lines rarely change, so the last walk is kept with the
text it covered and reused when that text is unchanged:
- the user types on the same line: the covered text sits right above the cursor line again
  (shifted if an earlier edit moved it);
- the user moved down (typed a newline, or further): the covered text is where it was, and only
  the lines between the old and the new cursor line are walked, the old walk continuing them.
"""

from __future__ import annotations

from dataclasses import dataclass

from context.tokens import LineCountCache

CHUNK_CHARS = 8192


@dataclass(frozen=True)
class _Walk:
    covered: str  # text from the earliest line reached up to the cursor line's start
    line_start: int
    budget: int
    counts: LineCountCache
    reached_start: bool  # the walk ran out of text, not of budget
    starts: list[tuple[int, int]]


_last: _Walk | None = None


def line_starts_back(text: str, line_start: int, budget: int, lines: LineCountCache) -> list[tuple[int, int]]:
    """(start offset, cumulative tokens) of whole lines above the cursor line, nearest first.

    The walk stops at the first line that takes the total over `budget` (that line included).
    """
    global _last
    starts = _reuse(_last, text, line_start, budget, lines)
    if starts is None:
        starts = _walk(text, line_start, budget, lines)
    first = starts[-1][0] if starts else line_start
    _last = _Walk(text[first:line_start], line_start, budget, lines,
                  reached_start=first == 0 and (not starts or starts[-1][1] <= budget), starts=starts)
    return starts


def _reuse(last: _Walk | None, text: str, line_start: int, budget: int,
           lines: LineCountCache) -> list[tuple[int, int]] | None:
    if last is None or last.budget != budget or last.counts is not lines:
        return None
    if line_start > last.line_start:
        return _continue_below(last, text, line_start, budget, lines)
    first = line_start - len(last.covered)
    if last.reached_start and first != 0:
        return None  # more text above now: the old walk stopped short of it
    if not _covered_at(last, text, first):
        return None
    shift = line_start - last.line_start
    return [(start + shift, spent) for start, spent in last.starts] if shift else list(last.starts)


def _continue_below(last: _Walk, text: str, line_start: int, budget: int,
                    lines: LineCountCache) -> list[tuple[int, int]] | None:
    if not _covered_at(last, text, last.line_start - len(last.covered)):
        return None
    if last.line_start > 0 and text[last.line_start - 1] != "\n":
        return None  # the old cursor line no longer starts a line
    starts = _walk(text, line_start, budget, lines, floor=last.line_start)
    spent = starts[-1][1] if starts else 0
    if spent > budget:
        return starts
    for start, below in last.starts:
        starts.append((start, spent + below))
        if spent + below > budget:
            break
    return starts


def _covered_at(last: _Walk, text: str, first: int) -> bool:
    """Whether the text the last walk covered stands unchanged at `first`, beginning a line there."""
    if first < 0 or (first > 0 and text[first - 1] != "\n"):
        return False
    return text[first:first + len(last.covered)] == last.covered


def _walk(text: str, line_start: int, budget: int, lines: LineCountCache, floor: int = 0) -> list[tuple[int, int]]:
    """Walk up from `line_start` to the line starting at `floor` (a line start), or until over budget."""
    result: list[tuple[int, int]] = []
    spent = 0
    end = line_start
    count = lines.count
    while end > floor and spent <= budget:
        # Split a chunk at a time in C rather than searching line by line: this walk covers a few
        # hundred lines on every keystroke that is not served from the remembered walk.
        chunk_start = max(floor, text.rfind("\n", 0, max(0, end - CHUNK_CHARS)) + 1)
        for line in reversed(text[chunk_start:end - 1].split("\n")):
            spent += count(line + "\n")
            end -= len(line) + 1
            result.append((end, spent))
            if spent > budget:
                break
    return result
