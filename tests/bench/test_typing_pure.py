"""The typing replay's pure parts, table-driven: keys, verdicts, the oracle's cursor, regions, prompts."""

from __future__ import annotations

import pytest

from bench.typing.floor_server import prompt as floor_prompt
from bench.typing.oracle import locate
from bench.typing.regions import regions
from bench.typing.replay import Record
from bench.typing.report import at_line_end, summary
from bench.typing.score import needed, verdict
from bench.typing.script import Key, Pace, initial_buffer, keys
from bench.typing.tabby_api import fim_prompt

SOURCE = '''import os


def area(width, height):
    """Return the area of a rectangle.

    Both sides must be positive.
    """
    # multiply the two sides
    return width * height


def label(name):
    return "<" + name + ">"


def tail():
    return 1
'''
SPAN_START = SOURCE.index("def area")
SPAN_END = SOURCE.index('    return "<"') - 1  # the newline ending `def label(name):`


def _play(all_keys: list[Key]) -> list[str]:
    buffer = initial_buffer(SOURCE, SPAN_START, SPAN_END)
    states = []
    for key in all_keys:
        buffer = buffer[: key.start] + key.text + buffer[key.end :]
        states.append(buffer)
    return states


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_keys_type_the_span_back(seed: int) -> None:
    pace = Pace(typo_rate=0.2, jump_rate=0.9)
    all_keys = keys(SOURCE, SPAN_START, SPAN_END, seed, pace)
    states = _play(all_keys)
    assert states[-1] == SOURCE
    span = SOURCE[SPAN_START:SPAN_END]
    for key, state in zip(all_keys, states, strict=True):
        if key.consistent:  # only the untyped rest of the span is missing
            assert state == SOURCE[: SPAN_START + key.typed] + SOURCE[SPAN_END:]
        else:
            assert state != SOURCE[: SPAN_START + key.typed] + SOURCE[SPAN_END:]
        if key.at_point:
            assert key.cursor == SPAN_START + key.typed + (0 if key.consistent else 1)
    kinds = {key.kind for key in all_keys}
    assert {"char", "enter", "typo", "backspace", "jump", "back"} <= kinds
    for key in all_keys:  # indentation comes with Enter (auto-indent), never blank by blank
        at = key.typed - 1
        if key.kind == "char" and (at == 0 or span[at - 1] == "\n"):
            assert span[at] not in " \t"


def test_keys_are_seeded() -> None:
    assert keys(SOURCE, SPAN_START, SPAN_END, 7) == keys(SOURCE, SPAN_START, SPAN_END, 7)
    assert keys(SOURCE, SPAN_START, SPAN_END, 7) != keys(SOURCE, SPAN_START, SPAN_END, 8)


def test_jumps_land_outside_the_span_and_come_back() -> None:
    all_keys = keys(SOURCE, SPAN_START, SPAN_END, 3, Pace(jump_rate=1.0, jump_lines=5))
    states = _play(all_keys)
    jumps = [(k, s) for k, s in zip(all_keys, states, strict=True) if k.kind == "jump"]
    assert jumps
    for key, state in jumps:
        assert not key.at_point and key.text == "" and key.start == key.end
        typing_point = SPAN_START + key.typed
        assert state[: typing_point] == SOURCE[: typing_point]
        # The cursor stands on a line that is not the one being typed.
        assert state.count("\n", 0, key.cursor) != state.count("\n", 0, typing_point)


SPAN = "def f(x):\n    return x\n\n# done"


@pytest.mark.parametrize("typed, expected", [
    (0, len("def f(x):")),  # the rest of the current line
    (4, len("def f(x):")),
    (len("def f(x):"), len("def f(x):\n    return x")),  # at a line end: through the next line with content
    (len("def f(x):\n    return x"), len(SPAN)),  # blank lines, then the comment
    (len(SPAN) - 1, len(SPAN)),
])
def test_needed(typed: int, expected: int) -> None:
    assert needed(SPAN, typed) == expected


ORIGINAL = "head\n" + SPAN + "\ntail\n"
START, END = 5, 5 + len(SPAN)


@pytest.mark.parametrize("typed, inserted, expected", [
    (4, "", "empty"),
    (4, "f(x):", "exact"),
    (4, "f(x):\n    return x", "exact"),  # further than the line is fine
    (4, "f(x):\n    return x\n\n# done", "exact"),  # up to the span's end
    (4, "f(x):\n    return x\n\n# done\ntail", "wrong"),  # never past the span
    (4, "f(x", "short"),
    (4, "g(x):", "wrong"),
    (9, "\n    return x", "exact"),
    (9, "\n    ", "short"),  # only the indentation
])
def test_verdict_of_an_insertion(typed: int, inserted: str, expected: str) -> None:
    buffer = ORIGINAL[: START + typed] + ORIGINAL[END:]
    cursor = START + typed
    result = buffer[:cursor] + inserted + buffer[cursor:]
    assert verdict(ORIGINAL, START, END, typed, buffer, result) == expected


def test_verdict_of_a_replacing_edit() -> None:
    # Tabby's edits replace the word before the cursor with that word and the completion.
    typed = 2
    buffer = ORIGINAL[: START + typed] + ORIGINAL[END:]
    result = buffer[:START] + "def f(x):" + buffer[START + typed :]
    assert verdict(ORIGINAL, START, END, typed, buffer, result) == "exact"
    assert verdict(ORIGINAL, START, END, typed, buffer, buffer[:START] + "xyz f(x):" + buffer[START + typed:]) == \
        "wrong"


FILE = "".join(f"line {i} of the file with some text\n" for i in range(40))


@pytest.mark.parametrize("prefix_end, suffix_start, expected", [
    (300, 350, FILE[300:350]),  # a hole in the middle
    (300, 300, ""),  # nothing missing
    (0, 40, FILE[:40]),  # at the file's start
    (900, len(FILE), FILE[900:]),  # the suffix is empty: the rest of the file
])
def test_locate_finds_the_missing_text(prefix_end: int, suffix_start: int, expected: str) -> None:
    assert locate(["unrelated text\n", FILE], FILE[:prefix_end], FILE[suffix_start:]) == expected


def test_locate_with_context_above_the_prefix_and_a_short_suffix_head() -> None:
    prefix = "# Path: other.py\n# def shared(): ...\n" + FILE[:500]
    assert locate([FILE], prefix, FILE[520:700]) == FILE[500:520]
    # A suffix that crosses the gap of the span being typed still finds the cursor by a shorter head.
    assert locate([FILE], FILE[:200], FILE[200:260] + "TYPED" + FILE[900:]) == ""


def test_locate_gives_nothing_for_a_prefix_not_in_any_file() -> None:
    assert locate([FILE], FILE[:300] + "typo", FILE[300:]) == ""


REGIONS_SOURCE = 'x = 1  # note\ns = "abc"\n\n\ndef f():\n    """Doc."""\n    return s\n'


@pytest.mark.parametrize("needle, shift, expected", [
    ("x = 1", 0, "code"),
    ("# note", 1, "comment"),
    ("\ns =", 0, "comment"),  # a comment goes on up to its line end
    ('"abc"', 0, "code"),  # before the opening quote
    ('"abc"', 1, "string"),
    ('"abc"', 5, "code"),  # after the closing quote
    ('"""Doc', 3, "docstring"),
    ("return s", 0, "code"),
])
def test_regions(needle: str, shift: int, expected: str) -> None:
    assert regions(REGIONS_SOURCE).at(REGIONS_SOURCE.index(needle) + shift) == expected


def test_floor_prompt_windows_cut_at_line_starts() -> None:
    text = "".join(f"{i:05d} " * 20 + "\n" for i in range(200))
    cursor = text.index("00100")
    built = floor_prompt(text, cursor)
    above = built.split("<|fim_prefix|>")[1].split("<|fim_suffix|>")[0]
    below = built.split("<|fim_suffix|>")[1].split("<|fim_middle|>")[0]
    assert text[:cursor].endswith(above) and (above.startswith("0") and text[cursor - len(above) - 1] == "\n")
    assert text[cursor:].startswith(below) and below.endswith("\n") and len(below) <= 2000


@pytest.mark.parametrize("segments, expected", [
    ({"prefix": "a = ", "suffix": "\nb = 2"}, "<|fim_prefix|>a = <|fim_suffix|>\nb = 2<|fim_middle|>"),
    ({"prefix": "a = ", "suffix": ""}, "<|fim_prefix|>a = <|fim_suffix|>\n<|fim_middle|>"),  # empty suffix
    ({"prefix": "a = ", "declarations": [{"filepath": "m.py", "body": "def g():\n    pass"}]},
     "<|fim_prefix|># Path: m.py\n# def g():\n#     pass\na = <|fim_suffix|>\n<|fim_middle|>"),
])
def test_tabby_prompt(segments: dict, expected: str) -> None:
    assert fim_prompt(segments) == expected


@pytest.mark.parametrize("missing, expected", [
    ("\n    return x", True),
    ("   \n\nclass A:", True),
    ("rn x\n", False),
    ("", False),
])
def test_at_line_end(missing: str, expected: bool) -> None:
    assert at_line_end(missing) is expected


def _record(key: int, region: str, verdict: str, measured: bool = True, ms: float = 1.0,
            missing: str = "x") -> Record:
    return Record(key, "char", ms, measured, region, verdict, "s", missing)


def test_summary_counts_where_text_was_missing() -> None:
    records = [_record(0, "code", "exact"), _record(1, "code", "empty", missing="\nnext"),
               _record(2, "docstring", "exact"), _record(3, "comment", "short"),
               _record(4, "code", "offered", measured=False, ms=9.0)]
    row = summary(records, {"calls": 2, "warmups": 1, "prompt_tokens": 500})
    assert row["keys"] == 5
    assert row["all"] == {"n": 4, "coverage": 75.0, "exact": 50.0}
    assert row["code"] == {"n": 2, "coverage": 50.0, "exact": 50.0}
    assert row["prose"] == {"n": 2, "coverage": 100.0, "exact": 50.0}
    assert row["calls_per_100_keys"] == 40.0 and row["warmups"] == 1 and row["prompt_tokens_per_key"] == 100.0
    assert row["offered_where_nothing_missing"] == 1
    assert row["missed"] == {"at_line_end": 1, "in_line": 1}
    assert row["latency_ms"]["p50"] == 1.0 and row["latency_ms"]["max"] == 9.0
