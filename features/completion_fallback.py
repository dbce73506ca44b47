"""textDocument/completion fallback for clients without inline completion (Helix, Zed, older editors).

Registered during `initialize` only when the client does not advertise inlineCompletion, so
editors with ghost text never see the same suggestion twice (once as ghost text, once in the menu).
The suggestion comes from the same engine, so typed-ahead reuse and the cache apply here too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from lsp_server.server import GhostwriterServer  # runtime: pygls resolves handler annotations

if TYPE_CHECKING:
    from features.inline_completion import InlineCompletion


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


def register(server: GhostwriterServer) -> None:
    def maybe_register(params: types.InitializeParams) -> None:
        if client_has_inline_completion(params.capabilities):
            return
        engine: InlineCompletion = server.extensions["inline_completion"]

        @server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=[".", "(", " "]))
        async def completion(ls: GhostwriterServer, params: types.CompletionParams) -> types.CompletionList:
            wanted = ls.protocol.take_version(ls.protocol.msg_id)  # type: ignore[attr-defined]
            invoked = params.context is None or params.context.trigger_kind == types.CompletionTriggerKind.Invoked
            trigger = (types.InlineCompletionTriggerKind.Invoked if invoked
                       else types.InlineCompletionTriggerKind.Automatic)
            inline_params = types.InlineCompletionParams(
                text_document=params.text_document, position=params.position,
                context=types.InlineCompletionContext(trigger_kind=trigger))
            result = await engine.handle(inline_params, wanted)
            return to_completion_list(result, params.position)

    server.extensions.setdefault("on_initialize", []).append(maybe_register)
