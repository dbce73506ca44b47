"""Scores of one answer: exact, first line exact, edit similarity, still parses, empty."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from context.languages import parser_for

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Score:
    exact: bool
    first_line: bool
    similarity: float
    parses: bool
    empty: bool


def normalise(text: str) -> str:
    """Trailing spaces on a line and at the end are invisible in an editor: they never count."""
    return "\n".join(line.rstrip() for line in text.split("\n")).rstrip()


def score(original: str, result: str, start: int, middle: str, inserted: str) -> Score:
    """`result` is the file after the answer was applied at `start`; `inserted` the text the answer added."""
    want, got = original[start:], result[start:]
    exact = normalise(result) == normalise(original)
    first_line = want.split("\n", 1)[0].rstrip() == got.split("\n", 1)[0].rstrip()
    produced = got[: len(got) - (len(original) - start - len(middle))] if len(got) >= len(want) - len(middle) else got
    similarity = difflib.SequenceMatcher(None, normalise(middle), normalise(produced), autojunk=False).ratio()
    return Score(exact, first_line and bool(inserted.strip() or not middle.split("\n", 1)[0].strip()),
                 similarity, parses_like(original, result), not inserted.strip())


def parses_like(original: str, result: str) -> bool:
    """No syntax error where the original file had none."""
    parser = parser_for("python")
    assert parser is not None
    return not parser.parse(result.encode("utf-8")).root_node.has_error or \
        parser.parse(original.encode("utf-8")).root_node.has_error


def names_in(text: str) -> set[str]:
    return set(_NAME.findall(text))
