"""Robustness suites: fuzzing, backend faults and load, each bounded to keep CI within minutes."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest_lsp
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.e2e.conftest import SERVER_ENV
from tests.robust.counts import REPORT


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "lsp_server"],
                                              server_env=SERVER_ENV))
async def client(lsp_client: LanguageClient) -> AsyncIterator[None]:
    lsp_client.profile = "visual_studio_code"  # type: ignore[attr-defined]
    yield
    if getattr(lsp_client, "initialized_by_test", False):
        await lsp_client.shutdown_session()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The suites' counts (inputs fuzzed, faults injected, requests under load), shown even with -q."""
    if REPORT:
        terminalreporter.section("robustness")
        for name, figure in REPORT.items():
            terminalreporter.write_line(f"{name}: {figure}")
