"""Bookkeeping the answer need not wait for (usage, cache store), run once the answer is out."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

log = logging.getLogger("ghostwriter.deferred")


class AfterResponse:
    """Callbacks run right after the next response is written, or within 20 ms anyway.

    They run before the next message is read, so they are never observably late, and the
    response they follow never waits for them.
    """

    def __init__(self) -> None:
        self._callbacks: list[Callable[[], None]] = []
        self._timer: asyncio.TimerHandle | None = None

    def add(self, callback: Callable[[], None]) -> None:
        self._callbacks.append(callback)
        if self._timer is None:
            try:
                self._timer = asyncio.get_running_loop().call_later(0.02, self.run)
            except RuntimeError:  # no loop (a synchronous caller): run it now
                self.run()

    def run(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            try:
                callback()
            except Exception:
                log.exception("bookkeeping after a response failed")
