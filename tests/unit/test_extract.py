"""Context extraction: scopes, imports, nearby identifiers, definitions, per language."""

from __future__ import annotations

from pathlib import Path

import pytest

from context import extract
from context.syntax import SyntaxTree

DATA = Path(__file__).parent.parent / "data" / "context"
SAMPLE_PY = (DATA / "sample.py").read_text(encoding="utf-8")

JS = (
    "import x from 'y';\nconst a = require('b');\nexport function f(a) {\n  return a;\n}\n"
    "const g = (v) => {\n  return v + '😋';\n};\nclass C extends D {\n  m() { return 1; }\n}\n"
)
TS = "import {x} from 'y';\ninterface I { a: number }\ntype T = string;\nexport abstract class K {\n  m(): void {}\n}\n"
GO = (
    'package main\n\nimport (\n\t"fmt"\n)\n\ntype S struct { A int }\n\n'
    'func (s *S) M() {\n\tfmt.Println("é")\n}\n\nvar y, z = 2, 3\n'
)
RUST = (
    "use std::io;\nstruct S { a: i32 }\nimpl S {\n    pub fn new() -> Self {\n        S { a: 1 }\n    }\n}\n"
    "fn main() {}\n"
)
JAVA = (
    "package p;\nimport java.util.List;\npublic class C {\n  int x = 1;\n"
    "  void m() {\n    String s = \"中\";\n  }\n}\n"
)


def _at(source: str, marker: str) -> int:
    return source.index(marker)


@pytest.mark.parametrize(
    ("language_id", "source", "marker", "expected"),
    [
        (
            "python", SAMPLE_PY, "self.total += step",
            [("function_definition", "increment"), ("class_definition", "Counter")],
        ),
        ("python", SAMPLE_PY, "GREETING = ", []),
        ("javascript", JS, "return a;", [("function_declaration", "f")]),
        ("javascript", JS, "return v", [("arrow_function", "g")]),
        ("javascript", JS, "return 1", [("method_definition", "m"), ("class_declaration", "C")]),
        ("typescript", TS, "void", [("method_definition", "m"), ("abstract_class_declaration", "K")]),
        ("go", GO, "fmt.Println", [("method_declaration", "M")]),
        ("rust", RUST, "S { a: 1 }", [("function_item", "new"), ("impl_item", "S")]),
        ("java", JAVA, "String s", [("method_declaration", "m"), ("class_declaration", "C")]),
    ],
)
def test_enclosing_scopes(language_id: str, source: str, marker: str, expected: list[tuple[str, str]]) -> None:
    syntax = SyntaxTree(language_id, source)
    scopes = extract.enclosing_scopes(syntax, _at(source, marker))
    assert [(s.kind, s.name) for s in scopes] == expected


@pytest.mark.parametrize(
    ("marked", "expected"),
    [
        # A blank line after a body belongs to the body only while it is indented deeper than the def.
        ("def f():\n    x = 1\n    |\n", "f"),
        ("def f():\n    x = 1\n|\n", None),
        ("class C:\n    def m(self):\n        pass\n    |\n", "C"),
        ("class C:\n    def m(self):\n        pass\n        |\n", "m"),
        ("def f():\n    |\n", "f"),  # empty body (an error tree)
        ("def f():\n    return g(|)\n", "f"),
        # Column 1 of a line with code (a selection starting there): that line's own scope.
        ("x = 1\n|def f():\n    return 1\n", "f"),
        ("def f():\n|    return 1\n", "f"),
        ("class C:\n    def m(self):\n|        pass\n", "m"),
    ],
)
def test_python_blank_lines_use_indentation(marked: str, expected: str | None) -> None:
    source = marked.replace("|", "")
    scope = extract.enclosing_scope(SyntaxTree("python", source), marked.index("|"))
    assert (scope.name if scope else None) == expected


def test_scope_offsets_and_text_are_str_based() -> None:
    syntax = SyntaxTree("python", SAMPLE_PY)
    scope = extract.enclosing_scope(syntax, _at(SAMPLE_PY, 'greet("é")'))
    assert scope is not None and scope.name == "uses_counter"
    assert SAMPLE_PY[scope.start : scope.end] == scope.text
    assert scope.text.startswith("def uses_counter") and scope.text.endswith('greet("é"))')


@pytest.mark.parametrize(
    ("language_id", "source", "expected"),
    [
        ("python", SAMPLE_PY, ["from __future__ import annotations", "import os", "from typing import Any"]),
        ("python", "if TYPE_CHECKING:\n    import x\ntry:\n    import y\nexcept ImportError:\n    y = None\n",
         ["import x", "import y"]),
        ("javascript", JS, ["import x from 'y';", "const a = require('b');"]),
        ("typescript", TS, ["import {x} from 'y';"]),
        ("go", GO, ["package main", 'import (\n\t"fmt"\n)']),
        ("rust", RUST, ["use std::io;"]),
        ("java", JAVA, ["package p;", "import java.util.List;"]),
        ("plaintext", "import os", []),
    ],
)
def test_imports(language_id: str, source: str, expected: list[str]) -> None:
    assert extract.imports(SyntaxTree(language_id, source)) == expected


@pytest.mark.parametrize(
    ("language_id", "source", "expected"),
    [
        ("python", SAMPLE_PY, [
            ("GREETING", "variable", None), ("greet", "function", None), ("Counter", "class", None),
            ("total", "variable", "Counter"), ("increment", "method", "Counter"), ("uses_counter", "function", None),
        ]),
        ("javascript", JS, [
            ("a", "variable", None), ("f", "function", None), ("g", "function", None), ("C", "class", None),
            ("m", "method", "C"),
        ]),
        ("typescript", TS, [("I", "interface", None), ("T", "type", None), ("K", "class", None), ("m", "method", "K")]),
        ("go", GO, [("S", "struct", None), ("M", "method", None), ("y", "variable", None), ("z", "variable", None)]),
        ("rust", RUST, [
            ("S", "struct", None), ("S", "impl", None), ("new", "method", "S"), ("main", "function", None),
        ]),
        ("java", JAVA, [("C", "class", None), ("x", "variable", "C"), ("m", "method", "C")]),
    ],
)
def test_definitions(language_id: str, source: str, expected: list[tuple[str, str, str | None]]) -> None:
    found = extract.definitions(SyntaxTree(language_id, source))
    assert [(d.name, d.kind, d.container) for d in found] == expected


@pytest.mark.parametrize(
    ("language_id", "source", "name", "signature"),
    [
        ("python", SAMPLE_PY, "greet", "@decorator\ndef greet(name: str) -> str:"),
        ("python", SAMPLE_PY, "increment", "def increment(self, step: int = 1) -> int:"),
        ("python", SAMPLE_PY, "GREETING", 'GREETING = "héllo 中文 😋"'),
        ("javascript", JS, "f", "export function f(a)"),
        ("go", GO, "M", "func (s *S) M()"),
        ("rust", RUST, "new", "pub fn new() -> Self"),
        ("java", JAVA, "m", "void m()"),
    ],
)
def test_signatures(language_id: str, source: str, name: str, signature: str) -> None:
    found = {d.name: d for d in extract.definitions(SyntaxTree(language_id, source))}
    assert found[name].signature == signature


def test_long_definitions_are_cut() -> None:
    source = "def long():\n" + "    x = 1\n" * 40
    (definition,) = extract.definitions(SyntaxTree("python", source))
    assert definition.text.count("\n") == extract.MAX_SNIPPET_LINES
    assert definition.text.endswith("\n...")


@pytest.mark.parametrize(
    ("language_id", "source", "marker", "expected_first"),
    [
        ("python", SAMPLE_PY, "counter.increment(2)", ["value", "increment", "Any", "Counter", "counter"]),
        ("go", GO, "fmt.Println", ["Println", "M", "S", "s"]),  # fmt touches the cursor
        ("plaintext", "alpha beta\ngamma delta", "delta", ["gamma", "beta", "alpha"]),
    ],
)
def test_identifiers_near(language_id: str, source: str, marker: str, expected_first: list[str]) -> None:
    names = extract.identifiers_near(SyntaxTree(language_id, source), _at(source, marker))
    assert names[: len(expected_first)] == expected_first
    assert len(names) == len(set(names))


def test_identifier_being_typed_is_left_out() -> None:
    source = "value = 1\nval"
    assert extract.identifiers_near(SyntaxTree("python", source), len(source)) == ["value"]


def test_no_tree_means_no_structure() -> None:
    syntax = SyntaxTree("plaintext", "def f():\n    pass\n")
    assert extract.enclosing_scopes(syntax, 10) == []
    assert extract.definitions(syntax) == []
    assert extract.imports(syntax) == []


def test_imports_stop_scanning_far_from_the_top() -> None:
    source = "import a\n" + "x = 1\n" * 60 + "import late\n"
    assert extract.imports(SyntaxTree("python", source)) == ["import a"]
    assert extract.imports(SyntaxTree("python", source), give_up_after=100) == ["import a", "import late"]
