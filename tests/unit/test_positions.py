"""Positions: LSP ↔ str offset ↔ UTF-8 byte ↔ tree-sitter point, with non-ASCII and CRLF."""

from __future__ import annotations

import time

import pytest

from context.positions import (
    LineIndex,
    Position,
    byte_offset,
    end_point,
    normalise_encoding,
    offset_at,
    offset_of_byte,
    point_at,
    position_at,
)

# 😋 is 1 str char, 2 UTF-16 units, 4 UTF-8 bytes; é is 1 char, 1 unit, 2 bytes; 中 is 3 bytes.
DOC = 'x = "é😋中"\r\nsecond\nthird 😋\rlast'


@pytest.mark.parametrize(
    ("line", "character", "encoding", "expected_offset"),
    [
        (0, 0, "utf-16", 0),
        (0, 5, "utf-16", 5),  # before é
        (0, 6, "utf-16", 6),  # before 😋
        (0, 8, "utf-16", 7),  # after 😋 (two units)
        (0, 7, "utf-16", 6),  # inside the surrogate pair → start of 😋
        (0, 9, "utf-16", 8),  # after 中
        (0, 7, "utf-8", 6),  # after é (2 bytes)
        (0, 11, "utf-8", 7),  # after 😋 (4 bytes)
        (0, 9, "utf-8", 6),  # inside 😋's bytes → its start
        (0, 7, "utf-32", 7),
        (0, 999, "utf-16", 9),  # past the line end → before "\r\n"
        (1, 0, "utf-16", 11),
        (1, 6, "utf-16", 17),
        (2, 8, "utf-16", 25),  # "third 😋" is 7 chars, 8 units
        (3, 0, "utf-16", 26),  # a lone "\r" is a line break for LSP
        (3, 4, "utf-16", 30),
        (9, 0, "utf-16", 30),  # past the last line → end of text
        (-1, 3, "utf-16", 0),
    ],
)
def test_offset_at(line: int, character: int, encoding: str, expected_offset: int) -> None:
    assert offset_at(DOC, Position(line, character), encoding) == expected_offset


@pytest.mark.parametrize(
    ("offset", "encoding", "expected"),
    [
        (0, "utf-16", Position(0, 0)),
        (7, "utf-16", Position(0, 8)),
        (7, "utf-8", Position(0, 11)),
        (7, "utf-32", Position(0, 7)),
        (10, "utf-16", Position(0, 10)),  # between "\r" and "\n" → line end
        (11, "utf-16", Position(1, 0)),
        (26, "utf-16", Position(3, 0)),
        (999, "utf-16", Position(3, 4)),
        (-5, "utf-16", Position(0, 0)),
    ],
)
def test_position_at(offset: int, encoding: str, expected: Position) -> None:
    assert position_at(DOC, offset, encoding) == expected


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-32"])
def test_round_trip_every_offset(encoding: str) -> None:
    for offset in range(len(DOC) + 1):
        if DOC[offset - 1 : offset + 1] == "\r\n":
            continue  # inside a line break: maps to the line end, not back to itself
        assert offset_at(DOC, position_at(DOC, offset, encoding), encoding) == offset


def test_byte_offsets_match_encoding() -> None:
    for offset in range(len(DOC) + 1):
        expected = len(DOC[:offset].encode("utf-8"))
        assert byte_offset(DOC, offset) == expected
        assert offset_of_byte(DOC, expected) == offset


@pytest.mark.parametrize(
    ("text", "offset", "expected"),
    [
        ("abc", 2, (0, 2)),
        ("é😋x", 2, (0, 6)),
        ("a\r\nbé", 5, (1, 3)),
        ("a\rb\nc", 3, (0, 3)),  # tree-sitter does not break rows at a lone "\r"
        ("a\rb\nc", 5, (1, 1)),
        ("中\n😋", 3, (1, 4)),
    ],
)
def test_point_at(text: str, offset: int, expected: tuple[int, int]) -> None:
    assert point_at(text, offset) == expected


@pytest.mark.parametrize(
    ("start", "inserted", "expected"),
    [((2, 3), "ab", (2, 5)), ((2, 3), "é", (2, 5)), ((2, 3), "x\n😋", (3, 4)), ((0, 0), "\r\n", (1, 0))],
)
def test_end_point(start: tuple[int, int], inserted: str, expected: tuple[int, int]) -> None:
    assert end_point(start, inserted) == expected


@pytest.mark.parametrize(
    ("value", "expected"), [("utf-8", "utf-8"), ("UTF-32", "utf-32"), (None, "utf-16"), ("latin-1", "utf-16")]
)
def test_normalise_encoding(value: object, expected: str) -> None:
    assert normalise_encoding(value) == expected


def test_lsprotocol_types_are_accepted() -> None:
    from lsprotocol import types

    assert offset_at(DOC, types.Position(line=0, character=8), types.PositionEncodingKind.Utf16) == 7


def test_large_file_is_fast() -> None:
    text = "    value = compute(alpha, 'é') + 😋_thing  # note\n" * 5000
    index = LineIndex(text)

    def one_round() -> float:
        start = time.perf_counter()
        for line in range(0, 5000, 50):
            offset = index.offset_at(line, 30)
            index.point_at(offset)
            index.position_at(offset)
        return (time.perf_counter() - start) * 1000 / 100

    # The best of a few rounds, so a busy machine does not make the test flaky.
    assert min(one_round() for _ in range(5)) < 0.2
