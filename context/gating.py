"""Should we ask the model at all, and for how much? `completion_kind` decides from the cursor.

NONE skips the request (mid-identifier, or text right of the cursor that a completion could not
fit before); MULTI_LINE is for the start of a block body (after a header that opens a block, or
after a docstring that opens a function or class body) and for the inside of a docstring or
other triple-quoted string; everything else is SINGLE_LINE. Comments and strings are prose:
`Decision.prose` says so, and `closer` is the delimiter a suggestion inside a string must stop
before. The reason is a short string meant for logs and status messages. The tree is consulted
only along the cursor's ancestors, so the cost does not grow with the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import tree_sitter

from context import positions
from context.language_specs import SPECS, LanguageSpec
from context.local_view import open_triple_quote
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
    prose: bool = False
    """Inside a comment or a string: natural language, ended at the line or the closing quotes."""
    closer: str = ""
    """The closing delimiter of the string the cursor is in ("" outside strings)."""

    @property
    def multiline(self) -> bool:
        return self.kind is CompletionKind.MULTI_LINE

    def refuses(self, *, automatic: bool) -> bool:
        """Whether to answer nothing: an automatic request wherever no suggestion fits; an invoked
        one only where text right of the cursor leaves no room (the user asked, so try)."""
        return self.kind is CompletionKind.NONE and (automatic or self.reason == "line-suffix")


_TRIPLE = ('"""', "'''")


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
    if not all(char.isspace() or char in _CLOSERS for char in suffix) and not _only_comment(suffix, spec):
        return Decision(CompletionKind.NONE, "line-suffix")
    if inside is not None:
        return _prose(inside, text, offset, suffix)
    if not text.strip():
        return Decision(CompletionKind.MULTI_LINE, "empty-document")
    if not prefix.strip() and not suffix.strip() and _opens_block(text, line_start, prefix, spec):
        return Decision(CompletionKind.MULTI_LINE, "block-start")
    if not prefix.strip() and not suffix.strip() and _after_opening_docstring(tree, text, line_start, prefix, spec):
        return Decision(CompletionKind.MULTI_LINE, "after-docstring")
    if not suffix.strip() and _ends_with_opener(prefix, spec):
        return Decision(CompletionKind.MULTI_LINE, "after-block-opener")
    return Decision(CompletionKind.SINGLE_LINE, "single-line")


def _only_comment(line_suffix: str, spec: LanguageSpec | None) -> bool:
    """Right of the cursor there is only a trailing comment: code typed before it fits."""
    comment = spec.line_comment if spec is not None else ""
    return bool(comment) and line_suffix.strip().startswith(comment)


def _prose(where: str, text: str, offset: int, line_suffix: str) -> Decision:
    """A comment runs to the line end; a string to its closing quotes (a triple-quoted one spans lines)."""
    if where == "in-comment":
        return Decision(CompletionKind.SINGLE_LINE, "comment", prose=True)
    closer = _string_closer(text, offset, line_suffix)
    if closer in _TRIPLE:
        return Decision(CompletionKind.MULTI_LINE, "docstring", prose=True, closer=closer)
    return Decision(CompletionKind.SINGLE_LINE, "string", prose=True, closer=closer)


def _string_closer(text: str, offset: int, line_suffix: str) -> str:
    """The delimiter that already closes the string around `offset` after it; "" when none does."""
    line_start = text.rfind("\n", 0, offset) + 1
    for triple in _TRIPLE:
        # An odd number of triple quotes before the cursor: one is open.
        if text.count(triple, 0, offset) % 2 == 1:
            return triple if triple in text[offset:] else ""
    quote = next((char for char in reversed(text[line_start:offset]) if char in _QUOTES), "")
    # Where the string is not closed yet, the answer closes it itself (and may go on with code).
    return quote if quote and quote in line_suffix else ""


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
    if spec is not None and spec.indented_blocks and open_triple_quote(text, offset) is not None:
        # A docstring being typed has no closing quotes yet: the tree (of a window that may end
        # before any later quotes) reads the rest as broken code, the lexical scan does not.
        return "in-string"
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


def _after_opening_docstring(tree: tree_sitter.Tree | None, text: str, line_start: int, prefix: str,
                             spec: LanguageSpec | None) -> bool:
    """The cursor sits, at the body's indentation, right after the docstring that opens a def or class."""
    if tree is None or spec is None or not spec.indented_blocks or line_start < 2:
        return False
    previous_end = len(text[:line_start].rstrip())
    if previous_end == 0 or text[previous_end - 3:previous_end] not in _TRIPLE:
        return False
    byte = positions.byte_offset(text, previous_end)
    node = tree.root_node.descendant_for_byte_range(byte - 1, byte)
    while node is not None and node.type != "expression_statement":
        node = node.parent
    block = node.parent if node is not None else None
    owner = block.parent if block is not None else None
    if node is None or block is None or owner is None or block.named_children[0] != node:
        return False
    if owner.type not in ("function_definition", "class_definition"):
        return False
    docstring_line = text[text.rfind("\n", 0, positions.offset_of_byte(text, node.start_byte)) + 1:]
    return _indent(prefix) == _indent(docstring_line)


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
