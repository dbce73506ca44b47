"""The bundled engine's prefix-cache hit rate, read from its Prometheus `/metrics` endpoint.

vLLM counts, in prompt tokens, how many it looked up in its prefix cache (queries) and how many it
found there (hits). The prompt layout puts the most stable text first precisely so that those hits
happen; the hit rate over this session is how a user sees whether that pays off on their machine.

The counters belong to the engine process, not to this server: they include whatever ran before
this session and restart from zero when the engine restarts. So the meter keeps the first sample
it saw as a baseline and reports the increase since then, carrying counts across restarts.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx2
from prometheus_client.parser import text_string_to_metric_families

from lsp_server.backends import server_root

log = logging.getLogger("ghostwriter.backends")

QUERIES = "vllm:prefix_cache_queries"
HITS = "vllm:prefix_cache_hits"
FETCH_TIMEOUT_S = 0.5
"""The engine is on loopback: an answer slower than this means it is busy, and the figure can wait."""

Counters = tuple[float, float]  # (queries, hits), in tokens


def metrics_url(base_url: str) -> str:
    """`http://127.0.0.1:PORT/v1` → `http://127.0.0.1:PORT/metrics` (metrics live at the server root)."""
    return f"{server_root(base_url)}/metrics"


def _counter_of(sample_name: str) -> str | None:
    # Matched on sample names, not family names: the parser strips `_total` from a family declared
    # as a counter but not from an undeclared one, and the sample keeps the name as exposed. The
    # `_created` timestamps sit beside the counter and must not be added to it.
    base = sample_name[: -len("_total")] if sample_name.endswith("_total") else sample_name
    return base if base in (QUERIES, HITS) else None


def prefix_cache_counters(text: str) -> Counters | None:
    """(queries, hits) summed over all label sets (one per engine and model); None when absent or unreadable."""
    sums: dict[str, float] = {}
    try:
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                name = _counter_of(sample.name)
                if name is not None:
                    sums[name] = sums.get(name, 0.0) + float(sample.value)
    except Exception:  # the parser raises assorted errors on text that is not an exposition
        return None
    if QUERIES not in sums or HITS not in sums:
        return None
    return sums[QUERIES], sums[HITS]


def _rate(hits: float, queries: float) -> float | None:
    return round(hits / queries, 4) if queries > 0 else None


class EngineCacheMeter:
    """Polled by the status watcher; keeps the session's baseline and the latest sample, never raises."""

    def __init__(self, timeout_s: float = FETCH_TIMEOUT_S, client: httpx2.AsyncClient | None = None) -> None:
        self.timeout_s = timeout_s
        # trust_env=False: the engine is on loopback, and a user's HTTP proxy must not see these requests.
        self.client = client or httpx2.AsyncClient(timeout=timeout_s, trust_env=False)
        self.baseline: Counters | None = None
        self.latest: Counters | None = None
        self.carried: Counters = (0.0, 0.0)
        """Counted by earlier engine processes of this session (a restart sets the engine's counters to zero)."""

    async def poll(self, base_url: str) -> bool:
        """Read the counters once; False (figures kept) when the engine did not answer with them."""
        try:
            text = await self._fetch(metrics_url(base_url))
        except Exception as exc:  # a status figure must never take the watcher down with it
            log.debug("cannot read the engine's metrics: %r", exc)
            return False
        counters = prefix_cache_counters(text)
        if counters is None:
            log.debug("the engine's metrics carry no prefix-cache counters")
            return False
        self.record(counters)
        return True

    async def _fetch(self, url: str) -> str:
        # The client's timeout bounds each phase; this bounds the whole read, so a stalled engine
        # delays the watcher's tick by at most timeout_s.
        response = await asyncio.wait_for(self.client.get(url), self.timeout_s)
        response.raise_for_status()
        return response.text

    def record(self, counters: Counters) -> None:
        if self.baseline is None:
            self.baseline = counters
        elif self.latest is not None and counters[0] < self.latest[0]:
            # Counters only grow within one engine process: a drop means a restarted engine, whose
            # counts since its start all belong to this session.
            self.carried = self.session()
            self.baseline = (0.0, 0.0)
        self.latest = counters

    def session(self) -> Counters:
        """(queries, hits) since the first sample of this session."""
        if self.baseline is None or self.latest is None:
            return self.carried
        return (self.carried[0] + self.latest[0] - self.baseline[0],
                self.carried[1] + self.latest[1] - self.baseline[1])

    def wire(self) -> dict[str, Any] | None:
        """The `engine` field of the usage summary; None until the engine has been read once."""
        if self.latest is None:
            return None
        queries, hits = self.session()
        return {
            "prefixCacheHitRate": _rate(hits, queries),
            "prefixCacheQueries": int(queries),
            "prefixCacheHits": int(hits),
            "lifetimeHitRate": _rate(self.latest[1], self.latest[0]),
        }

    async def aclose(self) -> None:
        try:
            await self.client.aclose()
        except Exception as exc:  # shutdown goes on regardless
            log.debug("closing the metrics client failed: %r", exc)
