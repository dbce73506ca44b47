"""The next-edit replay benchmark's machinery on a tiny fixed history, against the loopback fake.

tests/data/nes holds two versions of one file (four hunks: a rename carried through). The fake is
scripted to answer the history prompt of each edit replay with the right next hunk and the
"no further edit" replay with the region unchanged; the plain prompt (no history) gets no usable
answer. The scores must come out exactly so, and the oracle mode must score perfectly on the
checked-in replays.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from bench.nes.__main__ import DATA, load
from bench.nes.replays import Replay, apply_hunks, file_replays
from bench.nes.run import TEMPLATE, evaluate, http, latency, messages_for, oracle, score
from context.next_edit import line_hunks, unified_diff
from tests.fakes.openai_server import FakeOpenAIServer

HERE = Path(__file__).resolve().parents[1] / "data" / "nes"
OLD = (HERE / "shapes_v1.py").read_text(encoding="utf-8")
NEW = (HERE / "shapes_v2.py").read_text(encoding="utf-8")


def tiny_replays() -> list[Replay]:
    return file_replays("shapes.py", OLD, NEW)


def rules_for(replays: list[Replay]) -> list[dict[str, object]]:
    """Longest history first: a shorter history's diff is a prefix of a longer one's."""
    rules: list[dict[str, object]] = []
    for replay in sorted(replays, key=lambda r: -len(r.history)):
        answer = replay.expected if replay.kind == "edit" else replay.region
        rules.append({"contains": "Recent edits, oldest first:\n```diff\n" + unified_diff(replay.history),
                      "endpoint": "chat", "reply": f"{TEMPLATE.region_start}\n{answer}{TEMPLATE.region_end}"})
    rules.append({"endpoint": "chat", "reply": "I would leave this code as it is."})
    return rules


def test_replays_are_built_from_the_hunks_in_order() -> None:
    replays = tiny_replays()
    assert [r.kind for r in replays] == ["edit", "edit", "edit", "none"]
    hunks = line_hunks("shapes.py", OLD, NEW, join_gap=2)
    assert apply_hunks(OLD, hunks) == NEW
    second = replays[1]
    assert [h.new_lines for h in second.history] == [hunks[0].new_lines, hunks[1].new_lines]
    assert "if w < 0 or h < 0:" in second.region and "return width * height" in second.region
    assert "return w * h" in second.expected and "return width * height" not in second.expected
    assert replays[-1].expected == replays[-1].region


def test_scores_with_the_fake_backend() -> None:
    replays = tiny_replays()

    async def run() -> dict:
        with FakeOpenAIServer(models=["m"]) as fake:
            fake.set_rules(rules_for(replays))
            async with aiohttp.ClientSession() as session:
                ask = http(fake.url, "m", session)
                quality = await evaluate(ask, replays, parallel=2)
                timed = await latency(ask, [r for r in replays if r.kind == "edit"], warmup=1)
        return {"quality": quality, "latency": timed}

    report = asyncio.run(run())
    history, plain = report["quality"]["summary"]["history"], report["quality"]["summary"]["plain"]
    assert history == {"edit_replays": 3, "none_replays": 1, "exact_pct": 100.0, "similarity": 1.0,
                       "no_suggestion_pct": 0.0, "false_positive_pct": 0.0}
    assert plain["exact_pct"] == 0.0 and plain["no_suggestion_pct"] == 100.0 and plain["false_positive_pct"] == 0.0
    assert report["latency"]["n"] == 3 and report["latency"]["p95_ms"] >= report["latency"]["p50_ms"] > 0


def test_a_wrong_or_partial_edit_scores_below_exact() -> None:
    replay = tiny_replays()[0]
    half = replay.region.replace("if width < 0 or height < 0", "if w < 0 or height < 0")
    row = score(replay, half)
    assert row["suggested"] and not row["exact"] and 0.3 < row["similarity"] < 1.0
    assert score(replay, None)["similarity"] == 0.0
    assert "Recent edits" not in messages_for(replay, "plain")[1]["content"]


def test_oracle_scores_perfectly_on_the_checked_in_replays() -> None:
    replays = load(DATA)
    assert sum(r.kind == "edit" for r in replays) >= 50 and sum(r.kind == "none" for r in replays) >= 30
    summary = asyncio.run(evaluate(oracle(), replays))["summary"]["history"]
    assert summary["exact_pct"] == 100.0 and summary["false_positive_pct"] == 0.0
