"""Definitions and similar code from other files: open documents first, then a capped workspace scan.

Open documents are registered with their SyntaxTree and re-read lazily (only when their revision
changed since the last lookup). Workspace files are scanned in a background thread, time-boxed and
capped in file count and size. Lookups take a budget in milliseconds and return what they have when
it is spent. Results are sorted by (score desc, path, line) so prompts stay byte-stable.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

from context import extract
from context.languages import SUFFIXES
from context.syntax import SyntaxTree

SKIPPED_DIRS = frozenset(
    {".git", ".hg", ".svn", "node_modules", ".venv", "venv", "env", "__pycache__", ".mypy_cache",
     ".pytest_cache", ".ruff_cache", ".tox", "dist", "build", "target", "vendor", ".idea", ".vscode"}
)
_STOP_WORDS = frozenset(
    {"self", "this", "def", "return", "if", "else", "for", "in", "const", "let", "var", "function",
     "import", "from", "func", "fn", "pub", "mut", "public", "private", "static", "void", "new",
     "true", "false", "None", "True", "False", "null", "nil", "and", "or", "not", "is", "class"}
)
OPEN_WEIGHT, WORKSPACE_WEIGHT = 2.0, 1.0
# A name defined in many workspace files (`__init__`, `run`) contributes at most this many: the
# prompt has room for a few, and building hundreds of snippets per keystroke is what made lookups
# in a large workspace cost the whole time box.
MAX_PER_NAME = 8


@dataclass(frozen=True)
class Snippet:
    path: str
    text: str
    score: float
    kind: str  # "definition" | "similar"
    line: int = 0  # zero-based start line, the last tie-breaker
    # The file's full path, what the privacy rules are checked against; not part of the snippet's identity.
    source: str = field(default="", compare=False)


@dataclass
class _OpenDocument:
    syntax: SyntaxTree
    touched: int  # recency tick
    revision: int = -1  # revision the cached data below was computed for
    definitions: tuple[extract.Definition, ...] = ()
    by_name: dict[str, list[extract.Definition]] = field(default_factory=dict)
    windows: tuple[tuple[int, str, frozenset[str]], ...] = ()  # (line, text, tokens)


def uri_to_key(uri: str) -> str:
    """A canonical key: the filesystem path for file URIs (editors encode them differently)."""
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        return os.path.normpath(unquote(parsed.path))
    return uri if parsed.scheme else os.path.normpath(uri)


class WorkspaceIndex:
    def __init__(
        self, roots: Iterable[str] = (), *, max_files: int = 2000, max_file_bytes: int = 256_000,
        window_lines: int = 20, max_recent: int = 20,
    ) -> None:
        self.roots = [uri_to_key(root) for root in roots]
        self.max_files, self.max_file_bytes = max_files, max_file_bytes
        self.window_lines, self.max_recent = window_lines, max_recent
        self._open: dict[str, _OpenDocument] = {}
        self._scanned: dict[str, tuple[extract.Definition, ...]] = {}
        self._scanned_by_name: dict[str, list[tuple[str, extract.Definition]]] = {}
        """Name → (file, definition) over the scanned files: a lookup costs one dict access per name."""
        self._lock = threading.Lock()
        self._tick = 0
        self.shareable: Callable[[str], bool] = lambda path: True
        """Whether a file's content may be offered as context now; the server sets it from privacy.rules."""

    # -- open documents ----------------------------------------------------------------------
    def update_document(self, uri: str, syntax: SyntaxTree) -> None:
        """Register or touch an open document (cheap: the work happens lazily at lookup)."""
        self._tick += 1
        key = uri_to_key(uri)
        if len(syntax.text) > self.max_file_bytes or "\x00" in syntax.text[:8192]:
            # Huge or binary documents would cost seconds to window and rank, for little context.
            self._open.pop(key, None)
            return
        entry = self._open.get(key)
        if entry is None or entry.syntax is not syntax:
            self._open[key] = _OpenDocument(syntax, self._tick)
        else:
            entry.touched = self._tick

    def close_document(self, uri: str) -> None:
        self._open.pop(uri_to_key(uri), None)

    # -- workspace scan ----------------------------------------------------------------------
    def start_scan(self, time_budget_s: float = 5.0) -> threading.Thread:
        """Scan the roots in a daemon thread; lookups use whatever has been indexed so far."""
        thread = threading.Thread(target=self.scan, args=(time_budget_s,), name="workspace-index", daemon=True)
        thread.start()
        return thread

    def scan(self, time_budget_s: float = 5.0) -> int:
        """Index definitions of workspace files until the budget or file cap is reached."""
        deadline = time.monotonic() + time_budget_s
        count = 0
        for path in self._candidate_files():
            if count >= self.max_files or time.monotonic() > deadline:
                break
            found = self._definitions_in_file(path)
            if found is not None:
                with self._lock:
                    if path not in self._scanned:
                        for definition in found:
                            self._scanned_by_name.setdefault(definition.name, []).append((path, definition))
                    self._scanned[path] = found
                count += 1
        return count

    def _candidate_files(self) -> Iterable[str]:
        for root in self.roots:
            for directory, subdirs, files in os.walk(root):
                subdirs[:] = sorted(d for d in subdirs if d not in SKIPPED_DIRS and not d.startswith("."))
                if "pyvenv.cfg" in files:
                    subdirs[:] = []  # a virtualenv that is not named like one
                    continue
                for name in sorted(files):
                    if os.path.splitext(name)[1].lower() in SUFFIXES:
                        yield os.path.join(directory, name)

    def _definitions_in_file(self, path: str) -> tuple[extract.Definition, ...] | None:
        try:
            if os.path.getsize(path) > self.max_file_bytes:
                return None
            data = Path(path).read_bytes()
        except OSError:
            return None
        if b"\x00" in data[:8192]:
            return None  # binary
        syntax = SyntaxTree(None, data.decode("utf-8", "replace"), uri=path)
        return tuple(extract.definitions(syntax))

    # -- lookups -----------------------------------------------------------------------------
    def definitions_for(self, names: Iterable[str], exclude_uri: str, budget_ms: float = 5.0) -> list[Snippet]:
        """Definitions of `names` (nearest-first order) in other files, best first."""
        deadline = time.perf_counter() + budget_ms / 1000
        wanted = {name: rank for rank, name in enumerate(dict.fromkeys(names))}
        exclude = uri_to_key(exclude_uri)
        found: dict[tuple[str, int, str], Snippet] = {}

        def add(key: str, definition: extract.Definition, weight: float) -> None:
            snippet = self._definition_snippet(key, definition, weight + 1 / (1 + wanted[definition.name]))
            found.setdefault((snippet.path, snippet.line, definition.name), snippet)

        for key, entry in self._recent_documents(exclude):
            if not self.shareable(key):
                continue
            self._refresh(entry)
            for name in wanted:
                for definition in entry.by_name.get(name, ())[:MAX_PER_NAME]:
                    add(key, definition, OPEN_WEIGHT)
            if time.perf_counter() > deadline:
                return _ranked(found.values())
        with self._lock:
            scanned = [(key, definition) for name in wanted
                       for key, definition in self._scanned_by_name.get(name, ())[:MAX_PER_NAME * 2]
                       if key != exclude and key not in self._open]
        for key, definition in scanned:
            if self.shareable(key):
                add(key, definition, WORKSPACE_WEIGHT)
        return _ranked(found.values())

    def similar_snippets(
        self, query_text: str, exclude_uri: str, limit: int = 4, budget_ms: float = 5.0, min_score: float = 0.1
    ) -> list[Snippet]:
        """The best window of each recent open document by Jaccard similarity of identifiers."""
        deadline = time.perf_counter() + budget_ms / 1000
        recent = [(key, entry) for key, entry in self._recent_documents(uri_to_key(exclude_uri))
                  if self.shareable(key)]
        query = _token_set(query_text) if recent else frozenset()
        if not query:
            return []  # (no other open document: the query's token set is not even built)
        best: list[Snippet] = []
        for key, entry in recent:
            self._refresh(entry)
            scored = [(_jaccard(query, tokens), -line, text) for line, text, tokens in entry.windows]
            if scored:
                score, neg_line, text = max(scored)
                if score >= min_score:
                    best.append(Snippet(self._display_path(key), text, round(score, 6), "similar", -neg_line, key))
            if time.perf_counter() > deadline:
                break
        return _ranked(best)[:limit]

    def _recent_documents(self, exclude: str) -> list[tuple[str, _OpenDocument]]:
        recent = sorted(self._open.items(), key=lambda item: -item[1].touched)
        return [(key, entry) for key, entry in recent if key != exclude][: self.max_recent]

    def _refresh(self, entry: _OpenDocument) -> None:
        if entry.revision == entry.syntax.revision:
            return
        entry.revision = entry.syntax.revision
        entry.definitions = tuple(extract.definitions(entry.syntax))
        entry.by_name = {}
        for definition in entry.definitions:
            entry.by_name.setdefault(definition.name, []).append(definition)
        entry.windows = tuple(_windows(entry.syntax.text, self.window_lines))

    def _definition_snippet(self, key: str, definition: extract.Definition, score: float) -> Snippet:
        small = definition.kind in ("function", "method")
        text = definition.signature if small else definition.text
        return Snippet(self._display_path(key), text, round(score, 6), "definition", definition.line, key)

    def _display_path(self, key: str) -> str:
        for root in self.roots:
            if key.startswith(root.rstrip(os.sep) + os.sep):
                return Path(os.path.relpath(key, root)).as_posix()
        return key


def _windows(text: str, size: int) -> list[tuple[int, str, frozenset[str]]]:
    """Overlapping windows of `size` lines, stepping half a window."""
    lines = text.split("\n")
    step = max(1, size // 2)
    starts = range(0, max(1, len(lines) - size + step), step)
    windows = []
    for start in starts:
        chunk = "\n".join(lines[start : start + size])
        tokens = _token_set(chunk)
        if tokens:
            windows.append((start, chunk, tokens))
    return windows


def _token_set(text: str) -> frozenset[str]:
    return frozenset(token for token in extract.identifier_tokens(text) if token not in _STOP_WORDS)


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def _ranked(snippets: Iterable[Snippet]) -> list[Snippet]:
    return sorted(snippets, key=lambda s: (-s.score, s.path, s.line, s.text))
