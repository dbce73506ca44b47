"""VllmSupervisor driving the stand-in engine: startup, crash and restart, stop, giving up."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from lsp_server.backends.openai_compat import OpenAICompatBackend
from lsp_server.backends.vllm_supervisor import VllmSupervisor, check_environment, parallel_args
from tests.fakes import STAND_IN_COMMAND, child_env

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="process groups are POSIX")


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for its reaper counts as dead)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:  # no /proc: ask the kernel
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.fixture
async def make() -> AsyncIterator[Callable[..., VllmSupervisor]]:
    made: list[VllmSupervisor] = []

    def factory(states: list[str] | None = None, **env: str) -> VllmSupervisor:
        options: dict[str, Any] = {"restart_backoff": (0.05,), "stop_grace_s": 2.0, "health_interval_s": 0.05}
        sup = VllmSupervisor(
            "tiny-coder",
            ["--max-model-len", "4096"],
            command=STAND_IN_COMMAND,
            env=child_env(**env),
            on_state=states.append if states is not None else None,
            **options,
        )
        made.append(sup)
        return sup

    yield factory
    for sup in made:
        await sup.stop()


def test_default_command_is_the_local_openai_server() -> None:
    sup = VllmSupervisor("Qwen/Qwen2.5-Coder-1.5B", ["--max-model-len", "8192"], python="/py", port=8011)
    argv = sup.argv()
    assert argv[:3] == ["/py", "-m", "vllm.entrypoints.openai.api_server"]
    assert argv[argv.index("--host") + 1] == "127.0.0.1" and argv[argv.index("--port") + 1] == "8011"
    assert "--enable-prompt-tokens-details" in argv and "--enable-prefix-caching" in argv
    assert argv[-2:] == ["--max-model-len", "8192"]
    assert sup.base_url == "http://127.0.0.1:8011/v1" and sup.state == "stopped"


def test_parallel_args() -> None:
    assert parallel_args(1, 1, False) == []
    assert parallel_args(2, 4, True) == [
        "--tensor-parallel-size", "2", "--data-parallel-size", "4", "--enable-expert-parallel",
    ]  # fmt: skip
    with pytest.raises(ValueError):
        parallel_args(0, 1, False)


async def test_slow_start_goes_starting_then_ready_and_serves(make) -> None:
    states: list[str] = []
    progress: list[tuple[str, int | None]] = []
    sup = make(states, STAND_IN_STARTUP_S="0.6")
    sup._on_progress = lambda message, percent: progress.append((message, percent))
    await sup.start()
    assert sup.state == "starting"
    assert not await sup.wait_ready(0.2)
    assert await sup.wait_ready(10)
    assert states == ["starting", "ready"]
    assert ("Loading model weights", 10) in progress and progress[-1] == ("vLLM is ready", 100)
    backend = OpenAICompatBackend("vllm", sup.base_url, None, 5.0)
    assert await backend.list_models() == ["tiny-coder"]
    await backend.aclose()


async def test_killed_engine_is_restarted_with_a_new_process(make) -> None:
    states: list[str] = []
    sup = make(states)
    await sup.start()
    assert await sup.wait_ready(10)
    first = sup.pid
    assert first is not None
    os.kill(first, signal.SIGKILL)
    await _wait_for(lambda: sup.state == "restarting")
    assert await sup.wait_ready(10)
    assert states == ["starting", "ready", "restarting", "ready"]
    assert sup.pid not in (None, first) and sup.restarts == 1
    assert "exit code -9" in (sup.last_error or "")


async def test_stop_kills_the_whole_process_group(make, tmp_path: Path) -> None:
    worker_file = tmp_path / "worker.pid"
    sup = make(STAND_IN_WORKER_PID_FILE=str(worker_file), STAND_IN_IGNORE_SIGTERM="1")
    sup._stop_grace_s = 0.3  # SIGTERM is ignored: SIGKILL must follow
    await sup.start()
    assert await sup.wait_ready(10)
    engine, worker = sup.pid, int(worker_file.read_text())
    assert engine is not None and _alive(worker)
    await sup.stop()
    await _wait_for(lambda: not _alive(engine) and not _alive(worker))
    assert sup.state == "stopped" and sup.pid is None


async def test_too_many_crashes_end_in_failed_with_the_reason(make) -> None:
    states: list[str] = []
    sup = make(states, STAND_IN_STARTUP_S="5", STAND_IN_DIE_AFTER_S="0.05")
    sup._max_restarts = 2
    await sup.start()
    assert not await sup.wait_ready(10)
    assert sup.state == "failed" and states[-1] == "failed"
    assert "restarting" in states and sup.restarts == 2
    message = sup.last_error or ""
    assert "crashed 3 times" in message and "CUDA out of memory" in message


async def test_engine_that_never_gets_healthy_fails(make) -> None:
    sup = make(STAND_IN_STARTUP_S="30")
    sup._health_timeout_s = 0.4
    await sup.start()
    pid = sup.pid
    assert not await sup.wait_ready(10)
    assert sup.state == "failed" and "did not become ready within 0.4 s" in (sup.last_error or "")
    assert pid is not None and not _alive(pid)


def test_missing_vllm_gives_an_install_hint(tmp_path: Path) -> None:
    if check_environment(sys.executable) is None:
        pytest.skip("vLLM and a GPU are present here")
    message = check_environment(sys.executable) or ""
    if "vLLM is not installed" not in message:
        pytest.skip("vLLM is installed here")
    assert "pip install 'ghostwriter[vllm]'" in message
    assert "was not found" in (check_environment(str(tmp_path / "no-python")) or "")


def test_no_visible_gpu_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "vllm").mkdir()
    (tmp_path / "vllm" / "__init__.py").write_text("")  # importable, never imported
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert "No CUDA GPU is visible" in (check_environment(sys.executable) or "")


async def _wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    import asyncio

    for _ in range(int(timeout / 0.02)):
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached")


async def test_missing_interpreter_fails_at_once(tmp_path: Path) -> None:
    sup = VllmSupervisor("m", python=str(tmp_path / "no-python"))
    await sup.start()
    assert sup.state == "failed" and "Could not start vLLM" in (sup.last_error or "")
    assert not await sup.wait_ready(1)
