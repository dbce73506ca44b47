"""Completion vs. the text right of the cursor: repeated suffix lines and doubled closers.

Models often re-type what already follows the cursor: the next line (``return x`` when the line
below is ``    return x``), the auto-closed ``)`` or ``")`` of the cursor line, or the ``}`` that
closes the block. These functions cut such repeats; they never add text.
"""

from __future__ import annotations

OPENERS = {"(": ")", "[": "]", "{": "}"}
CLOSERS = {")": "(", "]": "[", "}": "{"}
MIN_PARTIAL_CHARS = 4  # a shorter partial match is too likely to be a coincidence
MIN_PARTIAL_SHARE = 0.6
MAX_OVERLAP_LINES = 8
CLOSER_LINE_CHARS = frozenset(")]};,")


def _indent_width(line: str) -> int:
    return len(line.expandtabs(4)) - len(line.expandtabs(4).lstrip())


def _squash(line: str) -> str:
    return "".join(line.split())


def lines_match(completion_line: str, suffix_line: str) -> bool:
    """Equal ignoring whitespace, or a long enough start of the suffix line."""
    mine, theirs = _squash(completion_line), _squash(suffix_line)
    if not mine:
        return False
    if all(char in CLOSER_LINE_CHARS for char in mine):
        # A lone "}" closes whichever block its indentation says; only the same depth repeats.
        return mine == theirs and _indent_width(completion_line) == _indent_width(suffix_line)
    if mine == theirs:
        return True
    return (
        theirs.startswith(mine)
        and len(mine) >= MIN_PARTIAL_CHARS
        and len(mine) >= MIN_PARTIAL_SHARE * len(theirs)
    )


def _rest_of_line(suffix: str) -> str:
    newline = suffix.find("\n")
    return suffix if newline == -1 else suffix[:newline]


def _following_lines(suffix: str, count: int) -> list[str]:
    """The first non-blank lines below the cursor line."""
    below = suffix.split("\n")[1:]
    return [line for line in below if line.strip()][:count]


def drop_auto_closed_tail(completion: str, suffix: str, prefix_line: str = "") -> str:
    """``x, y):`` typed before an auto-inserted ``):`` becomes ``x, y``.

    Cut only when the cursor line balances at least as well without the repeat, so that
    ``foo(x)`` typed inside ``print(█)`` keeps its own ``)``.
    """
    rest = _rest_of_line(suffix).strip()
    trimmed = completion.rstrip()
    if not rest or not trimmed.endswith(rest):
        return completion
    shorter = trimmed[: len(trimmed) - len(rest)]
    if imbalance(prefix_line + shorter + rest) <= imbalance(prefix_line + completion + rest):
        return shorter
    return completion


def _repeats(mine: str, theirs: str) -> bool:
    """`mine` re-types `theirs`: equal, or a start of it at the same indentation.

    A shorter line at another depth (``return ret`` in an ``if`` body above ``return ret[:n]``)
    is a different statement, not a repeat cut short.
    """
    if not lines_match(mine, theirs):
        return False
    return _squash(mine) == _squash(theirs) or _indent_width(mine) == _indent_width(theirs)


def drop_repeated_suffix_lines(completion: str, suffix: str, prefix_line: str = "") -> str:
    """Cut the completion's last lines when they repeat the first non-blank lines below the cursor."""
    lines = completion.rstrip().split("\n")
    following = _following_lines(suffix, MAX_OVERLAP_LINES)
    # The first line starts at the cursor: its indentation is the cursor line's.
    placed = [(prefix_line if not prefix_line.strip() else "") + lines[0], *lines[1:]]
    for size in range(min(len(lines), len(following)), 0, -1):
        tail = placed[len(lines) - size :]
        if all(_repeats(mine, theirs) for mine, theirs in zip(tail, following[:size], strict=True)):
            kept = lines[: len(lines) - size]
            return "\n".join(kept).rstrip() if kept else ""
    return completion


def remove_suffix_overlap(completion: str, suffix: str, prefix_line: str = "") -> str:
    """Cut repeated lines of the suffix, then repeated text right of the cursor."""
    if "\n" in completion.strip() or not _rest_of_line(suffix).strip():
        completion = drop_repeated_suffix_lines(completion, suffix, prefix_line)
    return drop_auto_closed_tail(completion, suffix, prefix_line)


def bracket_chars(text: str) -> list[tuple[int, str]]:
    """Positions of brackets outside simple string literals and line comments."""
    found: list[tuple[int, str]] = []
    quote = ""
    index = 0
    while index < len(text):
        char = text[index]
        if quote:
            if char == "\\":
                index += 1
            elif char == quote or char == "\n":
                quote = ""
        elif char in "\"'`":
            quote = char
        elif char == "#" or text.startswith("//", index):
            newline = text.find("\n", index)
            index = len(text) if newline == -1 else newline
            continue
        elif char in OPENERS or char in CLOSERS:
            found.append((index, char))
        index += 1
    return found


def _open_stack(text: str) -> list[str]:
    stack: list[str] = []
    for _, char in bracket_chars(text):
        if char in OPENERS:
            stack.append(char)
        elif stack and stack[-1] == CLOSERS[char]:
            stack.pop()
    return stack


def imbalance(text: str) -> int:
    """Unclosed openers plus closers that match nothing."""
    stack: list[str] = []
    stray = 0
    for _, char in bracket_chars(text):
        if char in OPENERS:
            stack.append(char)
        elif stack and stack[-1] == CLOSERS[char]:
            stack.pop()
        else:
            stray += 1
    return stray + len(stack)


def _leading_closers(suffix: str) -> str:
    """Closers the suffix supplies next: right of the cursor, or the next non-blank line's start."""
    closers = ""
    for char in suffix.lstrip():
        if char in CLOSERS:
            closers += char
        elif not char.isspace():
            break
    return closers


def balance_brackets(completion: str, prefix_line: str, suffix: str) -> str:
    """Cut closers that match nothing, and trailing closers that the suffix already supplies."""
    stack = _open_stack(prefix_line)
    supplied = _leading_closers(suffix)
    for index, char in bracket_chars(completion):
        if char in OPENERS:
            stack.append(char)
        elif stack and stack[-1] == CLOSERS[char]:
            stack.pop()
        elif stack or supplied.startswith(char):
            # A mismatched closer, or one for an outer block that the suffix closes already.
            completion = completion[:index].rstrip()
            break
    # Only the cursor line's openers are known, so only its own closers are weighed here.
    return _drop_closers_suffix_needs(completion, prefix_line, _leading_closers(_rest_of_line(suffix)))


def _drop_closers_suffix_needs(completion: str, prefix_line: str, supplied: str) -> str:
    """``print(f(x))`` before an auto-closed ``)``: the suffix's ``)`` needs the last opener back."""
    while supplied:
        stack = _open_stack(prefix_line + completion)
        needed = len(supplied) - _matched_count(stack, supplied)
        trimmed = completion.rstrip()
        if needed <= 0 or not trimmed or trimmed[-1] not in CLOSERS:
            return completion
        completion = trimmed[:-1]
    return completion


def _matched_count(stack: list[str], closers: str) -> int:
    remaining = list(stack)
    matched = 0
    for char in closers:
        if not remaining or remaining[-1] != CLOSERS[char]:
            break
        remaining.pop()
        matched += 1
    return matched
