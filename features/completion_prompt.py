"""Plan and run one inline-completion model call: context → FIM prompt → pipeline → post-processing.

Planning is split from running so the request handler can refuse cheaply (gating, budget)
before anything is spent, and so a job can be adopted by later keystrokes (typed-ahead reuse).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

import tree_sitter

from context import extract
from context.early_stop import stop_rule
from context.fim import FimTemplate, detect_template, strip_template_tokens, template_by_name
from context.postprocess import PostprocessContext, postprocess
from context.prompt import BuiltPrompt, PromptInputs, build_fim_prompt
from context.sticky_context import ContextChoice, keep_or_refresh, scope_header
from context.tokens import counter_for
from features.completion_jobs import Job
from lsp_server.backends import GenerationRequest

if TYPE_CHECKING:
    from lsp_server.documents import OpenDocument
    from lsp_server.services import Services

log = logging.getLogger("ghostwriter.completion")


@dataclass
class Planner:
    """The inline-completion feature's prompt state: what it detected and what it keeps across keystrokes."""

    services: Services
    templates: dict[str, FimTemplate] = field(default_factory=dict)
    """The FIM template detected per model."""
    window_hints: dict[str, int] = field(default_factory=dict)
    """Per document, the line the last prompt's prefix window started at (kept while it fits)."""
    context_choices: dict[str, ContextChoice] = field(default_factory=dict)
    """Per document, the cross-file context kept for the current scope."""

    def forget(self, uri: str) -> None:
        self.window_hints.pop(uri, None)
        self.context_choices.pop(uri, None)


@dataclass
class CompletionPlan:
    document: OpenDocument
    text: str
    """The text around the cursor when the request was planned (the document itself keeps changing).

    Post-processing only needs the neighbourhood: it gets the parsed window, with `offset` inside it.
    """
    tree: tree_sitter.Tree | None
    """A copy of the tree for that text (the live tree is edited in place as the user types)."""
    offset: int
    multiline: bool
    template: FimTemplate
    prompt: BuiltPrompt
    request: GenerationRequest
    prose: bool = False
    """In a comment or string: the answer is text that ends at the line or at `closer`."""
    closer: str = ""


async def plan_completion(planner: Planner, document: OpenDocument, offset: int,
                          multiline: bool, version: int, *, prose: bool = False,
                          closer: str = "") -> CompletionPlan | None:
    """Build the request; None when the document changed meanwhile (the offset would be wrong)."""
    settings = planner.services.settings
    model = planner.services.router.model_for("completion")
    template = await choose_template(planner, model)
    if document.version != version:
        return None
    # From here on nothing awaits, so the text, tree and offset stay consistent.
    prompt = compose_prompt(planner, document, offset, template, model, keep_context=True)
    planner.window_hints[document.uri] = prompt.window_start_line
    max_tokens = settings.completion.multiline_max_tokens if multiline else settings.completion.max_tokens
    # A single-line answer is its first line, so the engine itself stops at the line break: the
    # stream then ends normally (usage included, the keep-alive connection reused) instead of being
    # cut by our early stop, which forced a new connection for the next keystroke.
    stop = tuple(template.stop_tokens) + (() if multiline else ("\n",)) + ((closer,) if closer else ())
    request = GenerationRequest(
        feature="completion", model=model, prompt=prompt.text, max_tokens=max_tokens,
        temperature=settings.completion.temperature, stop=stop,
        source=document.uri, context_sources=context_sources(planner, document.uri),
    )
    view = document.local(offset)
    tree = view.syntax.tree
    return CompletionPlan(document, view.syntax.text, tree.copy() if tree is not None else None,
                          view.to_local(offset), multiline, template, prompt, request, prose, closer)


async def choose_template(planner: Planner, model: str) -> FimTemplate:
    """The configured template, or one detected from the backend's tokenizer, else from the model name."""
    name = planner.services.settings.completion.fim_template
    if name != "auto":
        return template_by_name(name)
    cache = planner.templates
    if model in cache:
        return cache[model]
    special = await special_tokens_served(planner, model)
    cache[model] = detect_template(model, special)
    return cache[model]


async def special_tokens_served(planner: Planner, model: str) -> list[str]:
    """FIM tokens that the serving engine's tokenizer encodes as one token (vLLM's /tokenize)."""
    from context.fim import TEMPLATES

    try:
        backend, _ = planner.services.router.current()
    except Exception:
        return []
    found: list[str] = []
    for template in TEMPLATES.values():
        token = template.special_tokens[0]
        try:
            ids = await asyncio.wait_for(backend.tokenize(model, token), timeout=2.0)
        except Exception:
            return found
        if ids is None:
            return found
        if len(ids) == 1:
            found.extend(template.special_tokens)
    return found


def gather_inputs(planner: Planner, document: OpenDocument, offset: int) -> PromptInputs:
    budget_s = planner.services.settings.completion.context_time_ms / 1000
    deadline = time.perf_counter() + budget_s
    view = document.local(offset)
    # The outermost scope (e.g. the class) changes far less often than the innermost one while typing,
    # and its header line sits early in the prompt: a stable header keeps the prefix cache warm.
    # On a blank line, take the scope of the last line with code: where the cursor's indentation is
    # not typed yet (or the editor did not auto-indent), the scope would otherwise flicker away.
    scopes = extract.enclosing_scopes(view.syntax, view.to_local(last_code_offset(document.text, offset)))
    scope = scopes[-1] if scopes else None
    definitions, similar = [], []
    if planner.services.settings.completion.cross_file_context:
        names = extract.identifiers_near(view.syntax, view.to_local(offset))
        index = planner.services.documents.index
        definitions = index.definitions_for(names, exclude_uri=document.uri,
                                            budget_ms=max(0.0, (deadline - time.perf_counter()) * 1000))
        line_start = document.text.rfind("\n", 0, offset) + 1
        window = document.text[max(0, line_start - 600):offset]
        similar = index.similar_snippets(window, exclude_uri=document.uri, limit=3,
                                         budget_ms=max(0.0, (deadline - time.perf_counter()) * 1000))
    return PromptInputs(
        language_id=document.language_id,
        path=relative_path(planner, document.uri),
        repo_name=repo_name(planner),
        text=document.text,
        offset=offset,
        scope_range=(view.to_document(scope.start), view.to_document(scope.end)) if scope else None,
        imports="\n".join(document.imports()),
        definitions=list(definitions),
        similar=list(similar),
        cursor_line=_newline_count_before(document, offset),
    )


def _newline_count_before(document: OpenDocument, offset: int) -> int | None:
    """The cursor's line from the document's line index; None where a lone CR makes LSP lines differ."""
    index = document.syntax.line_index
    return None if index.has_lone_cr else index.line_of(offset)


def last_code_offset(text: str, offset: int) -> int:
    """`offset` if its line has code before it, else the end of the nearest earlier line with code."""
    line_start = text.rfind("\n", 0, offset) + 1
    if text[line_start:offset].strip():
        return offset
    position = line_start - 1
    while position > 0:
        start = text.rfind("\n", 0, position) + 1
        if text[start:position].strip():
            return position
        position = start - 1
    return offset


def relative_path(planner: Planner, uri: str) -> str:
    return _relative_path(uri, planner.services.client.root_path)


@functools.lru_cache(maxsize=256)
def _relative_path(uri: str, root: str | None) -> str:
    # Memoised: parsing the URI on every keystroke cost ~20 µs.
    path = unquote(urlparse(uri).path) if uri.startswith("file:") else uri
    if root and path.startswith(root):
        return os.path.relpath(path, root)
    return os.path.basename(path)


def repo_name(planner: Planner) -> str:
    root = planner.services.client.root_path
    return os.path.basename(root.rstrip("/")) if root else ""


async def warm_up_document(planner: Planner, document: OpenDocument, offset: int = 0) -> str | None:
    """Prime the bundled engine's prefix cache with the stable part of the prompt at `offset`.

    Only for the bundled engine (a remote endpoint would bill it), and never beside a real
    completion: a warm-up sent beside one competes with it on the engine rather than helping it
    (measured on an H100), so it waits until nothing is in flight. At offset 0 (a file just
    opened) the prompt is the top of the file: template, repository context and the file's first
    lines are what the first keystrokes share with it. Returns the stable prefix it sent.
    """
    if not planner.services.settings.completion.kv_warmup or planner.services.router.kind != "vllm":
        return None
    if not await _engine_idle(planner):
        return None
    plan = await plan_completion(planner, document, offset, False, document.version)
    if plan is None:
        return None
    stable = plan.prompt.text[:plan.prompt.stable_prefix_len] or plan.prompt.text
    warm = GenerationRequest(feature="warmup", model=plan.request.model, prompt=stable, max_tokens=1,
                             source=plan.request.source, context_sources=plan.request.context_sources)
    await _warm(planner, warm)
    return stable


def compose_prompt(planner: Planner, document: OpenDocument, offset: int, template: FimTemplate,
                   model: str, *, keep_context: bool) -> BuiltPrompt:
    """The FIM prompt at `offset`: its prefix window starts where the last one did, if it still fits.

    With `keep_context`, the cross-file context kept for this scope is used (and remembered);
    without, it is chosen afresh and nothing is remembered.
    """
    inputs = gather_inputs(planner, document, offset)
    inputs = replace(inputs, window_hint_line=planner.window_hints.get(document.uri))
    if keep_context:
        choices = planner.context_choices
        fresh = ContextChoice(scope_header(inputs.text, inputs.scope_range), tuple(inputs.definitions),
                              tuple(inputs.similar))
        chosen = choices[document.uri] = keep_or_refresh(choices.get(document.uri), fresh)
        # Context kept from an earlier keystroke is checked again: the route (and so what may be shared) can change.
        shareable = planner.services.documents.index.shareable
        inputs = replace(inputs, definitions=[s for s in chosen.definitions if shareable(_source_of(s))],
                         similar=[s for s in chosen.similar if shareable(_source_of(s))])
    counter = counter_for(model, planner.services.settings.completion.tokenizer or None)
    return build_fim_prompt(inputs, template, counter, planner.services.settings.completion.context_tokens)


def _source_of(snippet: object) -> str:
    return str(getattr(snippet, "source", ""))


def context_sources(planner: Planner, uri: str) -> tuple[str, ...]:
    """The files whose snippets went into the document's prompt (compose_prompt's filter): the pipeline
    checks them again against privacy.rules when it sends."""
    chosen = planner.context_choices.get(uri)
    if chosen is None:
        return ()
    shareable = planner.services.documents.index.shareable
    sources = {_source_of(s) for s in (*chosen.definitions, *chosen.similar)}
    return tuple(sorted(source for source in sources if source and shareable(source)))


def stable_prefix(planner: Planner, document: OpenDocument, offset: int) -> str:
    """The part of the prompt at `offset` that precedes the cursor window, with the context chosen afresh."""
    model = planner.services.router.model_for("completion")
    template = planner.templates.get(model)
    if template is None:
        return ""
    prompt = compose_prompt(planner, document, min(offset, len(document.text)), template, model, keep_context=False)
    return prompt.text[:prompt.stable_prefix_len]


async def _engine_idle(planner: Planner, patience_s: float = 3.0) -> bool:
    """Wait (briefly) until the engine is ready and no model call is in flight."""
    deadline = time.monotonic() + patience_s
    while time.monotonic() < deadline:
        if getattr(planner.services.router.supervisor, "state", "") != "ready":
            return False
        if not planner.services.pipeline.in_flight:
            return True
        await asyncio.sleep(0.02)
    return False


async def _warm(planner: Planner, request: GenerationRequest) -> None:
    try:
        await planner.services.pipeline.generate(request, automatic=True, use_cache=False)
    except Exception as exc:  # a failed warm-up only costs the next request its cache hit
        log.debug("kv warm-up failed: %s", exc)


async def run_plan(planner: Planner, plan: CompletionPlan, job: Job, *, automatic: bool) -> str | None:
    context = PostprocessContext(document=plan.text, offset=plan.offset, language_id=plan.document.language_id,
                                 template=plan.template, multiline=plan.multiline, tree=plan.tree,
                                 indent_unit=plan.document.indent_unit(), prose=plan.prose, closer=plan.closer)
    line_start = plan.text.rfind("\n", 0, plan.offset) + 1
    stop_tokens = plan.template.stop_tokens + ((plan.closer,) if plan.closer else ())
    should_stop = stop_rule(plan.multiline, plan.text[line_start:plan.offset], stop_tokens)

    def on_text(text: str) -> None:
        job.raw_so_far = text

    generation = await planner.services.pipeline.generate(plan.request, automatic=automatic, on_text=on_text,
                                                should_stop=should_stop, timings=job.timings,
                                                prompt_tokens=sum(tokens for _, tokens in plan.prompt.sections))
    if planner.services.settings.completion.post_process:
        result = postprocess(generation.text, context)
    else:  # the ablation: the model's text as it came, template tokens aside
        result = strip_template_tokens(generation.text, plan.template) or None
    job.timings["postprocessed"] = time.perf_counter()
    log.debug("completion", extra={"content": {"raw": generation.text[:200], "final": (result or "")[:200]}})
    return result
