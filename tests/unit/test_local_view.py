"""The cursor window: kept across edits, always equal to the document slice it claims to be."""

from __future__ import annotations

import random

import pytest

from context.local_view import LocalView, follow_edit, local_view
from context.syntax import SyntaxTree

SOURCE = "".join(
    f"def function_{i}(a, b):\n    total = a + b\n    if total > {i}:\n        return total\n    return {i}\n\n"
    for i in range(60)
)


def assert_consistent(view: LocalView, document: str) -> None:
    assert view.syntax.text == document[view.base:view.end]
    fresh = SyntaxTree("python", view.syntax.text).tree
    assert view.syntax.tree is not None and fresh is not None
    assert str(view.syntax.tree.root_node) == str(fresh.root_node)  # incremental == fresh parse


@pytest.mark.parametrize(("start", "end", "new_text", "kept", "shift"), [
    (0, 0, "# top\n", True, 6),             # above the window: it shifts
    (0, 10, "", True, -10),                 # a deletion above: it shifts back
    ("cursor", "cursor", "x", True, 0),     # inside: applied to its tree
    ("cursor", "cursor+4", "", True, 0),    # a deletion inside
    ("end+5", "end+9", "zz", True, 0),      # below: untouched
    ("base-2", "base+2", "", False, 0),     # straddles the top edge: rebuilt
    ("end-1", "end+3", "", False, 0),       # straddles the bottom edge: rebuilt
])
def test_follow_edit_cases(start: object, end: object, new_text: str, kept: bool, shift: int) -> None:
    cursor = SOURCE.index("def function_30")
    view = local_view(SOURCE, cursor, "python")
    base = view.base
    names = {"cursor": cursor, "base": view.base, "end": view.end}

    def resolve(spec: object) -> int:
        if isinstance(spec, int):
            return spec
        name, _, delta = str(spec).replace("-", "+-").partition("+")
        return names[name] + (int(delta) if delta else 0)

    a, b = resolve(start), resolve(end)
    document = SOURCE[:a] + new_text + SOURCE[b:]
    followed = follow_edit(view, a, b, new_text)
    if not kept:
        assert followed is None
        return
    assert followed is not None
    assert followed.base == base + shift
    assert_consistent(followed, document)


def test_random_typing_keeps_the_window_equal_to_the_document() -> None:
    rng = random.Random(7)
    document = SOURCE
    cursor = SOURCE.index("def function_30")
    view: LocalView | None = local_view(document, cursor, "python")
    rebuilt = 0
    for _ in range(400):
        if rng.random() < 0.8:  # mostly typing at the cursor, sometimes an edit anywhere
            start = end = cursor
        else:
            start = rng.randrange(len(document))
            end = min(len(document), start + rng.randrange(0, 12))
        new_text = rng.choice(["a", " ", "\n", "(", "):\n    ", "", "return x\n"])
        document = document[:start] + new_text + document[end:]
        cursor = start + len(new_text) if start <= cursor else cursor
        view = follow_edit(view, start, end, new_text) if view is not None else None
        if view is None or not view.fits_cursor(cursor, len(document)):
            view = local_view(document, cursor, "python")
            rebuilt += 1
        assert_consistent(view, document)
    assert rebuilt < 200  # most keystrokes reuse the window


def test_window_is_rebuilt_when_the_cursor_leaves_its_margins() -> None:
    cursor = SOURCE.index("def function_30")
    view = local_view(SOURCE, cursor, "python")
    assert view.fits_cursor(cursor, len(SOURCE))
    assert not view.fits_cursor(view.base + 5, len(SOURCE))  # too few lines above the cursor
    assert not view.fits_cursor(view.end + 1, len(SOURCE))  # outside
    top = local_view(SOURCE, 10, "python")
    assert top.base == 0 and top.fits_cursor(10, len(SOURCE))  # the file's start is no edge
