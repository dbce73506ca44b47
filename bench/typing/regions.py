"""Where a cursor stands in the original file: code, or prose (a docstring, another string, a comment).

Read from tree-sitter's tree of the whole original, so the answer never depends on a window.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import tree_sitter

from context.languages import parser_for

PROSE = ("docstring", "string", "comment")
_BODIES = {"module", "block"}


@dataclass(frozen=True)
class Regions:
    """Non-overlapping prose intervals (str offsets), sorted."""

    starts: tuple[int, ...]
    ends: tuple[int, ...]
    kinds: tuple[str, ...]

    def at(self, offset: int) -> str:
        """The kind of text a cursor at `offset` types into."""
        i = bisect.bisect_right(self.starts, offset - 1) - 1  # the last interval starting before the cursor
        if i < 0:
            return "code"
        start, end, kind = self.starts[i], self.ends[i], self.kinds[i]
        # Inside a string means between its quotes; a comment goes on up to its line end.
        inside = start < offset < end or (kind == "comment" and offset == end)
        return kind if inside else "code"


def regions(source: str) -> Regions:
    parser = parser_for("python")
    assert parser is not None
    data = source.encode("utf-8")
    tree = parser.parse(data)
    found: list[tuple[int, int, str]] = []
    _collect(tree.root_node, found)
    chars = _char_offsets(data)
    found = sorted((chars(s), chars(e), k) for s, e, k in found)
    return Regions(tuple(s for s, _, _ in found), tuple(e for _, e, _ in found), tuple(k for _, _, k in found))


def _collect(node: tree_sitter.Node, out: list[tuple[int, int, str]]) -> None:
    if node.type == "comment":
        out.append((node.start_byte, node.end_byte, "comment"))
        return
    if node.type == "string":  # f-string interpolations count as the string they sit in
        out.append((node.start_byte, node.end_byte, "docstring" if _is_docstring(node) else "string"))
        return
    for child in node.children:
        _collect(child, out)


def _is_docstring(node: tree_sitter.Node) -> bool:
    statement = node.parent
    if statement is None or statement.type != "expression_statement" or statement.named_child_count != 1:
        return False
    body = statement.parent
    if body is None or body.type not in _BODIES:
        return False
    first = next((child for child in body.named_children if child.type != "comment"), None)
    return first is not None and first.id == statement.id


def _char_offsets(data: bytes):  # type: ignore[no-untyped-def]
    """UTF-8 byte offset → str offset (identity for ASCII files)."""
    if data.isascii():
        return lambda byte: byte
    return lambda byte: len(data[:byte].decode("utf-8", errors="replace"))
