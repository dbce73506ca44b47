"""diskcache behind an async facade, with a small memory front.

diskcache is SQLite underneath: thread- and process-safe, so two editor windows can share one
directory, and it survives restarts. A lookup sits on every keystroke's path, so it is cheap:
recent entries come from memory, and a disk read runs inline (SQLite in WAL mode never makes a
reader wait for a writer; a read costs ~20 µs, a hop to a worker thread and back ~300 µs on a
2-core machine). Writes never wait: one writer thread drains a queue, so a slow disk or a
checkpoint delays only the write. `close()` (and `flush()`) waits for queued writes.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import diskcache

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CachedResult:
    """What is stored: the model's text and the usage it cost the first time. No prompt, no secrets."""

    text: str
    model: str
    finish_reason: str | None
    prompt_tokens: int
    completion_tokens: int


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    stores: int = 0
    errors: int = 0


MEMORY_ENTRIES = 512


class PromptCache:
    def __init__(self, directory: Path, *, size_mb: int, ttl_hours: float, enabled: bool = True) -> None:
        self.directory = directory
        self.ttl_seconds = ttl_hours * 3600
        self.enabled = enabled
        self.stats = CacheStats()
        self._cache: diskcache.Cache | None = None
        self._memory: dict[str, tuple[float, CachedResult]] = {}
        self._writes: queue.Queue[tuple[str, CachedResult, str] | None] = queue.Queue()
        self._writer: threading.Thread | None = None
        if enabled:
            directory.mkdir(parents=True, exist_ok=True)
            # A short SQLite timeout: a cache that waits on a lock is slower than a miss. The
            # memory front holds the hot entries, so SQLite's own page cache stays small (1,024
            # pages, 4 MiB, not diskcache's 32 MiB per connection) and so does its memory map.
            self._cache = diskcache.Cache(
                str(directory), size_limit=size_mb * 2**20, timeout=0.5,
                sqlite_cache_size=2**10, sqlite_mmap_size=2**23,
            )

    async def get(self, key: str) -> CachedResult | None:
        if self._cache is None:
            return None
        value = self._from_memory(key) or self._safe_get(key)
        if value is None:
            self.stats.misses += 1
            return None
        self.stats.hits += 1
        return value

    async def set(self, key: str, result: CachedResult, *, tag: str = "") -> None:
        self.store(key, result, tag=tag)

    def store(self, key: str, result: CachedResult, *, tag: str = "") -> None:
        """Remember `result` now (memory) and on disk soon (the writer thread); never waits."""
        if self._cache is None:
            return
        if len(self._memory) >= MEMORY_ENTRIES:
            self._memory.pop(next(iter(self._memory)))  # oldest first: dicts keep insertion order
        self._memory[key] = (time.monotonic() + self.ttl_seconds, result)
        self.stats.stores += 1
        if self._writer is None:
            self._writer = threading.Thread(target=self._drain, name="prompt-cache-writer", daemon=True)
            self._writer.start()
        self._writes.put((key, result, tag))

    def flush(self) -> None:
        """Wait until every queued write is on disk."""
        if self._writer is not None:
            self._writes.join()

    def _from_memory(self, key: str) -> CachedResult | None:
        entry = self._memory.get(key)
        if entry is None:
            return None
        if entry[0] < time.monotonic():
            self._memory.pop(key, None)
            return None
        return entry[1]

    def _drain(self) -> None:
        while True:
            item = self._writes.get()
            try:
                if item is None:
                    return
                self._safe_set(*item)
            finally:
                self._writes.task_done()

    def _safe_get(self, key: str) -> CachedResult | None:
        assert self._cache is not None
        try:
            raw: Any = self._cache.get(key)
        except Exception as exc:  # a corrupt or locked cache degrades to a miss
            self.stats.errors += 1
            log.warning("prompt cache read failed: %s", exc)
            return None
        if not isinstance(raw, dict):
            return None
        try:
            return CachedResult(**raw)
        except TypeError:
            return None

    def _safe_set(self, key: str, result: CachedResult, tag: str) -> None:
        assert self._cache is not None
        try:
            # Plain dicts, not pickled classes, so an upgrade never breaks reading old entries.
            self._cache.set(key, asdict(result), expire=self.ttl_seconds, tag=tag or None)
        except Exception as exc:
            self.stats.errors += 1
            log.warning("prompt cache write failed: %s", exc)

    async def clear(self) -> None:
        self._memory.clear()
        if self._cache is not None:
            self.flush()
            await asyncio.to_thread(self._cache.clear)

    def volume_bytes(self) -> int:
        return int(self._cache.volume()) if self._cache is not None else 0

    def close(self) -> None:
        if self._writer is not None:
            self._writes.put(None)
            self._writer.join()
            self._writer = None
        if self._cache is not None:
            self._cache.close()
            self._cache = None
