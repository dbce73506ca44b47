"""`review`: SARIF 2.1.0 valid against the official schema, findings on the patch's added lines, --fail-on."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.cli.conftest import Cli, has_git, no_traceback
from tests.fakes import REPO_ROOT
from tests.fakes.rules import Rule

SCHEMA = json.loads((REPO_ROOT / "tests" / "data" / "sarif" / "sarif-schema-2.1.0.json").read_text())
PATCH = """\
diff --git a/app/db.py b/app/db.py
--- a/app/db.py
+++ b/app/db.py
@@ -1,2 +1,5 @@
 import sqlite3
+
+def find(cursor, name):
+    return cursor.execute("SELECT * FROM users WHERE name = '%s'" % name)
 DB = "app.db"
diff --git a/README.md b/README.md
--- a/README.md
+++ b/README.md
@@ -1 +1,2 @@
 # App
+Run it.
"""


def findings(*entries: dict[str, Any]) -> str:
    return json.dumps({"findings": list(entries)})


SQL = {"line": 4, "level": "error", "rule": "SQL Injection", "message": "Query built with %."}
STYLE = {"line": 3, "level": "warning", "rule": "naming", "message": "Vague name."}
OFF_PATCH = {"line": 1, "level": "error", "rule": "imports", "message": "Not part of the patch."}


def script(cli: Cli, db: str, readme: str = findings()) -> None:
    cli.fake.set_rules([Rule(contains="File: app/db.py", reply=db), Rule(contains="File: README.md", reply=readme)])


def validate(text: str) -> dict[str, Any]:
    report = json.loads(text)
    jsonschema.Draft4Validator(SCHEMA).validate(report)
    return report


def test_review_writes_valid_sarif_located_on_added_lines(cli: Cli) -> None:
    (cli.home / "change.diff").write_text(PATCH)
    script(cli, findings(SQL, STYLE, OFF_PATCH), findings({"line": 2, "level": "note", "rule": "docs",
                                                           "message": "Say how."}))
    done = cli.run("review", "change.diff")
    assert done.returncode == 0 and no_traceback(done)  # no --fail-on: findings are not a failure
    run = validate(done.stdout)["runs"][0]
    located = [(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
                r["locations"][0]["physicalLocation"]["region"]["startLine"], r["ruleId"], r["level"])
               for r in run["results"]]
    assert located == [("app/db.py", 4, "sql-injection", "error"), ("app/db.py", 3, "naming", "warning"),
                       ("README.md", 2, "docs", "note")]
    assert [rule["id"] for rule in run["tool"]["driver"]["rules"]] == ["docs", "naming", "sql-injection"]
    assert all(run["tool"]["driver"]["rules"][r["ruleIndex"]]["id"] == r["ruleId"] for r in run["results"])
    assert "app/db.py: 1 finding(s) outside the patch's added lines left out" in done.stderr
    calls = cli.model_calls()
    assert len(calls) == 2  # one call per file
    asked = calls[0].body["messages"][-1]["content"]
    assert "4:     return cursor.execute(" in asked and "+def find(cursor, name):" in asked


@pytest.mark.parametrize(("fail_on", "entries", "code"), [
    ("error", [SQL, STYLE], 1),
    ("error", [STYLE], 0),
    ("warning", [STYLE], 1),
    ("warning", [], 0),
    (None, [SQL], 0),
])
def test_fail_on_sets_the_exit_code(cli: Cli, fail_on: str | None, entries: list[dict[str, Any]],
                                    code: int) -> None:
    script(cli, findings(*entries))
    done = cli.run("review", "-", *(["--fail-on", fail_on] if fail_on else []), stdin=PATCH)
    assert done.returncode == code, done.stderr
    assert len(validate(done.stdout)["runs"][0]["results"]) == len(entries)


def test_review_to_a_file_and_an_empty_patch(cli: Cli) -> None:
    script(cli, findings(SQL))
    done = cli.run("review", "-", "--output", "out.sarif", stdin=PATCH)
    assert done.returncode == 0 and done.stdout == ""
    assert len(validate((cli.home / "out.sarif").read_text())["runs"][0]["results"]) == 1
    empty = cli.run("review", "-", "--fail-on", "warning", stdin="")
    assert empty.returncode == 0 and validate(empty.stdout)["runs"][0]["results"] == []
    assert len(cli.model_calls()) == 2  # the empty patch asked nothing


def test_an_unusable_answer_fails_with_partial_sarif(cli: Cli) -> None:
    script(cli, "Looks fine to me!")
    done = cli.run("review", "-", "--fail-on", "error", stdin=PATCH)
    assert done.returncode == 3 and no_traceback(done)
    report = validate(done.stdout)
    assert report["runs"][0]["invocations"][0]["executionSuccessful"] is False
    assert "app/db.py: not reviewed: The model's review did not contain a findings list." in done.stderr


def test_text_format_is_a_summary(cli: Cli) -> None:
    script(cli, findings(SQL))
    done = cli.run("review", "-", "--format", "text", stdin=PATCH)
    assert done.stdout == "app/db.py:4: error [sql-injection] Query built with %.\n1 error, 0 warnings, 0 notes\n"


@pytest.mark.skipif(not has_git(), reason="needs git")
def test_review_defaults_to_git_diff_of_the_working_tree(cli: Cli) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=cli.home, check=True, capture_output=True)

    git("init", "-q")
    git("config", "user.email", "dev@example.com")
    git("config", "user.name", "Dev")
    (cli.home / "app").mkdir()
    (cli.home / "app" / "db.py").write_text("import sqlite3\n\n")
    git("add", ".")
    git("commit", "-qm", "start")
    Path(cli.home / "app" / "db.py").write_text(
        "import sqlite3\n\ndef find(cursor, name):\n    return cursor.execute('...' % name)\n")
    script(cli, findings({**SQL, "line": 4}))
    done = cli.run("review")
    assert done.returncode == 0, done.stderr
    (result,) = validate(done.stdout)["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 4


def test_not_a_diff_is_a_bad_argument(cli: Cli) -> None:
    done = cli.run("review", "-", stdin="@@ this is not -1 a diff\n+++ nor this\n")
    assert done.returncode == 2 and no_traceback(done) and "not a unified diff" in done.stderr
