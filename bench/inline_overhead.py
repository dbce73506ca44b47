"""Server overhead per inline completion, typed-ahead hit rate and prefix stability.

Replays a typing session on a 5,000-line real Python file (the first 5,000 lines of the standard
library's `_pydecimal.py`): a 30-line stretch is deleted and typed back character by character;
after each keystroke the client sends didChange + inlineCompletion and waits for the answer.
The backend is a zero-latency loopback fake that answers like an oracle: the true rest of the
line, so a suggestion the user keeps typing into can be served again without a model call.

Overhead lines up the server's trace marks with the fake backend's own clock (both read
CLOCK_MONOTONIC, so marks from the two processes compare directly):
  pre  = request read by the server → request line arrived at the backend
         (gating, context, prompt, cache lookup, and the HTTP client building and sending it)
  post = backend wrote its last byte → response written by the server
         (the HTTP client reading the stream, post-processing, range, serialisation, the write)
The server's internal split (`steps_ms`) shows where inside it the time goes.
Also reported: client-observed round trip, typed-ahead hit rate, prefix-stable share.

    .venv/bin/python -m bench.inline_overhead [--chars 600]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
import urllib.request
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from lsprotocol import types
from pytest_lsp import ClientServerConfig

from tests.fakes.openai_server import FakeOpenAIServer
from tests.fakes.rules import Rule, prompt_text

FIM_PREFIX, FIM_SUFFIX = "<|fim_prefix|>", "<|fim_suffix|>"


class OracleBackend(FakeOpenAIServer):
    """Answers each FIM prompt with the real continuation of the line in the original file."""

    def __init__(self, original: str, reply: str = "line") -> None:
        super().__init__(models=["qwen2.5-coder-1.5b"], zero_latency=True)
        self.original = original
        self.reply = reply

    def match(self, endpoint: str, body: Any) -> Rule:
        prompt = prompt_text(body)
        prefix = prompt.split(FIM_PREFIX, 1)[-1].split(FIM_SUFFIX, 1)[0]
        tail = prefix[-300:]
        at = self.original.find(tail)
        if at < 0 or not tail:
            return Rule(reply="")
        start = at + len(tail)
        end = self.original.find("\n", start)
        end = end if end >= 0 else len(self.original)
        if self.reply == "word":  # a short suggestion: the user soon types past it, so more model calls
            match = re.search(r"\w+\W?", self.original[start:end])
            end = start + match.end() if match else end
        return Rule(reply=self.original[start:end], chunk_chars=8,
                    usage={"prompt_tokens": len(prompt) // 4, "completion_tokens": 8})


class OracleProcess:
    """The oracle in its own process, so its threads never wait on the client's interpreter lock.

    (In one process with the LSP client, the backend's arrival marks came ~1.5 ms late.)
    """

    def __init__(self, reply: str) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "bench.inline_overhead", "--serve-oracle", reply],
                                        stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        self.url = self.process.stdout.readline().strip()

    def requests(self) -> list[SimpleNamespace]:
        with urllib.request.urlopen(self.url.removesuffix("/v1") + "/_control/log") as answer:
            return [SimpleNamespace(**entry) for entry in json.load(answer)["requests"]]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def serve_oracle(reply: str) -> None:
    backend = OracleBackend(source_file(), reply).start()
    print(backend.url, flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        signal.pause()
    finally:
        backend.stop()


def source_file(lines: int = 5000) -> str:
    path = Path(sysconfig.get_paths()["stdlib"]) / "_pydecimal.py"
    return "".join(path.read_text(encoding="utf-8").splitlines(keepends=True)[:lines])


def pick_region(text: str, first_line: int = 2500, count: int = 30) -> tuple[int, int]:
    starts = [0]
    for i, ch in enumerate(text):
        if ch == "\n":
            starts.append(i + 1)
    return starts[first_line], starts[first_line + count]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else float("nan")


def common_prefix(a: str, b: str) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


async def replay(chars: int, workdir: Path, reply: str = "line") -> dict[str, Any]:
    original = source_file()
    start, end = pick_region(original)
    typed_region = original[start:end][:chars]
    document = original[:start] + original[end:]
    backend = OracleProcess(reply)
    log_file = workdir / "server.log"
    env = {**os.environ, "GHOSTWRITER_CONFIG": os.devnull, "GHOSTWRITER_LOG_LEVEL": "info",
           "GHOSTWRITER_LOG_FILE": str(log_file)}
    client = await ClientServerConfig(server_command=[sys.executable, "-m", "lsp_server"], server_env=env).start()
    capabilities = types.ClientCapabilities(text_document=types.TextDocumentClientCapabilities(
        inline_completion=types.InlineCompletionClientCapabilities()))
    settings = {"backend": {"kind": "openai", "baseUrl": backend.url, "model": "qwen2.5-coder-1.5b"},
                "cache": {"dir": str(workdir / "cache")}, "completion": {"debounceMs": 0}}
    await client.initialize_session(types.InitializeParams(capabilities=capabilities,
                                                           initialization_options=settings,
                                                           root_uri=workdir.as_uri()))
    path = workdir / "decimal_edit.py"
    path.write_text(document)
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1, text=document)))
    line = original[:start].count("\n")
    character = 0
    round_trips: list[float] = []
    version = 1
    for ch in typed_region:
        version += 1
        position = types.Position(line, character)
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangePartial(
                range=types.Range(start=position, end=position), text=ch)]))
        if ch == "\n":
            line, character = line + 1, 0
        else:
            character += len(ch.encode("utf-16-le")) // 2
        began = time.perf_counter()
        await client.text_document_inline_completion_async(types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line, character),
            context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Automatic)))
        round_trips.append((time.perf_counter() - began) * 1000)
    await client.shutdown_session()
    await client.stop()
    calls = [r for r in backend.requests() if r.path.endswith("/completions")]
    backend.stop()
    return summarise(log_file, round_trips, calls, len(typed_region))


def backend_window(trace: dict[str, Any], calls: list[Any]) -> tuple[float, float] | None:
    """(arrived, finished) of the backend request this trace sent: the first to arrive after it left."""
    sent = trace["at"]["sent"]
    after = [c for c in calls if c.arrived_at >= sent and c.finished_at is not None]
    if not after:
        return None
    first = min(after, key=lambda c: c.arrived_at)
    return first.arrived_at, first.finished_at


def summarise(log_file: Path, round_trips: list[float], calls: list[Any], keystrokes: int) -> dict[str, Any]:
    lines = [json.loads(x) for x in log_file.read_text().splitlines() if x.startswith("{")]
    inline = [x for x in lines if x.get("msg") == "inline completion"]
    prompts = [prompt_text(c.body) for c in calls]
    pre: list[float] = []
    post: list[float] = []
    for trace in (x for x in inline if "at" in x):
        window = backend_window(trace, calls)
        if window is None:
            continue
        at = trace["at"]
        pre.append(round((window[0] - at["in"] - at["waited"]) * 1000, 3))
        post.append(round((at["out"] - window[1]) * 1000, 3))
    reused = [x["total_ms"] for x in inline if x["outcome"] == "typed-ahead"]
    gated = [x for x in inline if str(x["outcome"]).startswith("gated")]
    asked = len(inline) - len(gated)
    shares = [common_prefix(a, b) / len(b) for a, b in zip(prompts, prompts[1:], strict=False) if b]

    def stats(values: list[float]) -> dict[str, float]:
        return {"n": len(values), "p50": round(statistics.median(values), 3) if values else float("nan"),
                "p95": round(percentile(values, 0.95), 3)}

    step_names = sorted({k for x in inline for k in x if k.startswith("step_")})
    return {
        "steps_ms": {name[5:-3]: stats([x[name] for x in inline if name in x]) for name in step_names},
        "keystrokes": keystrokes, "requests": len(inline), "gated": len(gated), "model_calls": len(prompts),
        "typed_ahead_hits": len(reused),
        "typed_ahead_hit_rate": round(len(reused) / asked, 3) if asked else None,
        "pre_ms": stats(pre), "post_ms": stats(post),
        "server_marks_only_ms": {"pre": stats([x["pre_ms"] for x in inline if "pre_ms" in x]),
                                 "post": stats([x["post_ms"] for x in inline if "post_ms" in x])},
        "overhead_ms": stats([a + b for a, b in zip(pre, post, strict=False)]),
        "overhead_values": [round(a + b, 3) for a, b in zip(pre, post, strict=False)],
        "typed_ahead_total_ms": stats(reused), "client_round_trip_ms": stats(round_trips),
        "prefix_stable_share": stats(shares),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chars", type=int, default=600, help="characters to type")
    parser.add_argument("--reply", choices=["line", "word"], default="line",
                        help="the oracle answers with the rest of the line, or only the next word")
    parser.add_argument("--runs", type=int, default=1,
                        help="replays, each with a fresh server; on a noisy machine, report every run's figures")
    parser.add_argument("--serve-oracle", choices=["line", "word"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_oracle:
        serve_oracle(args.serve_oracle)
        return
    runs = []
    for _ in range(max(1, args.runs)):
        with tempfile.TemporaryDirectory() as tmp:
            runs.append(asyncio.run(replay(args.chars, Path(tmp), args.reply)))
    result = runs[0]
    pooled = [value for run in runs for value in run.pop("overhead_values")]
    if len(runs) > 1:
        result["runs"] = [{"overhead_p50": run["overhead_ms"]["p50"], "overhead_p95": run["overhead_ms"]["p95"],
                           "pre_p50": run["pre_ms"]["p50"], "post_p50": run["post_ms"]["p50"]} for run in runs]
        result["overhead_ms_all_runs"] = {"n": len(pooled), "p50": round(statistics.median(pooled), 3),
                                          "p95": round(percentile(pooled, 0.95), 3)}
    result["reply_mode"] = args.reply
    cpu = platform.processor() or platform.machine()
    result["machine"] = f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
