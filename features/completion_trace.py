"""Per-request traces and acceptance statistics of inline completion.

A trace runs from the moment a request was read to the moment its response was written, with
marks from the job and the pipeline in between; the overhead benchmarks read its log record.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from features.completion_jobs import Job, JobBook

log = logging.getLogger("ghostwriter.completion")


class Trace:
    """Where one request's time went: the server's own overhead is everything but the model call.

    It runs from the moment the request was read to the moment its response was written; the
    absolute marks (perf_counter, CLOCK_MONOTONIC on Linux) let a benchmark line them up with
    the backend's own clock and count the HTTP client's time as ours too.
    """

    def __init__(self, arrived: float | None = None) -> None:
        self.started = arrived if arrived is not None else time.perf_counter()
        self.waited = 0.0
        """Seconds spent in the deliberate debounce sleep: not server work."""
        self.job: Job | None = None
        self.outcome = ""
        self.gated = 0.0
        self.answered = 0.0
        self.kind = ""

    def log(self, finished: float | None = None) -> None:
        finished = finished if finished is not None else time.perf_counter()
        fields: dict[str, Any] = {"outcome": self.outcome, "kind": self.kind,
                                  "total_ms": round((finished - self.started) * 1000, 3)}
        marks = self.job.timings if self.job is not None else {}
        if "sent" in marks and "received" in marks:
            fields["pre_ms"] = round((marks["sent"] - self.started - self.waited) * 1000, 3)
            fields["backend_ms"] = round((marks["received"] - marks["sent"]) * 1000, 3)
            fields["post_ms"] = round((finished - marks["received"]) * 1000, 3)
            fields["at"] = {"in": self.started, "waited": self.waited, "sent": marks["sent"],
                            "received": marks["received"], "out": finished}
            # Where the server's own time went, step by step (for the overhead benchmark).
            steps = [("gated", self.gated), *sorted(marks.items(), key=lambda item: item[1]),
                     ("answered", self.answered), ("out", finished)]
            previous = self.started
            for name, at in steps:
                if at:
                    fields[f"step_{name}_ms"] = round((at - previous) * 1000, 3)
                    previous = at
        log.info("inline completion", extra={"fields": fields})


class CompletionStats:
    def __init__(self) -> None:
        self.requests = 0
        self.shown = 0
        self.accepted = 0
        self.accepted_chars = 0
        self.gated: dict[str, int] = {}

    def wire(self, book: JobBook) -> dict[str, Any]:
        return {"requests": self.requests, "shown": self.shown, "accepted": self.accepted,
                "acceptedChars": self.accepted_chars, "modelCalls": book.model_calls,
                "typedAheadHits": book.reuse_hits, "gated": dict(self.gated),
                "acceptRate": round(self.accepted / self.shown, 3) if self.shown else None}
