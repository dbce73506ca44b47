"""Which lines are typed back: per file, a seeded stretch of 30-60 lines that starts at a definition
and mixes code with prose (docstrings, comments, strings), from the pinned corpus of bench/quality.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from bench.quality import corpus
from bench.typing.regions import regions
from context.languages import parser_for

_DEFINITIONS = {"function_definition", "class_definition", "decorated_definition"}
_PROSE_SHARE = (0.15, 0.7)  # of the span's characters


@dataclass(frozen=True)
class Replay:
    project: str
    root: Path
    """The unpacked project (its folder is the workspace)."""
    path: str
    """Relative to `root`."""
    original: str
    start: int
    """The span typed back: `original[start:end]`, whole lines (end is the last line's newline)."""
    end: int

    @property
    def id(self) -> str:
        first = self.original.count("\n", 0, self.start) + 1
        return f"{self.project}/{self.path}:{first}-{first + self.span.count(chr(10))}"

    @property
    def span(self) -> str:
        return self.original[self.start : self.end]


def choose(corpus_dir: Path, files: int, seed: int, lines: tuple[int, int] = (30, 60)) -> list[Replay]:
    """`files` replays, the projects taken in turn, each file's span seeded by `seed`."""
    rng = random.Random(f"spans:{seed}")
    queues = []
    for project in corpus.PROJECTS:
        paths = [p for p in corpus.source_files(corpus_dir, project) if _line_count(p) >= 4 * lines[1]]
        rng.shuffle(paths)
        queues.append([(project, p) for p in paths])
    out: list[Replay] = []
    while len(out) < files and any(queues):
        for queue in queues:
            while queue and len(out) < files:
                project, path = queue.pop(0)
                root = corpus.project_root(corpus_dir, project)
                replay = _span(project.name, root, path, rng, lines)
                if replay is not None:
                    out.append(replay)
                    break
    return out


def _line_count(path: Path) -> int:
    return path.read_text(encoding="utf-8").count("\n")


def _span(project: str, root: Path, path: Path, rng: random.Random, lines: tuple[int, int]) -> Replay | None:
    original = path.read_text(encoding="utf-8")
    starts = _line_starts(original)
    length = rng.randint(*lines)
    where = regions(original)
    fitting = []
    for row in _definition_rows(original):
        if row + length >= len(starts) - 3:  # keep some file below: the suffix matters
            continue
        start, end = starts[row], starts[row + length] - 1
        prose = sum(where.at(i) != "code" for i in range(start, end, 3)) / max(1, len(range(start, end, 3)))
        if _PROSE_SHARE[0] <= prose <= _PROSE_SHARE[1]:
            fitting.append((start, end))
    if not fitting:
        return None
    start, end = rng.choice(fitting)
    return Replay(project, root, str(path.relative_to(root)), original, start, end)


def _line_starts(text: str) -> list[int]:
    starts = [0]
    at = text.find("\n")
    while at >= 0:
        starts.append(at + 1)
        at = text.find("\n", at + 1)
    return starts


def _definition_rows(source: str) -> list[int]:
    parser = parser_for("python")
    assert parser is not None
    rows: set[int] = set()
    stack = [parser.parse(source.encode("utf-8")).root_node]
    while stack:
        node = stack.pop()
        if node.type in _DEFINITIONS and (node.parent is None or node.parent.type != "decorated_definition"):
            rows.add(node.start_point[0])
        stack.extend(node.children)
    return sorted(rows)
