"""Eight editors typing through one server for about a minute (bench/robust/load.py runs it for longer).

Every request is answered, no suggestion is given for a position other than the one asked for,
every document's server copy still equals the editor's, and the server's memory stays flat after
warm-up (growth from the second quarter of the run to the last under a generous bound; a leak in
caches, syntax trees or task lists grows steadily with the keystrokes).
"""

from __future__ import annotations

import json
import os

import pytest

from bench.robust.load import run_load
from tests.robust import counts

SECONDS = float(os.environ.get("GW_LOAD_SECONDS", "60"))
MAX_GROWTH = 0.15


@pytest.mark.e2e
async def test_eight_editors_typing_at_once() -> None:
    result = await run_load(SECONDS, editors=8)
    shown = {k: v for k, v in result.items() if k != "rss_samples"}
    print(f"\nload: {json.dumps(shown)}")
    for name in ("requests", "answered", "cancelled", "unanswered", "wrong_edits", "lost_documents"):
        counts.add(f"load: {name}", result[name])
    counts.REPORT["load: peak RSS MiB"] = result["rss_mib"]["peak"]
    counts.REPORT["load: RSS growth, 2nd to 4th quarter"] = f"{result['rss_growth_q2_to_q4']:.1%}"
    assert result["server_alive"]
    assert result["requests"] > 8 * SECONDS  # several requests a second per editor, even on 2 busy cores
    assert result["unanswered"] == 0 and result["errors"] == 0
    assert result["answered"] + result["cancelled"] == result["requests"]
    assert result["wrong_edits"] == 0 and result["lost_documents"] == 0
    assert result["rss_growth_q2_to_q4"] < MAX_GROWTH, result["rss_samples"]
