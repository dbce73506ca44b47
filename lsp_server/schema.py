"""JSON schema for the `ghostwriter` settings, generated from lsp_server/settings.py.

Editor clients (VS Code's contributes.configuration, the LSP4IJ template) are generated from this
schema, and a test fails when a checked-in copy drifts. Descriptions come from the attribute
docstrings in settings.py, read with `ast` so the settings module stays plain attrs classes.

    python -m lsp_server.schema > editors/schema/ghostwriter.schema.json
"""

from __future__ import annotations

import ast
import inspect
import json
import typing
from typing import Any, Literal, get_args, get_origin

import attrs

from lsp_server import settings as settings_module
from lsp_server.settings import Settings
from lsp_server.settings_codec import attribute_to_wire


def attribute_docs(cls: type) -> dict[str, str]:
    """Map field name → the docstring that follows its annotation in the class body."""
    tree = ast.parse(inspect.getsource(cls))
    body = tree.body[0].body  # type: ignore[attr-defined]
    docs: dict[str, str] = {}
    for node, following in zip(body, body[1:], strict=False):
        if (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
                and isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant)
                and isinstance(following.value.value, str)):
            docs[node.target.id] = " ".join(following.value.value.split())
    return docs


def schema_for(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls, vars(settings_module))
    docs = attribute_docs(cls)
    defaults = cls()
    properties: dict[str, Any] = {}
    for field in attrs.fields(cls):  # type: ignore[arg-type]
        prop = _type_schema(hints[field.name])
        if not attrs.has(hints[field.name]):
            prop["default"] = _json_default(getattr(defaults, field.name))
        if field.name in docs:
            prop["description"] = docs[field.name]
        properties[attribute_to_wire(field.name)] = prop
    return {"type": "object", "properties": properties, "additionalProperties": False}


def _type_schema(hint: Any) -> dict[str, Any]:
    origin = get_origin(hint)
    if attrs.has(hint):
        return schema_for(hint)
    if origin is Literal:
        values = list(get_args(hint))
        return {"type": "string", "enum": values}
    if origin in (list, tuple):
        return {"type": "array", "items": _type_schema(get_args(hint)[0])}
    if origin is dict:
        return {"type": "object", "additionalProperties": _type_schema(get_args(hint)[1])}
    return {"type": {str: "string", int: "integer", float: "number", bool: "boolean"}[hint]}


def _json_default(value: Any) -> Any:
    if attrs.has(type(value)):
        return attrs.asdict(value)
    return list(value) if isinstance(value, tuple) else value


def settings_schema() -> dict[str, Any]:
    schema = schema_for(Settings)
    schema["$schema"] = "http://json-schema.org/draft-07/schema#"
    schema["title"] = "Ghostwriter settings (section `ghostwriter`)"
    return schema


def flat_properties(schema: dict[str, Any] | None = None, prefix: str = "ghostwriter") -> dict[str, Any]:
    """Dotted keys → leaf schemas, the shape VS Code's contributes.configuration wants."""
    schema = schema or settings_schema()
    flat: dict[str, Any] = {}
    for name, prop in schema["properties"].items():
        key = f"{prefix}.{name}"
        if prop.get("type") == "object" and "properties" in prop:
            flat.update(flat_properties(prop, key))
        else:
            flat[key] = prop
    return flat


if __name__ == "__main__":
    print(json.dumps(settings_schema(), indent=2))
