"""The token-cost status item: `ghostwriter/usage` notifications and the usage commands.

The ledger (lsp_server/usage.py) is fed by the pipeline; this module only shows it. A watcher
compares the summary four times a second and pushes it when it changed, at most once a second,
so a burst of keystrokes costs one notification, not fifty. Daily totals persist in the cache
dir (lsp_server/usage_store.py, shared safely by several server processes and the command line).
With the bundled engine, the same watcher reads the engine's prefix-cache counters every few
seconds (never on the keystroke path).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from lsp_server import protocol
from lsp_server.backends.engine_metrics import EngineCacheMeter
from lsp_server.feature import Feature
from lsp_server.services import Services
from lsp_server.usage import UsageRecord
from lsp_server.usage_store import DailyStore

log = logging.getLogger("ghostwriter.usage")
PUSH_INTERVAL_S = 1.0
POLL_INTERVAL_S = 0.25
ENGINE_POLL_INTERVAL_S = 2.0  # the hit rate moves slowly; each read costs the engine a metrics render
def usage_line(summary: dict[str, Any]) -> str:
    """One line for a status bar: today's tokens, prompt-cache share and money."""
    today = summary["today"]
    tokens = today["promptTokens"] + today["completionTokens"]
    cached = today["cachedPromptTokens"] / today["promptTokens"] if today["promptTokens"] else 0.0
    if today["unpricedRequests"] and not today["cost"]:
        money = "price unknown"
    else:
        money = f"{today['cost']:.4f} {today['currency']}"
    estimated = today.get("estimatedRequests", 0)
    # Figures the endpoint never reported are ours: say so rather than present them as billed.
    approx = "~" if estimated else ""
    line = f"today {approx}{tokens:,} tokens, {cached:.0%} cached, {approx}{money}"
    if estimated:
        line += f" ({estimated} of {today['requests']} calls estimated)"
    line += f"; {today['cacheHits']} disk-cache hits"
    redacted = today.get("redactedSpans", 0)
    return line + (f"; {redacted} secrets redacted" if redacted else "")


class UsageProgress:
    """Usage as work-done progress for clients without a status item: begun while calls run, ended idle."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.token: str | None = None

    def show(self, summary: dict[str, Any]) -> None:
        client = self.services.client
        if not self.services.settings.status.progress or not client.shows_progress:
            return
        line = usage_line(summary)
        if summary["state"] == protocol.STATE_BUSY:
            if self.token is None:
                self.token = f"ghostwriter-usage-{time.monotonic_ns()}"
                client.progress.create(self.token)
                client.progress.begin(self.token, types.WorkDoneProgressBegin(title="Ghostwriter", message=line))
            else:
                client.progress.report(self.token, types.WorkDoneProgressReport(message=line))
        elif self.token is not None:
            client.progress.end(self.token, types.WorkDoneProgressEnd(message=line))
            self.token = None


class CostStatus(Feature):
    name = "cost_status"

    def __init__(self, services: Services) -> None:
        self.services = services
        self.store: DailyStore | None = None
        self.last_sent: str = ""
        self.last_sent_at = 0.0
        self.watcher: asyncio.Task[None] | None = None
        # Records not yet on disk, by day. They are written with the watcher's tick (4 times a
        # second), not per call: a transaction per keystroke costs the keystroke ~1 ms of CPU.
        self.unsaved: dict[str, list[UsageRecord]] = {}
        self.meter: EngineCacheMeter | None = None  # created once a bundled engine is ready
        self.progress = UsageProgress(services)
        self.meter_read_at = float("-inf")

    def initialized(self) -> None:
        try:
            self.store = DailyStore(self.services.settings.cache_dir)
            self.services.ledger.load_today(self.store.load(self.services.ledger.day))
        except Exception as exc:  # usage still counts for the session without the disk
            log.warning("cannot open the usage store: %s", exc)
        self.services.pipeline.listeners.append(self.on_record)
        if self.watcher is None:
            self.watcher = self.services.run_task(self.watch(), "usage watcher")

    def on_record(self, record: UsageRecord) -> None:
        self.services.backend_problem = ""  # a call went through: the backend is fine again
        if self.store is not None:
            self.unsaved.setdefault(self.services.ledger.day, []).append(record)

    async def save(self) -> None:
        """Write the records not yet on disk (also at shutdown, so a clean exit loses none)."""
        unsaved, self.unsaved = self.unsaved, {}
        for day, records in unsaved.items():
            if self.store is None:
                return
            try:
                totals = await asyncio.to_thread(self.store.add, day, records)
            except Exception as exc:  # the session's own figures still count without the disk
                log.warning("cannot save usage: %s", exc)
                continue
            # Other processes add to the same day: today's figure is the store's, not just ours.
            if day == self.services.ledger.day:
                self.services.ledger.load_today(totals)
                for pending in self.unsaved.get(day, []):  # recorded while this write was under way
                    self.services.ledger.today.add(pending)

    async def watch(self) -> None:
        while True:
            await asyncio.sleep(POLL_INTERVAL_S)
            if self.unsaved:
                await self.save()
            await self.read_engine()
            self.push_if_changed()

    def ready_engine(self) -> Any:
        """The bundled engine's supervisor while it serves; None otherwise (remote backends have no counters)."""
        router = self.services.router
        if router.kind != "vllm" or getattr(router.supervisor, "state", "") != "ready":
            return None
        return router.supervisor

    async def read_engine(self) -> None:
        supervisor = self.ready_engine()
        now = time.monotonic()
        if supervisor is None or now - self.meter_read_at < ENGINE_POLL_INTERVAL_S:
            return
        self.meter_read_at = now
        if self.meter is None:
            self.meter = EngineCacheMeter()
        await self.meter.poll(supervisor.base_url)  # bounded by its timeout; failures keep the last figures

    async def close(self) -> None:
        if self.meter is not None:
            await self.meter.aclose()

    def push_if_changed(self, force: bool = False) -> None:
        summary = self.summary()
        encoded = json.dumps(summary, sort_keys=True)
        now = time.monotonic()
        if not force and (encoded == self.last_sent or now - self.last_sent_at < PUSH_INTERVAL_S):
            return
        self.last_sent, self.last_sent_at = encoded, now
        self.services.client.notify(protocol.USAGE_NOTIFICATION, summary)
        self.progress.show(summary)

    def summary(self) -> dict[str, Any]:
        ledger = self.services.ledger
        currency = ledger.prices.currency
        budget = ledger.budget()
        state, message = self.state(budget.exceeded, budget.message)
        last = ledger.last
        summary: dict[str, Any] = {
            "session": ledger.session.wire(currency),
            "today": ledger.today.wire(currency),
            "last": None if last is None else {
                "feature": last.feature, "model": last.model, "promptTokens": last.promptTokens,
                "cachedPromptTokens": last.cachedPromptTokens, "completionTokens": last.completionTokens,
                "durationMs": last.durationMs, "cost": last.cost, "fromCache": last.fromCache,
                "priceKnown": last.cost is not None, "currency": last.currency,
                "estimated": last.estimated, "redactedSpans": last.redactedSpans,
            },
            "budget": {"unit": budget.unit, "dailyLimit": budget.dailyLimit, "sessionLimit": budget.sessionLimit,
                       "dailyUsed": budget.dailyUsed, "sessionUsed": budget.sessionUsed,
                       "exceeded": budget.exceeded},
            "byFeature": {k: v.wire(currency) for k, v in sorted(ledger.by_feature.items())},
            "state": state,
            "message": message,
            "backend": self.services.router.describe(),
            "engineUrl": getattr(self.services.router.supervisor, "base_url", ""),
            "engine": self.engine_summary(),
        }
        summary["line"] = usage_line(summary)  # the status text, estimates and redactions marked
        return summary

    def engine_summary(self) -> dict[str, Any] | None:
        """Prefix-cache figures of the bundled engine; None when there is none or it was never read."""
        if self.meter is None or self.services.router.kind != "vllm":
            return None
        return self.meter.wire()

    def state(self, paused: bool, budget_message: str) -> tuple[str, str]:
        if paused:
            return protocol.STATE_PAUSED, f"Automatic completions paused: {budget_message}"
        error = self.services.backend_problem
        if error:
            return protocol.STATE_ERROR, str(error)
        supervisor = self.services.router.supervisor
        if supervisor is not None and getattr(supervisor, "state", "") in ("starting", "restarting"):
            return protocol.STATE_BUSY, "The bundled vLLM engine is starting"
        if self.services.pipeline.in_flight:
            return protocol.STATE_BUSY, ""
        return protocol.STATE_READY, ""

    async def shutdown(self) -> None:
        await self.save()
        await self.close()

    def register(self, server: LanguageServer) -> None:
        @server.command(protocol.CMD_SHOW_USAGE)
        def show_usage(*args: Any) -> dict[str, Any]:
            return self.summary()

        @server.command(protocol.CMD_RESET_USAGE)
        def reset_usage(*args: Any) -> dict[str, Any]:
            self.services.ledger.reset()
            self.push_if_changed(force=True)
            return self.summary()

        @server.command(protocol.CMD_SHOW_LAST_PROMPT)
        def show_last_prompt(*args: Any) -> str:
            return self.services.pipeline.last_prompt
