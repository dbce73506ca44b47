"""Suggestion quality on holes cut from real projects: the plain PSM prompt, Ghostwriter and its ablations.

    python -m bench.quality --backend oracle                           # CPU: a perfect model
    python -m bench.quality --base-url http://127.0.0.1:8011/v1 --model M   # a real engine
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import time
from pathlib import Path
from typing import Any

from bench.quality import corpus
from bench.quality.holes import Hole, cut_holes
from bench.quality.oracle import OracleEngine
from bench.quality.report import context_recall, markdown, summary
from bench.quality.run import VARIANTS, Answer, Engine, run_plain, run_server

MODEL = "qwen2.5-coder-1.5b"


def load_holes(corpus_dir: Path, per_kind: int) -> tuple[list[Hole], dict[str, str], dict[str, Path]]:
    corpus.fetch(corpus_dir)
    holes: list[Hole] = []
    roots: dict[str, Path] = {}
    for project in corpus.PROJECTS:
        root = corpus.project_root(corpus_dir, project)
        roots[project.name] = root
        holes.extend(cut_holes(project.name, root, corpus.source_files(corpus_dir, project), per_kind))
    sources = {hole.id: (roots[hole.project] / hole.path).read_text(encoding="utf-8") for hole in holes}
    return holes, sources, roots


async def evaluate(engine: Engine, variants: list[str], holes: list[Hole], sources: dict[str, str],
                   roots: dict[str, Path], parallel: int) -> list[Answer]:
    answers: list[Answer] = []
    for variant in variants:
        began = time.perf_counter()
        if variant == "plain":
            answers.extend(await run_plain(engine, holes, sources, parallel))
        else:
            for project, root in roots.items():
                mine = [hole for hole in holes if hole.project == project]
                answers.extend(await run_server(engine, variant, root, mine, sources, parallel))
        print(f"{variant}: {time.perf_counter() - began:.1f} s", flush=True)
    return answers


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["oracle", "engine"], default="engine")
    parser.add_argument("--base-url", help="OpenAI-compatible engine, e.g. http://127.0.0.1:8011/v1")
    parser.add_argument("--model", default=MODEL)
    parser.add_argument("--per-kind", type=int, default=16, help="holes per kind and project")
    parser.add_argument("--variants", default="plain," + ",".join(VARIANTS))
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--block-max-tokens", type=int, default=160)
    parser.add_argument("--corpus-dir", type=Path, default=corpus.default_dir())
    parser.add_argument("--out", type=Path, help="write the JSON report here")
    parser.add_argument("--only", default="", help="keep only holes whose id contains this text")
    args = parser.parse_args(argv)
    holes, sources, roots = load_holes(args.corpus_dir, args.per_kind)
    holes = [hole for hole in holes if args.only in hole.id]
    variants = [v for v in args.variants.split(",") if v]
    oracle = None
    if args.backend == "oracle":
        oracle = OracleEngine(args.model).start()
        for hole in holes:
            oracle.add(hole, hole.document(sources[hole.id]))
        base_url = oracle.url
    elif args.base_url:
        base_url = args.base_url
    else:
        parser.error("--base-url is needed unless --backend oracle")
    engine = Engine(base_url, args.model, args.block_max_tokens)
    try:
        answers = asyncio.run(evaluate(engine, variants, holes, sources, roots, args.parallel))
    finally:
        if oracle is not None:
            oracle.stop()
    table = summary(answers)
    report: dict[str, Any] = {
        "backend": args.backend, "model": args.model, "holes": len(holes), "variants": variants,
        "commit": _commit(), "machine": platform.platform(), "table": table,
        "answers": [{"id": a.hole.id, "kind": a.hole.kind, "variant": a.variant, "inserted": a.inserted,
                     "middle": a.hole.middle, "ms": round(1000 * a.seconds, 1), **a.score.__dict__} for a in answers],
    }
    if oracle is not None:
        report["context_recall"] = context_recall(holes, oracle.prompts, roots)
    print(markdown(table))
    if "context_recall" in report:
        print("context recall:", report["context_recall"])
    if args.out:
        args.out.write_text(json.dumps(report, indent=1))
    return report


def _commit() -> str:
    if os.environ.get("GW_COMMIT"):  # a copy of the tree without its git folder
        return os.environ["GW_COMMIT"]
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return ""


if __name__ == "__main__":
    main()
