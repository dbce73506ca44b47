"""The ledger across processes (`usage`), budgets that stop a batch, and redaction of what is sent."""

from __future__ import annotations

import datetime as dt
import json

from tests.cli.conftest import MODEL, REPLACEMENT_REPLY, Cli, no_traceback
from tests.fakes.rules import Rule

SOURCE = "def add(a, b):\n    \n"
AWS_KEY = "AKIAIOSFODNN7EXAMPLE"
PASSWORD = "correct-horse-battery"
SECRET_SOURCE = f'AWS_KEY = "{AWS_KEY}"\ndb_password = "{PASSWORD}"\n\ndef connect():\n    return AWS_KEY\n'


def test_usage_adds_up_every_process_by_model_and_feature(cli: Cli) -> None:
    (cli.home / "calc.py").write_text(SOURCE)
    cli.settings(pricing={MODEL: {"inputPer1M": 1.0, "cachedInputPer1M": 0.5, "outputPer1M": 2.0}})
    cli.fake.set_rules([
        Rule(endpoint="completions", reply="return a + b", usage={"prompt_tokens": 1000, "completion_tokens": 10,
                                                                 "cached_tokens": 400}),
        Rule(contains="Explain", reply="Adds.", usage={"prompt_tokens": 300, "completion_tokens": 20}),
    ])
    for args in (["complete", "calc.py:2:5"], ["complete", "calc.py:2:5"], ["explain", "calc.py"]):
        assert cli.run(*args).returncode == 0
    done = cli.run("usage", "--json")
    assert done.returncode == 0 and no_traceback(done)
    report = json.loads(done.stdout)
    assert report["day"] == dt.date.today().isoformat() and report["month"] == report["day"][:7]
    today = report["today"]
    assert (today["requests"], today["cacheHits"]) == (2, 1)  # the second completion came from the disk cache
    assert (today["promptTokens"], today["cachedPromptTokens"], today["completionTokens"]) == (1300, 400, 30)
    completion_cost = (600 * 1.0 + 400 * 0.5 + 10 * 2.0) / 1e6
    # A disk-cache hit saves the whole call at list price (the cache keeps no prompt-cache split).
    assert today["savedCost"] == round((1000 * 1.0 + 10 * 2.0) / 1e6, 6)
    assert today["cost"] == round(completion_cost + (300 * 1.0 + 20 * 2.0) / 1e6, 6)
    assert report["thisMonth"] == today
    assert set(report["byModel"]) == {MODEL} and report["byModel"][MODEL]["today"] == today
    features = report["byFeature"]
    assert features["completion"]["today"]["requests"] == 1 and features["completion"]["today"]["cacheHits"] == 1
    assert features["codeAction"]["today"]["promptTokens"] == 300
    text = cli.run("usage").stdout
    assert text.startswith(f"today ({report['day']})") and "by feature, this month:" in text
    assert "completion" in text and "1,330 tokens" in text


def test_usage_with_nothing_recorded(cli: Cli) -> None:
    report = json.loads(cli.run("usage", "--json").stdout)
    assert report["today"]["requests"] == 0 and report["byModel"] == {} and report["byFeature"] == {}


def test_a_budget_stops_a_batch_with_a_clear_message(cli: Cli) -> None:
    names = ["a.py", "b.py", "c.py"]
    for name in names:  # different texts: a repeated one would be a (free) disk-cache hit
        (cli.home / name).write_text(f"def add(a, b):\n    return a+b  # {name}\n")
    cli.settings(budget={"unit": "tokens", "dailyLimit": 1500})
    cli.fake.set_rules([Rule(contains="<selection>", reply=REPLACEMENT_REPLY,
                             usage={"prompt_tokens": 2000, "completion_tokens": 50})])
    done = cli.run("refactor", *names, "--in-place")
    assert done.returncode == 4 and no_traceback(done)
    assert done.stderr.splitlines()[-1] == (
        "ghostwriter refactor: budget reached, stopped before b.py (1 of 3 files done): "
        "Request refused: daily budget of 1500 tokens reached")
    assert "def add(a: int" in (cli.home / "a.py").read_text()  # done before the stop: kept
    assert (cli.home / "b.py").read_text() == "def add(a, b):\n    return a+b  # b.py\n"
    assert (cli.home / "c.py").read_text() == "def add(a, b):\n    return a+b  # c.py\n"
    assert len(cli.model_calls()) == 1
    # Today's budget counts earlier processes: the next run is refused before anything is sent.
    again = cli.run("refactor", "c.py")
    assert again.returncode == 4 and "stopped before c.py (0 of 1 files done)" in again.stderr
    assert len(cli.model_calls()) == 1


def test_secrets_never_reach_the_endpoint(cli: Cli) -> None:
    (cli.home / "config.py").write_text(SECRET_SOURCE)
    cli.fake.set_rules([Rule(endpoint="completions", reply="pass"), Rule(contains="Patch:", reply='{"findings": []}'),
                        Rule(contains="<selection>", reply=REPLACEMENT_REPLY), Rule(reply="Connects.")])
    patch = ("--- a/config.py\n+++ b/config.py\n@@ -0,0 +1,2 @@\n"
             f'+AWS_KEY = "{AWS_KEY}"\n+db_password = "{PASSWORD}"\n')
    for args, stdin in ((["complete", "config.py:5:19"], None), (["explain", "config.py"], None),
                        (["refactor", "config.py"], None), (["review", "-"], patch)):
        done = cli.run(*args, stdin=stdin)
        assert done.returncode == 0, (args, done.stderr)
    sent = cli.sent_text()
    assert len(cli.model_calls()) == 4
    assert AWS_KEY not in sent and PASSWORD not in sent
    assert sent.count("<SECRET_") >= 8  # both secrets' placeholders, in each of the four requests


def test_a_blocked_path_is_refused_and_nothing_is_sent(cli: Cli) -> None:
    (cli.home / ".env").write_text(f"AWS_KEY={AWS_KEY}\n")
    (cli.home / "deploy.py").write_text("import os\n")
    cli.fake.set_rules([Rule(contains="Patch:", reply='{"findings": []}'), Rule(reply="Reads the key.")])
    for args in (["explain", ".env"], ["complete", ".env:1:29"]):
        done = cli.run(*args)
        assert done.returncode == 5 and no_traceback(done)
        assert done.stderr.startswith(f"ghostwriter {args[0]}: Nothing from .env is sent to any model")
    refactor = cli.run("refactor", ".env", "deploy.py", "--rule", "tidy")
    assert refactor.returncode == 5 and "ghostwriter refactor: .env: Nothing from .env is sent" in refactor.stderr
    assert cli.model_calls() and all(".env" not in json.dumps(r.body) for r in cli.model_calls())  # deploy.py went
    cli.fake.clear()
    patch = ("--- a/.env\n+++ b/.env\n@@ -0,0 +1 @@\n" f"+AWS_KEY={AWS_KEY}\n"
             "--- a/deploy.py\n+++ b/deploy.py\n@@ -1 +1,2 @@\n import os\n+KEY = os.environ['AWS_KEY']\n")
    review = cli.run("review", "-", stdin=patch)
    assert review.returncode == 0, review.stderr
    assert ".env: not sent, not reviewed: Nothing from .env is sent to any model" in review.stderr
    notes = json.loads(review.stdout)["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert any(".env: not sent" in note["message"]["text"] for note in notes)
    (call,) = cli.model_calls()  # deploy.py only
    assert "deploy.py" in json.dumps(call.body) and AWS_KEY not in cli.sent_text()
