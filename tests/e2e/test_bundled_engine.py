"""backend.kind "vllm" end to end, with a stand-in engine in place of vLLM (no GPU here).

The server's own supervisor starts `python -m vllm.entrypoints.openai.api_server`; a `vllm`
package on PYTHONPATH (written by the test) runs the stand-in instead, and a fake `nvidia-smi`
makes the GPU check pass. Everything else is the real server: startup progress, requests answered
while the engine starts, the fallback to a remote endpoint, serving, and stopping on shutdown.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.e2e.conftest import capabilities_for, inline_params, model_calls, open_document
from tests.fakes import REPO_ROOT
from tests.fakes.openai_server import FakeOpenAIServer

SOURCE = "notes about the engine\n\n"


def fake_engine_env(tmp_path: Path, startup_s: float) -> dict[str, str]:
    package = tmp_path / "site" / "vllm" / "entrypoints" / "openai"
    package.mkdir(parents=True, exist_ok=True)  # a second process of the same test reuses it
    for folder in (package, package.parent, package.parent.parent):
        (folder / "__init__.py").write_text("")
    (package / "api_server.py").write_text("from tests.fakes.stand_in_vllm import main\nmain()\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    smi = bin_dir / "nvidia-smi"
    smi.write_text("#!/bin/sh\necho 'GPU 0: Stand-in GPU (UUID: GPU-0)'\n")
    smi.chmod(0o755)
    return {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": os.pathsep.join([str(tmp_path / "site"), str(REPO_ROOT)]),
        "STAND_IN_STARTUP_S": str(startup_s),
        "STAND_IN_PID_LOG": str(tmp_path / "engine.pids"),
        "GHOSTWRITER_CONFIG": os.devnull,
        "GHOSTWRITER_LOG_LEVEL": os.environ.get("GW_TEST_LOG_LEVEL", "warning"),
    }


async def start_server(tmp_path: Path, settings: dict[str, Any], startup_s: float) -> LanguageClient:
    env = fake_engine_env(tmp_path, startup_s)
    client = await ClientServerConfig(server_command=[sys.executable, "-m", "lsp_server"], server_env=env).start()
    client.progress_reports.clear()
    capabilities = capabilities_for("visual_studio_code")
    await client.initialize_session(types.InitializeParams(capabilities=capabilities,
                                                           initialization_options=settings,
                                                           root_uri=tmp_path.as_uri()))
    return client


async def usage(client: LanguageClient) -> dict[str, Any]:
    return await client.workspace_execute_command_async(types.ExecuteCommandParams(command="ghostwriter.showUsage"))


async def wait_for_state(client: LanguageClient, needle: str, timeout: float = 20.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        summary = await usage(client)
        if needle in summary["backend"]:
            return summary
        await asyncio.sleep(0.1)
    raise AssertionError(f"engine never reached {needle!r}: {summary}")


def engine_settings(tmp_path: Path, **backend: Any) -> dict[str, Any]:
    return {"backend": {"kind": "vllm", "vllm": {"model": "stand-in-coder", "python": sys.executable}, **backend},
            "cache": {"dir": str(tmp_path / "cache")}, "completion": {"debounceMs": 0, "fimTemplate": "qwen"}}


def engine_pids(tmp_path: Path) -> list[int]:
    path = tmp_path / "engine.pids"
    return [int(x) for x in path.read_text().split()] if path.exists() else []


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.e2e
async def test_engine_starts_serves_and_stops(tmp_path: Path) -> None:
    client = await start_server(tmp_path, engine_settings(tmp_path), startup_s=2.0)
    try:
        # Plain text: the stand-in's reply is not code, and code would be checked by the syntax filter.
        uri = open_document(client, tmp_path / "notes.txt", SOURCE, language_id="plaintext")
        # While the engine starts, requests are answered at once (empty), and the status says busy.
        began = time.monotonic()
        early = await client.text_document_inline_completion_async(inline_params(uri, 1, 0))
        assert time.monotonic() - began < 1.5 and not early.items
        starting = await usage(client)
        assert starting["state"] == "busy" and "starting" in starting["backend"]
        ready = await wait_for_state(client, "ready")
        assert ready["engineUrl"].startswith("http://127.0.0.1:")
        reports = [r for token_reports in client.progress_reports.values() for r in token_reports]
        assert any(isinstance(r, types.WorkDoneProgressBegin) for r in reports), "startup reported via $/progress"
        assert any(isinstance(r, types.WorkDoneProgressEnd) for r in reports)
        result = await client.text_document_inline_completion_async(inline_params(uri, 1, 0, automatic=False))
        assert [i.insert_text for i in result.items] == [" stand-in reply"]
        assert (await usage(client))["last"]["cost"] == 0.0  # the bundled engine is free
        pids = engine_pids(tmp_path)
        assert len(pids) == 1 and alive(pids[0])
        await client.shutdown_session()
    finally:
        await stop(client)
    await asyncio.sleep(0.5)
    assert not alive(pids[0]), "the engine must stop with the server"


@pytest.mark.e2e
async def test_engine_dies_with_a_killed_server(tmp_path: Path) -> None:
    """An editor may kill the server outright; the engine must not live on holding the GPU."""
    client = await start_server(tmp_path, engine_settings(tmp_path), startup_s=0.5)
    try:
        await wait_for_state(client, "ready")
        pids = engine_pids(tmp_path)
        assert len(pids) == 1 and alive(pids[0])
    finally:
        client._server.kill()  # type: ignore[union-attr]  # SIGKILL: no shutdown, no cleanup code runs
        await stop(client)
    for _ in range(50):
        if not alive(pids[0]):
            break
        await asyncio.sleep(0.1)
    assert not alive(pids[0])


async def stop(client: LanguageClient) -> None:
    """Stop the client; kill the server if it is still running (e.g. after a failed assertion)."""
    server = client._server  # type: ignore[attr-defined]
    if server is not None and server.returncode is None:
        try:
            await asyncio.wait_for(asyncio.shield(server.wait()), 3)
        except asyncio.TimeoutError:
            server.kill()
    await client.stop()


@pytest.mark.e2e
async def test_remote_fallback_while_engine_starts(tmp_path: Path) -> None:
    with FakeOpenAIServer(models=["remote-model"]) as remote:
        remote.set_rules([{"reply": "remote reply"}])
        settings = engine_settings(tmp_path, baseUrl=remote.url, model="remote-model")
        client = await start_server(tmp_path, settings, startup_s=30.0)
        try:
            uri = open_document(client, tmp_path / "notes.txt", SOURCE, language_id="plaintext")
            result = await client.text_document_inline_completion_async(inline_params(uri, 1, 0, automatic=False))
            assert [i.insert_text for i in result.items] == ["remote reply"]
            assert len(model_calls(remote)) == 1
            await client.shutdown_session()
        finally:
            await stop(client)


def engine_requests(engine_url: str) -> list[dict[str, Any]]:
    import json
    import urllib.request

    with urllib.request.urlopen(engine_url.removesuffix("/v1") + "/_control/log", timeout=5) as answer:
        return [r for r in json.load(answer)["requests"] if r["path"].endswith("/completions")]


@pytest.mark.e2e
async def test_prefix_cache_is_rewarmed_when_cross_file_context_changes(tmp_path: Path) -> None:
    client = await start_server(tmp_path, engine_settings(tmp_path), startup_s=0.3)
    try:
        engine_url = (await wait_for_state(client, "ready"))["engineUrl"]
        here = "import os\n\n\ndef main():\n    total = scale_values(os.environ)\n    return total\n"
        uri = open_document(client, tmp_path / "main.py", here, language_id="python")
        await client.text_document_inline_completion_async(inline_params(uri, 5, 16, automatic=False))
        before = len(engine_requests(engine_url))
        # A definition of a name used where the user works appears in another file.
        other = "def scale_values(values):\n    return [v * 2 for v in values]\n"
        open_document(client, tmp_path / "helpers.py", other, language_id="python")
        deadline = time.monotonic() + 10
        rewarm: list[dict[str, Any]] = []
        while time.monotonic() < deadline and not rewarm:
            await asyncio.sleep(0.2)
            rewarm = [r for r in engine_requests(engine_url)[before:]
                      if r["body"].get("max_tokens") == 1 and "total = scale_values" in r["body"]["prompt"]
                      and "def scale_values(values)" in r["body"]["prompt"]]
        assert rewarm, "the prompt of main.py gained helpers.py's definition: its prefix should be re-warmed"
        prompt = rewarm[0]["body"]["prompt"]
        assert prompt.index("def scale_values(values)") < prompt.index("total = scale_values")  # context first
        assert "return total" not in prompt  # the stable part only: not the cursor line
        await client.shutdown_session()
    finally:
        await stop(client)
