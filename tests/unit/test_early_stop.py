"""Early stop while streaming: table of (mode, cursor line, streamed text) → stop?"""

from __future__ import annotations

import pytest

from context.early_stop import stop_rule

CASES = [
    # single line: stop at the first newline (only the first line is kept)
    (False, "x = ", "compute(", False),
    (False, "x = ", "compute()\n", True),
    (False, "x = ", "compute()\ny = 2", True),
    # The first line ended empty: the answer is already "no suggestion", whatever comes next.
    # (Reading on cost up to the whole max_tokens on a GPU run with real weights.)
    (False, "    ", "\n", True),
    (False, "x = ", "\n", True),
    (False, "    ", "return x", False),
    (False, "", "<|endoftext|>", False),
    # multi-line inside a block indented 8
    (True, "        ", "for x in y:\n            total += x\n", False),
    (True, "        ", "for x in y:\n            total += x\n    return total\n", True),
    (True, "        ", "a = 1\n\n        b = 2\n", False),  # blank lines don't count as dedent
    (True, "\t\t", "x()\n\t\ty()\n\tz()\n", True),
    (True, "", "line\n" * 30, True),  # line cap
]


@pytest.mark.parametrize(("multiline", "cursor_prefix", "text", "expected"), CASES)
def test_stop_rule(multiline: bool, cursor_prefix: str, text: str, expected: bool) -> None:
    assert stop_rule(multiline, cursor_prefix)(text) is expected


def test_stop_tokens() -> None:
    assert stop_rule(True, "", ("<|file_sep|>",))("a\n<|file_sep|>b")
