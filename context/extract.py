"""Context extraction over a SyntaxTree: enclosing scopes, imports, nearby identifiers, definitions.

Everything here is a pure function of (SyntaxTree, str offset). Request-path functions look only at
the cursor's ancestors, the root's direct children, or a byte range around the cursor, never at
the whole tree. Node-type tables per language are data (`SPECS`), shared with gating.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import tree_sitter

from context.languages import language_for
from context.syntax import SyntaxTree

MAX_SNIPPET_LINES = 12
_IDENTIFIER = re.compile(r"[^\W\d]\w*")


def _kinds(*names: str) -> frozenset[str]:
    return frozenset(names)


@dataclass(frozen=True)
class LanguageSpec:
    """Node types that matter for context, per grammar."""

    scopes: frozenset[str]  # function/class/method-like nodes
    imports: frozenset[str]
    definitions: dict[str, str]  # node type → kind
    identifiers: tuple[str, ...]
    comments: frozenset[str]
    strings: frozenset[str]
    interpolations: frozenset[str] = frozenset()  # code inside a string: f"{x}", `${x}`
    import_guards: frozenset[str] = frozenset()
    wrappers: frozenset[str] = frozenset()  # export_statement, decorated_definition
    declarator_lists: frozenset[str] = frozenset()  # `const a = 1, b = 2`, `type (A ...; B ...)`
    declarators: dict[str, str] = field(default_factory=dict)  # declarator type → default kind
    member_holders: frozenset[str] = _kinds("class", "interface", "impl", "trait")  # kinds listing members
    name_fields: tuple[str, ...] = ("name",)
    indented_blocks: bool = False
    line_comment: str = "//"
    quotes: str = "\"'`"  # characters that open a string on one line (rust: ' is a lifetime)


_VALUE_KINDS = {
    "arrow_function": "function",
    "function_expression": "function",
    "function": "function",
    "func_literal": "function",
    "class": "class",
    "struct_type": "struct",
    "interface_type": "interface",
}
_JS_SCOPES = _kinds(
    "function_declaration", "generator_function_declaration", "function_expression", "function",
    "arrow_function", "method_definition", "class_declaration", "class", "abstract_class_declaration",
)
_JS_DEFINITIONS = {
    "function_declaration": "function", "generator_function_declaration": "function",
    "class_declaration": "class", "method_definition": "function", "field_definition": "variable",
}
_TS_DEFINITIONS = {
    **_JS_DEFINITIONS, "abstract_class_declaration": "class", "interface_declaration": "interface",
    "type_alias_declaration": "type", "enum_declaration": "enum", "function_signature": "function",
    "public_field_definition": "variable", "method_signature": "function", "abstract_method_signature": "function",
}


def _js_spec(scopes: frozenset[str], definitions: dict[str, str], identifiers: tuple[str, ...]) -> LanguageSpec:
    return LanguageSpec(
        scopes=scopes,
        imports=_kinds("import_statement"),
        definitions=definitions,
        identifiers=identifiers,
        comments=_kinds("comment"),
        strings=_kinds("string", "template_string"),
        interpolations=_kinds("template_substitution"),
        wrappers=_kinds("export_statement"),
        declarator_lists=_kinds("lexical_declaration", "variable_declaration"),
        declarators={"variable_declarator": "variable"},
        name_fields=("name", "property"),
    )


_JS_IDENTIFIERS = ("identifier", "property_identifier", "shorthand_property_identifier")
_JS = _js_spec(_JS_SCOPES, _JS_DEFINITIONS, _JS_IDENTIFIERS)
_TS = _js_spec(_JS_SCOPES | {"interface_declaration"}, _TS_DEFINITIONS, (*_JS_IDENTIFIERS, "type_identifier"))
SPECS: dict[str, LanguageSpec] = {
    "python": LanguageSpec(
        scopes=_kinds("function_definition", "class_definition"),
        imports=_kinds("import_statement", "import_from_statement", "future_import_statement"),
        definitions={
            "function_definition": "function", "class_definition": "class",
            "expression_statement": "variable", "type_alias_statement": "type",
        },
        identifiers=("identifier",),
        comments=_kinds("comment"),
        strings=_kinds("string"),
        interpolations=_kinds("interpolation"),
        import_guards=_kinds("if_statement", "try_statement"),
        wrappers=_kinds("decorated_definition"),
        name_fields=("name", "left"),
        indented_blocks=True,
        line_comment="#",
    ),
    "javascript": _JS,
    "javascriptreact": _JS,
    "typescript": _TS,
    "typescriptreact": _TS,
    "go": LanguageSpec(
        scopes=_kinds("function_declaration", "method_declaration", "func_literal"),
        imports=_kinds("package_clause", "import_declaration"),
        definitions={"function_declaration": "function", "method_declaration": "method"},
        identifiers=("identifier", "type_identifier", "field_identifier", "package_identifier"),
        comments=_kinds("comment"),
        strings=_kinds("interpreted_string_literal", "raw_string_literal", "rune_literal"),
        declarator_lists=_kinds("type_declaration", "const_declaration", "var_declaration"),
        declarators={"type_spec": "type", "const_spec": "constant", "var_spec": "variable"},
    ),
    "rust": LanguageSpec(
        scopes=_kinds("function_item", "closure_expression", "impl_item", "trait_item", "mod_item"),
        imports=_kinds("use_declaration", "extern_crate_declaration"),
        definitions={
            "function_item": "function", "function_signature_item": "function", "struct_item": "struct",
            "enum_item": "enum", "union_item": "struct", "trait_item": "trait", "impl_item": "impl",
            "type_item": "type", "const_item": "constant", "static_item": "variable",
            "mod_item": "module", "macro_definition": "macro",
        },
        identifiers=("identifier", "type_identifier", "field_identifier"),
        comments=_kinds("line_comment", "block_comment"),
        strings=_kinds("string_literal", "raw_string_literal", "char_literal"),
        name_fields=("name", "type"),
        quotes='"',
    ),
    "java": LanguageSpec(
        scopes=_kinds(
            "method_declaration", "constructor_declaration", "lambda_expression", "class_declaration",
            "interface_declaration", "enum_declaration", "record_declaration",
        ),
        imports=_kinds("package_declaration", "import_declaration"),
        definitions={
            "class_declaration": "class", "interface_declaration": "interface", "enum_declaration": "enum",
            "record_declaration": "class", "annotation_type_declaration": "interface",
            "method_declaration": "function", "constructor_declaration": "function",
        },
        identifiers=("identifier", "type_identifier"),
        comments=_kinds("line_comment", "block_comment"),
        strings=_kinds("string_literal", "character_literal"),
        declarator_lists=_kinds("field_declaration", "constant_declaration"),
        declarators={"variable_declarator": "variable"},
    ),
}


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


@dataclass(frozen=True)
class Definition:
    """A definition of a file: `signature` is its header, `text` its source cut to a few lines."""

    name: str
    kind: str  # "function" | "method" | "class" | "interface" | "struct" | "type" | "variable" | ...
    signature: str
    text: str
    line: int
    container: str | None = None  # the enclosing class/impl for members


def identifier_tokens(text: str) -> list[str]:
    """Identifier-like words of any text (the fallback when there is no tree)."""
    return _IDENTIFIER.findall(text)


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
            found.append(_text(node))
        elif node.type in spec.import_guards:
            # e.g. `if TYPE_CHECKING:` / `try:` around imports in python
            found.extend(_text(inner) for inner in _walk_shallow(node, 2) if inner.type in spec.imports)
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
        (_distance(n.start_byte, n.end_byte, cursor_byte), n.start_byte, _text(n))
        for n in nodes
        if not n.start_byte <= cursor_byte <= n.end_byte
    )
    return _distinct((name for _, _, name in ranked), limit)


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
            names = [_text(n) for n in child.children_by_field_name("name")]  # `var y, z = 2, 3`
            for declared in names:
                yield _definition(declared, kind, outer, outer, container)
        return
    base_kind = spec.definitions.get(node.type)
    name = _name_of(node, spec)
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
    text = _text(outer)
    body = node.child_by_field_name("body")
    if body is not None and body.start_byte > outer.start_byte:
        header = (outer.text or b"")[: body.start_byte - outer.start_byte].decode("utf-8", "replace")
        signature = header.rstrip().rstrip("{").rstrip()
    else:
        signature = text.split("\n", 1)[0].rstrip()
    return Definition(name, kind, signature, _cut_lines(text), outer.start_point[0], container)


def _name_of(node: tree_sitter.Node, spec: LanguageSpec) -> str | None:
    for field_name in spec.name_fields:
        target = node.child_by_field_name(field_name)
        if field_name == "left" and target is not None and target.type not in ("identifier", "type"):
            return None  # `a.b = 1` / `a, b = ...` define nothing nameable here
        if target is not None:
            # `impl Trait for Type`, python annotated targets: take the last identifier-ish word.
            words = identifier_tokens(_text(target))
            return words[-1] if words else None
    if node.type == "expression_statement" and node.named_child_count == 1:
        return _name_of(node.named_children[0], spec)  # python `X = 1` at module level
    return None


def _declarator_kind(declarator: tree_sitter.Node, spec: LanguageSpec) -> str:
    default = spec.declarators.get(declarator.type, "variable")
    value = declarator.child_by_field_name("value") or declarator.child_by_field_name("type")
    return _VALUE_KINDS.get(value.type, default) if value is not None else default


def _scope(syntax: SyntaxTree, node: tree_sitter.Node, spec: LanguageSpec) -> Scope:
    name = _name_of(node, spec)
    if name is None and node.parent is not None and node.parent.type == "variable_declarator":
        name = _name_of(node.parent, spec)  # const f = () => {...}
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
    # Blocks end at their last token, so a blank line after a body is attributed to that body
    # and then filtered by indentation in enclosing_scopes.
    return max(0, _skip_space_back(syntax.text, offset) - 1)


def _blank_line_indent(text: str, offset: int) -> int | None:
    """The cursor's column when only whitespace precedes it on its line, else None."""
    line_start = text.rfind("\n", 0, offset) + 1
    prefix = text[line_start:offset]
    if prefix.strip() or _skip_space_back(text, line_start) == 0:
        return None
    return len(prefix.replace("\t", "    "))


def _skip_space_back(text: str, offset: int) -> int:
    """The offset just after the last non-whitespace character before `offset` (0 if none)."""
    while offset > 0 and text[offset - 1].isspace():
        offset -= 1
    return offset


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


def _text(node: tree_sitter.Node) -> str:
    return (node.text or b"").decode("utf-8", "replace")


def _cut_lines(text: str, max_lines: int = MAX_SNIPPET_LINES) -> str:
    lines = text.split("\n")
    return text if len(lines) <= max_lines else "\n".join([*lines[:max_lines], "..."])
