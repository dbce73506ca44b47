"""Log lines are JSON, written by a writer thread, with the request id of the moment they were logged."""

from __future__ import annotations

import json
import logging
import threading

from lsp_server import log


def test_lines_carry_fields_and_the_request_id_read_when_logged(tmp_path) -> None:
    current = {"id": 7}
    log.set_request_id_source(lambda: current["id"])
    path = tmp_path / "server.log"
    try:
        log.setup_logging("info", str(path))
        logging.getLogger("ghostwriter.test").info("model call", extra={"fields": {"feature": "completion"}})
        current["id"] = 8  # what the writer thread would see, had it read the id itself
        logging.getLogger("ghostwriter.test").debug("below the level")
    finally:
        log.stop_logging()
        log.set_request_id_source(lambda: None)
        logging.getLogger().handlers.clear()
    [line] = path.read_text().splitlines()
    entry = json.loads(line)
    assert (entry["msg"], entry["feature"], entry["request_id"], entry["level"]) == ("model call", "completion", 7,
                                                                                      "info")


def test_lines_are_written_off_the_calling_thread(tmp_path) -> None:
    writers: list[str] = []

    class Recording(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            writers.append(threading.current_thread().name)

    try:
        log.setup_logging("info", str(tmp_path / "server.log"))
        assert log._listener is not None
        log._listener.handlers = (*log._listener.handlers, Recording())
        logging.getLogger("ghostwriter.test").info("hello")
    finally:
        log.stop_logging()
        logging.getLogger().handlers.clear()
    assert writers and writers[0] != threading.current_thread().name


def _lines_logged(tmp_path, mode: str, secret: str = "") -> list[dict]:
    path = tmp_path / f"server-{mode}.log"
    try:
        log.set_content_mode(mode)
        log.add_secret(secret)
        log.setup_logging("debug", str(path))
        logger = logging.getLogger("ghostwriter.test")
        logger.debug("completion", extra={"content": {"raw": "def f():\n    return 42"}, "fields": {"ms": 3}})
        logger.warning("endpoint said: bad key %s", secret or "none")
    finally:
        log.stop_logging()
        log.set_content_mode("full")
        log._secrets.clear()
        logging.getLogger().handlers.clear()
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_content_is_logged_in_full_by_default(tmp_path) -> None:
    first, _ = _lines_logged(tmp_path, "full")
    assert first["raw"] == "def f():\n    return 42" and first["ms"] == 3


def test_content_omitted_leaves_only_its_size(tmp_path) -> None:
    first, _ = _lines_logged(tmp_path, "omit")
    assert "raw" not in first and first["raw_chars"] == 22 and first["ms"] == 3
    assert "return 42" not in json.dumps(first)


def test_a_known_api_key_is_masked_in_every_line(tmp_path) -> None:
    key = "sk-test-0123456789abcdefghij"
    lines = _lines_logged(tmp_path, "full", key)
    assert key not in json.dumps(lines) and "***" in lines[1]["msg"]
