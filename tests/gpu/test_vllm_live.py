"""The real vLLM engine, started through Ghostwriter's supervisor, serves a FIM completion.

Skipped without a CUDA GPU. Model: $GHOSTWRITER_GPU_MODEL (a local model directory); with
$GHOSTWRITER_GPU_DUMMY=1 the weights are random (`--load-format dummy`), so the text is
meaningless but every kernel, the KV cache and the prefix cache are real. See bench/RESULTS.md.
"""

from __future__ import annotations

import os
import sys
from contextlib import aclosing
from pathlib import Path

import pytest

from context.fim import template_by_name
from lsp_server.backends import GenerationRequest
from lsp_server.backends.openai_compat import OpenAICompatBackend
from lsp_server.backends.vllm_supervisor import VllmSupervisor, check_environment

pytestmark = pytest.mark.gpu

MODEL = os.environ.get("GHOSTWRITER_GPU_MODEL", ".gpu/kit/models/qwen2.5-coder-1.5b")


@pytest.fixture
def model_dir() -> str:
    problem = check_environment(sys.executable)
    if problem:
        pytest.skip(problem)
    if not Path(MODEL).is_dir():
        pytest.skip(f"no model directory at {MODEL} (set GHOSTWRITER_GPU_MODEL)")
    return str(Path(MODEL).resolve())


async def test_supervised_engine_serves_a_fim_completion(model_dir: str) -> None:
    args = ["--max-model-len", "4096", "--gpu-memory-utilization", "0.5"]
    if os.environ.get("GHOSTWRITER_GPU_DUMMY") == "1":
        args += ["--load-format", "dummy"]
    states: list[str] = []
    supervisor = VllmSupervisor(model_dir, args, on_state=states.append, health_timeout_s=540)
    await supervisor.start()
    try:
        assert await supervisor.wait_ready(timeout=540), supervisor.last_error
        backend = OpenAICompatBackend("vllm", supervisor.base_url, None, timeout_s=60)
        assert model_dir in await backend.list_models()
        # The served tokenizer knows the Qwen FIM tokens: each is a single token.
        ids = await backend.tokenize(model_dir, "<|fim_prefix|>")
        assert ids is not None and len(ids) == 1
        prompt = template_by_name("qwen").layout.format(prefix="def add(a, b):\n    return ", suffix="\n")
        request = GenerationRequest(feature="completion", model=model_dir, prompt=prompt, max_tokens=8,
                                    extra_body={"ignore_eos": True})
        chunks = []
        async with aclosing(backend.stream(request)) as stream:
            async for chunk in stream:
                chunks.append(chunk)
        usage = [c.usage for c in chunks if c.usage is not None]
        assert usage and usage[-1].completion_tokens == 8 and usage[-1].prompt_tokens > 10
        assert "".join(c.text for c in chunks)
        await backend.aclose()
    finally:
        await supervisor.stop()
    assert states[:2] == ["starting", "ready"] and supervisor.state == "stopped"
