from __future__ import annotations

import time
from dataclasses import dataclass

import pytest

from context.fim import template_by_name
from context.prompt import BudgetSplit, PromptInputs, build_fim_prompt, select_snippets
from context.tokens import EstimateCounter, LineCountCache

QWEN = template_by_name("qwen")


@dataclass(frozen=True)
class Snip:
    path: str
    text: str
    score: float
    kind: str = "definition"


class CharCounter:
    def count(self, text: str) -> int:
        return len(text)


def numbered_file(lines: int) -> str:
    return "".join(f"value_{i} = {i}\n" for i in range(lines))


def inputs_at_end(text: str, **kwargs: object) -> PromptInputs:
    return PromptInputs(language_id="python", path="m.py", text=text, offset=len(text), **kwargs)  # type: ignore[arg-type]


def test_small_file_is_included_whole_in_fim_order() -> None:
    text = "import os\n\ndef f():\n    return 1\n"
    offset = text.index("return")
    built = build_fim_prompt(PromptInputs("python", "m.py", text, offset), QWEN, EstimateCounter(), 1000)
    assert built.prefix_used == text[:offset]
    assert built.suffix_used == text[offset:]
    assert built.text == f"<|fim_prefix|>{text[:offset]}<|fim_suffix|>{text[offset:]}<|fim_middle|>"
    assert built.text[: built.stable_prefix_len].endswith("def f():\n")


def test_budget_is_respected_and_split() -> None:
    text = numbered_file(3000)
    offset = text.index("value_1500 =")
    counter = CharCounter()
    built = build_fim_prompt(PromptInputs("python", "m.py", text, offset), QWEN, counter, 2000)
    assert counter.count(built.text) <= 2000
    sections = dict(built.sections)
    assert sections["suffix"] <= 2000 * 0.25
    # A fresh window fills WINDOW_FILL of its share, leaving room to type before it moves.
    assert sections["prefix"] >= 2000 * 0.6 * 0.6
    assert built.suffix_used.endswith("\n") and built.prefix_used.startswith("value_")


def test_typing_on_the_last_line_only_appends() -> None:
    base = numbered_file(2000)
    counter = CharCounter()
    previous = None
    for typed in ["r", "re", "res", "resu", "result = compute(", "result = compute(value_1999)"]:
        built = build_fim_prompt(inputs_at_end(base + typed), QWEN, counter, 1500)
        stable = built.text[: built.stable_prefix_len]
        if previous is not None:
            assert built.text.startswith(previous)  # the backend can reuse all of it
        previous = stable


def test_window_start_moves_in_snapped_steps() -> None:
    counter = CharCounter()
    starts = set()
    for lines in range(2000, 2064):
        built = build_fim_prompt(inputs_at_end(numbered_file(lines)), QWEN, counter, 1500, snap_lines=16)
        first_line = built.prefix_used.split("\n", 1)[0]
        starts.add(int(first_line.split("_")[1].split(" ")[0]))
    assert all(start % 16 == 0 for start in starts)
    assert len(starts) <= 5  # 64 new lines move the start at most once per 16


def test_imports_and_scope_header_are_kept_when_the_window_cannot_reach_them() -> None:
    body = "".join(f"    step_{i}()\n" for i in range(400))
    text = "import os\nimport sys\n\ndef long_function():\n" + body + "    "
    scope_start = text.index("def long_function")
    built = build_fim_prompt(
        inputs_at_end(text, imports="import os\nimport sys\n", scope_range=(scope_start, len(text))),
        QWEN,
        CharCounter(),
        1200,
    )
    assert built.prefix_used.startswith("import os\nimport sys\ndef long_function():\n    step_")
    assert dict(built.sections)["head"] > 0


def test_context_snippets_come_first_in_a_stable_order() -> None:
    text = "x = helper(█)\n"
    offset = text.index("█")
    text = text.replace("█", "")
    snippets_a = [Snip("b.py", "def beta(): ...", 0.9), Snip("a.py", "def alpha(): ...", 0.5)]
    snippets_b = [Snip("a.py", "def alpha(): ...", 0.95), Snip("b.py", "def beta(): ...", 0.1)]
    similar = [Snip("c.py", "gamma = 3", 0.99, "similar")]
    prompts = [
        build_fim_prompt(
            PromptInputs("python", "m.py", text, offset, "repo", definitions=defs, similar=similar),
            QWEN,
            EstimateCounter(),
            1000,
        ).text
        for defs in (snippets_a, snippets_b)
    ]
    assert prompts[0] == prompts[1]  # scores changed, order did not
    assert prompts[0].index("a.py") < prompts[0].index("b.py") < prompts[0].index("c.py")
    assert prompts[0].startswith("<|repo_name|>repo\n<|file_sep|>a.py\n")
    assert prompts[0].index("<|file_sep|>m.py\n<|fim_prefix|>x = helper(") > prompts[0].index("gamma")


def test_snippets_are_chosen_by_score_within_the_budget() -> None:
    inputs = PromptInputs(
        "python", "m.py", "print(1)\n", 0,
        definitions=[Snip("a.py", "a" * 50, 0.1), Snip("b.py", "b" * 50, 0.9), Snip("b.py", "b" * 50, 0.9)],
    )
    chosen = select_snippets(inputs, 60, LineCountCache(CharCounter()))
    assert [s.path for s in chosen] == ["b.py"]


def test_snippets_already_visible_in_the_file_are_dropped() -> None:
    text = "def local():\n    return 1\n\nlocal()\n"
    inputs = PromptInputs("python", "m.py", text, len(text), definitions=[Snip("m.py", "def local():", 1.0)])
    assert select_snippets(inputs, 1000, LineCountCache(CharCounter())) == []


def test_templates_without_repo_form_put_context_in_comments() -> None:
    inputs = PromptInputs("go", "m.go", "x := ", 5, definitions=[Snip("u.go", "func U() int", 1.0)])
    built = build_fim_prompt(inputs, template_by_name("deepseek"), EstimateCounter(), 500)
    assert built.text.startswith("<｜fim▁begin｜>// Path: u.go\n// func U() int\nx := <｜fim▁hole｜>")
    assert built.text[: built.stable_prefix_len].endswith("// func U() int\n")


def test_huge_cursor_line_is_cut_from_the_left() -> None:
    text = "y = " + "1 + " * 2000
    built = build_fim_prompt(inputs_at_end(text), QWEN, CharCounter(), 400)
    assert len(built.prefix_used) <= 400 and text.endswith(built.prefix_used)


def test_custom_split_changes_the_suffix_share() -> None:
    text = numbered_file(2000)
    offset = text.index("value_100 =")
    small = build_fim_prompt(
        PromptInputs("python", "m.py", text, offset), QWEN, CharCounter(), 2000, BudgetSplit(0.1, 0.85, 0.05)
    )
    assert dict(small.sections)["suffix"] <= 100


@pytest.mark.parametrize("repeat", [200])
def test_assembly_on_a_5000_line_file_is_well_under_a_millisecond(repeat: int) -> None:
    text = "".join(f"    result_{i} = compute(value_{i}, factor={i % 7})  # step {i}\n" for i in range(5000))
    offset = text.index("    result_4000")
    inputs = PromptInputs(
        "python", "big.py", text, offset, "repo",
        definitions=[Snip("lib.py", "def compute(value, factor):\n    return value * factor\n", 1.0)],
    )
    counter = EstimateCounter()
    build_fim_prompt(inputs, QWEN, counter, 2048)
    start = time.perf_counter()
    for _ in range(repeat):
        build_fim_prompt(inputs, QWEN, counter, 2048)
    per_call = (time.perf_counter() - start) / repeat
    assert per_call < 0.001


def test_window_hint_keeps_the_start_until_it_no_longer_fits() -> None:
    """Typing new lines keeps the window start (and so the whole cached prefix) until the budget is spent."""
    from dataclasses import replace

    counter = CharCounter()
    text = numbered_file(3000)
    offset = text.index("value_1500 =")
    first = build_fim_prompt(PromptInputs("python", "m.py", text, offset), QWEN, counter, 2000)
    hint = first.window_start_line
    starts = set()
    for extra_lines in range(0, 40, 4):
        typed = text[:offset] + "x = 1\n" * extra_lines + text[offset:]
        cursor = offset + len("x = 1\n") * extra_lines
        built = build_fim_prompt(replace(PromptInputs("python", "m.py", typed, cursor), window_hint_line=hint),
                                 QWEN, counter, 2000)
        starts.add(built.window_start_line)
        assert built.text.startswith(first.text[: first.stable_prefix_len - len("value_1500 =")][:500])
    assert starts == {hint}
    # Far beyond the budget the window has to move on.
    moved = build_fim_prompt(replace(PromptInputs("python", "m.py", text, text.index("value_2500 =")),
                                     window_hint_line=hint), QWEN, counter, 2000)
    assert moved.window_start_line > hint
