from __future__ import annotations

import json
from pathlib import Path

import pytest

from context.fim import template_by_name
from context.overlap import balance_brackets, lines_match, remove_suffix_overlap
from context.postprocess import (
    PostprocessContext,
    detect_indent_unit,
    drop_repetitive_lines,
    fix_indentation,
    postprocess,
    stop_at_block_end,
    strip_code_fences,
    strip_think_blocks,
    truncate_single_line,
)
from context.syntax_check import rejects_syntax

FIXTURES = sorted((Path(__file__).parent.parent / "data" / "postprocess").glob("*.json"))
CURSOR = "█"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("```python\nx = 1\n```", "x = 1"),
        ("```\nx = 1\ny = 2\n```\nSome explanation", "x = 1\ny = 2"),
        ("Here you go:\n```ts\nlet a = 1;\n```", "let a = 1;"),
        ("```go\nfmt.Println()", "fmt.Println()"),
        ("x = 1", "x = 1"),
        ("s = '```'", "s = '```'"),
    ],
)
def test_strip_code_fences(raw: str, expected: str) -> None:
    assert strip_code_fences(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("<think>hmm</think>\nreturn 1", "return 1"),
        ("<think>\nstill thinking", ""),
        ("reasoning without opener</think>\nreturn 2", "return 2"),
        ("return 3", "return 3"),
        ("a<think>x</think>b", "ab"),
    ],
)
def test_strip_think_blocks(raw: str, expected: str) -> None:
    assert strip_think_blocks(raw) == expected


@pytest.mark.parametrize(
    ("completion", "suffix", "prefix_line", "expected"),
    [
        ("x, y):", "):\n    pass\n", "def f(", "x, y"),
        ("foo(x)", ")\n", "print(", "foo(x)"),  # its own ) is needed
        ("foo(x))", ")\n", "print(", "foo(x)"),
        ('hi")', '")\n', 'print("', "hi"),
        ("y = 2\n    return y", "\n    return y\n", "    ", "y = 2"),
        ("return y", "\n    return   y\n", "    ", ""),  # whitespace-insensitive
        ("a = 1\nif a:\n    return", "\nif a:\n    return a\n", "", "a = 1"),  # partial last line
        ("a = 1\nb = 2", "\nc = 3\n", "", "a = 1\nb = 2"),
        ("x", "", "", "x"),
    ],
)
def test_remove_suffix_overlap(completion: str, suffix: str, prefix_line: str, expected: str) -> None:
    assert remove_suffix_overlap(completion, suffix, prefix_line) == expected


@pytest.mark.parametrize(
    ("mine", "theirs", "expected"),
    [("return x", "    return x", True), ("ret", "return x", False), ("return", "return x", True), ("", "", False)],
)
def test_lines_match(mine: str, theirs: str, expected: bool) -> None:
    assert lines_match(mine, theirs) is expected


@pytest.mark.parametrize(
    ("completion", "prefix_line", "suffix", "expected"),
    [
        ("x))", "print(f(", ")", "x)"),  # the suffix supplies one )
        ("x))", "print(f(", "", "x))"),
        ("a]", "foo(", ")", "a"),  # mismatched closer
        ("return 1;\n}", "  ", "\n}\n", "return 1;"),  # block closer already below
        ("return 1;\n}", "  ", "\n", "return 1;\n}"),  # nothing below closes it
        ("[1, 2]", "x = ", "", "[1, 2]"),
        ('"(" + s', "x = ", "", '"(" + s'),  # brackets in strings do not count
    ],
)
def test_balance_brackets(completion: str, prefix_line: str, suffix: str, expected: str) -> None:
    assert balance_brackets(completion, prefix_line, suffix) == expected


@pytest.mark.parametrize(
    ("completion", "cursor_line_prefix", "unit", "expected"),
    [
        ("if x:\n        y()", "    ", "\t", "if x:\n\t\ty()"),
        ("if x {\n\t\ty()\n\t}", "\t", "    ", "if x {\n        y()\n    }"),
        ("    a()\n    b()", "    ", "    ", "a()\n    b()"),  # first line repeated the indent
        ("a()\n     b()", "", "    ", "a()\n    b()"),  # off by one column
        ("a(1,\n  2)", "", "    ", "a(1,\n  2)"),  # alignment is kept
        ("m = {k: v\n     for k in x}\nn()", "", "    ", "m = {k: v\n     for k in x}\nn()"),  # inside a dict too
        ("if x {\n     y()\n}", "", "    ", "if x {\n    y()\n}"),  # a block's brace: its body is indented
        ("x", "", "  ", "x"),
    ],
)
def test_fix_indentation(completion: str, cursor_line_prefix: str, unit: str, expected: str) -> None:
    assert fix_indentation(completion, cursor_line_prefix, unit) == expected


@pytest.mark.parametrize(
    ("document", "expected"),
    [("a\n\tb\n\tc\n", "\t"), ("a\n  b\n    c\n  d\n", "  "), ("a\n    b\n        c\n", "    "), ("", "    ")],
)
def test_detect_indent_unit(document: str, expected: str) -> None:
    assert detect_indent_unit(document) == expected


@pytest.mark.parametrize(
    ("completion", "base", "language", "expected"),
    [
        ("a()\n    b()\nc()", "    ", "python", "a()\n    b()"),
        ("a()\n\n    b()", "    ", "python", "a()\n\n    b()"),
        ("a();\n}\nfoo();", "  ", "javascript", "a();\n}"),  # a lone closer ends the block, kept
        ("x = 1\nelse:\n    y", "    ", "python", "x = 1"),
        ("a", "", "python", "a"),
    ],
)
def test_stop_at_block_end(completion: str, base: str, language: str, expected: str) -> None:
    assert stop_at_block_end(completion, base, language) == expected


@pytest.mark.parametrize(
    ("completion", "prefix", "expected"),
    [
        ("x\nx\nx\nx", "", "x"),
        ("a\nb\na\nb\na\nb", "", "a\nb"),
        ("a\nb\nb\nc", "", "a\nb\nb\nc"),  # twice is fine
        ("total += n", "total = 0\n    total += n\n    ", ""),
        ("total += n", "total += n\n    x", "total += n"),  # cursor mid-line: not a rewrite
        ("}\n}\n}", "", "}"),
    ],
)
def test_drop_repetitive_lines(completion: str, prefix: str, expected: str) -> None:
    assert drop_repetitive_lines(completion, prefix) == expected


@pytest.mark.parametrize(
    ("completion", "expected"), [("a\nb", "a"), ("a\r\nb", "a"), ("a", "a"), ("\nb", "")]
)
def test_truncate_single_line(completion: str, expected: str) -> None:
    assert truncate_single_line(completion) == expected


@pytest.mark.parametrize(
    ("document", "completion", "language", "rejected"),
    [
        ("def f(a):\n    x = █\n", "a + 1", "python", False),
        ("def f(a):\n    x = █\n", "a b 1", "python", True),
        ("def f(a):\n    x = (█\n", "a + 1)", "python", False),  # fixes an existing error
        ("function f() {\n  █\n}\n", "return [1, 2;", "javascript", True),
        ("fn main() {\n    █\n}\n", "let x = 1;", "rust", False),
        ("anything █", "@@@", "unknown-language", False),
    ],
)
def test_rejects_syntax(document: str, completion: str, language: str, rejected: bool) -> None:
    offset = document.index(CURSOR)
    text = document.replace(CURSOR, "")
    assert rejects_syntax(text, offset, completion, language) is rejected


def test_rejects_syntax_ignores_errors_far_from_the_cursor() -> None:
    broken_top = "def broken(:\n" + "x = 1\n" * 60
    text = broken_top + "y = \n"
    assert rejects_syntax(text, len(text) - 1, "2", "python") is False


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda path: path.stem)
def test_golden_fixture(fixture: Path) -> None:
    case = json.loads(fixture.read_text(encoding="utf-8"))
    document: str = case["document"]
    offset = document.index(CURSOR)
    ctx = PostprocessContext(
        document=document.replace(CURSOR, ""),
        offset=offset,
        language_id=case["language"],
        template=template_by_name(case["template"]) if case.get("template") else None,
        multiline=case.get("multiline", True),
    )
    assert postprocess(case["raw"], ctx) == case["expected"]


def test_there_are_enough_golden_fixtures() -> None:
    assert len(FIXTURES) >= 15
