"""The pipeline against the loopback fake server: early stop, and the usage it records without one."""

from __future__ import annotations

from pathlib import Path

from cache import PromptCache
from lsp_server.backends import GenerationRequest
from lsp_server.backends.openai_compat import OpenAICompatBackend
from lsp_server.generation import Pipeline
from lsp_server.pricing import PriceTable
from lsp_server.usage import UsageLedger
from tests.fakes import FakeOpenAIServer, Rule


class Route:
    def __init__(self, backend: OpenAICompatBackend) -> None:
        self.backend = backend

    def current(self) -> tuple[OpenAICompatBackend, bool]:
        return self.backend, True


async def test_an_early_stopped_stream_records_the_callers_prompt_count(tmp_path: Path) -> None:
    counted: list[str] = []

    def estimate(model: str, text: str) -> int:
        counted.append(text)
        return len(text)

    with FakeOpenAIServer(models=["coder"]) as fake:
        fake.set_rules([Rule(reply="first line\nsecond line\nthird line", chunk_chars=3, chunk_delay_ms=20)])
        backend = OpenAICompatBackend("vllm", fake.url, None, 5.0)
        cache = PromptCache(tmp_path, size_mb=1, ttl_hours=1, enabled=False)
        pipeline = Pipeline(Route(backend), cache, UsageLedger(PriceTable()), prompt_version=1,
                            estimate_tokens=estimate)
        request = GenerationRequest(feature="completion", model="coder", prompt="def f():\n    ", max_tokens=32)
        try:
            generation = await pipeline.generate(request, should_stop=lambda text: "\n" in text,
                                                 prompt_tokens=1234)
        finally:
            await backend.aclose()
    assert generation.stopped_early and generation.text.startswith("first line\n")
    assert "third" not in generation.text
    assert generation.usage.estimated and generation.usage.prompt_tokens == 1234
    assert counted == []  # the prompt was not counted again
