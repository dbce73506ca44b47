"""WorkspaceIndex: definitions from open and scanned files, similar windows, stable ordering."""

from __future__ import annotations

from pathlib import Path

import pytest

from context.syntax import SyntaxTree
from context.workspace_index import Snippet, WorkspaceIndex, uri_to_key

MODELS = (
    "class User:\n    def full_name(self) -> str:\n        return self.first + ' ' + self.last\n\n\n"
    "def load_user(user_id: int) -> User:\n    return User()\n"
)
HELPERS = "def format_price(amount: float, currency: str = '€') -> str:\n    return f'{amount:.2f} {currency}'\n"
CURRENT = "user = load_user(1)\nprint(user.full_name())\n"


def _index_with_open_documents(tmp_path: Path) -> WorkspaceIndex:
    index = WorkspaceIndex([tmp_path.as_uri()])
    index.update_document((tmp_path / "models.py").as_uri(), SyntaxTree("python", MODELS))
    index.update_document((tmp_path / "helpers.py").as_uri(), SyntaxTree("python", HELPERS))
    index.update_document((tmp_path / "main.py").as_uri(), SyntaxTree("python", CURRENT))
    return index


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["load_user"], [("models.py", "def load_user(user_id: int) -> User:")]),
        (["User"], [("models.py", MODELS.split("\n\n\n")[0])]),
        (["format_price", "load_user"], [
            ("helpers.py", "def format_price(amount: float, currency: str = '€') -> str:"),
            ("models.py", "def load_user(user_id: int) -> User:"),
        ]),
        (["user"], []),  # defined only in the excluded file
        (["nothing_here"], []),
    ],
)
def test_definitions_for_open_documents(tmp_path: Path, names: list[str], expected: list[tuple[str, str]]) -> None:
    index = _index_with_open_documents(tmp_path)
    found = index.definitions_for(names, exclude_uri=(tmp_path / "main.py").as_uri())
    assert [(s.path, s.text) for s in found] == expected
    assert all(s.kind == "definition" for s in found)


def test_scan_indexes_workspace_files_and_skips_junk(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "util.go").write_text("package pkg\n\nfunc Clamp(v int) int { return v }\n")
    (tmp_path / "node_modules").mkdir()
    (tmp_path / "node_modules" / "dep.js").write_text("function Clamp() {}\n")
    (tmp_path / "venvlike").mkdir()
    (tmp_path / "venvlike" / "pyvenv.cfg").write_text("home = /usr\n")
    (tmp_path / "venvlike" / "site.py").write_text("def Clamp(): pass\n")
    (tmp_path / "blob.py").write_bytes(b"def Clamp():\x00\x01 pass\n")
    (tmp_path / "huge.py").write_text("def Clamp(): pass\n" + "#" * 300_000)
    index = WorkspaceIndex([str(tmp_path)], max_file_bytes=100_000)
    assert index.scan(time_budget_s=5) == 1
    found = index.definitions_for(["Clamp"], exclude_uri="file:///elsewhere.go")
    assert found == [Snippet("pkg/util.go", "func Clamp(v int) int", 2.0, "definition", 2)]


def test_open_documents_outrank_scanned_files(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("def shared(): pass\n")
    index = WorkspaceIndex([str(tmp_path)])
    index.scan()
    index.update_document((tmp_path / "b.py").as_uri(), SyntaxTree("python", "def shared(x): pass\n"))
    found = index.definitions_for(["shared"], exclude_uri="file:///other.py")
    assert [(s.path, s.score) for s in found] == [("b.py", 3.0), ("a.py", 2.0)]


def test_scan_respects_the_file_cap(tmp_path: Path) -> None:
    for number in range(5):
        (tmp_path / f"m{number}.py").write_text(f"def f{number}(): pass\n")
    index = WorkspaceIndex([str(tmp_path)], max_files=3)
    assert index.scan() == 3


def test_background_scan(tmp_path: Path) -> None:
    (tmp_path / "a.ts").write_text("export interface Shape { area(): number }\n")
    index = WorkspaceIndex([tmp_path.as_uri()])
    index.start_scan().join(timeout=10)
    assert [s.text for s in index.definitions_for(["Shape"], "file:///x.ts")] == [
        "export interface Shape { area(): number }"
    ]


def test_edited_open_documents_are_reindexed(tmp_path: Path) -> None:
    index = WorkspaceIndex([str(tmp_path)])
    syntax = SyntaxTree("python", "def old(): pass\n")
    index.update_document((tmp_path / "a.py").as_uri(), syntax)
    assert index.definitions_for(["new"], "file:///x.py") == []
    syntax.apply_change(None, "def new(): pass\n")
    assert [s.text for s in index.definitions_for(["new"], "file:///x.py")] == ["def new():"]


def test_similar_snippets_rank_by_jaccard(tmp_path: Path) -> None:
    index = _index_with_open_documents(tmp_path)
    found = index.similar_snippets("full_name first last user", (tmp_path / "main.py").as_uri())
    assert [s.path for s in found] == ["models.py"]
    assert found[0].kind == "similar" and 0 < found[0].score <= 1
    assert "full_name" in found[0].text


def test_similar_snippets_are_deterministic_and_limited(tmp_path: Path) -> None:
    index = WorkspaceIndex([str(tmp_path)])
    for name in ["c.py", "a.py", "b.py"]:  # identical content: ties break by path
        index.update_document((tmp_path / name).as_uri(), SyntaxTree("python", "alpha = beta(gamma)\n"))
    found = index.similar_snippets("alpha beta gamma", "file:///x.py", limit=2)
    assert [(s.path, s.score) for s in found] == [("a.py", 1.0), ("b.py", 1.0)]


def test_closed_documents_are_forgotten(tmp_path: Path) -> None:
    index = _index_with_open_documents(tmp_path)
    index.close_document((tmp_path / "models.py").as_uri())
    assert index.definitions_for(["load_user"], "file:///x.py") == []


def test_a_spent_budget_returns_what_it_has(tmp_path: Path) -> None:
    index = _index_with_open_documents(tmp_path)
    assert len(index.definitions_for(["load_user", "format_price"], "file:///x.py", budget_ms=0)) <= 2
    assert index.similar_snippets("user", "file:///x.py", budget_ms=0) is not None


@pytest.mark.parametrize(
    ("uri", "expected"),
    [("file:///tmp/a%20b/c.py", "/tmp/a b/c.py"), ("file:///tmp/x/../y.py", "/tmp/y.py"), ("untitled:1", "untitled:1")],
)
def test_uri_to_key(uri: str, expected: str) -> None:
    assert uri_to_key(uri) == expected


def test_a_name_defined_everywhere_is_capped_and_rare_names_still_found(tmp_path: Path) -> None:
    from context.workspace_index import MAX_PER_NAME

    for i in range(40):
        (tmp_path / f"mod_{i:02d}.py").write_text(f"def run(x):\n    return x\n\n\ndef unique_{i}(y):\n    return y\n")
    index = WorkspaceIndex([str(tmp_path)])
    assert index.scan() == 40
    found = index.definitions_for(["unique_33", "run"], exclude_uri=(tmp_path / "mod_00.py").as_uri())
    assert [s.text for s in found if "unique" in s.text] == ["def unique_33(y):"]
    runs = [s for s in found if s.text.startswith("def run")]
    assert 0 < len(runs) <= 2 * MAX_PER_NAME
    assert all(s.path != "mod_00.py" for s in found)  # the excluded file itself
    assert found == index.definitions_for(["unique_33", "run"], exclude_uri=(tmp_path / "mod_00.py").as_uri())
