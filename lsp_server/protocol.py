"""Custom method and command names: the part of our protocol that LSP does not define.

Editor clients depend on these strings; change them only together with editors/.
"""

from __future__ import annotations

# Server → client notification: the token-cost status item (pushed at most once a second).
USAGE_NOTIFICATION = "ghostwriter/usage"

# Client → server notifications feeding acceptance statistics.
DID_SHOW_COMPLETION = "ghostwriter/didShowCompletion"
DID_ACCEPT_COMPLETION = "ghostwriter/didAcceptCompletion"

# Next-edit suggestions (README "Next-edit suggestions" gives the JSON shapes).
NEXT_EDIT = "ghostwriter/nextEdit"  # client → server request
NEXT_EDIT_OUTCOME = "ghostwriter/nextEditOutcome"  # client → server notification {id, outcome}
# The shape existing Neovim NES clients (copilot-lsp, sidekick.nvim) speak.
COPILOT_INLINE_EDIT = "textDocument/copilotInlineEdit"
DID_SHOW_INLINE_EDIT = "textDocument/didShowInlineEdit"

# workspace/executeCommand commands.
CMD_EXPLAIN = "ghostwriter.explain"
CMD_SHOW_USAGE = "ghostwriter.showUsage"
CMD_RESET_USAGE = "ghostwriter.resetUsage"
CMD_SHOW_LAST_PROMPT = "ghostwriter.showLastPrompt"
CMD_APPLY_ACTION = "ghostwriter.applyAction"
CMD_ACCEPT_DIFF = "ghostwriter.acceptDiff"
CMD_REJECT_DIFF = "ghostwriter.rejectDiff"
CMD_COMPLETION_STATS = "ghostwriter.completionStats"
CMD_NEXT_EDIT_ACCEPTED = "ghostwriter.nextEditAccepted"  # [id]: sent with an applied next edit
CMD_NEXT_EDIT_STATS = "ghostwriter.nextEditStats"

ALL_COMMANDS = (
    CMD_EXPLAIN,
    CMD_SHOW_USAGE,
    CMD_RESET_USAGE,
    CMD_SHOW_LAST_PROMPT,
    CMD_APPLY_ACTION,
    CMD_ACCEPT_DIFF,
    CMD_REJECT_DIFF,
    CMD_COMPLETION_STATS,
    CMD_NEXT_EDIT_ACCEPTED,
    CMD_NEXT_EDIT_STATS,
)

# States of the status item.
STATE_READY = "ready"
STATE_BUSY = "busy"
STATE_PAUSED = "paused"
STATE_ERROR = "error"

# Sent as the inline completion item's command, so clients that run item commands (VS Code)
# report acceptance without extra client code.
CMD_COMPLETION_ACCEPTED = "ghostwriter.completionAccepted"
