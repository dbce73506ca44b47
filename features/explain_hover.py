"""textDocument/hover: an AI explanation of the symbol, expression or function under the cursor.

Hovers fire whenever the mouse rests, so by default (`hover.mode` "onDemand") nothing is generated
on hover: the command `ghostwriter.explain [uri, {line, character}]` generates the explanation,
returns it, and arms hover at that node for a short while. In "always" mode a hover waits a short
debounce first, so one the client cancels (the mouse moved on) never reaches the backend.
Explanations are keyed by a hash of the code they explain: in memory here, on disk in the pipeline.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from context import extract
from features.chat_prompts import explain_messages, thinking_options
from features.edit_parsing import strip_think
from lsp_server import protocol
from lsp_server.backends import GenerationRequest
from lsp_server.documents import Snapshot
from lsp_server.errors import BackendError
from lsp_server.feature import Feature
from lsp_server.services import Services

if TYPE_CHECKING:
    import tree_sitter

    from lsp_server.documents import OpenDocument

log = logging.getLogger("ghostwriter.hover")
DEBOUNCE_S = 0.15
ARMED_FOR_S = 30.0
MEMORY_ENTRIES = 256
MAX_CODE_LINES = 60
# The node that gives a symbol its meaning: climb from an identifier to the first of these.
_STATEMENT_SUFFIXES = ("statement", "definition", "declaration", "declarator", "item", "assignment", "spec")


@dataclass(frozen=True)
class Target:
    """What a hover explains: the focus node's range (str offsets), its code and the context."""

    start: int
    end: int
    focus: str
    code: str
    definitions: tuple[str, ...]
    language: str
    sources: tuple[str, ...] = ()
    """The files the definitions from elsewhere came from (privacy.rules are checked against them)."""
    uri: str = ""

    def key(self, model: str, markdown: bool) -> str:
        parts = [model, str(markdown), self.language, self.focus, self.code, *self.definitions]
        return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


@dataclass
class Armed:
    uri: str
    version: int
    start: int
    end: int
    markdown: str
    expires: float


def find_target(document: OpenDocument, offset: int, index: Any) -> Target | None:
    """The node under `offset` and what it refers to; None on whitespace or without a tree."""
    syntax = document.syntax
    node = syntax.node_at(offset, named=True)
    if node is None or node.parent is None or not syntax.node_text(node).strip():
        return None
    container = _statement_of(node)
    code = _cut(syntax.node_text(container))
    focus = syntax.node_text(node)
    definitions, sources = (_definitions(document, focus, container, index) if node.type.endswith("identifier")
                            else ((), ()))
    start, end = syntax.offset_of_byte(node.start_byte), syntax.offset_of_byte(node.end_byte)
    return Target(start, end, focus, code, definitions, document.language_id, sources, document.uri)


def _statement_of(node: tree_sitter.Node) -> tree_sitter.Node:
    current = node
    while current.parent is not None and current.parent.parent is not None:
        if current.type.endswith(_STATEMENT_SUFFIXES):
            return current
        current = current.parent
    return current


def _definitions(document: OpenDocument, name: str, container: tree_sitter.Node,
                 index: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The definition `name` refers to: this file first, then other files (a few, briefly); and their files."""
    here = [(d.text, "") for d in extract.definitions(document.syntax)
            if d.name == name and d.line != container.start_point[0]]
    found = index.definitions_for([name], document.uri) if index else []
    elsewhere = [(f"# {s.path}\n{s.text}", s.source) for s in found]
    chosen = (here + elsewhere)[:3]
    return tuple(text for text, _ in chosen), tuple(source for _, source in chosen if source)


def _cut(text: str) -> str:
    lines = text.split("\n")
    return text if len(lines) <= MAX_CODE_LINES else "\n".join([*lines[:MAX_CODE_LINES], "..."])


class ExplainHover(Feature):
    name = "explain_hover"

    def __init__(self, services: Services) -> None:
        self.services = services
        self.memory: OrderedDict[str, str] = OrderedDict()
        self.armed: dict[str, Armed] = {}

    @property
    def markdown(self) -> bool:
        hover = self.services.client.capabilities.text_document
        formats = hover.hover.content_format if hover and hover.hover else None
        return formats is None or types.MarkupKind.Markdown in formats

    async def hover(self, params: types.HoverParams, wanted_version: int | None) -> types.Hover | None:
        mode = self.services.settings.hover.mode
        document = self.services.documents.get(params.text_document.uri)
        if mode == "off" or document is None:
            return None
        if wanted_version is not None and wanted_version != document.version:
            return None
        snapshot = Snapshot.of(document, self.services.client.encoding)
        offset = snapshot.offset_at(params.position)
        if mode == "onDemand":
            return self._armed_hover(snapshot, offset)
        target = find_target(document, offset, self.services.documents.index)
        if target is None:
            return None
        text = self.memory.get(self._key(target))
        if text is None:
            await asyncio.sleep(DEBOUNCE_S)  # a $/cancelRequest lands here: nothing was sent
            if not snapshot.is_current(self.services.documents):
                return None
            text = await self._explain(target, automatic=True)
        return self._hover(snapshot, target.start, target.end, text) if text else None

    async def explain_command(self, uri: str, position: types.Position) -> str | None:
        document = self.services.documents.get(uri)
        if document is None:
            return None
        snapshot = Snapshot.of(document, self.services.client.encoding)
        target = find_target(document, snapshot.offset_at(position), self.services.documents.index)
        if target is None:
            return None
        text = await self._explain(target, automatic=False)
        if text:
            self.armed[uri] = Armed(uri, snapshot.version, target.start, target.end, text,
                                    time.monotonic() + ARMED_FOR_S)
        return text

    def _armed_hover(self, snapshot: Snapshot, offset: int) -> types.Hover | None:
        armed = self.armed.get(snapshot.uri)
        if armed is None or armed.version != snapshot.version or time.monotonic() > armed.expires:
            return None
        if not armed.start <= offset <= armed.end:
            return None
        return self._hover(snapshot, armed.start, armed.end, armed.markdown)

    async def _explain(self, target: Target, *, automatic: bool) -> str | None:
        key = self._key(target)
        if key in self.memory:
            self.memory.move_to_end(key)
            return self.memory[key]
        try:
            text = strip_think((await self.services.pipeline.generate(self._request(target, not automatic),
                                                                    automatic=automatic)).text)
        except BackendError as error:
            if automatic:
                self.services.notify_error_once(error)
                return None
            raise
        if text:
            self.memory[key] = text
            while len(self.memory) > MEMORY_ENTRIES:
                self.memory.popitem(last=False)
        return text or None

    def _request(self, target: Target, explicit: bool) -> GenerationRequest:
        settings = self.services.settings
        model = self.services.router.model_for("hover")
        thinking = thinking_options(settings.thinking.budget, settings.backend.base_url, model)
        messages = explain_messages(target.language, target.code, focus=target.focus,
                                    definitions=target.definitions, markdown=self.markdown, suffix=thinking.suffix)
        return GenerationRequest(feature="hover", model=model, messages=messages,
                                 max_tokens=settings.hover.max_tokens + thinking.extra_tokens,
                                 extra_body=thinking.extra_body, retry=explicit,
                                 source=target.uri, context_sources=target.sources)

    def _key(self, target: Target) -> str:
        return target.key(self.services.router.model_for("hover"), self.markdown)

    def _hover(self, snapshot: Snapshot, start: int, end: int, text: str) -> types.Hover:
        kind = types.MarkupKind.Markdown if self.markdown else types.MarkupKind.PlainText
        span = types.Range(start=snapshot.position_at(start), end=snapshot.position_at(end))
        return types.Hover(contents=types.MarkupContent(kind=kind, value=text), range=span)

    def register(self, server: LanguageServer) -> None:
        @server.feature(types.TEXT_DOCUMENT_HOVER, types.HoverOptions())
        async def hover(params: types.HoverParams) -> types.Hover | None:
            return await self.hover(params, self.services.requests.wanted_version())

        @server.command(protocol.CMD_EXPLAIN)
        async def explain(*args: Any) -> str | None:
            uri, where = (args[0] if len(args) == 1 and isinstance(args[0], list) else list(args))[:2]
            position = types.Position(line=int(where["line"]), character=int(where["character"]))
            try:
                return await self.explain_command(str(uri), position)
            except BackendError as error:
                self.services.client.show(types.MessageType.Error, f"Ghostwriter: {error.user_message}")
                return None
