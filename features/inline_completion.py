"""textDocument/inlineCompletion: ghost text from a fill-in-the-middle model.

Per request: version check → typed-ahead reuse → gating → debounce → prompt → pipeline
(streamed, stopped early at the block end) → post-processing → one item with a correct range.
Every request is answered: cancelled ones by pygls with RequestCancelled, superseded ones with
an empty list, failed ones with an empty list and a logged reason.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from context.gating import CompletionKind, Decision, completion_kind
from features.completion_jobs import Anchor, Job, JobBook
from features.completion_prompt import (
    CompletionPlan,
    Planner,
    choose_template,
    plan_completion,
    run_plan,
    stable_prefix,
    warm_up_document,
)
from features.completion_trace import CompletionStats, Trace
from lsp_server import protocol
from lsp_server.command_args import command_arguments
from lsp_server.documents import OpenDocument, Snapshot
from lsp_server.errors import BackendError, BudgetExceeded
from lsp_server.feature import Feature
from lsp_server.services import Services

log = logging.getLogger("ghostwriter.completion")
EMPTY = types.InlineCompletionList(items=[])
# After another file changes, wait this long (more changes restart the wait) before checking
# whether the prompt's stable part moved, so a burst of typing there costs one check.
REWARM_DELAY_S = 0.5


class InlineCompletion(Feature):
    name = "inline_completion"

    def __init__(self, services: Services) -> None:
        self.services = services
        self.planner = Planner(services)
        self.book = JobBook()
        self.stats = CompletionStats()
        self.latest: dict[str, int] = {}
        self._sequence = 0
        self.focus: tuple[str, int] | None = None
        """(uri, offset) of the last request that went to the model: where the user works."""
        self.sent_prefix: dict[str, str] = {}
        """Per document, the stable prompt prefix the engine last saw (and so has cached)."""
        self._rewarm: asyncio.Task[None] | None = None

    async def handle(self, params: types.InlineCompletionParams, wanted_version: int | None,
                     trace: Trace | None = None) -> types.InlineCompletionList:
        """Answer one request; without a `trace` from the caller, one is made and logged at the end."""
        own_trace = trace is None
        trace = trace or Trace()
        try:
            result = await self._handle(params, wanted_version, trace)
            trace.outcome = trace.outcome or ("served" if result.items else "empty")
            trace.answered = time.perf_counter()
            return result
        except asyncio.CancelledError:
            trace.outcome = "cancelled"
            raise
        finally:
            if own_trace:
                trace.log()

    async def _handle(self, params: types.InlineCompletionParams, wanted_version: int | None,
                      trace: Trace) -> types.InlineCompletionList:
        self.stats.requests += 1
        document = self.services.documents.get(params.text_document.uri)
        settings = self.services.settings.completion
        if document is None or not settings.enabled:
            return EMPTY
        if wanted_version is not None and wanted_version != document.version:
            trace.outcome = "stale"
            return EMPTY  # the buffer moved on; an answer for the old one would be misplaced
        snapshot = Snapshot.of(document, self.services.client.encoding)
        offset = snapshot.offset_at(params.position)
        automatic = params.context.trigger_kind == types.InlineCompletionTriggerKind.Automatic
        reused = await self._reuse(snapshot, offset)
        if reused is not None:
            trace.outcome = "typed-ahead"
            return self._answer(snapshot, offset, params.position, reused)
        view = document.local(offset)
        decision = completion_kind(view.syntax, view.syntax.text, view.to_local(offset), document.language_id)
        trace.gated = time.perf_counter()
        gate = settings.gating
        if gate and decision.refuses(automatic=automatic):
            self.stats.gated[decision.reason] = self.stats.gated.get(decision.reason, 0) + 1
            trace.outcome = f"gated:{decision.reason}"
            return EMPTY
        slept = time.perf_counter()
        superseded = await self._superseded_after_debounce(document.uri, automatic)
        trace.waited = time.perf_counter() - slept
        if superseded:
            trace.outcome = "superseded"
            return EMPTY
        if not snapshot.is_current(self.services.documents):
            return EMPTY
        multiline = decision.kind is CompletionKind.MULTI_LINE
        trace.kind = "multi-line" if multiline else "single-line"
        text = await self._generate(snapshot, offset, multiline, automatic, trace, decision)
        if text is None or self.services.documents.get(document.uri) is not document:
            return EMPTY
        return self._answer(snapshot, offset, params.position, text)

    async def _reuse(self, snapshot: Snapshot, offset: int) -> str | None:
        found = self.book.find_reusable(snapshot.uri, snapshot.text, offset)
        if found is None:
            return None
        job, typed = found
        result = job.result if job.task.done() else await self._wait(job)
        if not result or not result.startswith(typed) or len(result) <= len(typed):
            return None
        self.book.reuse_hits += 1
        return result[len(typed):]

    async def _superseded_after_debounce(self, uri: str, automatic: bool) -> bool:
        """Wait out the debounce; True when a newer request for the document arrived meanwhile."""
        self._sequence += 1
        mine = self.latest[uri] = self._sequence
        delay = self.services.settings.completion.debounce_ms / 1000
        if automatic and delay > 0:
            # A $/cancelRequest during this sleep cancels us here: no token is ever spent.
            await asyncio.sleep(delay)
        return self.latest.get(uri) != mine

    async def _generate(self, snapshot: Snapshot, offset: int, multiline: bool, automatic: bool,
                        trace: Trace, decision: Decision | None = None) -> str | None:
        anchor = Anchor.at(snapshot.uri, snapshot.text, offset)
        document, version = snapshot.document, snapshot.version

        async def work(job: Job) -> str | None:
            # Planning happens inside the job, so a keystroke arriving while the prompt is still
            # being built already finds this job and waits for it instead of starting another.
            job.timings["started"] = time.perf_counter()
            plan = await plan_completion(self.planner, document, offset, multiline, version,
                                         prose=bool(decision and decision.prose),
                                         closer=decision.closer if decision else "")
            job.timings["planned"] = time.perf_counter()
            if plan is None:
                return None  # an edit landed before the prompt was built: the offset no longer fits
            self.focus = (document.uri, offset)
            self.sent_prefix[document.uri] = plan.prompt.text[:plan.prompt.stable_prefix_len]
            return await run_plan(self.planner, plan, job, automatic=automatic)

        job = self.book.start(anchor, work)
        trace.job = job
        return await self._wait(job)

    async def _wait(self, job: Job) -> str | None:
        try:
            return await self.book.wait(job)
        except BudgetExceeded as error:  # the status item shows the pause; nothing to pop up per keystroke
            log.info("completion refused: %s", error.user_message)
            return None
        except BackendError as error:
            self.services.notify_error_once(error)
            return None
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise  # our own request was cancelled: pygls answers RequestCancelled
            return None  # the job was superseded: answer empty

    def context_changed(self, changed: OpenDocument) -> None:
        """Another document opened or changed: the prompt where the user works may now carry other
        cross-file context. Re-warm the engine's prefix cache once typing there pauses."""
        if self.focus is None or changed.uri == self.focus[0] or self.services.router.kind != "vllm":
            return
        if self._rewarm is not None and not self._rewarm.done():
            self._rewarm.cancel()
        self._rewarm = self.services.run_task(self._rewarm_focus(), "kv re-warm")

    async def _rewarm_focus(self) -> None:
        await asyncio.sleep(REWARM_DELAY_S)
        if self.focus is None:
            return
        uri, offset = self.focus
        document = self.services.documents.get(uri)
        if document is None or stable_prefix(self.planner, document, offset) == self.sent_prefix.get(uri):
            return
        # The kept cross-file context is out of date: choose it afresh, and warm the engine with it.
        self.planner.context_choices.pop(uri, None)
        sent = await warm_up_document(self.planner, document, min(offset, len(document.text)))
        if sent is not None:
            self.sent_prefix[uri] = sent

    def _answer(self, snapshot: Snapshot, offset: int, position: types.Position,
                text: str) -> types.InlineCompletionList:
        if not text.strip():
            return EMPTY
        line_rest = Anchor.at(snapshot.uri, snapshot.text, offset).line_rest
        end = position
        # Auto-closed characters right of the cursor (e.g. `)` or `")`) that the suggestion also
        # ends with are replaced, not duplicated: the range runs to the end of the line.
        closers = line_rest.rstrip()
        first_line = text.split("\n", 1)[0]
        if closers and "\n" not in text and first_line.rstrip().endswith(closers):
            # In the client's position encoding, and never past a "\r" of a CRLF line end.
            end = snapshot.position_at(offset + len(line_rest))
        item_id = f"gw-{int(time.time() * 1000)}-{self.stats.requests}"
        return types.InlineCompletionList(items=[types.InlineCompletionItem(
            insert_text=text,
            range=types.Range(start=position, end=end),
            command=types.Command(title="Ghostwriter: accepted", command=protocol.CMD_COMPLETION_ACCEPTED,
                                  arguments=[snapshot.uri, item_id, len(text)]),
        )])

    # Lifecycle: what the server tells this feature.

    def document_opened(self, document: OpenDocument) -> None:
        self.services.run_task(warm_up_document(self.planner, document), "kv warm-up")
        self.context_changed(document)

    def document_changed(self, document: OpenDocument) -> None:
        self.context_changed(document)

    def document_closed(self, uri: str) -> None:
        self.book.forget(uri)
        self.planner.forget(uri)
        self.sent_prefix.pop(uri, None)
        self.latest.pop(uri, None)

    def settings_changed(self) -> None:
        self.services.run_task(self.prewarm(), "prewarm completion")

    def engine_state_changed(self, state: str) -> None:
        """When the bundled engine becomes ready: load its tokenizer, then warm the documents already open.

        Documents opened while the engine was starting could not be warmed then; and the engine's own
        tokenizer (a different model name than before) would otherwise load on the first keystroke.
        """
        if state == "ready":
            self.services.run_task(self._warm_all(), "warm after engine start")

    async def _warm_all(self) -> None:
        await self.prewarm()
        for document in self.services.documents:
            await warm_up_document(self.planner, document)

    async def prewarm(self) -> None:
        """Load the tokenizer and detect the FIM template before the first keystroke needs them (~1 s cold)."""
        from context.tokens import counter_for

        settings = self.services.settings.completion
        if not settings.enabled:
            return
        model = self.services.router.model_for("completion")
        counter = await asyncio.to_thread(counter_for, model, settings.tokenizer or None)
        await asyncio.to_thread(counter.count, "def warm(up):\n    return up\n")
        try:
            await choose_template(self.planner, model)
        except Exception as exc:  # the backend may be down now; the first request retries detection
            log.debug("template detection deferred: %s", exc)

    async def shutdown(self) -> None:
        await self.book.aclose()

    def register(self, server: LanguageServer) -> None:
        requests = self.services.requests

        @server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
        async def inline_completion(params: types.InlineCompletionParams) -> types.InlineCompletionList:
            wanted = requests.wanted_version()
            trace = Trace(requests.arrival())
            try:
                return await self.handle(params, wanted, trace)
            except (asyncio.CancelledError, BackendError):
                raise
            except Exception:  # never fail the editor's keystroke over our bug; log it loudly
                log.exception("inline completion failed")
                return EMPTY
            finally:
                requests.when_responded(trace.log)  # logged once written: the trace covers serialisation

        @server.feature(protocol.DID_SHOW_COMPLETION)
        def did_show(params: Any) -> None:
            self.stats.shown += 1

        @server.feature(protocol.DID_ACCEPT_COMPLETION)
        def did_accept(params: Any) -> None:
            self.stats.accepted += 1
            self.stats.accepted_chars += int(getattr(params, "acceptedLength", 0) or 0)

        @server.command(protocol.CMD_COMPLETION_ACCEPTED)
        def accepted_command(*args: Any) -> None:
            self.stats.accepted += 1
            arguments = command_arguments(args)
            if len(arguments) >= 3 and isinstance(arguments[2], int):
                self.stats.accepted_chars += arguments[2]

        @server.command(protocol.CMD_COMPLETION_STATS)
        def completion_stats(*args: Any) -> dict[str, Any]:
            return self.stats.wire(self.book)


__all__ = ["CompletionPlan", "InlineCompletion"]
