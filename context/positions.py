"""Positions: LSP (line, character) ↔ str offset ↔ UTF-8 byte offset ↔ tree-sitter Point.

LSP counts `character` in the negotiated encoding (UTF-16 code units by default, or UTF-8 bytes,
or UTF-32 code points, which are Python str indices). Lines end at "\\n", "\\r\\n" or "\\r" (LSP spec).
Tree-sitter counts rows at "\\n" only and columns in UTF-8 bytes, so a lone "\\r" is a line break for
LSP but not a row break for tree-sitter; `point_at` handles that.

Every function clamps: positions past the end of a line land on the line end, lines past the end
of the text land on the end of the text, and a character in the middle of a UTF-16 surrogate pair
(or a UTF-8 sequence) lands on the start of that code point.

A `LineIndex` is built once per text (O(n), cached on the str object's identity and value), after
which every conversion costs O(log lines + line length).
"""

from __future__ import annotations

import bisect
import collections
import itertools
import re
from typing import NamedTuple, Protocol

UTF8 = "utf-8"
UTF16 = "utf-16"
UTF32 = "utf-32"

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_LINE_BREAK_BYTES = re.compile(rb"\r\n|\r|\n")


class HasLineCharacter(Protocol):
    """Anything shaped like an LSP Position (lsprotocol's Position included)."""

    @property
    def line(self) -> int: ...

    @property
    def character(self) -> int: ...


class Position(NamedTuple):
    """A zero-based LSP position; `character` is in the encoding it was produced for."""

    line: int
    character: int


def normalise_encoding(encoding: object) -> str:
    """'utf-8' | 'utf-16' | 'utf-32' from a str or lsprotocol PositionEncodingKind; unknown → utf-16."""
    value = str(getattr(encoding, "value", encoding) or UTF16).lower()
    return value if value in (UTF8, UTF16, UTF32) else UTF16


def _units(text: str, encoding: str) -> int:
    """Length of `text` in the code units of `encoding`."""
    if encoding == UTF32 or text.isascii():
        return len(text)
    if encoding == UTF8:
        return len(text.encode("utf-8", "surrogatepass"))
    # Characters outside the BMP take two UTF-16 code units.
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _column_for_units(line: str, units: int, encoding: str) -> int:
    """The str index in `line` that is `units` code units in, clamped to a code point start."""
    if units <= 0:
        return 0
    if encoding == UTF32 or line.isascii():
        return min(units, len(line))
    seen = 0
    for index, ch in enumerate(line):
        code = ord(ch)
        if encoding == UTF8:
            size = 1 if code < 0x80 else 2 if code < 0x800 else 3 if code < 0x10000 else 4
        else:
            size = 2 if code > 0xFFFF else 1
        if seen + size > units:
            return index
        seen += size
    return len(line)


class LineIndex:
    """Line starts (str and byte offsets) for one immutable text."""

    __slots__ = ("text", "line_starts", "byte_starts", "is_ascii", "has_lone_cr")

    def __init__(self, text: str) -> None:
        self.text = text
        self.is_ascii = text.isascii()
        self.has_lone_cr = "\r" in text and _has_lone_cr(text)
        if not self.has_lone_cr:
            # Fast path: splitting on "\n" keeps a trailing "\r" on its line, which is what we want.
            lines = text.split("\n")
            self.line_starts = [0, *itertools.accumulate(len(line) + 1 for line in lines[:-1])]
        else:
            self.line_starts = [0, *(match.end() for match in _LINE_BREAK.finditer(text))]
        if self.is_ascii:
            self.byte_starts = self.line_starts
        else:
            self.byte_starts = _byte_starts(text)

    @property
    def line_count(self) -> int:
        return len(self.line_starts)

    def line_of(self, offset: int) -> int:
        """The LSP line holding str `offset` (clamped)."""
        return bisect.bisect_right(self.line_starts, self._clamp(offset)) - 1

    def line_text(self, line: int) -> str:
        """The text of `line` without its line break."""
        start = self.line_starts[line]
        end = self.line_starts[line + 1] if line + 1 < len(self.line_starts) else len(self.text)
        return self.text[start:end].rstrip("\r\n")

    def offset_at(self, line: int, character: int, encoding: str = UTF16) -> int:
        """The str offset of an LSP position (clamped to the text)."""
        if line < 0:
            return 0
        if line >= len(self.line_starts):
            return len(self.text)
        content = self.line_text(line)
        return self.line_starts[line] + _column_for_units(content, character, encoding)

    def position_at(self, offset: int, encoding: str = UTF16) -> Position:
        """The LSP position of str `offset` (clamped; an offset inside "\\r\\n" maps to the line end)."""
        offset = self._clamp(offset)
        line = self.line_of(offset)
        start = self.line_starts[line]
        content = self.line_text(line)
        column = min(offset - start, len(content))
        return Position(line, _units(content[:column], encoding))

    def byte_offset(self, offset: int) -> int:
        """The UTF-8 byte offset of str `offset`."""
        offset = self._clamp(offset)
        if self.is_ascii:
            return offset
        line = self.line_of(offset)
        start = self.line_starts[line]
        return self.byte_starts[line] + len(self.text[start:offset].encode("utf-8", "surrogatepass"))

    def offset_of_byte(self, byte: int) -> int:
        """The str offset of a UTF-8 byte offset (rounded down to a code point start, clamped)."""
        if byte <= 0:
            return 0
        if self.is_ascii:
            return min(byte, len(self.text))
        line = bisect.bisect_right(self.byte_starts, byte) - 1
        start = self.line_starts[line]
        end = self.line_starts[line + 1] if line + 1 < len(self.line_starts) else len(self.text)
        column = _column_for_units(self.text[start:end], byte - self.byte_starts[line], UTF8)
        return start + column

    def point_at(self, offset: int) -> tuple[int, int]:
        """The tree-sitter point (row, byte column) of str `offset`."""
        offset = self._clamp(offset)
        if self.has_lone_cr:
            # Rows count "\n" only here, unlike LSP lines; rare, so the slow path is fine.
            row = self.text.count("\n", 0, offset)
            row_start = self.text.rfind("\n", 0, offset) + 1
            return (row, len(self.text[row_start:offset].encode("utf-8", "surrogatepass")))
        line = self.line_of(offset)
        return (line, self.byte_offset(offset) - self.byte_starts[line])

    def _clamp(self, offset: int) -> int:
        return 0 if offset < 0 else min(offset, len(self.text))


def _has_lone_cr(text: str) -> bool:
    return text.count("\r") != text.count("\r\n")


def _byte_starts(text: str) -> list[int]:
    # Splitting the encoded text in C is ~5x faster than encoding line by line.
    data = text.encode("utf-8", "surrogatepass")
    if b"\r" not in data or not _has_lone_cr(text):
        lines = data.split(b"\n")
        return [0, *itertools.accumulate(len(line) + 1 for line in lines[:-1])]
    return [0, *(match.end() for match in _LINE_BREAK_BYTES.finditer(data))]


_INDEXES: collections.OrderedDict[str, LineIndex] = collections.OrderedDict()
_CACHE_SIZE = 16


def line_index(text: str) -> LineIndex:
    """The cached LineIndex of `text` (a str caches its hash, so repeated lookups are O(1))."""
    index = _INDEXES.get(text)
    if index is None:
        index = remember(LineIndex(text))
    else:
        _INDEXES.move_to_end(text)
    return index


def remember(index: LineIndex) -> LineIndex:
    _INDEXES[index.text] = index
    if len(_INDEXES) > _CACHE_SIZE:
        _INDEXES.popitem(last=False)
    return index


def edited_index(old: LineIndex, start: int, end: int, inserted: str, new_text: str) -> LineIndex:
    """The index of `new_text` = old text with [start, end) replaced by `inserted`, derived from `old`.

    Rebuilding costs ~1-5 ms on a 5,000-line file, on every keystroke; shifting the line starts
    after the edit costs a tenth of that. Carriage returns near the edit take the slow, safe path.
    """
    if old.has_lone_cr or "\r" in inserted or "\r" in old.text[max(0, start - 1):end + 1]:
        return LineIndex(new_text)
    first = old.line_of(start)
    last = old.line_of(end)
    delta = len(inserted) - (end - start)
    breaks = [start + i + 1 for i, char in enumerate(inserted) if char == "\n"]
    index = LineIndex.__new__(LineIndex)
    index.text = new_text
    index.has_lone_cr = False
    index.line_starts = old.line_starts[: first + 1] + breaks + [x + delta for x in old.line_starts[last + 1:]]
    index.is_ascii = old.is_ascii and inserted.isascii()
    if index.is_ascii:
        index.byte_starts = index.line_starts
    else:
        byte_start, byte_end = old.byte_offset(start), old.byte_offset(end)
        encoded = [len(inserted[: i + 1].encode("utf-8", "surrogatepass")) for i, c in enumerate(inserted) if c == "\n"]
        byte_delta = len(inserted.encode("utf-8", "surrogatepass")) - (byte_end - byte_start)
        index.byte_starts = (old.byte_starts[: first + 1] + [byte_start + n for n in encoded]
                             + [x + byte_delta for x in old.byte_starts[last + 1:]])
    return index


def offset_at(text: str, position: HasLineCharacter, encoding: object = UTF16) -> int:
    """str offset of an LSP position in `text`, clamped."""
    return line_index(text).offset_at(position.line, position.character, normalise_encoding(encoding))


def position_at(text: str, offset: int, encoding: object = UTF16) -> Position:
    """LSP position of a str offset in `text`, clamped."""
    return line_index(text).position_at(offset, normalise_encoding(encoding))


def byte_offset(text: str, offset: int) -> int:
    """UTF-8 byte offset of a str offset in `text`."""
    return line_index(text).byte_offset(offset)


def offset_of_byte(text: str, byte: int) -> int:
    """str offset of a UTF-8 byte offset in `text` (e.g. a tree-sitter node's start_byte)."""
    return line_index(text).offset_of_byte(byte)


def point_at(text: str, offset: int) -> tuple[int, int]:
    """tree-sitter (row, byte column) of a str offset in `text`."""
    return line_index(text).point_at(offset)


def end_point(start: tuple[int, int], inserted: str) -> tuple[int, int]:
    """The point reached after inserting `inserted` at `start` (tree-sitter rows count "\\n" only)."""
    newlines = inserted.count("\n")
    if newlines == 0:
        return (start[0], start[1] + len(inserted.encode("utf-8", "surrogatepass")))
    tail = inserted[inserted.rfind("\n") + 1 :]
    return (start[0] + newlines, len(tail.encode("utf-8", "surrogatepass")))
