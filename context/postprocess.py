"""Pure post-processing of raw model output into the text to insert at the cursor.

Each step is a small function with its own table test; ``postprocess`` runs them in order and
returns None when nothing worth showing is left.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import tree_sitter

from context.fim import FimTemplate, strip_template_tokens
from context.overlap import balance_brackets, bracket_chars, remove_suffix_overlap
from context.syntax_check import rejects_syntax

__all__ = [
    "PostprocessContext", "balance_brackets", "detect_indent_unit", "drop_repetitive_lines",
    "fix_indentation", "postprocess", "rejects_syntax", "remove_suffix_overlap", "stop_at_block_end",
    "strip_code_fences", "strip_think_blocks", "truncate_single_line",
]

FENCE = re.compile(r"^[ \t]*```[\w.+-]*[ \t]*\n(.*?)(?:\n[ \t]*```[ \t]*(?:\n|\Z)|\Z)", re.DOTALL | re.MULTILINE)
THINK = re.compile(r"<think>.*?</think>\s*", re.DOTALL)
TAB_WIDTH = 4
BRACE_CLOSER_LINE = re.compile(r"^[)\]}]+[;,)]*$")
MAX_REPEAT_PERIOD = 4
MIN_REPEATS = 3


def strip_code_fences(text: str) -> str:
    """Chat models wrap code in Markdown fences; keep the first fenced body."""
    match = FENCE.search(text)
    return match.group(1) if match else text


def strip_think_blocks(text: str) -> str:
    """Drop reasoning: whole ``<think>`` blocks, an unterminated one, or text before a bare ``</think>``."""
    text = THINK.sub("", text)
    if "</think>" in text:
        text = text.split("</think>", 1)[1].lstrip("\n")
    if text.lstrip().startswith("<think>"):
        return ""
    return text


def truncate_single_line(completion: str) -> str:
    return completion.split("\n", 1)[0].rstrip("\r")


def _width(whitespace: str) -> int:
    return len(whitespace.expandtabs(TAB_WIDTH))


def _leading(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def detect_indent_unit(document: str) -> str:
    """Tab when tab-indented lines dominate; else 2 spaces when many lines sit at 2 mod 4, else 4."""
    tabs = 0
    widths: list[int] = []
    for line in document.split("\n")[:2000]:
        lead = _leading(line)
        if lead and line.strip():
            if lead.startswith("\t"):
                tabs += 1
            else:
                widths.append(len(lead))
    if tabs > len(widths):
        return "\t"
    two_space = sum(1 for width in widths if width % 4 == 2)
    return "  " if widths and two_space * 5 >= len(widths) else "    "


def _reindent(line: str, indent_unit: str, source_step: int) -> str:
    lead = _leading(line)
    if not lead or not line.strip():
        return line
    width = _width(lead)
    if indent_unit == "\t":
        levels, extra = divmod(width, source_step)
        return "\t" * levels + " " * extra + line[len(lead) :]
    unit = len(indent_unit)
    if width % unit in (1, unit - 1) and unit > 1:
        width = (width + unit // 2) // unit * unit  # off by one column: snap to the grid
    return " " * width + line[len(lead) :]


def fix_indentation(completion: str, cursor_line_prefix: str, indent_unit: str) -> str:
    """Match the document's tabs/spaces, snap off-by-one indents, and keep the first line relative.

    The first line is inserted at the cursor column, so when the cursor already sits at the
    indentation and the model repeats it, the repeat is removed.
    """
    lines = completion.split("\n")
    first = lines[0]
    if cursor_line_prefix and not cursor_line_prefix.strip():
        if _width(_leading(first)) == _width(cursor_line_prefix):
            first = first.lstrip(" \t")
    # Models write space indents in steps of 4 far more often than any other width. A line inside
    # open parentheses or brackets is aligned to them (e.g. under an argument), not indented: it stays as written.
    fixed = [first]
    depth = _bracket_depth(cursor_line_prefix + first)
    for line in lines[1:]:
        fixed.append(line if depth > 0 else _reindent(line, indent_unit, TAB_WIDTH))
        depth = max(0, depth + _bracket_depth(line))
    return "\n".join(fixed)


def _bracket_depth(line: str) -> int:
    """Openers minus closers on a line, outside strings and comments (see overlap.bracket_chars).

    A `{` that ends its line opens a block in brace languages, whose lines are indented, not
    aligned: it does not count. One inside the line opens a literal (a dict in Python), which does.
    """
    depth = 0
    last = len(line.rstrip()) - 1
    for index, char in bracket_chars(line):
        if char in "([" or (char == "{" and index != last):
            depth += 1
        elif char in ")]}":
            depth -= 1
    return depth


def stop_at_block_end(completion: str, base_indent: str, language_id: str | None) -> str:
    """Keep lines 2+ while they stay inside the cursor's block; a lone closer line ends it (kept)."""
    base = _width(base_indent)
    lines = completion.split("\n")
    kept = [lines[0]]
    for line in lines[1:]:
        if line.strip() and _width(_leading(line)) < base:
            if language_id != "python" and BRACE_CLOSER_LINE.match(line.strip()):
                kept.append(line)
            break
        kept.append(line)
    return "\n".join(kept).rstrip()


def _repeat_start(lines: list[str]) -> tuple[int, int] | None:
    """(start, period) of the first block of 1..4 non-blank lines repeated 3+ times in a row."""
    for start in range(len(lines)):
        for period in range(1, MAX_REPEAT_PERIOD + 1):
            block = lines[start : start + period]
            if len(block) < period or not any(line.strip() for line in block):
                continue
            span = block * MIN_REPEATS
            if lines[start : start + period * MIN_REPEATS] == span:
                return start, period
    return None


def drop_repetitive_lines(completion: str, prefix: str = "") -> str:
    """Collapse runaway repetition to one copy; return "" when the completion rewrites the line above."""
    lines = completion.split("\n")
    found = _repeat_start(lines)
    if found is not None:
        start, period = found
        lines = lines[: start + period]
    prefix_lines = prefix.split("\n")
    cursor_line, above = prefix_lines[-1], [line for line in prefix_lines[:-1] if line.strip()]
    first = next((line for line in lines if line.strip()), "")
    if not cursor_line.strip() and above and first.strip() == above[-1].strip():
        return ""
    return "\n".join(lines).rstrip()


@dataclass(frozen=True)
class PostprocessContext:
    document: str
    offset: int
    language_id: str | None = None
    template: FimTemplate | None = None
    multiline: bool = True
    indent_unit: str | None = None  # None: detected from the document
    check_syntax: bool = True
    tree: tree_sitter.Tree | None = None
    """The document's current tree (a copy), for an incremental syntax check instead of two full parses."""
    prose: bool = False
    """The cursor is in a comment or string: the answer is text, not code."""
    closer: str = ""
    """The delimiter that ends the string the cursor is in; the answer stops before it."""


def postprocess(raw: str, ctx: PostprocessContext) -> str | None:
    text = strip_template_tokens(raw, ctx.template) if ctx.template else raw
    if ctx.prose:
        return postprocess_prose(text, ctx)
    text = strip_code_fences(strip_think_blocks(text)).replace("\r\n", "\n")
    if not ctx.multiline:
        text = truncate_single_line(text)
    prefix, suffix = ctx.document[: ctx.offset], ctx.document[ctx.offset :]
    cursor_line_prefix = prefix[prefix.rfind("\n") + 1 :]
    unit = ctx.indent_unit or detect_indent_unit(ctx.document)
    text = fix_indentation(text, cursor_line_prefix, unit)
    text = drop_repetitive_lines(text, prefix[-4000:])
    text = stop_at_block_end(text, _leading(cursor_line_prefix), ctx.language_id)
    text = remove_suffix_overlap(text, suffix, cursor_line_prefix)
    text = balance_brackets(text, cursor_line_prefix, suffix).rstrip()
    if not text.strip():
        return None
    if ctx.check_syntax and ctx.language_id and rejects_syntax(ctx.document, ctx.offset, text, ctx.language_id,
                                                                    ctx.tree):
        return None
    return text


def postprocess_prose(text: str, ctx: PostprocessContext) -> str | None:
    """Comment and string text: up to the line end (single-line) or the closing quotes, never past them.

    The layout before the closing quotes is kept as written (a docstring's closing quotes on their
    own line need the newline and indentation before them); no bracket balancing or syntax check,
    since prose has neither.
    """
    text = strip_think_blocks(text).replace("\r\n", "\n")
    if ctx.closer and ctx.closer in text and _closed_after_cursor(ctx):
        text = text[: text.index(ctx.closer)]
    if not ctx.multiline:
        text = truncate_single_line(text).rstrip()
    else:
        prefix = ctx.document[: ctx.offset]
        cursor_line_prefix = prefix[prefix.rfind("\n") + 1 :]
        text = _keep_tail_layout(drop_repetitive_lines, text, prefix[-4000:])
        text = _within_indent(text, _leading(cursor_line_prefix))
    suffix = ctx.document[ctx.offset :]
    if text.strip() and suffix.lstrip(" \t").startswith(text.strip()):
        return None  # the rest is already there
    return text if text.strip() else None


def _closed_after_cursor(ctx: PostprocessContext) -> bool:
    """The string's closing quotes are already there: on the cursor line, or (triple) anywhere below.

    Where they are not, the answer's own closing quotes and the code after them are wanted.
    """
    suffix = ctx.document[ctx.offset :]
    if len(ctx.closer) == 3:
        return ctx.closer in suffix
    return ctx.closer in suffix.split("\n", 1)[0]


def _keep_tail_layout(step: Callable[[str, str], str], text: str, prefix: str) -> str:
    """Run a step that strips trailing whitespace, then put back the layout after the last line."""
    body = text.rstrip()
    tail = text[len(body):]
    return step(body, prefix) + tail if body else text


def _within_indent(text: str, base_indent: str) -> str:
    """Stop at the first non-blank line indented less than the cursor's line (the text left its block)."""
    base = _width(base_indent)
    lines = text.split("\n")
    for index, line in enumerate(lines[1:], start=1):
        if line.strip() and _width(_leading(line)) < base:
            return "\n".join(lines[:index]).rstrip()
    return text
