"""The disk prompt cache: keys, hits, TTL, size, and two processes sharing one directory."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from cache import CachedResult, PromptCache, cache_key

RESULT = CachedResult(text="return a + b", model="m", finish_reason="stop", prompt_tokens=10, completion_tokens=4)


def key(**changes: object) -> str:
    base: dict = {"prompt_version": 1, "backend_id": "openai", "model": "m", "prompt": "p", "messages": [],
                  "params": {"max_tokens": 64, "temperature": 0.0}}
    base.update(changes)
    return cache_key(**base)


def test_key_changes_with_everything_that_changes_output() -> None:
    reference = key()
    assert key() == reference
    for change in ({"prompt_version": 2}, {"model": "other"}, {"prompt": "q"}, {"backend_id": "vllm"},
                   {"params": {"max_tokens": 65, "temperature": 0.0}}, {"messages": [{"role": "user"}]}):
        assert key(**change) != reference, change


async def test_hit_and_miss(tmp_path: Path) -> None:
    cache = PromptCache(tmp_path, size_mb=10, ttl_hours=1)
    assert await cache.get("k") is None
    await cache.set("k", RESULT)
    assert await cache.get("k") == RESULT
    assert (cache.stats.hits, cache.stats.misses, cache.stats.stores) == (1, 1, 1)
    cache.close()


async def test_ttl_expiry(tmp_path: Path) -> None:
    cache = PromptCache(tmp_path, size_mb=10, ttl_hours=0.3 / 3600)  # 0.3 s
    await cache.set("k", RESULT)
    assert await cache.get("k") == RESULT
    time.sleep(0.4)
    assert await cache.get("k") is None
    cache.close()


async def test_survives_restart_and_stores_no_secret(tmp_path: Path) -> None:
    cache = PromptCache(tmp_path, size_mb=10, ttl_hours=1)
    await cache.set("k", RESULT)
    cache.close()
    reopened = PromptCache(tmp_path, size_mb=10, ttl_hours=1)
    assert await reopened.get("k") == RESULT
    reopened.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())
    assert b"Authorization" not in raw and b"api_key" not in raw


async def test_disabled_cache_is_a_no_op(tmp_path: Path) -> None:
    cache = PromptCache(tmp_path / "never", size_mb=10, ttl_hours=1, enabled=False)
    await cache.set("k", RESULT)
    assert await cache.get("k") is None
    assert not (tmp_path / "never").exists()


WRITER = """
import asyncio, sys
from pathlib import Path
from cache import CachedResult, PromptCache
async def main():
    cache = PromptCache(Path(sys.argv[1]), size_mb=10, ttl_hours=1)
    for i in range(50):
        await cache.set(f"{sys.argv[2]}-{i}", CachedResult(f"text {i}", "m", "stop", i, i))
    cache.close()
asyncio.run(main())
"""


async def test_two_processes_share_one_directory(tmp_path: Path) -> None:
    root = Path(__file__).parents[2]
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), name], cwd=root) for name in "ab"]
    assert [p.wait(timeout=60) for p in procs] == [0, 0]
    cache = PromptCache(tmp_path, size_mb=10, ttl_hours=1)
    for name in "ab":
        for i in (0, 49):
            hit = await cache.get(f"{name}-{i}")
            assert hit is not None and hit.text == f"text {i}"
    cache.close()


def test_sqlite_memory_stays_small(tmp_path: Path) -> None:
    """The memory front holds the hot entries: SQLite keeps 4 MiB of pages and an 8 MiB map, not 32 and 64.

    Under eight editors' load the server's memory grew ~3 MiB a minute with diskcache's defaults and
    levelled off with these (bench/RESULTS.md, "Robustness").
    """
    cache = PromptCache(tmp_path, size_mb=16, ttl_hours=1)
    cache.store(key(), RESULT)
    cache.close()  # waits for the write, stops the writer thread and releases the database
    db = sqlite3.connect(tmp_path / "cache.db")
    try:
        settings = dict(db.execute("SELECT key, value FROM Settings WHERE key LIKE 'sqlite_%_size'"))
    finally:
        db.close()
    assert settings == {"sqlite_cache_size": 2**10, "sqlite_mmap_size": 2**23}
