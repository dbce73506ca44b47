"""The usage ledger and prices: exact sums, cache hits as savings, unknown prices, budgets."""

from __future__ import annotations

import pytest

from lsp_server.backends import Usage
from lsp_server.pricing import ModelPrice, PriceTable
from lsp_server.usage import UsageLedger

PRICE = ModelPrice(input_per_1m=2.0, cached_input_per_1m=0.5, output_per_1m=8.0)


@pytest.mark.parametrize(
    ("usage", "expected"),
    [
        (Usage(prompt_tokens=1_000_000, cached_tokens=0, completion_tokens=0), 2.0),
        (Usage(prompt_tokens=1_000_000, cached_tokens=1_000_000, completion_tokens=0), 0.5),
        (
            Usage(prompt_tokens=1000, cached_tokens=800, completion_tokens=500),
            (200 * 2.0 + 800 * 0.5 + 500 * 8.0) / 1e6,
        ),
        (Usage(prompt_tokens=0, cached_tokens=0, completion_tokens=0), 0.0),
        # cached can't exceed prompt (a backend bug): clamp
        (Usage(prompt_tokens=10, cached_tokens=50, completion_tokens=0), 10 * 0.5 / 1e6),
    ],
)
def test_cost_formula(usage: Usage, expected: float) -> None:
    assert PRICE.cost(usage) == pytest.approx(expected)


def test_price_lookup_prefix_local_and_unknown() -> None:
    table = PriceTable({"my-model": PRICE})
    assert table.lookup("my-model") == PRICE
    assert table.lookup("gpt-4o-mini-2024-07-18") == table.lookup("gpt-4o-mini")
    assert table.lookup("openai/gpt-4.1-mini") == table.lookup("gpt-4.1-mini")
    assert table.lookup("anything", local=True) == ModelPrice(0, 0, 0)
    assert table.lookup("mystery-model") is None


def ledger(**kwargs: object) -> UsageLedger:
    return UsageLedger(PriceTable({"m": PRICE}), today_fn=lambda: "2026-11-22", **kwargs)  # type: ignore[arg-type]


def test_sums_per_session_feature_and_model() -> None:
    book = ledger()
    book.record(
        feature="completion",
        model="m",
        usage=Usage(prompt_tokens=1000, cached_tokens=10, completion_tokens=600),
        from_cache=False,
        duration_ms=5,
        local=False,
    )
    book.record(
        feature="hover",
        model="m",
        usage=Usage(prompt_tokens=2000, cached_tokens=100, completion_tokens=0),
        from_cache=False,
        duration_ms=5,
        local=False,
    )
    assert book.session.requests == 2
    assert (book.session.promptTokens, book.session.cachedPromptTokens, book.session.completionTokens) == (
        3000,
        110,
        600,
    )
    expected = PRICE.cost(Usage(prompt_tokens=1000, cached_tokens=10, completion_tokens=600)) + PRICE.cost(
        Usage(prompt_tokens=2000, cached_tokens=100, completion_tokens=0)
    )
    assert book.session.cost == pytest.approx(expected)
    assert book.by_feature["hover"].promptTokens == 2000
    assert book.today.requests == 2


def test_cache_hit_counts_as_saving_not_tokens() -> None:
    book = ledger()
    book.record(
        feature="completion",
        model="m",
        usage=Usage(prompt_tokens=1000, cached_tokens=0, completion_tokens=10),
        from_cache=True,
        duration_ms=1,
        local=False,
    )
    assert book.session.cacheHits == 1
    assert book.session.requests == 0 and book.session.promptTokens == 0 and book.session.cost == 0
    assert book.session.savedCost == pytest.approx(
        PRICE.cost(Usage(prompt_tokens=1000, cached_tokens=0, completion_tokens=10))
    )


def test_unknown_price_shows_tokens_not_a_figure() -> None:
    book = ledger()
    record = book.record(
        feature="completion",
        model="mystery",
        usage=Usage(prompt_tokens=100, cached_tokens=0, completion_tokens=10),
        from_cache=False,
        duration_ms=1,
        local=False,
    )
    assert record.cost is None
    assert book.session.unpricedRequests == 1 and book.session.promptTokens == 100 and book.session.cost == 0


def test_token_budget_pauses_after_limit_and_refuses_by_estimate() -> None:
    book = ledger(budget_unit="tokens", session_limit=1000)
    assert book.check_request(model="m", estimated_prompt_tokens=400, max_tokens=10, local=False) is None
    book.record(
        feature="completion",
        model="m",
        usage=Usage(prompt_tokens=900, cached_tokens=0, completion_tokens=100),
        from_cache=False,
        duration_ms=1,
        local=False,
    )
    reason = book.check_request(model="m", estimated_prompt_tokens=1, max_tokens=10, local=False)
    assert reason is not None and "session budget of 1000 tokens reached" in reason
    assert book.budget().exceeded


def test_money_budget_refuses_a_request_that_would_cross_it() -> None:
    book = ledger(budget_unit="money", daily_limit=0.01)
    reason = book.check_request(model="m", estimated_prompt_tokens=10_000, max_tokens=100, local=False)
    assert reason is not None and "daily" in reason


def test_day_rolls_over() -> None:
    days = iter(["2026-11-22", "2026-11-22", "2026-11-23", "2026-11-23"])
    book = UsageLedger(PriceTable({"m": PRICE}), today_fn=lambda: next(days))
    book.record(
        feature="completion",
        model="m",
        usage=Usage(prompt_tokens=10, cached_tokens=0, completion_tokens=1),
        from_cache=False,
        duration_ms=1,
        local=False,
    )
    book.record(
        feature="completion",
        model="m",
        usage=Usage(prompt_tokens=10, cached_tokens=0, completion_tokens=1),
        from_cache=False,
        duration_ms=1,
        local=False,
    )
    assert book.today.requests == 1 and book.session.requests == 2


def _today(**overrides: object) -> dict:
    base = {"promptTokens": 1000, "completionTokens": 20, "cachedPromptTokens": 600, "unpricedRequests": 0,
            "cost": 0.0012, "currency": "USD", "cacheHits": 0, "requests": 1, "estimatedRequests": 0,
            "redactedSpans": 0}
    return {"today": {**base, **overrides}}


@pytest.mark.parametrize(("today", "line"), [
    (_today(), "today 1,020 tokens, 60% cached, 0.0012 USD; 0 disk-cache hits"),
    (_today(requests=3, estimatedRequests=2),
     "today ~1,020 tokens, 60% cached, ~0.0012 USD (2 of 3 calls estimated); 0 disk-cache hits"),
    (_today(redactedSpans=4), "today 1,020 tokens, 60% cached, 0.0012 USD; 0 disk-cache hits; 4 secrets redacted"),
])
def test_the_status_line_marks_estimates_and_counts_redactions(today: dict, line: str) -> None:
    from features.cost_status import usage_line

    assert usage_line(today) == line


def test_estimated_usage_and_redactions_are_tallied() -> None:
    ledger = UsageLedger(PriceTable())
    ledger.record(feature="completion", model="m", usage=Usage(10, 2, estimated=True), from_cache=False,
                  duration_ms=1, local=False, redacted=2)
    ledger.record(feature="completion", model="m", usage=Usage(10, 2), from_cache=False, duration_ms=1,
                  local=False)
    ledger.record(feature="completion", model="m", usage=Usage(10, 2, estimated=True), from_cache=True,
                  duration_ms=1, local=False, redacted=2)
    assert (ledger.session.requests, ledger.session.estimatedRequests, ledger.session.redactedSpans) == (2, 1, 2)
