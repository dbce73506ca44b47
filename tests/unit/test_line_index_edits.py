"""The line index derived from an edit equals a fresh build, for random edits with non-ASCII text."""

from __future__ import annotations

import random

import pytest

from context.positions import LineIndex, edited_index

PIECES = ["a", "é", "😋", "\n", "  ", "def f():", "中文", "\r\n", "x = 1\n", ""]


@pytest.mark.parametrize("seed", range(20))
def test_edited_index_matches_a_fresh_build(seed: int) -> None:
    rng = random.Random(seed)
    text = "".join(rng.choice(PIECES) for _ in range(200))
    index = LineIndex(text)
    for _ in range(60):
        start = rng.randint(0, len(text))
        end = rng.randint(start, min(len(text), start + 12))
        inserted = "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 3)))
        new_text = text[:start] + inserted + text[end:]
        derived = edited_index(index, start, end, inserted, new_text)
        fresh = LineIndex(new_text)
        assert derived.line_starts == fresh.line_starts
        assert derived.byte_starts == fresh.byte_starts
        for offset in range(0, len(new_text) + 1, 7):
            assert derived.byte_offset(offset) == fresh.byte_offset(offset)
        text, index = new_text, derived
