"""Fixture: a small module with non-ASCII text (é, 中, 😋)."""

from __future__ import annotations

import os
from typing import Any

GREETING = "héllo 中文 😋"


@decorator
def greet(name: str) -> str:
    """Say hello."""
    return f"{GREETING}, {name}!"


class Counter:
    total = 0

    def increment(self, step: int = 1) -> int:
        self.total += step
        return self.total


def uses_counter(counter: Counter) -> Any:
    value = counter.increment(2)
    return os.path.join(str(value), greet("é"))
