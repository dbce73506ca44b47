"""Counts the robustness suites report at the end of the run (tests/robust/conftest.py prints them)."""

from __future__ import annotations

from typing import Any

REPORT: dict[str, Any] = {}
"""name → figure, e.g. "fuzz: inputs tried" → 9004; printed in pytest's terminal summary."""


def add(name: str, amount: int = 1) -> None:
    REPORT[name] = REPORT.get(name, 0) + amount
