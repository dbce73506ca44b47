"""Do the project's own tests still pass with the suggestion in place? Scored from a saved run, on the CPU.

    python -m bench.quality.tests_pass REPORT.json [--kinds block,line-start] [--variants plain,ghostwriter]

Each project is copied once; its test suite runs first on the untouched copy (a project whose
suite fails as shipped is left out). Then, per answer, the hole's file gets the answer in place
and the suite runs again (stopping at the first failure); an exact answer restores the original
file, so it passes without a run. The file is put back after each run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench.quality import corpus

TESTS = {"boltons": ("tests", "."), "cachetools": ("tests", "src"), "more-itertools": ("tests", "."),
         "toolz": ("toolz/tests", ".")}
"""Per project: the test folder and what goes on sys.path, relative to the unpacked root."""
TIMEOUT_S = 300


def suite_passes(root: Path, project: str) -> bool:
    tests, path = TESTS[project]
    env = {**os.environ, "PYTHONPATH": str(root / path), "PYTHONDONTWRITEBYTECODE": "1"}
    try:
        done = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", tests],
                              cwd=root, env=env, capture_output=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return False
    return done.returncode == 0


def with_answer(original: str, start: int, end: int, inserted: str) -> str:
    document = original[:start] + original[end:]
    return document[:start] + inserted + document[start:]


def score(report: dict[str, Any], corpus_dir: Path, kinds: set[str], variants: set[str]) -> dict[str, Any]:
    holes = {f"{h['project']}/{h['path']}:{h['start']}": h for h in _holes(report)}
    chosen = [a for a in report["answers"] if a["kind"] in kinds and a["variant"] in variants]
    results: dict[str, list[bool]] = defaultdict(list)
    skipped: list[str] = []
    with tempfile.TemporaryDirectory() as scratch:
        for project in corpus.PROJECTS:
            mine = [a for a in chosen if holes[a["id"]]["project"] == project.name]
            if not mine:
                continue
            root = Path(scratch) / project.name
            shutil.copytree(corpus.project_root(corpus_dir, project), root)
            if not suite_passes(root, project.name):
                skipped.append(project.name)
                continue
            for answer in mine:
                results[f"{answer['variant']}:{answer['kind']}"].append(_passes(root, holes[answer["id"]], answer))
                print(answer["variant"], answer["id"], results[f"{answer['variant']}:{answer['kind']}"][-1],
                      flush=True)
    table = {key: {"n": len(flags), "tests_pass": round(100 * sum(flags) / len(flags), 1)}
             for key, flags in sorted(results.items())}
    return {"table": table, "projects_left_out": skipped, "kinds": sorted(kinds), "variants": sorted(variants)}


def _passes(root: Path, hole: dict[str, Any], answer: dict[str, Any]) -> bool:
    if answer["exact"]:
        return True  # the file is the original again, and the original passes
    path = root / hole["path"]
    original = path.read_text(encoding="utf-8")
    try:
        path.write_text(with_answer(original, hole["start"], hole["end"], answer["inserted"]), encoding="utf-8")
        return suite_passes(root, hole["project"])
    finally:
        path.write_text(original, encoding="utf-8")


def _holes(report: dict[str, Any]) -> list[dict[str, Any]]:
    from bench.quality.__main__ import load_holes

    holes, _, _ = load_holes(Path(report.get("corpus_dir") or corpus.default_dir()), report.get("per_kind", 16))
    return [hole.as_dict() for hole in holes]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("report", type=Path)
    parser.add_argument("--kinds", default="block,line-start")
    parser.add_argument("--variants", default="plain,ghostwriter")
    parser.add_argument("--corpus-dir", type=Path, default=corpus.default_dir())
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    report = json.loads(args.report.read_text())
    report["corpus_dir"] = str(args.corpus_dir)
    result = score(report, args.corpus_dir, set(args.kinds.split(",")), set(args.variants.split(",")))
    print(json.dumps(result, indent=1))
    if args.out:
        args.out.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
