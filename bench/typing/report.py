"""Per-client figures from the replay records and the engine's counters, and their Markdown table."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

from bench.typing.regions import PROSE
from bench.typing.replay import Record

GROUPS: dict[str, tuple[str, ...]] = {"all": ("code", *PROSE), "code": ("code",), "prose": PROSE,
                                      **{kind: (kind,) for kind in PROSE}}


def percent(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


def percentile(values: Sequence[float], q: int) -> float:
    if not values:
        return 0.0
    if len(values) == 1:
        return round(values[0], 2)
    return round(statistics.quantiles(values, n=100, method="inclusive")[q - 1], 2)


def summary(records: Sequence[Record], engine: dict[str, int]) -> dict[str, Any]:
    """Coverage and exactness where text was missing, by region; latency; engine cost per key."""
    keys = len(records)
    out: dict[str, Any] = {"keys": keys}
    for group, kinds in GROUPS.items():
        mine = [r for r in records if r.measured and r.region in kinds]
        out[group] = {"n": len(mine), "coverage": percent(sum(r.verdict != "empty" for r in mine), len(mine)),
                      "exact": percent(sum(r.verdict == "exact" for r in mine), len(mine))}
    latencies = [r.ms for r in records]
    out["latency_ms"] = {"p50": percentile(latencies, 50), "p95": percentile(latencies, 95),
                         "max": round(max(latencies, default=0.0), 1)}
    out["calls_per_100_keys"] = round(100.0 * engine.get("calls", 0) / keys, 2) if keys else 0.0
    out["warmups"] = engine.get("warmups", 0)
    out["prompt_tokens_per_key"] = round(engine.get("prompt_tokens", 0) / keys, 1) if keys else 0.0
    # Where nothing was missing (the cursor jumped away, or after a typo) a suggestion is noise.
    unmeasured = [r for r in records if not r.measured]
    out["offered_where_nothing_missing"] = sum(r.verdict == "offered" for r in unmeasured)
    out["unmeasured_keys"] = len(unmeasured)
    # Where the misses are: at the end of a typed line (what is missing starts with the line break) or inside one.
    missed = [r for r in records if r.measured and r.verdict != "exact"]
    out["missed"] = {"at_line_end": sum(at_line_end(r.missing) for r in missed),
                     "in_line": sum(not at_line_end(r.missing) for r in missed)}
    return out


def at_line_end(missing: str) -> bool:
    return missing.lstrip(" \t").startswith("\n")


def misses(records: Sequence[Record], replay_id: str) -> list[dict[str, Any]]:
    return [{"replay": replay_id, "key": r.key, "kind": r.kind, "region": r.region, "verdict": r.verdict,
             "at_line_end": at_line_end(r.missing),
             "missing": r.missing[:120], "suggestion": r.suggestion[:120]}
            for r in records if r.measured and r.verdict != "exact"]


def markdown(table: dict[str, dict[str, Any]]) -> str:
    lines = ["| client | keys | coverage all / code / prose | exact all / code / prose | latency p50 / p95 ms "
             "| engine calls / 100 keys | prompt tokens / key |",
             "|---|---|---|---|---|---|---|"]
    for name, row in table.items():
        if "skipped" in row:
            lines.append(f"| {name} | skipped: {row['skipped']} | | | | | |")
            continue
        cover = " / ".join(f"{row[g]['coverage']:.1f} %" for g in ("all", "code", "prose"))
        exact = " / ".join(f"{row[g]['exact']:.1f} %" for g in ("all", "code", "prose"))
        lat = row["latency_ms"]
        lines.append(f"| {name} | {row['keys']} | {cover} | {exact} | {lat['p50']:.2f} / {lat['p95']:.2f} "
                     f"| {row['calls_per_100_keys']:.2f} | {row['prompt_tokens_per_key']:.1f} |")
    return "\n".join(lines)
