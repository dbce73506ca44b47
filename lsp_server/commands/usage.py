"""`ghostwriter usage`: the usage ledger on disk (every server and command adds to it).

Today and this month: requests, tokens (prompt, of which prompt-cached, completion), disk-cache
hits and what they saved, and money; by model and by feature. `--json` for scripts.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from typing import Any

from lsp_server.commands.session import CommandError, ExitCode, load_settings
from lsp_server.commands.terminal import Terminal
from lsp_server.pricing import PriceTable
from lsp_server.usage import Tally
from lsp_server.usage_store import DailyStore, month_days


def run(args: argparse.Namespace, terminal: Terminal) -> int:
    settings, _ = load_settings(args.settings)
    currency = PriceTable.from_settings(settings.pricing).currency
    try:
        store = DailyStore(settings.cache_dir)
    except Exception as error:
        raise CommandError(ExitCode.FAILED, f"cannot open the usage store in {settings.cache_dir}: {error}") \
            from error
    try:
        report = usage_report(store, dt.date.today().isoformat(), currency)
    finally:
        store.close()
    print(json.dumps(report, indent=2) if args.json else render(report))
    return ExitCode.OK


def usage_report(store: DailyStore, today: str, currency: str) -> dict[str, Any]:
    month = month_days(today)
    by: dict[str, dict[str, Any]] = {}
    for kind in ("model", "feature"):
        todays, months = store.breakdown([today], kind), store.breakdown(month, kind)
        by[kind] = {name: {"today": todays.get(name, Tally()).wire(currency), "month": tally.wire(currency)}
                    for name, tally in sorted(months.items())}
    return {"day": today, "month": today[:7], "currency": currency,
            "today": store.total([today]).wire(currency), "thisMonth": store.total(month).wire(currency),
            "byModel": by["model"], "byFeature": by["feature"]}


def _line(name: str, tally: dict[str, Any]) -> str:
    tokens = tally["promptTokens"] + tally["completionTokens"]
    money = "price unknown" if tally["unpricedRequests"] and not tally["cost"] else \
        f"{tally['cost']:.4f} {tally['currency']}"
    return (f"{name:<24} {tally['requests']:>6} calls {tokens:>10,} tokens "
            f"({tally['cachedPromptTokens']:,} prompt-cached)  {tally['cacheHits']:>4} disk-cache hits "
            f"saving {tally['savedCost']:.4f}  {money}")


def render(report: dict[str, Any]) -> str:
    lines = [_line(f"today ({report['day']})", report["today"]),
             _line(f"this month ({report['month']})", report["thisMonth"])]
    for title, key in (("by model, this month", "byModel"), ("by feature, this month", "byFeature")):
        if report[key]:
            lines.append(f"\n{title}:")
            lines += [_line(f"  {name}", value["month"]) for name, value in report[key].items()]
    return "\n".join(lines)
