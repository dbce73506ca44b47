"""lsp_server/edits.py: minimal diffs that apply cleanly, in every position encoding."""

from __future__ import annotations

import random

import pytest
from lsprotocol import types

from lsp_server.edits import apply_text_edits, minimal_text_edits, versioned_edit


def _pos(line: int, character: int) -> types.Position:
    return types.Position(line=line, character=character)


def _edit(a: tuple[int, int], b: tuple[int, int], text: str) -> types.TextEdit:
    return types.TextEdit(range=types.Range(start=_pos(*a), end=_pos(*b)), new_text=text)


CASES = [
    # (name, old, new, encoding, expected edits)
    ("identical", "a\nb\n", "a\nb\n", "utf-16", []),
    ("one word", "x = foo(1)\n", "x = bar(1)\n", "utf-16", [_edit((0, 4), (0, 7), "bar")]),
    ("insert line", "a\nc\n", "a\nb\nc\n", "utf-16", [_edit((1, 0), (1, 0), "b\n")]),
    ("delete line", "a\nb\nc\n", "a\nc\n", "utf-16", [_edit((1, 0), (2, 0), "")]),
    ("append at end", "a", "ab", "utf-16", [_edit((0, 1), (0, 1), "b")]),
    ("two hunks", "a\nb\nc\nd\ne\n", "A\nb\nc\nd\nE\n", "utf-16",
     [_edit((0, 0), (0, 1), "A"), _edit((4, 0), (4, 1), "E")]),
    ("emoji utf-16", "s = '😋'; t = 1\n", "s = '😋'; t = 2\n", "utf-16", [_edit((0, 14), (0, 15), "2")]),
    ("emoji utf-8", "s = '😋'; t = 1\n", "s = '😋'; t = 2\n", "utf-8", [_edit((0, 16), (0, 17), "2")]),
    ("emoji utf-32", "s = '😋'; t = 1\n", "s = '😋'; t = 2\n", "utf-32", [_edit((0, 13), (0, 14), "2")]),
    ("accents utf-16", "café = 1\n", "café = 2\n", "utf-16", [_edit((0, 7), (0, 8), "2")]),
    ("crlf kept whole", "a\r\nb\r\n", "a\r\nx\r\nb\r\n", "utf-16", [_edit((1, 0), (1, 0), "x\r\n")]),
    ("crlf to lf", "a\r\nb\r\n", "a\nb\n", "utf-16", [_edit((0, 1), (2, 0), "\nb\n")]),
]


@pytest.mark.parametrize(("name", "old", "new", "encoding", "expected"), CASES, ids=[c[0] for c in CASES])
def test_minimal_text_edits(name: str, old: str, new: str, encoding: str, expected: list[types.TextEdit]) -> None:
    edits = minimal_text_edits(old, new, encoding)
    assert edits == expected
    assert apply_text_edits(old, edits, encoding) == new


def test_edit_is_not_a_whole_file_replace() -> None:
    old = "".join(f"line {i}\n" for i in range(200))
    new = old.replace("line 100\n", "line one hundred\n")
    edits = minimal_text_edits(old, new)
    assert len(edits) == 1
    assert edits[0].range.start.line == 100 and edits[0].new_text == "one hundred"


def test_apply_rejects_overlaps() -> None:
    with pytest.raises(ValueError):
        apply_text_edits("abcdef", [_edit((0, 0), (0, 3), "x"), _edit((0, 2), (0, 4), "y")])


def test_apply_keeps_insertion_order_at_one_point() -> None:
    assert apply_text_edits("ab", [_edit((0, 1), (0, 1), "1"), _edit((0, 1), (0, 1), "2")]) == "a12b"


ALPHABET = ["a", "b", " ", "\n", "\r\n", "é", "😋", "x = 1\n", "\t", "中"]


def _random_text(rng: random.Random, size: int) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(size))


def _mutate(rng: random.Random, text: str) -> str:
    for _ in range(rng.randint(1, 4)):
        start = rng.randint(0, len(text))
        end = rng.randint(start, min(len(text), start + 6))
        text = text[:start] + _random_text(rng, rng.randint(0, 4)) + text[end:]
    return text


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8", "utf-32"])
def test_random_edits_round_trip(encoding: str) -> None:
    rng = random.Random(f"edits-{encoding}")
    for _ in range(400):
        old = _random_text(rng, rng.randint(0, 30))
        new = _mutate(rng, old)
        edits = minimal_text_edits(old, new, encoding)
        assert apply_text_edits(old, edits, encoding) == new, (old, new, edits)
        assert sum(len(e.new_text) for e in edits) <= len(new)


def test_versioned_edit_plain() -> None:
    edits = [_edit((0, 0), (0, 1), "x")]
    workspace_edit = versioned_edit("file:///a.py", 7, edits)
    assert workspace_edit.changes is None and workspace_edit.change_annotations is None
    [change] = workspace_edit.document_changes or []
    assert isinstance(change, types.TextDocumentEdit)
    assert change.text_document == types.OptionalVersionedTextDocumentIdentifier(uri="file:///a.py", version=7)
    assert change.edits == edits


def test_versioned_edit_annotated() -> None:
    annotation = types.ChangeAnnotation(label="Ghostwriter", needs_confirmation=True)
    workspace_edit = versioned_edit("file:///a.py", 3, [_edit((0, 0), (0, 1), "x")], "gw", annotation)
    [change] = workspace_edit.document_changes or []
    assert isinstance(change, types.TextDocumentEdit)
    [edit] = change.edits
    assert isinstance(edit, types.AnnotatedTextEdit) and edit.annotation_id == "gw"
    assert workspace_edit.change_annotations == {"gw": annotation}
