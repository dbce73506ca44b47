"""The one model-call pipeline: path policy → redaction → disk cache → budget → backend → usage → cache store.

Every feature calls `Pipeline.generate`; none touches a backend, the cache or the ledger itself.
That single choke point is what makes the cost meter exact and the privacy rules unskippable.

A stream cut early (the answer's first line was all we wanted) carries no usage yet: for a remote
endpoint the rest of the stream is read in the background, bounded in time and size, so the
ledger records what the endpoint billed; only where that fails are the figures our estimate, and
marked so.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from cache import CachedResult, PromptCache, cache_key
from lsp_server.backends import Backend, Chunk, GenerationRequest, Usage
from lsp_server.errors import BackendError, BudgetExceeded, PrivacyRefusal
from lsp_server.path_policy import PathPolicy
from lsp_server.redact import Redactor, redact_request
from lsp_server.usage import UsageLedger, UsageRecord

log = logging.getLogger("ghostwriter.pipeline")


@dataclass
class Generation:
    text: str
    usage: Usage
    model: str
    finish_reason: str | None
    from_cache: bool
    duration_ms: float
    stopped_early: bool = False
    redacted: int = 0
    """Spans replaced by placeholders before the request left the machine."""
    said: str = ""
    """The model's own text, placeholders and all (`text` has them restored). Structured answers (an edit
    as JSON) are parsed from this and their fields restored after: a secret holding a quote or a line
    break, put back inside a JSON string, would break it."""
    redactor: Redactor = field(default_factory=Redactor)

    def restore(self, text: str) -> str | None:
        """Part of `said` with the placeholders put back; None if it names one never handed out."""
        return self.redactor.restore(text)


@dataclass(frozen=True)
class DrainLimits:
    """How long, and how much, the rest of an early-stopped remote stream is read to learn its usage."""

    seconds: float = 3.0
    chars: int = 32_000


class BackendRoute(Protocol):
    """Which backend serves now (the bundled engine may still be starting)."""

    def current(self) -> tuple[Backend, bool]:
        """(backend, is_local); raises BackendError when nothing can serve."""
        ...


TokenEstimator = Callable[[str, str], int]
"""(model, text) → estimated tokens, before anything is sent."""


UsageListener = Callable[[UsageRecord], None]
# Asks the user whether to spend past a budget; True = go ahead. None: refuse without asking.
BudgetConfirmation = Callable[[str], Awaitable[bool]]


class Pipeline:
    def __init__(self, route: BackendRoute, cache: PromptCache, ledger: UsageLedger, *,
                 prompt_version: int, estimate_tokens: TokenEstimator, redact_secrets: bool = True,
                 policy: PathPolicy | None = None, drain: DrainLimits = DrainLimits(),
                 defer: Callable[[Callable[[], None]], None] | None = None) -> None:
        self.route = route
        self.cache = cache
        self.ledger = ledger
        self.prompt_version = prompt_version
        self.estimate_tokens = estimate_tokens
        self.redact_secrets = redact_secrets
        self.policy = policy or PathPolicy()
        self.drain = drain
        self.draining: set[asyncio.Task[None]] = set()
        self.listeners: list[UsageListener] = []
        self.confirm_over_budget: BudgetConfirmation | None = None
        self.in_flight = 0
        self.last_prompt = ""
        # Usage and the cache store are bookkeeping: the server runs them once the answer is out.
        self.defer: Callable[[Callable[[], None]], None] = defer or (lambda account: account())

    async def generate(self, request: GenerationRequest, *, automatic: bool = False,
                       should_stop: Callable[[str], bool] | None = None,
                       on_text: Callable[[str], None] | None = None,
                       use_cache: bool = True, timings: dict[str, float] | None = None,
                       prompt_tokens: int | None = None) -> Generation:
        """Run one model call. `prompt_tokens`: the caller's count, when it has one (saves a re-count)."""
        started = time.perf_counter()
        timings = timings if timings is not None else {}
        self._refuse_blocked(request)
        backend, local = self.route.current()
        if not local:
            self._refuse_local_only(request)
        redactor = Redactor()
        if not local and self.redact_secrets:
            request, redactor = redact_request(request)
        if on_text is not None and redactor.originals:
            on_text = _restoring(on_text, redactor)
        text = request_text(request)
        if request.feature != "warmup":  # a background warm-up must not replace what the user last asked
            self.last_prompt = text
        key = self._key(backend, request)
        if use_cache:
            hit = await self.cache.get(key)
            if hit is not None:
                return self._from_cache(request, hit, started, local, redactor)
        timings["cache_checked"] = time.perf_counter()
        reason = self._budget_problem(request, text, local, prompt_tokens)
        if reason:
            # Automatic completions pause; an explicit request (hover via command, code action, an
            # invoked completion) asks the user first and goes ahead only if they say so.
            asked = not automatic and self.confirm_over_budget is not None
            if not asked or not await self.confirm_over_budget(reason):  # type: ignore[misc]
                prefix = "Automatic completions paused: " if automatic else "Request refused: "
                raise BudgetExceeded(prefix + reason)
        timings["sent"] = time.perf_counter()
        parts: list[str] = []
        try:
            generation, rest = await self._call(backend, request, text, started, should_stop, on_text, timings,
                                                prompt_tokens, keep_open=not local, parts=parts)
        except asyncio.CancelledError:
            if not local:  # sent and abandoned (typed past): the endpoint bills it anyway, so the ledger shows it
                self._record_abandoned(request, text, "".join(parts), started, prompt_tokens)
            raise
        timings["received"] = time.perf_counter()
        sent_text = generation.text  # with placeholders: what the cache keeps, so no secret reaches the disk
        generation.text = _restored(sent_text, redactor)
        generation.said, generation.redactor, generation.redacted = sent_text, redactor, redactor.count

        def account() -> None:
            self._record(request.feature, generation, local)
            if use_cache and sent_text:
                self.cache.store(key, CachedResult(sent_text, generation.model, generation.finish_reason,
                                                   generation.usage.prompt_tokens,
                                                   generation.usage.completion_tokens), tag=request.feature)

        if rest is None:
            self.defer(account)
        else:
            task = asyncio.ensure_future(self._learn_usage(rest, generation, account))
            self.draining.add(task)
            task.add_done_callback(self.draining.discard)
        return generation

    def _refuse_blocked(self, request: GenerationRequest) -> None:
        for source in (request.source, *request.context_sources):
            decision = self.policy.decide(source)
            if decision.policy == "block":
                raise PrivacyRefusal(f"Nothing from {decision.name} is sent to any model ({decision.describe()})",
                                     quiet=True)

    def _refuse_local_only(self, request: GenerationRequest) -> None:
        for source in (request.source, *request.context_sources):
            decision = self.policy.decide(source)
            if decision.policy == "localOnly":
                raise PrivacyRefusal(f"{decision.name} may only be sent to the bundled engine on this machine "
                                     f"({decision.describe()}); it is not serving, so no request was made")

    def may_share(self, source: str) -> bool:
        """Whether `source`'s content may be cross-file context for a request routed now."""
        try:
            _, local = self.route.current()
        except BackendError:
            local = False
        return self.policy.may_share(source, local)

    async def _learn_usage(self, rest: AsyncIterator[Chunk], generation: Generation,
                           account: Callable[[], None]) -> None:
        """Read what is left of a cut stream for its final usage chunk, within the drain limits."""
        read = 0
        try:
            async with asyncio.timeout(self.drain.seconds):
                async for chunk in rest:
                    if chunk.usage is not None:
                        generation.usage = chunk.usage
                        break
                    read += len(chunk.text)
                    if read > self.drain.chars:
                        break
        except (TimeoutError, BackendError) as exc:
            log.debug("usage of an early-stopped stream not learned: %r", exc)
        finally:
            try:
                await rest.aclose()  # type: ignore[attr-defined]
            except Exception:  # the stream may already be broken; its figures stay estimated
                pass
            account()

    async def settle(self, timeout_s: float | None = None) -> None:
        """Wait until the usage of early-stopped streams is known (or given up on)."""
        if self.draining:
            await asyncio.wait(list(self.draining), timeout=timeout_s)

    def _key(self, backend: Backend, request: GenerationRequest) -> str:
        params = {"max_tokens": request.max_tokens, "temperature": request.temperature,
                  "stop": list(request.stop), "extra": dict(request.extra_body)}
        return cache_key(prompt_version=self.prompt_version, backend_id=backend.name, model=request.model,
                         prompt=request.prompt, messages=request.messages, params=params)

    def _budget_problem(self, request: GenerationRequest, text: str, local: bool,
                        prompt_tokens: int | None) -> str | None:
        if request.feature == "warmup" or not (self.ledger.daily_limit or self.ledger.session_limit):
            return None  # no budget set: nothing to check, and no reason to count tokens on the hot path
        return self.ledger.check_request(model=request.model,
                                         estimated_prompt_tokens=self._prompt_count(request, text, prompt_tokens),
                                         max_tokens=request.max_tokens, local=local)

    async def _call(self, backend: Backend, request: GenerationRequest, text_sent: str, started: float,
                    should_stop: Callable[[str], bool] | None,
                    on_text: Callable[[str], None] | None, timings: dict[str, float],
                    prompt_tokens: int | None = None, keep_open: bool = False,
                    parts: list[str] | None = None) -> tuple[Generation, AsyncIterator[Chunk] | None]:
        """Stream the answer. With `keep_open`, a stream stopped early is handed back unclosed, to be
        read on for its usage (a remote endpoint bills the whole answer whether we read it or not)."""
        parts = parts if parts is not None else []
        usage: Usage | None = None
        finish: str | None = None
        stopped = False
        self.in_flight += 1
        stream = backend.stream(request)
        try:
            async for chunk in stream:
                timings.setdefault("first_chunk", time.perf_counter())
                usage = chunk.usage or usage
                finish = chunk.finish_reason or finish
                if chunk.text:
                    parts.append(chunk.text)
                    text = "".join(parts)
                    if on_text is not None:
                        on_text(text)
                    if should_stop is not None and should_stop(text):
                        stopped = True
                        break
            rest = stream if stopped and keep_open and usage is None else None
        finally:
            timings["stream_end"] = time.perf_counter()
            self.in_flight -= 1
            # Closing the stream aborts the HTTP request: a cancelled generation (or an early-stopped
            # one on the bundled engine, whose time is the next keystroke's) stops spending now.
            if not (stopped and keep_open and usage is None):
                await stream.aclose()  # type: ignore[attr-defined]
        text = "".join(parts)
        if usage is None:
            # No usage has arrived (yet): the estimate stands until the real figures come, marked as such.
            usage = Usage(prompt_tokens=self._prompt_count(request, text_sent, prompt_tokens),
                          completion_tokens=max(1, len(text) // 4) if text else 0, estimated=True)
        duration = (time.perf_counter() - started) * 1000
        return Generation(text, usage, request.model, finish, False, duration, stopped), rest

    def _record_abandoned(self, request: GenerationRequest, text_sent: str, partial: str, started: float,
                          prompt_tokens: int | None) -> None:
        """A cancelled remote call: its usage never arrives, so it is recorded as our estimate, marked so."""
        usage = Usage(prompt_tokens=self._prompt_count(request, text_sent, prompt_tokens),
                      completion_tokens=max(1, len(partial) // 4) if partial else 0, estimated=True)
        generation = Generation(partial, usage, request.model, "cancelled", False,
                                (time.perf_counter() - started) * 1000)
        self.defer(lambda: self._record(request.feature, generation, False))

    def _prompt_count(self, request: GenerationRequest, text: str, counted: int | None) -> int:
        """The caller's own count when it has one: re-counting a whole prompt with the real tokenizer
        costs ~5 ms, which on the keystroke path is more than all the server's other work."""
        return counted if counted is not None else self.estimate_tokens(request.model, text)

    def _from_cache(self, request: GenerationRequest, hit: CachedResult, started: float, local: bool,
                    redactor: Redactor) -> Generation:
        usage = Usage(prompt_tokens=hit.prompt_tokens, completion_tokens=hit.completion_tokens)
        generation = Generation(_restored(hit.text, redactor), usage, hit.model, hit.finish_reason, True,
                                (time.perf_counter() - started) * 1000, redacted=redactor.count, said=hit.text,
                                redactor=redactor)
        self.defer(lambda: self._record(request.feature, generation, local))
        return generation

    def _record(self, feature: str, generation: Generation, local: bool) -> None:
        record = self.ledger.record(feature=feature, model=generation.model, usage=generation.usage,
                                    from_cache=generation.from_cache, duration_ms=generation.duration_ms,
                                    local=local, redacted=generation.redacted)
        log.info("model call", extra={"fields": {
            "feature": feature, "model": generation.model, "duration_ms": round(generation.duration_ms, 1),
            "prompt_tokens": record.promptTokens, "cached_tokens": record.cachedPromptTokens,
            "completion_tokens": record.completionTokens, "cache_hit": generation.from_cache,
            "usage_estimated": record.estimated, "redacted_spans": generation.redacted,
            "outcome": "stopped_early" if generation.stopped_early else (generation.finish_reason or "done"),
        }})
        for listener in list(self.listeners):
            listener(record)


async def cancel_quietly(task: asyncio.Task[object]) -> None:
    """Cancel a task and wait for it, swallowing its cancellation."""
    task.cancel()
    try:
        await task
    except (asyncio.CancelledError, Exception):
        pass


def _restored(text: str, redactor: Redactor) -> str:
    """The answer with placeholders put back; empty when it names one we never handed out."""
    restored = redactor.restore(text)
    if restored is None:
        log.info("answer dropped: it used a placeholder for a secret it was never given")
        return ""
    return restored


def _restoring(on_text: Callable[[str], None], redactor: Redactor) -> Callable[[str], None]:
    return lambda text: on_text(redactor.restore(text) or "")


def request_text(request: GenerationRequest) -> str:
    """What a request sends to the model: its raw prompt, or its messages' contents."""
    return request.prompt or "\n\n".join(str(m.get("content", "")) for m in request.messages)
