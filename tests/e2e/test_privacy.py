"""Privacy over real stdio against the loopback endpoint: what the endpoint received, and what the buffer got.

Secrets leave as placeholders and come back restored; blocked files send nothing, not even as another
file's context; localOnly files send nothing to a remote-only setup; API keys stay out of the cache
and the logs, and `log.content: omit` keeps code out of the logs.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.e2e.conftest import SERVER_ENV, capabilities_for, inline_params, model_calls, open_document, start
from tests.fakes.openai_server import FakeOpenAIServer

GITHUB_TOKEN = "ghp_" + "Q7x2" * 9
EMAIL = "ops.lead@corp.example.com"
ADDRESS = "10.20.30.40"
SECRETS = (GITHUB_TOKEN, EMAIL, ADDRESS)
SOURCE = (
    "import client\n\n"
    f'TOKEN = "{GITHUB_TOKEN}"\n'
    f'OWNER = "{EMAIL}"\n'
    f'HOST = "{ADDRESS}"\n\n\n'
    "def connect():\n"
    "    return client.login(\n"
)
CURSOR = (8, 24)  # the end of `    return client.login(`


def sent_texts(fake: FakeOpenAIServer) -> list[str]:
    return [json.dumps(r.body) for r in model_calls(fake)]


async def show_usage(client: LanguageClient) -> dict[str, Any]:
    return await client.workspace_execute_command_async(types.ExecuteCommandParams(command="ghostwriter.showUsage"))


async def test_secrets_leave_as_placeholders_and_the_completion_gets_them_back(
        client: LanguageClient, fake: FakeOpenAIServer, tmp_path: Path) -> None:
    fake.set_rules([{"endpoint": "completions", "reply": "'<SECRET_1>', owner='<EMAIL_1>', host='<IP_1>')"}])
    await start(client, fake, tmp_path)
    uri = open_document(client, tmp_path / "app.py", SOURCE)
    result = await client.text_document_inline_completion_async(inline_params(uri, *CURSOR))
    [sent] = sent_texts(fake)
    assert not any(secret in sent for secret in SECRETS)
    assert all(placeholder in sent for placeholder in ("<SECRET_1>", "<EMAIL_1>", "<IP_1>"))
    assert result and result.items
    text = result.items[0].insert_text
    assert isinstance(text, str)
    assert text == f"'{GITHUB_TOKEN}', owner='{EMAIL}', host='{ADDRESS}')"
    for _ in range(50):  # usage is recorded once the answer is out
        summary = await show_usage(client)
        if summary["session"]["requests"]:
            break
        await asyncio.sleep(0.05)
    assert summary["session"]["redactedSpans"] == 3 and summary["last"]["redactedSpans"] == 3
    assert "3 secrets redacted" in summary["line"]
    last_prompt = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="ghostwriter.showLastPrompt"))
    assert GITHUB_TOKEN not in last_prompt and "<SECRET_1>" in last_prompt


async def test_a_completion_naming_a_placeholder_it_was_never_given_is_dropped(
        client: LanguageClient, fake: FakeOpenAIServer, tmp_path: Path) -> None:
    fake.set_rules([{"endpoint": "completions", "reply": "'<SECRET_9>')"}])
    await start(client, fake, tmp_path)
    uri = open_document(client, tmp_path / "app.py", SOURCE)
    result = await client.text_document_inline_completion_async(inline_params(uri, *CURSOR))
    assert len(model_calls(fake)) == 1
    assert not result or not result.items


async def test_a_blocked_file_sends_nothing_and_is_no_other_files_context(
        client: LanguageClient, fake: FakeOpenAIServer, tmp_path: Path) -> None:
    fake.set_rules([{"endpoint": "completions", "reply": "x)"}])
    await start(client, fake, tmp_path, {"privacy": {"rules": {"secret_*.py": "block"}}})
    dotenv = open_document(client, tmp_path / ".env", "DB_USER=app\nDB_NAME=", language_id="dotenv")
    blocked = open_document(client, tmp_path / "secret_algo.py", "def compute_magic(blocked_param_zq):\n    return \n")
    open_document(client, tmp_path / "shared_algo.py",
                  "def compute_other(shared_param_zq):\n    return shared_param_zq + 1\n")
    for uri, (line, character) in ((dotenv, (1, 8)), (blocked, (1, 11))):
        result = await client.text_document_inline_completion_async(inline_params(uri, line, character,
                                                                                  automatic=False))
        assert not result or not result.items
    assert model_calls(fake) == []
    for _ in range(50):  # the refusal was the rule's doing (not gating), and it says so in the log
        if any("secret_algo.py" in m.message for m in client.log_messages):
            break
        await asyncio.sleep(0.05)
    assert any("Nothing from secret_algo.py" in m.message for m in client.log_messages)
    app = open_document(client, tmp_path / "app.py",
                        "from secret_algo import compute_magic\nfrom shared_algo import compute_other\n\n"
                        "value = compute_other(compute_magic(\n")
    await client.text_document_inline_completion_async(inline_params(app, 3, 36))
    [sent] = sent_texts(fake)
    assert "shared_param_zq" in sent  # cross-file context works for an allowed file...
    assert "blocked_param_zq" not in sent and "DB_USER" not in sent  # ...and carries nothing blocked


async def test_a_local_only_file_sends_nothing_to_a_remote_only_setup(
        client: LanguageClient, fake: FakeOpenAIServer, tmp_path: Path) -> None:
    await start(client, fake, tmp_path, {"privacy": {"rules": {"internal/*.py": "localOnly"}}})
    (tmp_path / "internal").mkdir()
    uri = open_document(client, tmp_path / "internal" / "pricing.py", "def margin(cost):\n    return \n")
    for _ in range(2):
        result = await client.text_document_inline_completion_async(inline_params(uri, 1, 11, automatic=False))
        assert not result or not result.items
    assert model_calls(fake) == []
    for _ in range(50):
        said = [m.message for m in client.messages if "pricing.py" in m.message]
        if said:
            break
        await asyncio.sleep(0.05)
    assert len(said) == 1 and "bundled engine" in said[0]  # told once, not on every keystroke
    summary = await show_usage(client)
    assert summary["state"] != "error"


async def _own_server(env: dict[str, str]) -> LanguageClient:
    server = await ClientServerConfig(server_command=[sys.executable, "-m", "lsp_server"],
                                      server_env={**SERVER_ENV, **env}).start()
    server.profile = "visual_studio_code"  # type: ignore[attr-defined]
    return server


async def _completions_and_hover(client: LanguageClient, fake: FakeOpenAIServer, tmp_path: Path,
                                 overrides: dict[str, Any]) -> None:
    await start(client, fake, tmp_path, overrides, capabilities=capabilities_for("visual_studio_code"))
    uri = open_document(client, tmp_path / "app.py", SOURCE)
    await client.text_document_inline_completion_async(inline_params(uri, *CURSOR))
    await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="ghostwriter.explain", arguments=[uri, {"line": 7, "character": 5}]))
    await client.shutdown_session()


async def test_the_api_key_never_reaches_the_cache_or_the_logs(fake: FakeOpenAIServer, tmp_path: Path) -> None:
    key = "sk-proj-" + "k3y" * 10
    fake.set_rules([{"endpoint": "completions", "reply": "'<SECRET_1>')"},  # the key, echoed as its placeholder
                    {"endpoint": "chat", "reply": "Logs in with <SECRET_1>."}])
    log_file = tmp_path / "server.log"
    source_with_key = SOURCE.replace("import client\n", f'import client\nKEY = "{key}"\n')
    client = await _own_server({"GW_TEST_API_KEY": key, "GHOSTWRITER_LOG_FILE": str(log_file),
                                "GHOSTWRITER_LOG_LEVEL": "debug"})
    try:
        await start(client, fake, tmp_path, {"backend": {"apiKeyEnv": "GW_TEST_API_KEY"}},
                    capabilities=capabilities_for("visual_studio_code"))
        uri = open_document(client, tmp_path / "app.py", source_with_key)
        result = await client.text_document_inline_completion_async(inline_params(uri, CURSOR[0] + 1, CURSOR[1]))
        await client.workspace_execute_command_async(types.ExecuteCommandParams(
            command="ghostwriter.explain", arguments=[uri, {"line": 8, "character": 5}]))
        await client.shutdown_session()
    finally:
        await client.stop()
    assert result and result.items and key in str(result.items[0].insert_text)  # restored in the buffer only
    calls = model_calls(fake)
    assert len(calls) == 2 and all(r.headers.get("authorization") == f"Bearer {key}" for r in calls)
    assert not any(key in json.dumps(r.body) for r in calls)
    files = [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]
    assert files and log_file.read_text()
    for path in [*files, log_file]:
        assert key.encode() not in path.read_bytes(), path


async def test_logs_can_omit_code_entirely(fake: FakeOpenAIServer, tmp_path: Path) -> None:
    fake.set_rules([{"endpoint": "completions", "reply": "'<SECRET_1>')"}])
    logs = {}
    for mode in ("full", "omit"):
        log_file = tmp_path / f"{mode}.log"
        client = await _own_server({"GHOSTWRITER_LOG_FILE": str(log_file), "GHOSTWRITER_LOG_LEVEL": "debug"})
        try:
            await _completions_and_hover(client, fake, tmp_path / mode, {"log": {"content": mode}})
        finally:
            await client.stop()
        logs[mode] = log_file.read_text()
    # The control: full logs carry the completion (its secret as the placeholder); omitted, only its size.
    assert '"raw": "\'<SECRET_1>\')"' in logs["full"] and "raw_chars" not in logs["full"]
    assert "model call" in logs["omit"] and '"raw_chars": ' in logs["omit"]
    assert '"raw":' not in logs["omit"] and "<SECRET_1>" not in logs["omit"]
    assert GITHUB_TOKEN not in logs["full"] + logs["omit"]
