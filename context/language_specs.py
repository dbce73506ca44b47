"""Node-type tables per language (data, shared by extraction and gating), and node text."""

from __future__ import annotations

from dataclasses import dataclass, field

import tree_sitter


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


VALUE_KINDS = {
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


def node_text(node: tree_sitter.Node) -> str:
    return (node.text or b"").decode("utf-8", "replace")

