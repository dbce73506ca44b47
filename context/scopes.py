"""Enclosing scopes (function, class, ...) around an offset, looking only at the cursor's ancestors."""

from __future__ import annotations

from dataclasses import dataclass

import tree_sitter

from context.definitions import name_of
from context.language_specs import SPECS, LanguageSpec
from context.syntax import SyntaxTree


@dataclass(frozen=True)
class Scope:
    """A function/class/method-like node around the cursor. Offsets are str offsets."""

    kind: str  # the tree-sitter node type, e.g. "function_definition"
    name: str | None
    text: str
    start: int
    end: int
    start_line: int
    end_line: int


def enclosing_scopes(syntax: SyntaxTree, offset: int) -> list[Scope]:
    """Scopes around `offset`, innermost first; empty without a tree."""
    spec = SPECS.get(syntax.language_id)
    tree = syntax.tree
    if spec is None or tree is None:
        return []
    anchor = _anchor_offset(syntax, offset)
    byte = syntax.byte_offset(anchor)
    node: tree_sitter.Node | None = tree.root_node.descendant_for_byte_range(byte, byte)
    indent = _blank_line_indent(syntax.text, offset) if spec.indented_blocks else None
    scopes = []
    while node is not None:
        if node.type in spec.scopes and (indent is None or node.start_point[1] < indent):
            scopes.append(_scope(syntax, node, spec))
        node = node.parent
    return scopes


def enclosing_scope(syntax: SyntaxTree, offset: int) -> Scope | None:
    """The innermost function/class/method around `offset`, or None at top level."""
    scopes = enclosing_scopes(syntax, offset)
    return scopes[0] if scopes else None


def _scope(syntax: SyntaxTree, node: tree_sitter.Node, spec: LanguageSpec) -> Scope:
    name = name_of(node, spec)
    if name is None and node.parent is not None and node.parent.type == "variable_declarator":
        name = name_of(node.parent, spec)  # const f = () => {...}
    return Scope(
        kind=node.type,
        name=name,
        text=syntax.node_text(node),
        start=syntax.offset_of_byte(node.start_byte),
        end=syntax.offset_of_byte(node.end_byte),
        start_line=node.start_point[0],
        end_line=node.end_point[0],
    )


def _anchor_offset(syntax: SyntaxTree, offset: int) -> int:
    """Where to look up the cursor's node: indentation languages use the last code before it."""
    spec = SPECS.get(syntax.language_id)
    if spec is None or not spec.indented_blocks:
        return offset
    text = syntax.text
    line_start = text.rfind("\n", 0, offset) + 1
    rest = text[offset:_line_end(text, offset)]
    if rest.strip() and not text[line_start:offset].strip():
        # Only indentation before the cursor and code after it (a selection starting at column 1):
        # the line's own code says where we are.
        return offset + len(rest) - len(rest.lstrip())
    # Blocks end at their last token, so a blank line after a body is attributed to that body
    # and then filtered by indentation in enclosing_scopes.
    return max(0, _skip_space_back(text, offset) - 1)


def _blank_line_indent(text: str, offset: int) -> int | None:
    """The cursor's column when only whitespace precedes it on its line, else None."""
    line_start = text.rfind("\n", 0, offset) + 1
    prefix = text[line_start:offset]
    if prefix.strip() or text[offset:_line_end(text, offset)].strip() or _skip_space_back(text, line_start) == 0:
        return None
    return len(prefix.replace("\t", "    "))


def _skip_space_back(text: str, offset: int) -> int:
    """The offset just after the last non-whitespace character before `offset` (0 if none)."""
    while offset > 0 and text[offset - 1].isspace():
        offset -= 1
    return offset


def _line_end(text: str, offset: int) -> int:
    end = text.find("\n", offset)
    return len(text) if end < 0 else end
