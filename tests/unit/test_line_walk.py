"""The remembered walk above the cursor must always equal a fresh one, whatever was edited."""

from __future__ import annotations

import random

import pytest

from context import line_walk
from context.tokens import EstimateCounter, LineCountCache


class WordCounter:
    """Counts words: cheap, and unlike the estimate it goes through the line cache."""

    def count(self, text: str) -> int:
        return len(text.split()) + 1


class RecordingCounter(WordCounter):
    """Notes every text it is asked to count."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def count(self, text: str) -> int:
        self.calls.append(text)
        return super().count(text)


def fresh(text: str, line_start: int, budget: int, lines: LineCountCache) -> list[tuple[int, int]]:
    return line_walk._walk(text, line_start, budget, lines)


@pytest.mark.parametrize("counter", [WordCounter(), EstimateCounter()])
@pytest.mark.parametrize("seed", range(6))
def test_remembered_walk_equals_a_fresh_one_over_random_edits(counter, seed: int) -> None:
    rng = random.Random(seed)
    lines = LineCountCache(counter)
    text = "".join(f"line {i} " + "word " * rng.randint(0, 9) + "\n" for i in range(400))
    cursor = len(text) // 2
    for _ in range(300):
        kind = rng.random()
        if kind < 0.1:  # move down a few lines
            for _ in range(rng.randint(1, 4)):
                cursor = text.find("\n", cursor) + 1 or len(text)
        elif kind < 0.6:  # type at the cursor
            char = rng.choice("abc (\n")
            text, cursor = text[:cursor] + char + text[cursor:], cursor + 1
        elif kind < 0.75:  # insert somewhere above
            at = rng.randint(0, cursor)
            inserted = rng.choice(["x", "\n", "new line\n"])
            text, cursor = text[:at] + inserted + text[at:], cursor + len(inserted)
        elif kind < 0.85:  # delete above
            at = rng.randint(0, max(0, cursor - 1))
            text, cursor = text[:at] + text[at + 1:], cursor - 1 if at < cursor else cursor
        else:  # jump
            cursor = rng.randint(0, len(text))
        cursor = max(0, min(cursor, len(text)))
        line_start = text.rfind("\n", 0, cursor) + 1
        budget = rng.choice([200, 200, 200, 5000])
        assert line_walk.line_starts_back(text, line_start, budget, lines) == fresh(text, line_start, budget, lines)


def test_typing_on_the_cursor_line_reuses_the_walk_without_counting() -> None:
    counter = RecordingCounter()
    calls = counter.calls
    lines = LineCountCache(counter, max_entries=4)  # too small to hold the lines: only reuse avoids counts
    text = "".join(f"line {i}\n" for i in range(100)) + "def f("
    first = line_walk.line_starts_back(text, text.rfind("\n") + 1, 50, lines)
    calls.clear()
    typed = text + "x, y"
    assert line_walk.line_starts_back(typed, typed.rfind("\n") + 1, 50, lines) == first
    assert calls == []


def test_a_new_line_walks_only_the_lines_below_the_old_cursor_line() -> None:
    counter = RecordingCounter()
    calls = counter.calls
    lines = LineCountCache(counter, max_entries=4)
    text = "".join(f"line {i}\n" for i in range(100)) + "def f(x):"
    line_walk.line_starts_back(text, text.rfind("\n") + 1, 50, lines)
    calls.clear()
    typed = text + "\n    return x"
    line_start = typed.rfind("\n") + 1
    starts = line_walk.line_starts_back(typed, line_start, 50, lines)
    assert calls == ["def f(x):\n"]  # the one line between the old cursor line and the new one
    assert starts == fresh(typed, line_start, 50, LineCountCache(WordCounter()))


@pytest.mark.parametrize(("text", "line_start", "budget", "expected"), [
    ("", 0, 10, []),
    ("a\n", 2, 10, [(0, 2)]),
    ("a b\nc\n", 6, 10, [(4, 2), (0, 5)]),
    ("a b\nc\n", 6, 2, [(4, 2), (0, 5)]),  # stops after the line that goes over
    ("a b c d\nc\n", 10, 1, [(8, 2)]),
])
def test_walk_table(text: str, line_start: int, budget: int, expected: list[tuple[int, int]]) -> None:
    assert line_walk.line_starts_back(text, line_start, budget, LineCountCache(WordCounter())) == expected
