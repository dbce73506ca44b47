"""Which cross-file context a prompt uses: the kept one, or a fresh one (table-driven)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from context.sticky_context import ContextChoice, keep_or_refresh, scope_header


@dataclass(frozen=True)
class Snip:
    path: str
    text: str
    score: float = 1.0
    kind: str = "definition"


A, B, C = Snip("a.py", "def a():"), Snip("b.py", "def b():"), Snip("c.py", "def c():")
SIMILAR = Snip("d.py", "x = 1", kind="similar")


def choice(scope: str, *definitions: Snip, similar: tuple[Snip, ...] = ()) -> ContextChoice:
    return ContextChoice(scope, tuple(definitions), similar)


@pytest.mark.parametrize(("previous", "fresh", "kept"), [
    (None, choice("def f():", A), False),                              # nothing kept yet
    (choice("def f():", A, B), choice("def f():", A), True),            # a name scrolled out of view
    (choice("def f():", A, B), choice("def f():", B, A), True),         # same set, other ranking
    (choice("def f():", A), choice("def f():", A, C), False),           # a new definition is wanted
    (choice("def f():", A), choice("def g():", A), False),              # the cursor left the scope
    (choice("", A, similar=(SIMILAR,)), choice("", A), True),           # similar snippets never force
])
def test_keep_or_refresh(previous: ContextChoice | None, fresh: ContextChoice, kept: bool) -> None:
    assert keep_or_refresh(previous, fresh) is (previous if kept else fresh)


@pytest.mark.parametrize(("text", "scope_range", "expected"), [
    ("class K:\n    def f(self):\n        pass\n", (9, 40), "def f(self):"),
    ("x = 1\n", None, ""),
    ("def last():", (0, 11), "def last():"),
])
def test_scope_header(text: str, scope_range: tuple[int, int] | None, expected: str) -> None:
    assert scope_header(text, scope_range) == expected
