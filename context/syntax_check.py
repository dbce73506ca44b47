"""Reject completions that make the file parse worse around the insertion point.

The document may already contain errors (it is being edited), so the test is relative: count
ERROR and MISSING nodes near the cursor before and after inserting the completion.
"""

from __future__ import annotations

import tree_sitter

from context.languages import normalise_language_id, parser_for

REGION_LINES = 20  # lines around the insertion that are compared


def _count_errors(node: tree_sitter.Node, first_row: int, last_row: int) -> int:
    """ERROR/MISSING nodes overlapping the rows, visiting only subtrees that contain errors."""
    if node.end_point.row < first_row or node.start_point.row > last_row:
        return 0
    if node.is_missing:
        return 1
    if not node.has_error:
        return 0
    own = 1 if node.is_error else 0
    return own + sum(_count_errors(child, first_row, last_row) for child in node.children)


def _error_inside(node: tree_sitter.Node, start_byte: int, end_byte: int) -> bool:
    """An ERROR node lying wholly inside the inserted bytes: the garbage is the completion's own."""
    if node.end_byte <= start_byte or node.start_byte >= end_byte or not node.has_error:
        return False
    if node.is_error and node.start_byte >= start_byte and node.end_byte <= end_byte:
        return True
    return any(_error_inside(child, start_byte, end_byte) for child in node.children)


def rejects_syntax(document_text: str, offset: int, completion: str, language_id: str | None,
                   tree: tree_sitter.Tree | None = None) -> bool:
    """True when the completion makes the code near the cursor parse worse, even once it is finished.

    Worse means more ERROR/MISSING nodes in the region than before, or, since a half-typed line
    is often already an error, an ERROR node made only of the completion's own text. A right
    answer may open what later lines close (a docstring's first line, `return {`), so the test is
    repeated with those closers appended: only what no ending can repair is certainly broken.
    """
    if not _parses_worse(document_text, offset, completion, language_id, tree):
        return False
    closing = closers_for(completion)
    return not closing or _parses_worse(document_text, offset, completion + closing, language_id, tree)


_PAIRS = {"(": ")", "[": "]", "{": "}"}


def closers_for(completion: str) -> str:
    """What would close the constructs the completion leaves open: a triple quote, else its brackets."""
    for triple in ('"""', "'''"):
        if completion.count(triple) % 2 == 1:
            return triple
    stack: list[str] = []
    for char in completion:
        if char in _PAIRS:
            stack.append(_PAIRS[char])
        elif stack and char == stack[-1]:
            stack.pop()
    return "".join(reversed(stack))


def _parses_worse(document_text: str, offset: int, completion: str, language_id: str | None,
                  tree: tree_sitter.Tree | None) -> bool:
    parser = parser_for(normalise_language_id(language_id))
    if parser is None or not completion.strip():
        return False
    row = document_text.count("\n", 0, offset)
    added_rows = completion.count("\n")
    start_byte = len(document_text[:offset].encode("utf-8", "surrogatepass"))
    inserted = completion.encode("utf-8", "surrogatepass")
    combined = (document_text[:offset] + completion + document_text[offset:]).encode("utf-8", "surrogatepass")
    if tree is None:
        tree = parser.parse(document_text.encode("utf-8", "surrogatepass"))
        after_tree = parser.parse(combined)
    else:
        # Reuse the editor's tree: an incremental reparse of one insertion costs about a millisecond
        # on a 5,000-line file, where two full parses cost about fifty.
        edited = tree.copy()
        end_point = _end_point((row, start_byte - _line_start_byte(document_text, offset)), completion)
        edited.edit(start_byte=start_byte, old_end_byte=start_byte, new_end_byte=start_byte + len(inserted),
                    start_point=(row, start_byte - _line_start_byte(document_text, offset)),
                    old_end_point=(row, start_byte - _line_start_byte(document_text, offset)),
                    new_end_point=end_point)
        after_tree = parser.parse(combined, edited)
    before = _count_errors(tree.root_node, row - REGION_LINES, row + REGION_LINES)
    after = _count_errors(after_tree.root_node, row - REGION_LINES, row + added_rows + REGION_LINES)
    if after > before:
        return True
    return _error_inside(after_tree.root_node, start_byte, start_byte + len(inserted))


def _line_start_byte(text: str, offset: int) -> int:
    line_start = text.rfind("\n", 0, offset) + 1
    return len(text[:line_start].encode("utf-8", "surrogatepass"))


def _end_point(start: tuple[int, int], inserted: str) -> tuple[int, int]:
    lines = inserted.split("\n")
    if len(lines) == 1:
        return start[0], start[1] + len(inserted.encode("utf-8", "surrogatepass"))
    return start[0] + len(lines) - 1, len(lines[-1].encode("utf-8", "surrogatepass"))
