"""The engine's prefix-cache counters: the Prometheus text parser, the meter over loopback, the status poll."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from features.cost_status import CostStatus
from lsp_server.backends.engine_metrics import EngineCacheMeter, metrics_url, prefix_cache_counters
from tests.fakes.openai_server import FakeOpenAIServer

TYPED = """\
# HELP vllm:prefix_cache_queries_total Prefix cache queries, in tokens.
# TYPE vllm:prefix_cache_queries_total counter
vllm:prefix_cache_queries_total{engine="0",model_name="coder"} 1200.0
vllm:prefix_cache_queries_created{engine="0",model_name="coder"} 1.7e+09
# HELP vllm:prefix_cache_hits_total Prefix cache hits, in tokens.
# TYPE vllm:prefix_cache_hits_total counter
vllm:prefix_cache_hits_total{engine="0",model_name="coder"} 900.0
vllm:prefix_cache_hits_created{engine="0",model_name="coder"} 1.7e+09
"""

TWO_ENGINES = """\
# TYPE vllm:prefix_cache_queries counter
vllm:prefix_cache_queries_total{engine="0",model_name="coder"} 100
vllm:prefix_cache_queries_total{engine="1",model_name="coder"} 300
# TYPE vllm:prefix_cache_hits counter
vllm:prefix_cache_hits_total{engine="0",model_name="coder"} 50
vllm:prefix_cache_hits_total{engine="1",model_name="coder"} 250
"""

UNTYPED_TOTAL = 'vllm:prefix_cache_queries_total{model_name="m"} 10\nvllm:prefix_cache_hits_total{model_name="m"} 4\n'
UNTYPED_BARE = "vllm:prefix_cache_queries 10\nvllm:prefix_cache_hits 7\n"
OTHER_METRICS = '# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running{engine="0"} 2.0\n'


@pytest.mark.parametrize(("text", "expected"), [
    pytest.param(TYPED, (1200.0, 900.0), id="typed-counters-with-labels-ignore-created"),
    pytest.param(TWO_ENGINES, (400.0, 300.0), id="label-sets-summed"),
    pytest.param(UNTYPED_TOTAL, (10.0, 4.0), id="undeclared-total-names"),
    pytest.param(UNTYPED_BARE, (10.0, 7.0), id="names-without-total"),
    pytest.param(OTHER_METRICS + TYPED, (1200.0, 900.0), id="among-other-metrics"),
    pytest.param(OTHER_METRICS, None, id="counters-missing"),
    pytest.param("vllm:prefix_cache_queries_total 5\n", None, id="hits-missing"),
    pytest.param("", None, id="empty"),
    pytest.param("<html><body>Not Found</body></html>", None, id="html"),
    pytest.param("vllm:prefix_cache_queries_total {{{ 1\n", None, id="garbage"),
])
def test_prefix_cache_counters(text: str, expected: tuple[float, float] | None) -> None:
    assert prefix_cache_counters(text) == expected


@pytest.mark.parametrize(("base_url", "expected"), [
    ("http://127.0.0.1:8000/v1", "http://127.0.0.1:8000/metrics"),
    ("http://127.0.0.1:8000/v1/", "http://127.0.0.1:8000/metrics"),
    ("http://127.0.0.1:8000", "http://127.0.0.1:8000/metrics"),
])
def test_metrics_url_is_at_the_server_root(base_url: str, expected: str) -> None:
    assert metrics_url(base_url) == expected


@pytest.fixture
def fake() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(models=["coder"]) as server:
        yield server


@pytest.fixture
async def meter() -> AsyncIterator[EngineCacheMeter]:
    meter = EngineCacheMeter()
    yield meter
    await meter.aclose()


async def test_meter_reports_the_session_delta_over_the_baseline(fake: FakeOpenAIServer,
                                                                 meter: EngineCacheMeter) -> None:
    assert meter.wire() is None  # never read: nothing to show
    fake.set_metrics(queries=1000, hits=100)  # counted before this session
    assert await meter.poll(fake.url)
    assert meter.wire() == {"prefixCacheHitRate": None, "prefixCacheQueries": 0, "prefixCacheHits": 0,
                            "lifetimeHitRate": 0.1}
    fake.set_metrics(queries=1300, hits=325)
    assert await meter.poll(fake.url)
    assert meter.wire() == {"prefixCacheHitRate": 0.75, "prefixCacheQueries": 300, "prefixCacheHits": 225,
                            "lifetimeHitRate": 0.25}


async def test_meter_rounds_the_rate_to_four_places(fake: FakeOpenAIServer, meter: EngineCacheMeter) -> None:
    assert await meter.poll(fake.url)
    fake.set_metrics(queries=3, hits=2)
    assert await meter.poll(fake.url)
    wire = meter.wire()
    assert wire is not None and wire["prefixCacheHitRate"] == 0.6667 and wire["lifetimeHitRate"] == 0.6667


async def test_meter_keeps_figures_when_the_engine_is_gone(fake: FakeOpenAIServer, meter: EngineCacheMeter) -> None:
    assert await meter.poll(fake.url)
    fake.set_metrics(queries=200, hits=50)
    assert await meter.poll(fake.url)
    before = meter.wire()
    url = fake.url
    fake.stop()
    began = time.monotonic()
    assert await meter.poll(url) is False  # connection refused: no exception
    assert time.monotonic() - began < 1.0
    assert meter.wire() == before and before is not None and before["prefixCacheHitRate"] == 0.25


async def test_meter_keeps_figures_when_the_answer_has_no_counters(fake: FakeOpenAIServer,
                                                                   meter: EngineCacheMeter) -> None:
    fake.set_metrics(queries=10, hits=5)
    assert await meter.poll(fake.url)
    assert await meter.poll(fake.root_url + "/v1/models") is False  # answers 404 for .../models/metrics
    assert meter.latest == (10.0, 5.0)


async def test_meter_carries_counts_across_an_engine_restart(fake: FakeOpenAIServer,
                                                             meter: EngineCacheMeter) -> None:
    fake.set_metrics(queries=500, hits=100)
    assert await meter.poll(fake.url)
    fake.set_metrics(queries=600, hits=180)  # +100 queries, +80 hits
    assert await meter.poll(fake.url)
    fake.set_metrics(queries=100, hits=20)  # a restarted engine counts from zero again
    assert await meter.poll(fake.url)
    wire = meter.wire()
    assert wire is not None
    assert (wire["prefixCacheQueries"], wire["prefixCacheHits"]) == (200, 100)
    assert wire["prefixCacheHitRate"] == 0.5 and wire["lifetimeHitRate"] == 0.2


async def test_meter_reads_the_fake_over_its_control_endpoint(fake: FakeOpenAIServer,
                                                              meter: EngineCacheMeter) -> None:
    # Subprocess fakes (the stand-in engine) are scripted over HTTP; the route must set what /metrics serves.
    import httpx2

    async with httpx2.AsyncClient(trust_env=False) as client:
        response = await client.post(fake.root_url + "/_control/metrics", json={"queries": 40, "hits": 30})
        assert response.status_code == 200
        text = (await client.get(fake.root_url + "/metrics")).text
    assert prefix_cache_counters(text) == (40.0, 30.0)
    assert 'model_name="coder"' in text
    assert fake.requests == []  # metrics reads are not API requests


def status_for(kind: str, state: str, base_url: str) -> CostStatus:
    supervisor = SimpleNamespace(state=state, base_url=base_url)
    server: Any = SimpleNamespace(router=SimpleNamespace(kind=kind, supervisor=supervisor))
    return CostStatus(server)


@pytest.mark.parametrize(("kind", "state"), [("openai", "ready"), ("vllm", "starting"), ("vllm", "failed")])
async def test_status_reads_no_metrics_without_a_ready_bundled_engine(fake: FakeOpenAIServer, kind: str,
                                                                      state: str) -> None:
    status = status_for(kind, state, fake.url)
    await status.read_engine()
    assert status.meter is None and status.engine_summary() is None


async def test_status_reads_the_ready_engine_at_most_every_two_seconds(fake: FakeOpenAIServer) -> None:
    status = status_for("vllm", "ready", fake.url)
    try:
        fake.set_metrics(queries=100, hits=10)
        await status.read_engine()
        assert status.engine_summary() == {"prefixCacheHitRate": None, "prefixCacheQueries": 0,
                                           "prefixCacheHits": 0, "lifetimeHitRate": 0.1}
        fake.set_metrics(queries=200, hits=90)
        await status.read_engine()  # too soon: the figures stay
        assert status.meter is not None and status.meter.latest == (100.0, 10.0)
        status.meter_read_at -= 2.0  # as if two seconds had passed
        await status.read_engine()
        summary = status.engine_summary()
        assert summary is not None and summary["prefixCacheHitRate"] == 0.8
    finally:
        await status.close()
