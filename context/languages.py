"""Map LSP language ids and file suffixes to tree-sitter grammars.

Grammars come from the per-language wheels (tree-sitter-python, ...), which ship compiled
parsers; nothing is downloaded at run time. Each grammar is loaded on first use.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from dataclasses import dataclass

import tree_sitter


@dataclass(frozen=True)
class Grammar:
    """Where a grammar lives: the wheel's module and the function that returns its pointer."""

    module: str
    function: str = "language"


GRAMMARS: dict[str, Grammar] = {
    "python": Grammar("tree_sitter_python"),
    "javascript": Grammar("tree_sitter_javascript"),
    "javascriptreact": Grammar("tree_sitter_javascript"),
    "typescript": Grammar("tree_sitter_typescript", "language_typescript"),
    "typescriptreact": Grammar("tree_sitter_typescript", "language_tsx"),
    "go": Grammar("tree_sitter_go"),
    "rust": Grammar("tree_sitter_rust"),
    "java": Grammar("tree_sitter_java"),
}

SUFFIXES: dict[str, str] = {
    ".py": "python",
    ".pyi": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascriptreact",
    ".ts": "typescript",
    ".mts": "typescript",
    ".tsx": "typescriptreact",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
}

# Editors disagree on a few ids; normalise before lookup.
ALIASES: dict[str, str] = {"js": "javascript", "ts": "typescript", "py": "python", "golang": "go"}


def normalise_language_id(language_id: str | None, uri: str = "") -> str | None:
    """Return a key of GRAMMARS for an LSP languageId, falling back to the file suffix."""
    if language_id:
        lid = ALIASES.get(language_id.lower(), language_id.lower())
        if lid in GRAMMARS:
            return lid
    for suffix, lid in SUFFIXES.items():
        if uri.lower().endswith(suffix):
            return lid
    return None


@functools.cache
def language_for(language_id: str) -> tree_sitter.Language | None:
    """The tree-sitter Language for a normalised id, or None when no grammar is installed."""
    grammar = GRAMMARS.get(language_id)
    if grammar is None:
        return None
    try:
        module = importlib.import_module(grammar.module)
    except ImportError:
        return None
    pointer: Callable[[], object] = getattr(module, grammar.function)
    return tree_sitter.Language(pointer())


def parser_for(language_id: str | None) -> tree_sitter.Parser | None:
    """A fresh parser (parsers hold state, so each tree owner gets its own)."""
    if language_id is None:
        return None
    language = language_for(language_id)
    return tree_sitter.Parser(language) if language is not None else None
