"""The usage ledger on disk: per-day totals, also by model and by feature, shared by every process.

Servers and `ghostwriter` commands add to the same store in `<cache dir>/usage` (diskcache; each
update is a transaction, so processes don't clobber each other), which is what makes today's
budget and `ghostwriter usage` cover all of them. Keys: `day:<date>` for the day's total, and
`day:<date>:model:<name>` / `day:<date>:feature:<name>` for its breakdowns.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import diskcache

from lsp_server.usage import Tally, UsageRecord

TALLY_FIELDS = tuple(field.name for field in dataclasses.fields(Tally))


def _tally_of(records: Iterable[UsageRecord]) -> Tally:
    tally = Tally()
    for record in records:
        tally.add(record)
    return tally


def _plus(current: dict[str, Any], delta: Tally) -> dict[str, Any]:
    return {name: current.get(name, 0) + getattr(delta, name) for name in TALLY_FIELDS}


def tally_from(data: dict[str, Any]) -> Tally:
    return Tally(**{k: v for k, v in data.items() if k in TALLY_FIELDS})


class DailyStore:
    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.cache = diskcache.Cache(str(directory / "usage"), timeout=1.0)

    def add(self, day: str, records: list[UsageRecord]) -> dict[str, Any]:
        """Add the records to the day (and its breakdowns); returns the day's new total."""
        groups: dict[str, list[UsageRecord]] = {}
        for record in records:
            groups.setdefault(f"day:{day}:model:{record.model}", []).append(record)
            groups.setdefault(f"day:{day}:feature:{record.feature}", []).append(record)
        with self.cache.transact():
            updated = _plus(self.cache.get(f"day:{day}", {}), _tally_of(records))
            self.cache.set(f"day:{day}", updated)
            for key, group in groups.items():
                self.cache.set(key, _plus(self.cache.get(key, {}), _tally_of(group)))
        return updated

    def load(self, day: str) -> dict[str, Any]:
        return dict(self.cache.get(f"day:{day}", {}))

    def breakdown(self, days: Iterable[str], kind: str) -> dict[str, Tally]:
        """Per model (kind "model") or feature (kind "feature"), summed over `days`."""
        wanted = {f"day:{day}:{kind}:" for day in days}
        result: dict[str, Tally] = {}
        for key in self.cache.iterkeys():
            prefix = next((p for p in wanted if str(key).startswith(p)), None)
            if prefix is not None:  # model names may hold ":" themselves (Ollama's "qwen2.5:7b")
                total = result.setdefault(str(key)[len(prefix):], Tally())
                for field_name, value in self.cache.get(key, {}).items():
                    if field_name in TALLY_FIELDS:
                        setattr(total, field_name, getattr(total, field_name) + value)
        return result

    def total(self, days: Iterable[str]) -> Tally:
        total = Tally()
        for day in days:
            for name, value in self.load(day).items():
                if name in TALLY_FIELDS:
                    setattr(total, name, getattr(total, name) + value)
        return total

    def close(self) -> None:
        self.cache.close()


def month_days(today: str) -> list[str]:
    """ISO dates from the first of `today`'s month to `today`."""
    end = dt.date.fromisoformat(today)
    return [(end.replace(day=1) + dt.timedelta(days=n)).isoformat() for n in range(end.day)]
