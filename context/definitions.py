"""Top-level definitions of a file: name, kind and a short snippet, for cross-file context and hovers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import tree_sitter

from context.identifiers import identifier_tokens
from context.language_specs import SPECS, VALUE_KINDS, LanguageSpec, node_text
from context.syntax import SyntaxTree

MAX_SNIPPET_LINES = 12


@dataclass(frozen=True)
class Definition:
    """A definition of a file: `signature` is its header, `text` its source cut to a few lines."""

    name: str
    kind: str  # "function" | "method" | "class" | "interface" | "struct" | "type" | "variable" | ...
    signature: str
    text: str
    line: int
    container: str | None = None  # the enclosing class/impl for members


def definitions(syntax: SyntaxTree) -> list[Definition]:
    """Top-level definitions of the file, plus members one level inside classes/impls, in order."""
    spec = SPECS.get(syntax.language_id)
    tree = syntax.tree
    if spec is None or tree is None:
        return []
    return [d for node in tree.root_node.named_children for d in _definitions_of(node, node, spec, None)]


def _definitions_of(
    node: tree_sitter.Node, outer: tree_sitter.Node, spec: LanguageSpec, container: str | None
) -> Iterator[Definition]:
    """Definitions declared by `node`; `outer` is the node whose text to show (decorators, export)."""
    if node.type in spec.wrappers:
        inner = node.child_by_field_name("definition") or node.child_by_field_name("declaration")
        if inner is not None:
            yield from _definitions_of(inner, outer, spec, container)
        return
    if node.type in spec.declarator_lists:
        for child in node.named_children:
            if child.type not in spec.declarators:
                continue
            kind = _declarator_kind(child, spec)
            names = [node_text(n) for n in child.children_by_field_name("name")]  # `var y, z = 2, 3`
            for declared in names:
                yield _definition(declared, kind, outer, outer, container)
        return
    base_kind = spec.definitions.get(node.type)
    name = name_of(node, spec)
    if base_kind is None or not name:
        return
    kind = base_kind
    if container is not None and kind == "function":
        kind = "method"
    yield _definition(name, kind, node, outer, container)
    body = node.child_by_field_name("body")
    if container is None and kind in spec.member_holders and body is not None:
        for member in body.named_children:
            yield from _definitions_of(member, member, spec, name)


def _definition(
    name: str, kind: str, node: tree_sitter.Node, outer: tree_sitter.Node, container: str | None
) -> Definition:
    text = node_text(outer)
    body = node.child_by_field_name("body")
    if body is not None and body.start_byte > outer.start_byte:
        header = (outer.text or b"")[: body.start_byte - outer.start_byte].decode("utf-8", "replace")
        signature = header.rstrip().rstrip("{").rstrip()
    else:
        signature = text.split("\n", 1)[0].rstrip()
    return Definition(name, kind, signature, _cut_lines(text), outer.start_point[0], container)


def name_of(node: tree_sitter.Node, spec: LanguageSpec) -> str | None:
    for field_name in spec.name_fields:
        target = node.child_by_field_name(field_name)
        if field_name == "left" and target is not None and target.type not in ("identifier", "type"):
            return None  # `a.b = 1` / `a, b = ...` define nothing nameable here
        if target is not None:
            # `impl Trait for Type`, python annotated targets: take the last identifier-ish word.
            words = identifier_tokens(node_text(target))
            return words[-1] if words else None
    if node.type == "expression_statement" and node.named_child_count == 1:
        return name_of(node.named_children[0], spec)  # python `X = 1` at module level
    return None


def _declarator_kind(declarator: tree_sitter.Node, spec: LanguageSpec) -> str:
    default = spec.declarators.get(declarator.type, "variable")
    value = declarator.child_by_field_name("value") or declarator.child_by_field_name("type")
    return VALUE_KINDS.get(value.type, default) if value is not None else default


def _cut_lines(text: str, max_lines: int = MAX_SNIPPET_LINES) -> str:
    lines = text.split("\n")
    return text if len(lines) <= max_lines else "\n".join([*lines[:max_lines], "..."])

