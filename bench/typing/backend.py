"""The replay's backend, in its own process so its threads never wait on the driver's interpreter lock.

    python -m bench.typing.backend --model M FILE...

Serves the oracle (OpenAI-compatible) and, in front of it, the Tabby-API stand-in, and prints
`{"oracle": url, "tabby": url}` as its first stdout line. The stand-in's port also answers
`GET /bench/stats` (engine calls and prompt tokens since the last reset) and `POST /bench/reset`.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from bench.typing.oracle import TypingOracle
from bench.typing.tabby_api import Engine, TabbyStandIn
from context.tokens import counter_for
from tests.fakes.rules import prompt_text


def stats(oracle: TypingOracle, model: str) -> dict[str, Any]:
    """What the clients cost the engine: calls (KV warm-ups apart) and prompt tokens, real tokenizer."""
    counter = counter_for(model)
    calls = [r.body for r in oracle.requests if r.path == "/v1/completions" and isinstance(r.body, dict)]
    warmups = [b for b in calls if int(b.get("max_tokens") or 16) <= 1]
    return {"calls": len(calls) - len(warmups), "warmups": len(warmups),
            "prompt_tokens": sum(counter.count(prompt_text(b)) for b in calls)}


def _reset(oracle: TypingOracle) -> dict[str, bool]:
    oracle.clear()
    return {"ok": True}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--tabby-max-tokens", type=int, default=64, help="Tabby's default max_decoding_tokens")
    parser.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args(argv)
    oracle = TypingOracle(args.model, [f.read_text(encoding="utf-8") for f in args.files])
    oracle.start()
    tabby = TabbyStandIn(Engine(oracle.url, args.model, args.tabby_max_tokens))
    tabby.routes[("GET", "/bench/stats")] = lambda _: {**stats(oracle, args.model), "tabby_checks": tabby.checks}
    tabby.routes[("POST", "/bench/reset")] = lambda _: _reset(oracle)
    threading.Thread(target=tabby.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(json.dumps({"oracle": oracle.url, "tabby": tabby.url}), flush=True)
    try:
        sys.stdin.read()  # it ends with the driver: stdin closes
    except KeyboardInterrupt:
        pass
    finally:
        tabby.shutdown()
        oracle.stop()


if __name__ == "__main__":
    main()
