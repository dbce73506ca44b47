"""What the protocol layer does with messages that are not proper JSON-RPC 2.0 (found by tests/robust).

Every request gets an answer: a request without "jsonrpc", or with a method that is not a string,
is refused with Invalid Request; invalid UTF-8 is read with replacement characters; ids of a type
JSON-RPC does not allow are not noted (a list id used to raise before pygls saw the message).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams, JsonRpcInvalidRequest

from lsp_server.command_args import command_arguments, uri_and_id, uri_and_position
from lsp_server.jsonrpc import GhostwriterProtocol
from lsp_server.server import GhostwriterServer
from lsp_server.stdio import PipeReader, decode_body


def protocol_answers() -> tuple[GhostwriterProtocol, list[tuple[Any, Any]]]:
    protocol: GhostwriterProtocol = GhostwriterServer().protocol  # type: ignore[assignment]
    sent: list[tuple[Any, Any]] = []
    protocol._send_response = lambda msg_id, result=None, error=None: sent.append((msg_id, error))  # type: ignore
    return protocol, sent


@pytest.mark.parametrize(("message", "answered"), [
    ({"id": 7, "method": "textDocument/hover", "params": {}}, True),  # no "jsonrpc"
    ({"id": "x", "method": "shutdown"}, True),
    ({"id": [1], "method": "textDocument/hover"}, False),  # no id to answer to
    ({"id": True, "method": "textDocument/hover"}, False),
    ({"result": 1}, False),
    ([{"jsonrpc": "2.0", "id": 1, "method": "shutdown"}], False),  # a batch: LSP has none
    (42, False),
    (None, False),
])
def test_messages_that_are_not_json_rpc_are_refused_or_dropped(message: Any, answered: bool) -> None:
    protocol, sent = protocol_answers()
    protocol.handle_message(json.loads(json.dumps(message), object_hook=protocol.structure_message))
    assert [msg_id for msg_id, _ in sent] == ([message["id"]] if answered else [])
    if answered:
        assert sent[0][1].code == JsonRpcInvalidRequest.CODE


def test_a_method_that_is_not_a_string_is_an_invalid_request() -> None:
    protocol, sent = protocol_answers()
    with pytest.raises(JsonRpcInvalidRequest):
        protocol.structure_message({"jsonrpc": "2.0", "id": 3, "method": 5})
    assert sent[0][0] == 3 and sent[0][1].code == JsonRpcInvalidRequest.CODE


@pytest.mark.parametrize("msg_id", [[1], {"a": 1}, True, None, 1.5])
def test_ids_json_rpc_does_not_allow_are_not_noted(msg_id: Any) -> None:
    protocol, _ = protocol_answers()
    params = {"textDocument": {"uri": "file:///a.py", "version": 3}, "position": {"line": 0, "character": 0},
              "context": {"triggerKind": 2}}
    protocol.notes.note({"id": msg_id, "method": types.TEXT_DOCUMENT_INLINE_COMPLETION}, params)
    assert not protocol.notes.arrivals and not protocol.notes.versions


@pytest.mark.parametrize(("body", "text"), [
    (b'{"a": "caf\xc3\xa9"}', '{"a": "café"}'),
    (b'{"a": "\xff\xfe"}', '{"a": "\ufffd\ufffd"}'),
    (b'{"a": "\xed\xa0\x80"}', '{"a": "\ud800"}'),  # an encoded surrogate passes, as json.loads lets it
])
def test_bodies_are_decoded_with_invalid_bytes_replaced(body: bytes, text: str) -> None:
    assert decode_body(body) == text


async def test_the_pipe_reader_hands_over_text() -> None:
    stream = asyncio.StreamReader()
    stream.feed_data(b'{"x": "\xff"}')
    stream.feed_eof()
    assert json.loads(await PipeReader(stream).readexactly(11)) == {"x": "\ufffd"}


@pytest.mark.parametrize(("args", "expected"), [
    (("file:///a.py", {"line": 1, "character": 2}), ("file:///a.py", types.Position(1, 2))),
    ((["file:///a.py", {"line": 0, "character": 0}],), ("file:///a.py", types.Position(0, 0))),
])
def test_uri_and_position(args: tuple[Any, ...], expected: tuple[str, types.Position]) -> None:
    assert uri_and_position(args) == expected


@pytest.mark.parametrize("args", [(), (None,), ([],), ("file:///a.py",), (5, {"line": 1, "character": 2}),
                                  ("file:///a.py", {"line": "1", "character": 2}),
                                  ("file:///a.py", {"line": -1, "character": 2}),
                                  ("file:///a.py", {"line": True, "character": 2}), ("file:///a.py", [1, 2])])
def test_uri_and_position_refuses_other_shapes(args: tuple[Any, ...]) -> None:
    with pytest.raises(JsonRpcInvalidParams):
        uri_and_position(args)


@pytest.mark.parametrize(("args", "expected"), [
    (("file:///a.py", "p1"), ("file:///a.py", "p1")), ((["file:///a.py", 3],), ("file:///a.py", "3"))])
def test_uri_and_id(args: tuple[Any, ...], expected: tuple[str, str]) -> None:
    assert uri_and_id(args) == expected


@pytest.mark.parametrize("args", [(), (None,), ("file:///a.py",), ("file:///a.py", None), (1, "p"),
                                  ("file:///a.py", False), ("file:///a.py", {"id": 1})])
def test_uri_and_id_refuses_other_shapes(args: tuple[Any, ...]) -> None:
    with pytest.raises(JsonRpcInvalidParams):
        uri_and_id(args)


def test_command_arguments_unwrap_one_list() -> None:
    assert command_arguments(([1, 2],)) == [1, 2] and command_arguments((1, 2)) == [1, 2]
