"""The recent edits of one workspace, as next-edit prompts need them: bounded and coalesced.

Each document keeps the text it had when its last hunks were closed (`base`). Changes arriving
within `pause_s` of each other form one open group; the group is closed (diffed against `base`
into hunks, merged with the previous hunk where they touch) when a change arrives after a pause.
A prompt reads the closed hunks plus the open group's hunks computed on the spot, so the edit
the user made a moment ago is always in it. Recent cursor positions and the outcomes of shown
suggestions are kept beside the hunks. Everything lives in memory only and is never written out.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from context.next_edit import Hunk, line_hunks, lsp_lines, merge_hunks, touches

MAX_HUNKS = 16
MAX_CURSORS = 16
MAX_OUTCOMES = 64
PAUSE_S = 1.0


@dataclass
class _Tracked:
    base: str  # the text the open group's changes started from
    last: str  # the text after the latest change
    changed_at: float = 0.0


@dataclass(frozen=True)
class Cursor:
    path: str
    line: int
    at: float


@dataclass(frozen=True)
class Outcome:
    id: str
    path: str
    outcome: str  # "accepted" | "rejected" | "ignored" | "shown"
    at: float


@dataclass
class EditHistory:
    max_hunks: int = MAX_HUNKS
    pause_s: float = PAUSE_S
    hunks: deque[Hunk] = field(default_factory=deque)
    cursors: deque[Cursor] = field(default_factory=lambda: deque(maxlen=MAX_CURSORS))
    outcomes: deque[Outcome] = field(default_factory=lambda: deque(maxlen=MAX_OUTCOMES))
    _documents: dict[str, _Tracked] = field(default_factory=dict)

    def opened(self, path: str, text: str) -> None:
        self._documents[path] = _Tracked(text, text)

    def closed(self, path: str, now: float) -> None:
        tracked = self._documents.pop(path, None)
        if tracked is not None:
            self._close_group(path, tracked, now)

    def changed(self, path: str, text: str, now: float) -> None:
        """A document's text after a change (text objects are shared, not copied)."""
        tracked = self._documents.get(path)
        if tracked is None:
            self._documents[path] = _Tracked(text, text, now)
            return
        if tracked.changed_at and now - tracked.changed_at > self.pause_s:
            self._close_group(path, tracked, now)
        tracked.last = text
        tracked.changed_at = now

    def _close_group(self, path: str, tracked: _Tracked, now: float) -> None:
        if tracked.last is tracked.base or tracked.last == tracked.base:
            return
        lines = _bare_lines(tracked.base)
        for hunk in line_hunks(path, tracked.base, tracked.last, tracked.changed_at or now):
            self._add(hunk, lines)
        tracked.base = tracked.last

    def _add(self, hunk: Hunk, between: list[str]) -> None:
        if self.hunks and touches(self.hunks[-1], hunk, between):
            merged = merge_hunks(self.hunks[-1], hunk, between)
            if merged is None:
                self.hunks.pop()  # the change was undone
            else:
                self.hunks[-1] = merged
            return
        self.hunks.append(hunk)
        while len(self.hunks) > self.max_hunks:
            self.hunks.popleft()

    def recent(self, now: float | None = None) -> list[Hunk]:
        """Closed hunks, oldest first, then each document's open group (the most recent last)."""
        open_groups: list[tuple[float, list[Hunk]]] = []
        for path, tracked in self._documents.items():
            if tracked.last is not tracked.base and tracked.last != tracked.base:
                open_groups.append((tracked.changed_at, line_hunks(path, tracked.base, tracked.last,
                                                                   tracked.changed_at)))
        result = list(self.hunks)
        for _, hunks in sorted(open_groups, key=lambda group: group[0]):
            base = _bare_lines(self._documents[hunks[0].path].base) if hunks else []
            for hunk in hunks:
                if result and touches(result[-1], hunk, base):
                    merged = merge_hunks(result[-1], hunk, base)
                    result[-1:] = [merged] if merged is not None else []
                else:
                    result.append(hunk)
        return result[-self.max_hunks:] if self.max_hunks else []

    def last_change_line(self, path: str) -> int | None:
        """The last line the open group (or else the last closed hunk) of `path` changed."""
        tracked = self._documents.get(path)
        if tracked is not None and tracked.last != tracked.base:
            hunks = line_hunks(path, tracked.base, tracked.last)
            if hunks:
                return max(hunks[-1].new_start, hunks[-1].new_end - 1)
        for hunk in reversed(self.hunks):
            if hunk.path == path:
                return max(hunk.new_start, hunk.new_end - 1)
        return None

    def note_cursor(self, path: str, line: int, now: float) -> None:
        if self.cursors and self.cursors[-1].path == path and self.cursors[-1].line == line:
            return
        self.cursors.append(Cursor(path, line, now))

    def note_outcome(self, suggestion_id: str, path: str, outcome: str, now: float) -> None:
        self.outcomes.append(Outcome(suggestion_id, path, outcome, now))

    def counts(self) -> dict[str, int]:
        tally: dict[str, int] = {}
        for outcome in self.outcomes:
            tally[outcome.outcome] = tally.get(outcome.outcome, 0) + 1
        return tally


def _bare_lines(text: str) -> list[str]:
    return [line.rstrip("\r\n") for line in lsp_lines(text)]
