"""textDocument/codeAction + codeAction/resolve + ghostwriter.applyAction: AI edits, previewed.

Listing is cheap and never calls the model: each action records the document version and the target
range in its `data`. The model runs in codeAction/resolve (or, for clients that cannot resolve an
edit, in the ghostwriter.applyAction command, which applies the edit itself with workspace/applyEdit).
A resolve for a version other than the recorded one is refused: an edit computed for version N is
never offered for N+1. Edits are minimal and versioned, previewed through a change annotation where
the client supports one, else through an inline diff (features/inline_diff.py).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from context import extract
from features import inline_diff
from features.chat_prompts import edit_messages, explain_messages, thinking_options
from features.edit_parsing import (
    EditParseError,
    EditProposal,
    danger_note,
    fit_replacement,
    new_dangers,
    parse_edit,
    strip_think,
)
from lsp_server import protocol
from lsp_server.backends import GenerationRequest, Message
from lsp_server.command_args import command_arguments
from lsp_server.errors import BackendError
from lsp_server.feature import Feature
from lsp_server.generation import Generation, cancel_quietly
from lsp_server.services import Services

if TYPE_CHECKING:
    from lsp_server.documents import OpenDocument

KINDS = [types.CodeActionKind.QuickFix, types.CodeActionKind.Refactor, types.CodeActionKind.RefactorRewrite,
         types.CodeActionKind.Source]
# action id → (title, kind); explain shows text and edits nothing.
ACTIONS: dict[str, tuple[str, types.CodeActionKind]] = {
    "explain": ("Ghostwriter: Explain selection", types.CodeActionKind.Refactor),
    "refactor": ("Ghostwriter: Refactor selection", types.CodeActionKind.RefactorRewrite),
    "docstring": ("Ghostwriter: Add docstring to {name}", types.CodeActionKind.RefactorRewrite),
    "fix": ("Ghostwriter: Fix “{name}”", types.CodeActionKind.QuickFix),
    "tests": ("Ghostwriter: Write tests for {name}", types.CodeActionKind.Source),
}
_FUNCTION_WORDS = ("function", "method", "func")
STALE = "The document changed since this action was offered; ask for the action again."


class ActionCancelled(Exception):  # the user pressed cancel on the progress notification
    pass


@dataclass(frozen=True)
class Proposal:
    """A replacement for `span` of `document` at `version`, fitted to its lines, with the dangers it adds."""

    document: OpenDocument
    version: int
    span: tuple[int, int]
    replacement: str
    dangers: list[str]

    @property
    def new_text(self) -> str:
        text = self.document.text
        return text[: self.span[0]] + self.replacement + text[self.span[1] :]


@dataclass
class Outcome:
    edit: types.WorkspaceEdit | None = None
    reason: str = ""  # why there is no edit
    dangers: list[str] = field(default_factory=list)

    @property
    def note(self) -> str:
        return danger_note(self.dangers)


class ActionRunner:
    """Turns an action's `data` into a checked, previewable, versioned edit (or says why not)."""

    def __init__(self, services: Services, diffs: inline_diff.InlineDiffs) -> None:
        self.services = services
        self.diffs = diffs

    @property
    def encoding(self) -> str:
        return self.services.client.encoding

    def _span(self, document: OpenDocument, data: dict[str, Any]) -> tuple[int, int]:
        index = document.syntax.line_index
        (l1, c1), (l2, c2) = data["range"]
        return index.offset_at(l1, c1, self.encoding), index.offset_at(l2, c2, self.encoding)

    async def run(self, data: dict[str, Any]) -> Outcome:
        try:
            proposal = await self.propose(data)
        except (BackendError, EditParseError, ActionCancelled) as error:
            return Outcome(reason=getattr(error, "user_message", str(error)) or "Cancelled.")
        if isinstance(proposal, str):
            return Outcome(reason=proposal)
        edit = inline_diff.preview_edit(self.diffs, proposal.document, proposal.version, proposal.span,
                                        proposal.replacement, proposal.dangers)
        return Outcome(edit, "", proposal.dangers)

    async def propose(self, data: dict[str, Any]) -> Proposal | str:
        """The checked replacement for the action's range, or why there is none (not open, stale).

        Backend and parse failures raise (BackendError, EditParseError): the command line tells a
        budget stop from a failed call; `run` turns both into a reason for the editor.
        """
        document = self.services.documents.get(str(data.get("uri")))
        if document is None:
            return "The document is not open."
        version = data.get("version", document.version)
        if document.version != version:
            return STALE
        start, end = self._span(document, data)
        text = document.text
        answer = await self._generate(str(data["action"]), self._messages(document, data, start, end),
                                      document.uri)
        proposal = restored_proposal(parse_edit(answer.said), answer)
        if self.services.documents.get(document.uri) is not document or document.version != version:
            return STALE  # typed into while the model was answering
        replacement = fit_replacement(str(data["action"]), text, start, end, proposal.replacement)
        return Proposal(document, version, (start, end), replacement, new_dangers(text[start:end], replacement))

    async def explain(self, data: dict[str, Any]) -> str | None:
        try:
            return await self.explain_text(data)
        except (BackendError, ActionCancelled) as error:
            self.services.client.show(types.MessageType.Warning,
                                      f"Ghostwriter: {getattr(error, 'user_message', error)}")
            return None

    async def explain_text(self, data: dict[str, Any]) -> str | None:
        """The explanation of the action's range (Markdown); backend failures raise."""
        document = self.services.documents.get(str(data.get("uri")))
        if document is None:
            return None
        start, end = self._span(document, data)
        suffix = self._thinking().suffix
        messages = explain_messages(document.language_id, document.text[start:end], suffix=suffix)
        return strip_think((await self._generate("explain", messages, document.uri)).text) or None

    def _messages(self, document: OpenDocument, data: dict[str, Any], start: int, end: int) -> tuple[Message, ...]:
        text = document.text
        if data["action"] == "tests":
            before, after = text[slice(*data["context"])] + "\n\n", ""
        else:
            before = "".join(text[:start].splitlines(keepends=True)[-40:])
            after = "".join(text[end:].splitlines(keepends=True)[:20])
        return edit_messages(str(data["action"]), document.language_id, before=before, selection=text[start:end],
                             after=after, instruction=str(data.get("instruction", "")),
                             diagnostic=str(data.get("diagnostic", "")), name=str(data.get("name", "")),
                             suffix=self._thinking().suffix)

    def _thinking(self) -> Any:
        settings = self.services.settings
        return thinking_options(settings.thinking.budget, settings.backend.base_url,
                                self.services.router.model_for("codeAction"))

    async def _generate(self, action: str, messages: tuple[Message, ...], source: str) -> Generation:
        thinking = self._thinking()
        request = GenerationRequest(feature="codeAction", model=self.services.router.model_for("codeAction"),
                                    messages=messages, extra_body=thinking.extra_body, retry=True, source=source,
                                    max_tokens=self.services.settings.code_actions.max_tokens + thinking.extra_tokens)
        token = await self._begin_progress(f"Ghostwriter: {action}")
        cancelled: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if token is not None:
            self.services.client.progress.tokens[token].add_done_callback(lambda _: cancelled.cancel())
        last = [time.monotonic()]

        def on_text(text: str) -> None:
            if token is not None and time.monotonic() - last[0] > 0.25:  # a report per chunk would flood
                last[0] = time.monotonic()
                self.services.client.progress.report(
                    token, types.WorkDoneProgressReport(message=f"{len(text)} characters"))

        job: asyncio.Task[Any] = asyncio.ensure_future(self.services.pipeline.generate(request, on_text=on_text))
        try:
            await asyncio.wait([job, cancelled], return_when=asyncio.FIRST_COMPLETED)
            if not job.done():
                raise ActionCancelled("Cancelled; nothing was changed.")
            result: Generation = job.result()
            return result
        finally:
            if not job.done():
                await cancel_quietly(job)  # closes the stream: a cancelled action stops spending tokens
            if token is not None:
                self.services.client.progress.end(token, types.WorkDoneProgressEnd())
                self.services.client.progress.tokens.pop(token, None)

    async def _begin_progress(self, title: str) -> str | None:
        if not self.services.client.shows_progress:
            return None
        token = f"ghostwriter-{uuid.uuid4().hex[:12]}"
        try:
            await self.services.client.progress.create_async(token)
        except Exception:  # a client that refuses progress still gets its edit
            return None
        self.services.client.progress.begin(
            token, types.WorkDoneProgressBegin(title=title, cancellable=True, message="asking the model"))
        return token


class CodeActions(Feature):
    name = "code_actions"

    def __init__(self, services: Services,
                 extra: Sequence[Callable[[types.CodeActionParams], list[types.CodeAction]]] = ()) -> None:
        self.services = services
        self.extra = list(extra)
        """Other features' actions for a range (next edits' "Apply next edit"), listed after ours."""
        self.diffs = inline_diff.InlineDiffs(services)
        self.runner = ActionRunner(services, self.diffs)

    @property
    def resolves_edits(self) -> bool:
        document = self.services.client.capabilities.text_document
        support = document.code_action.resolve_support if document and document.code_action else None
        return support is not None and "edit" in support.properties

    @property
    def encoding(self) -> str:
        return self.services.client.encoding

    def list(self, params: types.CodeActionParams) -> list[types.CodeAction]:
        document = self.services.documents.get(params.text_document.uri)
        if document is None or not self.services.settings.code_actions.enabled:
            return []
        index = document.syntax.line_index
        start = index.offset_at(params.range.start.line, params.range.start.character, self.encoding)
        end = index.offset_at(params.range.end.line, params.range.end.character, self.encoding)
        specs: list[tuple[str, str, int, int, dict[str, Any]]] = []
        if document.text[start:end].strip():
            specs += [("explain", "", start, end, {}), ("refactor", "", start, end, {})]
        scope = extract.enclosing_scope(document.syntax, start)
        if scope is not None:
            specs.append(("docstring", scope.name or scope.kind, scope.start, scope.end, {}))
            if any(word in scope.kind for word in _FUNCTION_WORDS):
                tail = len(document.text)
                specs.append(("tests", scope.name or "this function", tail, tail,
                              {"context": [scope.start, scope.end]}))
        for diagnostic in params.context.diagnostics[:3]:
            d_start = index.offset_at(diagnostic.range.start.line, diagnostic.range.start.character, self.encoding)
            d_end = index.offset_at(diagnostic.range.end.line, diagnostic.range.end.character, self.encoding)
            span = inline_diff.line_span(document.text, d_start, d_end)
            specs.append(("fix", _short(diagnostic.message), *span,
                          {"diagnostic": diagnostic.message, "diagnostics": [diagnostic]}))
        only = params.context.only
        return [self._action(document, *spec) for spec in specs
                if not only or any(str(ACTIONS[spec[0]][1].value).startswith(str(k)) for k in only)]

    def _action(self, document: OpenDocument, action: str, name: str, start: int, end: int,
                extra: dict[str, Any]) -> types.CodeAction:
        title, kind = ACTIONS[action]
        index = document.syntax.line_index
        data = {"action": action, "uri": document.uri, "version": document.version, "name": name,
                "range": [list(index.position_at(start, self.encoding)), list(index.position_at(end, self.encoding))],
                **{k: v for k, v in extra.items() if k != "diagnostics"}}
        code_action = types.CodeAction(title=title.format(name=name), kind=kind, data=data,
                                       diagnostics=extra.get("diagnostics"))
        if action == "explain" or not self.resolves_edits:
            code_action.command = types.Command(title=code_action.title, command=protocol.CMD_APPLY_ACTION,
                                                arguments=[data])
        return code_action

    async def resolve(self, code_action: types.CodeAction) -> types.CodeAction:
        data = code_action.data if isinstance(code_action.data, dict) else {}
        if data.get("action") not in ACTIONS or data.get("action") == "explain":
            return code_action
        outcome = await self.runner.run(data)
        if outcome.edit is None:
            code_action.disabled = types.CodeActionDisabled(reason=outcome.reason)
            self._warn(outcome.reason)
            return code_action
        code_action.edit = outcome.edit
        code_action.title = _titled(code_action.title, outcome)
        return code_action

    async def apply(self, data: dict[str, Any], instruction: str | None) -> dict[str, Any]:
        """ghostwriter.applyAction: compute the edit (or explanation) now and apply (or show) it."""
        if instruction:
            data = {**data, "instruction": instruction}
        if data.get("action") == "explain":
            text = await self.runner.explain(data)
            if text:
                self.services.client.show(types.MessageType.Info, text)
            return {"applied": False, "markdown": text}
        outcome = await self.runner.run(data)
        if outcome.edit is None:
            self._warn(outcome.reason)
            return {"applied": False, "reason": outcome.reason}
        label = _titled(ACTIONS[data["action"]][0].format(name=data.get("name", "")), outcome)
        result = await self.services.client.apply_edit(outcome.edit, label)
        return {"applied": bool(result.applied), "reason": result.failure_reason or "", "dangers": outcome.dangers}

    def _warn(self, reason: str) -> None:
        self.services.client.show(types.MessageType.Warning, f"Ghostwriter: {reason}")


    def document_changed(self, document: OpenDocument) -> None:
        self.diffs.document_changed(document.uri)

    def register(self, server: LanguageServer) -> None:
        inline_diff.register(server, self.diffs)

        @server.feature(types.TEXT_DOCUMENT_CODE_ACTION,
                        types.CodeActionOptions(code_action_kinds=KINDS, resolve_provider=True))
        def code_action(params: types.CodeActionParams) -> list[types.CodeAction]:
            return [*self.list(params), *(action for provide in self.extra for action in provide(params))]

        @server.feature(types.CODE_ACTION_RESOLVE)
        async def resolve(params: types.CodeAction) -> types.CodeAction:
            return await self.resolve(params)

        @server.command(protocol.CMD_APPLY_ACTION)
        async def apply_action(*args: Any) -> dict[str, Any]:
            arguments = command_arguments(args)
            if not arguments or not isinstance(arguments[0], dict):
                return {"applied": False, "reason": "expected [action data, instruction?]"}
            instruction = arguments[1] if len(arguments) > 1 and isinstance(arguments[1], str) else None
            return await self.apply(dict(arguments[0]), instruction)


def restored_proposal(proposal: EditProposal, answer: Generation) -> EditProposal:
    """The edit with redacted secrets put back, field by field (parsed from what the model said)."""
    replacement, explanation = answer.restore(proposal.replacement), answer.restore(proposal.explanation)
    if replacement is None:
        raise EditParseError("The model's answer used a placeholder for a secret it was never given; "
                             "nothing was changed.")
    return EditProposal(replacement, explanation or "")


def _short(message: str, limit: int = 60) -> str:
    line = message.strip().split("\n", 1)[0]
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _titled(title: str, outcome: Outcome) -> str:
    return f"{title} {outcome.note}" if outcome.note else title

