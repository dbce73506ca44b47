"""Settings over the wire, bad input, doctor and TCP: the foundation, end to end."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.e2e.conftest import MODEL, SERVER_ENV, inline_params, model_calls, open_document, send_raw_request, start
from tests.fakes import REPO_ROOT
from tests.fakes.openai_server import FakeOpenAIServer

SOURCE = "import math\n\n\ndef area(radius):\n    return \n"


async def test_bad_setting_names_the_key_and_defaults_still_serve(client: LanguageClient, fake: FakeOpenAIServer,
                                                                  tmp_path: Path) -> None:
    fake.set_rules([{"reply": "math.pi"}])
    await start(client, fake, tmp_path, {"completion": {"maxTokens": "lots"}, "hover": {"mode": "sometimes"}})
    await asyncio.sleep(0.3)
    text = "\n".join(m.message for m in client.messages)
    assert "ghostwriter.completion.maxTokens" in text and "ghostwriter.hover.mode" in text
    assert text.count("ghostwriter.completion.maxTokens") == 1  # once, though settings were applied twice
    uri = open_document(client, tmp_path / "a.py", SOURCE)
    result = await client.text_document_inline_completion_async(inline_params(uri, 4, 11))
    assert result.items and model_calls(fake)[0].body["max_tokens"] == 64  # the default


async def test_configuration_is_pulled_again_on_change(client: LanguageClient, fake: FakeOpenAIServer,
                                                       tmp_path: Path) -> None:
    fake.set_models([MODEL, "other-coder"])
    fake.set_rules([{"reply": "math.pi"}])
    await start(client, fake, tmp_path)
    uri = open_document(client, tmp_path / "a.py", SOURCE)
    await client.text_document_inline_completion_async(inline_params(uri, 4, 11, automatic=False))
    settings = client.get_configuration(section="ghostwriter")
    settings["backend"]["completionModel"] = "other-coder"
    client.set_configuration(settings, section="ghostwriter")
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    await asyncio.sleep(0.5)
    uri2 = open_document(client, tmp_path / "b.py", SOURCE.replace("area", "volume"))
    await client.text_document_inline_completion_async(inline_params(uri2, 4, 11, automatic=False))
    assert [r.body["model"] for r in model_calls(fake)] == [MODEL, "other-coder"]


async def test_bad_input_never_crashes_the_server(client: LanguageClient, fake: FakeOpenAIServer,
                                                  tmp_path: Path) -> None:
    fake.set_rules([{"reply": "x = 1"}])
    await start(client, fake, tmp_path)
    # Malformed params: an error answer, not a crash.
    with pytest.raises(Exception, match="(?i)invalid|params|error"):
        await send_raw_request(client, types.TEXT_DOCUMENT_INLINE_COMPLETION, {"textDocument": 5})
    # Binary content and a huge file are accepted and answered.
    binary = open_document(client, tmp_path / "blob.py", "data = b'\x00\x01\x02'\n\x00\x00\n")
    huge_text = "value = 1\n" * 300_000  # 3 MB: above the parse limit
    huge = open_document(client, tmp_path / "huge.py", huge_text)
    for uri, line in ((binary, 2), (huge, 300_000)):
        result = await client.text_document_inline_completion_async(inline_params(uri, line, 0, automatic=False))
        assert isinstance(result, types.InlineCompletionList)
    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri="file:///does/not/exist.py"), position=types.Position(0, 0)))
    assert hover is None
    # Still healthy afterwards.
    uri = open_document(client, tmp_path / "a.py", SOURCE)
    assert isinstance(await client.text_document_inline_completion_async(inline_params(uri, 4, 11)),
                      types.InlineCompletionList)


def run_doctor(settings: dict[str, object], **extra_env: str) -> subprocess.CompletedProcess[str]:
    env = {**SERVER_ENV, "PYTHONPATH": str(REPO_ROOT), **extra_env}
    return subprocess.run([sys.executable, "-m", "lsp_server", "doctor", "--settings", json.dumps(settings)],
                          capture_output=True, text=True, timeout=60, env=env, cwd=REPO_ROOT)


@pytest.mark.e2e
def test_doctor_reports_healthy_backend_and_masks_the_key(tmp_path: Path) -> None:
    with FakeOpenAIServer(models=[MODEL]) as fake:
        done = run_doctor({"backend": {"baseUrl": fake.url, "model": MODEL, "apiKeyEnv": "GW_DOCTOR_TEST_KEY"},
                           "cache": {"dir": str(tmp_path)}}, GW_DOCTOR_TEST_KEY="sk-test-secret-value-123456")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "✓ backend" in done.stdout and "✓ ready to serve" in done.stdout
    assert "FIM template: qwen" in done.stdout
    assert "sk-test-secret" not in done.stdout + done.stderr
    assert "GW_DOCTOR_TEST_KEY (set)" in done.stdout


@pytest.mark.e2e
def test_doctor_says_what_is_wrong_with_a_dead_url() -> None:
    done = run_doctor({"backend": {"baseUrl": "http://127.0.0.1:9/v1", "model": MODEL}})
    assert done.returncode == 1
    assert "127.0.0.1:9" in done.stdout and "✗" in done.stdout


@pytest.mark.e2e
def test_doctor_without_any_backend_says_what_to_set() -> None:
    done = run_doctor({"backend": {"kind": "openai"}})
    assert done.returncode == 1
    assert "GHOSTWRITER_BASE_URL" in done.stdout


@pytest.mark.e2e
def test_serves_over_tcp() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**SERVER_ENV, "PYTHONPATH": str(REPO_ROOT)}
    server = subprocess.Popen([sys.executable, "-m", "lsp_server", "serve", "--tcp", f"127.0.0.1:{port}"], env=env,
                              cwd=REPO_ROOT, stderr=subprocess.DEVNULL)
    try:
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                           "params": {"capabilities": {}, "processId": None}}).encode()
        for _ in range(100):
            try:
                connection = socket.create_connection(("127.0.0.1", port), timeout=10)
                break
            except OSError:
                asyncio.run(asyncio.sleep(0.1))
        with connection:
            connection.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)
            reply = b""
            while b"capabilities" not in reply:
                reply += connection.recv(65536)
        assert b'"id": 1' in reply or b'"id":1' in reply
        assert b"inlineCompletionProvider" in reply
    finally:
        server.terminate()
        server.wait(timeout=10)
