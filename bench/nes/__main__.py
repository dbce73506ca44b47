"""Next-edit replay benchmark: quality (history prompt vs plain rewrite) and one-user latency.

    python -m bench.nes --oracle                                          # CPU: a perfect model
    python -m bench.nes --base-url http://127.0.0.1:8011/v1 --model M     # quality on a real engine
    python -m bench.nes --base-url URL --model M \\
        --latency off=http://127.0.0.1:8011/v1 ngram=http://127.0.0.1:8012/v1   # + latency per engine
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import subprocess
import time
from pathlib import Path
from typing import Any

from bench.nes.replays import Replay
from bench.nes.run import evaluate, http, latency, markdown, oracle

DATA = Path(__file__).parent / "data" / "replays.json"


def load(path: Path, limit: int | None = None) -> list[Replay]:
    replays = [Replay.from_wire(r) for r in json.loads(path.read_text(encoding="utf-8"))["replays"]]
    return replays[:limit] if limit else replays


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              check=False).stdout.strip()
    except OSError:
        return ""


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    replays = load(args.replays, args.limit)
    report: dict[str, Any] = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "commit": _commit(),
                              "machine": platform.node(), "replays": str(args.replays)}
    if args.oracle:
        report["quality"] = await evaluate(oracle(), replays, tuple(args.variants))
        return report
    import aiohttp

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:
        if not args.skip_quality:
            # Whole answers; the server's early stop is replayed on them (the same greedy text, cut).
            report["quality"] = await evaluate(http(args.base_url, args.model, session, early_stop=False), replays,
                                               tuple(args.variants), parallel=args.parallel)
        edits = [r for r in replays if r.kind == "edit"][:args.latency_n]
        report["latency"] = {}
        for label, url in (item.split("=", 1) for item in args.latency):
            for early in (True, False):
                name = label + ("" if early else " (whole answers)")
                report["latency"][name] = await latency(http(url, args.model, session, early_stop=early), edits)
                print(name, report["latency"][name], flush=True)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--replays", type=Path, default=DATA)
    parser.add_argument("--oracle", action="store_true", help="a perfect model, no engine (CI)")
    parser.add_argument("--base-url", default="http://127.0.0.1:8011/v1")
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--parallel", type=int, default=16)
    parser.add_argument("--variants", nargs="*", default=["history", "plain"],
                        help="prompts: history, plain, history-tags")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--latency", nargs="*", default=[], help="LABEL=BASE_URL engines, timed one at a time")
    parser.add_argument("--latency-n", type=int, default=40)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    report = asyncio.run(main_async(args))
    if "quality" in report:
        print(markdown(report["quality"]))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
