"""A command with `backend.kind: vllm`: the bundled engine (a stand-in, no GPU here) is started on demand,
waited for, used, and stopped when the command ends."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.cli.conftest import entry_point
from tests.e2e.test_bundled_engine import fake_engine_env


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_complete_starts_the_bundled_engine_uses_it_and_stops_it(tmp_path: Path) -> None:
    env = fake_engine_env(tmp_path, startup_s=0.5)
    settings = {"backend": {"kind": "vllm", "vllm": {"model": "stand-in-coder", "python": sys.executable}},
                "completion": {"fimTemplate": "qwen", "postProcess": False}}  # the reply is no Python
    (tmp_path / "settings.json").write_text(json.dumps(settings))
    env.update(GHOSTWRITER_CONFIG=str(tmp_path / "settings.json"), GHOSTWRITER_CACHE_DIR=str(tmp_path / "cache"))
    env = {k: v for k, v in env.items() if k not in ("GHOSTWRITER_BASE_URL", "GHOSTWRITER_MODEL")}
    (tmp_path / "notes.py").write_text("def notes():\n    \n")
    done = subprocess.run([*entry_point(), "complete", "notes.py:2:5", "--json"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["completion"].strip() == "stand-in reply" and result["model"] == "stand-in-coder"
    pids = [int(line) for line in (tmp_path / "engine.pids").read_text().split()]
    assert len(pids) == 1 and not _alive(pids[0])  # started once, stopped with the command


async def test_complete_reuses_the_engine_of_a_running_server(tmp_path: Path) -> None:
    """A server already runs the bundled engine: the command uses it instead of starting a second one
    (minutes of startup, a second copy of the weights), and leaves it running for the server."""
    from tests.e2e.test_bundled_engine import engine_settings, start_server, stop, wait_for_state

    settings = {**engine_settings(tmp_path), "completion": {"fimTemplate": "qwen", "postProcess": False}}
    client = await start_server(tmp_path, settings, startup_s=0.3)
    try:
        ready = await wait_for_state(client, "ready")
        (tmp_path / "settings.json").write_text(json.dumps(settings))
        env = {k: v for k, v in fake_engine_env(tmp_path, startup_s=0.3).items()
               if k not in ("GHOSTWRITER_BASE_URL", "GHOSTWRITER_MODEL", "GHOSTWRITER_CACHE_DIR")}
        env["GHOSTWRITER_CONFIG"] = str(tmp_path / "settings.json")
        (tmp_path / "notes.py").write_text("def notes():\n    \n")
        done = subprocess.run([*entry_point(), "complete", "notes.py:2:5", "--json"], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["completion"].strip() == "stand-in reply"
        pids = [int(line) for line in (tmp_path / "engine.pids").read_text().split()]
        assert len(pids) == 1 and _alive(pids[0]), "one engine, the server's, still running"
        assert (await wait_for_state(client, "ready"))["engineUrl"] == ready["engineUrl"]
        await client.shutdown_session()
    finally:
        await stop(client)

