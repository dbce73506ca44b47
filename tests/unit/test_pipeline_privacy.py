"""The pipeline's privacy and honest-usage rules against the loopback fake: what was sent, what was recorded."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from cache import PromptCache
from lsp_server.backends import GenerationRequest
from lsp_server.backends.openai_compat import OpenAICompatBackend
from lsp_server.errors import PrivacyRefusal
from lsp_server.generation import DrainLimits, Pipeline
from lsp_server.path_policy import PathPolicy
from lsp_server.pricing import PriceTable
from lsp_server.usage import UsageLedger
from tests.fakes import FakeOpenAIServer, Rule

KEY = "AKIAIOSFODNN7ABCDEFG"


class Route:
    def __init__(self, backend: OpenAICompatBackend, local: bool) -> None:
        self.backend, self.local = backend, local

    def current(self) -> tuple[OpenAICompatBackend, bool]:
        return self.backend, self.local


def make(fake: FakeOpenAIServer, tmp_path: Path, *, local: bool = False, rules: dict | None = None,
         drain: DrainLimits | None = None, cache: bool = False) -> tuple[Pipeline, OpenAICompatBackend]:
    backend = OpenAICompatBackend("openai", fake.url, None, 5.0)
    store = PromptCache(tmp_path / "cache", size_mb=1, ttl_hours=1, enabled=cache)
    pipeline = Pipeline(Route(backend, local), store, UsageLedger(PriceTable()), prompt_version=1,
                        estimate_tokens=lambda model, text: len(text) // 4,
                        policy=PathPolicy.from_settings(rules or {}), drain=drain or DrainLimits())
    return pipeline, backend


def completion(prompt: str, source: str = "/w/app.py", context: tuple[str, ...] = ()) -> GenerationRequest:
    return GenerationRequest(feature="completion", model="m", prompt=prompt, max_tokens=32, source=source,
                             context_sources=context)


def sent_prompts(fake: FakeOpenAIServer) -> list[str]:
    return [str(r.body.get("prompt")) for r in fake.requests if r.path.endswith("/completions")]


async def test_a_secret_leaves_as_a_placeholder_and_comes_back_restored(tmp_path: Path) -> None:
    with FakeOpenAIServer(models=["m"]) as fake:
        fake.set_rules([Rule(reply="'<SECRET_1>')")])
        pipeline, backend = make(fake, tmp_path)
        try:
            generation = await pipeline.generate(completion(f"key = '{KEY}'\nuse("))
        finally:
            await backend.aclose()
    assert sent_prompts(fake) == ["key = '<SECRET_1>'\nuse("]
    assert generation.text == f"'{KEY}')" and generation.redacted == 1
    assert pipeline.ledger.session.redactedSpans == 1


async def test_an_answer_naming_an_unknown_placeholder_is_dropped(tmp_path: Path) -> None:
    with FakeOpenAIServer(models=["m"]) as fake:
        fake.set_rules([Rule(reply="<SECRET_4>")])
        pipeline, backend = make(fake, tmp_path)
        try:
            generation = await pipeline.generate(completion(f"key = '{KEY}'\n"))
        finally:
            await backend.aclose()
    assert generation.text == ""


async def test_the_disk_cache_keeps_the_placeholder_never_the_secret(tmp_path: Path) -> None:
    with FakeOpenAIServer(models=["m"]) as fake:
        fake.set_rules([Rule(reply="print('<SECRET_1>')")])
        pipeline, backend = make(fake, tmp_path, cache=True)
        try:
            first = await pipeline.generate(completion(f"key = '{KEY}'\n"))
            pipeline.cache.flush()
            second = await pipeline.generate(completion(f"key = '{KEY}'\n"))
        finally:
            await backend.aclose()
            pipeline.cache.close()
    assert second.from_cache and first.text == second.text == f"print('{KEY}')"
    assert len(sent_prompts(fake)) == 1
    for path in (tmp_path / "cache").rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path


async def test_the_bundled_engine_sees_the_code_as_it_is(tmp_path: Path) -> None:
    with FakeOpenAIServer(models=["m"]) as fake:
        pipeline, backend = make(fake, tmp_path, local=True)
        try:
            await pipeline.generate(completion(f"key = '{KEY}'\n"))
        finally:
            await backend.aclose()
    assert sent_prompts(fake) == [f"key = '{KEY}'\n"]


# (rules, source, context sources, served locally, refused)
POLICY_CASES = [
    ({}, "/w/.env", (), False, True),
    ({}, "/w/.env", (), True, True),  # block: not even the bundled engine
    ({}, "/w/app.py", ("/home/me/.aws/credentials",), True, True),  # nor as another file's context
    ({"*.py": "localOnly"}, "/w/app.py", (), False, True),
    ({"*.py": "localOnly"}, "/w/app.py", (), True, False),
    ({"*.py": "localOnly"}, "/w/notes.md", ("/w/lib.py",), False, True),
    ({".env.example": "allow"}, "/w/.env.example", (), False, False),
    ({}, "/w/app.py", ("/w/lib.py",), False, False),
]


@pytest.mark.parametrize(("rules", "source", "context", "local", "refused"), POLICY_CASES)
async def test_privacy_rules_decide_before_anything_is_sent(tmp_path: Path, rules: dict, source: str,
                                                            context: tuple[str, ...], local: bool,
                                                            refused: bool) -> None:
    with FakeOpenAIServer(models=["m"]) as fake:
        pipeline, backend = make(fake, tmp_path, local=local, rules=rules)
        try:
            if refused:
                with pytest.raises(PrivacyRefusal):
                    await pipeline.generate(completion("x = 1\n", source, context))
            else:
                await pipeline.generate(completion("x = 1\n", source, context))
        finally:
            await backend.aclose()
    assert len(sent_prompts(fake)) == (0 if refused else 1)


USAGE = {"prompt_tokens": 1000, "cached_tokens": 600, "completion_tokens": 20}


async def test_a_remote_stream_cut_early_is_read_on_for_its_billed_usage(tmp_path: Path) -> None:
    with FakeOpenAIServer(models=["m"]) as fake:
        fake.set_rules([Rule(reply="a = 1\nb = 2\nc = 3\n", chunk_chars=2, usage=USAGE)])
        pipeline, backend = make(fake, tmp_path)
        try:
            generation = await pipeline.generate(completion("x\n"), should_stop=lambda text: "\n" in text)
            await pipeline.settle(timeout_s=5)
        finally:
            await backend.aclose()
    assert generation.stopped_early and generation.text == "a = 1\n"
    session = pipeline.ledger.session
    assert (session.promptTokens, session.cachedPromptTokens, session.completionTokens) == (1000, 600, 20)
    assert session.estimatedRequests == 0 and pipeline.ledger.last is not None
    assert not pipeline.ledger.last.estimated


@pytest.mark.parametrize(("rule", "limits"), [
    (Rule(reply="a = 1\nb = 2\n", usage=USAGE, send_usage=False), DrainLimits()),
    (Rule(reply="a = 1\nb = 2\n", usage=USAGE, usage_delay_ms=3000), DrainLimits(seconds=0.2)),
    (Rule(reply="a = 1\n" + "b" * 400, chunk_chars=10, usage=USAGE), DrainLimits(chars=50)),
], ids=["never sent", "past the time bound", "past the size bound"])
async def test_usage_that_never_arrives_is_recorded_as_an_estimate(tmp_path: Path, rule: Rule,
                                                                   limits: DrainLimits) -> None:
    with FakeOpenAIServer(models=["m"]) as fake:
        fake.set_rules([rule])
        pipeline, backend = make(fake, tmp_path, drain=limits)
        try:
            await pipeline.generate(completion("x\n"), should_stop=lambda text: "\n" in text)
            await pipeline.settle(timeout_s=5)
        finally:
            await backend.aclose()
    assert pipeline.ledger.session.requests == 1 and pipeline.ledger.session.estimatedRequests == 1
    assert pipeline.ledger.last is not None and pipeline.ledger.last.estimated


async def test_the_bundled_engine_stream_is_still_aborted_at_once(tmp_path: Path) -> None:
    with FakeOpenAIServer(models=["m"]) as fake:
        fake.set_rules([Rule(reply="a = 1\n" + "b " * 200, chunk_delay_ms=20, usage=USAGE)])
        pipeline, backend = make(fake, tmp_path, local=True)
        try:
            await pipeline.generate(completion("x\n"), should_stop=lambda text: "\n" in text)
            assert not pipeline.draining
            assert await asyncio.to_thread(fake.wait_for_disconnect, 5.0)
        finally:
            await backend.aclose()
    assert pipeline.ledger.session.estimatedRequests == 1


PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\"x\\n\n-----END RSA PRIVATE KEY-----"


@pytest.mark.parametrize(("answer", "replacement"), [
    ('{"replacement": "KEY = \\"\\"\\"<SECRET_1>\\"\\"\\"\\n", "explanation": "kept <SECRET_1>"}',
     f'KEY = """{PEM}"""\n'),
    ('```json\n{"replacement": "x = 1\\n"}\n```', "x = 1\n"),
])
def test_an_edit_is_parsed_from_what_the_model_said_then_restored(answer: str, replacement: str) -> None:
    """A secret with quotes, backslashes and line breaks, put back inside the JSON, would break it."""
    from features.code_actions import restored_proposal
    from features.edit_parsing import parse_edit
    from lsp_server.backends import Usage
    from lsp_server.generation import Generation
    from lsp_server.redact import Redactor

    redactor = Redactor()
    assert redactor.redact(f'KEY = """{PEM}"""') == 'KEY = """<SECRET_1>"""'
    generation = Generation(redactor.restore(answer) or "", Usage(), "m", "stop", False, 1.0, said=answer,
                            redactor=redactor)
    proposal = restored_proposal(parse_edit(generation.said), generation)
    assert proposal.replacement == replacement
    assert "<SECRET_1>" not in proposal.explanation


def test_an_edit_naming_an_unknown_placeholder_changes_nothing() -> None:
    from features.code_actions import restored_proposal
    from features.edit_parsing import EditParseError, EditProposal
    from lsp_server.backends import Usage
    from lsp_server.generation import Generation
    from lsp_server.redact import Redactor

    redactor = Redactor()
    redactor.redact(f"k = '{KEY}'")
    generation = Generation("", Usage(), "m", "stop", False, 1.0, said="", redactor=redactor)
    with pytest.raises(EditParseError):
        restored_proposal(EditProposal("k = '<SECRET_3>'"), generation)


@pytest.mark.parametrize(("local", "recorded"), [(False, 1), (True, 0)])
async def test_a_call_abandoned_mid_stream_is_recorded_as_an_estimate_when_remote(tmp_path: Path, local: bool,
                                                                                  recorded: int) -> None:
    """Typed past: the endpoint bills the call all the same, so the ledger shows it (marked estimated)."""
    with FakeOpenAIServer(models=["m"]) as fake:
        fake.set_rules([Rule(reply="a " * 100, chunk_delay_ms=20, usage=USAGE)])
        pipeline, backend = make(fake, tmp_path, local=local)
        started = asyncio.Event()
        try:
            task = asyncio.ensure_future(pipeline.generate(completion("x\n"), on_text=lambda text: started.set()))
            await asyncio.wait_for(started.wait(), 5)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        finally:
            await backend.aclose()
    session = pipeline.ledger.session
    assert (session.requests, session.estimatedRequests) == (recorded, recorded)
