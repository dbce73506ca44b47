"""LSP features; each module exposes `register(server)`. Order matters: documents first."""

from __future__ import annotations

from types import ModuleType

from features import code_actions, completion_fallback, cost_status, documents, explain_hover, inline_completion

FEATURES: tuple[tuple[str, ModuleType], ...] = (
    ("documents", documents),
    ("inline_completion", inline_completion),
    ("completion_fallback", completion_fallback),
    ("explain_hover", explain_hover),
    ("code_actions", code_actions),
    ("cost_status", cost_status),
)
