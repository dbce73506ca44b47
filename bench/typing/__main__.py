"""Typing replay: real files typed back key by key, answered by an oracle, three clients side by side.

    python -m bench.typing [--clients ghostwriter,tabby,floor] [--files N] [--speed X] [--out F.json]

Per client: coverage (share of keys, where text was still missing, that got a suggestion) and
exact (share where the suggestion was right), in code and in prose; client latency per request;
engine calls per 100 keys and prompt tokens per key.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import logging
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench.quality import corpus
from bench.typing import clients, spans
from bench.typing.regions import regions
from bench.typing.replay import Record, replay
from bench.typing.report import markdown, misses, summary
from bench.typing.script import initial_buffer, keys

MODEL = "qwen2.5-coder-1.5b"


class Backend:
    """The oracle and the Tabby-API stand-in in their own process (bench/typing/backend.py)."""

    def __init__(self, files: list[Path], model: str) -> None:
        command = [sys.executable, "-m", "bench.typing.backend", "--model", model, *map(str, files)]
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        self.urls: dict[str, str] = json.loads(self.process.stdout.readline())

    def stats(self) -> dict[str, int]:
        with urllib.request.urlopen(f"{self.urls['tabby']}/bench/stats", timeout=60) as reply:
            return dict(json.loads(reply.read()))

    def reset(self) -> None:
        request = urllib.request.Request(f"{self.urls['tabby']}/bench/reset", data=b"{}", method="POST")
        with urllib.request.urlopen(request, timeout=10):
            pass

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.terminate()


def workspace(case: spans.Replay, scratch: Path) -> Path:
    """A copy of the project with the span already deleted on disk, as in the buffer at the start."""
    root = scratch / case.root.name
    if not root.exists():
        shutil.copytree(case.root, root)
        (root / case.path).write_text(initial_buffer(case.original, case.start, case.end), encoding="utf-8")
    return root


async def run_client(name: str, case: spans.Replay, root: Path, backend: Backend, speed: float,
                     seed: int) -> tuple[list[Record], dict[str, int]]:
    backend.reset()
    checks = backend.stats().get("tabby_checks", 0)
    with tempfile.TemporaryDirectory() as scratch:
        session = await clients.start(name, root, Path(scratch), backend.urls, MODEL)
        try:
            if name == "tabby":
                await _agent_ready(backend, checks)
            replay_keys = keys(case.original, case.start, case.end, f"{seed}:{case.id}")
            records = await replay(session, (root / case.path).as_uri(), case, replay_keys,
                                   regions(case.original), speed)
        finally:
            await session.close()
    return records, backend.stats()


async def _agent_ready(backend: Backend, before: int) -> None:
    """The agent checks the server's health and reads its settings before it asks for completions."""
    deadline = time.monotonic() + 15
    while backend.stats().get("tabby_checks", 0) < before + 2:
        if time.monotonic() > deadline:
            raise clients.Unavailable("tabby-agent never reached the Tabby-API stand-in")
        await asyncio.sleep(0.1)


async def evaluate(names: list[str], cases: list[spans.Replay], backend: Backend, speed: float,
                   seed: int) -> dict[str, Any]:
    records: dict[str, list[Record]] = {name: [] for name in names}
    engine: dict[str, dict[str, int]] = {name: {} for name in names}
    per_replay: dict[str, dict[str, Any]] = {}
    missed: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    skipped: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for case in cases:
            root = workspace(case, Path(scratch))
            for name in names:
                if name in skipped:
                    continue
                began = time.perf_counter()
                try:
                    mine, stats = await run_client(name, case, root, backend, speed, seed)
                except clients.Unavailable as why:
                    skipped[name] = str(why)
                    print(f"{name}: skipped: {why}", flush=True)
                    continue
                records[name].extend(mine)
                for counter, value in stats.items():
                    engine[name][counter] = engine[name].get(counter, 0) + value
                per_replay.setdefault(case.id, {})[name] = summary(mine, stats)
                missed[name].extend(misses(mine, case.id))
                print(f"{case.id} {name}: {len(mine)} keys in {time.perf_counter() - began:.1f} s", flush=True)
    table: dict[str, dict[str, Any]] = {}
    for name in names:
        table[name] = {"skipped": skipped[name]} if name in skipped else summary(records[name], engine[name])
    return {"table": table, "per_replay": per_replay, "misses": missed}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", default=",".join(clients.NAMES))
    parser.add_argument("--files", type=int, default=4, help="replays, one file each, projects in turn")
    parser.add_argument("--speed", type=float, default=1.0, help="divides every think time (CI: 50)")
    parser.add_argument("--lines", default="30,60", help="span length range in lines")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--corpus-dir", type=Path, default=corpus.default_dir())
    parser.add_argument("--out", type=Path, help="write the JSON report here")
    args = parser.parse_args(argv)
    names = [n for n in args.clients.split(",") if n]
    unknown = set(names) - set(clients.NAMES)
    if unknown:
        parser.error(f"unknown clients: {', '.join(sorted(unknown))}")
    low, high = (int(n) for n in args.lines.split(","))
    logging.getLogger("pygls").setLevel(logging.ERROR)  # the servers' own notifications are not ours to read
    corpus.fetch(args.corpus_dir)
    cases = spans.choose(args.corpus_dir, args.files, args.seed, (low, high))
    backend = Backend([case.root / case.path for case in cases], MODEL)
    try:
        results = asyncio.run(evaluate(names, cases, backend, args.speed, args.seed))
    finally:
        backend.close()
    report: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "commit": _commit(), "machine": f"{platform.platform()}, {os.cpu_count()} CPUs",
        "command": "python -m bench.typing " + shlex.join(argv if argv is not None else sys.argv[1:]),
        "speed": args.speed, "seed": args.seed, "replays": [case.id for case in cases], **results}
    print(markdown(report["table"]))
    if args.out:
        args.out.write_text(json.dumps(report, indent=1))
    return report


def _commit() -> str:
    if os.environ.get("GW_COMMIT"):
        return os.environ["GW_COMMIT"]
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return ""


if __name__ == "__main__":
    main()
