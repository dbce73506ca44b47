"""A loopback engine that knows the original files: each FIM prompt gets the true missing text.

It finds the cursor from the prompt itself: the prefix's tail in an original file, then the
suffix's head after it; what lies between is what the user has still to type. Like an engine it
honours `stop` and `max_tokens` (about 4 characters a token). It stands for a perfect model, so
whatever a client loses on the way shows as a miss.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from bench.quality.oracle import engine_cut, split_fim
from tests.fakes.openai_server import FakeOpenAIServer
from tests.fakes.rules import Rule, prompt_text

_TAIL = 400
# Longest suffix head first: a short head is only tried where a longer one crosses the gap
# (a cursor that jumped away from the typing point, close to it).
_HEADS = (400, 120, 40, 12)


class TypingOracle(FakeOpenAIServer):
    def __init__(self, model: str, originals: Sequence[str]) -> None:
        super().__init__(models=[model], zero_latency=True)
        self.originals = list(originals)

    def start(self) -> TypingOracle:
        super().start()
        server = self._server
        assert server is not None
        report = server.handle_error

        def handle_error(request: Any, address: Any) -> None:
            # A language server that exits resets its keep-alive connections: not the replay's error.
            if not isinstance(sys.exc_info()[1], ConnectionResetError):
                report(request, address)

        server.handle_error = handle_error  # type: ignore[method-assign,assignment]
        return self

    def match(self, endpoint: str, body: Any) -> Rule:
        prompt = prompt_text(body)
        prefix, suffix = split_fim(prompt)
        missing = locate(self.originals, prefix, suffix)
        reply = engine_cut(missing, list(body.get("stop") or []), int(body.get("max_tokens") or 16))
        return Rule(reply=reply, chunk_chars=16,
                    usage={"prompt_tokens": len(prompt) // 4, "completion_tokens": len(reply) // 4})


def locate(originals: Sequence[str], prefix: str, suffix: str) -> str:
    """The text between the prompt's prefix and suffix in the first original holding both; "" if none."""
    tail = prefix[-_TAIL:]
    for original in originals:
        at = original.find(tail) if tail else 0
        while at >= 0:
            cursor = at + len(tail)
            resume = _resume(original, cursor, suffix)
            if resume is not None:
                return original[cursor:resume]
            if not tail:
                break
            at = original.find(tail, at + 1)
    return ""


def _resume(original: str, cursor: int, suffix: str) -> int | None:
    """Where the suffix starts again in the original, at or after the cursor."""
    if not suffix:
        return len(original)
    for size in _HEADS:
        found = original.find(suffix[:size], cursor)
        if found >= 0:
            return found
        if len(suffix) <= size:
            break
    return None
