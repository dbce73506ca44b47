"""Cut holes out of real source files with tree-sitter: the text a suggestion should put back.

Kinds (what the user has just typed, and what is missing):
  mid-line   a line typed up to a token boundary (after `= `, `(`, `.`, `return ` ...): the rest of the line
  line-start a blank line at its indentation inside a body: the whole simple statement that was there
  block      the start of a body (after a `def`/`class` header or its docstring, or after `if`/`for`/
             `while`/`with`/`try`/`else` ...): the whole body
  docstring  right after a docstring's opening quotes: its text, up to the closing quotes
  comment    right after `# `: the comment's text
Selection is seeded, so a run is repeatable; each kind is sampled per project.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import tree_sitter

from context.languages import parser_for

KINDS = ("mid-line", "line-start", "block", "docstring", "comment")
_SIMPLE = {"expression_statement", "return_statement", "raise_statement", "assert_statement",
           "import_statement", "import_from_statement", "pass_statement", "delete_statement"}
_BLOCK_OWNERS = {"function_definition", "class_definition", "if_statement", "for_statement",
                 "while_statement", "with_statement", "try_statement", "else_clause", "elif_clause",
                 "except_clause", "finally_clause"}
_MAX_BLOCK_LINES, _MAX_BLOCK_CHARS = 12, 700


@dataclass(frozen=True)
class Hole:
    project: str
    path: str
    """Relative to the project's unpacked root."""
    kind: str
    start: int
    """str offset of the cursor in the original file."""
    end: int
    middle: str

    @property
    def id(self) -> str:
        return f"{self.project}/{self.path}:{self.start}"

    def document(self, original: str) -> str:
        return original[: self.start] + original[self.end :]

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def cut_holes(project: str, root: Path, files: list[Path], per_kind: int, seed: int = 7) -> list[Hole]:
    rng = random.Random(f"{seed}:{project}")
    found: dict[str, list[Hole]] = {kind: [] for kind in KINDS}
    for path in files:
        text = path.read_text(encoding="utf-8")
        for hole in _candidates(project, str(path.relative_to(root)), text, rng):
            found[hole.kind].append(hole)
    chosen: list[Hole] = []
    for kind in KINDS:
        chosen.extend(rng.sample(found[kind], min(per_kind, len(found[kind]))))
    return chosen


def _candidates(project: str, rel: str, text: str, rng: random.Random) -> Iterator[Hole]:
    parser = parser_for("python")
    assert parser is not None
    data = text.encode("utf-8")
    tree = parser.parse(data)
    if tree.root_node.has_error:
        return
    to_str = _OffsetMap(data)
    for node in _walk(tree.root_node):
        for kind, start, end in _holes_at(node, data, rng):
            s, e = to_str(start), to_str(end)
            middle = text[s:e]
            if middle.strip():
                yield Hole(project, rel, kind, s, e, middle)


def _holes_at(node: tree_sitter.Node, data: bytes, rng: random.Random) -> Iterator[tuple[str, int, int]]:
    parent = node.parent
    if node.type in _SIMPLE and parent is not None and parent.type == "block" and _one_line(node):
        if not _is_docstring(node):
            yield "line-start", node.start_byte, node.end_byte
            cut = _mid_line_cut(node, rng)
            if cut is not None:
                yield "mid-line", cut, node.end_byte
    if node.type == "block" and parent is not None and parent.type in _BLOCK_OWNERS and node.named_children:
        first = node.named_children[0]
        if _is_docstring(first) and parent.type in ("function_definition", "class_definition"):
            rest = node.named_children[1:]
            if rest:
                yield from _block(rest[0].start_byte, node.end_byte, data)
        else:
            yield from _block(first.start_byte, node.end_byte, data)
    if _is_docstring(node):
        string = node.named_children[0]
        opening, closing = string.children[0], string.children[-1]
        if opening.type == "string_start" and closing.type == "string_end" and b'"""' in (opening.text or b""):
            if 10 <= closing.start_byte - opening.end_byte <= 500:
                yield "docstring", opening.end_byte, closing.start_byte
    if node.type == "comment":
        body = (node.text or b"").decode("utf-8", "replace")
        if body.startswith("# ") and len(body) >= 12 and not _pragma(body):
            yield "comment", node.start_byte + 2, node.end_byte


def _block(start: int, end: int, data: bytes) -> Iterator[tuple[str, int, int]]:
    body = data[start:end]
    if body.count(b"\n") < _MAX_BLOCK_LINES and len(body) <= _MAX_BLOCK_CHARS:
        yield "block", start, end


def _mid_line_cut(node: tree_sitter.Node, rng: random.Random) -> int | None:
    """A token boundary inside the statement, leaving at least a few characters to complete."""
    leaves = [leaf for leaf in _walk(node) if leaf.child_count == 0 and leaf.start_byte > node.start_byte]
    leaves = [leaf for leaf in leaves if node.end_byte - leaf.start_byte >= 4]
    return rng.choice(leaves).start_byte if leaves else None


def _is_docstring(node: tree_sitter.Node) -> bool:
    if node.type != "expression_statement" or node.named_child_count != 1:
        return False
    parent = node.parent
    return (node.named_children[0].type == "string" and parent is not None and parent.type == "block"
            and parent.named_children[0] == node)


def _one_line(node: tree_sitter.Node) -> bool:
    return node.start_point[0] == node.end_point[0]


def _pragma(comment: str) -> bool:
    lowered = comment.lower()
    return any(word in lowered for word in ("noqa", "type:", "pragma", "pylint", "fmt:", "-*-"))


def _walk(node: tree_sitter.Node) -> Iterator[tree_sitter.Node]:
    yield node
    for child in node.children:
        yield from _walk(child)


class _OffsetMap:
    """UTF-8 byte offset → str offset for one file."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __call__(self, byte: int) -> int:
        return len(self.data[:byte].decode("utf-8", "surrogatepass"))
