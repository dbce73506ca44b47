"""Edit replays from real history: the diff between two consecutive releases of a package.

For every Python file changed between the releases, the change is split into hunks (file order).
A replay applies the first k hunks as the user's edits, puts the cursor at the end of the last
one and asks for the next: the right answer is hunk k+1 when it falls inside the editable region
around the cursor. A "no further edit" replay applies all of a file's hunks, so nothing in the
region is left to change. Replays are self-contained (region, context, history, expected region)
and written as JSON, so a GPU machine needs neither the sdists nor tree-sitter.

    python -m bench.nes.replays --sdists DIR --out bench/nes/data/replays.json
"""

from __future__ import annotations

import argparse
import json
import tarfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from context.next_edit import Hunk, context_lines, editable_region, line_hunks, line_starts

REGION_LINES = 30
CONTEXT_LINES = 20
MAX_HUNK_LINES = 12
PER_FILE = 12
PER_PAIR = 30  # edit replays per release pair, evenly spread (one mass change must not dominate)
# (package, older release, newer release): consecutive releases of small pure-Python packages.
PAIRS = [("cachetools", "5.5.2", "6.0.0"), ("cachetools", "6.1.0", "6.2.0"),
         ("more_itertools", "10.5.0", "10.6.0"), ("more_itertools", "10.7.0", "10.8.0"),
         ("toolz", "0.12.0", "0.12.1"), ("toolz", "0.12.1", "1.0.0"),
         ("boltons", "23.1.1", "24.0.0"), ("boltons", "24.1.0", "25.0.0"), ("click", "8.1.7", "8.1.8")]


@dataclass(frozen=True)
class Replay:
    id: str
    path: str
    kind: str  # "edit": the next hunk is the answer | "none": no further edit
    history: tuple[Hunk, ...]
    before: str
    region: str
    after: str
    cursor: int  # offset in `region`
    expected: str  # the region as it should become (== region for "none")

    def wire(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Replay:
        history = tuple(Hunk(h["path"], h["old_start"], tuple(h["old_lines"]), h["new_start"],
                             tuple(h["new_lines"]), h.get("at", 0.0)) for h in data["history"])
        return cls(**{**data, "history": history})


def apply_hunks(old: str, hunks: list[Hunk]) -> str:
    """`old` with `hunks` (from line_hunks(old, new), in file order) applied."""
    lines = old.splitlines(keepends=True)
    for hunk in reversed(hunks):
        new = [line + "\n" for line in hunk.new_lines]
        lines[hunk.old_start:hunk.old_end] = new
    return "".join(lines)


def file_replays(path: str, old: str, new: str, per_file: int = PER_FILE) -> list[Replay]:
    hunks = line_hunks(path, old, new, join_gap=2)
    if len(hunks) < 2 or not text_like(old):
        return []
    replays: list[Replay] = []
    for k in range(1, len(hunks)):
        target = hunks[k]
        if max(len(target.old_lines), len(target.new_lines)) > MAX_HUNK_LINES or not target.old_lines:
            continue
        if "".join(target.old_lines).split() == "".join(target.new_lines).split():
            continue  # a layout-only change (a formatter's): the server never suggests those
        replay = _replay(f"{path}#{k}", path, "edit", old, hunks[:k], target)
        if replay is not None:
            replays.append(replay)
        if len(replays) >= per_file:
            break
    done = _replay(f"{path}#all", path, "none", old, hunks, None)
    return replays + ([done] if done is not None else [])


def _replay(replay_id: str, path: str, kind: str, old: str, applied: list[Hunk], target: Hunk | None) -> Replay | None:
    text = apply_hunks(old, applied)
    last = applied[-1]
    cursor_line = min(max(last.new_start, last.new_end - 1), max(0, len(line_starts(text)) - 2))
    region = editable_region(text, cursor_line, REGION_LINES, REGION_LINES // 3)
    if target is not None:
        # hunk k+1 in the text after the first k hunks starts at its line in the new release
        if target.new_start < region.start_line or target.new_start + len(target.old_lines) > region.end_line:
            return None
        expected_text = apply_hunks(text, [Hunk(path, target.new_start, target.old_lines, target.new_start,
                                                target.new_lines)])
        delta = len(target.new_lines) - len(target.old_lines)
        starts = line_starts(expected_text)
        expected = expected_text[starts[region.start_line]:starts[min(len(starts) - 1, region.end_line + delta)]]
    else:
        expected = region.text
    starts = line_starts(text)
    line_end = starts[cursor_line] + len(text[starts[cursor_line]:starts[cursor_line + 1]].rstrip("\n"))
    before, after = context_lines(text, region, CONTEXT_LINES, CONTEXT_LINES)
    history = tuple(Hunk(h.path, h.new_start, h.old_lines, h.new_start, h.new_lines) for h in applied)[-16:]
    return Replay(replay_id, path, kind, history, before, region.text, after, line_end - region.start, expected)


def text_like(text: str) -> bool:
    return "\r" not in text and "\x00" not in text


def sdist_files(archive: Path) -> dict[str, str]:
    """The package's .py files (tests and docs left out) by path without the top folder."""
    files: dict[str, str] = {}
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            parts = member.name.split("/", 1)
            if len(parts) < 2 or not member.isfile() or not parts[1].endswith(".py"):
                continue
            if any(skip in parts[1] for skip in ("test", "docs/", "setup.py", "_version.py")):
                continue
            data = tar.extractfile(member)
            if data is not None:
                files[parts[1]] = data.read().decode("utf-8", "replace")
    return files


def build(sdists: Path, pairs: list[tuple[str, str, str]] = PAIRS) -> list[Replay]:
    replays: list[Replay] = []
    for package, older, newer in pairs:
        old_files = sdist_files(_sdist(sdists, package, older))
        new_files = sdist_files(_sdist(sdists, package, newer))
        pair: list[Replay] = []
        for path in sorted(old_files.keys() & new_files.keys()):
            if old_files[path] != new_files[path]:
                pair += file_replays(f"{package}-{newer}/{path}", old_files[path], new_files[path])
        edits = [r for r in pair if r.kind == "edit"]
        if len(edits) > PER_PAIR:
            keep = {edits[i * len(edits) // PER_PAIR].id for i in range(PER_PAIR)}
            pair = [r for r in pair if r.kind == "none" or r.id in keep]
        replays += pair
    return replays


def _sdist(folder: Path, package: str, version: str) -> Path:
    """pip names older sdists with a dash (more-itertools-10.5.0), newer ones with an underscore."""
    for name in (package, package.replace("_", "-")):
        if (folder / f"{name}-{version}.tar.gz").is_file():
            return folder / f"{name}-{version}.tar.gz"
    raise FileNotFoundError(f"{package}-{version}.tar.gz in {folder}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sdists", type=Path, required=True, help="folder with the PAIRS' .tar.gz sdists")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    replays = build(args.sdists)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"pairs": PAIRS, "replays": [r.wire() for r in replays]}, indent=0) + "\n")
    kinds = {kind: sum(r.kind == kind for r in replays) for kind in ("edit", "none")}
    print(f"{len(replays)} replays ({kinds}) → {args.out}")


if __name__ == "__main__":
    main()
