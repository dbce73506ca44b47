"""Structured JSON log lines to stderr or a file, never stdout (stdout is the LSP channel).

Callers attach fields with `extra={"fields": {...}}`, and code, prompts or completions with
`extra={"content": {...}}`: with `log.content` set to "omit" those are left out of every line
(only their sizes are kept); otherwise they are logged with their secrets redacted. The current
LSP request id is added from pygls' context variable when there is one. API keys the server
knows of are masked in every line, whatever carried them. Lines are formatted and written by a
writer thread: JSON formatting and a file write cost ~0.1 ms a line, which the keystroke path
should not pay.
"""

from __future__ import annotations

import atexit
import json
import logging
import logging.handlers
import queue
import sys
from collections.abc import Callable
from typing import Any


def _request_id_source() -> Any:
    return None


def set_request_id_source(source: Callable[[], Any]) -> None:
    """The server points this at its protocol's current message id."""
    global _request_id_source
    _request_id_source = source


_content_mode = "full"
_secrets: set[str] = set()


def set_content_mode(mode: str) -> None:
    """ "full": content fields are logged; "omit": they are replaced by their length."""
    global _content_mode
    _content_mode = mode


def add_secret(value: str | None) -> None:
    """A value (an API key) never to be written: masked in every line from now on."""
    if value and len(value) >= 8:  # a short value would mask ordinary words
        _secrets.add(value)


def mask_secrets(line: str) -> str:
    for secret in _secrets:
        if secret in line:
            line = line.replace(secret, "***")
    return line


def _redacted(value: Any) -> Any:
    from lsp_server.redact import redact  # (imported late: logging is set up before anything else loads)

    return redact(value)[0] if isinstance(value, str) else value


def _current_request_id() -> Any:
    try:
        return _request_id_source()
    except Exception:
        return None


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or _current_request_id()
        if request_id is not None:
            entry["request_id"] = request_id
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        content = getattr(record, "content", None)
        if isinstance(content, dict):
            if _content_mode == "omit":
                entry.update({f"{name}_chars": len(str(value)) for name, value in content.items()})
            else:  # even in full, secrets in code are logged as their placeholders
                entry.update({name: _redacted(value) for name, value in content.items()})
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return mask_secrets(json.dumps(entry, ensure_ascii=False, default=str))


class _HandOver(logging.handlers.QueueHandler):
    """Queues the record as it is, with the request id read now (the writer thread has no context)."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        record.request_id = _current_request_id()
        return record


_listener: logging.handlers.QueueListener | None = None


def setup_logging(level: str = "info", file: str = "") -> None:
    global _listener
    handler: logging.Handler = logging.FileHandler(file, encoding="utf-8") if file else logging.StreamHandler(
        sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    stop_logging()
    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    _listener = logging.handlers.QueueListener(records, handler)
    _listener.start()
    atexit.register(stop_logging)
    root.addHandler(_HandOver(records))
    root.setLevel(level.upper())
    # The HTTP stack logs every request at INFO; keep our lines readable.
    for noisy in ("httpx", "httpx2", "httpcore", "httpcore2", "openai", "pygls"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def stop_logging() -> None:
    """Write out what is queued and stop the writer thread (at exit, or before logging is set up again)."""
    global _listener
    if _listener is not None:
        _listener.stop()
        for handler in _listener.handlers:
            handler.close()
        _listener = None
