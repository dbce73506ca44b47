"""Where on the command line: `FILE:LINE:COL` and `FILE[:LINE[-LINE]]` (1-based, as compilers print them)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from context.positions import LineIndex


@dataclass(frozen=True)
class Position:
    path: Path
    line: int
    column: int


@dataclass(frozen=True)
class Lines:
    path: Path
    first: int | None = None  # None: the whole file
    last: int | None = None


def _number(text: str, what: str, whole: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{whole!r}: {what} must be a number from 1, got {text!r}")
    return int(text)


def position(text: str) -> Position:
    """argparse type for FILE:LINE:COL (a file name may itself hold colons: split from the right)."""
    parts = text.rsplit(":", 2)
    if len(parts) != 3 or not parts[0]:
        raise argparse.ArgumentTypeError(f"{text!r} is not FILE:LINE:COL, e.g. src/app.py:12:5")
    return Position(Path(parts[0]), _number(parts[1], "LINE", text), _number(parts[2], "COL", text))


def lines(text: str) -> Lines:
    """argparse type for FILE, FILE:LINE or FILE:FIRST-LAST."""
    path, sep, span = text.rpartition(":")
    if not sep or not span[:1].isdigit() or not path:
        return Lines(Path(text))
    first, _, last = span.partition("-")
    start = _number(first, "LINE", text)
    end = _number(last, "the last LINE", text) if last else start
    if end < start:
        raise argparse.ArgumentTypeError(f"{text!r}: the range ends before it starts")
    return Lines(Path(path), start, end)


def offset_of(index: LineIndex, where: Position, encoding: str) -> int:
    """The str offset of a 1-based line and column; a ValueError names what is out of range."""
    if where.line > index.line_count:
        raise ValueError(f"{where.path}:{where.line}: the file has {index.line_count} lines")
    return index.offset_at(where.line - 1, where.column - 1, encoding)


def span_of(index: LineIndex, text: str, where: Lines, encoding: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """LSP-style (line, character) start and end covering the lines asked for (all when none)."""
    if where.first is None:
        return (0, 0), index.position_at(len(text), encoding)
    last = min(where.last or where.first, index.line_count)
    if where.first > index.line_count:
        raise ValueError(f"{where.path}:{where.first}: the file has {index.line_count} lines")
    end = index.offset_at(last, 0, encoding) if last < index.line_count else len(text)
    return (where.first - 1, 0), index.position_at(end, encoding)
