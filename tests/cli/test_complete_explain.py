"""`complete` and `explain` through the server's own pipeline, against the fake backend."""

from __future__ import annotations

import json

from tests.cli.conftest import MODEL, Cli, no_traceback
from tests.fakes.rules import Rule

SOURCE = "def add(a, b):\n    \n\n\ndef sub(a, b):\n    return a - b\n"


def test_complete_prints_the_completion_only(cli: Cli) -> None:
    (cli.home / "calc.py").write_text(SOURCE)
    cli.fake.set_rules([Rule(endpoint="completions", reply="return a + b")])
    done = cli.run("complete", "calc.py:2:5")
    assert done.returncode == 0 and no_traceback(done)
    assert done.stdout == "return a + b"  # piped: exactly the text, nothing added
    assert done.stderr == ""
    (call,) = cli.model_calls()
    prompt = call.body["prompt"]
    assert call.path == "/v1/completions" and "<|fim_prefix|>" in prompt  # the FIM prompt the feature builds
    assert prompt.index("def add(a, b):") < prompt.index("<|fim_suffix|>") < prompt.index("def sub")


def test_complete_json_reports_tokens_cache_and_cost(cli: Cli) -> None:
    (cli.home / "calc.py").write_text(SOURCE)
    cli.settings(pricing={MODEL: {"inputPer1M": 1.0, "outputPer1M": 2.0}})
    cli.fake.set_rules([Rule(endpoint="completions", reply="return a + b",
                             usage={"prompt_tokens": 1000, "completion_tokens": 500, "cached_tokens": 0})])
    first = json.loads(cli.run("complete", "calc.py:2:5", "--json").stdout)
    assert first["completion"] == "return a + b" and first["model"] == MODEL
    assert first["tokens"]["prompt"] == 1000 and first["tokens"]["completion"] == 500
    assert first["cacheHit"] is False and first["cost"] == 0.002 and first["currency"] == "USD"
    second = json.loads(cli.run("complete", "calc.py:2:5", "--json").stdout)
    assert second["completion"] == "return a + b"
    assert second["cacheHit"] is True and second["cost"] == 0.0 and second["savedCost"] == 0.002
    assert len(cli.model_calls()) == 1  # the disk cache answered the second process


def test_complete_past_the_end_is_a_bad_argument(cli: Cli) -> None:
    (cli.home / "calc.py").write_text(SOURCE)
    done = cli.run("complete", "calc.py:40:1")
    assert done.returncode == 2 and "calc.py:40: the file has 7 lines" in done.stderr and no_traceback(done)


def test_explain_lines_prints_markdown(cli: Cli) -> None:
    (cli.home / "calc.py").write_text(SOURCE)
    cli.fake.set_rules([Rule(contains="Explain", reply="Subtracts **b** from `a`.")])
    done = cli.run("explain", "calc.py:5-6")
    assert done.returncode == 0 and done.stdout == "Subtracts **b** from `a`.\n"
    (call,) = cli.model_calls()
    asked = call.body["messages"][-1]["content"]
    assert "def sub(a, b):\n    return a - b" in asked and "def add" not in asked
    assert "Markdown" in asked


def test_explain_a_backend_failure_is_one_line(cli: Cli) -> None:
    (cli.home / "calc.py").write_text(SOURCE)
    cli.fake.set_rules([Rule(status=401, error_message="bad key")])
    done = cli.run("explain", "calc.py")
    assert done.returncode == 3 and no_traceback(done)
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("ghostwriter explain: ")
    assert "API key" in done.stderr
