"""A loopback engine that knows every hole: it answers a FIM prompt with the hole's true middle.

It stands for a perfect model, so whatever the server loses on the way (gating, early stops,
post-processing, the syntax check) shows as a miss. Like a real engine it honours `stop` and
`max_tokens` (about 4 characters a token), and it keeps the prompt each hole was sent, for the
context-recall figures.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from bench.quality.holes import Hole
from tests.fakes.openai_server import FakeOpenAIServer
from tests.fakes.rules import Rule, prompt_text

_KEY, _TAIL = 48, 400
_CHARS_PER_TOKEN = 4


class OracleEngine(FakeOpenAIServer):
    def __init__(self, model: str) -> None:
        super().__init__(models=[model], zero_latency=True)
        self._by_tail: dict[str, list[tuple[Hole, str]]] = defaultdict(list)
        self.prompts: dict[str, str] = {}

    def add(self, hole: Hole, document: str) -> None:
        self._by_tail[document[: hole.start][-_KEY:]].append((hole, document))

    def match(self, endpoint: str, body: Any) -> Rule:
        prompt = prompt_text(body)
        prefix, suffix = split_fim(prompt)
        hole = self._find(prefix, suffix)
        if hole is None:
            return Rule(reply="")
        self.prompts[hole.id] = prompt
        reply = engine_cut(hole.middle, body.get("stop") or [], int(body.get("max_tokens") or 16))
        return Rule(reply=reply, chunk_chars=16, usage={"prompt_tokens": len(prompt) // 4,
                                                        "completion_tokens": len(reply) // 4})

    def _find(self, prefix: str, suffix: str) -> Hole | None:
        candidates = self._by_tail.get(prefix[-_KEY:], [])
        fitting = [hole for hole, document in candidates
                   if prefix.endswith(document[: hole.start][-_TAIL:])
                   and document[hole.start:].startswith(suffix[:_TAIL])]
        # Holes that look the same to the model (a licence header in every file) share their answer.
        return fitting[0] if fitting and len({hole.middle for hole in fitting}) == 1 else None


def split_fim(prompt: str) -> tuple[str, str]:
    """(prefix, suffix) of a PSM prompt in the Qwen / StarCoder token spelling."""
    for pre, suf, mid in (("<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"),
                          ("<fim_prefix>", "<fim_suffix>", "<fim_middle>")):
        if pre in prompt and suf in prompt:
            head, _, rest = prompt.rpartition(pre)[2].partition(suf)
            return head, rest.split(mid, 1)[0]
    return prompt, ""


def engine_cut(text: str, stop: list[str], max_tokens: int) -> str:
    """What an engine returns of `text`: up to the first stop string, at most `max_tokens` tokens."""
    for marker in stop:
        at = text.find(marker)
        if at >= 0:
            text = text[:at]
    return text[: max_tokens * _CHARS_PER_TOKEN]
