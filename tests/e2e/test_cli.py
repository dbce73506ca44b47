"""The `ghostwriter` command as a newcomer meets it: real processes, real stdin, the loopback fake backend."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import MODEL
from tests.fakes import REPO_ROOT
from tests.fakes.openai_server import FakeOpenAIServer

pytestmark = pytest.mark.e2e


def cli_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("GHOSTWRITER_")}
    return {**env, "PYTHONPATH": str(REPO_ROOT), "GHOSTWRITER_CONFIG": os.devnull,
            "GHOSTWRITER_CACHE_DIR": str(tmp_path / "cache"), **extra}


def ghostwriter(args: list[str], env: dict[str, str], module: str = "lsp_server",
                stdin: Any = subprocess.DEVNULL) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", module, *args], env=env, cwd=REPO_ROOT, stdin=stdin,
                          capture_output=True, text=True, timeout=60)


def test_serve_with_stdin_at_dev_null_explains_and_exits(tmp_path: Path) -> None:
    done = ghostwriter(["serve"], cli_env(tmp_path))
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and "PermissionError" not in done.stderr
    assert "/dev/null" in done.stderr and "--tcp" in done.stderr
    # No backend anywhere: the plain-words hint, not a JSON warning.
    assert "GHOSTWRITER_BASE_URL" in done.stderr and "ghostwriter doctor" in done.stderr
    assert '"level": "warning"' not in done.stderr


def test_a_port_in_use_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = ghostwriter(["serve", "--tcp", f"127.0.0.1:{port}"], cli_env(tmp_path))
    assert done.returncode == 1
    assert done.stderr.strip() == (f"ghostwriter serve: error: cannot listen on 127.0.0.1:{port}: "
                                   "Address already in use; pick another port or stop the process using it")


@pytest.mark.parametrize(("args", "fragment"), [
    (["serve", "--log-level", "loud"], "argument --log-level: 'loud' is not a log level"),
    (["serve", "--tcp", "nonsense"], "argument --tcp: 'nonsense' is not HOST:PORT"),
    (["serve", "--exclude", "bogus"], "no feature named 'bogus'"),
])
def test_bad_arguments_exit_2_with_one_line_and_the_usage(tmp_path: Path, args: list[str], fragment: str) -> None:
    done = ghostwriter(args, cli_env(tmp_path))
    assert done.returncode == 2
    first, *rest = done.stderr.splitlines()
    assert fragment in first and rest and rest[0].startswith("usage: ghostwriter")


def test_module_cli_runs_and_knows_its_version(tmp_path: Path) -> None:
    done = ghostwriter(["--version"], cli_env(tmp_path), module="lsp_server.cli")
    assert done.returncode == 0 and done.stdout.startswith("ghostwriter ")


def frame(message: dict[str, Any]) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def read_message(stream: Any) -> dict[str, Any]:
    length = 0
    while (line := stream.readline().strip()):
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            length = int(value)
    return json.loads(stream.read(length))


def test_initialization_options_backend_gets_no_false_warning(tmp_path: Path) -> None:
    """Started by an editor (pipes) with an empty environment and the backend in initializationOptions."""
    with FakeOpenAIServer(models=[MODEL]) as fake:
        options = {"backend": {"kind": "openai", "baseUrl": fake.url, "model": MODEL}}
        server = subprocess.Popen([sys.executable, "-m", "lsp_server.cli", "serve"], env=cli_env(tmp_path),
                                  cwd=REPO_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        assert server.stdin is not None and server.stdout is not None and server.stderr is not None
        server.stdin.write(frame({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "processId": None, "capabilities": {}, "initializationOptions": options}}))
        server.stdin.flush()
        reply = read_message(server.stdout)
        for message in ({"jsonrpc": "2.0", "method": "initialized", "params": {}},
                        {"jsonrpc": "2.0", "id": 2, "method": "shutdown"}):
            server.stdin.write(frame(message))
            server.stdin.flush()
        while read_message(server.stdout).get("id") != 2:
            pass
        server.stdin.write(frame({"jsonrpc": "2.0", "method": "exit"}))
        server.stdin.close()
        server.wait(timeout=30)
        stderr = server.stderr.read().decode()
    assert "inlineCompletionProvider" in reply["result"]["capabilities"]
    assert "No model backend" not in stderr and "has no model backend" not in stderr
    assert '"level": "warning"' not in stderr and '"level": "error"' not in stderr
    assert "no backend in the environment or the settings file" in stderr  # said at info level


def run_doctor(tmp_path: Path, settings: dict[str, Any] | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    args = ["doctor"] + (["--settings", json.dumps(settings)] if settings is not None else [])
    return ghostwriter(args, cli_env(tmp_path, **env))


def test_doctor_reports_a_config_path_that_points_nowhere(tmp_path: Path) -> None:
    with FakeOpenAIServer(models=[MODEL]) as fake:
        missing = tmp_path / "nowhere" / "settings.json"
        done = run_doctor(tmp_path, {"backend": {"baseUrl": fake.url, "model": MODEL}},
                          GHOSTWRITER_CONFIG=str(missing))
    assert done.returncode == 1
    assert f"✗ $GHOSTWRITER_CONFIG names {missing}, which does not exist" in done.stdout
    assert "ready to serve" not in done.stdout


def test_doctor_names_the_settings_file_it_read(tmp_path: Path) -> None:
    with FakeOpenAIServer(models=[MODEL]) as fake:
        config = tmp_path / "settings.json"
        config.write_text(json.dumps({"ghostwriter": {"backend": {"baseUrl": fake.url, "model": MODEL}}}))
        done = run_doctor(tmp_path, GHOSTWRITER_CONFIG=str(config))
    assert done.returncode == 0, done.stdout
    assert f"• settings file: {config} (from $GHOSTWRITER_CONFIG)" in done.stdout
    assert done.stdout.rstrip().endswith("✓ ready to serve")


def test_doctor_missing_key_is_not_ready(tmp_path: Path) -> None:
    with FakeOpenAIServer(models=[MODEL]) as fake:
        done = run_doctor(tmp_path, {"backend": {"baseUrl": fake.url, "model": MODEL, "apiKeyEnv": "GW_ABSENT_KEY"}})
    assert done.returncode == 1
    assert "✗ API key: environment variable GW_ABSENT_KEY is not set" in done.stdout
    assert "ready to serve" not in done.stdout and "✗ not ready" in done.stdout


def test_doctor_offers_the_models_the_endpoint_lists(tmp_path: Path) -> None:
    with FakeOpenAIServer(models=[MODEL, "llama3.2:3b"]) as fake:
        done = run_doctor(tmp_path, {"backend": {"baseUrl": fake.url, "model": "qwen2.5-coder"}})
    assert done.returncode == 1
    assert f"did you mean '{MODEL}'?" in done.stdout
    assert f"the backend lists: {MODEL}, llama3.2:3b" in done.stdout


def test_doctor_with_unreadable_settings_argument_exits_2(tmp_path: Path) -> None:
    done = ghostwriter(["doctor", "--settings", "{not json"], cli_env(tmp_path))
    assert done.returncode == 2 and "cannot read --settings" in done.stdout
