"""Prices per model, per million tokens.

The built-in table holds list prices of common hosted models as published in 2025 (DashScope
international, OpenAI); they change, so `ghostwriter.pricing` overrides any entry. Matching is
exact first, then by the longest known prefix (so `gpt-4o-mini-2024-07-18` finds `gpt-4o-mini`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from lsp_server.backends import Usage
from lsp_server.settings import Price


@dataclass(frozen=True)
class ModelPrice:
    input_per_1m: float
    cached_input_per_1m: float
    output_per_1m: float
    currency: str = "USD"

    def cost(self, usage: Usage) -> float:
        cached = min(usage.cached_tokens, usage.prompt_tokens)
        fresh = usage.prompt_tokens - cached
        total = (fresh * self.input_per_1m + cached * self.cached_input_per_1m
                 + usage.completion_tokens * self.output_per_1m)
        return total / 1_000_000


FREE = ModelPrice(0.0, 0.0, 0.0)

BUILT_IN: dict[str, ModelPrice] = {
    # DashScope (Alibaba Cloud Model Studio, international), lowest input tier.
    "qwen3-coder-plus": ModelPrice(1.0, 0.2, 5.0),
    "qwen3-coder-flash": ModelPrice(0.3, 0.06, 1.5),
    "qwen3-coder-480b-a35b-instruct": ModelPrice(1.5, 0.3, 7.5),
    "qwen3-coder-30b-a3b-instruct": ModelPrice(0.45, 0.09, 2.25),
    "qwen2.5-coder-32b-instruct": ModelPrice(0.7, 0.14, 2.8),
    # OpenAI.
    "gpt-4o-mini": ModelPrice(0.15, 0.075, 0.6),
    "gpt-4o": ModelPrice(2.5, 1.25, 10.0),
    "gpt-4.1-nano": ModelPrice(0.1, 0.025, 0.4),
    "gpt-4.1-mini": ModelPrice(0.4, 0.1, 1.6),
    "gpt-4.1": ModelPrice(2.0, 0.5, 8.0),
}


class PriceTable:
    def __init__(self, overrides: Mapping[str, ModelPrice] | None = None, currency: str = "USD") -> None:
        self.table = {**BUILT_IN, **(overrides or {})}
        self.currency = currency

    def lookup(self, model: str, *, local: bool = False) -> ModelPrice | None:
        """The price of a model; the bundled engine is free; None when nobody set a price."""
        if model in self.table:
            return self.table[model]
        if local:
            return FREE
        key = model.lower().rsplit("/", 1)[-1]
        # A dated or tagged variant ("gpt-4o-mini-2024-07-18", "qwen3-coder-plus:latest") of a known model.
        matches = [name for name in self.table
                   if key == name.lower() or (key.startswith(name.lower()) and key[len(name)] in "-:@")]
        return self.table[max(matches, key=len)] if matches else None

    @classmethod
    def from_settings(cls, pricing: Mapping[str, Price]) -> PriceTable:
        overrides: dict[str, ModelPrice] = {}
        currency = "USD"
        for model, price in pricing.items():
            overrides[model] = ModelPrice(
                input_per_1m=price.input_per_1m,
                cached_input_per_1m=price.cached_input_per_1m,
                output_per_1m=price.output_per_1m,
                currency=price.currency,
            )
            currency = overrides[model].currency
        return cls(overrides, currency)
