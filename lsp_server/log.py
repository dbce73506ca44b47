"""Structured JSON log lines to stderr or a file, never stdout (stdout is the LSP channel).

Callers attach fields with `extra={"fields": {...}}`; the current LSP request id is added from
pygls' context variable when there is one.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable
from typing import Any


def _request_id_source() -> Any:
    return None


def set_request_id_source(source: Callable[[], Any]) -> None:
    """The server points this at its protocol's current message id."""
    global _request_id_source
    _request_id_source = source


def _current_request_id() -> Any:
    try:
        return _request_id_source()
    except Exception:
        return None


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": round(time.time(), 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        request_id = _current_request_id()
        if request_id is not None:
            entry["request_id"] = request_id
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def setup_logging(level: str = "info", file: str = "") -> None:
    handler: logging.Handler = logging.FileHandler(file, encoding="utf-8") if file else logging.StreamHandler(
        sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # The HTTP stack logs every request at INFO; keep our lines readable.
    for noisy in ("httpx", "httpx2", "httpcore", "httpcore2", "openai", "pygls"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
