"""Next-edit suggestions, the pure part: edit hunks and their coalescing, the editable region,
and what a model's rewrite of that region changes.

A hunk is a line-level change of one file (old lines → new lines) with the time it was made.
Typing produces many tiny changes; the history keeps them as hunks closed on a pause, and a hunk
that touches the lines of the one before it (same file) is merged into it, so "renamed a
parameter, then fixed its first use" reads as two hunks, not forty keystrokes.

The editable region is whole lines around the cursor whose boundaries move in steps (a grid of
`step` lines), so consecutive requests while the cursor stays in one band send the same region
start, and the prompt prefix before it stays cached in the engine.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

JOIN_GAP_LINES = 1
"""Changes this many unchanged lines apart (or fewer) form one hunk."""


@dataclass(frozen=True)
class Hunk:
    path: str
    old_start: int  # 0-based first line in the text before the change
    old_lines: tuple[str, ...]
    new_start: int  # 0-based first line in the text after it
    new_lines: tuple[str, ...]
    at: float = 0.0  # when it was made (monotonic seconds)

    @property
    def new_end(self) -> int:
        return self.new_start + len(self.new_lines)

    @property
    def old_end(self) -> int:
        return self.old_start + len(self.old_lines)


def changed_line_span(old: Sequence[str], new: Sequence[str]) -> tuple[int, int, int]:
    """Common prefix and suffix of two line lists: (prefix, old_end, new_end) of what differs."""
    prefix = 0
    limit = min(len(old), len(new))
    while prefix < limit and old[prefix] == new[prefix]:
        prefix += 1
    old_end, new_end = len(old), len(new)
    while old_end > prefix and new_end > prefix and old[old_end - 1] == new[new_end - 1]:
        old_end -= 1
        new_end -= 1
    return prefix, old_end, new_end


def line_hunks(path: str, old: str, new: str, at: float = 0.0, join_gap: int = JOIN_GAP_LINES) -> list[Hunk]:
    """The hunks that turn `old` into `new`, in file order (changes `join_gap` lines apart joined)."""
    old_lines = [line.rstrip("\r\n") for line in lsp_lines(old)]
    new_lines = [line.rstrip("\r\n") for line in lsp_lines(new)]
    head, old_end, new_end = changed_line_span(old_lines, new_lines)
    if head == old_end and head == new_end:
        return []
    # Only the differing middle goes through difflib: a one-line edit of a long file stays cheap.
    matcher = difflib.SequenceMatcher(None, old_lines[head:old_end], new_lines[head:new_end], autojunk=False)
    groups: list[list[int]] = []  # [i1, i2, j1, j2] in the middle's coordinates
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if groups and i1 - groups[-1][1] <= join_gap and j1 - groups[-1][3] <= join_gap:
            groups[-1][1], groups[-1][3] = i2, j2
        else:
            groups.append([i1, i2, j1, j2])
    return [Hunk(path, head + i1, tuple(old_lines[head + i1:head + i2]), head + j1,
                 tuple(new_lines[head + j1:head + j2]), at) for i1, i2, j1, j2 in groups]


def touches(prev: Hunk, new: Hunk, between: Sequence[str], gap: int = JOIN_GAP_LINES) -> bool:
    """`new` (made after `prev`, in the text `between`) changes `prev`'s lines or the lines next to them."""
    if prev.path != new.path or max(prev.new_end, new.old_end) > len(between):
        return False
    return new.old_start <= prev.new_end + gap and new.old_end >= prev.new_start - gap


def merge_hunks(prev: Hunk, new: Hunk, between: Sequence[str]) -> Hunk | None:
    """One hunk for `prev` then `new` (which `touches` it); None when together they change nothing.

    `between` is the file's lines after `prev` and before `new` (the text `new.old_*` refers to).
    """
    low, high = min(prev.new_start, new.old_start), max(prev.new_end, new.old_end)
    old_side = (*between[low:prev.new_start], *prev.old_lines, *between[prev.new_end:high])
    new_side = (*between[low:new.old_start], *new.new_lines, *between[new.old_end:high])
    merged = Hunk(prev.path, prev.old_start - (prev.new_start - low), old_side,
                  new.new_start - (new.old_start - low), new_side, new.at)
    return _trimmed(merged)


def _trimmed(hunk: Hunk) -> Hunk | None:
    """Drop lines a merged hunk leaves unchanged at its ends; None when nothing changed at all."""
    head, old_end, new_end = changed_line_span(hunk.old_lines, hunk.new_lines)
    if head == old_end and head == new_end:
        return None
    return replace(hunk, old_start=hunk.old_start + head, old_lines=hunk.old_lines[head:old_end],
                   new_start=hunk.new_start + head, new_lines=hunk.new_lines[head:new_end])


def unified_diff(hunks: Sequence[Hunk], max_lines_per_hunk: int = 24) -> str:
    """Hunks as a unified diff (no context lines), consecutive hunks of one file under one header."""
    out: list[str] = []
    path = None
    for hunk in hunks:
        if hunk.path != path:
            path = hunk.path
            out += [f"--- a/{path}", f"+++ b/{path}"]
        out.append(f"@@ -{_range(hunk.old_start, len(hunk.old_lines))} "
                   f"+{_range(hunk.new_start, len(hunk.new_lines))} @@")
        out += ["-" + line for line in _cut(hunk.old_lines, max_lines_per_hunk)]
        out += ["+" + line for line in _cut(hunk.new_lines, max_lines_per_hunk)]
    return "\n".join(out) + ("\n" if out else "")


def _range(start: int, count: int) -> str:
    # Unified diff numbers lines from 1; an empty side names the line before it.
    return f"{start + 1},{count}" if count else f"{start},0"


def _cut(lines: Sequence[str], limit: int) -> list[str]:
    return list(lines) if len(lines) <= limit else [*lines[:limit - 1], "..."]


@dataclass(frozen=True)
class Region:
    """Whole lines [start_line, end_line) of a text, and their str offsets [start, end)."""

    start_line: int
    end_line: int
    start: int
    end: int
    text: str


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def lsp_lines(text: str) -> list[str]:
    """Lines with their endings, split where LSP splits them (\\n, \\r\\n, \\r; not str.splitlines' others)."""
    return _LINE.findall(text)


def line_starts(text: str) -> list[int]:
    """Offsets of each line's start, plus len(text) as the last entry."""
    starts = [0]
    for line in lsp_lines(text):
        starts.append(starts[-1] + len(line))
    return starts


def editable_region(text: str, cursor_line: int, size: int = 30, step: int = 10) -> Region:
    """`size` lines around `cursor_line`, starting on a multiple of `step` at least `step` lines
    above the cursor (fewer at the file's top), so the start stays put while the cursor moves
    within a band of `step` lines."""
    starts = line_starts(text)
    count = len(starts) - 1
    step = max(1, step)
    cursor_line = max(0, min(cursor_line, max(0, count - 1)))
    start = max(0, (cursor_line // step) * step - step)
    end = min(count, start + size)
    start = max(0, min(start, end - size))
    return Region(start, end, starts[start], starts[end], text[starts[start]:starts[end]])


def context_lines(text: str, region: Region, before: int, after: int) -> tuple[str, str]:
    """Up to `before` whole lines above the region and `after` lines below it."""
    starts = line_starts(text)
    low = max(0, region.start_line - before)
    high = min(len(starts) - 1, region.end_line + after)
    return text[starts[low]:region.start], text[region.end:starts[high]]


@dataclass(frozen=True)
class Change:
    """What a rewrite changes, in whole lines of the region: old lines [start, old_end) → new ones."""

    start: int
    old_end: int
    new_lines: tuple[str, ...]
    old_lines: tuple[str, ...]


def region_change(old: str, new: str) -> Change | None:
    """The changed lines between the region and its rewrite; None when they are the same."""
    old_lines, new_lines = lsp_lines(old), lsp_lines(new)
    head, old_end, new_end = changed_line_span(old_lines, new_lines)
    if head == old_end and head == new_end:
        return None
    return Change(head, old_end, tuple(new_lines[head:new_end]), tuple(old_lines[head:old_end]))


def is_insertion_at(old: str, new: str, cursor: int) -> bool:
    """True when `new` is `old` with text inserted at `cursor` only (inline completion's job)."""
    if len(new) <= len(old) or cursor < 0 or cursor > len(old):
        return False
    inserted = len(new) - len(old)
    return new[:cursor] == old[:cursor] and new[cursor + inserted:] == old[cursor:]


def worth_showing(old: str, new: str, recent: Sequence[Hunk] = (), cursor: int | None = None) -> str:
    """Why a rewrite of `old` into `new` is not worth showing ("" when it is).

    Small models often answer a "rewrite this" with no real change, a truncated region, an undo of
    what the user just did, or plain text at the cursor; none of those is a next edit.
    """
    change = region_change(old, new)
    if change is None:
        return "unchanged"
    if "".join(change.old_lines).split() == "".join(change.new_lines).split():
        return "whitespace"
    old_count, new_count = len(lsp_lines(old)), len(lsp_lines(new))
    if old_count - new_count > max(3, old_count // 3):
        return "truncated"
    if cursor is not None and is_insertion_at(old, new, cursor):
        return "insertion-at-cursor"
    if recent and _undoes(change, recent[-1]):
        return "undo"
    return ""


def _undoes(change: Change, last: Hunk) -> bool:
    removed = [line.rstrip("\r\n") for line in change.old_lines]
    added = [line.rstrip("\r\n") for line in change.new_lines]
    return bool(last.new_lines or last.old_lines) and removed == list(last.new_lines) and added == list(last.old_lines)
