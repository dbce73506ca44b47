"""The usage ledger: tokens, cache hits and money, per session and per day. Pure; no LSP.

Fed from exactly one place, the model-call pipeline, so no feature can forget to meter a call.
Cost = (prompt - cached) x input + cached x cachedInput + completion x output, per 1M tokens.
A model without a price shows its tokens and "price unknown", never a made-up figure.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from lsp_server.backends import Usage
from lsp_server.pricing import PriceTable


@dataclass
class Tally:
    requests: int = 0
    promptTokens: int = 0
    cachedPromptTokens: int = 0
    completionTokens: int = 0
    cacheHits: int = 0
    cost: float = 0.0
    unpricedRequests: int = 0
    savedCost: float = 0.0
    """What disk-cache hits would have cost at list price."""
    estimatedRequests: int = 0
    """Calls whose usage the endpoint never reported: their tokens and cost are our estimate."""
    redactedSpans: int = 0
    """Secrets, e-mail and private addresses replaced by placeholders in what was sent."""

    def add(self, record: UsageRecord) -> None:
        if record.fromCache:
            self.cacheHits += 1
            self.savedCost += record.savedCost
            return
        self.requests += 1
        self.estimatedRequests += int(record.estimated)
        self.redactedSpans += record.redactedSpans
        self.promptTokens += record.promptTokens
        self.cachedPromptTokens += record.cachedPromptTokens
        self.completionTokens += record.completionTokens
        if record.cost is None:
            self.unpricedRequests += 1
        else:
            self.cost += record.cost

    @property
    def tokens(self) -> int:
        return self.promptTokens + self.completionTokens

    def wire(self, currency: str) -> dict[str, Any]:
        data = asdict(self)
        data["cost"] = round(self.cost, 6)
        data["savedCost"] = round(self.savedCost, 6)
        data["currency"] = currency
        return data


@dataclass(frozen=True)
class UsageRecord:
    feature: str
    model: str
    promptTokens: int
    cachedPromptTokens: int
    completionTokens: int
    durationMs: float
    fromCache: bool
    cost: float | None
    currency: str
    estimated: bool = False
    savedCost: float = 0.0
    redactedSpans: int = 0


@dataclass
class BudgetStatus:
    unit: str
    dailyLimit: float
    sessionLimit: float
    dailyUsed: float
    sessionUsed: float
    exceeded: bool
    message: str = ""


@dataclass
class UsageLedger:
    prices: PriceTable
    budget_unit: str = "money"
    daily_limit: float = 0.0
    session_limit: float = 0.0
    today_fn: Callable[[], str] = field(default=lambda: dt.date.today().isoformat())
    session: Tally = field(default_factory=Tally)
    by_feature: dict[str, Tally] = field(default_factory=dict)
    by_model: dict[str, Tally] = field(default_factory=dict)
    today: Tally = field(default_factory=Tally)
    day: str = ""
    last: UsageRecord | None = None

    def __post_init__(self) -> None:
        self.day = self.day or self.today_fn()

    def record(self, *, feature: str, model: str, usage: Usage, from_cache: bool, duration_ms: float,
               local: bool, redacted: int = 0) -> UsageRecord:
        self._roll_day()
        price = self.prices.lookup(model, local=local)
        full_cost = price.cost(usage) if price else None
        record = UsageRecord(
            feature=feature,
            model=model,
            promptTokens=0 if from_cache else usage.prompt_tokens,
            cachedPromptTokens=0 if from_cache else usage.cached_tokens,
            completionTokens=0 if from_cache else usage.completion_tokens,
            durationMs=round(duration_ms, 1),
            fromCache=from_cache,
            cost=0.0 if from_cache else full_cost,
            currency=price.currency if price else self.prices.currency,
            estimated=usage.estimated and not from_cache,
            savedCost=(full_cost or 0.0) if from_cache else 0.0,
            redactedSpans=0 if from_cache else redacted,
        )
        for tally in (self.session, self.today, self._tally(self.by_feature, feature),
                      self._tally(self.by_model, model)):
            tally.add(record)
        self.last = record
        return record

    def load_today(self, persisted: Mapping[str, Any]) -> None:
        """Start today's tally from what earlier sessions persisted (counts only this process adds to)."""
        self.today = Tally(**{k: v for k, v in persisted.items() if k in Tally.__dataclass_fields__})

    def reset(self) -> None:
        self.session = Tally()
        self.by_feature.clear()
        self.by_model.clear()
        self.last = None

    def budget(self) -> BudgetStatus:
        self._roll_day()
        daily_used = self._used(self.today)
        session_used = self._used(self.session)
        reasons = []
        if self.daily_limit and daily_used >= self.daily_limit:
            reasons.append(f"daily budget of {self._fmt(self.daily_limit)} reached")
        if self.session_limit and session_used >= self.session_limit:
            reasons.append(f"session budget of {self._fmt(self.session_limit)} reached")
        return BudgetStatus(self.budget_unit, self.daily_limit, self.session_limit, round(daily_used, 6),
                            round(session_used, 6), bool(reasons), "; ".join(reasons))

    def check_request(self, *, model: str, estimated_prompt_tokens: int, max_tokens: int,
                      local: bool) -> str | None:
        """Why this request would break a budget, or None. Uses the estimate before any token is spent."""
        status = self.budget()
        if status.exceeded:
            return status.message
        cost_units = self._estimate_units(model, estimated_prompt_tokens, max_tokens, local)
        for limit, used, name in ((self.daily_limit, status.dailyUsed, "daily"),
                                  (self.session_limit, status.sessionUsed, "session")):
            if limit and cost_units is not None and used + cost_units > limit:
                return (f"this request (~{estimated_prompt_tokens} prompt tokens) would pass the {name} "
                        f"budget of {self._fmt(limit)}")
        return None

    def _estimate_units(self, model: str, prompt_tokens: int, max_tokens: int, local: bool) -> float | None:
        if self.budget_unit == "tokens":
            return float(prompt_tokens)
        price = self.prices.lookup(model, local=local)
        return price.cost(Usage(prompt_tokens=prompt_tokens, completion_tokens=max_tokens)) if price else None

    def _used(self, tally: Tally) -> float:
        return float(tally.tokens) if self.budget_unit == "tokens" else tally.cost

    def _fmt(self, amount: float) -> str:
        return f"{int(amount)} tokens" if self.budget_unit == "tokens" else f"{amount:g} {self.prices.currency}"

    def _roll_day(self) -> None:
        today = self.today_fn()
        if today != self.day:
            self.day, self.today = today, Tally()

    @staticmethod
    def _tally(table: dict[str, Tally], key: str) -> Tally:
        return table.setdefault(key, Tally())
