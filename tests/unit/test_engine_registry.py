"""The announcement of a server's bundled engine, as commands find it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import pytest

from lsp_server.backends.engine_registry import EngineRecord, announce, find, withdraw

ARGS = ("--max-model-len", "8192")


def record(pid: int = os.getpid(), model: str = "coder", args: tuple[str, ...] = ARGS) -> EngineRecord:
    return EngineRecord(pid, "http://127.0.0.1:8011/v1", model, args)


def gone_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.mark.parametrize(("model", "args", "found"), [
    ("coder", ARGS, True),
    ("other", ARGS, False),  # another model: a command must not borrow it
    ("coder", (*ARGS, "--enforce-eager"), False),  # other engine arguments
    ("coder", (), False),
])
def test_find_matches_model_and_arguments(tmp_path: Path, model: str, args: tuple[str, ...], found: bool) -> None:
    announce(tmp_path, record())
    assert (find(tmp_path, model, args) == record()) is found


def test_a_record_whose_server_is_gone_is_removed(tmp_path: Path) -> None:
    stale = announce(tmp_path, record(pid=gone_pid()))
    assert stale is not None and stale.exists()
    assert find(tmp_path, "coder", ARGS) is None
    assert not stale.exists()


def test_unreadable_records_are_skipped_and_removed(tmp_path: Path) -> None:
    (tmp_path / "1.json").write_text("{not json")
    (tmp_path / "2.json").write_text(json.dumps({"owner_pid": 2}))
    (tmp_path / "99999999.json").write_text(json.dumps(asdict(record(pid=gone_pid()))))
    announce(tmp_path, record())  # sorts before or after the others, whatever this pid is
    assert find(tmp_path, "coder", ARGS) == record()
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{os.getpid()}.json"]


def test_withdraw_removes_the_record_and_tolerates_none(tmp_path: Path) -> None:
    path = announce(tmp_path, record())
    withdraw(path)
    withdraw(path)  # twice: already gone
    withdraw(None)
    assert find(tmp_path, "coder", ARGS) is None


def test_no_registry_folder_means_no_engine(tmp_path: Path) -> None:
    assert find(tmp_path / "missing", "coder", ARGS) is None


def test_announce_reports_a_disk_that_refuses(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert announce(blocker / "engines", record()) is None
