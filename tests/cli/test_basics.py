"""--version, help, bad arguments and Ctrl-C: what a person meets first."""

from __future__ import annotations

import signal

import pytest

from tests.cli.conftest import Cli, no_traceback
from tests.fakes.rules import Rule


def test_version(cli: Cli) -> None:
    done = cli.run("--version")
    assert done.returncode == 0 and done.stdout.startswith("ghostwriter 0.") and "Python" in done.stdout


def test_help_lists_every_command_and_help_command_shows_one(cli: Cli) -> None:
    listing = cli.run("help")
    assert listing.returncode == 0
    for name in ("serve", "doctor", "complete", "explain", "refactor", "review", "usage", "help"):
        assert name in listing.stdout
    one = cli.run("help", "refactor")
    assert one.returncode == 0 and "--in-place" in one.stdout and "Exit status" in one.stdout


@pytest.mark.parametrize(("args", "fragment"), [
    (["complete", "main.py"], "'main.py' is not FILE:LINE:COL"),
    (["complete", "main.py:0:1"], "LINE must be a number from 1"),
    (["explain", "main.py:9-3"], "the range ends before it starts"),
    (["refactor"], "the following arguments are required: FILE"),
    (["refactor", "main.py", "--diff", "--in-place"], "not allowed with argument"),
    (["review", "--fail-on", "sometimes"], "invalid choice: 'sometimes'"),
    (["help", "frobnicate"], "invalid choice: 'frobnicate'"),
    (["usage", "--bogus"], "unrecognized arguments: --bogus"),
])
def test_bad_arguments_are_one_line_and_the_usage(cli: Cli, args: list[str], fragment: str) -> None:
    done = cli.run(*args)
    assert done.returncode == 2 and no_traceback(done)
    first, *rest = done.stderr.splitlines()
    assert fragment in first and first.startswith(f"ghostwriter {args[0]}: error:")
    assert rest and rest[0].startswith(f"usage: ghostwriter {args[0]}")
    assert done.stdout == ""


def test_a_missing_file_is_named(cli: Cli) -> None:
    done = cli.run("explain", "nowhere.py")
    assert done.returncode == 2 and no_traceback(done)
    assert done.stderr.strip() == "ghostwriter explain: cannot read nowhere.py: No such file or directory"
    assert cli.model_calls() == []


def test_ctrl_c_stops_cleanly_with_130(cli: Cli) -> None:
    (cli.home / "main.py").write_text("def add(a, b):\n    return a + b\n")
    cli.fake.script.zero_latency = False  # the delay below is real: the answer never comes in time
    cli.fake.set_rules([Rule(reply="slow", delay_ms=60_000)])
    process = cli.popen("explain", "main.py")
    assert cli.fake.wait_for(lambda log: any("chat" in r.path for r in log), timeout=30)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 130
    assert err.strip().endswith("ghostwriter explain: interrupted") and "Traceback" not in err
    assert out == ""
    assert cli.fake.wait_for_disconnect(timeout=10)  # the model call was aborted, not left running
