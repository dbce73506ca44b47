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
import json
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bench.nes.replays import Replay
from context.next_edit import worth_showing
from context.next_edit_prompts import (
    TEMPLATES,
    NextEditTemplate,
    RegionView,
    next_edit_messages,
    read_rewrite,
    rejoined_rewrite,
)

TEMPLATE = TEMPLATES["qwen"]
# variant → (prompt template, without history?)
VARIANT_PROMPTS: dict[str, tuple[NextEditTemplate, bool]] = {
    "history": (TEMPLATE, False),
    "plain": (TEMPLATE, True),
    "history-tags": (TEMPLATES["generic"], False),
}
VARIANTS = ("history", "plain")
MAX_TOKENS = 768


@dataclass
class Reply:
    text: str
    finish_reason: str | None
    ms: float
    completion_tokens: int = 0
    prompt_tokens: int = 0
    stopped_early: bool = False
    first_token_ms: float = 0.0


Ask = Callable[[tuple[dict[str, str], ...], Replay, NextEditTemplate], Awaitable[Reply]]


def messages_for(replay: Replay, variant: str) -> tuple[dict[str, str], ...]:
    template, plain = VARIANT_PROMPTS[variant]
    view = RegionView(replay.path, "python", replay.before, replay.region, replay.after, replay.cursor)
    return next_edit_messages(template, view, replay.history, plain=plain)


def predict(replay: Replay, reply: Reply, template: NextEditTemplate = TEMPLATE) -> str | None:
    """The suggestion the server would show for this reply (None: no suggestion)."""
    rewrite = read_rewrite(reply.text, template, replay.region, reply.finish_reason)
    if rewrite is None or worth_showing(replay.region, rewrite, replay.history, replay.cursor):
        return None
    return rewrite


def as_streamed(reply: Reply, replay: Replay, template: NextEditTemplate) -> Reply:
    """The reply the server would have read from this whole answer: cut where its early stop fires
    (greedy decoding makes the streamed prefix the same text)."""
    if reply.stopped_early:
        return reply
    text = reply.text
    for end in (i + 1 for i, char in enumerate(text) if char == "\n"):
        if rejoined_rewrite(text[:end], template, replay.region) is not None:
            return Reply(text[:end], None, reply.ms, reply.completion_tokens, reply.prompt_tokens, True)
    return reply


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
        template = VARIANT_PROMPTS[variant][0]
        async with gate:
            reply = await ask(messages_for(replay, variant), replay, template)
        streamed = as_streamed(reply, replay, template)
        row = score(replay, predict(replay, streamed, template))
        whole = score(replay, predict(replay, reply, template))
        return {**row, "variant": variant, "ms": round(reply.ms, 1), "finish": reply.finish_reason,
                "stopped_early": streamed.stopped_early, "completion_tokens": reply.completion_tokens,
                "whole": whole, "reply": reply.text}

    rows = await asyncio.gather(*(one(r, v) for v in variants for r in replays))
    summary = {v: summarise([r for r in rows if r["variant"] == v]) for v in variants}
    summary |= {f"{v} (whole answers)": summarise([r["whole"] for r in rows if r["variant"] == v]) for v in variants}
    return {"summary": summary, "rows": rows}


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    rank = (len(ordered) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


async def latency(ask: Ask, replays: list[Replay], warmup: int = 3) -> dict[str, Any]:
    """One request at a time (one user), history prompt; wall time from send to the usable answer."""
    for replay in replays[:warmup]:
        await ask(messages_for(replay, "history"), replay, TEMPLATE)
    replies = [await ask(messages_for(replay, "history"), replay, TEMPLATE) for replay in replays]
    times = [r.ms for r in replies]
    tokens = [r.completion_tokens for r in replies]
    return {"n": len(times), "p50_ms": round(percentile(times, 50), 1), "p95_ms": round(percentile(times, 95), 1),
            "mean_ms": round(statistics.fmean(times), 1) if times else 0.0,
            "first_token_p50_ms": round(percentile([r.first_token_ms for r in replies], 50), 1),
            "stopped_early_pct": round(100 * sum(r.stopped_early for r in replies) / max(1, len(replies)), 1),
            "completion_tokens_p50": percentile([float(t) for t in tokens], 50),
            "prompt_tokens_p50": percentile([float(r.prompt_tokens) for r in replies], 50),
            "region_lines_p50": percentile([float(len(r.region.splitlines())) for r in replays], 50)}


def oracle() -> Ask:
    """A perfect model: it answers each replay's expected region (a check of the machinery)."""

    async def ask(messages: tuple[dict[str, str], ...], replay: Replay, template: NextEditTemplate) -> Reply:
        return Reply(f"{template.region_start}\n{replay.expected}{template.region_end}", "stop", 0.0)

    return ask


def http(base_url: str, model: str, session: Any, max_tokens: int = MAX_TOKENS, early_stop: bool = True) -> Ask:
    """Streamed chat/completions as the server sends it: greedy, stop string at the end marker, and
    (`early_stop`) the connection closed once the answer has rejoined the old region, as the server does."""

    async def ask(messages: tuple[dict[str, str], ...], replay: Replay, template: NextEditTemplate) -> Reply:
        body = {"model": model, "messages": list(messages), "max_tokens": max_tokens, "temperature": 0.0,
                "stop": [template.region_end], "stream": True, "stream_options": {"include_usage": True}}
        started = time.perf_counter()
        parts: list[str] = []
        finish: str | None = None
        usage: dict[str, Any] = {}
        first = 0.0
        stopped = False
        async with session.post(f"{base_url.rstrip('/')}/chat/completions", json=body) as response:
            async for raw in response.content:
                line = raw.decode("utf-8", "replace").strip()
                if not line.startswith("data:") or line == "data: [DONE]":
                    continue
                chunk = json.loads(line[5:])
                usage = chunk.get("usage") or usage
                for choice in chunk.get("choices") or []:
                    piece = (choice.get("delta") or {}).get("content") or ""
                    if piece:
                        first = first or (time.perf_counter() - started) * 1000
                        parts.append(piece)
                    finish = choice.get("finish_reason") or finish
                if early_stop and parts and rejoined_rewrite("".join(parts), template, replay.region) is not None:
                    stopped = True
                    break  # leaving the block closes the connection: the engine aborts the request
        ms = (time.perf_counter() - started) * 1000
        text = "".join(parts)
        tokens = int(usage.get("completion_tokens", 0)) or len(text) // 4
        return Reply(text, None if stopped else finish, ms, tokens, int(usage.get("prompt_tokens", 0)),
                     stopped, first)

    return ask


def markdown(quality: dict[str, Any]) -> str:
    lines = ["| prompt | exact hunk % | edit similarity | no suggestion % (edit replays) "
             "| false positives % (no-edit) |",
             "|---|---|---|---|---|"]
    names = {"history": "next-edit (history + region)", "plain": "plain rewrite (no history)",
             "history-tags": "next-edit, tag markers"}
    for variant, s in quality["summary"].items():
        base, _, rest = variant.partition(" ")
        name = names.get(base, base) + (f" {rest}" if rest else "")
        lines.append(f"| {name} | {s['exact_pct']} | {s['similarity']} | {s['no_suggestion_pct']} | "
                     f"{s['false_positive_pct']} |")
    return "\n".join(lines)
