"""textDocument/completion fallback for clients without inline completion (Helix, Zed, older editors).

Registered during `initialize` only when the client does not advertise inlineCompletion, so
editors with ghost text never see the same suggestion twice (once as ghost text, once in the menu).
The suggestion comes from the same engine, so typed-ahead reuse and the cache apply here too.
"""

from __future__ import annotations

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from features.inline_completion import InlineCompletion
from lsp_server.feature import Feature
from lsp_server.services import Services


def client_has_inline_completion(capabilities: types.ClientCapabilities) -> bool:
    document = capabilities.text_document
    return bool(document is not None and document.inline_completion is not None)


def to_completion_list(result: types.InlineCompletionList, position: types.Position) -> types.CompletionList:
    items = []
    for item in result.items:
        text = item.insert_text if isinstance(item.insert_text, str) else item.insert_text.value
        edit_range = item.range or types.Range(start=position, end=position)
        first_line = text.split("\n", 1)[0].strip() or text.strip()
        items.append(types.CompletionItem(
            label=first_line[:60] + ("…" if len(first_line) > 60 or "\n" in text.strip() else ""),
            kind=types.CompletionItemKind.Snippet,
            detail="Ghostwriter",
            documentation=types.MarkupContent(kind=types.MarkupKind.Markdown, value=f"```\n{text}\n```"),
            text_edit=types.TextEdit(range=edit_range, new_text=text),
            insert_text_format=types.InsertTextFormat.PlainText,
            sort_text="0",
            filter_text=text.split("\n", 1)[0],
        ))
    return types.CompletionList(is_incomplete=True, items=items)


class CompletionFallback(Feature):
    name = "completion_fallback"

    def __init__(self, services: Services, engine: InlineCompletion) -> None:
        self.services = services
        self.engine = engine
        self._server: LanguageServer | None = None

    def register(self, server: LanguageServer) -> None:
        self._server = server  # the handler is added in initialize, once the client's capabilities are known

    def initialize(self, params: types.InitializeParams) -> None:
        if self._server is None or client_has_inline_completion(params.capabilities):
            return
        requests = self.services.requests

        @self._server.feature(types.TEXT_DOCUMENT_COMPLETION,
                              types.CompletionOptions(trigger_characters=[".", "(", " "]))
        async def completion(params: types.CompletionParams) -> types.CompletionList:
            wanted = requests.wanted_version()
            invoked = params.context is None or params.context.trigger_kind == types.CompletionTriggerKind.Invoked
            trigger = (types.InlineCompletionTriggerKind.Invoked if invoked
                       else types.InlineCompletionTriggerKind.Automatic)
            inline_params = types.InlineCompletionParams(
                text_document=params.text_document, position=params.position,
                context=types.InlineCompletionContext(trigger_kind=trigger))
            result = await self.engine.handle(inline_params, wanted)
            return to_completion_list(result, params.position)
