"""Loopback fakes for tests and benchmarks: an OpenAI-compatible server and a stand-in vLLM."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tests.fakes.openai_server import FakeOpenAIServer, LoggedRequest
from tests.fakes.rules import Rule

REPO_ROOT = Path(__file__).resolve().parents[2]

# Launcher prefix for VllmSupervisor(command=...): the supervisor appends --model/--host/--port.
STAND_IN_COMMAND = [sys.executable, "-m", "tests.fakes.stand_in_vllm"]


def child_env(**extra: str) -> dict[str, str]:
    """Environment for a child that must import `tests.fakes` whatever its working directory."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


__all__ = ["REPO_ROOT", "STAND_IN_COMMAND", "FakeOpenAIServer", "LoggedRequest", "Rule", "child_env"]
