"""Next-edit pure parts, table-driven: hunks and their coalescing, the editable region, diff → edits,
prompt building, reading the model's answer (whole and stopped early), and what is not shown."""

from __future__ import annotations

import pytest

from context.edit_history import EditHistory
from context.next_edit import (
    Hunk,
    editable_region,
    is_insertion_at,
    line_hunks,
    lsp_lines,
    merge_hunks,
    region_change,
    touches,
    unified_diff,
    worth_showing,
)
from context.next_edit_prompts import (
    TEMPLATES,
    RegionView,
    next_edit_messages,
    parse_rewrite,
    read_rewrite,
    rejoined_rewrite,
    template_for,
)
from lsp_server.backends.vllm_checks import speculation_args
from lsp_server.edits import apply_text_edits, minimal_text_edits

QWEN = TEMPLATES["qwen"]
S, E, C = QWEN.region_start, QWEN.region_end, QWEN.cursor
LINES = "".join(f"line {i}\n" for i in range(100))


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("a\nb\n", "a\nb\n", []),
    ("a\nb\nc\n", "a\nB\nc\n", [(1, ("b",), 1, ("B",))]),
    ("a\nb\nc\nd\ne\nf\n", "A\nb\nc\nd\ne\nF\n", [(0, ("a",), 0, ("A",)), (5, ("f",), 5, ("F",))]),
    ("a\nb\nc\n", "a\nB\nC\n", [(1, ("b", "c"), 1, ("B", "C"))]),
    ("a\nb\nc\n", "a\nc\n", [(1, ("b",), 1, ())]),  # a deletion
    ("a\nc\n", "a\nb\nc\n", [(1, (), 1, ("b",))]),  # an insertion
    ("a\nb\nc\nd\n", "A\nb\nC\nd\n", [(0, ("a", "b", "c"), 0, ("A", "b", "C"))]),  # one line apart: joined
    ("a\r\nb\r\n", "a\r\nB\r\n", [(1, ("b",), 1, ("B",))]),  # CRLF
])
def test_line_hunks(old: str, new: str, expected: list[tuple]) -> None:
    hunks = line_hunks("f.py", old, new)
    assert [(h.old_start, h.old_lines, h.new_start, h.new_lines) for h in hunks] == expected


@pytest.mark.parametrize(("between", "first", "second", "touching", "expected"), [
    # the same line edited twice: one hunk from the first old text to the last new one
    (["x", "ab", "y"], Hunk("f", 1, ("a",), 1, ("ab",)), Hunk("f", 1, ("ab",), 1, ("abc",)), True,
     (1, ("a",), 1, ("abc",))),
    # the next line: merged, both lines in the hunk
    (["x", "A", "b", "y"], Hunk("f", 1, ("a",), 1, ("A",)), Hunk("f", 2, ("b",), 2, ("B",)), True,
     (1, ("a", "b"), 1, ("A", "B"))),
    # a change undone: nothing left
    (["x", "A", "y"], Hunk("f", 1, ("a",), 1, ("A",)), Hunk("f", 1, ("A",), 1, ("a",)), True, None),
    # far apart: not merged
    ([str(i) for i in range(20)], Hunk("f", 1, ("a",), 1, ("1",)), Hunk("f", 10, ("10",), 10, ("X",)), False,
     None),
    # another file: not merged
    (["x", "A", "y"], Hunk("f", 1, ("a",), 1, ("A",)), Hunk("g", 1, ("A",), 1, ("B",)), False, None),
])
def test_merge_hunks(between: list[str], first: Hunk, second: Hunk, touching: bool, expected: tuple | None) -> None:
    assert touches(first, second, between) is touching
    if not touching:
        return
    merged = merge_hunks(first, second, between)
    if expected is None:
        assert merged is None  # the second change undid the first
        return
    assert merged is not None
    assert (merged.old_start, merged.old_lines, merged.new_start, merged.new_lines) == expected


def test_history_coalesces_typing_and_closes_groups_on_pauses() -> None:
    history = EditHistory(pause_s=1.0)
    text = "def f(a):\n    return a\n\n\n\n\nprint(f(1))\n"
    history.opened("m.py", text)
    # typing "b" then "c" into the parameter, quickly: one open group, one hunk
    for step, typed in enumerate(("def f(ab):", "def f(abc):")):
        text = text.replace(text.split("\n")[0], typed, 1)
        history.changed("m.py", text, now=10.0 + step * 0.1)
    assert [h.new_lines for h in history.recent()] == [("def f(abc):",)]
    assert not history.hunks
    # after a pause, a change of the next line closes the first group and merges into its hunk
    text = text.replace("    return a", "    return abc")
    history.changed("m.py", text, now=20.0)
    assert len(history.hunks) == 1
    assert [(h.old_lines, h.new_lines) for h in history.recent()] == [
        (("def f(a):", "    return a"), ("def f(abc):", "    return abc"))]
    # far away, after another pause: a second hunk
    text = text.replace("print(f(1))", "print(f(2))")
    history.changed("m.py", text, now=30.0)
    recent = history.recent()
    assert len(recent) == 2 and recent[-1].new_lines == ("print(f(2))",)
    assert history.last_change_line("m.py") == 6


def test_an_undone_change_leaves_no_hunk() -> None:
    history = EditHistory(pause_s=1.0)
    history.opened("m.py", "x = 1\n")
    history.changed("m.py", "x = 2\n", now=1.0)
    history.changed("m.py", "x = 1\n", now=5.0)  # after a pause: closes the first group
    assert history.recent() == []
    history.changed("m.py", "x = 3\n", now=10.0)
    assert not history.hunks and [h.new_lines for h in history.recent()] == [("x = 3",)]


def test_history_is_bounded() -> None:
    history = EditHistory(max_hunks=3, pause_s=0.5)
    text = "".join(f"v{i} = {i}\n\n\n\n" for i in range(10))
    history.opened("m.py", text)
    for i in range(10):
        text = text.replace(f"v{i} = {i}\n", f"v{i} = {i * 10}\n")
        history.changed("m.py", text, now=float(i))
    assert len(history.hunks) <= 3 and len(history.recent()) <= 3
    assert history.recent()[-1].new_lines == ("v9 = 90",)


@pytest.mark.parametrize(("cursor_line", "size", "step", "expected"), [
    (0, 30, 10, (0, 30)), (9, 30, 10, (0, 30)), (19, 30, 10, (0, 30)),
    (20, 30, 10, (10, 40)), (29, 30, 10, (10, 40)),  # the start moves in steps, not with the cursor
    (99, 30, 10, (70, 100)), (500, 30, 10, (70, 100)),  # the file's end
])
def test_editable_region_boundaries_move_in_steps(cursor_line: int, size: int, step: int,
                                                  expected: tuple[int, int]) -> None:
    region = editable_region(LINES, cursor_line, size, step)
    assert (region.start_line, region.end_line) == expected
    assert region.text == "".join(lsp_lines(LINES)[expected[0]:expected[1]])
    assert LINES[region.start:region.end] == region.text


def test_editable_region_of_a_short_file_without_final_newline() -> None:
    region = editable_region("a\nb", 1)
    assert (region.start_line, region.end_line, region.text) == (0, 2, "a\nb")


@pytest.mark.parametrize(("old", "new"), [
    ("def f(a):\n    return a\n", "def f(a):\n    return a + 1\n"),
    ("x = 1\ny = 2\n", "x = 1\n"),
    ("x = 1\n", "x = 1\ny = 2\n"),
    ("naïve = '😋'\n", "naive = '😋😋'\n"),
])
def test_region_rewrite_becomes_minimal_edits_that_rebuild_it(old: str, new: str) -> None:
    edits = minimal_text_edits(old, new)
    assert apply_text_edits(old, edits) == new
    assert sum(len(e.new_text) for e in edits) <= len(new)


@pytest.mark.parametrize(("old", "new", "cursor", "reason"), [
    ("a = 1\n", "a = 1\n", 0, "unchanged"),
    ("a = 1\n", "a  =  1\n", 0, "whitespace"),
    ("a = f(\n", "a = f(x)\n", 6, "insertion-at-cursor"),
    ("a = f(\n", "a = f(x)\n", 2, ""),  # inserted elsewhere: a next edit
    ("".join(f"x{i}\n" for i in range(30)), "x0\n", 0, "truncated"),
    ("def f(w):\n", "def f(width):\n", None, "undo"),  # the user's last edit reverted
    ("return width\n", "return w\n", None, ""),
])
def test_worth_showing(old: str, new: str, cursor: int | None, reason: str) -> None:
    recent = (Hunk("f", 0, ("def f(width):",), 0, ("def f(w):",)),)
    assert worth_showing(old, new, recent, cursor) == reason


@pytest.mark.parametrize(("old", "new", "cursor", "expected"), [
    ("ab", "aXb", 1, True), ("ab", "aXb", 0, False), ("ab", "ab", 1, False), ("ab", "b", 0, False),
])
def test_is_insertion_at(old: str, new: str, cursor: int, expected: bool) -> None:
    assert is_insertion_at(old, new, cursor) is expected


def test_region_change_is_whole_lines() -> None:
    change = region_change("a\nb\nc\n", "a\nB\nc\n")
    assert change is not None and (change.start, change.old_end, change.new_lines) == (1, 2, ("B\n",))
    assert region_change("a\n", "a\n") is None


def test_prompt_has_history_before_the_region_and_the_cursor_marked() -> None:
    history = [Hunk("pkg/m.py", 0, ("def f(width):",), 0, ("def f(w):",))]
    view = RegionView("pkg/m.py", "python", "import os\n", "def f(w):\n    return width\n", "\nprint(f(1))\n",
                      cursor=10)
    system, user = next_edit_messages(QWEN, view, history, ["def g():\n    pass"])
    content = user["content"]
    assert system["role"] == "system" and user["role"] == "user"
    assert content.index("Recent edits") < content.index("Definitions") < content.index(S) < content.index(E)
    assert "--- a/pkg/m.py\n+++ b/pkg/m.py\n@@ -1,1 +1,1 @@\n-def f(width):\n+def f(w):" in content
    assert f"import os\n{S}\ndef f(w):\n{C}    return width\n{E}\n\nprint(f(1))" in content
    plain = next_edit_messages(QWEN, view, history, plain=True)[1]["content"]
    assert "Recent edits" not in plain and "def f(width)" not in plain and S in plain


def test_prompt_prefix_is_stable_while_the_cursor_moves_in_the_region() -> None:
    history = [Hunk("m.py", 0, ("a",), 0, ("b",))]
    first = next_edit_messages(QWEN, RegionView("m.py", "python", "", "x = 1\ny = 2\n", "", 3), history)
    second = next_edit_messages(QWEN, RegionView("m.py", "python", "", "x = 1\ny = 2\n", "", 9), history)
    prefix = first[1]["content"].split(S)[0]
    assert second[1]["content"].startswith(prefix) and first[0] == second[0]


REGION = "def f(w):\n    return width\n"


@pytest.mark.parametrize(("answer", "stopped", "expected"), [
    (f"{S}\ndef f(w):\n    return w\n{E}", False, "def f(w):\n    return w\n"),
    (f"{S}\ndef f(w):\n    return w\n", True, "def f(w):\n    return w\n"),  # the end marker was the stop string
    (f"{S}\ndef f(w):\n    return w\n", False, None),  # cut off by max_tokens
    (f"```python\n{S}\ndef f(w):\n    return w\n{E}\n```", False, "def f(w):\n    return w\n"),
    (f"{S}\n```python\ndef f(w):\n    return w\n```\n{E}", False, "def f(w):\n    return w\n"),
    (f"{S}\ndef f(w):\n{C}    return w\n{E}", False, "def f(w):\n    return w\n"),  # the cursor marker echoed
    (f"<think>hm</think>{S}\ndef f(w):\n    return w{E}", False, "def f(w):\n    return w\n"),
    ("Sure! Here it is.", False, None),
    # answered in another family's markers: read as such, none of them left in the text
    ("<editable_region>\ndef f(w):\n    return w\n</editable_region>", False, "def f(w):\n    return w\n"),
    (f"<editable_region>\ndef f(w):\n    return w\n{E}", False, None),  # markers of two families
])
def test_parse_rewrite(answer: str, stopped: bool, expected: str | None) -> None:
    assert parse_rewrite(answer, QWEN, REGION, stopped_at_end=stopped) == expected


OLD = "".join(f"value_{i} = compute({i})\n" for i in range(20))


@pytest.mark.parametrize(("written_lines", "change", "expected_full"), [
    (13, {5: "value_5 = compute(5, fast=True)\n"}, True),  # changed line 5, lines 6-8 copied: stop
    (8, {5: "value_5 = compute(5, fast=True)\n"}, False),  # only two lines copied after the change
    (20, {}, False),  # nothing changed: read to the end
])
def test_rejoined_rewrite(written_lines: int, change: dict[int, str], expected_full: bool) -> None:
    lines = OLD.splitlines(keepends=True)
    new = [change.get(i, line) for i, line in enumerate(lines)]
    partial = S + "\n" + "".join(new[:written_lines - 4 if change else written_lines]) + "value_9 = comp"
    result = rejoined_rewrite(partial, QWEN, OLD)
    if expected_full:
        assert result == "".join(new)
        assert read_rewrite(partial, QWEN, OLD, None) == "".join(new)
    else:
        assert result is None


def test_rejoined_rewrite_after_deleted_lines() -> None:
    lines = OLD.splitlines(keepends=True)
    new = lines[:5] + lines[7:]  # lines 5 and 6 deleted
    partial = S + "\n" + "".join(new[:9])
    assert rejoined_rewrite(partial, QWEN, OLD) == "".join(new)


@pytest.mark.parametrize(("family", "model", "marker"), [
    ("auto", "Qwen/Qwen2.5-Coder-1.5B-Instruct", "<|editable_region_start|>"),
    ("auto", "gpt-4o-mini", "<editable_region>"),
    ("generic", "qwen2.5-coder", "<editable_region>"),
    ("qwen", "llama", "<|editable_region_start|>"),
])
def test_template_per_family(family: str, model: str, marker: str) -> None:
    assert template_for(family, model).region_start == marker


def test_unified_diff_groups_hunks_of_one_file() -> None:
    diff = unified_diff([Hunk("a.py", 0, ("x",), 0, ("y",)), Hunk("a.py", 4, (), 4, ("z",)),
                         Hunk("b.py", 2, ("q",), 2, ())])
    assert diff.count("--- a/a.py") == 1 and "@@ -5,0 +5,1 @@" not in diff and "@@ -4,0 +5,1 @@" in diff
    assert "@@ -3,1 +2,0 @@\n-q" in diff


@pytest.mark.parametrize(("tokens", "expected"), [
    (0, []),
    (8, ["--speculative-config",
         '{"method":"ngram","num_speculative_tokens":8,"prompt_lookup_max":4,"prompt_lookup_min":2}']),
])
def test_speculation_args(tokens: int, expected: list[str]) -> None:
    assert speculation_args(tokens) == expected


def test_generic_prompt_answered_in_qwen_markers_leaves_no_marker_in_the_rewrite() -> None:
    generic = TEMPLATES["generic"]
    answer = f"{S}\ndef f(w):\n{C}    return w\n{E}"
    assert parse_rewrite(answer, generic, REGION) == "def f(w):\n    return w\n"
