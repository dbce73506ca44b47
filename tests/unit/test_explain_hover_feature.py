"""ExplainHover's own state over real services: what it keeps per document goes with the document."""

from __future__ import annotations

import time

from features.explain_hover import Armed, ExplainHover
from lsp_server.server import GhostwriterServer


async def test_an_armed_explanation_goes_when_its_document_closes() -> None:
    services = GhostwriterServer().services
    hover = ExplainHover(services)
    for uri in ("file:///a.py", "file:///b.py"):
        hover.armed[uri] = Armed(uri, 1, 0, 3, "It adds.", time.monotonic() + 60)
    hover.document_closed("file:///a.py")
    assert list(hover.armed) == ["file:///b.py"]
    await services.close()
