"""The command line's pure pieces: locations, findings, SARIF, the usage store's breakdowns, atomic writes."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from features.edit_parsing import EditParseError, Finding, parse_findings
from lsp_server.commands import locations, sarif
from lsp_server.commands.atomic import write_atomically
from lsp_server.usage import UsageRecord
from lsp_server.usage_store import DailyStore, month_days


@pytest.mark.parametrize(("text", "expected"), [
    ("a.py:3:7", locations.Position(Path("a.py"), 3, 7)),
    ("C:/src/a.py:1:1", locations.Position(Path("C:/src/a.py"), 1, 1)),
])
def test_position(text: str, expected: locations.Position) -> None:
    assert locations.position(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("a.py", locations.Lines(Path("a.py"))),
    ("a.py:4", locations.Lines(Path("a.py"), 4, 4)),
    ("a.py:4-9", locations.Lines(Path("a.py"), 4, 9)),
    ("dir:name/a.py", locations.Lines(Path("dir:name/a.py"))),
])
def test_lines(text: str, expected: locations.Lines) -> None:
    assert locations.lines(text) == expected


@pytest.mark.parametrize("text", ["a.py", "a.py:x:1", "a.py:1:0", ":1:1"])
def test_bad_positions(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        locations.position(text)


@pytest.mark.parametrize(("answer", "expected"), [
    ('{"findings": []}', []),
    ('```json\n{"findings": [{"line": "3", "level": "ERROR", "rule": "SQL Injection!", "message": " m "}]}\n```',
     [Finding(3, "error", "sql-injection", "m")]),
    ('<think>hmm</think>[{"line": 2, "level": "fatal", "message": "x"}, {"line": "?", "message": "y"}, 7]',
     [Finding(2, "warning", "review", "x")]),
])
def test_parse_findings(answer: str, expected: list[Finding]) -> None:
    assert parse_findings(answer) == expected


def test_parse_findings_without_json_raises() -> None:
    with pytest.raises(EditParseError):
        parse_findings("All good!")


def test_added_lines_and_on_patch() -> None:
    patch = ("--- a/x.py\n+++ b/x.py\n@@ -1,2 +1,3 @@\n a = 1\n+b = 2\n c = 3\n"
             "--- a/gone.py\n+++ /dev/null\n@@ -1 +0,0 @@\n-x\n")
    (file,) = sarif.added_lines(patch)
    assert (file.path, file.added) == ("x.py", {2: "b = 2"})
    kept, dropped = sarif.on_patch([Finding(2, "note", "r", "m"), Finding(3, "error", "r", "m")], file)
    assert kept == [Finding(2, "note", "r", "m")] and dropped == 1
    assert sarif.at_or_above([("x.py", kept[0])], "warning") is False


def _record(feature: str, model: str, tokens: int) -> UsageRecord:
    return UsageRecord(feature, model, tokens, 0, 1, 1.0, False, 0.5, "USD")


def test_usage_store_breakdowns_and_month(tmp_path: Path) -> None:
    store = DailyStore(tmp_path)
    store.add("2026-12-01", [_record("review", "qwen2.5:7b", 10)])
    store.add("2026-12-06", [_record("review", "qwen2.5:7b", 5), _record("completion", "m", 1)])
    store.add("2026-11-30", [_record("review", "qwen2.5:7b", 100)])
    month = month_days("2026-12-06")
    assert month[0] == "2026-12-01" and month[-1] == "2026-12-06" and len(month) == 6
    by_model = store.breakdown(month, "model")
    assert by_model["qwen2.5:7b"].promptTokens == 15 and by_model["m"].requests == 1  # ":" in a name is fine
    assert store.breakdown(["2026-12-06"], "feature")["review"].cost == 0.5
    assert store.total(month).requests == 3
    store.close()


def test_write_atomically_keeps_mode_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "a.py"
    target.write_text("old\n")
    target.chmod(0o600)
    write_atomically(target, "new\r\n")
    assert target.read_bytes() == b"new\r\n" and target.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["a.py"]
