"""The quality benchmark's oracle mode through the real server: gating and post-processing lose no right answer.

The oracle engine always returns the true missing text, so every miss is the server's own. Runs a
fixed sample of holes from the pinned corpus (fetched from PyPI on first use, then cached).
"""

from __future__ import annotations

import subprocess

import pytest

from bench.quality import __main__ as quality
from bench.quality import corpus


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict:
    try:
        corpus.fetch(corpus.default_dir())
    except (subprocess.CalledProcessError, OSError) as error:  # pragma: no cover - offline machines only
        pytest.skip(f"the corpus could not be fetched from PyPI: {error}")
    out = tmp_path_factory.mktemp("quality") / "oracle.json"
    return quality.main(["--backend", "oracle", "--per-kind", "3", "--variants", "plain,ghostwriter",
                         "--out", str(out)])


def test_sample_covers_every_kind_of_every_project(report: dict) -> None:
    ids = {a["id"] for a in report["answers"]}
    kinds = {a["kind"] for a in report["answers"]}
    assert len(ids) >= 55 and kinds == {"mid-line", "line-start", "block", "docstring", "comment"}
    assert {i.split("/", 1)[0] for i in ids} == {p.name for p in corpus.PROJECTS}


def test_ghostwriter_shows_the_right_answer(report: dict) -> None:
    table = report["table"]["ghostwriter"]
    assert table["all"]["exact"] >= 98.0, table
    assert table["block"]["exact"] >= 95.0, table
    for kind in ("mid-line", "line-start", "block"):  # in code, nothing is lost to gating
        assert table[kind]["empty"] == 0.0, (kind, table[kind])


def test_plain_prompt_is_the_oracle_itself(report: dict) -> None:
    # The plain variant has no post-processing: it measures the oracle (and the scorer), not the server.
    assert report["table"]["plain"]["all"]["exact"] >= 98.0


def test_answers_are_scored_against_the_true_middle(report: dict) -> None:
    for answer in report["answers"]:
        if answer["exact"]:
            assert answer["similarity"] > 0.95 and not answer["empty"], answer
