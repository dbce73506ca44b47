"""Should we ask the model at all, and for how much? `completion_kind` decides from the cursor.

NONE skips the request (mid-identifier, inside a comment or string, or text right of the cursor
that a completion could not fit before); MULTI_LINE is for an empty line that opens a block body;
everything else is SINGLE_LINE. The reason is a short string meant for logs and status messages.
The tree is consulted only along the cursor's ancestors, so the cost does not grow with the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import tree_sitter

from context import positions
from context.extract import SPECS, LanguageSpec
from context.syntax import SyntaxTree

# What may follow the cursor on its line: a completion is inserted before these.
_CLOSERS = ")]}\"'`;,:"
_BLOCK_OPENERS = ("{", "(", "[")
_QUOTES = "\"'`"


class CompletionKind(Enum):
    NONE = "none"
    SINGLE_LINE = "single-line"
    MULTI_LINE = "multi-line"


@dataclass(frozen=True)
class Decision:
    kind: CompletionKind
    reason: str


def completion_kind(
    tree: SyntaxTree | tree_sitter.Tree | None, text: str, offset: int, language_id: str | None
) -> Decision:
    """Decide NONE / SINGLE_LINE / MULTI_LINE for a cursor at str `offset` of `text`."""
    if isinstance(tree, SyntaxTree):
        tree = tree.tree
    offset = max(0, min(offset, len(text)))
    line_start = text.rfind("\n", 0, offset) + 1
    line_end = _line_end(text, offset)
    prefix, suffix = text[line_start:offset], text[offset:line_end]
    spec = SPECS.get(language_id or "")
    if _is_word(text[offset - 1 : offset]) and _is_word(suffix[:1]):
        return Decision(CompletionKind.NONE, "mid-identifier")
    inside = _inside_literal(tree, text, offset, spec, prefix)
    if inside is not None:
        return Decision(CompletionKind.NONE, inside)
    if not all(char.isspace() or char in _CLOSERS for char in suffix):
        return Decision(CompletionKind.NONE, "line-suffix")
    if not text.strip():
        return Decision(CompletionKind.MULTI_LINE, "empty-document")
    if not prefix.strip() and not suffix.strip() and _opens_block(text, line_start, prefix, spec):
        return Decision(CompletionKind.MULTI_LINE, "block-start")
    if not suffix.strip() and _ends_with_opener(prefix, spec):
        return Decision(CompletionKind.MULTI_LINE, "after-block-opener")
    return Decision(CompletionKind.SINGLE_LINE, "single-line")


def _line_end(text: str, offset: int) -> int:
    end = text.find("\n", offset)
    end = len(text) if end < 0 else end
    return end - 1 if end > offset and text[end - 1] == "\r" else end


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"


def _inside_literal(
    tree: tree_sitter.Tree | None, text: str, offset: int, spec: LanguageSpec | None, prefix: str
) -> str | None:
    """'in-comment' / 'in-string' when the cursor is inside one, else None."""
    line_comment = spec.line_comment if spec is not None else _guess_line_comment(prefix)
    if tree is None or spec is None:
        return _scan_line(prefix, line_comment, _QUOTES)
    byte = positions.byte_offset(text, offset)
    if byte == 0:
        return None
    node: tree_sitter.Node | None = tree.root_node.descendant_for_byte_range(byte - 1, byte)
    line_byte = byte - len(prefix.encode("utf-8", "surrogatepass"))
    line_node = tree.root_node.descendant_for_byte_range(line_byte, byte)
    line_has_error = line_node is not None and line_node.has_error
    while node is not None:
        inner = node.start_byte < byte < node.end_byte
        if node.type in spec.interpolations and inner:
            return None
        if node.type in spec.comments and (inner or (byte == node.end_byte and _open_ended(node))):
            return "in-comment"
        if node.type in spec.strings and (inner or (byte == node.end_byte and node.has_error)):
            return "in-string"  # a string missing its closing quote ends at the cursor
        node = node.parent
    # Unterminated strings parse as ERROR nodes; read the line as text instead.
    return _scan_line(prefix, line_comment, spec.quotes) if line_has_error else None


def _open_ended(comment: tree_sitter.Node) -> bool:
    """A line comment still holds a cursor placed right after its last character."""
    source = comment.text or b""
    return not source.endswith((b"*/", b"\n"))


def _scan_line(prefix: str, line_comment: str, quotes: str) -> str | None:
    """Text-only check of the line before the cursor: unclosed quote or a line comment."""
    quote = ""
    index = 0
    while index < len(prefix):
        char = prefix[index]
        if quote:
            if char == "\\":
                index += 1
            elif char == quote:
                quote = ""
        elif char in quotes:
            quote = char
        elif line_comment and prefix.startswith(line_comment, index):
            return "in-comment"
        index += 1
    return "in-string" if quote else None


def _guess_line_comment(prefix: str) -> str:
    return "#" if prefix.lstrip().startswith("#") else "//"


def _opens_block(text: str, line_start: int, prefix: str, spec: LanguageSpec | None) -> bool:
    """The cursor sits on a blank line right after a line that opens a block."""
    previous = _previous_code_line(text, line_start, spec)
    if previous is None:
        return False
    if not _ends_with_opener(previous, spec):
        return False
    if spec is not None and spec.indented_blocks:
        # In python only an indented cursor is inside the new body.
        return _indent(prefix) > _indent(previous)
    return True


def _ends_with_opener(line: str, spec: LanguageSpec | None) -> bool:
    stripped = line.rstrip()
    if spec is None:
        return stripped.endswith((":", *_BLOCK_OPENERS))
    if spec.indented_blocks:
        return stripped.endswith(":") and not stripped.lstrip().startswith(spec.line_comment)
    return stripped.endswith(_BLOCK_OPENERS)


def _previous_code_line(text: str, line_start: int, spec: LanguageSpec | None) -> str | None:
    """The nearest line above that is neither blank nor a whole-line comment."""
    comment = spec.line_comment if spec is not None else "#"
    end = line_start - 1
    while end > 0:
        start = text.rfind("\n", 0, end) + 1
        line = text[start:end].rstrip("\r")
        if line.strip() and not line.lstrip().startswith(comment):
            return line
        end = start - 1
    return None


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))
