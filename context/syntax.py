"""SyntaxTree: the text of one document and its incrementally maintained tree-sitter tree.

Edits are applied to the text at once and to the tree with `Tree.edit`; the reparse is deferred
until `.tree` is next read, so the several content changes of one didChange cost one incremental
parse. Text that is huge or binary-looking (NUL bytes) is tracked but never parsed.
"""

from __future__ import annotations

from typing import Protocol

import tree_sitter

from context import positions
from context.languages import normalise_language_id, parser_for

MAX_PARSE_BYTES = 2_000_000


class HasStartEnd(Protocol):
    """Anything shaped like an LSP Range (lsprotocol's Range included)."""

    @property
    def start(self) -> positions.HasLineCharacter: ...

    @property
    def end(self) -> positions.HasLineCharacter: ...


class SyntaxTree:
    """Text + tree for one document. `tree` is None for unknown languages or unparseable text."""

    def __init__(
        self, language_id: str | None, text: str, *, uri: str = "", max_bytes: int = MAX_PARSE_BYTES
    ) -> None:
        grammar_id = normalise_language_id(language_id, uri)
        self.language_id: str = grammar_id or (language_id or "").lower()
        self.revision = 0  # bumped on every change; a cheap cache key for derived data
        self._max_bytes = max_bytes
        self._parser: tree_sitter.Parser | None = parser_for(grammar_id)
        self._text = text
        self._tree: tree_sitter.Tree | None = None
        self._dirty = True  # the tree (if any) does not reflect the text yet

    @property
    def text(self) -> str:
        return self._text

    @property
    def parseable(self) -> bool:
        """A grammar exists and the text is small enough and not binary."""
        return self._parser is not None and _parseable_bytes(self._text, self._max_bytes) is not None

    @property
    def tree(self) -> tree_sitter.Tree | None:
        if self._dirty:
            self._reparse()
        return self._tree

    @property
    def has_error(self) -> bool:
        tree = self.tree
        return tree is not None and tree.root_node.has_error

    @property
    def line_index(self) -> positions.LineIndex:
        return positions.line_index(self._text)

    def byte_offset(self, offset: int) -> int:
        return self.line_index.byte_offset(offset)

    def offset_of_byte(self, byte: int) -> int:
        return self.line_index.offset_of_byte(byte)

    def node_at(self, offset: int, *, named: bool = False) -> tree_sitter.Node | None:
        """The smallest (named) node starting at or spanning str `offset`, or None without a tree."""
        tree = self.tree
        if tree is None:
            return None
        byte = self.byte_offset(offset)
        root = tree.root_node
        if named:
            return root.named_descendant_for_byte_range(byte, byte)
        return root.descendant_for_byte_range(byte, byte)

    def node_text(self, node: tree_sitter.Node) -> str:
        """The str text of a node, sliced from the current text (node.text is bytes)."""
        index = self.line_index
        return self._text[index.offset_of_byte(node.start_byte) : index.offset_of_byte(node.end_byte)]

    def apply_change(self, range_: HasStartEnd | None, new_text: str,
                     encoding: object = "utf-16") -> tuple[int, int] | None:
        """Apply one LSP content change; `range_` None replaces the whole text.

        Returns the str offsets [start, end) that were replaced, or None for a whole-text replace.
        """
        self.revision += 1
        if range_ is None:
            self._text = new_text
            self._tree = None  # a full replace shares nothing worth reusing
            self._dirty = True
            return None
        enc = positions.normalise_encoding(encoding)
        index = positions.line_index(self._text)
        start = index.offset_at(range_.start.line, range_.start.character, enc)
        end = max(start, index.offset_at(range_.end.line, range_.end.character, enc))
        self.replace(start, end, new_text)
        return start, end

    def apply_changes(self, changes: list[tuple[HasStartEnd | None, str]], encoding: object = "utf-16") -> None:
        """Apply several changes in order, as one didChange delivers them."""
        for range_, new_text in changes:
            self.apply_change(range_, new_text, encoding)

    def replace(self, start: int, end: int, new_text: str) -> None:
        """Replace str offsets [start, end) with `new_text`, keeping the tree edit in step."""
        old = self._text
        index = positions.line_index(old)
        start, end = sorted((max(0, min(start, len(old))), max(0, min(end, len(old)))))
        self._text = old[:start] + new_text + old[end:]
        positions.remember(positions.edited_index(index, start, end, new_text, self._text))
        self._dirty = True
        if self._tree is None:
            return
        start_byte = index.byte_offset(start)
        start_point = index.point_at(start)
        self._tree.edit(
            start_byte=start_byte,
            old_end_byte=index.byte_offset(end),
            new_end_byte=start_byte + len(new_text.encode("utf-8", "surrogatepass")),
            start_point=start_point,
            old_end_point=index.point_at(end),
            new_end_point=positions.end_point(start_point, new_text),
        )

    def _reparse(self) -> None:
        self._dirty = False
        source = _parseable_bytes(self._text, self._max_bytes) if self._parser is not None else None
        if self._parser is None or source is None:
            self._tree = None
            return
        old_tree = self._tree
        self._tree = self._parser.parse(source, old_tree) if old_tree is not None else self._parser.parse(source)


def _parseable_bytes(text: str, max_bytes: int) -> bytes | None:
    """The UTF-8 source to parse, or None for huge or binary-looking text."""
    # len(text) bounds the byte length from below, so huge texts are rejected without encoding.
    if len(text) > max_bytes or "\x00" in text:
        return None
    source = text.encode("utf-8", "surrogatepass")
    return source if len(source) <= max_bytes else None
