"""`refactor`: a diff by default; in place atomically, permissions kept, never half-written; several files."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import time
from pathlib import Path

from tests.cli.conftest import REPLACEMENT_REPLY, Cli, no_traceback
from tests.fakes.rules import Rule

SOURCE = "def add(a, b):\n    return a+b\n"
TYPED = "def add(a: int, b: int) -> int:\n    return a + b\n"
PAUSE = "GHOSTWRITER_TEST_PAUSE_BEFORE_RENAME_S"


def test_refactor_prints_a_unified_diff_and_leaves_the_file(cli: Cli) -> None:
    target = cli.home / "calc.py"
    target.write_text(SOURCE)
    cli.fake.set_rules([Rule(contains="<selection>", reply=REPLACEMENT_REPLY)])
    done = cli.run("refactor", "calc.py", "--rule", "types")
    assert done.returncode == 0 and no_traceback(done)
    assert target.read_text() == SOURCE
    assert done.stdout.startswith("--- a/calc.py\n+++ b/calc.py\n@@ -1,2 +1,2 @@\n")
    assert "-def add(a, b):\n-    return a+b\n+def add(a: int, b: int) -> int:\n+    return a + b\n" in done.stdout
    # The diff is a real patch: it applies to the file and gives the proposal.
    subprocess.run(["patch", "-p1", "-s"], input=done.stdout, text=True, cwd=cli.home, check=True)
    assert target.read_text() == TYPED
    (call,) = cli.model_calls()
    asked = call.body["messages"][-1]["content"]
    assert "Add precise type annotations" in asked and f"<selection>{SOURCE}</selection>" in asked


def test_refactor_in_place_several_files_each_with_its_own_result(cli: Cli) -> None:
    good, odd, same = cli.home / "good.py", cli.home / "odd.py", cli.home / "same.py"
    good.write_text(SOURCE)
    good.chmod(0o640)
    odd.write_text("def odd():\n    pass\n")
    same.write_text(TYPED)
    cli.fake.set_rules([Rule(contains="def odd", reply="I would rather not."),
                        Rule(contains="<selection>", reply=REPLACEMENT_REPLY)])
    done = cli.run("refactor", "good.py", "odd.py", "same.py", "--rule", "make it typed", "--in-place")
    assert done.returncode == 3 and no_traceback(done)  # one file failed; the others are done
    assert good.read_text() == TYPED and stat.S_IMODE(good.stat().st_mode) == 0o640
    assert odd.read_text() == "def odd():\n    pass\n" and same.read_text() == TYPED
    assert "refactored good.py" in done.stderr
    assert "odd.py: The model's answer did not contain a replacement" in done.stderr
    assert "same.py" not in done.stderr  # no change: nothing to say
    assert done.stdout == ""
    assert len(cli.model_calls()) == 3
    assert "make it typed" in json.dumps(cli.model_calls()[0].body)
    assert sorted(p.name for p in cli.home.iterdir()) == ["good.py", "odd.py", "same.py"]


def test_refactor_in_place_keeps_line_ends_and_follows_a_symlink(cli: Cli) -> None:
    real = cli.home / "real.py"
    real.write_bytes(b"def add(a, b):\r\n    return a+b\r\n")
    (cli.home / "link.py").symlink_to("real.py")
    cli.fake.set_rules([Rule(contains="<selection>", reply=json.dumps(
        {"replacement": "def add(a: int, b: int) -> int:\r\n    return a + b\r\n"}))])
    done = cli.run("refactor", "link.py", "--in-place")
    assert done.returncode == 0, done.stderr
    assert (cli.home / "link.py").is_symlink()
    assert real.read_bytes() == b"def add(a: int, b: int) -> int:\r\n    return a + b\r\n"


def _wait_for_temp(directory: Path, timeout: float = 30) -> list[Path]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        temps = list(directory.glob(".calc.py.*.ghostwriter-tmp"))
        if temps:
            return temps
        time.sleep(0.02)
    raise AssertionError("the temporary file never appeared")


def test_refactor_killed_mid_write_leaves_the_original_byte_for_byte(cli: Cli) -> None:
    target = cli.home / "calc.py"
    original = b"def add(a, b):\n    return a+b\n# \xc3\xa9t\xc3\xa9\n"
    target.write_bytes(original)
    cli.fake.set_rules([Rule(contains="<selection>", reply=REPLACEMENT_REPLY)])
    process = cli.popen("refactor", "calc.py", "--in-place", **{PAUSE: "60"})
    (temp,) = _wait_for_temp(cli.home)  # the new text is written and synced; the rename has not happened
    os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL
    assert target.read_bytes() == original
    # What a kill can leave is one hidden, clearly named temporary file: nothing that passes for the source.
    assert sorted(p.name for p in cli.home.iterdir()) == sorted(["calc.py", temp.name])
    assert temp.name.startswith(".calc.py.") and temp.name.endswith(".ghostwriter-tmp")


def test_refactor_interrupted_mid_write_cleans_up(cli: Cli) -> None:
    target = cli.home / "calc.py"
    target.write_text(SOURCE)
    cli.fake.set_rules([Rule(contains="<selection>", reply=REPLACEMENT_REPLY)])
    process = cli.popen("refactor", "calc.py", "--in-place", **{PAUSE: "60"})
    _wait_for_temp(cli.home)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 130 and "interrupted" in err and "Traceback" not in err
    assert target.read_text() == SOURCE
    assert [p.name for p in cli.home.iterdir()] == ["calc.py"]


def test_refactor_in_place_refuses_a_proposal_that_adds_eval(cli: Cli) -> None:
    target = cli.home / "calc.py"
    target.write_text(SOURCE)
    cli.fake.set_rules([Rule(contains="<selection>", reply=json.dumps(
        {"replacement": "def add(a, b):\n    return eval('a+b')\n"}))])
    done = cli.run("refactor", "calc.py", "--in-place")
    assert done.returncode == 3 and "not written: the proposal ⚠ uses eval()" in done.stderr
    assert target.read_text() == SOURCE
