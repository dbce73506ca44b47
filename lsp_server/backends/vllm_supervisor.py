"""Starts, watches and restarts the bundled vLLM engine as a child process on 127.0.0.1.

The engine is never imported (torch would take seconds and gigabytes inside the language server);
it runs as `python -m vllm.entrypoints.openai.api_server` in its own process group, so stopping it
also stops its engine workers. The supervisor only produces a base URL and a state; requests go
through the ordinary OpenAI-compatible backend.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Callable, Sequence

from lsp_server.backends.vllm_checks import check_environment, health_ok, parallel_args, progress_hint

log = logging.getLogger(__name__)

__all__ = ["VllmSupervisor", "check_environment", "parallel_args"]

ProgressCallback = Callable[[str, "int | None"], None]


class VllmSupervisor:
    """States: stopped → starting → ready; a crash → restarting → ready, or → failed after too many."""

    def __init__(
        self,
        model: str,
        extra_args: Sequence[str] = (),
        *,
        python: str = sys.executable,
        host: str = "127.0.0.1",
        port: int | None = None,
        env: dict[str, str] | None = None,
        on_progress: ProgressCallback | None = None,
        on_state: Callable[[str], None] | None = None,
        command: Sequence[str] | None = None,
        health_timeout_s: float = 600.0,
        restart_backoff: Sequence[float] = (1, 2, 4, 8, 30),
        max_restarts: int = 5,
        restart_window_s: float = 600.0,
        stop_grace_s: float = 10.0,
        health_interval_s: float = 0.5,
    ) -> None:
        self.model = model
        self.host = host
        self.port = port or _free_port(host)
        # `command` replaces the launcher (python -m vllm...); the engine arguments are still appended.
        self._launcher = list(command or [python, "-m", "vllm.entrypoints.openai.api_server"])
        self._extra_args = list(extra_args)
        self._env = env
        self._on_progress = on_progress
        self._on_state = on_state
        self._health_timeout_s = health_timeout_s
        self._backoff = list(restart_backoff) or [1.0]
        self._max_restarts = max_restarts
        self._restart_window_s = restart_window_s
        self._stop_grace_s = stop_grace_s
        self._health_interval_s = health_interval_s
        self._state = "stopped"
        self._changed = asyncio.Event()
        self._proc: asyncio.subprocess.Process | None = None
        self._monitor: asyncio.Task[None] | None = None
        self._reader: asyncio.Task[None] | None = None
        self._crashes: collections.deque[float] = collections.deque()
        self._tail: collections.deque[str] = collections.deque(maxlen=200)
        self.last_error: str | None = None
        self.restarts = 0

    # -- public ----------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    @property
    def state(self) -> str:
        return self._state

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self._proc.returncode is None else None

    def argv(self) -> list[str]:
        return [
            *self._launcher,
            "--model", self.model,
            "--host", self.host,
            "--port", str(self.port),
            "--enable-prefix-caching",
            "--enable-prompt-tokens-details",
            "--served-model-name", self.model,
            *self._extra_args,
        ]  # fmt: skip

    def output_tail(self, lines: int = 20) -> str:
        return "\n".join(list(self._tail)[-lines:])

    async def start(self) -> None:
        """Spawn the engine and return; readiness is polled in the background (see wait_ready)."""
        if self._monitor is not None and not self._monitor.done():
            return
        self.last_error = None
        self._crashes.clear()
        self._set_state("starting")
        if await self._spawn():
            self._monitor = asyncio.create_task(self._supervise(), name="vllm-supervisor")

    async def wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self._state not in ("ready", "failed", "stopped"):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except asyncio.TimeoutError:
                return False
        return self._state == "ready"

    async def stop(self) -> None:
        monitor, self._monitor = self._monitor, None
        if monitor is not None:
            monitor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await monitor
        await self._kill()
        self._set_state("stopped")

    # -- supervision -----------------------------------------------------------------------------
    async def _supervise(self) -> None:
        try:
            while await self._wait_healthy():
                self._set_state("ready")
                self._progress("vLLM is ready", 100)
                assert self._proc is not None
                code = await self._proc.wait()
                if not await self._after_crash(f"vLLM stopped unexpectedly (exit code {code})"):
                    return
        except Exception as exc:  # a bug here must not leave the state stuck at "starting"
            log.exception("vLLM supervisor failed")
            await self._kill()
            self._fail(f"The vLLM supervisor failed: {exc}")

    async def _wait_healthy(self) -> bool:
        deadline = time.monotonic() + self._health_timeout_s
        while True:
            proc = self._proc
            assert proc is not None
            if proc.returncode is not None:
                reason = f"vLLM exited during startup (exit code {proc.returncode})"
                if not await self._after_crash(reason):
                    return False
                deadline = time.monotonic() + self._health_timeout_s
                continue
            if await health_ok(self.host, self.port):
                return True
            if time.monotonic() > deadline:
                await self._kill()
                self._fail(f"vLLM did not become ready within {self._health_timeout_s:g} s")
                return False
            await asyncio.sleep(self._health_interval_s)

    async def _after_crash(self, reason: str) -> bool:
        """Restart with backoff unless it keeps crashing; False when we gave up."""
        await self._kill()  # the engine workers may outlive the API process
        now = time.monotonic()
        self._crashes.append(now)
        while self._crashes and now - self._crashes[0] > self._restart_window_s:
            self._crashes.popleft()
        self.last_error = self._with_tail(reason)
        if len(self._crashes) > self._max_restarts:
            self._fail(
                f"vLLM crashed {len(self._crashes)} times in {self._restart_window_s:g} s and was not "
                f"restarted again. {self.last_error}"
            )
            return False
        delay = self._backoff[min(len(self._crashes), len(self._backoff)) - 1]
        log.warning("%s; restarting in %gs", reason, delay)
        self._set_state("restarting")
        self._progress(f"{reason}; restarting in {delay:g} s", None)
        await asyncio.sleep(delay)
        self.restarts += 1
        return await self._spawn()

    # -- the child process -----------------------------------------------------------------------
    async def _spawn(self) -> bool:
        self._tail.clear()
        env = {**os.environ, **(self._env or {})}
        self._progress(f"Starting vLLM for {self.model}", 0)
        try:
            # stdout is the LSP channel, so the child's output goes to a pipe we read, never to ours.
            self._proc = await asyncio.create_subprocess_exec(
                *self.argv(),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                env=env,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        except OSError as exc:
            self._fail(f"Could not start vLLM ({self._launcher[0]}): {exc.strerror or exc}")
            return False
        log.info("started vLLM pid %d on port %d", self._proc.pid, self.port)
        self._reader = asyncio.create_task(self._read_output(self._proc), name="vllm-output")
        return True

    async def _read_output(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout is not None
        async for raw in proc.stdout:
            line = raw.decode(errors="replace").rstrip()
            self._tail.append(line)
            hint = progress_hint(line)
            if hint is not None and self._state in ("starting", "restarting"):
                self._progress(*hint)

    async def _kill(self) -> None:
        """SIGTERM the whole process group, SIGKILL it after the grace period."""
        proc = self._proc
        if proc is None:
            return
        _signal_group(proc.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), self._stop_grace_s)
        except asyncio.TimeoutError:
            log.warning("vLLM pid %d ignored SIGTERM; killing it", proc.pid)
        # Also after a clean exit: workers left in the group would keep holding GPU memory.
        _signal_group(proc.pid, signal.SIGKILL)
        await proc.wait()
        if self._proc is proc:  # cleared only now, so a cancelled kill is finished by stop()
            self._proc = None
        if self._reader is not None:
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(self._reader, 1.0)

    # -- state -----------------------------------------------------------------------------------
    def _set_state(self, state: str) -> None:
        if state == self._state:
            return
        self._state = state
        # Wake every waiter, then hand out a fresh event for the next change.
        self._changed.set()
        self._changed = asyncio.Event()
        if self._on_state is not None:
            self._on_state(state)

    def _fail(self, message: str) -> None:
        self.last_error = message
        log.error("%s", message)
        self._set_state("failed")

    def _progress(self, message: str, percent: int | None) -> None:
        if self._on_progress is not None:
            self._on_progress(message, percent)

    def _with_tail(self, reason: str) -> str:
        lines = [line for line in self._tail if line.strip()]
        return f"{reason}: {lines[-1].strip()[:300]}" if lines else reason


def _die_with_parent() -> None:
    """Linux: have the kernel SIGTERM the engine if the language server dies without stopping it.

    An editor may kill the server outright; an orphaned engine would keep holding the GPU's memory.
    """
    if sys.platform != "linux":
        return
    import ctypes

    pr_set_pdeathsig = 1
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _signal_group(pid: int, sig: int) -> None:
    try:
        if hasattr(os, "killpg"):
            os.killpg(pid, sig)  # start_new_session made the child its group's leader
        else:  # pragma: no cover - Windows has no process groups of this kind
            os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])
