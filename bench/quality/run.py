"""Answer every hole through LSP by the real server (and, for `plain`, straight from the engine).

Variants, same engine, same holes:
  plain           PSM prompt, <= 1,500 tokens above and <= 500 below, no context, no post-processing
  ghostwriter     the server as shipped
  no-context      completion.crossFileContext off (no definitions or similar snippets)
  no-postprocess  completion.postProcess off
  no-gating       completion.gating off
Holes of one file are answered one after another (the file is open once at a time); files in parallel.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lsprotocol import types
from openai import AsyncOpenAI
from pytest_lsp import ClientServerConfig, LanguageClient

from bench.quality.holes import Hole
from bench.quality.score import Score, score
from context.tokens import counter_for

VARIANTS: dict[str, dict[str, Any]] = {
    "ghostwriter": {},
    "no-context": {"crossFileContext": False},
    "no-postprocess": {"postProcess": False},
    "no-gating": {"gating": False},
}
PLAIN_ABOVE, PLAIN_BELOW = 1500, 500
QWEN_STOP = ["<|endoftext|>", "<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|fim_pad|>",
             "<|file_sep|>", "<|repo_name|>", "<|im_end|>"]


@dataclass(frozen=True)
class Answer:
    hole: Hole
    variant: str
    inserted: str
    score: Score
    seconds: float
    """From the request to the answer, as the client saw it."""


@dataclass(frozen=True)
class Engine:
    base_url: str
    model: str
    block_max_tokens: int = 160


def group_by_file(holes: Sequence[Hole]) -> dict[tuple[str, str], list[Hole]]:
    groups: dict[tuple[str, str], list[Hole]] = defaultdict(list)
    for hole in holes:
        groups[(hole.project, hole.path)].append(hole)
    return groups


async def run_plain(engine: Engine, holes: Sequence[Hole], sources: dict[str, str], parallel: int) -> list[Answer]:
    client = AsyncOpenAI(base_url=engine.base_url, api_key="unused", max_retries=2)
    counter = counter_for(engine.model)
    gate = asyncio.Semaphore(parallel)

    async def one(hole: Hole) -> Answer:
        original = sources[hole.id]
        document = hole.document(original)
        prefix = _tail_tokens(document[: hole.start], PLAIN_ABOVE, counter.count)
        suffix = _head_tokens(document[hole.start :], PLAIN_BELOW, counter.count)
        prompt = f"<|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>"
        async with gate:
            began = time.perf_counter()
            reply = await client.completions.create(model=engine.model, prompt=prompt, temperature=0,
                                                    max_tokens=engine.block_max_tokens, stop=QWEN_STOP[:4])
        seconds = time.perf_counter() - began
        text = reply.choices[0].text or ""
        result = document[: hole.start] + text + document[hole.start :]
        return Answer(hole, "plain", text, score(original, result, hole.start, hole.middle, text), seconds)

    try:
        return list(await asyncio.gather(*(one(hole) for hole in holes)))
    finally:
        await client.close()


def _tail_tokens(text: str, limit: int, count: Callable[[str], int]) -> str:
    lines = text.split("\n")
    kept: list[str] = []
    used = 0
    for line in reversed(lines):
        used += count(line + "\n")
        if used > limit and kept:
            break
        kept.append(line)
    return "\n".join(reversed(kept))


def _head_tokens(text: str, limit: int, count: Callable[[str], int]) -> str:
    kept: list[str] = []
    used = 0
    for line in text.split("\n"):
        used += count(line + "\n")
        if used > limit and kept:
            break
        kept.append(line)
    return "\n".join(kept)


async def run_server(engine: Engine, variant: str, root: Path, holes: Sequence[Hole], sources: dict[str, str],
                     parallel: int) -> list[Answer]:
    """One server for one project: its folder is the workspace, so cross-file context works as in an editor."""
    with tempfile.TemporaryDirectory() as scratch:
        client = await _start(engine, VARIANTS[variant], root, Path(scratch))
        try:
            if holes:  # the first request of a server also loads the tokenizer and indexes the workspace
                await _answer(client, variant, root, holes[0], sources[holes[0].id])
            gate = asyncio.Semaphore(parallel)

            async def file_group(group: list[Hole]) -> list[Answer]:
                async with gate:
                    return [await _answer(client, variant, root, hole, sources[hole.id]) for hole in group]

            groups = await asyncio.gather(*(file_group(g) for g in group_by_file(holes).values()))
        finally:
            await client.shutdown_session()
            await client.stop()
    return [answer for group in groups for answer in group]


async def _start(engine: Engine, completion: dict[str, Any], root: Path, scratch: Path) -> LanguageClient:
    env = {**os.environ, "GHOSTWRITER_CONFIG": os.devnull, "GHOSTWRITER_LOG_LEVEL": "warning",
           "GHOSTWRITER_BASE_URL": engine.base_url, "GHOSTWRITER_MODEL": engine.model}
    client = await ClientServerConfig(server_command=[sys.executable, "-m", "lsp_server"], server_env=env).start()
    settings = {"backend": {"kind": "openai", "baseUrl": engine.base_url, "model": engine.model},
                "cache": {"dir": str(scratch / "cache")},
                "completion": {"debounceMs": 0, **completion}}
    capabilities = types.ClientCapabilities(text_document=types.TextDocumentClientCapabilities(
        inline_completion=types.InlineCompletionClientCapabilities()))
    await client.initialize_session(types.InitializeParams(
        capabilities=capabilities, initialization_options=settings, root_uri=root.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)]))
    return client


async def _answer(client: LanguageClient, variant: str, root: Path, hole: Hole, original: str) -> Answer:
    document = hole.document(original)
    uri = (root / hole.path).as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1, text=document)))
    position = _position(document, hole.start)
    began = time.perf_counter()
    try:
        reply = await asyncio.wait_for(client.text_document_inline_completion_async(types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=position,
            context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Automatic))), 60)
        seconds = time.perf_counter() - began
    finally:
        client.text_document_did_close(types.DidCloseTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=uri)))
    items = reply.items if isinstance(reply, types.InlineCompletionList) else (reply or [])
    result, inserted = document, ""
    if items:
        item = items[0]
        inserted = item.insert_text if isinstance(item.insert_text, str) else item.insert_text.value
        end = hole.start
        if item.range is not None:
            end = _offset(document, item.range.end)
        result = document[: hole.start] + inserted + document[end:]
    return Answer(hole, variant, inserted, score(original, result, hole.start, hole.middle, inserted), seconds)


def _position(text: str, offset: int) -> types.Position:
    line_start = text.rfind("\n", 0, offset) + 1
    return types.Position(text.count("\n", 0, offset), len(text[line_start:offset].encode("utf-16-le")) // 2)


def _offset(text: str, position: types.Position) -> int:
    start = 0
    for _ in range(position.line):
        start = text.index("\n", start) + 1
    line = text[start:].split("\n", 1)[0]
    units = 0
    for i, char in enumerate(line):
        if units >= position.character:
            return start + i
        units += len(char.encode("utf-16-le")) // 2
    return start + len(line)
