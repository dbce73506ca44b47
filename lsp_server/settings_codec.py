"""Structure raw camelCase JSON into the snake_case attrs settings classes, one key at a time.

Why not cattrs' structure(): it fails the whole object on the first bad value. Editors send
hand-written settings; one typo must cost only that key, and the message must name it as the
client wrote it. Wire names are the attribute names in camelCase (`size_mb` ↔ `sizeMb`,
`input_per_1m` ↔ `inputPer1M`).
"""

from __future__ import annotations

import re
import typing
from typing import Any, Literal, TypeVar, get_args, get_origin

import attrs

T = TypeVar("T")


def attribute_to_wire(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.upper() if part[:1].isdigit() else part.capitalize() for part in rest)


def wire_to_attribute(name: str) -> str:
    spaced = re.sub(r"(?<=[a-z])(?=\d)", "_", re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name))
    return re.sub(r"(\d)_([a-z])", r"\1\2", spaced.lower())


def merge_dicts(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Deep merge; `override` wins; neither input is modified."""
    result = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merge_dicts(result[key], value)
        else:
            result[key] = value
    return result


def structure(cls: type[T], data: Any, path: str) -> tuple[T, list[str]]:
    """Build `cls` from `data`; bad or unknown keys are reported and left at their defaults."""
    errors: list[str] = []
    if not isinstance(data, dict):
        if data is not None:
            errors.append(f"{path}: expected an object, got {_describe(data)}; using defaults")
        return cls(), errors
    hints = typing.get_type_hints(cls)
    fields = {attribute_to_wire(field.name): field.name for field in attrs.fields(cls)}  # type: ignore[arg-type]
    values: dict[str, Any] = {}
    for key, raw in data.items():
        if key not in fields:
            errors.append(f"{path}.{key}: unknown setting; ignored")
            continue
        value, problem = _convert(hints[fields[key]], raw, f"{path}.{key}")
        errors.extend(problem)
        if value is not _INVALID:
            values[fields[key]] = value
    return cls(**values), errors


_INVALID = object()


def _convert(hint: Any, raw: Any, path: str) -> tuple[Any, list[str]]:
    origin = get_origin(hint)
    if attrs.has(hint):
        if not isinstance(raw, dict):
            return _INVALID, [f"{path}: expected an object, got {_describe(raw)}; using the default"]
        return structure(hint, raw, path)
    if origin is Literal:
        allowed = get_args(hint)
        if raw in allowed:
            return raw, []
        return _INVALID, [f"{path}: must be one of {', '.join(map(repr, allowed))}, got {raw!r}; using the default"]
    if origin in (list, tuple):
        item = get_args(hint)[0]
        if not isinstance(raw, list) or not all(_is_scalar(v, item) for v in raw):
            return _INVALID, [f"{path}: expected a list of {item.__name__}, got {_describe(raw)}; using the default"]
        return origin(item(v) for v in raw), []
    if origin is dict:
        _, value_type = get_args(hint)
        return _convert_mapping(value_type, raw, path)
    if _is_scalar(raw, hint):
        return hint(raw), []
    return _INVALID, [f"{path}: expected {_type_name(hint)}, got {_describe(raw)}; using the default"]


def _convert_mapping(value_type: Any, raw: Any, path: str) -> tuple[Any, list[str]]:
    if not isinstance(raw, dict):
        return _INVALID, [f"{path}: expected an object, got {_describe(raw)}; using the default"]
    result: dict[str, Any] = {}
    errors: list[str] = []
    for key, value in raw.items():
        converted, problem = _convert(value_type, value, f"{path}.{key}")
        errors.extend(problem)
        if converted is not _INVALID:
            result[str(key)] = converted
    return result, errors


def _is_scalar(value: Any, hint: Any) -> bool:
    # bool is an int in Python; a JSON `true` for a number (or 1 for a flag) is a mistake.
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    return False


def _type_name(hint: Any) -> str:
    return {bool: "true or false", int: "an integer", float: "a number", str: "a string"}.get(hint, str(hint))


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def unstructure(obj: Any) -> Any:
    if attrs.has(type(obj)):
        return {attribute_to_wire(f.name): unstructure(getattr(obj, f.name)) for f in attrs.fields(type(obj))}
    if isinstance(obj, dict):
        return {k: unstructure(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [unstructure(v) for v in obj]
    return obj
