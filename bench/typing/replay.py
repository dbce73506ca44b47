"""One client typing one replay: didChange then a suggestion request after every key, timed at the client.

Keys come one after another: each waits its think time (divided by `speed`) after the previous
answer, as a user reads the ghost text before typing on. Every answer is judged against the original.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from lsprotocol import types

from bench.typing.clients import Session
from bench.typing.regions import Regions
from bench.typing.score import verdict
from bench.typing.script import Key, initial_buffer
from bench.typing.spans import Replay

TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Record:
    key: int  # index in the replay's keys
    kind: str  # the key's kind
    ms: float  # request → answer at the client
    measured: bool  # text was still missing at a consistent buffer, the cursor at the typing point
    region: str  # code / docstring / string / comment, at the cursor (in the original)
    verdict: str  # empty / exact / short / wrong (unmeasured: empty / offered)
    suggestion: str
    missing: str  # what was still missing (measured keys only)


def position(text: str, offset: int) -> types.Position:
    line_start = text.rfind("\n", 0, offset) + 1
    return types.Position(text.count("\n", 0, offset), len(text[line_start:offset].encode("utf-16-le")) // 2)


def offset(text: str, where: types.Position) -> int:
    start = 0
    for _ in range(where.line):
        found = text.find("\n", start)
        if found < 0:
            return len(text)
        start = found + 1
    end = text.find("\n", start)
    line = text[start : end if end >= 0 else len(text)]
    units = 0
    for i, char in enumerate(line):
        if units >= where.character:
            return start + i
        units += len(char.encode("utf-16-le")) // 2
    return start + len(line)


async def replay(session: Session, uri: str, case: Replay, keys: list[Key], where: Regions,
                 speed: float) -> list[Record]:
    buffer = initial_buffer(case.original, case.start, case.end)
    span = case.span
    session.open(uri, buffer)
    version = 1
    records = []
    for index, key in enumerate(keys):
        await asyncio.sleep(key.pause_ms / speed / 1000)
        if key.kind not in ("jump", "back"):
            start, end = position(buffer, key.start), position(buffer, key.end)
            buffer = buffer[: key.start] + key.text + buffer[key.end :]
            version += 1
            session.change(uri, version, start, end, key.text)
        cursor = position(buffer, key.cursor)
        began = time.perf_counter()
        try:
            answer = await asyncio.wait_for(session.suggest(uri, cursor), TIMEOUT_S)
        except asyncio.TimeoutError:
            answer = None
        ms = 1000 * (time.perf_counter() - began)
        result, shown = _apply(buffer, key.cursor, answer)
        measured = key.consistent and key.at_point and key.typed < len(span)
        if measured:
            judged = verdict(case.original, case.start, case.end, key.typed, buffer, result)
        else:
            judged = "empty" if result == buffer else "offered"
        records.append(Record(index, key.kind, round(ms, 3), measured, where.at(case.start + key.typed), judged,
                              shown, span[key.typed :][:200] if measured else ""))
    return records


def _apply(buffer: str, cursor: int, answer: tuple[types.Range | None, str] | None) -> tuple[str, str]:
    if answer is None:
        return buffer, ""
    where, text = answer
    start, end = (cursor, cursor) if where is None else (offset(buffer, where.start), offset(buffer, where.end))
    return buffer[:start] + text + buffer[end:], text
