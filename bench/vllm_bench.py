"""Ghostwriter on the bundled vLLM, measured at the LSP client (needs a CUDA GPU and vLLM).

Phase 1  one editor: the server starts the engine through its supervisor (backend.kind "vllm"),
         answering meanwhile; then a replayed typing session on a real file measures request →
         response latency at the client, the prefix-cache hit rate (usage.cached_tokens), and
         raw vLLM on the same prompts in the same run (prefix cache reset in between, so both
         passes start equally cold and each prompt shares its prefix with the one before).
Phase 2  N editors typing at once (N servers on the same engine): p95 latency, completions/s.

    python -m bench.vllm_bench --model DIR [--load-format dummy] [--out result.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

try:  # the openai SDK's own HTTP client: httpx2 for openai 3.x, httpx before
    import httpx2 as httpx
except ImportError:  # pragma: no cover - depends on the installed SDK
    import httpx  # type: ignore[no-redef]
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from bench.inline_overhead import percentile, pick_region, source_file

CAPS = types.ClientCapabilities(
    text_document=types.TextDocumentClientCapabilities(inline_completion=types.InlineCompletionClientCapabilities()),
    window=types.WindowClientCapabilities(work_done_progress=True))


def stats(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0}
    return {"n": len(values), "p50": round(statistics.median(values), 2), "p95": round(percentile(values, 0.95), 2),
            "mean": round(statistics.fmean(values), 2)}


async def start_server(settings: dict[str, Any], workdir: Path, log_name: str) -> LanguageClient:
    env = {**os.environ, "GHOSTWRITER_CONFIG": os.devnull, "GHOSTWRITER_LOG_LEVEL": "info",
           "GHOSTWRITER_LOG_FILE": str(workdir / log_name)}
    client = await ClientServerConfig(server_command=[sys.executable, "-m", "lsp_server"], server_env=env).start()
    await client.initialize_session(types.InitializeParams(capabilities=CAPS, initialization_options=settings,
                                                           root_uri=workdir.as_uri()))
    return client


async def usage(client: LanguageClient) -> dict[str, Any]:
    return await client.workspace_execute_command_async(types.ExecuteCommandParams(command="ghostwriter.showUsage"))


async def wait_ready(client: LanguageClient, uri: str, timeout: float) -> dict[str, Any]:
    """Poll until the engine serves; meanwhile check that requests are answered, not hung."""
    began = time.perf_counter()
    answered_while_starting: list[float] = []
    while time.perf_counter() - began < timeout:
        summary = await usage(client)
        if "ready" in summary.get("backend", ""):
            return {"startup_s": round(time.perf_counter() - began, 1),
                    "requests_answered_while_starting_ms": stats(answered_while_starting)}
        if "failed" in summary.get("backend", ""):
            raise RuntimeError(f"engine failed: {summary.get('message')}")
        t0 = time.perf_counter()
        await client.text_document_inline_completion_async(inline(uri, 0, 0))
        answered_while_starting.append((time.perf_counter() - t0) * 1000)
        await asyncio.sleep(2)
    raise TimeoutError("engine did not become ready")


def inline(uri: str, line: int, character: int) -> types.InlineCompletionParams:
    return types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line, character),
        context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Automatic))


class Editor:
    """One simulated editor: types a region of the file back, asking for a completion per keystroke."""

    def __init__(self, client: LanguageClient, path: Path, region_line: int, chars: int) -> None:
        original = source_file()
        start, end = pick_region(original, region_line)
        self.client, self.typed = client, original[start:end][:chars]
        self.text = original[:start] + original[end:]
        self.line, self.character = original[:start].count("\n"), 0
        path.write_text(self.text)
        self.uri, self.version = path.as_uri(), 1
        client.text_document_did_open(types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=self.uri, language_id="python", version=1, text=self.text)))

    async def type_all(self, collect_prompts: bool = False) -> tuple[list[float], list[str]]:
        latencies, prompts = [], []
        for ch in self.typed:
            self.version += 1
            position = types.Position(self.line, self.character)
            self.client.text_document_did_change(types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=self.uri, version=self.version),
                content_changes=[types.TextDocumentContentChangePartial(
                    range=types.Range(start=position, end=position), text=ch)]))
            self.line, self.character = (self.line + 1, 0) if ch == "\n" else (self.line, self.character + 1)
            t0 = time.perf_counter()
            await self.client.text_document_inline_completion_async(inline(self.uri, self.line, self.character))
            latencies.append((time.perf_counter() - t0) * 1000)
            if collect_prompts:
                prompts.append(await self.client.workspace_execute_command_async(
                    types.ExecuteCommandParams(command="ghostwriter.showLastPrompt")))
        return latencies, prompts


async def raw_vllm(base_url: str, model: str, prompts: list[str], max_tokens: int) -> dict[str, Any]:
    root = base_url.rsplit("/v1", 1)[0]
    ttft, total = [], []
    async with httpx.AsyncClient(timeout=60) as http:
        reset = await http.post(f"{root}/reset_prefix_cache")
        for prompt in prompts:
            body = {"model": model, "prompt": prompt, "max_tokens": max_tokens, "temperature": 0, "stream": True}
            t0 = time.perf_counter()
            first = None
            async with http.stream("POST", f"{base_url}/completions", json=body) as response:
                async for line in response.aiter_lines():
                    if line.startswith("data: ") and first is None:
                        first = time.perf_counter()
            ttft.append(((first or time.perf_counter()) - t0) * 1000)
            total.append((time.perf_counter() - t0) * 1000)
    return {"ttft_ms": stats(ttft), "total_ms": stats(total), "prefix_cache_reset_status": reset.status_code}


async def phase_one(args: argparse.Namespace, workdir: Path) -> tuple[LanguageClient, dict[str, Any]]:
    settings = {
        "backend": {"kind": "vllm", "vllm": {"model": args.model, "python": sys.executable,
                                             "startupTimeoutS": args.startup_timeout, "args": args.engine_args}},
        "cache": {"enabled": False},  # measure the engine, not our disk cache
        "completion": {"debounceMs": 0, "maxTokens": args.max_tokens, "contextTokens": args.context_tokens},
    }
    client = await start_server(settings, workdir, "phase1.log")
    editor = Editor(client, workdir / "typed_0.py", 2500, args.chars)
    result: dict[str, Any] = {"startup": await wait_ready(client, editor.uri, args.startup_timeout)}
    await client.workspace_execute_command_async(types.ExecuteCommandParams(command="ghostwriter.resetUsage"))
    latencies, prompts = await editor.type_all(collect_prompts=True)
    summary = await usage(client)
    session = summary["session"]
    result["lsp_latency_ms"] = stats(latencies)
    result["prefix_cache_hit_rate"] = round(session["cachedPromptTokens"] / max(1, session["promptTokens"]), 4)
    result["session_usage"] = session
    engine_url = summary.get("engineUrl", "")
    result["raw_vllm_same_prompts"] = await raw_vllm(engine_url, args.model, prompts, args.max_tokens)
    result["server_added_p50_ms"] = round(result["lsp_latency_ms"]["p50"]
                                          - result["raw_vllm_same_prompts"]["total_ms"]["p50"], 2)
    result["engine_url"] = engine_url
    return client, result


async def phase_two(args: argparse.Namespace, workdir: Path, engine_url: str, editors: int) -> dict[str, Any]:
    settings = {"backend": {"kind": "openai", "baseUrl": engine_url, "model": args.model},
                "cache": {"enabled": False},
                "completion": {"debounceMs": 0, "maxTokens": args.max_tokens, "contextTokens": args.context_tokens}}
    clients = await asyncio.gather(*(start_server(settings, workdir, f"n{editors}_{i}.log") for i in range(editors)))
    sessions = [Editor(c, workdir / f"typed_{editors}_{i}.py", 1000 + 97 * i, args.concurrent_chars)
                for i, c in enumerate(clients)]
    t0 = time.perf_counter()
    results = await asyncio.gather(*(s.type_all() for s in sessions))
    wall = time.perf_counter() - t0
    latencies = [x for lat, _ in results for x in lat]
    await asyncio.gather(*(c.shutdown_session() for c in clients))
    await asyncio.gather(*(c.stop() for c in clients))
    return {"editors": editors, "latency_ms": stats(latencies), "completions_per_s": round(len(latencies) / wall, 1)}


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(args.workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    client, result = await phase_one(args, workdir)
    result["concurrent"] = [await phase_two(args, workdir, result["engine_url"], n) for n in args.editors]
    await client.shutdown_session()
    await client.stop()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--load-format", default="dummy")
    parser.add_argument("--chars", type=int, default=300)
    parser.add_argument("--concurrent-chars", type=int, default=40)
    parser.add_argument("--editors", type=int, nargs="*", default=[8, 32, 64])
    parser.add_argument("--max-tokens", type=int, default=16)
    parser.add_argument("--context-tokens", type=int, default=4096)
    parser.add_argument("--startup-timeout", type=int, default=420)
    parser.add_argument("--engine-arg", action="append", default=[], dest="extra")
    parser.add_argument("--workdir", default="/tmp/gw-bench")
    parser.add_argument("--out", default="")
    args = parser.parse_args()
    os.environ.setdefault("VLLM_SERVER_DEV_MODE", "1")  # enables /reset_prefix_cache for the raw pass
    args.model = str(Path(args.model).resolve())
    args.engine_args = ["--load-format", args.load_format, "--max-model-len", "8192",
                        "--gpu-memory-utilization", "0.85", *args.extra]
    result = asyncio.run(main_async(args))
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
