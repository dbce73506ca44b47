"""The `ghostwriter` command line as scripts and CI run it: the installed entry point as a subprocess,
the loopback fake backend, a fresh settings file, cache and usage store per test."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from lsp_server.settings_codec import merge_dicts
from tests.fakes import REPO_ROOT
from tests.fakes.openai_server import FakeOpenAIServer

MODEL = "qwen2.5-coder-1.5b"
REPLACEMENT_REPLY = json.dumps({"replacement": "def add(a: int, b: int) -> int:\n    return a + b\n",
                                "explanation": "typed"})


def entry_point() -> list[str]:
    """The installed `ghostwriter` script (what users run); the module where only a checkout exists."""
    script = Path(sys.executable).with_name("ghostwriter")
    return [str(script)] if script.exists() else [sys.executable, "-m", "lsp_server"]


@dataclass
class Cli:
    fake: FakeOpenAIServer
    home: Path
    """The project directory commands run in."""
    env: dict[str, str]

    def settings(self, **overrides: Any) -> None:
        base = {"backend": {"baseUrl": self.fake.url, "model": MODEL}, "completion": {"fimTemplate": "qwen"}}
        (self.home.parent / "settings.json").write_text(json.dumps(merge_dicts(base, overrides)))

    def run(self, *args: str, stdin: str | None = None, timeout: float = 60,
            **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*entry_point(), *args], cwd=self.home, env={**self.env, **env}, input=stdin,
                              capture_output=True, text=True, timeout=timeout)

    def popen(self, *args: str, **env: str) -> subprocess.Popen[str]:
        return subprocess.Popen([*entry_point(), *args], cwd=self.home, env={**self.env, **env},
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def model_calls(self) -> list[Any]:
        return [r for r in self.fake.requests if r.path in ("/v1/completions", "/v1/chat/completions")]

    def sent_text(self) -> str:
        return "\n".join(json.dumps(r.body) for r in self.fake.requests)


@pytest.fixture
def cli(tmp_path: Path) -> Iterator[Cli]:
    home = tmp_path / "project"
    home.mkdir()
    env = {key: value for key, value in os.environ.items() if not key.startswith("GHOSTWRITER_")}
    env.update({"GHOSTWRITER_CONFIG": str(tmp_path / "settings.json"), "GHOSTWRITER_CACHE_DIR": str(tmp_path / "cache"),
                "PYTHONPATH": str(REPO_ROOT), "NO_COLOR": "1"})
    with FakeOpenAIServer(models=[MODEL], zero_latency=True) as fake:
        runner = Cli(fake, home, env)
        runner.settings()
        yield runner


def no_traceback(done: subprocess.CompletedProcess[str]) -> bool:
    return "Traceback" not in done.stderr and "Traceback" not in done.stdout


def has_git() -> bool:
    return shutil.which("git") is not None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/cli/" in item.nodeid.replace("\\", "/"):
            item.add_marker(pytest.mark.cli)
