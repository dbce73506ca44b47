"""A small syntax tree around the cursor, for everything on the keystroke path.

Re-parsing a 5,000-line file after each keystroke costs 6-15 ms even incrementally (measured
with tree-sitter-python on a 2-core machine), more than the whole latency budget of the
server. Gating, scope and identifier extraction and the syntax check only look near the
cursor, so they get a window of ~70-110 lines; the whole-file tree stays for the workspace
index, which can afford to be lazy. The window outlives the keystroke: edits inside it are
applied to its tree too, so the next request pays an incremental reparse (~0.25 ms) instead of
a fresh parse of the window (~0.7 ms). It is rebuilt when the cursor nears its edges.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from context.syntax import SyntaxTree

LINES_BEFORE = 50
LINES_AFTER = 20
# How much further up to look for a top-level line, so the window starts at a statement boundary.
LINES_TO_BOUNDARY = 40
# A kept window must still show this much around the cursor, and not have grown past MAX_LINES.
MIN_LINES_BEFORE = 20
MIN_LINES_AFTER = 10
MAX_LINES = 250


@dataclass(frozen=True)
class LocalView:
    syntax: SyntaxTree
    base: int
    """Document offset of the window's first character."""

    def to_local(self, offset: int) -> int:
        return max(0, min(offset - self.base, len(self.syntax.text)))

    def to_document(self, offset: int) -> int:
        return offset + self.base

    @property
    def end(self) -> int:
        """Document offset just past the window's last character."""
        return self.base + len(self.syntax.text)

    def fits_cursor(self, offset: int, document_length: int) -> bool:
        """Whether this window still shows enough around `offset` to be reused for it."""
        if not self.base <= offset <= self.end:
            return False
        text, local = self.syntax.text, offset - self.base
        before = text.count("\n", 0, local)
        after = text.count("\n", local)
        if before + after > MAX_LINES:
            return False
        return (before >= MIN_LINES_BEFORE or self.base == 0) and (
            after >= MIN_LINES_AFTER or self.end == document_length)


def follow_edit(view: LocalView, start: int, end: int, new_text: str) -> LocalView | None:
    """The window after the document's [start, end) became `new_text`; None when it must be rebuilt.

    An edit inside the window is applied to its tree (in place); one above it shifts it.
    """
    if end < view.base:
        return LocalView(view.syntax, view.base + len(new_text) - (end - start))
    if start > view.end:
        return view
    if start >= view.base and end <= view.end:
        view.syntax.replace(start - view.base, end - view.base, new_text)
        return view
    return None  # the edit straddles an edge


def _line_start_before(text: str, offset: int, lines: int) -> int:
    position = offset
    for _ in range(lines):
        previous = text.rfind("\n", 0, max(0, position - 1))
        if previous < 0:
            return 0
        position = previous + 1
    return text.rfind("\n", 0, position) + 1


def _top_level_start(text: str, start: int, limit: int) -> int:
    """Walk up from `start` to a line that begins at column 0 with code (a top-level statement)."""
    position = start
    for _ in range(limit):
        if position == 0:
            return 0
        line_end = text.find("\n", position)
        line = text[position:line_end if line_end >= 0 else len(text)]
        if line[:1] not in ("", " ", "\t") and not line.startswith(("#", "//", "}", ")", "]")):
            return position
        position = text.rfind("\n", 0, position - 1) + 1
    return start


# Outside a triple-quoted string, what can hide a triple quote: comments and one-line strings.
_SKIPPABLE = re.compile(r"#[^\n]*|\"\"\"|'''|\"(?:\\.|[^\"\\\n])*\"|'(?:\\.|[^'\\\n])*'")


def open_triple_quote(text: str, offset: int) -> int | None:
    """Where the Python triple-quoted string enclosing `offset` opens, or None when none encloses it.

    A forward scan of the text before `offset` (comments and one-line strings skipped, a triple
    quote's body jumped over with find): C-speed work, run only when a window is rebuilt.
    """
    position = 0
    while position < offset:
        match = _SKIPPABLE.search(text, position, offset)
        if match is None:
            return None
        token = match.group()
        if token in ('"""', "'''"):
            close = text.find(token, match.end())
            if close < 0 or close + 3 > offset:
                return match.start()
            position = close + 3
        else:
            position = match.end()
    return None


def _line_end_after(text: str, offset: int, lines: int) -> int:
    position = offset
    for _ in range(lines):
        following = text.find("\n", position)
        if following < 0:
            return len(text)
        position = following + 1
    return position


def local_view(text: str, offset: int, language_id: str | None) -> LocalView:
    """Parse the lines around `offset` (starting at a top-level statement where one is near).

    A window must never start inside a triple-quoted string: the code after it would parse as
    the string's text (and the cursor read as "in a string"). Where the boundary found lies in
    one, the window starts at the line that opens it instead.
    """
    rough_start = _line_start_before(text, offset, LINES_BEFORE)
    start = _top_level_start(text, rough_start, LINES_TO_BOUNDARY)
    if language_id == "python":
        opening = open_triple_quote(text, start)
        if opening is not None:
            start = _top_level_start(text, text.rfind("\n", 0, opening) + 1, LINES_TO_BOUNDARY)
            start = min(start, text.rfind("\n", 0, opening) + 1)
    end = _line_end_after(text, offset, LINES_AFTER)
    return LocalView(SyntaxTree(language_id, text[start:end]), start)


def head_view(text: str, language_id: str | None, lines: int = 200) -> SyntaxTree:
    """The top of the file, where imports live."""
    return SyntaxTree(language_id, text[:_line_end_after(text, 0, lines)])
