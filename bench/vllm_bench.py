"""Ghostwriter on the bundled vLLM, measured at the LSP client (needs a CUDA GPU and vLLM).

Phase 1  one editor: the server starts the engine through its supervisor (backend.kind "vllm"),
         answering meanwhile; then a replayed typing session on a real file measures request →
         response latency at the client, the prefix-cache hit rate (usage.cached_tokens), and
         raw vLLM on the same prompts in the same run (prefix cache reset in between, so both
         passes start equally cold and each prompt shares its prefix with the one before).
Phase 2  N editors typing at once (N servers on the same engine): p95 latency, completions/s.

Not every keystroke reaches the model (gating answers in-comment / mid-word positions at once,
typed-ahead reuse answers from the previous completion), so latencies are reported for all
keystrokes and for the keystrokes that made a model call. Which keystroke did is read from the
server's own per-request trace ("inline completion" log records, in request order); the trace's
backend_ms also gives the server-added time per request (client latency - backend_ms). Both
single-line and multi-line requests are capped at --max-tokens, as the raw pass is.

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
from context.early_stop import stop_rule
from context.fim import TEMPLATES

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


PROBE = "def add(a, b):\n    return "  # the cursor at its end: a position that is not gated, so it needs the model


async def wait_ready(client: LanguageClient, workdir: Path, timeout: float) -> dict[str, Any]:
    """Poll until the engine serves; meanwhile check that completion requests are answered, not hung."""
    probe = workdir / "probe" / "probe.py"  # its own folder: the typed file's workspace stays as it was
    probe.parent.mkdir(parents=True, exist_ok=True)
    probe.write_text(PROBE)
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=probe.as_uri(), language_id="python", version=1, text=PROBE)))
    began = time.perf_counter()
    answered_while_starting: list[float] = []
    items = 0
    while time.perf_counter() - began < timeout:
        summary = await usage(client)
        if "ready" in summary.get("backend", ""):
            client.text_document_did_close(types.DidCloseTextDocumentParams(
                text_document=types.TextDocumentIdentifier(uri=probe.as_uri())))
            return {"startup_s": round(time.perf_counter() - began, 1),
                    "requests_answered_while_starting_ms": stats(answered_while_starting),
                    "items_while_starting": items}
        if "failed" in summary.get("backend", ""):
            raise RuntimeError(f"engine failed: {summary.get('message')}")
        t0 = time.perf_counter()
        answer = await client.text_document_inline_completion_async(inline(probe.as_uri(), 1, len("    return ")))
        answered_while_starting.append((time.perf_counter() - t0) * 1000)
        items += len(getattr(answer, "items", None) or [])
        await asyncio.sleep(2)
    raise TimeoutError("engine did not become ready")


def read_traces(log: Path, offset: int = 0) -> list[dict[str, Any]]:
    """The server's "inline completion" trace records written after byte `offset` of its log."""
    if not log.exists():
        return []
    with log.open("rb") as f:
        f.seek(offset)
        lines = f.read().decode("utf-8", errors="replace").splitlines()
    traces = []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("msg") == "inline completion":
            traces.append(record)
    return traces


def log_size(log: Path) -> int:
    return log.stat().st_size if log.exists() else 0


def keystroke_breakdown(latencies: list[float], traces: list[dict[str, Any]]) -> dict[str, Any]:
    """Pair each keystroke with its trace (the last len(latencies) records, requests being sequential)."""
    traces = traces[-len(latencies):] if latencies else []
    if len(traces) != len(latencies):
        return {"trace_mismatch": {"keystrokes": len(latencies), "traces": len(traces)}}
    called = [i for i, t in enumerate(traces) if "backend_ms" in t]
    outcomes: dict[str, int] = {}
    for t in traces:
        outcomes[t.get("outcome", "?")] = outcomes.get(t.get("outcome", "?"), 0) + 1
    return {
        "model_call_keystrokes": called,
        "outcomes": outcomes,
        "model_call_latency_ms": stats([latencies[i] for i in called]),
        "single_line_latency_ms": stats([latencies[i] for i in called if traces[i].get("kind") == "single-line"]),
        "multi_line_latency_ms": stats([latencies[i] for i in called if traces[i].get("kind") == "multi-line"]),
        "backend_ms": stats([traces[i]["backend_ms"] for i in called]),
        "server_added_ms": stats([latencies[i] - traces[i]["backend_ms"] for i in called]),
        "server_pre_ms": stats([traces[i]["pre_ms"] for i in called]),
        "server_post_ms": stats([traces[i]["post_ms"] for i in called]),
        "other_keystrokes_latency_ms": stats([x for i, x in enumerate(latencies) if i not in set(called)]),
    }


async def engine_counters(engine_url: str) -> tuple[float, float] | None:
    """(prefix-cache queries, hits) in tokens, from the engine's Prometheus /metrics."""
    from lsp_server.backends.engine_metrics import metrics_url, prefix_cache_counters

    if not engine_url:
        return None
    async with httpx.AsyncClient(timeout=5) as http:
        answer = await http.get(metrics_url(engine_url))
    return prefix_cache_counters(answer.text) if answer.status_code == 200 else None


def counter_delta(before: tuple[float, float] | None, after: tuple[float, float] | None) -> dict[str, Any]:
    if before is None or after is None:
        return {"available": False}
    queries, hits = after[0] - before[0], after[1] - before[1]
    return {"queried_tokens": int(queries), "hit_tokens": int(hits),
            "hit_rate": round(hits / queries, 4) if queries else None}


def hit_rate(block: dict[str, Any] | None) -> float | None:
    if not block or not block.get("promptTokens"):
        return None
    return round(block["cachedPromptTokens"] / block["promptTokens"], 4)


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
        self.line_prefixes: list[str] = []  # the cursor line's text before the cursor, per keystroke
        path.write_text(self.text)
        self.uri, self.version = path.as_uri(), 1
        client.text_document_did_open(types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=self.uri, language_id="python", version=1, text=self.text)))

    async def prime(self) -> None:
        """One unmeasured request, as an editor open for a while has made: tokenizer, template, index loaded."""
        await self.client.text_document_inline_completion_async(inline(self.uri, self.line, self.character))

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
            line_prefix = "" if ch == "\n" else (self.line_prefixes[-1] if self.line_prefixes and self.character > 1
                                                  else "") + ch
            self.line_prefixes.append(line_prefix)
            t0 = time.perf_counter()
            await self.client.text_document_inline_completion_async(inline(self.uri, self.line, self.character))
            latencies.append((time.perf_counter() - t0) * 1000)
            if collect_prompts:
                prompts.append(await self.client.workspace_execute_command_async(
                    types.ExecuteCommandParams(command="ghostwriter.showLastPrompt")))
        return latencies, prompts


async def reset_prefix_cache(http: httpx.AsyncClient, base_url: str) -> int:
    """Empty the engine's prefix cache (a dev-mode route), so a replay starts as cold as the LSP pass did."""
    from lsp_server.backends import server_root

    return (await http.post(f"{server_root(base_url)}/reset_prefix_cache")).status_code


async def raw_vllm(base_url: str, model: str, prompts: list[tuple[str, str, bool]], max_tokens: int,
                   stop: list[str], gaps_s: list[float] | None = None) -> dict[str, Any]:
    """Each (prompt, cursor line prefix, multi-line) streamed as the server sends it: the same
    max_tokens and stop list (a single-line request also stops at the line break, in the engine).

    stop_ms: when the server would have had its answer: the stream's end, or for multi-line requests
    its client-side block-end stop; total_ms: the whole stream; per_prompt_stop_ms in replay order.
    gaps_s: idle time before each request (the engine idled as long between the server's calls).
    """
    ttft, at_stop, total = [], [], []
    async with httpx.AsyncClient(timeout=60) as http:
        reset_status = await reset_prefix_cache(http, base_url)
        for index, (prompt, line_prefix, multiline) in enumerate(prompts):
            if gaps_s:
                await asyncio.sleep(gaps_s[index])
            sent_stop = stop + ([] if multiline else ["\n"])
            body = {"model": model, "prompt": prompt, "max_tokens": max_tokens, "temperature": 0, "stream": True,
                    "stop": sent_stop}
            should_stop = stop_rule(multiline, line_prefix, tuple(stop))
            t0 = time.perf_counter()
            first = stopped = None
            text = ""
            async with http.stream("POST", f"{base_url}/completions", json=body) as response:
                async for line in response.aiter_lines():
                    if not line.startswith("data: "):
                        continue
                    if first is None:
                        first = time.perf_counter()
                    if stopped is None and line != "data: [DONE]":
                        with_text = json.loads(line[6:]).get("choices") or [{}]
                        text += with_text[0].get("text") or ""
                        if text and should_stop(text):
                            stopped = time.perf_counter()
            end = time.perf_counter()
            ttft.append(((first or end) - t0) * 1000)
            at_stop.append(((stopped or end) - t0) * 1000)
            total.append((end - t0) * 1000)
    single = [x for x, (_, _, multiline) in zip(at_stop, prompts, strict=True) if not multiline]
    return {"n_prompts": len(prompts), "ttft_ms": stats(ttft), "stop_ms": stats(at_stop),
            "single_line_stop_ms": stats(single), "total_ms": stats(total),
            "prefix_cache_reset_status": reset_status, "per_prompt_stop_ms": at_stop,
            "per_prompt_ttft_ms": ttft}


async def raw_via_server_client(base_url: str, model: str, prompts: list[tuple[str, str, bool]], max_tokens: int,
                                stop: list[str], gaps_s: list[float]) -> dict[str, Any]:
    """The same prompts through the server's own backend class (aiohttp stream, its request body),
    outside the language server: tells the HTTP client's share from the language server's."""
    from lsp_server.backends import GenerationRequest
    from lsp_server.backends.openai_compat import OpenAICompatBackend

    async with httpx.AsyncClient(timeout=60) as http:
        await reset_prefix_cache(http, base_url)
    backend = OpenAICompatBackend("vllm", base_url, None, 60.0)
    done: list[float] = []
    try:
        for index, (prompt, _, multiline) in enumerate(prompts):
            await asyncio.sleep(gaps_s[index] if gaps_s else 0.0)
            request = GenerationRequest(feature="completion", model=model, prompt=prompt, max_tokens=max_tokens,
                                        temperature=0.0, stop=tuple(stop) + (() if multiline else ("\n",)))
            t0 = time.perf_counter()
            async for _ in backend.stream(request):
                pass
            done.append((time.perf_counter() - t0) * 1000)
    finally:
        await backend.aclose()
    single = [x for x, (_, _, multiline) in zip(done, prompts, strict=True) if not multiline]
    return {"single_line_end_ms": stats(single), "per_prompt_end_ms": done}


async def phase_one(args: argparse.Namespace, workdir: Path) -> tuple[LanguageClient, dict[str, Any]]:
    settings = {
        "backend": {"kind": "vllm", "vllm": {"model": args.model, "python": sys.executable,
                                             "startupTimeoutS": args.startup_timeout, "args": args.engine_args}},
        "cache": {"enabled": False},  # measure the engine, not our disk cache
        "completion": {"debounceMs": 0, "maxTokens": args.max_tokens, "multilineMaxTokens": args.max_tokens,
                       "contextTokens": args.context_tokens},
    }
    client = await start_server(settings, workdir, "phase1.log")
    editor = Editor(client, workdir / "typed_0.py", 2500, args.chars)
    result: dict[str, Any] = {"startup": await wait_ready(client, workdir, args.startup_timeout)}
    await client.workspace_execute_command_async(types.ExecuteCommandParams(command="ghostwriter.resetUsage"))
    log_offset = log_size(workdir / "phase1.log")
    engine_url = (await usage(client)).get("engineUrl", "")
    counters_before = await engine_counters(engine_url)
    latencies, prompts = await editor.type_all(collect_prompts=True)
    result["engine_prefix_cache"] = counter_delta(counters_before, await engine_counters(engine_url))
    summary = await usage(client)
    session = summary["session"]
    result["lsp_latency_ms"] = stats(latencies)
    breakdown = keystroke_breakdown(latencies, read_traces(workdir / "phase1.log", log_offset))
    called = breakdown.pop("model_call_keystrokes", [])
    result["keystrokes"] = breakdown
    completion = summary.get("byFeature", {}).get("completion")
    # From the usage the engine reported; a stream closed early (the single-line stop) reports
    # none, so this undercounts: the engine's own counters above are the figure to quote.
    result["prefix_cache_hit_rate"] = hit_rate(completion)  # completion requests only
    result["prefix_cache_hit_rate_with_warmups"] = hit_rate(session)
    result["session_usage"] = session
    result["usage_by_feature"] = summary.get("byFeature", {})
    engine_url = summary.get("engineUrl", "")
    # showLastPrompt is the pipeline's last prompt: a KV warm-up started by the same keystroke may have
    # replaced it with its stable prefix; only whole FIM prompts (ending in a middle token) are replayed.
    middles = tuple(t.special_tokens[2] for t in TEMPLATES.values())
    replayed = [i for i in called if prompts[i].endswith(middles)]
    traces = read_traces(workdir / "phase1.log", log_offset)[-len(latencies):]
    multiline = {i: traces[i].get("kind") == "multi-line" for i in replayed} if len(traces) == len(latencies) else {}
    replay = [(prompts[i], editor.line_prefixes[i], multiline.get(i, False)) for i in replayed]
    result["raw_prompts_skipped_warmup_overwritten"] = len(called) - len(replay)
    template = next((t for t in TEMPLATES.values() if replay and replay[0][0].endswith(t.special_tokens[2])), None)
    stop = list(template.stop_tokens) if template else []  # the stop list the server sends with these prompts
    # Raw vLLM twice: back to back, and with the idle gaps the engine saw between the server's calls
    # (while the editor typed on, answered from typed-ahead text), so engine idling is compared too.
    at = [traces[i]["at"] for i in replayed] if len(traces) == len(latencies) else []
    gaps = [0.0] + [min(1.0, max(0.0, b["sent"] - a["received"])) for a, b in zip(at, at[1:], strict=False)]
    raw_before = await engine_counters(engine_url)
    back_to_back = await raw_vllm(engine_url, args.model, replay, args.max_tokens, stop)
    back_to_back["engine_prefix_cache"] = counter_delta(raw_before, await engine_counters(engine_url))
    raw_before = await engine_counters(engine_url)
    raw = await raw_vllm(engine_url, args.model, replay, args.max_tokens, stop, gaps if at else None)
    raw["engine_prefix_cache"] = counter_delta(raw_before, await engine_counters(engine_url))
    raw["idle_gap_ms"] = stats([g * 1000 for g in gaps])
    back_to_back.pop("per_prompt_ttft_ms")
    unpaced = back_to_back.pop("per_prompt_stop_ms")
    result["lsp_minus_raw_back_to_back_single_line_ms"] = stats(
        [latencies[i] - raw_ms for i, raw_ms in zip(replayed, unpaced, strict=True) if not multiline.get(i, False)])
    result["raw_vllm_back_to_back"] = back_to_back
    result["raw_vllm_same_prompts"] = raw
    # Multi-line prompts are read to the end here (no block-end stop), so compare single-line ones.
    ours = await raw_via_server_client(engine_url, args.model, replay, args.max_tokens, stop, gaps)
    ours_end = ours.pop("per_prompt_end_ms")
    ours["minus_raw_single_line_ms"] = stats([a - b for a, b, (_, _, multi) in zip(
        ours_end, raw["per_prompt_stop_ms"], replay, strict=True) if not multi])
    ours["backend_ms_minus_this_single_line_ms"] = stats([traces[i]["backend_ms"] - b for i, b in zip(
        replayed, ours_end, strict=True) if not multiline.get(i, False)]) if at else {}
    result["engine_via_server_http_client"] = ours
    first_chunk = [traces[i].get("step_first_chunk_ms") for i in replayed] if at else []
    raw_ttft = raw.pop("per_prompt_ttft_ms")
    if first_chunk and all(x is not None for x in first_chunk):
        result["server_first_chunk_ms"] = stats(first_chunk)  # the server's request sent → first event
        result["first_chunk_minus_raw_ttft_ms"] = stats([a - b for a, b in zip(first_chunk, raw_ttft, strict=True)])
    server_added = breakdown.get("server_added_ms", {})
    result["server_added_p50_ms"] = server_added.get("p50")  # paired: client latency - the server's backend_ms
    # Paired, prompt by prompt: the client's latency for the keystroke minus raw vLLM's for its prompt.
    raw_stops = raw.pop("per_prompt_stop_ms")
    paired = [(latencies[i] - raw_ms, multiline.get(i, False)) for i, raw_ms in zip(replayed, raw_stops, strict=True)]
    result["lsp_minus_raw_ms"] = stats([d for d, _ in paired])
    result["lsp_minus_raw_single_line_ms"] = stats([d for d, multi in paired if not multi])
    result["lsp_minus_raw_p50_ms"] = result["lsp_minus_raw_single_line_ms"].get("p50")
    result["engine_url"] = engine_url
    return client, result


async def phase_two(args: argparse.Namespace, workdir: Path, engine_url: str, editors: int) -> dict[str, Any]:
    settings = {"backend": {"kind": "openai", "baseUrl": engine_url, "model": args.model},
                "cache": {"enabled": False},
                "completion": {"debounceMs": 0, "maxTokens": args.max_tokens, "multilineMaxTokens": args.max_tokens,
                               "contextTokens": args.context_tokens}}
    # Each server gets a workspace of its own file only: in one shared folder every server would index
    # every other editor's copy of the file at startup, a CPU storm no real editor sees.
    roots = [workdir / f"n{editors}_{i}" for i in range(editors)]
    for root in roots:
        root.mkdir(parents=True, exist_ok=True)
    clients = await asyncio.gather(*(start_server(settings, root, "server.log") for root in roots))
    # Regions 97 lines apart from line 1000, wrapping round within the file's 5,000 lines (64 editors).
    sessions = [Editor(c, root / "typed.py", 100 + (900 + 97 * i) % 4800, args.concurrent_chars)
                for i, (c, root) in enumerate(zip(clients, roots, strict=True))]
    await asyncio.gather(*(s.prime() for s in sessions))
    t0 = time.perf_counter()
    results = await asyncio.gather(*(s.type_all() for s in sessions))
    wall = time.perf_counter() - t0
    latencies = [x for lat, _ in results for x in lat]
    called: list[float] = []
    mismatched = 0
    for i, (lat, _) in enumerate(results):
        traces = read_traces(roots[i] / "server.log")[-len(lat):]
        if len(traces) != len(lat):
            mismatched += 1
            continue
        called += [x for x, t in zip(lat, traces, strict=True) if "backend_ms" in t]
    await asyncio.gather(*(c.shutdown_session() for c in clients))
    await asyncio.gather(*(c.stop() for c in clients))
    return {"editors": editors, "latency_ms": stats(latencies), "completions_per_s": round(len(latencies) / wall, 1),
            "model_call_latency_ms": stats(called), "model_calls_per_s": round(len(called) / wall, 1),
            "editors_without_traces": mismatched}


def save(args: argparse.Namespace, result: dict[str, Any]) -> None:
    """Written after every phase too, so a run cut short still leaves what it measured."""
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2))


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(args.workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    client, result = await phase_one(args, workdir)
    result["concurrent"] = []
    save(args, result)
    for n in args.editors:
        result["concurrent"].append(await phase_two(args, workdir, result["engine_url"], n))
        save(args, result)
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
    print(json.dumps(result, indent=2))
    save(args, result)


if __name__ == "__main__":
    main()
