"""End-to-end harness: the real server over stdio (pytest-lsp) against the loopback fake backend.

Each test gets a fresh server process, a fresh fake backend and its own cache directory, and
runs once per client profile (VS Code and Neovim capabilities, with inlineCompletion added,
which the recorded profiles predate).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from lsp_server.settings_codec import merge_dicts
from tests.fakes.openai_server import FakeOpenAIServer

MODEL = "qwen2.5-coder-1.5b"
PROFILES = ["visual_studio_code", "neovim"]
SERVER_ENV = {
    **os.environ,
    "GHOSTWRITER_CONFIG": os.devnull,  # never read the developer's own settings file
    "GHOSTWRITER_LOG_LEVEL": os.environ.get("GW_TEST_LOG_LEVEL", "warning"),
}


@pytest.fixture
def fake() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(models=[MODEL]) as server:
        yield server


def capabilities_for(profile: str) -> types.ClientCapabilities:
    capabilities = client_capabilities(profile)
    document = capabilities.text_document or types.TextDocumentClientCapabilities()
    document.inline_completion = types.InlineCompletionClientCapabilities(dynamic_registration=False)
    capabilities.text_document = document
    return capabilities


@pytest_lsp.fixture(
    params=PROFILES,
    config=ClientServerConfig(server_command=[sys.executable, "-m", "lsp_server"], server_env=SERVER_ENV),
)
async def client(lsp_client: LanguageClient, request: pytest.FixtureRequest) -> AsyncIterator[None]:
    lsp_client.profile = request.param  # type: ignore[attr-defined]
    lsp_client.usage_notes = []  # type: ignore[attr-defined]

    @lsp_client.feature("ghostwriter/usage")
    def on_usage(params: Any) -> None:
        lsp_client.usage_notes.append(params)  # type: ignore[attr-defined]

    lsp_client.lens_refreshes = 0  # type: ignore[attr-defined]

    @lsp_client.feature(types.WORKSPACE_CODE_LENS_REFRESH)
    def on_lens_refresh(params: None) -> None:  # editors that advertise refreshSupport answer it
        lsp_client.lens_refreshes += 1  # type: ignore[attr-defined]

    yield
    if getattr(lsp_client, "initialized_by_test", False):
        await lsp_client.shutdown_session()


@contextlib.asynccontextmanager
async def another_server(client: LanguageClient, fake: FakeOpenAIServer, tmp_path: Path,
                         overrides: dict[str, Any] | None = None) -> AsyncIterator[LanguageClient]:
    """A second server process, like the editor's next start: same profile, settings and cache dir."""
    second = await ClientServerConfig(server_command=[sys.executable, "-m", "lsp_server"],
                                      server_env=SERVER_ENV).start()
    try:
        profile = client.profile  # type: ignore[attr-defined]
        second.profile = profile  # type: ignore[attr-defined]
        await start(second, fake, tmp_path, overrides, capabilities=capabilities_for(profile))
        yield second
        await second.shutdown_session()
    finally:
        await second.stop()


def base_settings(fake: FakeOpenAIServer, cache_dir: Path) -> dict[str, Any]:
    return {
        "backend": {"kind": "openai", "baseUrl": fake.url, "model": MODEL},
        "cache": {"dir": str(cache_dir)},
        "completion": {"debounceMs": 0},
    }


async def start(client: LanguageClient, fake: FakeOpenAIServer, tmp_path: Path,
                overrides: dict[str, Any] | None = None, capabilities: types.ClientCapabilities | None = None,
                root: Path | None = None) -> types.InitializeResult:
    settings = merge_dicts(base_settings(fake, tmp_path / "cache"), overrides or {})
    client.set_configuration(settings, section="ghostwriter")
    root = root or tmp_path
    result = await client.initialize_session(types.InitializeParams(
        capabilities=capabilities or capabilities_for(client.profile),  # type: ignore[attr-defined]
        initialization_options=settings,
        root_uri=root.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)],
    ))
    client.initialized_by_test = True  # type: ignore[attr-defined]
    return result


def open_document(client: LanguageClient, path: Path, text: str, language_id: str = "python",
                  version: int = 1) -> str:
    path.write_text(text, encoding="utf-8")
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id=language_id, version=version, text=text)))
    return uri


def change_document(client: LanguageClient, uri: str, version: int, line: int, character: int,
                    inserted: str, end: tuple[int, int] | None = None) -> None:
    end_line, end_char = end or (line, character)
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[types.TextDocumentContentChangePartial(
            range=types.Range(start=types.Position(line, character), end=types.Position(end_line, end_char)),
            text=inserted)]))


def inline_params(uri: str, line: int, character: int, automatic: bool = True) -> types.InlineCompletionParams:
    kind = types.InlineCompletionTriggerKind.Automatic if automatic else types.InlineCompletionTriggerKind.Invoked
    return types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line, character),
        context=types.InlineCompletionContext(trigger_kind=kind))


def model_calls(fake: FakeOpenAIServer) -> list[Any]:
    return [r for r in fake.requests if r.path.endswith(("/completions", "/chat/completions"))]


async def send_raw_request(client: LanguageClient, method: str, params: dict[str, Any]) -> Any:
    """Send params as raw JSON (for fields lsprotocol's types don't carry, like an inline request's version)."""
    import asyncio
    import uuid
    from concurrent.futures import Future

    protocol = client.protocol
    msg_id = str(uuid.uuid4())
    future: Future[Any] = Future()
    protocol._request_futures[msg_id] = future  # type: ignore[attr-defined]
    protocol._result_types[msg_id] = protocol.get_result_type(method)  # type: ignore[attr-defined]
    protocol._send_data({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})  # type: ignore[attr-defined]
    return await asyncio.wrap_future(future)
