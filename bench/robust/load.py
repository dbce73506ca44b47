"""Load: eight editors typing at once through one server, with memory sampled throughout.

Each editor owns one Python document and types a program into it keystroke by keystroke
(didChange, then an inline completion, as editors send them), with an occasional backspace,
hover, code-action list and a cancelled completion. The backend is the loopback fake, answering
at once. Every request must be answered within a bound; the server's resident memory (VmRSS from
/proc) is sampled once a second, and its growth from the second quarter of the run to the last
shows whether caches, syntax trees or task lists leak. At the end every document is checked:
the server's copy must equal the editor's (an edit lost or applied twice would show), and no
suggestion may have been given for a version of a document other than the one it was asked for.

    .venv/bin/python -m bench.robust.load --minutes 10 [--editors 8] [--json out.json]

tests/robust/test_load.py runs the same load for about a minute in CI.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.e2e.conftest import SERVER_ENV, capabilities_for
from tests.fakes.openai_server import FakeOpenAIServer

MODEL = "load-model"
REPLY = "value + 1"
ANSWER_BOUND_S = 30.0  # a request not answered within this counts as lost (a generous bound on 2 busy cores)
PROGRAM = '''import math


class Shape{n}:
    """A shape with an area and a perimeter."""

    def __init__(self, width, height):
        self.width = width
        self.height = height

    def area(self):
        return self.width * self.height

    def perimeter(self):
        return 2 * (self.width + self.height)


def total_area{n}(shapes):
    value = 0
    for shape in shapes:
        value += shape.area()
    return math.floor(value)

'''


@dataclass
class Tally:
    requests: int = 0
    answered: int = 0
    cancelled: int = 0
    errors: int = 0
    unanswered: int = 0
    wrong_edits: int = 0
    keystrokes: int = 0
    latencies_ms: list[float] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        for name in ("requests", "answered", "cancelled", "errors", "unanswered", "wrong_edits", "keystrokes"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.latencies_ms.extend(other.latencies_ms)


def rss_bytes(pid: int) -> int:
    """Resident set size of a process, from /proc (Linux)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


class Editor:
    """One editor's buffer, as the editor sees it, kept in step with what it sends."""

    def __init__(self, client: LanguageClient, path: Path, index: int, rng: random.Random) -> None:
        self.client = client
        self.uri = path.as_uri()
        self.text = ""
        self.version = 1
        self.program = PROGRAM.format(n=index)
        self.typed = 0  # characters of the program typed so far (it is typed again and again)
        self.rng = rng
        self.tally = Tally()
        client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
            uri=self.uri, language_id="python", version=self.version, text=self.text)))

    def end_position(self) -> types.Position:
        lines = self.text.split("\n")
        return types.Position(line=len(lines) - 1, character=len(lines[-1]))  # ASCII: UTF-16 units = chars

    def change(self, start: types.Position, end: types.Position, inserted: str) -> None:
        self.version += 1
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=self.uri, version=self.version),
            content_changes=[types.TextDocumentContentChangePartial(range=types.Range(start=start, end=end),
                                                                    text=inserted)]))

    def keystroke(self) -> None:
        self.tally.keystrokes += 1
        end = self.end_position()
        if self.text and not self.text.endswith("\n") and self.rng.random() < 0.05:  # a backspace
            self.text = self.text[:-1]
            self.change(types.Position(end.line, end.character - 1), end, "")
            self.typed -= 1
            return
        char = self.program[self.typed % len(self.program)]
        self.typed += 1
        self.text += char
        self.change(end, end, char)

    async def request(self, method: str, params: Any, cancel: bool = False) -> Any:
        """Send a request; with `cancel`, cancel it at once (the server must still answer it)."""
        self.tally.requests += 1
        msg_id = str(uuid.uuid4())
        began = time.perf_counter()
        future = asyncio.wrap_future(self.client.protocol.send_request(method, params, msg_id=msg_id))
        if cancel:
            self.client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=msg_id))
        try:
            result = await asyncio.wait_for(future, ANSWER_BOUND_S)
        except asyncio.TimeoutError:
            self.tally.unanswered += 1
            return None
        except Exception as exc:  # an error answer: fine for a cancelled request, counted otherwise
            if cancel or "cancel" in str(exc).lower():
                self.tally.cancelled += 1
            else:
                self.tally.errors += 1
            return None
        self.tally.answered += 1
        self.tally.latencies_ms.append((time.perf_counter() - began) * 1000)
        return result

    async def complete(self, cancel: bool = False) -> None:
        asked_version, where = self.version, self.end_position()
        params = types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=self.uri), position=where,
            context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Automatic))
        result = await self.request(types.TEXT_DOCUMENT_INLINE_COMPLETION, params, cancel)
        items = getattr(result, "items", None) or []
        if self.version != asked_version:  # the editor moved on; it would drop an answer for an old version
            return
        for item in items:
            span = item.range
            if span is not None and (span.start.line, span.start.character) > (where.line, where.character):
                self.tally.wrong_edits += 1  # a suggestion placed past the cursor it was asked for

    async def run(self, until: float, pause_s: tuple[float, float]) -> None:
        while time.monotonic() < until:
            self.keystroke()
            roll = self.rng.random()
            if roll < 0.05:
                await self.request(types.TEXT_DOCUMENT_HOVER, types.HoverParams(
                    text_document=types.TextDocumentIdentifier(uri=self.uri),
                    position=types.Position(max(0, self.end_position().line - 1), 4)))
            elif roll < 0.08:
                await self.request(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionParams(
                    text_document=types.TextDocumentIdentifier(uri=self.uri),
                    range=types.Range(start=types.Position(0, 0), end=self.end_position()),
                    context=types.CodeActionContext(diagnostics=[])))
            await self.complete(cancel=roll > 0.95)
            await asyncio.sleep(self.rng.uniform(*pause_s))


async def run_load(seconds: float, editors: int = 8, pause_s: tuple[float, float] = (0.02, 0.12),
                   seed: int = 1, log_level: str = "error", disk_cache: bool = True) -> dict[str, Any]:
    rng = random.Random(seed)
    with FakeOpenAIServer(models=[MODEL]) as fake, tempfile.TemporaryDirectory() as workdir:
        root = Path(workdir)
        fake.set_rules([{"contains": "Explain", "reply": "It adds one."}, {"reply": REPLY}])
        config = ClientServerConfig(server_command=[sys.executable, "-m", "lsp_server"],
                                    server_env={**SERVER_ENV, "GHOSTWRITER_LOG_LEVEL": log_level})
        client = await config.start()
        usage_notes = [0]

        @client.feature("ghostwriter/usage")
        def on_usage(params: Any) -> None:  # the status item's updates, throttled by the server
            usage_notes[0] += 1

        settings = {"backend": {"kind": "openai", "baseUrl": fake.url, "model": MODEL},
                    "cache": {"dir": str(root / "cache"), "enabled": disk_cache}, "completion": {"debounceMs": 0}}
        client.set_configuration(settings, section="ghostwriter")
        await client.initialize_session(types.InitializeParams(
            capabilities=capabilities_for("visual_studio_code"), initialization_options=settings,
            root_uri=root.as_uri(), workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="load")]))
        pid = client._server.pid  # type: ignore[union-attr]
        samples: list[tuple[float, int]] = []
        started = time.monotonic()
        until = started + seconds

        async def sample() -> None:
            while time.monotonic() < until:
                samples.append((time.monotonic() - started, rss_bytes(pid)))
                await asyncio.sleep(1.0)

        crowd = [Editor(client, root / f"editor{i}.py", i, random.Random(rng.random())) for i in range(editors)]
        sampler = asyncio.ensure_future(sample())
        await asyncio.gather(*(editor.run(until, pause_s) for editor in crowd))
        await sampler
        lost = 0
        for editor in crowd:
            lost += 0 if await server_copy_matches(editor, fake) else 1
        alive = client._server.returncode is None  # type: ignore[union-attr]
        await client.shutdown_session()
        await client.stop()
    total = Tally()
    for editor in crowd:
        total.add(editor.tally)
    result = summarise(total, samples, seconds, editors, lost, alive)
    result["usage_notifications"] = usage_notes[0]
    return result


async def server_copy_matches(editor: Editor, fake: FakeOpenAIServer) -> bool:
    """Whether the server's copy of the document equals the editor's: an invoked completion at the end
    of a fresh line sends the text before the cursor to the backend, where it is compared."""
    marker = f"\n    check_{editor.version} = "
    end = editor.end_position()
    editor.text += marker
    editor.change(end, end, marker)
    seen = len(fake.requests)
    params = types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=editor.uri), position=editor.end_position(),
        context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Invoked))
    await editor.request(types.TEXT_DOCUMENT_INLINE_COMPLETION, params)
    prompts = [str(r.body.get("prompt", "")) for r in fake.requests[seen:] if r.path.endswith("/completions")]
    tail = editor.text[-300:]
    return any(tail in prompt for prompt in prompts)


def growth(samples: list[tuple[float, int]]) -> float:
    """RSS growth from the second quarter of the run to the last, as a fraction (0.1 = 10 %)."""
    n = len(samples)
    if n < 8:
        return 0.0
    second = [rss for _, rss in samples[n // 4: n // 2]]
    last = [rss for _, rss in samples[3 * n // 4:]]
    return statistics.median(last) / statistics.median(second) - 1


def summarise(total: Tally, samples: list[tuple[float, int]], seconds: float, editors: int, lost: int,
              alive: bool) -> dict[str, Any]:
    latencies = sorted(total.latencies_ms) or [0.0]
    mib = 1024 * 1024
    return {
        "seconds": seconds, "editors": editors, "keystrokes": total.keystrokes, "requests": total.requests,
        "answered": total.answered, "cancelled": total.cancelled, "errors": total.errors,
        "unanswered": total.unanswered, "wrong_edits": total.wrong_edits, "lost_documents": lost,
        "server_alive": alive,
        "latency_ms": {"median": round(statistics.median(latencies), 1),
                       "p95": round(latencies[int(0.95 * (len(latencies) - 1))], 1)},
        "rss_mib": {"first": round(samples[0][1] / mib, 1) if samples else 0,
                    "peak": round(max(r for _, r in samples) / mib, 1) if samples else 0,
                    "last": round(samples[-1][1] / mib, 1) if samples else 0},
        "rss_growth_q2_to_q4": round(growth(samples), 4),
        "rss_samples": [[round(t, 1), round(r / mib, 2)] for t, r in samples],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--editors", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-disk-cache", action="store_true", help="settings cache.enabled false")
    parser.add_argument("--json", type=Path, help="write the full result (with RSS samples) here")
    args = parser.parse_args(argv)
    result = asyncio.run(run_load(args.minutes * 60, args.editors, seed=args.seed,
                                  disk_cache=not args.no_disk_cache))
    result["machine"] = f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    shown = {k: v for k, v in result.items() if k != "rss_samples"}
    print(json.dumps(shown, indent=1))


if __name__ == "__main__":
    main()
