"""diskcache behind an async facade.

diskcache is SQLite underneath: thread- and process-safe, so two editor windows can share one
directory, and it survives restarts. Every call runs in a worker thread so a slow disk never
stalls the event loop (and so never delays a keystroke's answer).
"""

from __future__ import annotations

import asyncio
import logging
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


class PromptCache:
    def __init__(self, directory: Path, *, size_mb: int, ttl_hours: float, enabled: bool = True) -> None:
        self.directory = directory
        self.ttl_seconds = ttl_hours * 3600
        self.enabled = enabled
        self.stats = CacheStats()
        self._cache: diskcache.Cache | None = None
        if enabled:
            directory.mkdir(parents=True, exist_ok=True)
            # A short SQLite timeout: a cache that waits on a lock is slower than a miss.
            self._cache = diskcache.Cache(str(directory), size_limit=size_mb * 2**20, timeout=0.5)

    async def get(self, key: str) -> CachedResult | None:
        if self._cache is None:
            return None
        value = await asyncio.to_thread(self._safe_get, key)
        if value is None:
            self.stats.misses += 1
            return None
        self.stats.hits += 1
        return value

    async def set(self, key: str, result: CachedResult, *, tag: str = "") -> None:
        if self._cache is None:
            return
        await asyncio.to_thread(self._safe_set, key, result, tag)

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
            self.stats.stores += 1
        except Exception as exc:
            self.stats.errors += 1
            log.warning("prompt cache write failed: %s", exc)

    async def clear(self) -> None:
        if self._cache is not None:
            await asyncio.to_thread(self._cache.clear)

    def volume_bytes(self) -> int:
        return int(self._cache.volume()) if self._cache is not None else 0

    def close(self) -> None:
        if self._cache is not None:
            self._cache.close()
            self._cache = None
