"""Next-edit suggestions: ghostwriter/nextEdit, textDocument/copilotInlineEdit and "Apply next edit".

After the user changes one place, the model is shown the recent edits (per workspace, coalesced
into hunks: context/edit_history.py) and an editable region of whole lines around the cursor, and
rewrites the region; the difference becomes minimal edits, versioned with the document version
they were computed for. A request for a version that is not the current one, or a buffer that
changed while the model answered, gets null: an edit for version N is never offered for N+1.
Text inserted at the cursor only is inline completion's job, so it gets null too.

Clients that cannot send the request (JetBrains through LSP4IJ) get the latest suggestion as a
quick fix, computed on the pause after an edit (`nextEdit.computeOnPause`).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from context import extract
from context.edit_history import EditHistory
from context.next_edit import Hunk, Region, context_lines, editable_region, line_starts, region_change, worth_showing
from context.next_edit_prompts import RegionView, next_edit_messages, read_rewrite, rejoined_rewrite, template_for
from features.chat_prompts import thinking_options
from lsp_server import protocol
from lsp_server.backends import GenerationRequest
from lsp_server.documents import Snapshot
from lsp_server.edits import minimal_text_edits, versioned_edit
from lsp_server.errors import BackendError, BudgetExceeded
from lsp_server.feature import Feature
from lsp_server.services import Services

if TYPE_CHECKING:
    from lsp_server.documents import OpenDocument

log = logging.getLogger("ghostwriter.next_edit")
OUTCOMES = ("accepted", "rejected", "ignored")
KEEP_SUGGESTIONS = 64
KEEP_REJECTED = 256
NEAR_LINES = 3  # a code action range this close to a suggestion's lines offers it
MAX_DEFINITIONS = 3
# Client names of JetBrains IDEs (LSP4IJ sends the IDE's name): they cannot send ghostwriter/nextEdit.
_ASKS_NOTHING = ("intellij", "pycharm", "webstorm", "goland", "clion", "rider", "rubymine", "phpstorm",
                 "rustrover", "android studio", "datagrip", "jetbrains", "lsp4ij")


@dataclass(frozen=True)
class Suggestion:
    id: str
    uri: str
    version: int
    range: types.Range  # the rewritten lines of the document
    text: str  # their new text
    edits: tuple[types.TextEdit, ...]
    jump_to: types.Position
    key: str  # what was suggested where: a rejected suggestion is not offered again

    def wire(self) -> dict[str, Any]:
        return {"id": self.id, "textDocument": {"uri": self.uri, "version": self.version},
                "range": _range(self.range), "text": self.text,
                "edits": [{"range": _range(e.range), "newText": e.new_text} for e in self.edits],
                "jumpTo": _position(self.jump_to)}

    def copilot_wire(self) -> dict[str, Any]:
        """The copilot-language-server shape: one edit (the rewritten lines), its accept command."""
        return {"edits": [{"range": _range(self.range), "text": self.text,
                           "textDocument": {"uri": self.uri, "version": self.version},
                           "command": {"title": "Ghostwriter: next edit accepted",
                                       "command": protocol.CMD_NEXT_EDIT_ACCEPTED, "arguments": [self.id]}}]}


def _position(position: types.Position) -> dict[str, int]:
    return {"line": position.line, "character": position.character}


def _range(range_: types.Range) -> dict[str, Any]:
    return {"start": _position(range_.start), "end": _position(range_.end)}


def _accepted_command(suggestion_id: str) -> types.Command:
    return types.Command(title="Ghostwriter: next edit accepted", command=protocol.CMD_NEXT_EDIT_ACCEPTED,
                         arguments=[suggestion_id])


def plain(value: Any) -> Any:
    """pygls hands custom params over as nested namedtuples; turn them back into dicts and lists."""
    if hasattr(value, "_asdict"):
        return {key: plain(item) for key, item in value._asdict().items()}
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


@dataclass(frozen=True)
class Ask:
    """A next-edit request, read from its params (None when they are unusable)."""

    uri: str
    version: int | None
    position: types.Position
    trigger: str

    @classmethod
    def read(cls, params: Any) -> Ask | None:
        data = plain(params)
        if not isinstance(data, dict):
            return None
        document, where = data.get("textDocument"), data.get("position")
        if not isinstance(document, dict) or not isinstance(where, dict) or not isinstance(document.get("uri"), str):
            return None
        line, character = where.get("line"), where.get("character")
        if not isinstance(line, int) or not isinstance(character, int) or line < 0 or character < 0:
            return None
        version = document.get("version")
        version = version if isinstance(version, int) and not isinstance(version, bool) else None
        trigger = data.get("trigger") if data.get("trigger") in ("edit", "cursor", "manual") else "manual"
        return cls(document["uri"], version, types.Position(line=line, character=character), str(trigger))


class NextEdit(Feature):
    name = "next_edit"

    def __init__(self, services: Services) -> None:
        self.services = services
        self.histories: dict[str, EditHistory] = {}
        self.suggestions: OrderedDict[str, Suggestion] = OrderedDict()
        self.latest: dict[str, Suggestion] = {}
        self.rejected: OrderedDict[str, None] = OrderedDict()
        self.jobs: dict[str, asyncio.Task[Suggestion | None]] = {}
        self.pauses: dict[str, asyncio.Task[None]] = {}
        self.client_asks = False  # the client has sent a next-edit request of its own
        self.client_name = ""
        self.stats: dict[str, int] = {"requests": 0, "suggested": 0, "stale": 0}

    # -- where the edits are kept -----------------------------------------------------------------

    def _root(self, uri: str) -> str:
        roots = sorted(self.services.client.workspace_roots(), key=len, reverse=True)
        return next((root for root in roots if uri.startswith(root.rstrip("/") + "/")), "")

    def history_for(self, uri: str) -> EditHistory:
        root = self._root(uri)
        history = self.histories.get(root)
        if history is None:
            history = self.histories[root] = EditHistory(max_hunks=self.services.settings.next_edit.history_hunks)
        return history

    def path_of(self, uri: str) -> str:
        """The path the prompt names: relative to its workspace folder, else the file name (no home paths)."""
        root = self._root(uri)
        return uri[len(root):].lstrip("/") if root else uri.rsplit("/", 1)[-1]

    # -- answering --------------------------------------------------------------------------------

    async def answer(self, params: Any, *, copilot: bool) -> dict[str, Any] | None:
        ask = Ask.read(params)
        self.stats["requests"] += 1
        if ask is None:
            return {"edits": []} if copilot else None
        self.client_asks = True
        pause = self.pauses.pop(ask.uri, None)
        if pause is not None:
            pause.cancel()
        suggestion = await self.suggest(ask)
        if copilot:
            return suggestion.copilot_wire() if suggestion else {"edits": []}
        return suggestion.wire() if suggestion else None

    async def suggest(self, ask: Ask) -> Suggestion | None:
        settings = self.services.settings.next_edit
        document = self.services.documents.get(ask.uri)
        if not settings.enabled or document is None:
            return None
        if ask.version is not None and ask.version != document.version:
            self.stats["stale"] += 1
            return None  # asked for a buffer that has moved on
        snapshot = Snapshot.of(document, self.services.client.encoding)
        history = self.history_for(ask.uri)
        history.note_cursor(self.path_of(ask.uri), ask.position.line, time.monotonic())
        previous = self.jobs.pop(ask.uri, None)
        if previous is not None and not previous.done():
            previous.cancel()  # superseded: its stream closes, its tokens stop
        job = asyncio.ensure_future(self._compute(snapshot, ask.position, history))
        self.jobs[ask.uri] = job
        try:
            suggestion = await job
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise  # our own request was cancelled ($/cancelRequest): pygls answers it
            return None  # superseded by a newer request or an edit
        except BudgetExceeded as error:
            log.info("next edit refused: %s", error.user_message)
            return None
        except BackendError as error:
            self.services.notify_error_once(error)
            return None
        finally:
            if self.jobs.get(ask.uri) is job:
                del self.jobs[ask.uri]
        if suggestion is not None:
            self._keep(suggestion)
        return suggestion

    async def _compute(self, snapshot: Snapshot, position: types.Position, history: EditHistory) -> Suggestion | None:
        settings = self.services.settings.next_edit
        text = snapshot.text
        offset = snapshot.offset_at(position)
        region = editable_region(text, position.line, settings.region_lines, max(1, settings.region_lines // 3))
        before, after = context_lines(text, region, settings.context_lines, settings.context_lines)
        hunks = history.recent()[-settings.history_hunks:] if settings.history_hunks else []
        model = self.services.router.model_for("nextEdit")
        template = template_for(settings.prompt_family, model)
        thinking = thinking_options(0, self.services.settings.backend.base_url, model)  # thinking costs latency
        cursor = offset - region.start if region.start <= offset <= region.end else None
        view = RegionView(self.path_of(snapshot.uri), snapshot.language_id, before, region.text, after, cursor)
        messages = next_edit_messages(template, view, hunks, self._definitions(snapshot.document, hunks, region),
                                      suffix=thinking.suffix)
        request = GenerationRequest(feature="nextEdit", model=model, messages=messages, max_tokens=settings.max_tokens,
                                    temperature=0.0, stop=(template.region_end,), extra_body=thinking.extra_body)
        # Stop reading once the answer has made its change and copied a few old lines again.
        def rejoined(answer: str) -> bool:
            return rejoined_rewrite(answer, template, region.text) is not None

        generation = await self.services.pipeline.generate(request, automatic=True, should_stop=rejoined)
        rewrite = read_rewrite(generation.text, template, region.text, generation.finish_reason)
        if rewrite is None or not snapshot.is_current(self.services.documents):
            return None  # no usable answer, or the buffer changed while the model answered
        reason = worth_showing(region.text, rewrite, hunks, cursor)
        if reason:
            log.debug("next edit dropped: %s", reason)
            return None
        return self._suggestion(snapshot, region, rewrite)

    def _suggestion(self, snapshot: Snapshot, region: Region, rewrite: str) -> Suggestion | None:
        change = region_change(region.text, rewrite)
        if change is None:
            return None
        encoding = snapshot.encoding
        edits = []
        for edit in minimal_text_edits(region.text, rewrite, encoding):
            # The region starts at a line start, so only line numbers move.
            start, end = edit.range.start, edit.range.end
            edits.append(types.TextEdit(range=types.Range(
                start=types.Position(start.line + region.start_line, start.character),
                end=types.Position(end.line + region.start_line, end.character)), new_text=edit.new_text))
        starts = line_starts(region.text)
        span = types.Range(start=snapshot.position_at(region.start + starts[change.start]),
                           end=snapshot.position_at(region.start + starts[change.old_end]))
        new_text = "".join(change.new_lines)
        key = hashlib.sha256("\0".join([snapshot.uri, "".join(change.old_lines), new_text]).encode(
            "utf-8", "surrogatepass")).hexdigest()
        if key in self.rejected or not edits:
            return None
        return Suggestion(f"ne-{uuid.uuid4().hex[:12]}", snapshot.uri, snapshot.version, span, new_text,
                          tuple(edits), edits[0].range.start, key)

    def _definitions(self, document: OpenDocument, hunks: list[Hunk], region: Region) -> list[str]:
        """Definitions of the names the latest edits changed or used, outside the region itself."""
        names: list[str] = []
        for hunk in reversed(hunks[-3:]):
            old = extract.identifier_tokens("\n".join(hunk.old_lines))
            new = extract.identifier_tokens("\n".join(hunk.new_lines))
            names += [n for n in old + new if (n in old) != (n in new)] + new
        wanted = dict.fromkeys(n for n in names if len(n) > 2)
        if not wanted:
            return []
        found = [d.text for d in extract.definitions(document.syntax)
                 if d.name in wanted and not region.start_line <= d.line < region.end_line]
        index = self.services.documents.index
        found += [f"# {s.path}\n{s.text}" for s in index.definitions_for(list(wanted), document.uri, budget_ms=5.0)]
        return list(dict.fromkeys(found))[:MAX_DEFINITIONS]

    def _keep(self, suggestion: Suggestion) -> None:
        self.stats["suggested"] += 1
        self.suggestions[suggestion.id] = suggestion
        while len(self.suggestions) > KEEP_SUGGESTIONS:
            self.suggestions.popitem(last=False)
        self.latest[suggestion.uri] = suggestion

    # -- outcomes ---------------------------------------------------------------------------------

    def record_outcome(self, params: Any) -> None:
        data = plain(params)
        if not isinstance(data, dict) or data.get("outcome") not in (*OUTCOMES, "shown"):
            return
        suggestion = self.suggestions.get(str(data.get("id")))
        if suggestion is None:
            log.debug("outcome for an unknown next edit %s", data.get("id"))
            return
        outcome = str(data["outcome"])
        self.stats[outcome] = self.stats.get(outcome, 0) + 1
        self.history_for(suggestion.uri).note_outcome(suggestion.id, self.path_of(suggestion.uri), outcome,
                                                      time.monotonic())
        if outcome == "rejected":
            self.rejected[suggestion.key] = None
            while len(self.rejected) > KEEP_REJECTED:
                self.rejected.popitem(last=False)
        if outcome != "shown" and self.latest.get(suggestion.uri) is suggestion:
            del self.latest[suggestion.uri]

    def outcome_of(self, suggestion_id: str) -> str | None:
        for history in self.histories.values():
            for outcome in reversed(history.outcomes):
                if outcome.id == suggestion_id:
                    return outcome.outcome
        return None

    # -- the code action (JetBrains) --------------------------------------------------------------

    def code_actions(self, params: types.CodeActionParams) -> list[types.CodeAction]:
        """"Apply next edit" where the latest suggestion for the document is near and still current."""
        document = self.services.documents.get(params.text_document.uri)
        suggestion = self.latest.get(params.text_document.uri)
        if document is None or suggestion is None or suggestion.version != document.version:
            return []
        only = params.context.only
        if only and not any(str(types.CodeActionKind.QuickFix.value).startswith(str(kind)) for kind in only):
            return []
        first, last = suggestion.range.start.line, max(suggestion.range.start.line, suggestion.range.end.line)
        if params.range.end.line < first - NEAR_LINES or params.range.start.line > last + NEAR_LINES:
            return []
        return [types.CodeAction(
            title=f"Apply next edit: {_summary(suggestion.text)}", kind=types.CodeActionKind.QuickFix,
            is_preferred=False, edit=versioned_edit(suggestion.uri, suggestion.version, list(suggestion.edits)),
            command=_accepted_command(suggestion.id))]

    def _computes_on_pause(self) -> bool:
        mode = self.services.settings.next_edit.compute_on_pause
        if mode != "auto":
            return mode == "on"
        return not self.client_asks and any(name in self.client_name for name in _ASKS_NOTHING)

    async def _on_pause(self, document: OpenDocument, version: int) -> None:
        await asyncio.sleep(self.services.settings.next_edit.pause_ms / 1000)
        if self.services.documents.get(document.uri) is not document or document.version != version:
            return
        line = self.history_for(document.uri).last_change_line(self.path_of(document.uri))
        if line is None:
            return
        snapshot = Snapshot.of(document, self.services.client.encoding)
        starts = line_starts(snapshot.text)
        line = min(line, max(0, len(starts) - 2))
        end_of_line = starts[line] + len(snapshot.text[starts[line]:starts[line + 1]].rstrip("\r\n")) \
            if len(starts) > 1 else 0
        await self.suggest(Ask(document.uri, version, snapshot.position_at(end_of_line), "edit"))

    # -- lifecycle --------------------------------------------------------------------------------

    def initialize(self, params: types.InitializeParams) -> None:
        self.client_name = (params.client_info.name if params.client_info else "").lower()

    def document_opened(self, document: OpenDocument) -> None:
        self.history_for(document.uri).opened(self.path_of(document.uri), document.text)

    def document_changed(self, document: OpenDocument) -> None:
        self.history_for(document.uri).changed(self.path_of(document.uri), document.text, time.monotonic())
        job = self.jobs.get(document.uri)
        if job is not None and not job.done():
            job.cancel()  # computed for the version before: its answer could never be offered
        latest = self.latest.get(document.uri)
        if latest is not None and latest.version != document.version:
            del self.latest[document.uri]
        pause = self.pauses.pop(document.uri, None)
        if pause is not None:
            pause.cancel()
        if self.services.settings.next_edit.enabled and self._computes_on_pause():
            self.pauses[document.uri] = self.services.run_task(self._on_pause(document, document.version),
                                                               "next edit on pause")

    def document_closed(self, uri: str) -> None:
        self.history_for(uri).closed(self.path_of(uri), time.monotonic())
        self.latest.pop(uri, None)
        for task in (self.jobs.pop(uri, None), self.pauses.pop(uri, None)):
            if task is not None:
                task.cancel()

    def settings_changed(self) -> None:
        for history in self.histories.values():
            history.max_hunks = self.services.settings.next_edit.history_hunks

    async def shutdown(self) -> None:
        for task in [*self.jobs.values(), *self.pauses.values()]:
            task.cancel()

    def register(self, server: LanguageServer) -> None:
        @server.feature(protocol.NEXT_EDIT)
        async def next_edit(params: Any) -> dict[str, Any] | None:
            return await self._guarded(params, copilot=False)

        @server.feature(protocol.COPILOT_INLINE_EDIT)
        async def copilot_inline_edit(params: Any) -> dict[str, Any] | None:
            return await self._guarded(params, copilot=True)

        @server.feature(protocol.NEXT_EDIT_OUTCOME)
        def next_edit_outcome(params: Any) -> None:
            self.record_outcome(params)

        @server.feature(protocol.DID_SHOW_INLINE_EDIT)
        def did_show_inline_edit(params: Any) -> None:
            data = plain(params)
            command = (data.get("item") or {}).get("command") if isinstance(data, dict) else None
            arguments = command.get("arguments") if isinstance(command, dict) else None
            if arguments:
                self.record_outcome({"id": arguments[0], "outcome": "shown"})

        @server.command(protocol.CMD_NEXT_EDIT_ACCEPTED)
        def accepted(*args: Any) -> None:
            arguments = args[0] if len(args) == 1 and isinstance(args[0], list) else list(args)
            if arguments:
                self.record_outcome({"id": arguments[0], "outcome": "accepted"})

        @server.command(protocol.CMD_NEXT_EDIT_STATS)
        def next_edit_stats(*args: Any) -> dict[str, Any]:
            return {**self.stats, "history": {root or "(no folder)": {"hunks": len(h.hunks), **h.counts()}
                                              for root, h in self.histories.items()}}

    async def _guarded(self, params: Any, *, copilot: bool) -> dict[str, Any] | None:
        try:
            return await self.answer(params, copilot=copilot)
        except asyncio.CancelledError:
            raise
        except Exception:  # never fail the editor over our bug; log it loudly
            log.exception("next edit failed")
            return {"edits": []} if copilot else None


def _summary(text: str) -> str:
    line = next((line.strip() for line in text.splitlines() if line.strip()), "delete lines")
    return line if len(line) <= 60 else line[:57] + "..."
