"""Tables of a run: per variant and hole kind; context recall from the prompts the oracle saw."""

from __future__ import annotations

import re
import statistics
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.quality.holes import KINDS, Hole
from bench.quality.run import Answer
from bench.quality.score import names_in

_DEF = re.compile(r"^(?:async\s+)?(?:def|class)\s+([A-Za-z_]\w*)", re.M)


def summary(answers: Sequence[Answer]) -> dict[str, dict[str, dict[str, float]]]:
    plain_right = {a.hole.id for a in answers if a.variant == "plain" and a.score.exact}
    table: dict[str, dict[str, dict[str, float]]] = defaultdict(dict)
    by: dict[tuple[str, str], list[Answer]] = defaultdict(list)
    for answer in answers:
        by[(answer.variant, answer.hole.kind)].append(answer)
        by[(answer.variant, "all")].append(answer)
    for (variant, kind), group in sorted(by.items()):
        n = len(group)
        table[variant][kind] = {
            "n": n,
            "exact": _share(a.score.exact for a in group),
            "first_line": _share(a.score.first_line for a in group),
            "similarity": round(statistics.fmean(a.score.similarity for a in group), 3),
            "parses": _share(a.score.parses for a in group),
            "empty": _share(a.score.empty for a in group),
            "empty_where_plain_right": _share(a.score.empty and a.hole.id in plain_right for a in group),
            "p50_ms": _percentile([a.seconds for a in group], 50),
            "p95_ms": _percentile([a.seconds for a in group], 95),
        }
    return dict(table)


def _share(flags: Any) -> float:
    values = list(flags)
    return round(100 * sum(values) / len(values), 1) if values else 0.0


def _percentile(seconds: list[float], q: int) -> float:
    if len(seconds) < 2:
        return round(1000 * seconds[0], 1) if seconds else 0.0
    return round(1000 * statistics.quantiles(seconds, n=100, method="inclusive")[q - 1], 1)


def markdown(table: dict[str, dict[str, dict[str, float]]]) -> str:
    kinds = ["all", *KINDS]
    lines = ["| variant | " + " | ".join(kinds) + " |", "|---|" + "---|" * len(kinds)]
    for variant, row in table.items():
        cells = [f"{row[k]['exact']:.1f} / {row[k]['first_line']:.1f} / {row[k]['similarity']:.2f}"
                 if k in row else "-" for k in kinds]
        lines.append(f"| {variant} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("cells: exact % / first-line exact % / edit similarity")
    lines.append("")
    lines.append("| variant | parses % | empty % | empty where plain was right % |")
    lines.append("|---|---|---|---|")
    for variant, row in table.items():
        a = row["all"]
        lines.append(f"| {variant} | {a['parses']} | {a['empty']} | {a['empty_where_plain_right']} |")
    lines.append("")
    lines.append("| variant | " + " | ".join(kinds) + " |")
    lines.append("|---|" + "---|" * len(kinds))
    for variant, row in table.items():
        cells = [f"{row[k]['p50_ms']:.0f} / {row[k]['p95_ms']:.0f}" if k in row else "-" for k in kinds]
        lines.append(f"| {variant} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("cells: latency p50 / p95 ms, request to answer at the client")
    return "\n".join(lines)


def context_recall(holes: Sequence[Hole], prompts: dict[str, str], roots: dict[str, Path]) -> dict[str, float]:
    """Of the project definitions (in other files) that a hole's true middle uses, how many the prompt held."""
    defined: dict[str, dict[str, set[str]]] = {}
    for project, root in roots.items():
        per_file: dict[str, set[str]] = {}
        for path in root.rglob("*.py"):
            if "test" in path.name or "tests" in path.parts:
                continue
            per_file[str(path.relative_to(root))] = set(_DEF.findall(path.read_text(encoding="utf-8", errors="ignore")))
        defined[project] = per_file
    needed = found = holes_needing = 0
    for hole in holes:
        prompt = prompts.get(hole.id)
        if prompt is None:
            continue
        others = set().union(*(names for path, names in defined[hole.project].items() if path != hole.path))
        own = defined[hole.project].get(hole.path, set())
        wanted = (names_in(hole.middle) & others) - own
        if not wanted:
            continue
        holes_needing += 1
        needed += len(wanted)
        found += sum(1 for name in wanted if re.search(rf"(?:def|class)\s+{re.escape(name)}\b", prompt))
    return {"holes_needing_definitions": holes_needing, "definitions_needed": needed,
            "definitions_in_prompt": found, "recall": round(100 * found / needed, 1) if needed else 0.0}
