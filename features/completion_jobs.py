"""Generation jobs for inline completion: superseding, typed-ahead reuse, delayed abort.

A job is one model call anchored at a cursor offset. When the user keeps typing the characters
the job produced (or is still producing), later requests are served from that job with no new
model call. A job nobody waits for any more is aborted after a short grace period: long enough
for the next keystroke's request to adopt it, short enough that an abandoned stream stops
spending tokens almost at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

ANCHOR_TAIL_CHARS = 256
_ids = itertools.count(1)


@dataclass
class Anchor:
    """Where a job was asked for: enough of the text to recognise the same place later."""

    uri: str
    offset: int
    tail: str
    """The text just before the cursor."""
    line_rest: str
    """The text right of the cursor on its line; a changed suffix invalidates the job."""
    next_line: str = ""
    """The line below the cursor's: a block answer ends where it starts, so a change there invalidates too."""

    @classmethod
    def at(cls, uri: str, text: str, offset: int) -> Anchor:
        line_end = text.find("\n", offset)
        rest = text[offset:] if line_end < 0 else text[offset:line_end]
        return cls(uri, offset, text[max(0, offset - ANCHOR_TAIL_CHARS):offset], rest, _next_line(text, line_end))

    def typed_since(self, uri: str, text: str, offset: int) -> str | None:
        """What was typed after this anchor to reach `offset`, or None if this is not the same place."""
        if uri != self.uri or offset < self.offset or offset - self.offset > 200:
            return None
        if text[max(0, self.offset - ANCHOR_TAIL_CHARS):self.offset] != self.tail:
            return None
        typed = text[self.offset:offset]
        line_end = text.find("\n", offset)
        rest = text[offset:] if line_end < 0 else text[offset:line_end]
        if rest != self.line_rest or _next_line(text, line_end) != self.next_line:
            return None
        return typed


def _next_line(text: str, line_end: int) -> str:
    if line_end < 0:
        return ""
    following = text.find("\n", line_end + 1)
    return text[line_end + 1:] if following < 0 else text[line_end + 1:following]


@dataclass
class Job:
    anchor: Anchor
    task: asyncio.Task[str | None]
    raw_so_far: str = ""
    waiters: int = 0
    id: int = field(default_factory=lambda: next(_ids))
    abort_handle: asyncio.TimerHandle | None = None
    timings: dict[str, float] = field(default_factory=dict)
    """perf_counter marks from the pipeline: "sent" (request out) and "received" (reply in)."""

    @property
    def result(self) -> str | None:
        if not self.task.done() or self.task.cancelled() or self.task.exception() is not None:
            return None
        return self.task.result()

    def compatible_while_streaming(self, typed: str) -> bool:
        """The streamed text so far agrees with what the user typed (one is a prefix of the other)."""
        raw = self.raw_so_far.lstrip(" \t") if not typed[:1].isspace() else self.raw_so_far
        return raw.startswith(typed) or typed.startswith(raw)


class JobBook:
    """The recent and running jobs of all documents."""

    def __init__(self, grace_s: float = 0.12, keep: int = 32) -> None:
        self.grace_s = grace_s
        self.jobs: deque[Job] = deque(maxlen=keep)
        self.reuse_hits = 0
        self.model_calls = 0

    def find_reusable(self, uri: str, text: str, offset: int) -> tuple[Job, str] | None:
        """The newest job whose suggestion the user is typing into, and what they typed."""
        for job in reversed(self.jobs):
            typed = job.anchor.typed_since(uri, text, offset)
            if typed is None:
                continue
            if job.task.done():
                result = job.result
                if result and result.startswith(typed) and len(result) > len(typed):
                    return job, typed
            elif typed == "" or job.compatible_while_streaming(typed):
                return job, typed
        return None

    def start(self, anchor: Anchor, work: Callable[[Job], Awaitable[str | None]]) -> Job:
        self.supersede(anchor.uri)
        job = Job(anchor, task=None)  # type: ignore[arg-type]
        job.task = asyncio.ensure_future(work(job))
        self.jobs.append(job)
        self.model_calls += 1
        return job

    def forget(self, uri: str) -> None:
        """The document closed: its jobs can serve nothing any more (a reopened file is new text)."""
        for job in [job for job in self.jobs if job.anchor.uri == uri]:
            job.task.cancel()
            self.jobs.remove(job)

    def supersede(self, uri: str) -> None:
        """Abort running jobs of this document that nobody waits for (the user moved on)."""
        for job in self.jobs:
            if job.anchor.uri == uri and not job.task.done() and job.waiters == 0:
                job.task.cancel()

    async def wait(self, job: Job) -> str | None:
        """Wait for a job's result; if this waiter is cancelled, the job may be aborted after the grace."""
        job.waiters += 1
        if job.abort_handle is not None:
            job.abort_handle.cancel()
            job.abort_handle = None
        try:
            return await asyncio.shield(job.task)
        finally:
            job.waiters -= 1
            if job.waiters == 0 and not job.task.done():
                loop = asyncio.get_running_loop()
                job.abort_handle = loop.call_later(self.grace_s, self._abort_if_orphan, job)

    @staticmethod
    def _abort_if_orphan(job: Job) -> None:
        if job.waiters == 0 and not job.task.done():
            job.task.cancel()

    async def aclose(self) -> None:
        for job in self.jobs:
            job.task.cancel()
        for job in self.jobs:
            with contextlib.suppress(BaseException):
                await job.task
