"""The open documents: text, syntax tree and the workspace index they feed.

Each document's `SyntaxTree` is edited incrementally with each change (tree.edit + reparse on
demand) instead of parsed afresh per keystroke; pygls' own copy of the text is not kept (see
jsonrpc.py). Documents also feed the workspace index, which serves cross-file definitions and
similar snippets. Handlers read a `Snapshot`, which later edits cannot change.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from lsprotocol import types

from context import extract
from context.local_view import LocalView, follow_edit, head_view, local_view
from context.positions import LineIndex
from context.postprocess import detect_indent_unit
from context.syntax import SyntaxTree
from context.workspace_index import WorkspaceIndex, uri_to_key

log = logging.getLogger("ghostwriter.documents")


@dataclass
class OpenDocument:
    uri: str
    version: int
    syntax: SyntaxTree
    opened_at: float = field(default_factory=time.monotonic)
    edited_at: float = 0.0
    _indent: tuple[str, int] | None = None
    _local: LocalView | None = None
    _imports: tuple[str, list[str]] | None = None

    @property
    def text(self) -> str:
        return self.syntax.text

    @property
    def language_id(self) -> str:
        return self.syntax.language_id

    def local(self, offset: int) -> LocalView:
        """The parsed window around `offset`: kept across keystrokes while it still fits the cursor."""
        if self._local is None or not self._local.fits_cursor(offset, len(self.text)):
            self._local = local_view(self.text, offset, self.language_id)
        return self._local

    def apply_change(self, range_: types.Range | None, new_text: str, encoding: str) -> None:
        span = self.syntax.apply_change(range_, new_text, encoding)
        if self._local is not None:
            self._local = None if span is None else follow_edit(self._local, span[0], span[1], new_text)

    def reparse_window(self) -> None:
        """Bring the kept window's tree up to date now, while the change is fresh: the completion
        request that usually follows then finds it parsed (an incremental reparse, ~0.25 ms)."""
        if self._local is not None:
            _ = self._local.syntax.tree

    def imports(self) -> list[str]:
        """Import statements of the file's top, re-parsed only when those lines change."""
        head = self.text[:4096]
        if self._imports is None or self._imports[0] != head:
            self._imports = (head, extract.imports(head_view(self.text, self.language_id)))
        return self._imports[1]

    def indent_unit(self) -> str:
        """The document's indent unit, re-detected every 200 edits (it is a ~1 ms scan of a large file)."""
        if self._indent is None or self.syntax.revision - self._indent[1] >= 200:
            self._indent = (detect_indent_unit(self.text), self.syntax.revision)
        return self._indent[0]


class DocumentStore:
    def __init__(self) -> None:
        self.documents: dict[str, OpenDocument] = {}
        self.index = WorkspaceIndex()

    def get(self, uri: str) -> OpenDocument | None:
        return self.documents.get(uri)

    def open(self, item: types.TextDocumentItem) -> OpenDocument:
        syntax = SyntaxTree(item.language_id, item.text, uri=item.uri)
        document = OpenDocument(item.uri, item.version, syntax)
        self.documents[item.uri] = document
        self.index.update_document(item.uri, syntax)
        return document

    def change(self, params: types.DidChangeTextDocumentParams, encoding: str) -> OpenDocument | None:
        document = self.documents.get(params.text_document.uri)
        if document is None:
            return None
        for change in params.content_changes:
            range_ = getattr(change, "range", None)
            document.apply_change(range_, change.text, encoding)
        document.version = params.text_document.version
        document.edited_at = time.monotonic()
        document.reparse_window()
        self.index.update_document(document.uri, document.syntax)  # cheap: the index works lazily
        return document

    def close(self, uri: str) -> None:
        self.documents.pop(uri, None)
        self.index.close_document(uri)

    def __iter__(self) -> Iterator[OpenDocument]:
        return iter(list(self.documents.values()))

    def index_workspace(self, roots: list[str]) -> None:
        """Scan the workspace folders in the background (time- and size-capped) for definitions."""
        self.index.roots = [uri_to_key(root) for root in roots]
        if self.index.roots:
            self.index.start_scan(time_budget_s=10.0)


@dataclass(frozen=True)
class Snapshot:
    """A document as one request found it. The document keeps changing; this does not.

    Handlers read positions, text and version from here, so an edit that lands while a request
    awaits the model cannot shift what the request computes, and `is_current` says whether the
    answer still fits the buffer.
    """

    document: OpenDocument
    version: int
    text: str
    encoding: str
    line_index: LineIndex

    @classmethod
    def of(cls, document: OpenDocument, encoding: str) -> Snapshot:
        return cls(document, document.version, document.text, encoding, document.syntax.line_index)

    @property
    def uri(self) -> str:
        return self.document.uri

    @property
    def language_id(self) -> str:
        return self.document.language_id

    def offset_at(self, position: types.Position) -> int:
        return self.line_index.offset_at(position.line, position.character, self.encoding)

    def position_at(self, offset: int) -> types.Position:
        line, character = self.line_index.position_at(offset, self.encoding)
        return types.Position(line=line, character=character)

    def is_current(self, store: DocumentStore) -> bool:
        """The same document is still open, unchanged since this snapshot was taken."""
        return store.get(self.uri) is self.document and self.document.version == self.version
