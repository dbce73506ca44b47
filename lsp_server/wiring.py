"""Build the server with its features: the one place that knows every feature and what it needs."""

from __future__ import annotations

from features.code_actions import CodeActions
from features.completion_fallback import CompletionFallback
from features.cost_status import CostStatus
from features.explain_hover import ExplainHover
from features.inline_completion import InlineCompletion
from features.next_edit import NextEdit
from lsp_server import lifecycle
from lsp_server.feature import Feature
from lsp_server.log import set_request_id_source
from lsp_server.server import GhostwriterServer

FEATURE_NAMES = ("inline_completion", "completion_fallback", "explain_hover", "code_actions", "next_edit",
                 "cost_status")


def create_server(exclude: tuple[str, ...] = ()) -> GhostwriterServer:
    server = GhostwriterServer()
    services = server.services
    set_request_id_source(lambda: server.protocol.msg_id)
    lifecycle.register(server)
    completion = InlineCompletion(services)
    next_edit = NextEdit(services)
    # The "Apply next edit" quick fix is listed by the code-action handler (one handler per method).
    actions = CodeActions(services, extra=[] if "next_edit" in exclude else [next_edit.code_actions])
    features: list[Feature] = [completion, CompletionFallback(services, completion), ExplainHover(services),
                               actions, next_edit, CostStatus(services)]
    for feature in features:
        if feature.name not in exclude:
            server.add(feature)
    return server
