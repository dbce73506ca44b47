"""Fuzzing the real server over stdio: random JSON-RPC, malformed frames and out-of-range LSP requests.

Hypothesis generates the inputs (derandomized, a bounded number of examples, so CI runs the same
inputs every time, in well under a minute); after each one the server must have answered every
request that has an id (a result or a JSON-RPC error, never an internal error from a handler that
broke), still be alive, and still serve a normal inline completion on an untouched document.

All examples share one server process, so the client is a raw one (tests/robust/rpc.py) that can
also write broken frames; pytest-lsp's per-test server would restart for every example.
GW_FUZZ_EXAMPLES sets the examples per test (default below) for longer runs.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lsp_server import protocol
from tests.fakes.openai_server import FakeOpenAIServer
from tests.robust import counts
from tests.robust.rpc import RawServer

EXAMPLES = int(os.environ.get("GW_FUZZ_EXAMPLES", "1500"))
FUZZ = settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                suppress_health_check=list(HealthCheck))
PROBE_URI = "file:///fuzz/probe.py"
PROBE_TEXT = "def f(x):\n    return \n"
REPLY = "x + 1"
INTERNAL_ERROR = -32603
tried = {"inputs": 0}
outcomes: Counter[str] = Counter()

ANY_TEXT = st.text(st.characters(codec=None, categories=None), max_size=40)  # surrogates, NULs included
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | ANY_TEXT,
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ANY_TEXT, inner, max_size=4),
                    max_leaves=12)
IDS = st.integers(-(2**31), 2**31) | st.text(max_size=10).map(lambda s: "f" + s)
BAD_IDS = st.none() | st.booleans() | st.floats(allow_nan=False) | st.lists(st.integers(), max_size=2)
SERVED = [  # every request and notification the server registers (lifecycle ones that end the session aside)
    "textDocument/inlineCompletion", "textDocument/completion", "textDocument/hover", "textDocument/codeAction",
    "codeAction/resolve", "textDocument/codeLens", "textDocument/willSaveWaitUntil", "workspace/executeCommand",
    "textDocument/didOpen", "textDocument/didChange", "textDocument/didClose", "textDocument/didSave",
    "$/cancelRequest", "$/setTrace", "workspace/didChangeConfiguration", protocol.DID_SHOW_COMPLETION,
    protocol.DID_ACCEPT_COMPLETION, "ghostwriter/unknown",
]
NOTIFICATIONS = {m for m in SERVED if "/did" in m or m.startswith("$/")}
METHODS = st.sampled_from(SERVED) | ANY_TEXT
COMMANDS = st.sampled_from([*protocol.ALL_COMMANDS, protocol.CMD_COMPLETION_ACCEPTED]) | ANY_TEXT
URIS = st.sampled_from([PROBE_URI, "file:///fuzz/other.py", "", "not a uri", "file:///", "untitled:x",
                        "file:///fuzz/%ZZ.py", "http://127.0.0.1/x.py", "file:///fuzz/a b\0.py"]) | ANY_TEXT
INDEXES = st.integers(-5, 2**31 + 5) | st.sampled_from([0, 1, 2, 3])
POSITIONS = st.fixed_dictionaries({"line": INDEXES, "character": INDEXES})
WRONG_POSITIONS = st.none() | st.text(max_size=3) | st.fixed_dictionaries({"line": ANY_TEXT}) | st.lists(INDEXES)
RANGES = st.fixed_dictionaries({"start": POSITIONS, "end": POSITIONS})
CODE = st.sampled_from(["", "\0\0\0", "x = " + "[" * 5000 + "]" * 5000, "(" * 5000, "{" * 3000 + "\n",
                        "def f(:\n\t\t return ))\n", "\ud800\udfff lone", "\r\n\r\r\n", "é" * 300,
                        "class A:\n" + "".join("    " * i + f"def f{i}():\n" for i in range(1, 200))]) | ANY_TEXT


@pytest.fixture(scope="module")
def server() -> Iterator[RawServer]:
    with FakeOpenAIServer(models=["fuzz-model"]) as fake:
        fake.set_rules([{"reply": REPLY}])
        raw = RawServer(stderr=open(os.environ.get("GW_FUZZ_STDERR", os.devnull), "wb"))  # noqa: SIM115
        options = {"backend": {"kind": "openai", "baseUrl": fake.url, "model": "fuzz-model"},
                   "completion": {"debounceMs": 0}, "cache": {"enabled": False}}
        answer = raw.request("initialize", {"processId": None, "rootUri": None, "capabilities": {},
                                            "initializationOptions": options})
        assert "result" in answer
        raw.notify("initialized", {})
        raw.notify("textDocument/didOpen", {"textDocument": {"uri": PROBE_URI, "languageId": "python",
                                                             "version": 1, "text": PROBE_TEXT}})
        yield raw
        alive = raw.alive()
        frames = raw.frames_sent
        raw.close()
    assert alive, "the server died during fuzzing"
    counts.add("fuzz: inputs tried", tried["inputs"])
    counts.add("fuzz: messages sent", frames)
    counts.REPORT["fuzz: answers"] = dict(sorted(outcomes.items()))
    counts.add("fuzz: server crashes", 0 if alive else 1)


def still_serving(server: RawServer) -> None:
    tried["inputs"] += 1
    assert server.alive()
    answer = server.request("textDocument/inlineCompletion", {
        "textDocument": {"uri": PROBE_URI}, "position": {"line": 1, "character": 11},
        "context": {"triggerKind": 2}})
    assert [item["insertText"] for item in answer["result"]["items"]] == [REPLY]


def answered(server: RawServer, msg_id: Any) -> dict[str, Any]:
    reply = server.wait_for(msg_id)
    assert ("result" in reply) != ("error" in reply), reply
    outcomes["result" if "result" in reply else f"error {reply['error'].get('code')}"] += 1
    if "error" in reply:
        error = reply["error"]
        assert isinstance(error.get("code"), int) and isinstance(error.get("message"), str), reply
        assert error["code"] != INTERNAL_ERROR, f"a handler broke: {error['message']}"
    return reply


def request(server: RawServer, method: str, params: Any) -> dict[str, Any]:
    msg_id = server.fresh_id()
    server.send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
    return answered(server, msg_id)


def fuzz_uri(uri: str) -> str:
    return "file:///fuzz/other.py" if uri == PROBE_URI else uri  # the probe's document stays as it is


@FUZZ
@given(msg_id=IDS, method=METHODS, params=JSON)
def test_random_json_rpc_requests_are_answered(server: RawServer, msg_id: Any, method: str, params: Any) -> None:
    if method in ("initialize", "shutdown", "exit"):
        method = "x/" + method
    if method in NOTIFICATIONS:
        server.notify(method, params)
    else:
        server.send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
        answered(server, msg_id)
    still_serving(server)


@FUZZ
@given(command=COMMANDS, arguments=st.none() | st.lists(JSON, max_size=3) | JSON)
def test_every_command_with_any_arguments_is_answered(server: RawServer, command: str, arguments: Any) -> None:
    params = {"command": command} if arguments is None else {"command": command, "arguments": arguments}
    request(server, "workspace/executeCommand", params)
    still_serving(server)


@FUZZ
@given(message=JSON | st.lists(JSON, max_size=3), msg_id=BAD_IDS, method=METHODS)
def test_malformed_envelopes_leave_the_server_serving(server: RawServer, message: Any, msg_id: Any,
                                                      method: str) -> None:
    server.send(message)  # anything: a number, a batch array, an object without jsonrpc or method
    if method not in ("initialize", "shutdown", "exit"):
        server.send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": {}})  # an id of a wrong type
    if isinstance(message, dict) and isinstance(message.get("id"), (int, str)) and "method" in message:
        answered(server, message["id"])  # without "jsonrpc": refused as an invalid request, still answered
    still_serving(server)


FRAMES = st.sampled_from([None, b"Content-Length: 2\r\n\r\n", b"Content-Length: 2\r\nContent-Type: x\r\n\r\n"])


@FUZZ
@given(junk=st.binary(min_size=1, max_size=64), header=FRAMES)
def test_invalid_utf8_and_broken_bodies_leave_the_server_serving(server: RawServer, junk: bytes,
                                                                 header: bytes | None) -> None:
    # Bytes that are not UTF-8, inside JSON strings (control characters and quotes would make it not JSON).
    text = b"a = \xff\xfe" + bytes(b for b in junk if b >= 0x20 and b not in b'"\\')
    server.write(b'{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":{"uri":'
                 b'"file:///fuzz/u.py","languageId":"python","version":1,"text":"' + text + b'"}}}')
    msg_id = server.fresh_id()
    server.write(b'{"jsonrpc":"2.0","id":"' + msg_id.encode() + b'","method":"textDocument/hover","params":'
                 b'{"textDocument":{"uri":"file:///fuzz/u.py"},"position":{"line":0,"character":5},"x":"'
                 + text + b'"}}')
    answered(server, msg_id)  # invalid UTF-8 in a request: still answered
    if header is None:
        server.write(junk)  # not JSON at all, of a correct length
    else:
        server.write(b"{}", header)
    # (A header without a valid Content-Length desynchronises the stream for good, for any LSP peer.)
    server.notify("textDocument/didClose", {"textDocument": {"uri": "file:///fuzz/u.py"}})
    still_serving(server)


@FUZZ
@given(uri=URIS, version=st.integers(-(2**31), 2**31), text=CODE, ranges=st.lists(RANGES | st.none(), max_size=4),
       where=POSITIONS | WRONG_POSITIONS, language=st.sampled_from(["python", "javascript", "rust", "go",
                                                                     "plaintext", "", "\0"]),
       stale=st.integers(-3, 3),
       method=st.sampled_from(["textDocument/inlineCompletion", "textDocument/hover", "textDocument/codeAction",
                               "textDocument/completion", "textDocument/codeLens",
                               "textDocument/willSaveWaitUntil"]))
def test_out_of_range_lsp_requests_are_answered(server: RawServer, uri: str, version: int, text: str,
                                                ranges: list[Any], where: Any, language: str, stale: int,
                                                method: str) -> None:
    uri = fuzz_uri(uri)
    server.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": language,
                                                            "version": version, "text": text}})
    changes = [{"text": text[::-1]} if r is None else {"range": r, "text": text[:7]} for r in ranges]
    server.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version + stale},
                                             "contentChanges": changes})  # overlapping, past the end, old versions
    server.notify("textDocument/didChange", {"textDocument": {"uri": "file:///fuzz/never-opened.py", "version": 2},
                                             "contentChanges": changes})
    params: dict[str, Any] = {"textDocument": {"uri": uri, "version": version}, "position": where,
                              "context": {"triggerKind": 1, "diagnostics": []}, "reason": 1,
                              "range": {"start": where, "end": {"line": 0, "character": 0}}}
    request(server, method, params)
    server.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    still_serving(server)


def test_large_binary_and_deeply_nested_files(server: RawServer) -> None:
    cases = {"file:///fuzz/big.py": "x = 1\0\n" * 1_500_000,  # 10.5 MB, with NULs
             "file:///fuzz/blob.bin": bytes(range(256)).decode("latin-1") * 40_000,  # 10 MB of "binary"
             "file:///fuzz/nested.py": "x = " + "[" * 5000 + "]" * 5000 + "\n",
             "file:///fuzz/open.js": "f(" * 5000 + "\n"}
    for uri, text in cases.items():
        language = {"py": "python", "js": "javascript"}.get(uri.rsplit(".", 1)[-1], "plaintext")
        server.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": language, "version": 1,
                                                                "text": text}})
        middle = text.count("\n") // 2
        for method in ("textDocument/inlineCompletion", "textDocument/hover", "textDocument/codeAction"):
            msg_id = server.fresh_id()
            server.send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": {
                "textDocument": {"uri": uri}, "position": {"line": middle, "character": 3},
                "context": {"triggerKind": 2, "diagnostics": []},
                "range": {"start": {"line": 0, "character": 0}, "end": {"line": middle, "character": 5}}}})
            reply = server.wait_for(msg_id, timeout=60)
            assert "result" in reply or reply["error"]["code"] != INTERNAL_ERROR, reply
        server.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2}, "contentChanges": [
            {"range": {"start": {"line": middle, "character": 0}, "end": {"line": middle, "character": 0}},
             "text": "y = 2\n"}]})
        server.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
        still_serving(server)
