"""Identifiers near the cursor (what cross-file context should define) and the file's imports."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

import tree_sitter

from context.language_specs import SPECS, node_text
from context.languages import language_for
from context.syntax import SyntaxTree

_IDENTIFIER = re.compile(r"[^\W\d]\w*")


def identifier_tokens(text: str) -> list[str]:
    """Identifier-like words of any text (the fallback when there is no tree)."""
    return _IDENTIFIER.findall(text)


def imports(syntax: SyntaxTree, *, give_up_after: int = 50) -> list[str]:
    """Source text of the file's top-level imports (one guard level deep), in order.

    Imports live at the top of a file; scanning stops after `give_up_after` consecutive
    top-level statements without one, so the cost does not grow with the file.
    """
    spec = SPECS.get(syntax.language_id)
    tree = syntax.tree
    if spec is None or tree is None:
        return []
    found: list[str] = []
    misses = 0
    node = tree.root_node.named_child(0) if tree.root_node.named_child_count else None
    while node is not None and misses < give_up_after:
        before = len(found)
        if node.type in spec.imports or _is_require(node):
            found.append(node_text(node))
        elif node.type in spec.import_guards:
            # e.g. `if TYPE_CHECKING:` / `try:` around imports in python
            found.extend(node_text(inner) for inner in _walk_shallow(node, 2) if inner.type in spec.imports)
        misses = 0 if len(found) > before else misses + 1
        node = node.next_named_sibling
    return found


def identifiers_near(
    syntax: SyntaxTree, offset: int, *, lines_before: int = 8, lines_after: int = 2, limit: int = 40
) -> list[str]:
    """Distinct identifiers on the lines around `offset`, nearest first, minus the one being typed."""
    index = syntax.line_index
    line = index.line_of(offset)
    first = max(0, line - lines_before)
    last = min(index.line_count - 1, line + lines_after)
    start = index.line_starts[first]
    end = index.line_starts[last + 1] if last + 1 < index.line_count else len(syntax.text)
    tree = syntax.tree
    query = _identifier_query(syntax.language_id)
    if tree is None or query is None:
        return _nearest_words(syntax.text, start, end, offset, limit)
    cursor_byte = syntax.byte_offset(offset)
    query_cursor = tree_sitter.QueryCursor(query)
    query_cursor.set_byte_range(syntax.byte_offset(start), syntax.byte_offset(end))
    nodes = [n for group in query_cursor.captures(tree.root_node).values() for n in group]
    ranked = sorted(
        (_distance(n.start_byte, n.end_byte, cursor_byte), n.start_byte, node_text(n))
        for n in nodes
        if not n.start_byte <= cursor_byte <= n.end_byte
    )
    return _distinct((name for _, _, name in ranked), limit)


def _is_require(node: tree_sitter.Node) -> bool:
    return node.type in ("lexical_declaration", "variable_declaration") and b"require(" in (node.text or b"")


def _walk_shallow(node: tree_sitter.Node, depth: int) -> Iterator[tree_sitter.Node]:
    for child in node.named_children:
        yield child
        if depth > 1:
            yield from _walk_shallow(child, depth - 1)


@functools.cache
def _identifier_query(language_id: str) -> tree_sitter.Query | None:
    spec = SPECS.get(language_id)
    language = language_for(language_id) if spec is not None else None
    if spec is None or language is None:
        return None
    kinds = [kind for kind in spec.identifiers if language.id_for_node_kind(kind, True)]
    return tree_sitter.Query(language, "[" + " ".join(f"({kind})" for kind in kinds) + "] @id")


def _nearest_words(text: str, start: int, end: int, offset: int, limit: int) -> list[str]:
    ranked = sorted(
        (_distance(m.start(), m.end(), offset), m.start(), m.group())
        for m in _IDENTIFIER.finditer(text, start, end)
        if not m.start() <= offset <= m.end()
    )
    return _distinct((word for _, _, word in ranked), limit)


def _distance(start: int, end: int, cursor: int) -> int:
    return start - cursor if start >= cursor else max(0, cursor - end)


def _distinct(names: Iterator[str] | list[str], limit: int) -> list[str]:
    return list(dict.fromkeys(names))[:limit]

