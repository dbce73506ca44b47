"""Shared test configuration: end-to-end tests run last; GPU tests skip without CUDA."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    gpu = Path("/proc/driver/nvidia/gpus").is_dir() or shutil.which("nvidia-smi") is not None
    skip_gpu = pytest.mark.skip(reason="needs a CUDA GPU and vLLM")
    for item in items:
        if "/e2e/" in str(item.fspath) or "/editors/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
        if "gpu" in item.keywords and not gpu:
            item.add_marker(skip_gpu)
    # Fast unit tests first, then the ones that start processes.
    items.sort(key=lambda item: 1 if "e2e" in item.keywords else 0)
