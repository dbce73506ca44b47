"""A stand-in for `python -m vllm.entrypoints.openai.api_server`, for supervisor tests without a GPU.

It takes the engine's arguments (--model, --host, --port, --served-model-name; the rest are
ignored), prints log lines like the engine's, answers /health with 503 until a startup delay has
passed, then serves /v1/models and a trivial /v1/completions. Behaviour comes from env variables:

    STAND_IN_STARTUP_S        seconds before /health answers 200 (default 0.3)
    STAND_IN_STARTUP_MODE     "503" (default: listen and answer 503) or "refuse" (listen only when ready)
    STAND_IN_DIE_AFTER_S      exit with STAND_IN_EXIT_CODE (default 1) this many seconds after start
    STAND_IN_DIE_ON_FILE      exit likewise once this file exists (the file is removed first)
    STAND_IN_DEATH_MESSAGE    last line printed before dying (default: a CUDA out-of-memory error)
    STAND_IN_IGNORE_SIGTERM   "1": ignore SIGTERM, so only SIGKILL stops it
    STAND_IN_WORKER_PID_FILE  spawn an "engine worker" child in the same process group; write its pid here
    STAND_IN_PID_LOG          append this process's pid to this file (counts starts)
    STAND_IN_REPLY            the completion text (default " stand-in reply")
    STAND_IN_CHUNK_DELAY_MS   milliseconds between streamed pieces of it (default 0), so it can die mid-answer
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.fakes.openai_server import FakeOpenAIServer
from tests.fakes.rules import Rule


def _env_float(name: str) -> float | None:
    value = os.environ.get(name)
    return float(value) if value else None


def _die(code: int) -> None:
    message = os.environ.get("STAND_IN_DEATH_MESSAGE", "torch.OutOfMemoryError: CUDA out of memory (stand-in)")
    print(message, file=sys.stderr, flush=True)
    os._exit(code)  # like a crashed engine: no cleanup


def _spawn_worker(pid_file: str) -> None:
    # Inherits our process group, as vLLM's engine core and workers do.
    worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])
    Path(pid_file).write_text(str(worker.pid))


def _should_die(started: float) -> bool:
    die_after = _env_float("STAND_IN_DIE_AFTER_S")
    if die_after is not None and time.monotonic() - started >= die_after:
        return True
    marker = os.environ.get("STAND_IN_DIE_ON_FILE")
    if marker and Path(marker).exists():
        Path(marker).unlink(missing_ok=True)
        return True
    return False


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--served-model-name")
    args, _ignored = parser.parse_known_args(argv)
    started = time.monotonic()
    if os.environ.get("STAND_IN_IGNORE_SIGTERM") == "1":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if pid_log := os.environ.get("STAND_IN_PID_LOG"):
        with open(pid_log, "a") as f:
            f.write(f"{os.getpid()}\n")
    if pid_file := os.environ.get("STAND_IN_WORKER_PID_FILE"):
        _spawn_worker(pid_file)

    print(f"INFO stand-in: Starting to load model {args.model}...", flush=True)
    name = args.served_model_name or args.model
    delay_ms = _env_float("STAND_IN_CHUNK_DELAY_MS") or 0.0
    rule = Rule(reply=os.environ.get("STAND_IN_REPLY", " stand-in reply"), chunk_chars=2 if delay_ms else None,
                chunk_delay_ms=delay_ms)
    server = FakeOpenAIServer([rule], models=[name], host=args.host, port=args.port)
    startup = _env_float("STAND_IN_STARTUP_S") or 0.3
    refuse = os.environ.get("STAND_IN_STARTUP_MODE") == "refuse"
    if not refuse:
        server.health_status = 503
        server.start()
    while time.monotonic() - started < startup:
        if _should_die(started):
            _die(int(os.environ.get("STAND_IN_EXIT_CODE", "1")))
        time.sleep(0.02)
    if refuse:
        server.start()
    server.health_status = 200
    print(f"INFO stand-in: Starting vLLM API server on http://{args.host}:{args.port}", flush=True)
    while not _should_die(started):
        time.sleep(0.02)
    _die(int(os.environ.get("STAND_IN_EXIT_CODE", "1")))


if __name__ == "__main__":
    main()
