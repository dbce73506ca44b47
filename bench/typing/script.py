"""The keystrokes of one replay: a span of real lines deleted, then typed back the way people type.

Keys are what an editor turns into one document change: a character, Enter (with the next line's
indentation, as auto-indent puts it), the first line's indentation, a typo and its Backspace, and a
jump of the cursor to another line and back. Each key carries the think time before it (at speed 1)
and the state after it, so a suggestion can be judged without replaying the editor. Seeded.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

# Neighbouring letters for typos (a slip of the finger, not a random character).
_NEIGHBOURS = dict(zip("qwertyuiopasdfghjklzxcvbnm", "wqrtyuiopoadfghjklkxcvbnmn", strict=True))
_INDENT = re.compile(r"[ \t]*")


@dataclass(frozen=True)
class Pace:
    """Think times in ms at speed 1 and how often people slip or look elsewhere."""

    key: tuple[float, float] = (40.0, 140.0)  # between characters of a word
    word: tuple[float, float] = (0.0, 400.0)  # extra before a word
    line: tuple[float, float] = (400.0, 1500.0)  # extra after Enter
    typo_rate: float = 0.02  # per letter typed
    jump_rate: float = 0.1  # per line end
    jump_lines: int = 40  # how far away a jump may land
    look: tuple[float, float] = (500.0, 2000.0)  # time spent at the other line


@dataclass(frozen=True)
class Key:
    kind: str  # "char" | "enter" | "indent" | "typo" | "backspace" | "jump" | "back"
    pause_ms: float  # think time before the key, at speed 1
    start: int  # buffer offsets of the replaced range, before the key
    end: int
    text: str
    cursor: int  # buffer offset of the cursor after the key
    typed: int  # how much of the span stands typed (correctly) after the key
    consistent: bool  # the buffer is the original with only the untyped rest of the span missing
    at_point: bool  # the cursor is where typing goes on (not at the other end of a jump)


def initial_buffer(original: str, start: int, end: int) -> str:
    return original[:start] + original[end:]


def keys(original: str, start: int, end: int, seed: int | str, pace: Pace = Pace()) -> list[Key]:
    """Every key that types `original[start:end]` back into `initial_buffer(...)`."""
    rng = random.Random(f"typing:{seed}")
    span = original[start:end]
    out: list[Key] = []
    i = 0
    if span and span[0] in " \t":
        indent = _INDENT.match(span).group()  # type: ignore[union-attr]
        out.append(Key("indent", 0.0, start, start, indent, start + len(indent), len(indent), True, True))
        i = len(indent)
    while i < len(span):
        char = span[i]
        at = start + i
        if char == "\n":
            if rng.random() < pace.jump_rate:
                out.extend(_jump(original, start, end, i, rng, pace))
            indent = _INDENT.match(span, i + 1).group()  # type: ignore[union-attr]
            text = "\n" + indent
            out.append(Key("enter", _between(rng, pace.key), at, at, text, at + len(text), i + len(text), True, True))
            i += len(text)
            continue
        pause = _between(rng, pace.key)
        if i and not span[i - 1].isalnum() and char.isalnum():
            pause += _between(rng, pace.word)
        if out and out[-1].kind == "enter":
            pause += _between(rng, pace.line)
        if char.lower() in _NEIGHBOURS and rng.random() < pace.typo_rate:
            slip = _NEIGHBOURS[char.lower()]
            out.append(Key("typo", pause, at, at, slip, at + 1, i, False, True))
            out.append(Key("backspace", _between(rng, (150.0, 400.0)), at, at + 1, "", at, i, True, True))
            pause = _between(rng, pace.key)
        out.append(Key("char", pause, at, at, char, at + 1, i + 1, True, True))
        i += 1
    return out


def _jump(original: str, start: int, end: int, typed: int, rng: random.Random, pace: Pace) -> list[Key]:
    """Look at another line (above the span or below it), then come back to the typing point."""
    here = start + typed
    above = original.count("\n", 0, start)
    total = original.count("\n")
    below = original.count("\n", 0, end) + 1
    choices = list(range(max(0, above - pace.jump_lines), above)) + \
        list(range(below, min(total, below + pace.jump_lines)))
    if not choices:
        return []
    line = rng.choice(choices)
    line_start = _line_start(original, line)
    line_end = original.find("\n", line_start)
    column = rng.randint(0, max(0, line_end - line_start))
    target = line_start + column  # in the original
    cursor = target if target < start else target - (end - start) + typed  # in the buffer
    return [Key("jump", _between(rng, (300.0, 900.0)), here, here, "", cursor, typed, True, False),
            Key("back", _between(rng, pace.look), here, here, "", here, typed, True, True)]


def _line_start(text: str, line: int) -> int:
    at = 0
    for _ in range(line):
        at = text.index("\n", at) + 1
    return at


def _between(rng: random.Random, bounds: tuple[float, float]) -> float:
    return round(rng.uniform(*bounds), 1)
