"""SyntaxTree: incremental edits keep text and tree in step with a fresh parse."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from context.positions import Position, position_at
from context.syntax import SyntaxTree

DATA = Path(__file__).parent.parent / "data" / "context"


class Range:
    """A plain LSP-shaped range (the tree accepts lsprotocol's Range as well)."""

    def __init__(self, start: Position, end: Position) -> None:
        self.start, self.end = start, end


def _sexp(syntax: SyntaxTree) -> str:
    assert syntax.tree is not None
    return str(syntax.tree.root_node)


@pytest.mark.parametrize(
    ("language_id", "uri", "expected_id", "parsed"),
    [
        ("python", "", "python", True),
        ("PY", "", "python", True),
        (None, "file:///a/b.rs", "rust", True),
        ("typescriptreact", "", "typescriptreact", True),
        ("cobol", "", "cobol", False),
    ],
)
def test_language_resolution(language_id: str | None, uri: str, expected_id: str, parsed: bool) -> None:
    syntax = SyntaxTree(language_id, "x", uri=uri)
    assert syntax.language_id == expected_id
    assert (syntax.tree is not None) is parsed


@pytest.mark.parametrize(
    ("text", "reason"),
    [("x = 1\x00\x01", "nul bytes"), ("x = 1\n" * 200, "over the size limit")],
)
def test_unparseable_text_is_tracked_but_not_parsed(text: str, reason: str) -> None:
    syntax = SyntaxTree("python", text, max_bytes=1000)
    assert syntax.tree is None, reason
    assert syntax.text == text
    assert not syntax.has_error


def test_parsing_resumes_when_text_becomes_parseable() -> None:
    syntax = SyntaxTree("python", "x = 1\x00")
    assert syntax.tree is None
    syntax.apply_change(Range(Position(0, 5), Position(0, 6)), "")
    assert syntax.text == "x = 1"
    assert _sexp(syntax) == "(module (expression_statement (assignment left: (identifier) right: (integer))))"


@pytest.mark.parametrize(
    ("start", "end", "new_text", "encoding", "expected"),
    [
        ((0, 8), (0, 8), "X", "utf-16", 'a = "é😋X"\r\nb = 2'),  # after 😋 in UTF-16 units
        ((0, 11), (0, 11), "X", "utf-8", 'a = "é😋X"\r\nb = 2'),  # same place in bytes
        ((0, 7), (0, 7), "X", "utf-32", 'a = "é😋X"\r\nb = 2'),
        ((0, 9), (1, 0), "", "utf-16", 'a = "é😋"b = 2'),  # deletes "\r\n"
        ((1, 4), (1, 99), "中", "utf-16", 'a = "é😋"\r\nb = 中'),  # end clamps to the line end
    ],
)
def test_apply_change_in_each_encoding(
    start: tuple[int, int], end: tuple[int, int], new_text: str, encoding: str, expected: str
) -> None:
    syntax = SyntaxTree("python", 'a = "é😋"\r\nb = 2')
    syntax.apply_change(Range(Position(*start), Position(*end)), new_text, encoding)
    assert syntax.text == expected
    assert _sexp(syntax) == _sexp(SyntaxTree("python", expected))


def test_full_replace() -> None:
    syntax = SyntaxTree("python", "x = 1")
    syntax.apply_change(None, "def f():\n    pass\n")
    assert syntax.text == "def f():\n    pass\n"
    assert not syntax.has_error


def test_edits_reuse_the_old_tree() -> None:
    syntax = SyntaxTree("python", "def f():\n    return 1\n")
    old_tree = syntax.tree
    assert old_tree is not None
    syntax.apply_change(Range(Position(1, 12), Position(1, 12)), "0")
    # The old tree was edited in place (has_changes), which is what makes the reparse incremental.
    assert old_tree.root_node.has_changes
    new_tree = syntax.tree
    assert new_tree is not None and new_tree is not old_tree
    assert not new_tree.root_node.has_changes
    assert syntax.text == "def f():\n    return 10\n"


def test_batched_changes_parse_once() -> None:
    syntax = SyntaxTree("javascript", "let a = 1;\n")
    syntax.apply_changes(
        [(Range(Position(0, 8), Position(0, 9)), "2"), (Range(Position(1, 0), Position(1, 0)), "let 😋b = 3;\n")]
    )
    assert syntax.text == "let a = 2;\nlet 😋b = 3;\n"
    assert _sexp(syntax) == _sexp(SyntaxTree("javascript", syntax.text))


INSERTS = ["x", "é", "😋", "中文", "\n", "\r\n", "    ", "(", ")", ":", "'", '"', "def g():\n    return 1\n", ""]


@pytest.mark.parametrize("language_id", ["python", "javascript", "typescript", "go", "rust", "java"])
@pytest.mark.parametrize("encoding", ["utf-16", "utf-8", "utf-32"])
def test_random_edits_match_a_fresh_parse(language_id: str, encoding: str) -> None:
    rng = random.Random(f"{language_id}-{encoding}")
    text = (DATA / "sample.py").read_text(encoding="utf-8")
    syntax = SyntaxTree(language_id, text)
    for step in range(150):
        start = rng.randrange(len(syntax.text) + 1)
        end = min(len(syntax.text), start + rng.choice([0, 0, 1, 2, 5, 20]))
        new_text = rng.choice(INSERTS)
        expected = syntax.text[:start] + new_text + syntax.text[end:]
        if "\r\n" in syntax.text[start - 1 : start + 1] or "\r\n" in syntax.text[end - 1 : end + 1]:
            continue  # LSP positions cannot point between "\r" and "\n"
        edit_range = Range(position_at(syntax.text, start, encoding), position_at(syntax.text, end, encoding))
        syntax.apply_change(edit_range, new_text, encoding)
        assert syntax.text == expected
        if step % 10 == 0:
            assert _sexp(syntax) == _sexp(SyntaxTree(language_id, expected)), f"step {step}"
    assert _sexp(syntax) == _sexp(SyntaxTree(language_id, syntax.text))


@pytest.mark.parametrize(
    ("source", "needle", "expected_type"),
    [
        ("x = foo(1)\n", "foo", "identifier"),
        ('s = "é😋" + bar\n', "bar", "identifier"),
        ("def f():\n    return 1\n", "return", "return"),
    ],
)
def test_node_at(source: str, needle: str, expected_type: str) -> None:
    syntax = SyntaxTree("python", source)
    node = syntax.node_at(source.index(needle))
    assert node is not None and node.type == expected_type
    assert syntax.node_text(node) == needle


def test_node_at_without_tree_is_none() -> None:
    assert SyntaxTree("plaintext", "hello").node_at(2) is None
