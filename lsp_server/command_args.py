"""Arguments of `workspace/executeCommand`, checked before a command runs.

Clients send a command's arguments as `[a, b]` or, wrapped once more, `[[a, b]]`; both are
accepted. Arguments of the wrong shape are the client's error: they are answered with JSON-RPC's
Invalid Params, naming what was expected, never with an internal error from deep in a handler.
"""

from __future__ import annotations

from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams


def command_arguments(args: tuple[Any, ...]) -> list[Any]:
    """The arguments as one list, whichever way the client wrapped them."""
    return list(args[0]) if len(args) == 1 and isinstance(args[0], list) else list(args)


def _is_index(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**31


def uri_and_position(args: tuple[Any, ...]) -> tuple[str, types.Position]:
    """`[uri, {line, character}]`, e.g. ghostwriter.explain's."""
    arguments = command_arguments(args)
    where = arguments[1] if len(arguments) > 1 else None
    if (not arguments or not isinstance(arguments[0], str) or not isinstance(where, dict)
            or not _is_index(where.get("line")) or not _is_index(where.get("character"))):
        raise JsonRpcInvalidParams("expected [uri, {line, character}]")
    return arguments[0], types.Position(line=where["line"], character=where["character"])


def uri_and_id(args: tuple[Any, ...]) -> tuple[str, str]:
    """`[uri, id]`, e.g. the inline-diff lenses' `[uri, proposal id]`."""
    arguments = command_arguments(args)
    if (len(arguments) < 2 or not isinstance(arguments[0], str)
            or not isinstance(arguments[1], (str, int)) or isinstance(arguments[1], bool)):
        raise JsonRpcInvalidParams("expected [uri, proposal id]")
    return arguments[0], str(arguments[1])
