"""Robustness suites: fuzzing, backend faults and load, each bounded to keep CI within minutes."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator

import pytest_lsp
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.e2e.conftest import SERVER_ENV


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "lsp_server"],
                                              server_env=SERVER_ENV))
async def client(lsp_client: LanguageClient) -> AsyncIterator[None]:
    lsp_client.profile = "visual_studio_code"  # type: ignore[attr-defined]
    yield
    if getattr(lsp_client, "initialized_by_test", False):
        await lsp_client.shutdown_session()
