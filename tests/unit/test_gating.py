"""Gating: NONE / SINGLE_LINE / MULTI_LINE with a reason, per language and without a tree."""

from __future__ import annotations

import time

import pytest

from context.gating import CompletionKind, Decision, completion_kind
from context.syntax import SyntaxTree

NONE, SINGLE, MULTI = CompletionKind.NONE, CompletionKind.SINGLE_LINE, CompletionKind.MULTI_LINE


def _decide(language_id: str | None, marked: str) -> Decision:
    """`marked` holds the cursor as "|"."""
    text = marked.replace("|", "")
    syntax = SyntaxTree(language_id, text)
    return completion_kind(syntax, text, marked.index("|"), syntax.language_id)


@pytest.mark.parametrize(
    ("language_id", "marked", "kind", "reason"),
    [
        # mid-identifier
        ("python", "x = foo|bar", NONE, "mid-identifier"),
        ("javascript", "const é|té = 1;", NONE, "mid-identifier"),
        ("python", "x = foo|", SINGLE, "single-line"),
        # comments
        ("python", "x = 1  # note|", SINGLE, "comment"),
        ("python", "x = 1  # 😋 no|te", NONE, "mid-identifier"),
        ("python", "x = 1  # note\n|", SINGLE, "single-line"),
        ("rust", "// c|\nfn main() {}", SINGLE, "comment"),
        ("go", "/* a| */", NONE, "line-suffix"),  # the closer is no bracket
        ("go", "/* a */|", SINGLE, "single-line"),
        ("java", "/** doc\n * |\n */", SINGLE, "comment"),
        # strings, with interpolation allowed
        ("python", "x = 'é😋 |'", SINGLE, "string"),
        ("python", 'x = """doc\n|\n"""', MULTI, "docstring"),
        # a docstring being typed, its closing quotes not there yet: prose, not broken code
        ("python", 'def f():\n    """Return the |\n    return 1\n', SINGLE, "string"),
        ("python", 'def f():\n    """Return the |\n    return 1\n\ndef g():\n    """G."""\n', MULTI, "docstring"),
        ("python", 'x = 1  # not """ a docstring\ny = |', SINGLE, "single-line"),
        ("python", "x = f'a{|}'", SINGLE, "single-line"),
        ("python", "x = 'abc'|", SINGLE, "single-line"),
        ("python", "x = 'abc|", SINGLE, "string"),  # unterminated: read from the line text
        ("javascript", "const s = `a |`;", SINGLE, "string"),
        ("javascript", "const s = `a${|}`;", SINGLE, "single-line"),
        ("typescript", "const s: string = '中|';", SINGLE, "string"),
        ("java", 'String s = "a |";', SINGLE, "string"),
        ("rust", "fn f<'a>(x: &'a str) -> &'a str { x.| }", SINGLE, "single-line"),  # lifetimes are not quotes
        # what is right of the cursor
        ("python", "x = |y", NONE, "line-suffix"),
        ("python", "print(|)", SINGLE, "single-line"),
        ("javascript", "foo(|);", SINGLE, "single-line"),
        ("javascript", "foo(|) + 1;", NONE, "line-suffix"),
        ("python", "x = [|]\r\ny = 2", SINGLE, "single-line"),
        # multi-line: the start of a block body
        ("python", "def f():\n    |", MULTI, "block-start"),
        ("python", "def f():\n    # todo\n    |", MULTI, "block-start"),
        ("python", "def f():\n|", SINGLE, "single-line"),  # not indented into the body
        ("python", "def f():|", MULTI, "after-block-opener"),
        ("python", "def f():\n    x = 1\n    |", SINGLE, "single-line"),
        ("javascript", "function f() {\n  |\n}", MULTI, "block-start"),
        ("go", "func main() {\r\n\t|\r\n}", MULTI, "block-start"),
        ("rust", "fn main() {\n    let x = 1;\n    |\n}", SINGLE, "single-line"),
        ("java", "class C {\n  void m() {|}\n}", SINGLE, "single-line"),
        ("python", "|", MULTI, "empty-document"),
        # multi-line: the body after the docstring that opens a def or class
        ("python", 'def f():\n    """Doc."""\n    |', MULTI, "after-docstring"),
        ("python", 'class C:\n    """Doc.\n\n    More.\n    """\n    |', MULTI, "after-docstring"),
        ("python", 'def f():\n    """Doc."""\n    x = 1\n    |', SINGLE, "single-line"),
        ("python", '"""Module."""\n|', SINGLE, "single-line"),
        ("python", 'def f():\n    """Doc."""\n|', SINGLE, "single-line"),  # not at the body's indentation
        # no grammar: text heuristics
        (None, "if x:\n    |", MULTI, "block-start"),
        (None, "x = 'a|", SINGLE, "string"),
        (None, "x = 1 // c|", SINGLE, "comment"),
        (None, "ab|cd", NONE, "mid-identifier"),
        (None, "call(|)", SINGLE, "single-line"),
    ],
)
def test_completion_kind(language_id: str | None, marked: str, kind: CompletionKind, reason: str) -> None:
    decision = _decide(language_id, marked)
    assert (decision.kind, decision.reason) == (kind, reason)
    assert decision.prose == (reason in ("comment", "string", "docstring"))


@pytest.mark.parametrize(
    ("language_id", "marked", "closer"),
    [
        ("python", "x = 'abc |'", "'"),
        ("python", 'x = "abc |"', '"'),
        ("python", 'def f():\n    """Return |\n    """', '"""'),
        ("python", "def f():\n    \'\'\'Doc |\'\'\'", "\'\'\'"),
        ("python", "x = 1  # a note |", ""),
        ("javascript", "const s = `a |`;", "`"),
    ],
)
def test_prose_knows_where_the_string_closes(language_id: str, marked: str, closer: str) -> None:
    assert _decide(language_id, marked).closer == closer


def test_accepts_a_raw_tree_or_none() -> None:
    text = "x = 'abc'"
    syntax = SyntaxTree("python", text)
    string = Decision(SINGLE, "string", prose=True, closer="'")
    assert completion_kind(syntax.tree, text, 8, "python") == string
    assert completion_kind(None, text, 8, None) == string
    assert completion_kind(None, text, 5, None) == Decision(NONE, "line-suffix")


@pytest.mark.parametrize("offset", [-5, 10_000])
def test_out_of_range_offsets_are_clamped(offset: int) -> None:
    text = "x = 1\n"
    assert completion_kind(SyntaxTree("python", text), text, offset, "python").kind is not None


def test_large_file_is_fast() -> None:
    text = "def f(a):\n    return a + 'é'\n\n" * 1700  # ~5,000 lines
    syntax = SyntaxTree("python", text)
    offset = text.index("return a", len(text) // 2) + len("return a")
    completion_kind(syntax, text, offset, "python")  # warm the line index

    def one_round() -> float:
        start = time.perf_counter()
        for _ in range(100):
            completion_kind(syntax, text, offset, "python")
        return (time.perf_counter() - start) * 1000 / 100

    # The best of a few rounds, so a busy machine does not make the test flaky.
    assert min(one_round() for _ in range(5)) < 1.0
