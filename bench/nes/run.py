"""Answer edit replays with a model and score them; latency of one request at a time.

Each replay is asked twice: with the server's next-edit prompt (recent edits as diff hunks, then
the region) and with the plain "rewrite this region" prompt (no history). Both go through the
server's own prompt builder, answer parser and filter (context/next_edit*.py); the call itself is
a plain chat/completions request, as the server's pipeline sends it (no definitions: the replays
carry no syntax trees).

Scores: exact (the predicted region is the expected one), edit similarity (difflib ratio of the
predicted and expected changed lines; no suggestion scores 0), the share of edit replays with no
suggestion, and false positives (a suggestion where the answer is "no further edit").
"""

from __future__ import annotations

import asyncio
import difflib
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bench.nes.replays import Replay
from context.next_edit import worth_showing
from context.next_edit_prompts import TEMPLATES, RegionView, next_edit_messages, parse_rewrite

TEMPLATE = TEMPLATES["qwen"]
VARIANTS = ("history", "plain")
MAX_TOKENS = 768


@dataclass
class Reply:
    text: str
    finish_reason: str | None
    ms: float
    completion_tokens: int = 0
    prompt_tokens: int = 0


Ask = Callable[[tuple[dict[str, str], ...], Replay], Awaitable[Reply]]


def messages_for(replay: Replay, variant: str) -> tuple[dict[str, str], ...]:
    view = RegionView(replay.path, "python", replay.before, replay.region, replay.after, replay.cursor)
    return next_edit_messages(TEMPLATE, view, replay.history, plain=variant == "plain")


def predict(replay: Replay, reply: Reply) -> str | None:
    """The suggestion the server would show for this reply (None: no suggestion)."""
    rewrite = parse_rewrite(reply.text, TEMPLATE, replay.region, stopped_at_end=reply.finish_reason == "stop")
    if rewrite is None or worth_showing(replay.region, rewrite, replay.history, replay.cursor):
        return None
    return rewrite


def changed_lines(old: str, new: str) -> str:
    diff = difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=0)
    return "\n".join(line for line in diff if line[:1] in "+-" and not line.startswith(("+++", "---")))


def score(replay: Replay, prediction: str | None) -> dict[str, Any]:
    if replay.kind == "none":
        return {"id": replay.id, "kind": "none", "suggested": prediction is not None}
    exact = prediction == replay.expected
    similarity = 0.0 if prediction is None else difflib.SequenceMatcher(
        None, changed_lines(replay.region, prediction), changed_lines(replay.region, replay.expected),
        autojunk=False).ratio()
    return {"id": replay.id, "kind": "edit", "suggested": prediction is not None, "exact": exact,
            "similarity": round(similarity, 4)}


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    edits = [r for r in rows if r["kind"] == "edit"]
    nones = [r for r in rows if r["kind"] == "none"]

    def share(items: list[dict[str, Any]], key: str) -> float:
        return round(100 * sum(bool(r[key]) for r in items) / len(items), 1) if items else 0.0

    return {
        "edit_replays": len(edits), "none_replays": len(nones),
        "exact_pct": share(edits, "exact"),
        "similarity": round(statistics.fmean(r["similarity"] for r in edits), 3) if edits else 0.0,
        "no_suggestion_pct": round(100 - share(edits, "suggested"), 1) if edits else 0.0,
        "false_positive_pct": share(nones, "suggested"),
    }


async def evaluate(ask: Ask, replays: list[Replay], variants: tuple[str, ...] = VARIANTS,
                   parallel: int = 16) -> dict[str, Any]:
    gate = asyncio.Semaphore(parallel)

    async def one(replay: Replay, variant: str) -> dict[str, Any]:
        async with gate:
            reply = await ask(messages_for(replay, variant), replay)
        row = score(replay, predict(replay, reply))
        return {**row, "variant": variant, "ms": round(reply.ms, 1), "finish": reply.finish_reason,
                "completion_tokens": reply.completion_tokens}

    rows = await asyncio.gather(*(one(r, v) for v in variants for r in replays))
    return {"summary": {v: summarise([r for r in rows if r["variant"] == v]) for v in variants}, "rows": rows}


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    rank = (len(ordered) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


async def latency(ask: Ask, replays: list[Replay], warmup: int = 3) -> dict[str, Any]:
    """One request at a time (one user), history prompt; wall time from send to the whole answer."""
    for replay in replays[:warmup]:
        await ask(messages_for(replay, "history"), replay)
    replies = [await ask(messages_for(replay, "history"), replay) for replay in replays]
    times = [r.ms for r in replies]
    tokens = [r.completion_tokens for r in replies]
    return {"n": len(times), "p50_ms": round(percentile(times, 50), 1), "p95_ms": round(percentile(times, 95), 1),
            "mean_ms": round(statistics.fmean(times), 1) if times else 0.0,
            "completion_tokens_p50": percentile([float(t) for t in tokens], 50),
            "prompt_tokens_p50": percentile([float(r.prompt_tokens) for r in replies], 50),
            "region_lines_p50": percentile([float(len(r.region.splitlines())) for r in replays], 50)}


def oracle() -> Ask:
    """A perfect model: it answers each replay's expected region (a check of the machinery)."""

    async def ask(messages: tuple[dict[str, str], ...], replay: Replay) -> Reply:
        return Reply(f"{TEMPLATE.region_start}\n{replay.expected}{TEMPLATE.region_end}", "stop", 0.0)

    return ask


def http(base_url: str, model: str, session: Any, max_tokens: int = MAX_TOKENS) -> Ask:
    """chat/completions on an OpenAI-compatible endpoint, as the server sends it (greedy, stop at the end marker)."""

    async def ask(messages: tuple[dict[str, str], ...], replay: Replay) -> Reply:
        body = {"model": model, "messages": list(messages), "max_tokens": max_tokens, "temperature": 0.0,
                "stop": [TEMPLATE.region_end]}
        started = time.perf_counter()
        async with session.post(f"{base_url.rstrip('/')}/chat/completions", json=body) as response:
            data = await response.json()
        ms = (time.perf_counter() - started) * 1000
        if "choices" not in data:
            return Reply("", "error", ms)
        choice = data["choices"][0]
        usage = data.get("usage") or {}
        return Reply(choice["message"].get("content") or "", choice.get("finish_reason"), ms,
                     int(usage.get("completion_tokens", 0)), int(usage.get("prompt_tokens", 0)))

    return ask


def markdown(quality: dict[str, Any]) -> str:
    lines = ["| prompt | exact hunk % | edit similarity | no suggestion % (edit replays) "
             "| false positives % (no-edit) |",
             "|---|---|---|---|---|"]
    for variant, s in quality["summary"].items():
        name = "next-edit (history + region)" if variant == "history" else "plain rewrite (no history)"
        lines.append(f"| {name} | {s['exact_pct']} | {s['similarity']} | {s['no_suggestion_pct']} | "
                     f"{s['false_positive_pct']} |")
    return "\n".join(lines)
